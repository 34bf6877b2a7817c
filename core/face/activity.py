"""Visual speaking activity: how much a face's mouth moves around each frame, from its landmarks.

    speaking_activity(apertures, fps) -> (n,) eye distances per frame, NaN where the face is absent

The lip aperture (`geometry.mouth_aperture`, in eye distances) of a talking mouth changes by a few
hundredths from frame to frame; a listening or still mouth by well under one hundredth (tracker
jitter). The mean absolute frame-to-frame change over a centred window of WINDOW_S seconds tells
the two apart without audio, which is what a dialogue shot's turn-taking needs: the original
picture says who talks when, and a dub keeps that turn-taking.
"""
from __future__ import annotations

import numpy as np

from .geometry import mouth_apertures

WINDOW_S = 0.4
# A mouth moving more than this (eye distances per frame, window mean) is talking. Measured on
# the development clips (bench/two_faces.py, talk_d and talk_f): talking 0.012-0.035 (dipping to
# 0.005 in the speaker's own pauses), the least-moving stretch of a talking clip played back and
# forth as a listener 0.005-0.009.
TALKING = 0.009


def speaking_activity(apertures: np.ndarray, fps: float, window_s: float = WINDOW_S) -> np.ndarray:
    """Mean |frame-to-frame aperture change| over a centred window; NaN where the face is absent
    for the whole window."""
    ap = np.asarray(apertures, float)
    n = len(ap)
    if n == 0:
        return np.zeros(0)
    motion = np.r_[np.nan, np.abs(np.diff(ap))] if n > 1 else np.full(1, np.nan)
    ok = np.isfinite(motion)
    half = max(1, int(round(window_s * float(fps) / 2)))
    csum = np.r_[0.0, np.cumsum(np.where(ok, motion, 0.0))]
    ccount = np.r_[0, np.cumsum(ok)]
    idx = np.arange(n)
    a, b = np.clip(idx - half, 0, n), np.clip(idx + half + 1, 0, n)
    count = ccount[b] - ccount[a]
    out = np.full(n, np.nan)
    has = count > 0
    out[has] = (csum[b] - csum[a])[has] / count[has]
    return out


def apertures_of(landmarks: list) -> np.ndarray:
    """Per-frame lip aperture of (478, 2) landmarks (NaN where the face is absent)."""
    n = len(landmarks)
    arr = np.full((n, 478, 2), np.nan)
    for i, lm in enumerate(landmarks):
        if lm is not None:
            arr[i] = np.asarray(lm, float)[:, :2]
    return mouth_apertures(arr) if n else np.zeros(0)


def activity_from_landmarks(landmarks: list, fps: float) -> np.ndarray:
    """`speaking_activity` of per-frame (478, 2) landmarks (None where the face is absent)."""
    return speaking_activity(apertures_of(landmarks), fps)


def at_rest(apertures: np.ndarray) -> np.ndarray:
    """(n,) bool: the lips are near their own closed end, as the yardstick counts rest: under a
    quarter of the way from the face's 5th to its 95th percentile aperture (absent: False)."""
    ap = np.asarray(apertures, float)
    ok = np.isfinite(ap)
    if ok.sum() < 2:
        return np.zeros(len(ap), bool)
    lo, hi = np.percentile(ap[ok], 5), np.percentile(ap[ok], 95)
    return ok & ((np.where(ok, ap, np.inf) - lo) < 0.25 * max(hi - lo, 1e-6))


def talking(activity: np.ndarray, threshold: float = TALKING) -> np.ndarray:
    """(n,) bool: the mouth is talking (absent frames are not)."""
    a = np.asarray(activity, float)
    return np.isfinite(a) & (a >= threshold)
