"""An exemplar's mouth opening as a still image shows it.

The shot's landmarks come from Face Mesh in tracking mode, which can lag a mouth that opens
after a closure: talk_g frames 56-58 track at a gap of 0.016-0.036 eye distances where each
frame looked at on its own reads 0.079-0.098 (the yardstick's re-track of a render built from
them read 0.06-0.11 where 0.02-0.035 was asked). The warp moves the exemplar's landmarks to the
target, so the rendered opening is off by as much as the exemplar's landmarks were: a frame the
track shows (nearly) closed is looked at once more on its own, and the exemplar choice uses that
opening. The look is taken in the analysis pass while the frame is at hand (PassLooks), from
the raw tracked landmarks, and only the opening seen is kept: it becomes part of the analysis
(FrameFace.seen) and of its cache entry, so the library is cut from the kept lower faces without
a second decode, and a cached run matches exemplars by the very openings a fresh one does. (The
library builder used to look again on its decode pass after a cached analysis, from the smoothed
landmarks: talk_b f63 read 0.0035 there and 0.0017 in the pass, 42 of frames 0-106 were looked at
against the pass's 43, near-tie exemplar choices flipped and 29 of the 107 frames of its talk-set
render differed; before render.select's SEAL_SEEN_WEIGHT 2 its closure read 1.00 fresh and 0.90
cached.) On the bench's source (talk_b, 125 frames) 56 frames are looked at, with 59
Face Mesh reads: 0.5 s of CPU (looking at every library frame twice cost about 3 s and the
kept-face library).
"""
from __future__ import annotations

import numpy as np

from ..face.geometry import mouth_aperture
from ..face.mesh import _quiet_import, native_stderr_silenced, to_uint8
from . import geometry as g

# Side of the box a library frame is looked at in, of the face's landmark extent, clipped to the
# frame and at the frame's resolution (Face Mesh finds the face and takes its own crop, as in the
# whole frame: talk_g f50-95 read the same as the whole frame to 0.001; through the tracker's
# 384-pixel crop, or with the box padded black past the frame's edge, f54-58 read 0.03-0.04 off).
STILL_BOX = 2.5

# Only a frame whose tracked gap is under LOOK_BELOW eye distances is looked at: the lag is a
# mouth tracked as (nearly) closed that has opened. Every library frame of talk_d, talk_e and
# talk_g whose still look differed from its track by more than select.SEEN_MARGIN tracked under
# 0.077 but one (talk_d f23: 0.095 tracked, 0.132 seen); under 0.08 are 32-43 of their 75-77
# library frames, under 0.06 20-33 (which misses talk_g f105 and f108).
LOOK_BELOW = 0.08

# The mirrored second look is taken only where the first one differs from the track by more
# than this (select.SEEN_MARGIN less 0.01): of the 108 frames of talk_d, talk_e and talk_g under
# LOOK_BELOW, 24 then get it, and one (talk_g f104: tracked 0.059, one look 0.066, both 0.098)
# comes out on the other side of the margin than with both looks everywhere.
SECOND_LOOK_FROM = 0.02


def wants_look(landmarks) -> bool:
    """Whether a frame with these tracked landmarks is looked at on its own."""
    return landmarks is not None and bool(g.aperture(np.asarray(landmarks)[:, :2]) < LOOK_BELOW)


def still_mesh() -> "StillMesh":
    """A Face Mesh that looks at each image on its own (no region carried from the last)."""
    mp = _quiet_import()
    with native_stderr_silenced():
        fm = mp.solutions.face_mesh.FaceMesh(
            static_image_mode=True, max_num_faces=1, refine_landmarks=True,
            min_detection_confidence=0.4)
        # The graph's threads open its two models after the constructor returns and each writes
        # a feedback-manager warning to fd 2 as it does; one blank inference waits them out (as
        # the detector and the tracker's Face Mesh do). Without it both warnings reached stderr
        # on 16 of 16 starts on a loaded core (the test's capture caught one in CI, 2026-12-06).
        fm.process(np.zeros((64, 64, 3), np.uint8))
        return StillMesh(fm)


