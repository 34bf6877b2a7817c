"""The mouth-shape track: one mouth shape per video frame, and its JSON form (docs/cli.md, `lipflap visemes`).

The renderer, the Nuke and OTIO helpers and artists' editors all exchange this JSON, so reading is
lenient where an edit is plausible (missing viseme/shape keys, only some frames listed, numbers a
hair outside 0..1) and strict where the file cannot mean anything (a frame entry that is not an
object, a value that is not a number): those raise a LipflapError naming the file and the entry.
"""
from __future__ import annotations

import bisect
import json
import math
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from ..contract.errors import LipflapError
from ..contract.files import atomic_write
from ..contract.rates import parse_rate, rate_json
from .visemes import PARAMS, SHAPE_TARGET, SHAPES, VISEME_SHAPE, VISEME_TARGET, VISEMES, \
    nearest_shape, nearest_viseme

from ..speech.types import Phone


@dataclass
class MouthFrame:
    frame: int          # 0-based index within the track
    time: float         # frame / fps, seconds from the track's frame 0
    viseme: str         # one of VISEMES
    shape: str          # one of SHAPES (Rhubarb A-H, X)
    aperture: float
    width: float
    rounding: float
    jaw: float

    def params(self) -> tuple[float, float, float, float]:
        return (self.aperture, self.width, self.rounding, self.jaw)


@dataclass
class MouthTrack:
    fps: Fraction
    frames: list[MouthFrame]
    phonemes: list = field(default_factory=list)            # list[Phone], times in track seconds
    cues: list[tuple[float, float, str]] = field(default_factory=list)  # (start, end, shape)
    source: str = ""                                         # "script", "audio", "edited", ...
    warnings: list[str] = field(default_factory=list)

    # ---- writing -------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "fps": rate_json(self.fps),
            "frames": [{"frame": f.frame, "time": round(f.time, 6), "viseme": f.viseme,
                        "shape": f.shape, "aperture": _r(f.aperture), "width": _r(f.width),
                        "rounding": _r(f.rounding), "jaw": _r(f.jaw)} for f in self.frames],
            "phonemes": [_phone_dict(p) for p in self.phonemes],
            "cues": [{"start": round(s, 6), "end": round(e, 6), "shape": sh}
                     for s, e, sh in self.cues],
        }
        if self.source:
            d["source"] = self.source
        if self.warnings:
            d["warnings"] = list(self.warnings)
        return d

    def to_json(self, indent: int | None = None) -> str:
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False)

    def save(self, path: str) -> None:
        atomic_write_text(path, self.to_json() + "\n")

    # ---- reading -------------------------------------------------------------------------
    @classmethod
    def from_json(cls, text: str | dict, *, name: str = "mouth-shape track") -> "MouthTrack":
        """Parse the JSON text (or the already-decoded dict); `name` is used in error messages."""
        if isinstance(text, dict):
            data = text
        else:
            try:
                data = json.loads(text)
            except json.JSONDecodeError as e:
                raise LipflapError(f"{name}: not valid JSON ({e.msg} at line {e.lineno}, column "
                                   f"{e.colno}); fix the file or write it again with "
                                   f"`lipflap visemes`.") from None
        return _parse(data, name)

    @classmethod
    def load(cls, path: str) -> "MouthTrack":
        try:
            with open(path, encoding="utf-8") as fh:
                text = fh.read()
        except OSError as e:
            raise LipflapError(f"{path}: cannot read the mouth-shape track ({e.strerror}); check "
                               f"the path.") from None
        return cls.from_json(text, name=path)

    # ---- convenience ---------------------------------------------------------------------
    @property
    def duration(self) -> float:
        return len(self.frames) / float(self.fps)

    def column(self, key: str):
        import numpy as np
        return np.array([getattr(f, key) for f in self.frames], dtype=float)


def atomic_write_text(path: str, text: str) -> None:
    """`text` written through the project's one atomic write (lipflap.contract.files), so no
    half-written file looks finished; a folder that cannot take it is one sentence."""
    try:
        atomic_write(path, text)
    except OSError as e:
        raise LipflapError(f"{path}: cannot write there ({e.strerror}); choose a writable "
                           f"folder.") from None


def _r(x: float) -> float:
    return round(float(x), 4)


