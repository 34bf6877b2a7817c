"""Signing a finished render's Content Credential with the C2PA SDK (c2pa-python), offline.

    sign_movie(tmp_path, facts, identity)          embeds the manifest in a .mov/.mp4
    sign_sequence(tmp_dir, pattern, facts, identity)  writes <name>.c2pa beside a PNG/EXR sequence

Both run on the writer's temporary output, before it gets its final name, so a finished-looking
render never lacks its credential.

Movies: the SDK embeds the manifest (a `uuid` box) and binds it to the file with a BMFF hash
(`c2pa.hash.bmff.v3`); ProRes .mov and H.264 .mp4 both embed (tested with c2pa-python 0.38.1,
c2pa-rs 0.91.3), so no movie needs a sidecar. The SDK writes a signed copy, which is then renamed
over the temporary file.

Sequences: no C2PA format covers a folder of frames, so the sidecar binds a frame index, one
line per frame, "name<TAB>bytes<TAB>sha256", in name order. The SDK hashes that index as a plain
data hash (`c2pa.hash.data`) and the `com.lipflap.sequence` assertion lists the same frames, so
any changed, missing or renamed frame breaks the binding and `lipflap credentials` can say which.

No timestamp authority: the render machines are offline, so signatures carry no RFC 3161
timestamp; readers then check the certificate against the date they verify on.
"""
from __future__ import annotations

import contextlib
import hashlib
import io
import os
import re
from concurrent.futures import ThreadPoolExecutor

from .facts import (DUB_ID, SEQUENCE_LABEL, SHAPES_ID, SOURCE_ID, Facts, ingredient, manifest,
                    mime_of)
from ..contract.files import atomic_write
from .identity import CredentialError, Identity

# The frame index has no C2PA format of its own; a MIME type the SDK does not parse makes it
# hash the bytes whole (checked in tests/test_provenance.py).
INDEX_FORMAT = "application/x-lipflap-frame-index"
SIDECAR_EXT = ".c2pa"
# Re-reading the signed file after signing costs ~0.4 s per 120 MB on the dev machine and only
# repeats what the SDK just wrote; `lipflap credentials` and the tests verify instead.
VERIFY_AFTER_SIGN = False
_BUF = 1 << 20
# Embedding makes the C2PA SDK (c2pa-python 0.38.1) hold about twice the movie in memory (measured
# here: a 91 MB render +194 MB with Builder.sign on file streams, the same with sign_file; a 364 MB
# one +730 MB), so a long shot could not be signed on a workstation. A movie larger than this gets
# its credential in a sidecar `<movie>.c2pa` over a streamed SHA-256 of the file instead (as an
# image sequence does), which costs the same few MB at any length. 512 MiB: about 28 s of 1080p
# ProRes 422 HQ (the memory bench's 20 s shot is 364 MB), most dubbing shots, and signing then
# never adds more than ~1.1 GB to a run.
EMBED_MAX_BYTES = 512 << 20


def sdk():
    """The c2pa module, or one sentence on how to get it."""
    try:
        import c2pa
    except ImportError:
        raise CredentialError("the C2PA SDK (c2pa-python) is not installed; reinstall lipflap "
                              "(pip install -e .) or run with --no-credentials.") from None
    return c2pa


def context(trust_pem: bytes | None = None, verify_after_sign: bool = VERIFY_AFTER_SIGN):
    """An SDK context that never touches the network: no remote manifests, no OCSP."""
    c2pa = sdk()
    cfg = {"verify": {"remote_manifest_fetch": False, "ocsp_fetch": False,
                      "verify_after_sign": verify_after_sign},
           # Thumbnails would put a picture of the actor (and of the source) in every credential.
           "builder": {"thumbnail": {"enabled": False}}}
    if trust_pem:
        cfg["trust"] = {"user_anchors": trust_pem.decode("ascii", "replace")}
    return c2pa.Context.from_dict(cfg)


def signer(identity: Identity):
    c2pa = sdk()
    info = c2pa.C2paSignerInfo(identity.alg, identity.certs_pem, identity.key_pem, None)
    try:
        return c2pa.Signer.from_info(info)
    except c2pa.C2paError as e:
        raise CredentialError(f"{identity.cert_path or 'the signing certificate'}: the C2PA SDK "
                              f"refuses it ({e}); use a certificate with digitalSignature key "
                              f"usage and an emailProtection or documentSigning EKU, issued by a "
                              f"CA (not self-signed).") from None


def _sha256(path: str) -> str:
    # hashlib.file_digest is 3.11+; the project supports 3.10. 4 MiB reads: 0.32 s per 120 MB here.
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 22):
            h.update(chunk)
    return h.hexdigest()


def file_hash(path: str) -> str:
    return "sha256:" + _sha256(path)


