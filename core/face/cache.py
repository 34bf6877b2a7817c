"""A cache of face analyses keyed by the video's content and the analysis parameters.

The content key is size + mtime + SHA-256 of the first and last MiB (cheap on multi-GB camera
files, and any re-encode or trim changes it). Entries are gzip'd JSON written to a temporary name
and renamed, so a crash never leaves a half entry under a real name; gzip's CRC plus a key check
inside the entry catch corruption, and a bad entry is removed and rebuilt.
"""
from __future__ import annotations

import gzip
import hashlib
import json
import os
import tempfile
from dataclasses import replace
from pathlib import Path

from .result import ShotAnalysis

CHUNK = 1 << 20


def cache_dir() -> Path:
    root = os.environ.get("LIPFLAP_CACHE") or os.path.join(os.path.expanduser("~"), ".cache",
                                                           "lipflap")
    return Path(root) / "face"


def fingerprint(path: str | os.PathLike) -> str:
    st = os.stat(path)
    h = hashlib.sha256()
    h.update(f"{st.st_size}:{st.st_mtime_ns}".encode())
    with open(path, "rb") as f:
        h.update(f.read(CHUNK))
        if st.st_size > CHUNK:
            f.seek(max(CHUNK, st.st_size - CHUNK))
            h.update(f.read(CHUNK))
    return h.hexdigest()


def make_key(path, params: dict, audio_path=None) -> str:
    parts = {"video": fingerprint(path), "params": params,
             "audio": fingerprint(audio_path) if audio_path else None}
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


def load(key: str, path) -> ShotAnalysis | None:
    f = cache_dir() / f"{key}.json.gz"
    if not f.exists():
        return None
    try:
        with gzip.open(f, "rt", encoding="utf-8") as fh:
            d = json.load(fh)
        if d.get("cache_key") != key:
            raise ValueError("key mismatch")
        a = ShotAnalysis.from_dict(d["analysis"])
    except Exception:  # noqa: BLE001 - any unreadable entry is rebuilt, never trusted
        try:
            f.unlink()
        except OSError:
            pass
        return None
    a.path = str(path)
    return a


def _dump(fh, key: str, analysis: ShotAnalysis) -> None:
    """The entry's JSON, written a frame at a time: the whole analysis as one dict of Python
    lists costs ~150 kB a frame (2.3 GB more peak memory on a 10-minute shot)."""
    head = json.dumps({"cache_key": key, "analysis": replace(analysis, frames=[]).to_dict()})
    tail = '"frames": []}}'
    assert head.endswith(tail)
    fh.write(head[:-len(tail)] + '"frames": [')
    for i, f in enumerate(analysis.frames):
        fh.write(("," if i else "") + json.dumps(f.to_dict()))
    fh.write("]}}")


def store(key: str, analysis: ShotAnalysis) -> Path | None:
    d = cache_dir()
    try:
        d.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".json.gz", dir=d)
        try:
            with os.fdopen(fd, "wb") as raw, gzip.open(raw, "wt", encoding="utf-8",
                                                       compresslevel=3) as fh:
                _dump(fh, key, analysis)
            final = d / f"{key}.json.gz"
            os.replace(tmp, final)
            return final
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise
    except OSError:
        # A read-only or full cache disk costs speed next time, never this run.
        return None
