"""An exemplar's mouth opening as a still image shows it.

The shot's landmarks come from Face Mesh in tracking mode, which can lag a mouth that opens
after a closure: talk_g frames 57-58 track at a gap of 0.028-0.036 eye distances where each
frame seen on its own reads 0.079-0.098 (the yardstick's re-track of a render built from them
read 0.06-0.11 where 0.02-0.035 was asked). The warp moves the exemplar's landmarks to the
target, so the rendered opening is off by as much as the exemplar's landmarks were: each library
frame is looked at once more on its own, and the exemplar choice uses that opening.
"""
from __future__ import annotations

import numpy as np

from ..face.geometry import mouth_aperture
from ..face.mesh import CROP_SIZE, CropMesh, cut_crop, make_crop


def still_aperture(mesh: CropMesh, frame, landmarks: np.ndarray) -> float:
    """Inner-lip gap / eye distance of `frame` (RGB array, or a media Frame of which only the
    face's box is converted) tracked on its own around its shot `landmarks`; NaN when Face Mesh
    finds no face there."""
    lm = np.asarray(landmarks, np.float64)[:, :2]
    (x0, y0), (x1, y1) = lm.min(0), lm.max(0)
    crop = make_crop(((x0 + x1) / 2, (y0 + y1) / 2), max(x1 - x0, y1 - y0), CROP_SIZE)
    wid, hgt = (frame.size if hasattr(frame, "region") else (frame.shape[1], frame.shape[0]))
    bx0, by0 = max(0, int(np.floor(crop.x0))), max(0, int(np.floor(crop.y0)))
    bx1 = min(wid, int(np.ceil(crop.x0 + crop.side)) + 1)
    by1 = min(hgt, int(np.ceil(crop.y0 + crop.side)) + 1)
    if bx1 <= bx0 or by1 <= by0:
        return float("nan")
    box = frame.region(bx0, by0, bx1 - bx0, by1 - by0) if hasattr(frame, "region") \
        else frame[by0:by1, bx0:bx1]
    local = type(crop)(crop.x0 - bx0, crop.y0 - by0, crop.side, crop.size)
    found = mesh.process(cut_crop(np.asarray(box)[:, :, :3], local), local)
    return float("nan") if found is None else mouth_aperture(found[:, :2])