def _phone_dict(p) -> dict:
    d = {"phone": p.phone, "start": round(float(p.start), 6), "end": round(float(p.end), 6)}
    word = getattr(p, "word", None)
    if word:
        d["word"] = word
    return d


# ---- parsing -------------------------------------------------------------------------------
_FIX = "fix that entry or write the track again with `lipflap visemes`"
MAX_FRAMES = 10_000_000   # 115 hours at 24 fps: anything larger is a typo, not a shot


def _show(value, limit: int = 60) -> str:
    """A value as JSON for a one-line message, cut short so a pasted blob stays readable."""
    text = json.dumps(value)
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _num(v, where: str, name: str) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
        raise LipflapError(f"{name}: {where} is {_show(v)}, not a number; {_FIX}.")
    return float(v)


def _list(data: dict, key: str, name: str) -> list:
    """An optional list entry: absent or null is empty; anything else but a list is an error."""
    value = data.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise LipflapError(f"{name}: \"{key}\" must be a list, not {_show(value)}; {_FIX}.")
    return value


def _parse(data, name: str) -> MouthTrack:
    if not isinstance(data, dict):
        raise LipflapError(f"{name}: the track must be a JSON object with \"fps\" and \"frames\"; "
                           f"{_FIX}.")
    if "fps" not in data:
        raise LipflapError(f"{name}: no \"fps\" key; add the frame rate, e.g. \"fps\": 24 or "
                           f"\"fps\": \"24000/1001\".")
    raw_fps = data["fps"]
    if isinstance(raw_fps, bool) or not isinstance(raw_fps, (int, float, str)):
        raise LipflapError(f"{name}: \"fps\" is {_show(raw_fps)}; give a number or a string "
                           f"like \"24000/1001\".")
    try:
        fps = parse_rate(raw_fps)
    except LipflapError as e:
        raise LipflapError(f"{name}: {e}") from None
    frames_raw = data.get("frames")
    if not isinstance(frames_raw, list):
        raise LipflapError(f"{name}: \"frames\" must be a list of frame objects; {_FIX}.")
    warnings = [str(w) for w in _list(data, "warnings", name) if isinstance(w, (str, int, float))]

    keyed: dict[int, dict] = {}
    for i, entry in enumerate(frames_raw):
        where = f"frames[{i}]"
        if not isinstance(entry, dict):
            raise LipflapError(f"{name}: {where} is {_show(entry, 40)}, not an object; "
                               f"{_FIX}.")
        if "frame" in entry:
            fv = entry["frame"]
            if isinstance(fv, bool) or not isinstance(fv, (int, float)) or fv != int(fv) or fv < 0:
                raise LipflapError(f"{name}: {where} has \"frame\": {_show(fv)}; frame "
                                   f"numbers are whole numbers from 0; {_FIX}.")
            idx = int(fv)
        elif "time" in entry:
            idx = int(round(_num(entry["time"], f'{where} "time"', name) * fps))
            if idx < 0:
                raise LipflapError(f"{name}: {where} has \"time\": {entry['time']}; times run "
                                   f"from 0 at the track's first frame; {_FIX}.")
        else:
            idx = i
        if idx > MAX_FRAMES:
            raise LipflapError(f"{name}: {where} is frame {idx}; a track holds at most "
                               f"{MAX_FRAMES} frames; {_FIX}.")
        if idx in keyed:
            raise LipflapError(f"{name}: {where} repeats frame {idx}; keep one entry per frame.")
        keyed[idx] = _parse_frame(entry, where, name, warnings)

    frames = _fill(keyed, fps, warnings, name)
    phonemes = []
    for i, p in enumerate(_list(data, "phonemes", name)):
        where = f"phonemes[{i}]"
        if not isinstance(p, dict) or not isinstance(p.get("phone"), str):
            raise LipflapError(f"{name}: {where} needs \"phone\", \"start\" and \"end\"; {_FIX}.")
        phonemes.append(Phone(p["phone"], _num(p.get("start"), f'{where} "start"', name),
                              _num(p.get("end"), f'{where} "end"', name), p.get("word")))
    cues = []
    for i, c in enumerate(_list(data, "cues", name)):
        where = f"cues[{i}]"
        if not isinstance(c, dict) or c.get("shape") not in SHAPES:
            raise LipflapError(f"{name}: {where} needs \"start\", \"end\" and a \"shape\" among "
                               f"{', '.join(SHAPES)}; {_FIX}.")
        cues.append((_num(c.get("start"), f'{where} "start"', name),
                     _num(c.get("end"), f'{where} "end"', name), c["shape"]))
    if not cues and frames:
        cues = cues_from_frames(frames, fps)
    return MouthTrack(fps=fps, frames=frames, phonemes=phonemes, cues=cues,
                      source=str(data.get("source", "")), warnings=warnings)


