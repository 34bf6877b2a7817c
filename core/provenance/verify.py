"""Reading and verifying a render's Content Credential.

    verify(path, trust_pem=None) -> Verdict

`path`: a .mov/.mp4 (embedded credential), a sequence's .c2pa sidecar, its folder, one of its
frames or its %d pattern. The SDK checks the claim signature, the hard binding (the bytes are the
ones signed) and, with `trust_pem` (the facility's CA certificates), whether the signer is trusted.
Trust is reported apart from validity: a credential signed by an unknown certificate is intact
but says nothing about who signed it.
"""
from __future__ import annotations

import io
import json
import os
import re
from dataclasses import asdict, dataclass, field

from .facts import EDITS_LABEL, SEQUENCE_LABEL
from .identity import LOCAL_ORG, CredentialError
from .sign import INDEX_FORMAT, SIDECAR_EXT, context, frame_index, frame_regex, hash_frames, sdk

# Failure codes that mean "these are not the bytes that were signed".
_BINDING = ("assertion.dataHash.", "assertion.bmffHash.", "assertion.boxesHash.",
            "assertion.collectionHash.", "claim.hardBindings.")
_TRUST = ("signingCredential.untrusted",)


@dataclass
class Verdict:
    path: str
    found: bool
    where: str | None = None               # "embedded" or "sidecar"
    credential: str | None = None          # the file that holds it
    state: str | None = None               # the SDK's: Trusted, Valid or Invalid
    valid: bool = False                    # signature and binding hold
    signature_ok: bool = False
    binding_ok: bool = False
    trusted: bool = False
    local_unverified: bool = False
    signer: str | None = None
    issuer: str | None = None
    algorithm: str | None = None
    signed_at: str | None = None
    generator: str | None = None
    actions: list = field(default_factory=list)
    ingredients: list = field(default_factory=list)
    edits: dict | None = None
    failures: list = field(default_factory=list)       # [{code, explanation}]
    frames_changed_since_signing: list = field(default_factory=list)
    frames_missing: list = field(default_factory=list)
    frames_not_covered: list = field(default_factory=list)
    container_tags: dict | None = None
    note: str | None = None

    def to_dict(self) -> dict:
        return asdict(self)


def verify(path: str, trust_pem: bytes | None = None) -> Verdict:
    path = os.fspath(path)
    sidecar, pattern = _find_sidecar(path)
    if sidecar:
        return _verify_sequence(path, sidecar, pattern, trust_pem)
    if not os.path.isfile(path):
        raise CredentialError(f"{path}: no such file; give a .mov/.mp4 render, or a sequence's "
                              f"folder, frame or .c2pa sidecar.")
    v = _verify_movie(path, trust_pem)
    if not v.found and os.path.isfile(path + SIDECAR_EXT):
        # A movie too large to embed in carries its credential beside it (sign.EMBED_MAX_BYTES).
        return _verify_sequence(path, path + SIDECAR_EXT, os.path.dirname(os.path.abspath(path)),
                                trust_pem)
    return v


# ---- movies ---------------------------------------------------------------------------------

def _verify_movie(path: str, trust_pem) -> Verdict:
    c2pa = sdk()
    v = Verdict(path=os.path.abspath(path), found=False, container_tags=_container_tags(path))
    with context(trust_pem) as ctx:
        try:
            reader = c2pa.Reader.try_create(path, context=ctx)
        except c2pa.C2paError as e:
            reader = None
            v.note = f"the C2PA SDK cannot read it ({e})"
    if reader is None:
        tagged = (v.container_tags or {}).get("com.lipflap.lipsync") == "1"
        v.note = v.note or ("its container tag says it was lip-synced by lipflap, but it carries no "
                            "Content Credential: it was re-encoded, re-wrapped or stripped after "
                            "the render, or rendered with --no-credentials" if tagged else
                            "it carries no Content Credential")
        return v
    with reader:
        _fill(v, reader)
    v.where, v.credential = "embedded", v.path
    return v


def _container_tags(path: str) -> dict | None:
    try:
        import av
        with av.open(path) as c:
            tags = {k: v for k, v in c.metadata.items() if k.startswith("com.lipflap.") or k == "comment"}
    except Exception:  # noqa: BLE001 - a file PyAV cannot open simply has no tags to show
        return None
    return tags or None


# ---- sequences ------------------------------------------------------------------------------

