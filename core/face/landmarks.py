"""MediaPipe Face Mesh landmark indices (478-point topology with refined irises) and mouth measures.

Index lists are the ones the rest of the engine (render, qc) and the yardstick
(../shared/eval/lipeval.py) agree on; `mouth_aperture` has exactly the yardstick's definition so a
number measured here means the same thing there.
"""
from __future__ import annotations

import numpy as np

N_LANDMARKS = 478

# Lips, listed corner to corner so each list is a polyline.
UPPER_INNER_LIP = [78, 191, 80, 81, 82, 13, 312, 311, 310, 415, 308]
LOWER_INNER_LIP = [78, 95, 88, 178, 87, 14, 317, 402, 318, 324, 308]
UPPER_OUTER_LIP = [61, 185, 40, 39, 37, 0, 267, 269, 270, 409, 291]
LOWER_OUTER_LIP = [61, 146, 91, 181, 84, 17, 314, 405, 321, 375, 291]
# Closed loops (no repeated corner).
INNER_LIPS = UPPER_INNER_LIP + LOWER_INNER_LIP[-2:0:-1]
OUTER_LIPS = UPPER_OUTER_LIP + LOWER_OUTER_LIP[-2:0:-1]
LIPS = sorted(set(INNER_LIPS) | set(OUTER_LIPS))

# Pairs (upper, lower) of inner-lip points whose gap is the aperture (yardstick definition).
INNER_LIP_PAIRS = [(82, 87), (13, 14), (312, 317)]
MOUTH_CORNERS = (61, 291)
EYE_OUTER_CORNERS = (33, 263)
EYE_INNER_CORNERS = (133, 362)
NOSE_TIP = 1
SUBNASALE = 2
FOREHEAD = 10
CHIN = 152
IRIS_CENTERS = (468, 473)

# Face outline, clockwise from the top of the forehead.
FACE_OVAL = [10, 338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288, 397, 365, 379, 378, 400,
             377, 152, 148, 176, 149, 150, 136, 172, 58, 132, 93, 234, 127, 162, 21, 54, 103, 67,
             109]
# Lower part of the outline (ear to ear under the chin): moves with the jaw.
JAW = [234, 93, 132, 58, 172, 136, 150, 149, 176, 148, 152, 377, 400, 378, 379, 365, 397, 288,
       361, 323, 454]
CHIN_CONTOUR = [136, 150, 149, 176, 148, 152, 377, 400, 378, 379, 365]
LEFT_EYE = [263, 249, 390, 373, 374, 380, 381, 382, 362, 398, 384, 385, 386, 387, 388, 466]
RIGHT_EYE = [33, 7, 163, 144, 145, 153, 154, 155, 133, 173, 157, 158, 159, 160, 161, 246]
NOSE = [168, 6, 197, 195, 5, 4, 1, 19, 94, 2, 98, 327, 64, 294, 48, 278, 115, 344, 220, 440]

# Points that move with the skull only (not with the jaw, lips or eyelids): used for the head's
# rigid motion, head pose and the tracking crop.
RIGID = [10, 151, 9, 8, 168, 6, 197, 195, 5, 4, 1, 2, 33, 133, 362, 263, 116, 345, 50, 280,
         234, 454, 127, 356, 21, 251, 54, 284, 103, 332]

# Points whose motion is speech: lips, the chin and the lower jaw outline. They are smoothed less
# so that fast closures (p/b/m within two frames) survive.
MOUTH_REGION = sorted(set(LIPS) | set(CHIN_CONTOUR) | {58, 172, 288, 397, 164, 18, 200, 199, 175,
                                                        57, 287, 43, 273, 204, 424, 211, 431})


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