def _parse_frame(entry: dict, where: str, name: str, warnings: list[str]) -> dict:
    out: dict[str, Any] = {}
    for key in ("viseme", "shape"):
        if key in entry and entry[key] is not None:
            allowed = VISEMES if key == "viseme" else SHAPES
            if entry[key] not in allowed:
                raise LipflapError(f"{name}: {where} has \"{key}\": {_show(entry[key])}; use "
                                   f"one of {', '.join(allowed)}, or leave the key out.")
            out[key] = entry[key]
    for key in PARAMS:
        if key in entry and entry[key] is not None:
            v = _num(entry[key], f'{where} "{key}"', name)
            if v < -0.05 or v > 1.05:
                raise LipflapError(f"{name}: {where} has \"{key}\": {v}; mouth parameters run "
                                   f"from 0 to 1; {_FIX}.")
            out[key] = min(max(v, 0.0), 1.0)
    if not any(k in out for k in PARAMS + ("viseme", "shape")):
        raise LipflapError(f"{name}: {where} has none of aperture, width, rounding, jaw, viseme "
                           f"or shape; give at least one, or delete the entry.")
    return out


def _fill(keyed: dict[int, dict], fps: Fraction, warnings: list[str], name: str) -> list[MouthFrame]:
    """Complete each frame: missing parameters from its viseme/shape (or rest), missing names from
    its parameters, frames absent from the file interpolated between their listed neighbours."""
    if not keyed:
        return []
    full: dict[int, tuple[float, ...]] = {}
    names: dict[int, tuple[str | None, str | None]] = {}
    for idx, e in keyed.items():
        base = (VISEME_TARGET[e["viseme"]] if "viseme" in e else
                SHAPE_TARGET[e["shape"]] if "shape" in e else None)
        if base is None:
            # Only some parameters given: the rest from the closest pose of what was given.
            base = SHAPE_TARGET["X"] if e.get("aperture", 0.0) <= 0.02 else \
                SHAPE_TARGET[nearest_shape((e.get("aperture", 0.2), 0.45, e.get("rounding", 0.05),
                                            e.get("jaw", e.get("aperture", 0.2))))]
        full[idx] = tuple(e.get(k, base[j]) for j, k in enumerate(PARAMS))
        names[idx] = (e.get("viseme"), e.get("shape"))
    keys = sorted(full)
    last = keys[-1]
    missing = (last + 1) - len(keys)
    if missing:
        warnings.append(f"{name}: {missing} frame(s) not listed were interpolated from their "
                        f"neighbours.")
    frames: list[MouthFrame] = []
    for idx in range(last + 1):
        if idx in full:
            p = full[idx]
            vis, shp = names[idx]
        else:
            j = bisect.bisect_left(keys, idx)      # keys[j-1] < idx < keys[j]
            if j == 0:                             # before the first listed frame: hold it
                p = full[keys[0]]
            else:
                a, b = keys[j - 1], keys[j]
                t = (idx - a) / (b - a)
                p = tuple((1 - t) * x + t * y for x, y in zip(full[a], full[b]))
            vis, shp = None, None
        if vis is None:
            vis = nearest_viseme(p)
        if shp is None:
            shp = VISEME_SHAPE[vis] if vis in ("sil", "PP") else nearest_shape(p)
        frames.append(MouthFrame(idx, float(idx / fps), vis, shp, *p))
    return frames


def cues_from_frames(frames: list[MouthFrame], fps: Fraction) -> list[tuple[float, float, str]]:
    """Runs of equal shape as (start, end, shape) in seconds."""
    cues: list[tuple[float, float, str]] = []
    for f in frames:
        t0 = float(f.frame / fps)
        t1 = float((f.frame + 1) / fps)
        if cues and cues[-1][2] == f.shape and abs(cues[-1][1] - t0) < 1e-9:
            cues[-1] = (cues[-1][0], t1, f.shape)
        else:
            cues.append((t0, t1, f.shape))
    return cues