def _find_sidecar(path: str) -> tuple[str | None, str | None]:
    """(sidecar, frame folder) when `path` names an image sequence, else (None, None)."""
    if path.endswith(SIDECAR_EXT):
        if not os.path.isfile(path):
            raise CredentialError(f"{path}: no such credential file.")
        return path, os.path.dirname(os.path.abspath(path))
    base = os.path.basename(path)
    if os.path.isdir(path):
        folder = path
    elif "%" in base or "#" in base or os.path.splitext(base)[1].lower() in (".png", ".exr"):
        folder = os.path.dirname(os.path.abspath(path))
    else:
        return None, None
    found = sorted(n for n in os.listdir(folder) if n.endswith(SIDECAR_EXT)) if os.path.isdir(folder) else []
    if not found:
        # Exit status 1, as for a movie without a credential (2 is for a wrong command line).
        raise CredentialError(f"{path}: no {SIDECAR_EXT} credential beside the sequence in {folder}; "
                              f"it was rendered with --no-credentials, or the sidecar was not "
                              f"copied with the frames.", exit_code=1)
    if len(found) > 1:
        stem = base.split("%")[0].split("#")[0].rstrip("._")
        mine = [n for n in found if stem and n == stem + SIDECAR_EXT]
        if len(mine) != 1:
            raise CredentialError(f"{folder} holds several credentials ({', '.join(found)}); name "
                                  f"the one to check.")
        found = mine
    return os.path.join(folder, found[0]), folder


def _verify_sequence(path: str, sidecar: str, folder: str, trust_pem) -> Verdict:
    c2pa = sdk()
    with open(sidecar, "rb") as f:
        data = f.read()
    v = Verdict(path=os.path.abspath(path), found=True, where="sidecar",
                credential=os.path.abspath(sidecar))
    with context(trust_pem) as ctx:
        # First pass only to learn the frame list the credential covers.
        try:
            with c2pa.Reader(INDEX_FORMAT, io.BytesIO(b"\n"), data, context=ctx) as r:
                seq = _assertion(_active(r), SEQUENCE_LABEL)
        except c2pa.C2paError as e:
            raise CredentialError(f"{sidecar} is not a readable C2PA credential ({e}).") from None
        if not seq:
            raise CredentialError(f"{sidecar} has no {SEQUENCE_LABEL} frame list; it is not a "
                                  f"lipflap sequence credential.")
        listed = {fr["name"]: fr for fr in seq.get("frames", [])}
        present = [n for n in listed if os.path.isfile(os.path.join(folder, n))]
        frames = hash_frames(folder, present)
        v.frames_missing = sorted(set(listed) - set(present))
        v.frames_changed_since_signing = [fr["name"] for fr in frames
                                          if fr["sha256"] != listed[fr["name"]].get("sha256")]
        rx = frame_regex(os.path.join(folder, seq.get("pattern", "")))
        v.frames_not_covered = sorted(n for n in os.listdir(folder) if rx.match(n) and n not in listed)
        with c2pa.Reader(INDEX_FORMAT, io.BytesIO(frame_index(frames)), data, context=ctx) as r:
            _fill(v, r)
    if v.frames_missing or v.frames_changed_since_signing:
        v.binding_ok = v.valid = False
    return v


# ---- reading the manifest -------------------------------------------------------------------

def _active(reader) -> dict:
    j = json.loads(reader.json())
    return j.get("manifests", {}).get(j.get("active_manifest"), {})


def _assertion(manifest: dict, label: str):
    for a in manifest.get("assertions", []):
        if a.get("label") == label or re.fullmatch(re.escape(label) + r"(\.v\d+)?", a.get("label", "")):
            return a.get("data")
    return None


def _fill(v: Verdict, reader) -> None:
    m = _active(reader)
    v.found = True
    v.state = reader.get_validation_state()
    results = (reader.get_validation_results() or {}).get("activeManifest", {}) or {}
    ok_codes = {s.get("code") for s in results.get("success", [])}
    v.failures = [{"code": f.get("code"), "explanation": f.get("explanation")}
                  for f in results.get("failure", [])]
    codes = [f["code"] or "" for f in v.failures]
    v.binding_ok = not any(c.startswith(_BINDING) for c in codes)
    other = [c for c in codes if not c.startswith(_BINDING) and c not in _TRUST]
    v.signature_ok = "claimSignature.validated" in ok_codes and not other
    v.trusted = "signingCredential.trusted" in ok_codes
    v.valid = v.signature_ok and v.binding_ok
    si = m.get("signature_info", {}) or {}
    v.signer = si.get("common_name")
    v.issuer = si.get("issuer")
    v.algorithm = si.get("alg")
    v.signed_at = si.get("time")
    v.local_unverified = LOCAL_ORG in (v.issuer or "") or "(UNVERIFIED)" in (v.signer or "")
    gens = m.get("claim_generator_info") or []
    v.generator = " ".join(str(gens[0].get(k)) for k in ("name", "version") if gens[0].get(k)) if gens else None
    acts = _assertion(m, "c2pa.actions") or {}
    v.actions = [{k: a.get(k) for k in ("action", "description", "digitalSourceType", "softwareAgent")
                  if a.get(k) is not None} for a in acts.get("actions", [])]
    v.ingredients = [{"title": i.get("title"), "format": i.get("format"),
                      "relationship": i.get("relationship"),
                      "hash": (i.get("metadata") or {}).get("com.lipflap.file_hash")}
                     for i in m.get("ingredients", [])]
    v.edits = _assertion(m, EDITS_LABEL)
    if v.edits is None:
        # Re-signed downstream (an editor or a platform that writes its own credential with the
        # render as an ingredient): lipflap's manifest is still in the store, one step back.
        store = json.loads(reader.json()).get("manifests", {})
        for label, other in store.items():
            edits = _assertion(other, EDITS_LABEL)
            if edits is not None:
                v.edits = edits
                v.actions = v.actions + [
                    {k: a.get(k) for k in ("action", "description", "digitalSourceType",
                                           "softwareAgent") if a.get(k) is not None}
                    for a in (_assertion(other, "c2pa.actions") or {}).get("actions", [])]
                v.note = (f"re-signed after lipflap by {v.generator or 'another tool'}; lipflap's "
                          f"record of the edit is its ingredient's manifest {label}")
                break


