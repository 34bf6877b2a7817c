"""The tracker's unsmoothed lip contours, from which each exemplar's lip_shift is read
(render.synth.retrack_shift): for the shot's own frames (pipeline.library, pipeline.voices) and
for an actor library's borrowed ones (pipeline.actor_library)."""
from __future__ import annotations

import numpy as np

from ..qc.shape import from_range_points, range_points
from ..render import geometry as g

ORDER = list(g.LIPS_OUTER) + list(g.LIPS_INNER)


def raw_lip_contours(raw_points: list | None) -> list | None:
    """Per frame the unsmoothed lip contours ((40, 2): render.geometry's LIPS_OUTER then
    LIPS_INNER) from the analysis' range points (qc.shape.range_points; None stays None)."""
    if raw_points is None:
        return None
    out = []
    for pts in raw_points:
        if pts is None:
            out.append(None)
            continue
        lips = from_range_points(pts)[ORDER]
        out.append(lips if np.isfinite(lips).all() else None)
    return out


def frames_raw_lips(frames) -> list:
    """Per analysed frame (lipflap.face.result.FrameFace) its unsmoothed lip contours, as
    raw_lip_contours gives them; None where the frame is unusable or kept none."""
    return raw_lip_contours([range_points(ff.raw_landmarks) if ff.usable else None
                             for ff in frames])
