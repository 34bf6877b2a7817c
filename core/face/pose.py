"""Head pose (yaw, pitch, roll in degrees) from Face Mesh's 3-D landmarks.

Face Mesh gives every landmark a depth (z, same scale as x, smaller is nearer the camera), so the
head's axes can be read straight off rigid points: left-right from the outer eye corners, up-down
from the forehead to the base of the nose. No external 3-D face model is needed (the MediaPipe
wheel we use ships none), and no camera intrinsics are assumed.

Conventions (image x right, y down): yaw > 0 when the face turns toward image right, pitch > 0
when the face tilts up (chin forward), roll > 0 when the head tilts clockwise in the image.
A frontal face gives about (0, 0, 0).
"""
from __future__ import annotations

import math

import numpy as np

from .landmarks import EYE_OUTER_CORNERS, FOREHEAD, SUBNASALE

# Offset for the forehead-to-nose-base line's lean; measured on skimage's astronaut (a frontal,
# level portrait), which reads pitch 0 +- 1 degree without correction.
_PITCH_OFFSET_DEG = 0.0


def head_axes(lm3: np.ndarray) -> np.ndarray | None:
    """3x3 rotation whose columns are the face's right, down and backward axes in camera space."""
    p = np.asarray(lm3, dtype=np.float64)
    if p.shape[1] < 3:
        return None
    r = p[EYE_OUTER_CORNERS[1]] - p[EYE_OUTER_CORNERS[0]]
    d = p[SUBNASALE] - p[FOREHEAD]
    nr = np.linalg.norm(r)
    if nr < 1e-6:
        return None
    ex = r / nr
    d = d - np.dot(d, ex) * ex
    nd = np.linalg.norm(d)
    if nd < 1e-6:
        return None
    ey = d / nd
    ez = np.cross(ex, ey)
    return np.stack([ex, ey, ez], axis=1)


def head_pose(lm3: np.ndarray) -> tuple[float, float, float] | None:
    """(yaw, pitch, roll) in degrees from (478, 3) landmarks in pixels (z scaled like x)."""
    R = head_axes(lm3)
    if R is None:
        return None
    ex, ez = R[:, 0], R[:, 2]
    f = -ez  # the way the face looks (toward the camera for a frontal face)
    yaw = math.degrees(math.atan2(f[0], -f[2]))
    pitch = math.degrees(math.atan2(-f[1], math.hypot(f[0], f[2]))) - _PITCH_OFFSET_DEG
    roll = math.degrees(math.atan2(ex[1], ex[0]))
    return yaw, pitch, roll
