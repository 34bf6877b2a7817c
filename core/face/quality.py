"""Per-frame quality of one face track: flags and a confidence.

Everything is judged against the track itself where absolute numbers would depend on the camera
(sharpness, the look of the skin around the mouth), and in absolute terms where they do not (pose
angles, face size in pixels).
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from .track import PATCH_H, PATCH_W

PROFILE_YAW = 50.0        # degrees: beyond this one side of the mouth is hidden
PROFILE_PITCH = 40.0
SMALL_FACE_PX = 90.0      # face height below which the lower face has too few pixels to rebuild
BLUR_RATIO = 0.35         # sharpness below this fraction of the track's typical sharpness
OCCLUSION_Z = 6.0         # robust z-score of the mouth-area appearance change
OCCLUSION_MIN = 10.0      # and at least this mean Lab difference (a skin-coloured hand over the
                          # mouth gives ~13; unoccluded speech in talk_a/b/c peaks at 9.9)
LOW_CONFIDENCE = 0.5
REF_PATCHES = 2000        # patches the track's reference appearance is the median of


@dataclass
class FrameQuality:
    confidence: float
    flags: list[str]
    occlusion: float      # robust z of the mouth-area appearance
    sharp_ratio: float


def _ring_mask() -> np.ndarray:
    # Skin and lips around the mouth, without the mouth opening itself (which changes with
    # speech): outside an ellipse at the mouth's centre.
    yy, xx = np.mgrid[0:PATCH_H, 0:PATCH_W].astype(np.float32)
    cx, cy = 0.5 * PATCH_W, 0.5 * PATCH_H
    ax, ay = 0.22 * PATCH_W, 0.22 * PATCH_H
    return ((xx - cx) / ax) ** 2 + ((yy - cy) / ay) ** 2 > 1.0


_MASK = _ring_mask()


def occlusion_scores(patches: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(robust z, mean Lab difference) per patch against the track's median patch."""
    n = len(patches)
    if n == 0:
        return np.zeros(0), np.zeros(0)
    # 8-bit Lab, in chunks: float (or even Lab) copies of a 10-minute track's patches at once
    # cost ~30 kB a frame of peak memory. The reference is the median of at most REF_PATCHES
    # patches spread over the track (all of them in a shot of up to ~80 s at 25 fps).
    # A shot of up to REF_PATCHES frames is converted once, for the reference and the differences
    # alike (the second conversion was 0.045 s of CPU on the analysis' serial end, bench shot).
    pick = np.arange(n) if n <= REF_PATCHES else \
        np.round(np.linspace(0, n - 1, REF_PATCHES)).astype(int)
    picked = np.stack([cv2.cvtColor(patches[i], cv2.COLOR_RGB2LAB) for i in pick])
    ref = np.median(picked, axis=0).astype(np.float32)
    diff = np.empty(n, np.float32)
    for a in range(0, n, 512):
        lab = picked[a:a + 512] if n <= REF_PATCHES else \
            np.stack([cv2.cvtColor(p, cv2.COLOR_RGB2LAB) for p in patches[a:a + 512]])
        diff[a:a + 512] = np.abs(lab.astype(np.float32) - ref)[:, _MASK].mean(axis=(1, 2))
    del picked
    if n < 8:
        return np.zeros(n), diff
    med = np.median(diff)
    mad = 1.4826 * np.median(np.abs(diff - med)) + 1.0
    return (diff - med) / mad, diff


def assess(heights: np.ndarray, poses: list, sharpness: np.ndarray, patches: np.ndarray | None,
           residual: np.ndarray, occlusion: tuple[np.ndarray, np.ndarray] | None = None
           ) -> list[FrameQuality]:
    """Quality of each observed frame of one track (all arrays aligned, one entry per frame).

    heights: face height in px; poses: (yaw, pitch, roll) or None; sharpness: Laplacian variance
    at crop scale; patches: mouth patches, or None with `occlusion` already scored from them
    (occlusion_scores), so a long track's patches need not be held beside its landmarks;
    residual: mean |raw - smoothed| over the eye distance.
    """
    n = len(heights)
    occ_z, occ_d = occlusion if occlusion is not None else occlusion_scores(patches)
    typical = float(np.percentile(sharpness, 75)) if n else 1.0
    out = []
    for i in range(n):
        flags = []
        yaw, pitch, _ = poses[i] if poses[i] is not None else (0.0, 0.0, 0.0)
        if abs(yaw) > PROFILE_YAW or abs(pitch) > PROFILE_PITCH:
            flags.append("profile")
        if occ_z[i] > OCCLUSION_Z and occ_d[i] > OCCLUSION_MIN:
            flags.append("occluded")
        ratio = sharpness[i] / max(typical, 1e-6)
        if ratio < BLUR_RATIO:
            flags.append("blur")
        if heights[i] < SMALL_FACE_PX:
            flags.append("small")
        c_pose = np.clip(1 - max(0.0, abs(yaw) - 25) / 40, 0, 1) * \
            np.clip(1 - max(0.0, abs(pitch) - 20) / 30, 0, 1)
        c_size = np.clip((heights[i] - 40) / 60, 0, 1)
        c_blur = np.clip(ratio / 0.6, 0, 1)
        c_occ = np.clip(1 - (occ_z[i] - 3) / 6, 0, 1) if occ_d[i] > OCCLUSION_MIN else 1.0
        c_stab = np.clip(1 - (residual[i] - 0.01) / 0.04, 0, 1)
        conf = float(c_pose * c_size * c_blur * c_occ * c_stab)
        if conf < LOW_CONFIDENCE:
            flags.append("low_confidence")
        out.append(FrameQuality(conf, flags, float(occ_z[i]), float(ratio)))
    return out
