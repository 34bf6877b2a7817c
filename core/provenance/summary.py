"""What a timeline, an EDL or a host says about a render's disclosure, read from its run report.

    from_report(report dict or path) -> {"lip_synced", "statement", "credential", ...} or None
    edl_comment(summary) -> "* LIPFLAP: ..."     one CMX 3600 comment line

Standard library only, so anything that reads reports can use it.
"""
from __future__ import annotations

import json
import os


def from_report(report) -> dict | None:
    """The per-render disclosure summary, or None for a report without one (an older engine)."""
    if isinstance(report, (str, os.PathLike)):
        try:
            with open(report, encoding="utf-8") as f:
                report = json.load(f)
        except (OSError, ValueError):
            return None
    disc = report.get("disclosure") if isinstance(report, dict) else None
    if not isinstance(disc, dict):
        return None
    cred = disc.get("credential") if isinstance(disc.get("credential"), dict) else {}
    return {
        "lip_synced": bool(disc.get("lip_synced")),
        "statement": disc.get("statement"),
        "description": disc.get("description"),
        "digital_source_type": disc.get("digital_source_type"),
        "frames_changed": disc.get("frames_changed"),
        "credential": cred.get("status"),            # signed, local_unverified or off
        "credential_where": cred.get("where"),       # embedded or sidecar
        "credential_path": cred.get("path"),
        "signer": cred.get("signer"),
        "identity_source": cred.get("identity_source"),
        "verify_with": cred.get("verify_with"),
    }


def credential_words(s: dict) -> str:
    """'C2PA credential embedded, signed by X' and the like."""
    status = s.get("credential")
    if status == "off":
        return "no C2PA credential (--no-credentials)"
    where = "in a .c2pa sidecar" if s.get("credential_where") == "sidecar" else "embedded"
    if status == "local_unverified":
        return f"C2PA credential {where}, UNVERIFIED local signer"
    signer = (s.get("signer") or "").split(",")[0].strip() or "the facility"
    return f"C2PA credential {where}, signed by {signer}"


def edl_comment(s: dict) -> str:
    """One comment line for the render's EDL event."""
    what = s.get("description") or "lip-synced"
    return f"* LIPFLAP: LIP-SYNCED ({what}); {credential_words(s)}"