def describe(v: Verdict) -> list[str]:
    """The verdict in lines for people."""
    if not v.found:
        return [f"{v.path}: NO CREDENTIAL: {v.note}."]
    out = [f"{v.path}: Content Credential ({v.where}{'' if v.where == 'embedded' else ': ' + v.credential})"]
    if v.note:
        out.append(f"  note:      {v.note}")
    e = v.edits or {}
    edited = next((a for a in v.actions if a.get("action") == "c2pa.edited"), {})
    out.append(f"  what:      {edited.get('description') or e.get('description') or '(no edit described)'}")
    if edited.get("digitalSourceType"):
        out.append(f"  source type: {edited['digitalSourceType'].rsplit('/', 1)[-1]}")
    agent = edited.get("softwareAgent") or {}
    out.append(f"  by:        {agent.get('name', v.generator)} {agent.get('version', '')}".rstrip())
    for i in v.ingredients:
        out.append(f"  input:     {i['title']} ({i['relationship']}{', ' + i['hash'] if i['hash'] else ''})")
    if e:
        def fmt(rs):
            return ", ".join(f"{a}-{b}" if a != b else f"{a}" for a, b in rs) or "none"
        out.append(f"  frames:    redrawn {fmt(e.get('frames_changed', []))}; passed through "
                   f"{fmt(e.get('frames_passed_through', []))} (source frame numbers, 0-based)")
    who = f"{v.signer or '?'} (issued by {v.issuer or '?'}), {v.algorithm or '?'}"
    out.append(f"  signed by: {who}{', at ' + v.signed_at if v.signed_at else ', no timestamp'}")
    out.append("  signature: " + ("valid" if v.signature_ok else "INVALID"))
    # A movie's sidecar (one too large to embed in) binds the file, a sequence's its frames.
    frames = v.where == "sidecar" and not v.path.lower().endswith((".mov", ".mp4"))
    if v.binding_ok:
        out.append("  binding:   holds (the " + ("frames are" if frames else "file is")
                   + " exactly as signed)")
    else:
        why = ("frames changed or missing since signing" if frames else
               "the file was changed after signing: re-encoded, trimmed or edited")
        out.append(f"  binding:   BROKEN ({why})")
    if v.frames_changed_since_signing:
        out.append(f"  changed frames: {', '.join(v.frames_changed_since_signing[:10])}"
                   + (" ..." if len(v.frames_changed_since_signing) > 10 else ""))
    if v.frames_missing:
        out.append(f"  missing frames: {', '.join(v.frames_missing[:10])}"
                   + (" ..." if len(v.frames_missing) > 10 else ""))
    if v.frames_not_covered:
        out.append(f"  not covered: {len(v.frames_not_covered)} frame(s) beside it that the "
                   f"credential does not list (e.g. {v.frames_not_covered[0]})")
    if v.local_unverified:
        out.append("  trust:     UNVERIFIED local certificate: says what was changed, not who "
                   "changed it")
    elif v.trusted:
        out.append("  trust:     signer trusted (chains to the given trust anchors)")
    else:
        out.append("  trust:     signer not in the trust list (give --trust with the facility's CA)")
    for f in v.failures:
        if f["code"] not in _TRUST:
            out.append(f"  failure:   {f['code']}: {f['explanation']}")
    out.append("verdict: " + ("VALID" if v.valid else "INVALID"))
    return out
