"""Bilabial closure: p, b, m seal the lips on frames inside the phone, for at least 1-2 frames.

A blend never quite reaches zero, and at 23.976 or 25 fps a 30 ms /p/ may fall between two frame
instants, so closure is enforced on frames: every frame whose instant lies inside the phone, and
when there are fewer than needed (1, or 2 for a phone of a frame or longer), the frame just
before the phone (the lips close before the release, which is what sounds), and one after it only
when none before is within a frame.
"""
from __future__ import annotations

import numpy as np

CLOSED_JAW = 0.12


def closure_frames(segs: list, times: np.ndarray, fps: float) -> np.ndarray:
    """Boolean mask of frames that must show sealed lips."""
    times = np.asarray(times, float)
    mask = np.zeros(len(times), bool)
    if not len(times):
        return mask
    period = 1.0 / float(fps)
    for s in segs:
        if not s.closure:
            continue
        # frame instants inside [start, end)
        a = int(np.searchsorted(times, s.start - 1e-9, side="left"))
        b = int(np.searchsorted(times, s.end - 1e-9, side="left"))
        chosen = list(range(a, b))
        need = 2 if s.duration >= period else 1
        if len(chosen) < need:
            # Frames just before the phone first, however near the one after it is: a seal
            # shown after its sound reads as late (the lips close ahead of the release, and
            # viewers forgive a picture that leads far more than one that lags); after the
            # phone only where nothing before it is within reach.
            lo, hi = a - 1, b
            while len(chosen) < need and lo >= 0 and times[lo] > s.start - period:
                chosen.insert(0, lo)
                lo -= 1
            while len(chosen) < need and hi < len(times):
                chosen.append(hi)
                hi += 1
        chosen = [c for c in chosen if 0 <= c < len(times)]
        # never reach further than a frame from the phone: a closure far off the sound is worse
        # than a short one
        chosen = [c for c in chosen if times[c] > s.start - period and times[c] < s.end + period]
        mask[chosen] = True
    return mask


def apply_closure(params: np.ndarray, mask: np.ndarray) -> np.ndarray:
    out = params.copy()
    out[mask, 0] = 0.0
    out[mask, 3] = np.minimum(out[mask, 3], CLOSED_JAW)
    return out


def closure_frames_from_curve(closure: np.ndarray, aperture: np.ndarray, speech_mask: np.ndarray,
                              *, threshold: float = 0.5) -> np.ndarray:
    """Audio-only path: one sealed frame (the most confident) per run of frames whose closure
    probability passes `threshold` inside speech, two when the run is three frames or longer."""
    c = np.asarray(closure, float)
    hot = (c >= threshold) & np.asarray(speech_mask, bool)
    mask = np.zeros(len(c), bool)
    i = 0
    while i < len(c):
        if not hot[i]:
            i += 1
            continue
        j = i
        while j < len(c) and hot[j]:
            j += 1
        run = np.arange(i, j)
        order = run[np.argsort(-c[run] + 1e-3 * aperture[run], kind="stable")]
        k = 2 if len(run) >= 3 else 1
        mask[np.sort(order[:k])] = True
        i = j
    return mask
