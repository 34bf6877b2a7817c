"""Face geometry on Face Mesh landmarks, each measure defined once, for analysis, render and QC.

The face's scale is the outer-eye-corner distance; the lips' opening (aperture) and spread (mouth
width) are measured in that unit, in float64 whatever the landmarks' dtype. `mouth_aperture` has
exactly the yardstick's definition (../shared/eval/lipeval.py), so a number measured here means
the same thing there. Index sets live in `lipflap.face.landmarks`.
"""
from __future__ import annotations

import numpy as np

from .landmarks import EYE_OUTER_CORNERS, INNER_LIP_PAIRS, MOUTH_CORNERS


def eye_distance(landmarks: np.ndarray) -> float:
    """Outer-eye-corner distance in the landmarks' units: the face's scale."""
    p = np.asarray(landmarks, dtype=np.float64)
    return float(np.linalg.norm(p[EYE_OUTER_CORNERS[0], :2] - p[EYE_OUTER_CORNERS[1], :2]))


def mouth_aperture(landmarks: np.ndarray) -> float:
    """Mean inner-lip gap of the pairs (82,87), (13,14), (312,317) over the outer-eye-corner
    distance: 0 for closed lips, about 0.3-0.5 for a wide open mouth. NaN for missing landmarks."""
    if landmarks is None:
        return float("nan")
    p = np.asarray(landmarks, dtype=np.float64)[:, :2]
    iod = np.linalg.norm(p[EYE_OUTER_CORNERS[0]] - p[EYE_OUTER_CORNERS[1]])
    if not np.isfinite(iod) or iod <= 1e-6:
        return float("nan")
    gaps = [np.linalg.norm(p[a] - p[b]) for a, b in INNER_LIP_PAIRS]
    return float(np.mean(gaps) / iod)


def mouth_apertures(landmarks: np.ndarray) -> np.ndarray:
    """`mouth_aperture` for an (n, 478, 2) array at once; NaN rows give NaN."""
    p = np.asarray(landmarks, dtype=np.float64)[..., :2]
    iod = np.linalg.norm(p[:, EYE_OUTER_CORNERS[0]] - p[:, EYE_OUTER_CORNERS[1]], axis=-1)
    up = np.array([a for a, _ in INNER_LIP_PAIRS])
    lo = np.array([b for _, b in INNER_LIP_PAIRS])
    gaps = np.linalg.norm(p[:, up] - p[:, lo], axis=-1).mean(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return gaps / iod


def mouth_width(landmarks: np.ndarray) -> float:
    """Mouth-corner distance over the outer-eye-corner distance."""
    p = np.asarray(landmarks, dtype=np.float64)[:, :2]
    iod = np.linalg.norm(p[EYE_OUTER_CORNERS[0]] - p[EYE_OUTER_CORNERS[1]])
    return float(np.linalg.norm(p[MOUTH_CORNERS[0]] - p[MOUTH_CORNERS[1]]) / max(iod, 1e-6))


def bbox(landmarks: np.ndarray) -> tuple[float, float, float, float]:
    """(x0, y0, x1, y1) of the landmarks."""
    p = np.asarray(landmarks)[:, :2]
    x0, y0 = p.min(axis=0)
    x1, y1 = p.max(axis=0)
    return float(x0), float(y0), float(x1), float(y1)