class StillMesh:
    """A still-image Face Mesh whose calls keep fd 2 silenced until it has found a face: with the
    first image in which it finds one, MediaPipe writes its landmark projection's warning straight
    to fd 2, which the hosts read for errors (its two feedback-manager warnings come as the graph
    starts, waited out in still_mesh)."""

    def __init__(self, fm):
        self._fm = fm
        self._quiet = True

    def process(self, img: np.ndarray):
        if not self._quiet:
            return self._fm.process(img)
        with native_stderr_silenced():
            res = self._fm.process(img)
        self._quiet = not res.multi_face_landmarks
        return res

    def close(self) -> None:
        self._fm.close()


def still_aperture(mesh, frame: np.ndarray, landmarks: np.ndarray) -> float:
    """Inner-lip gap / eye distance of `frame` (the analysis pass's decoded RGB image, uint8 or
    uint16) looked at on its own around its tracked `landmarks`; NaN when Face Mesh finds no
    face there."""
    lm = np.asarray(landmarks, np.float64)[:, :2]
    (x0, y0), (x1, y1) = lm.min(0), lm.max(0)
    half = 0.5 * STILL_BOX * max(x1 - x0, y1 - y0)
    wid, hgt = frame.shape[1], frame.shape[0]
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    bx0, by0 = max(0, int(cx - half)), max(0, int(cy - half))
    bx1, by1 = min(wid, int(cx + half)), min(hgt, int(cy + half))
    if bx1 - bx0 < 16 or by1 - by0 < 16:
        return float("nan")
    box = to_uint8(np.asarray(frame[by0:by1, bx0:bx1])[:, :, :3])
    # Looked at twice, as it is and mirrored, where the first look differs from the track by
    # more than SECOND_LOOK_FROM: on a mouth just parted one look alone can be off by 0.03-0.04
    # either way (talk_e f107, closed in the picture, reads 0.057 and, mirrored, 0.025; talk_g
    # f57 0.079 and 0.042).
    first = _read(mesh, box)
    if np.isfinite(first) and abs(first - mouth_aperture(lm)) <= SECOND_LOOK_FROM:
        return first
    reads = [v for v in (first, _read(mesh, box[:, ::-1])) if np.isfinite(v)]
    return float(np.mean(reads)) if reads else float("nan")


def _read(mesh, img: np.ndarray) -> float:
    """Inner-lip gap / eye distance Face Mesh finds in `img`; NaN when it finds no face."""
    res = mesh.process(np.ascontiguousarray(img))
    if not res.multi_face_landmarks:
        return float("nan")
    h, w = img.shape[:2]
    pts = res.multi_face_landmarks[0].landmark
    return mouth_aperture(np.array([[q.x * w, q.y * h] for q in pts]))


class PassLooks:
    """The still looks taken during the analysis pass, while each frame is at hand, as a keep hook
    (`looks(frame, observations)`, lipflap.face.analyze.track_frames): every tracked face whose
    raw gap is under LOOK_BELOW is looked at in the decoded frame, and only the opening seen (a
    float) is kept, in `openings` {(file index, face id): opening} for the analysis
    (ShotAnalysis.add_seen), so the library needs no whole face (the kept lower faces start below
    the eyes, lipflap.pipeline.kept) and no second decode. The one place looks are taken: every
    run that renders (one face or a dialogue's several) takes them here. close() once the pass
    is over."""

    def __init__(self):
        self.openings: dict[tuple[int, int], float] = {}
        self._mesh = None

    def __call__(self, frame, observations: dict) -> None:
        for tid, o in observations.items():
            lm = np.asarray(o.lm3)[:, :2]
            if not wants_look(lm):
                continue
            if self._mesh is None:
                self._mesh = still_mesh()
            self.openings[(int(frame.index), int(tid))] = still_aperture(self._mesh, frame.image,
                                                                         lm)

    def close(self) -> None:
        if self._mesh is not None:
            self._mesh.close()
            self._mesh = None
