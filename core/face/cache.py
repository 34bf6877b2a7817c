"""A cache of face analyses keyed by the video's content and the analysis parameters.

The content key is size + mtime + SHA-256 of the first and last MiB (cheap on multi-GB camera
files, and any re-encode or trim changes it). An entry is a NumPy .npz: the landmarks as two
(n, 478, 2) float32 arrays (smoothed and raw, NaN where no face) and everything else as one JSON
text. Landmarks as JSON numbers cost ~150 kB a frame to read back (a 10-minute shot's entry took
over 2 GB to load); as arrays they load at their own size. Entries are written a frame at a time
to a temporary name and renamed, so a crash never leaves a half entry under a real name; the
zip's CRC of every member plus a key check inside the entry catch corruption, and a bad entry is
removed and rebuilt.

An entry says which layout it has (CACHE_FORMAT); one of another layout is a miss, removed and
rebuilt like a bad one. Format 2 holds each frame's still look (FrameFace.seen) in its JSON at full
precision: a run from the cache matches exemplars by exactly the openings the analysis pass saw
(issue 15: looked at again from the smoothed landmarks, talk_b f63 read 0.0035 where the pass
had seen 0.0017 on the raw ones, 42 of frames 0-106 were looked at where the pass looked at 43,
and 29 of the 107 frames of its talk-set render differed; none now).
"""
from __future__ import annotations

import hashlib
import json
import os
import tempfile
import zipfile
from dataclasses import replace
from pathlib import Path

import numpy as np

from .landmarks import N_LANDMARKS
from .result import FrameFace, ShotAnalysis

CHUNK = 1 << 20
CACHE_FORMAT = 2


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


def entry_path(key: str) -> Path:
    return cache_dir() / f"{key}.npz"


def entry_key(path) -> str | None:
    """The key an entry file says it holds (None when unreadable)."""
    try:
        with np.load(path) as z:
            return json.loads(z["meta"].tobytes().decode("utf-8"))["cache_key"]
    except Exception:  # noqa: BLE001
        return None


def load(key: str, path) -> ShotAnalysis | None:
    f = entry_path(key)
    if not f.exists():
        return None
    try:
        with np.load(f) as z:
            meta = json.loads(z["meta"].tobytes().decode("utf-8"))
            if meta.get("cache_key") != key:
                raise ValueError("key mismatch")
            if meta.get("format") != CACHE_FORMAT:
                raise ValueError("an older entry layout")
            lms, raws = z["landmarks"], z["raw_landmarks"]
        d = meta["analysis"]
        frames = d["frames"]
        if lms.shape != (len(frames), N_LANDMARKS, 2) or raws.shape != lms.shape:
            raise ValueError("landmarks do not match the frames")
        d["frames"] = []
        a = ShotAnalysis.from_dict(d)
        for k, fd in enumerate(frames):
            ff = FrameFace.from_dict(fd)
            # Views into the entry's arrays: the analysis is held once, at float32.
            if fd.get("has_landmarks"):
                ff.landmarks = lms[k]
            if fd.get("has_raw"):
                ff.raw_landmarks = raws[k]
            a.frames.append(ff)
    except Exception:  # noqa: BLE001 - any unreadable entry is rebuilt, never trusted
        try:
            f.unlink()
        except OSError:
            pass
        return None
    a.path = str(path)
    return a


def _write_rows(zf: zipfile.ZipFile, name: str, frames: list, attr: str) -> None:
    """One (n, 478, 2) float32 member written a frame at a time (no whole-shot copy)."""
    with zf.open(name, "w", force_zip64=True) as fh:
        np.lib.format.write_array_header_1_0(fh, {"descr": np.lib.format.dtype_to_descr(
            np.dtype(np.float32)), "fortran_order": False,
            "shape": (len(frames), N_LANDMARKS, 2)})
        missing = np.full((N_LANDMARKS, 2), np.nan, np.float32).tobytes()
        for f in frames:
            lm = getattr(f, attr)
            fh.write(missing if lm is None else np.ascontiguousarray(lm, np.float32).tobytes())


def _dump(f, key: str, analysis: ShotAnalysis) -> None:
    frames = []
    for ff in analysis.frames:
        d = replace(ff, landmarks=None, raw_landmarks=None).to_dict()
        del d["landmarks"], d["raw_landmarks"]
        d["has_landmarks"] = ff.landmarks is not None
        d["has_raw"] = ff.raw_landmarks is not None
        frames.append(d)
    head = replace(analysis, frames=[]).to_dict()
    head["frames"] = frames
    meta = json.dumps({"cache_key": key, "format": CACHE_FORMAT, "analysis": head})
    with zipfile.ZipFile(f, "w", zipfile.ZIP_STORED, allowZip64=True) as zf:
        with zf.open("meta.npy", "w", force_zip64=True) as fh:
            np.lib.format.write_array(fh, np.frombuffer(meta.encode("utf-8"), np.uint8))
        _write_rows(zf, "landmarks.npy", analysis.frames, "landmarks")
        _write_rows(zf, "raw_landmarks.npy", analysis.frames, "raw_landmarks")


def store(key: str, analysis: ShotAnalysis) -> Path | None:
    d = cache_dir()
    try:
        d.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".npz", dir=d)
        try:
            with os.fdopen(fd, "wb") as raw:
                _dump(raw, key, analysis)
            final = entry_path(key)
            os.replace(tmp, final)
            return final
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise
    except OSError:
        # A read-only or full cache disk costs speed next time, never this run.
        return None
