"""Temporal smoothing of landmark tracks: an adaptive (One-Euro) low-pass run forward and backward.

Analysis is offline, so the filter runs both ways over each continuous run of a face and the two
passes are averaged: the forward pass lags a move by as much as the backward pass leads it, so the
average has no lag on steady motion while jitter on a still head is filtered twice.

One-Euro (Casiez et al. 2012): cutoff = min_cutoff + beta * speed. Coordinates are divided by the
face's size first, so the parameters mean the same at 480p and 4K. Speed for the rigid points is
the median speed of the skull points (one robust value for the whole head, so the face is never
bent by per-point noise); mouth points add their own speed and use a higher min_cutoff, so a lip
closure that takes two frames is kept.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .geometry import eye_distance
from .landmarks import MOUTH_REGION, RIGID


@dataclass(frozen=True)
class SmoothParams:
    min_cutoff: float = 0.8      # Hz, rigid points at rest
    beta: float = 6.0            # Hz per (face size per second)
    mouth_min_cutoff: float = 3.0
    mouth_beta: float = 12.0
    d_cutoff: float = 2.0        # Hz, for the speed estimate


def _alpha(cutoff, rate: float):
    tau = 1.0 / (2.0 * math.pi * cutoff)
    return 1.0 / (1.0 + tau * rate)


class _OneEuro:
    """The filter's state for one pass over a run, fed a frame at a time (K, 2) in face-size units.

    Stepping frame by frame keeps the smoother's memory at one frame's points whatever the run's
    length: a 10-minute run at 25 fps is 15000 x 478 x 2 values, and whole-array passes in float64
    (input copy, scaled copy, forward, backward, sum) cost ~38 kB a frame, over half a GB."""

    def __init__(self, rate: float, rigid: np.ndarray, mouth: np.ndarray, k: int, p: SmoothParams):
        self.rate = rate
        self.rigid = rigid
        self.mouth = mouth
        self.a_d = _alpha(p.d_cutoff, rate)
        self.base_cut = np.full(k, p.min_cutoff)
        self.base_cut[mouth] = p.mouth_min_cutoff
        self.beta = np.full(k, p.beta)
        self.beta[mouth] = p.mouth_beta
        self.out = None
        self.dx = np.zeros((k, 2))

    def step(self, x: np.ndarray) -> np.ndarray:
        if self.out is None:
            self.out = x.copy()
            return self.out
        raw_d = (x - self.out) * self.rate
        self.dx = self.dx + self.a_d * (raw_d - self.dx)
        speed_pt = np.linalg.norm(self.dx, axis=1)
        head = float(np.median(speed_pt[self.rigid]))
        speed = np.full(len(speed_pt), head)
        # Mouth points: their own motion relative to the head counts too.
        speed[self.mouth] = np.maximum(head, speed_pt[self.mouth])
        a = _alpha(self.base_cut + self.beta * speed, self.rate)[:, None]
        self.out = self.out + a * (x - self.out)
        return self.out


def smooth_run(points: np.ndarray, rate: float, params: SmoothParams = SmoothParams(),
               scale: float | None = None, out: np.ndarray | None = None) -> np.ndarray:
    """Smooth one continuous run of landmarks (n, K, 2) sampled at `rate` frames per second.

    `scale` is the face size in the points' units (default: median outer-eye distance, which
    needs the 478-point topology; pass it for other point sets). Returns a float32 array (`out`
    when given, which may not overlap `points`); besides it only one frame's filter state is held."""
    pts = np.asarray(points)
    n, k = pts.shape[:2]
    if out is None:
        out = np.empty((n, k, 2), np.float32)
    if n < 2:
        out[:] = pts
        return out
    if scale is None:
        scale = float(np.median([eye_distance(p) for p in pts])) if k >= 478 else 1.0
    scale = max(scale, 1e-6)
    if k >= 478:
        rigid = np.array(RIGID)
        mouth = np.array(MOUTH_REGION)
    else:
        rigid = np.arange(k)
        mouth = np.array([], dtype=int)
    fwd = _OneEuro(rate, rigid, mouth, k, params)
    for t in range(n):
        out[t] = fwd.step(pts[t].astype(np.float64) / scale)
    # The backward pass is averaged in as it goes, so the forward result is the only array kept.
    bwd = _OneEuro(rate, rigid, mouth, k, params)
    for t in range(n - 1, -1, -1):
        b = bwd.step(pts[t].astype(np.float64) / scale)
        out[t] = (out[t].astype(np.float64) + b) * 0.5 * scale
    return out


def runs(present: np.ndarray, breaks: set[int] | None = None) -> list[tuple[int, int]]:
    """Continuous [start, end) runs of True in `present`, also split before each index in breaks."""
    out = []
    start = None
    breaks = breaks or set()
    for i, ok in enumerate(present):
        if ok and start is not None and i in breaks:
            out.append((start, i))
            start = None
        if ok and start is None:
            start = i
        elif not ok and start is not None:
            out.append((start, i))
            start = None
    if start is not None:
        out.append((start, len(present)))
    return out
