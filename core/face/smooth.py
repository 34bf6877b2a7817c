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

from .landmarks import MOUTH_REGION, RIGID, eye_distance


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


def _one_euro(x: np.ndarray, rate: float, rigid: np.ndarray, mouth: np.ndarray,
              p: SmoothParams) -> np.ndarray:
    """Causal pass over x (n, K, 2) in face-size units."""
    n = x.shape[0]
    out = np.empty_like(x)
    out[0] = x[0]
    dx = np.zeros(x.shape[1:], dtype=x.dtype)
    a_d = _alpha(p.d_cutoff, rate)
    base_cut = np.full(x.shape[1], p.min_cutoff)
    base_cut[mouth] = p.mouth_min_cutoff
    beta = np.full(x.shape[1], p.beta)
    beta[mouth] = p.mouth_beta
    for t in range(1, n):
        raw_d = (x[t] - out[t - 1]) * rate
        dx = dx + a_d * (raw_d - dx)
        speed_pt = np.linalg.norm(dx, axis=1)
        head = float(np.median(speed_pt[rigid]))
        speed = np.full(x.shape[1], head)
        # Mouth points: their own motion relative to the head counts too.
        speed[mouth] = np.maximum(head, speed_pt[mouth])
        a = _alpha(base_cut + beta * speed, rate)[:, None]
        out[t] = out[t - 1] + a * (x[t] - out[t - 1])
    return out


def smooth_run(points: np.ndarray, rate: float, params: SmoothParams = SmoothParams(),
               scale: float | None = None) -> np.ndarray:
    """Smooth one continuous run of landmarks (n, K, 2) sampled at `rate` frames per second.

    `scale` is the face size in the points' units (default: median outer-eye distance, which
    needs the 478-point topology; pass it for other point sets)."""
    pts = np.asarray(points, dtype=np.float64)
    n, k = pts.shape[:2]
    if n < 2:
        return pts.astype(np.float32)
    if scale is None:
        scale = float(np.median([eye_distance(p) for p in pts])) if k >= 478 else 1.0
    scale = max(scale, 1e-6)
    if k >= 478:
        rigid = np.array(RIGID)
        mouth = np.array(MOUTH_REGION)
    else:
        rigid = np.arange(k)
        mouth = np.array([], dtype=int)
    x = pts / scale
    fwd = _one_euro(x, rate, rigid, mouth, params)
    bwd = _one_euro(x[::-1], rate, rigid, mouth, params)[::-1]
    return ((fwd + bwd) * 0.5 * scale).astype(np.float32)


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
