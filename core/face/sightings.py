"""The faces a clip shows, each with its identity signature, where it sits and a thumbnail.

    faces = faces_in_clip(video, first, last)      # -> [Sighting], left to right

One decode of the range; the face tracker (lipflap.face.track) runs on SAMPLES frames spread
over it (every frame is decoded, only those are tracked, each with a fresh detection so a face
that enters late is found). A face seen on fewer than MIN_SEEN of them is left out (a passer-by,
a false detection). Each face's signature (lipflap.face.identity) is taken from its samples;
its `spec` ("X,Y": its mean centre in frame pixels) is the face choice a job gives the engine
for it (the engine takes the face nearest that point over the shot, lipflap.face.speaker).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..media.decode import read_frames
from .identity import Signature, signature_of
from .mesh import to_uint8
from .thumbnails import crop
from .track import FaceTracker

SAMPLES = 12
MIN_SEEN = 3


@dataclass
class Sighting:
    """One face of a clip."""
    track: int                              # the tracker's id in this sampling pass
    center: tuple[float, float]             # mean centre, frame pixels
    height: float                           # mean face height, pixels
    seen: int                               # sampled frames it was found in
    signature: Signature | None             # None: no good (near-frontal) view
    best_frame: int                         # file frame of its largest near-frontal view
    best_bbox: tuple[float, float, float, float]
    position: str = ""                      # left / right / centre / only, among the clip's faces
    thumbnail: np.ndarray | None = field(default=None, repr=False)   # RGB uint8

    @property
    def spec(self) -> str:
        return f"{self.center[0]:.0f},{self.center[1]:.0f}"


def sample_indexes(first: int, last: int, samples: int = SAMPLES) -> list[int]:
    """`samples` file frames spread evenly over first..last (all of them when fewer)."""
    n = last - first + 1
    if n <= samples:
        return list(range(first, last + 1))
    return sorted({int(round(first + k * (n - 1) / (samples - 1))) for k in range(samples)})


def faces_in_clip(video: str, first: int, last: int, *, samples: int = SAMPLES,
                  thumbnails: bool = False, info=None) -> list[Sighting]:
    """Every face seen on MIN_SEEN or more sampled frames of first..last, left to right."""
    wanted = set(sample_indexes(first, last, samples))
    tracker = FaceTracker(detect_every=1, max_gap=samples)
    seen: dict[int, list] = {}           # id -> [(index, image, lm3, bbox)]
    try:
        for fr in read_frames(video, first, last, info=info):
            if fr.index not in wanted:
                continue
            img = to_uint8(fr.image)
            for tid, o in tracker.step(fr.index, img, force_detect=True).items():
                seen.setdefault(tid, []).append((fr.index, img, o.lm3, o.bbox))
    finally:
        tracker.close()
    need = min(MIN_SEEN, len(wanted))
    out = [_sighting(tid, obs, thumbnails) for tid, obs in seen.items() if len(obs) >= need]
    out.sort(key=lambda s: s.center[0])
    for k, s in enumerate(out):
        s.position = ("only" if len(out) == 1 else "left" if k == 0
                      else "right" if k == len(out) - 1 else "centre")
    return out


def _sighting(tid: int, obs: list, thumbnails: bool) -> Sighting:
    sig = signature_of([o[1] for o in obs], [o[2] for o in obs])
    boxes = np.array([o[3] for o in obs], float)
    centre = ((boxes[:, 0] + boxes[:, 2]) / 2).mean(), ((boxes[:, 1] + boxes[:, 3]) / 2).mean()
    heights = boxes[:, 3] - boxes[:, 1]
    best = int(np.argmax(heights))
    s = Sighting(track=tid, center=(float(centre[0]), float(centre[1])),
                 height=float(heights.mean()), seen=len(obs), signature=sig,
                 best_frame=int(obs[best][0]), best_bbox=tuple(float(v) for v in obs[best][3]))
    if thumbnails:
        s.thumbnail = crop(obs[best][1], obs[best][3])   # as `lipflap analyze --thumbnails`
    return s