def preflight(identity: Identity) -> None:
    """Sign a few bytes so a certificate the SDK refuses fails before the render, not after."""
    c2pa = sdk()
    data = b"lipflap signing check\n"
    with signer(identity) as s, context() as ctx:
        b = c2pa.Builder({"claim_generator_info": [{"name": "lipflap"}], "title": "check",
                          "assertions": [{"label": "c2pa.actions.v2", "data": {"actions": [
                              {"action": "c2pa.created", "digitalSourceType":
                               "http://cv.iptc.org/newscodes/digitalsourcetype/digitalCreation"}]}}]},
                         context=ctx)
        b.set_no_embed()
        try:
            b.sign(s, INDEX_FORMAT, io.BytesIO(data), io.BytesIO())
        except c2pa.C2paError as e:
            raise CredentialError(f"{identity.cert_path or 'the signing certificate'}: the C2PA "
                                  f"SDK cannot sign with it ({e}); check the certificate's key "
                                  f"usage (digitalSignature, emailProtection or documentSigning "
                                  f"EKU) and chain.") from None


def _builder(facts: Facts, title: str, fmt: str, identity: Identity, ctx, extra=None):
    """A Builder with the manifest and its ingredients. Inputs the SDK can parse are added from
    their files (it reads only their own credential, if any, not the media: 2 ms for a 120 MB
    ProRes source); others go into the definition with their hash."""
    c2pa = sdk()
    supported = set(c2pa.Builder.get_supported_mime_types())
    from_file, inline = [], []
    for which, path in ((SOURCE_ID, facts.source), (DUB_ID, facts.dub), (SHAPES_ID, facts.shapes)):
        if not path:
            continue
        ing = ingredient(facts, which)
        (from_file if ing["format"] in supported and os.path.exists(path) else inline).append((ing, path))
    note = ("signed with a throwaway local certificate: UNVERIFIED, says what was changed, not who "
            "changed it" if identity.local else f"signed by {identity.subject}")
    b = c2pa.Builder(manifest(facts, title, fmt, note, extra, [i for i, _ in inline]), context=ctx)
    for ing, path in from_file:
        try:
            with open(path, "rb") as f:
                b.add_ingredient(ing, ing["format"], f)
        except c2pa.C2paError:
            # An input the SDK cannot parse after all: record it from the definition instead.
            b.close()
            return _builder_inline(facts, title, fmt, note, ctx, extra)
    return b


def _builder_inline(facts, title, fmt, note, ctx, extra):
    c2pa = sdk()
    inline = [ingredient(facts, w) for w, p in ((SOURCE_ID, facts.source), (DUB_ID, facts.dub),
                                                (SHAPES_ID, facts.shapes)) if p]
    return c2pa.Builder(manifest(facts, title, fmt, note, extra, inline), context=ctx)


def sign_movie(tmp_path: str, final_path: str, facts: Facts, identity: Identity) -> dict:
    """Embed the credential in the finished temporary .mov/.mp4 (renamed by the caller); above
    EMBED_MAX_BYTES, write it as a sidecar beside the final name instead."""
    if os.path.getsize(tmp_path) > EMBED_MAX_BYTES:
        return sign_movie_sidecar(tmp_path, final_path, facts, identity)
    # A sidecar left by an earlier, larger render of this name would describe another file.
    with contextlib.suppress(FileNotFoundError):
        os.remove(final_path + SIDECAR_EXT)
    c2pa = sdk()
    fmt = mime_of(final_path)
    signed = tmp_path + ".signing"
    try:
        with context() as ctx, signer(identity) as s:
            b = _builder(facts, os.path.basename(final_path), fmt, identity, ctx)
            # 1 MiB buffers: the SDK reads and writes in 8 KiB calls through Python; fewer
            # system calls cut its CPU time from 0.44 s to 0.36 s per 120 MB (exp. on this machine).
            with b, open(tmp_path, "rb", buffering=_BUF) as src, \
                    open(signed, "w+b", buffering=_BUF) as dst:
                manifest_bytes = b.sign(s, fmt, src, dst)
        os.replace(signed, tmp_path)
    except c2pa.C2paError as e:
        raise CredentialError(f"{final_path}: the C2PA SDK could not embed the credential ({e}); "
                              f"run again with --no-credentials to render without one.") from None
    except OSError as e:
        raise CredentialError(f"{final_path}: cannot write the signed file ({e.strerror}); free "
                              f"space in the output folder.") from None
    finally:
        if os.path.exists(signed):
            os.remove(signed)
    return {"where": "embedded", "path": os.path.abspath(final_path), "binding": "c2pa.hash.bmff.v3",
            "manifest_bytes": len(manifest_bytes)}


