"""One render's disclosure, from the run's options to the signed file and the report section.

    signing = Signing.from_options(cert, key, enabled=True)   # before the render: checks the key
    d = DisclosureWriter(signing, facts, out_path, sequence=False)  # before the writer opens
    VideoWriter(..., metadata=d.container_tags)               # the plain container tag
    final = d.close(writer, changed_mask)                     # signs the temporary file, renames
    report["disclosure"] = d.report()

Credentials are on unless the user says --no-credentials; without signing material they are
signed with a throwaway certificate labelled UNVERIFIED and the run says so once (a warning).
"""
from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass

import numpy as np

from ..contract.rates import rate_string
from .facts import COMPOSITE_AI, Facts, container_tags
from .identity import CredentialError, Identity, resolve


@dataclass
class Signing:
    enabled: bool
    identity: Identity | None = None
    warning: str | None = None          # shown once, through the run report's warnings

    @classmethod
    def from_options(cls, cert: str | None = None, key: str | None = None, *,
                     enabled: bool = True, env=None, config: str | None = None,
                     given_by: str | None = None) -> "Signing":
        if not enabled:
            return cls(False)
        from .sign import preflight
        identity, warning = resolve(cert, key, env=env, config=config,
                                    **({"given_by": given_by} if given_by else {}))
        preflight(identity)
        return cls(True, identity, warning)


def ranges(mask: np.ndarray, offset: int, value: bool = True) -> list[tuple[int, int]]:
    """Inclusive (first, last) runs where mask == value, numbered from `offset` (also the
    pipeline's flagged and no-dub ranges)."""
    m = np.asarray(mask, bool) == value
    if not m.any():
        return []
    edges = np.flatnonzero(np.diff(np.concatenate([[0], m.astype(np.int8), [0]])))
    return [(int(a) + offset, int(b) - 1 + offset) for a, b in zip(edges[::2], edges[1::2])]


class DisclosureWriter:
    """Makes one render's disclosure: its container tag, its signed Content Credential and its
    report section (`report()`), which hosts read back as lipflap.contract.report.Disclosure."""

    def __init__(self, signing: Signing, facts: Facts, out_path: str, *, sequence: bool):
        self.signing = signing
        self.facts = facts
        self.out_path = out_path
        self.sequence = sequence
        self.credential: dict | None = None
        self.sign_s = 0.0
        self.warnings = [signing.warning] if signing.enabled and signing.warning else []
        where = "none (--no-credentials)" if not signing.enabled else (
            "C2PA sidecar" if sequence else
            "C2PA Content Credential, embedded (in NAME.c2pa beside a render over 512 MiB)")
        if signing.enabled and signing.identity.local:
            where += " (UNVERIFIED local signer)"
        # Sequences have no container to tag: the sidecar and the report carry the statement.
        self.container_tags = None if sequence else container_tags(facts, where)
        # The inputs' SHA-256 is worked out beside the render (hashlib frees the GIL; 0.09 s CPU
        # per 120 MB here), joined in close(). A daemon thread: a cancelled or failed run exits
        # at once instead of waiting for a long camera original to finish hashing.
        self._hashes: dict = {}
        self._hash_error: BaseException | None = None
        self._hasher = None
        if signing.enabled:
            paths = [p for p in (facts.source, facts.dub, facts.shapes) if p and os.path.exists(p)]
            self._hasher = threading.Thread(target=self._hash_inputs, args=(paths,), daemon=True,
                                            name="lipflap-input-hash")
            self._hasher.start()

    def _hash_inputs(self, paths):
        from .sign import file_hash
        try:
            for p in paths:
                self._hashes[p] = file_hash(p)
        except BaseException as e:  # noqa: BLE001 - re-raised in the signing thread by _sign
            self._hash_error = e

    @classmethod
    def for_job(cls, job, info, *, out_path: str, codec: str, mode: str, lo: int, hi: int,
                track_source: str | None, signing: Signing | None) -> "DisclosureWriter":
        """The disclosure of one `lipflap run` job (a lipflap.contract.jobspec.Job and the source's
        VideoInfo), before its writer opens. `signing` None: as the environment or config says."""
        from .. import __version__
        from ..contract.timecode import frames_to_tc
        if signing is None:
            signing = Signing.from_options()
        facts = Facts(engine="lipflap", version=__version__, language=job.language,
                      source=os.path.abspath(job.video),
                      dub=os.path.abspath(job.audio) if job.audio else None,
                      shapes=os.path.abspath(job.shapes) if job.shapes else None, mode=mode,
                      fps=rate_string(info.fps), first=lo, last=hi,
                      timecode_first=frames_to_tc(info.start_tc_frames + lo, info.fps,
                                                  info.drop_frame),
                      track_source=track_source)
        return cls(signing, facts, out_path, sequence=codec in ("png", "exr"))

    def close(self, writer, changed: np.ndarray, signing_starts=None) -> str:
        """Finish `writer`: the credential is signed into its temporary output, then renamed.
        `signing_starts()`, when given, is called once the output is complete and before it is
        signed (without signing, before the writer is finished)."""
        f = self.facts
        f.changed = ranges(changed, f.first, True)
        f.passed_through = ranges(changed, f.first, False)
        if not self.signing.enabled:
            if signing_starts is not None:
                signing_starts()
            return writer.close()

        def finish(tmp: str, final: str) -> None:
            if signing_starts is not None:
                signing_starts()
            self._sign(tmp, final)
        return writer.close(finish=finish)

    def _sign(self, tmp: str, final: str) -> None:
        from .sign import sign_movie, sign_sequence
        t = time.perf_counter()
        self._hasher.join()
        if self._hash_error is not None:
            e = self._hash_error
            raise CredentialError(f"{self.facts.source}: cannot read an input to record its hash "
                                  f"({getattr(e, 'strerror', None) or e}); check it is still "
                                  f"there and readable.") from None
        self.facts.hashes = dict(self._hashes)
        if self.sequence:
            self.credential = sign_sequence(tmp, final, self.facts, self.signing.identity)
        else:
            self.credential = sign_movie(tmp, final, self.facts, self.signing.identity)
        self.sign_s = time.perf_counter() - t

    def report(self) -> dict:
        f = self.facts
        d = {
            "lip_synced": True,
            "statement": f.statement(),
            "description": f.description(),
            "digital_source_type": COMPOSITE_AI,
            "engine": {"name": f.engine, "version": f.version},
            "language": f.language,
            "frames_changed": [list(r) for r in f.changed],
            "frames_passed_through": [list(r) for r in f.passed_through],
            "input_hashes": {os.path.basename(p): h for p, h in f.hashes.items()},
            "container_tags": self.container_tags,
        }
        if not self.signing.enabled:
            d["credential"] = {"status": "off", "reason": "--no-credentials"}
            return d
        c = dict(self.credential or {})
        c["status"] = "local_unverified" if self.signing.identity.local else "signed"
        c.update(self.signing.identity.summary())
        c["timestamp"] = None  # offline: no timestamp authority
        c["sign_seconds"] = round(self.sign_s, 3)
        c["verify_with"] = f"lipflap credentials {c.get('path') or self.out_path}"
        d["credential"] = c
        return d
