"""What a timeline, an EDL or a host says about a render's disclosure, read from its run report.

    from_report(RunReport or report dict) -> {"lip_synced", "statement", "credential", ...} or None
    edl_comment(summary) -> "* LIPFLAP: ..."     one CMX 3600 comment line

Standard library only, so anything that reads reports can use it.
"""
from __future__ import annotations

from ..contract.report import RunReport, signer_name


def from_report(report: RunReport | dict | None) -> dict | None:
    """The per-render disclosure summary of a report already read (`RunReport.disclosure`), or
    None for no report or one without a disclosure (an older engine). Reading the file, and
    saying when it cannot be read, is the caller's one job: a failure is never an empty summary."""
    if report is None:
        return None
    rep = report if isinstance(report, RunReport) else RunReport.from_dict(report)
    d = rep.disclosure
    if d is None:
        return None
    return {
        "lip_synced": d.lip_synced,
        "statement": d.raw.get("statement"),
        "description": d.description,
        "digital_source_type": d.raw.get("digital_source_type"),
        "frames_changed": d.raw.get("frames_changed"),
        "credential": d.status,                      # signed, local_unverified or off
        "credential_where": d.where,                 # embedded or sidecar
        "credential_path": d.path,
        "signer": d.signer,
        "identity_source": d.identity_source,
        "verify_with": d.verify_with,
    }


def credential_words(s: dict) -> str:
    """'C2PA credential embedded, signed by X' and the like."""
    status = s.get("credential")
    if status == "off":
        return "no C2PA credential (--no-credentials)"
    where = "in a .c2pa sidecar" if s.get("credential_where") == "sidecar" else "embedded"
    if status == "local_unverified":
        return f"C2PA credential {where}, UNVERIFIED local signer"
    return f"C2PA credential {where}, signed by {signer_name(s.get('signer'))}"


def edl_comment(s: dict) -> str:
    """One comment line for the render's EDL event."""
    what = s.get("description") or "lip-synced"
    return f"* LIPFLAP: LIP-SYNCED ({what}); {credential_words(s)}"
