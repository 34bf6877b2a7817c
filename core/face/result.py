"""What face analysis hands on: per-frame landmarks of the chosen speaker, pose, confidence, flags.

Plain dataclasses with a JSON form (landmarks rounded to 0.01 px). The renderer reads
`FrameFace.usable` and `ShotAnalysis.landmarks_array()`; reports read `flagged_ranges()`.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np

from ..contract.rates import rate_string
from .landmarks import N_LANDMARKS

FLAGS = ("no_face", "occluded", "profile", "blur", "small", "cut", "low_confidence")
# Flags that make a frame unusable for rendering (others are warnings).
BLOCKING = ("no_face", "occluded", "profile")
FORMAT_VERSION = 1


@dataclass(slots=True)   # one per frame: a 10-minute shot has 15000 (no per-object dict)
class FrameFace:
    index: int                                  # frame index within the file
    landmarks: np.ndarray | None = None         # (478, 2) float32, smoothed, frame pixels
    raw_landmarks: np.ndarray | None = None     # (478, 2) float32, as Face Mesh gave them
    pose: tuple[float, float, float] | None = None   # yaw, pitch, roll in degrees
    confidence: float = 0.0
    flags: list[str] = field(default_factory=list)
    faces: list[tuple[int, tuple[float, float, float, float]]] = field(default_factory=list)
    face_id: int | None = None                  # id of the face the landmarks belong to
    # Inner-lip gap / eye distance a still-image Face Mesh saw in this frame on its own, where
    # the face's tracked (raw) gap was near closed (lipflap.render.seen); NaN where not looked at.
    # Part of the analysis and its cache entry, so a cached run matches exemplars by the very
    # values a fresh one does.
    seen: float = float("nan")

    @property
    def usable(self) -> bool:
        return self.landmarks is not None and not any(f in self.flags for f in BLOCKING)

    def to_dict(self) -> dict:
        def arr(a):
            return None if a is None else np.round(a.astype(np.float64), 2).tolist()
        return {
            "index": self.index,
            "face_id": self.face_id,
            "confidence": round(float(self.confidence), 3),
            "flags": list(self.flags),
            "pose": None if self.pose is None else [round(float(v), 2) for v in self.pose],
            "faces": [[int(i), [round(float(v), 1) for v in b]] for i, b in self.faces],
            "landmarks": arr(self.landmarks),
            "raw_landmarks": arr(self.raw_landmarks),
            "seen": float(self.seen) if np.isfinite(self.seen) else None,   # exact (the cache)
        }

    @classmethod
    def from_dict(cls, d: dict) -> "FrameFace":
        def arr(v):
            return None if v is None else np.asarray(v, dtype=np.float32).reshape(N_LANDMARKS, 2)
        return cls(index=int(d["index"]), landmarks=arr(d.get("landmarks")),
                   raw_landmarks=arr(d.get("raw_landmarks")),
                   pose=None if d.get("pose") is None else tuple(float(v) for v in d["pose"]),
                   confidence=float(d.get("confidence", 0.0)), flags=list(d.get("flags", [])),
                   faces=[(int(i), tuple(float(v) for v in b)) for i, b in d.get("faces", [])],
                   face_id=d.get("face_id"),
                   seen=float("nan") if d.get("seen") is None else float(d["seen"]))


@dataclass
class ShotAnalysis:
    path: str
    fps: Fraction
    width: int
    height: int
    start: int
    end: int                                   # inclusive
    frames: list[FrameFace]
    cuts: list[int] = field(default_factory=list)    # frame indexes where a new shot begins
    speaker_id: int | None = None
    speaker_reason: str = ""
    faces: dict[int, dict] = field(default_factory=dict)   # per face id: frames, first, last, size
    shots: list[dict] = field(default_factory=list)  # per shot: start, end, speaker_id, reason
    params: dict = field(default_factory=dict)

    def landmarks_array(self, raw: bool = False) -> np.ndarray:
        """(n, 478, 2) float32, NaN where no face."""
        out = np.full((len(self.frames), N_LANDMARKS, 2), np.nan, np.float32)
        for i, f in enumerate(self.frames):
            lm = f.raw_landmarks if raw else f.landmarks
            if lm is not None:
                out[i] = lm
        return out

    def seen_array(self) -> np.ndarray:
        """(n,) float64 FrameFace.seen of every frame (NaN where not looked at)."""
        return np.array([f.seen for f in self.frames], np.float64)

    def add_seen(self, openings: dict) -> None:
        """Give each frame the opening its chosen face was seen at on its own: `openings`
        {(file index, face id): opening} (lipflap.render.seen.PassLooks.openings)."""
        for f in self.frames:
            v = openings.get((f.index, f.face_id)) if f.face_id is not None else None
            f.seen = float("nan") if v is None else float(v)

    def frame(self, index: int) -> FrameFace:
        """The FrameFace of file frame `index`."""
        return self.frames[index - self.start]

    def flagged_ranges(self) -> list[dict]:
        """Consecutive frames sharing a flag, merged: [{"start", "end", "reason"}] (end inclusive),
        sorted by start. "cut" is an event, not a defect, and is not listed."""
        out = []
        for reason in FLAGS:
            if reason == "cut":
                continue
            run_start = prev = None
            for f in self.frames:
                if reason in f.flags:
                    if run_start is None or f.index != prev + 1:
                        if run_start is not None:
                            out.append({"start": run_start, "end": prev, "reason": reason})
                        run_start = f.index
                    prev = f.index
            if run_start is not None:
                out.append({"start": run_start, "end": prev, "reason": reason})
        out.sort(key=lambda r: (r["start"], FLAGS.index(r["reason"])))
        return out

    def to_dict(self) -> dict:
        return {
            "format": "lipflap-face-analysis", "version": FORMAT_VERSION,
            "path": self.path, "fps": rate_string(self.fps),
            "width": self.width, "height": self.height, "start": self.start, "end": self.end,
            "cuts": list(self.cuts), "speaker_id": self.speaker_id,
            "speaker_reason": self.speaker_reason,
            "faces": {str(k): v for k, v in self.faces.items()},
            "shots": self.shots, "params": self.params,
            "flagged_ranges": self.flagged_ranges(),
            "frames": [f.to_dict() for f in self.frames],
        }

    def to_json(self, indent: int | None = None) -> str:
        return json.dumps(self.to_dict(), indent=indent)

    @classmethod
    def from_dict(cls, d: dict) -> "ShotAnalysis":
        if d.get("format") != "lipflap-face-analysis":
            raise ValueError("not a lipflap face analysis")
        if int(d.get("version", 0)) != FORMAT_VERSION:
            raise ValueError(f"face analysis version {d.get('version')} is not {FORMAT_VERSION}")
        return cls(path=d["path"], fps=Fraction(d["fps"]), width=int(d["width"]),
                   height=int(d["height"]), start=int(d["start"]), end=int(d["end"]),
                   frames=[FrameFace.from_dict(f) for f in d["frames"]],
                   cuts=[int(c) for c in d.get("cuts", [])], speaker_id=d.get("speaker_id"),
                   speaker_reason=d.get("speaker_reason", ""),
                   faces={int(k): v for k, v in d.get("faces", {}).items()},
                   shots=d.get("shots", []), params=d.get("params", {}))

    @classmethod
    def from_json(cls, text: str) -> "ShotAnalysis":
        return cls.from_dict(json.loads(text))