def sign_movie_sidecar(tmp_path: str, final_path: str, facts: Facts, identity: Identity) -> dict:
    """The credential of a movie too large to embed (EMBED_MAX_BYTES): `<final>.c2pa`, a manifest
    over a one-line index (the movie's name, bytes and SHA-256, read in 4 MiB pieces), the same
    binding and frame-list assertion an image sequence's sidecar carries."""
    name = os.path.basename(final_path)
    files = [{"name": name, "bytes": os.path.getsize(tmp_path), "sha256": _sha256(tmp_path)}]
    seq = {"pattern": name, "frame_count": 1,
           "binding": "c2pa.hash.data over the file index: name TAB bytes TAB sha256 of the "
                      "movie (too large to embed without holding it in memory twice)",
           "frames": files}
    sidecar = final_path + SIDECAR_EXT
    manifest_bytes = _sign_index(facts, name, identity, seq, final_path)
    try:
        atomic_write(sidecar, manifest_bytes)
    except OSError as e:
        raise CredentialError(f"{sidecar}: cannot write the credential ({e.strerror}); free "
                              f"space in the output folder.") from None
    return {"where": "sidecar", "path": os.path.abspath(sidecar),
            "binding": "c2pa.hash.data (file index)", "manifest_bytes": len(manifest_bytes)}


def _sign_index(facts: Facts, title: str, identity: Identity, seq: dict, where: str) -> bytes:
    """A sidecar's manifest: signed over the index of `seq["frames"]` (frame_index), with the
    frame list as an assertion, embedded in nothing. `where` names the output in an error."""
    c2pa = sdk()
    try:
        with context() as ctx, signer(identity) as s:
            b = _builder(facts, title, INDEX_FORMAT, identity, ctx,
                         extra=[{"label": SEQUENCE_LABEL, "data": seq}])
            with b:
                b.set_no_embed()
                return b.sign(s, INDEX_FORMAT, io.BytesIO(frame_index(seq["frames"])),
                              io.BytesIO())
    except c2pa.C2paError as e:
        raise CredentialError(f"{where}: the C2PA SDK could not sign the credential ({e}); run "
                              f"again with --no-credentials to render without one.") from None


def sidecar_path(pattern: str) -> str:
    """<folder>/<name>.c2pa for a sequence <folder>/<name>.%06d.ext (like its WAV)."""
    folder, base = os.path.split(pattern)
    stem = base.split("%")[0].rstrip("._") or "sequence"
    return os.path.join(folder, stem + SIDECAR_EXT)


def frame_regex(pattern: str) -> re.Pattern:
    """Names a sequence pattern such as shot.%06d.png matches."""
    base = os.path.basename(pattern)
    m = re.search(r"%0?(\d*)d", base)
    if not m:
        return re.compile(re.escape(base) + r"$")
    return re.compile(re.escape(base[:m.start()]) + r"(\d+)" + re.escape(base[m.end():]) + r"$")


def hash_frames(folder: str, names: list[str]) -> list[dict]:
    """[{name, bytes, sha256}] in name order; hashed on a few threads (hashlib frees the GIL)."""
    def one(name):
        p = os.path.join(folder, name)
        return {"name": name, "bytes": os.path.getsize(p), "sha256": _sha256(p)}
    with ThreadPoolExecutor(max_workers=max(1, min(4, os.cpu_count() or 1))) as pool:
        return list(pool.map(one, sorted(names)))


def frame_index(frames: list[dict]) -> bytes:
    return "".join(f"{f['name']}\t{f['bytes']}\t{f['sha256']}\n" for f in frames).encode("utf-8")


def sign_sequence(tmp_dir: str, pattern: str, facts: Facts, identity: Identity) -> dict:
    """Write the sidecar into the writer's temporary folder (it moves with the frames)."""
    rx = frame_regex(pattern)
    names = [n for n in os.listdir(tmp_dir) if rx.match(n)]
    frames = hash_frames(tmp_dir, names)
    seq = {"pattern": os.path.basename(pattern), "frame_count": len(frames),
           "binding": "c2pa.hash.data over the frame index: one line per frame, "
                      "name TAB bytes TAB sha256, in name order",
           "frames": frames}
    final_sidecar = sidecar_path(pattern)
    tmp_sidecar = os.path.join(tmp_dir, os.path.basename(final_sidecar))
    manifest_bytes = _sign_index(facts, os.path.basename(pattern), identity, seq, pattern)
    try:
        with open(tmp_sidecar, "wb") as f:
            f.write(manifest_bytes)
    except OSError as e:
        raise CredentialError(f"{final_sidecar}: cannot write the credential ({e.strerror}); free "
                              f"space in the output folder.") from None
    return {"where": "sidecar", "path": final_sidecar, "binding": "c2pa.hash.data (frame index)",
            "frames": len(frames), "manifest_bytes": len(manifest_bytes)}
