"""The cast file: a scene's characters, each known by one reference view of their face.

    {"characters": {
        "ANNA": {"video": "shot3.mov", "face": "left", "frame": 12},
        "BEN":  {"video": "shot3.mov", "face": "right", "frame": 12,
                 "signature": {...}}},            # optional: written by `lipflap cast`
     "threshold": 0.5}                            # optional: lipflap.face.identity.THRESHOLD

    cast = load_cast(path)        # -> Cast: every character with its signature
    save_cast(path, cast)

A reference is a video (relative paths are from the cast file's folder), the face in it
(`left`, `right`, `centre`, `only`, `largest`, or `X,Y` in frame pixels: the face whose centre is
nearest), and a frame (0-based in the file) where that face is seen well; the signature is taken
from REFERENCE_FRAMES frames either side of it (lipflap.face.sightings). A stored "signature"
is used while its "of" still names the same reference; an edited reference is seen again.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field

from ..contract.files import atomic_write
from ..contract.jobspec import cast_error, read_cast_file
from .identity import THRESHOLD, Signature

REFERENCE_FRAMES = 24
POSITIONS = ("left", "right", "centre", "center", "only", "largest")


@dataclass
class Character:
    name: str
    video: str                      # absolute path
    face: str
    frame: int
    signature: Signature | None = None

    @property
    def reference(self) -> dict:
        return {"video": self.video, "face": self.face, "frame": self.frame}


@dataclass
class Cast:
    path: str
    characters: dict[str, Character] = field(default_factory=dict)
    threshold: float = THRESHOLD
    # Clips a conform did not render because they show no character with a voice there (their
    # faces and absent characters, as lipflap.face.castmatch records them).
    not_rendered: list = field(default_factory=list)

    def signatures(self) -> dict[str, Signature]:
        return {n: c.signature for n, c in self.characters.items()}


def read_cast(path: str) -> Cast:
    """The cast file as written, references checked, signatures not yet taken."""
    data = read_cast_file(path)
    chars = data["characters"]
    folder = os.path.dirname(os.path.abspath(path))
    cast = Cast(os.path.abspath(path), threshold=float(data.get("threshold", THRESHOLD)))
    for name, ref in chars.items():
        cast.characters[name] = _character(path, folder, name, ref)
    return cast


def _character(path: str, folder: str, name: str, ref) -> Character:
    if not str(name).strip() or any(c in str(name) for c in "[]="):
        raise cast_error(path, f"character name {name!r} must be a plain name (no [, ] or =)")
    if not isinstance(ref, dict) or not isinstance(ref.get("video"), str):
        raise cast_error(path, f"character {name} needs {{\"video\", \"face\", \"frame\"}}")
    face = str(ref.get("face", "only")).strip().lower()
    if face not in POSITIONS and not _point(face):
        raise cast_error(path, f"character {name}: face {ref.get('face')!r} is not one of "
                         f"{', '.join(POSITIONS)} or X,Y")
    frame = ref.get("frame", 0)
    if isinstance(frame, bool) or not isinstance(frame, int) or frame < 0:
        raise cast_error(path, f"character {name}: frame {frame!r} must be a frame number (0 or more)")
    video = os.path.normpath(os.path.join(folder, ref["video"]))
    c = Character(str(name), video, face, frame)
    sig = ref.get("signature")
    if isinstance(sig, dict) and sig.get("of") == _stamp(c):
        try:
            c.signature = Signature.from_dict(sig)
        except (KeyError, TypeError, ValueError):
            c.signature = None          # damaged: seen again from the reference
    return c


def _point(face: str) -> tuple[float, float] | None:
    try:
        x, y = (float(v) for v in face.split(","))
    except ValueError:
        return None
    return x, y


def _stamp(c: Character) -> dict:
    return {"video": os.path.basename(c.video), "face": c.face, "frame": c.frame}


def pick(sightings: list, face: str):
    """The sighting a reference's `face` names, or None."""
    if not sightings:
        return None
    if face == "largest":
        return max(sightings, key=lambda s: s.height)
    if face == "only":
        return sightings[0] if len(sightings) == 1 else None
    if face in ("left", "right", "centre", "center"):
        if face == "left":
            return sightings[0]
        if face == "right":
            return sightings[-1]
        return sightings[len(sightings) // 2]
    x, y = _point(face)
    return min(sightings, key=lambda s: (s.center[0] - x) ** 2 + (s.center[1] - y) ** 2)


def load_cast(path: str, faces=None) -> Cast:
    """The cast with every character's signature (seen from its reference where not stored);
    `faces(video, first, last)` as lipflap.face.sightings.faces_in_clip."""
    cast = read_cast(path)
    for c in cast.characters.values():
        if c.signature is None:
            c.signature = reference_signature(cast.path, c, faces)
    return cast


def reference_signature(path: str, c: Character, faces=None) -> Signature:
    from ..media.probe import probe
    if faces is None:
        from .sightings import faces_in_clip as faces
    if not os.path.isfile(c.video):
        raise cast_error(path, f"character {c.name}: reference video {c.video} is missing")
    n = probe(c.video).frame_count
    if c.frame >= n:
        raise cast_error(path, f"character {c.name}: frame {c.frame} is past the end of {c.video} "
                         f"({n} frames)")
    lo, hi = max(0, c.frame - REFERENCE_FRAMES), min(n - 1, c.frame + REFERENCE_FRAMES)
    seen = faces(c.video, lo, hi)
    s = pick(seen, c.face)
    if s is None or s.signature is None:
        found = ", ".join(f"{x.position} at {x.spec}" for x in seen) or "none"
        raise cast_error(path, f"character {c.name}: no {c.face} face with a near-frontal view in "
                         f"{c.video} frames {lo}-{hi} (faces found: {found}); give another "
                         f"frame or face")
    return s.signature


def save_cast(path: str, cast: Cast) -> None:
    """The cast file with each character's signature stored (stamped with its reference)."""
    folder = os.path.dirname(os.path.abspath(path))
    chars = {}
    for name, c in cast.characters.items():
        ref = {"video": os.path.relpath(c.video, folder), "face": c.face, "frame": c.frame}
        if c.signature is not None:
            ref["signature"] = dict(c.signature.to_dict(), of=_stamp(c))
        chars[name] = ref
    data = {"characters": chars}
    if cast.threshold != THRESHOLD:
        data["threshold"] = cast.threshold
    atomic_write(path, json.dumps(data, indent=1) + "\n")
