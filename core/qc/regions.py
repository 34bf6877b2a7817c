"""Where QC looks in a frame, from MediaPipe Face Mesh's 478 landmarks.

Two regions, both computed from the SOURCE frame's landmarks so that output and source are cut
the same way (an identical output then measures exactly 1.0 / 99 dB):
- the lower face (jaw line from cheek to cheek, closed over the nose tip), dilated by a third of
  the eye distance: everything outside it must be untouched by a render (docs/output.md);
- the mouth box: the outer lip contour's bounding box with a margin, where sharpness and temporal
  roughness are measured.
"""
from __future__ import annotations

import cv2
import numpy as np

from ..face.geometry import eye_distance
from ..face.landmarks import EYE_OUTER_CORNERS as EYE_OUTER

# Jaw line from the left cheek (234) round the chin (152) to the right cheek (454), plus the nose
# tip (1) so the hull reaches up to the nose: the area a lower-face render may change.
LOWER_FACE = (234, 93, 132, 58, 172, 136, 150, 149, 176, 148, 152, 377, 400, 378, 379, 365, 397,
              288, 361, 323, 454, 1)
# Outer lip contour: corners, philtrum, lower-lip bottom and the points between.
MOUTH_OUTER = (61, 185, 40, 39, 37, 0, 267, 269, 270, 409, 291, 375, 321, 405, 314, 17, 84, 181,
               91, 146)

# The dilation that turns the lower-face hull into "the region a render may touch", in eye
# distances: the renderer feathers its mask beyond the jaw line, so a little margin is fair.
DILATE_IOD = 0.35
# Margin around the lips for the mouth box, in mouth widths.
MOUTH_MARGIN = 0.25


def valid(landmarks) -> bool:
    """True for a usable (478, 2)-like array with finite coordinates at the points QC uses."""
    if landmarks is None:
        return False
    p = np.asarray(landmarks)
    if p.ndim != 2 or p.shape[0] < 468 or p.shape[1] < 2:
        return False
    idx = list(LOWER_FACE) + list(MOUTH_OUTER) + list(EYE_OUTER)
    return bool(np.isfinite(p[idx, :2]).all())


def outside_lower_face(landmarks, shape: tuple[int, int]) -> np.ndarray:
    """Boolean (H, W) mask of the pixels a lower-face render must leave alone."""
    h, w = shape[:2]
    if not valid(landmarks):
        return np.ones((h, w), bool)
    p = np.asarray(landmarks, np.float64)[:, :2]
    mask = np.zeros((h, w), np.uint8)
    hull = cv2.convexHull(np.round(p[list(LOWER_FACE)]).astype(np.int32))
    cv2.fillConvexPoly(mask, hull, 1)
    k = max(3, int(eye_distance(p) * DILATE_IOD) | 1)
    mask = cv2.dilate(mask, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k)))
    return mask == 0


def lower_face_skin(landmarks, shape: tuple[int, int]) -> np.ndarray:
    """Boolean (H, W) mask of the lower face's skin: inside the jaw-line hull, outside the lips
    (the outer lip contour dilated by a tenth of the eye distance). A render reshapes the skin
    here, but must not change its colour."""
    h, w = shape[:2]
    p = np.asarray(landmarks, np.float64)[:, :2]
    face = np.zeros((h, w), np.uint8)
    cv2.fillConvexPoly(face, cv2.convexHull(np.round(p[list(LOWER_FACE)]).astype(np.int32)), 1)
    lips = np.zeros((h, w), np.uint8)
    cv2.fillPoly(lips, [np.round(p[list(MOUTH_OUTER)]).astype(np.int32)], 1)
    k = max(3, int(eye_distance(p) * 0.1) | 1)
    lips = cv2.dilate(lips, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k)))
    return (face == 1) & (lips == 0)


def lower_face_box(landmarks, shape: tuple[int, int], margin: float = 0.1) -> tuple[int, int, int, int]:
    """(x0, y0, x1, y1) around the lower face, for crops in the contact sheet."""
    p = np.asarray(landmarks, np.float64)[list(LOWER_FACE), :2]
    x0, y0 = p.min(0)
    x1, y1 = p.max(0)
    pad = margin * (x1 - x0)
    return _clip_box(x0 - pad, y0 - pad, x1 + pad, y1 + pad, shape)


def mouth_box_size(landmarks) -> tuple[int, int]:
    """(width, height) of the mouth box for this face: fixed for a clip once chosen, so that
    frame differences compare like with like."""
    p = np.asarray(landmarks, np.float64)[list(MOUTH_OUTER), :2]
    mw = float(p[:, 0].max() - p[:, 0].min())
    # Height from the mouth width, not the current opening, so an open and a closed first frame
    # give the same box; 0.8 width covers a wide-open mouth with margin.
    w = int(round(mw * (1 + 2 * MOUTH_MARGIN)))
    h = int(round(mw * 0.8 * (1 + 2 * MOUTH_MARGIN)))
    return max(w, 8), max(h, 8)


def mouth_box(landmarks, size: tuple[int, int], shape: tuple[int, int]) -> tuple[int, int, int, int] | None:
    """A box of `size` centred on this frame's lips, inside the frame; None if it cannot fit."""
    p = np.asarray(landmarks, np.float64)[list(MOUTH_OUTER), :2]
    cx, cy = (p.min(0) + p.max(0)) / 2
    w, h = size
    H, W = shape[:2]
    if w > W or h > H:
        return None
    x0 = int(round(cx - w / 2))
    y0 = int(round(cy - h / 2))
    x0 = min(max(x0, 0), W - w)
    y0 = min(max(y0, 0), H - h)
    return x0, y0, x0 + w, y0 + h


def clip_mouth_box(landmarks_seq, shape: tuple[int, int]) -> tuple[int, int, int, int] | None:
    """One box holding the lips in every frame (the union of the per-frame mouth boxes): the
    roughness crops, fixed for the clip so a held or swapped mouth shows as it does to the eye
    (a box that followed the landmarks would add their jitter to both streams and hide it)."""
    boxes = []
    for p in landmarks_seq:
        if valid(p):
            boxes.append(mouth_box(p, mouth_box_size(p), shape))
    boxes = [b for b in boxes if b is not None]
    if not boxes:
        return None
    b = np.array(boxes)
    return int(b[:, 0].min()), int(b[:, 1].min()), int(b[:, 2].max()), int(b[:, 3].max())


def _clip_box(x0, y0, x1, y1, shape) -> tuple[int, int, int, int]:
    H, W = shape[:2]
    x0, y0 = max(0, int(np.floor(x0))), max(0, int(np.floor(y0)))
    x1, y1 = min(W, int(np.ceil(x1))), min(H, int(np.ceil(y1)))
    return x0, y0, max(x1, x0 + 1), max(y1, y0 + 1)
