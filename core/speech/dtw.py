"""Banded dynamic time warping between two feature sequences, vectorised per row.

Each reference frame (row) is matched to exactly one target frame; from one row to the next the
target advances by 0, 1 or 2 frames.  That makes every row depend only on the previous one (numpy
does a row at a time), weights every reference frame once (the path cost is a plain mean per
reference frame, comparable between clips), and allows the target to run up to twice as fast or
arbitrarily slower locally.  Callers match the global speaking rate first so the band can be narrow.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class DtwPath:
    target: np.ndarray   # target frame index for each reference frame (non-decreasing)
    cost: np.ndarray     # local cost along the path, one per reference frame


def dtw_rows(ref: np.ndarray, tgt: np.ndarray, band: int, *, step_penalty: float = 0.0,
             centre: np.ndarray | None = None, open_cost: float | None = None,
             skip_cost: float | None = None) -> DtwPath:
    """Align ref (n, d) to tgt (m, d); path starts at tgt frame 0 and ends at m - 1.

    band: half-width in target frames around `centre` (default: the straight diagonal).
    step_penalty: added for advancing 0 or 2 frames, so that ties prefer the steady diagonal.
    open_cost: when given, the ends are open: leading/trailing reference rows may stay outside the
    target (target -1 before it, m after it, each such row costing open_cost) and leading/trailing
    target frames may be skipped (skip_cost per frame, default open_cost; a row advancing two
    frames absorbs them at about half a row's cost, so half of open_cost is the fair price).
    That is a script with words the audio does not have at its ends, or audio with speech the
    script does not have.
    """
    n, m = len(ref), len(tgt)
    if n == 0 or m == 0:
        raise ValueError("dtw_rows needs two non-empty sequences")
    lo, hi = _band(n, m, band, centre, open_cost is not None)
    ends = None if open_cost is None else _OpenEnds(n, m, open_cost, skip_cost)
    prev, back = _forward(_RowCosts(ref, tgt, lo, hi), lo, hi, m, step_penalty, ends)
    path = _trace_back(prev, back, lo, n, m, ends)
    # Local costs along the route, recomputed (cheaper than keeping every row's band); rows
    # outside the target cost open_cost.
    inside = (path >= 0) & (path < m)
    cost = np.full(n, float(open_cost) if ends is not None else 0.0)
    diff = ref[inside].astype(np.float64) - tgt[path[inside]].astype(np.float64)
    cost[inside] = np.sqrt((diff ** 2).sum(axis=1))
    return DtwPath(path, cost)


def _band(n: int, m: int, band: int, centre: np.ndarray | None,
          opened: bool) -> tuple[np.ndarray, np.ndarray]:
    """Per row, the target frames [lo, hi) the path may visit."""
    if centre is None:
        centre = np.arange(n) * ((m - 1) / max(n - 1, 1))
    # The band must at least contain a feasible path: at row i the target is at most 2i.
    lo = np.clip(np.floor(centre - band).astype(np.int64), 0, m - 1)
    hi = np.clip(np.ceil(centre + band).astype(np.int64) + 1, 1, m)
    if opened:
        lo[0] = 0
    else:
        lo[0], hi[0] = 0, 1
        lo = np.minimum(lo, np.minimum(2 * np.arange(n), m - 1))
        hi[-1] = m
    # Rows need overlapping reach: keep lo non-decreasing and hi non-decreasing.
    return np.maximum.accumulate(lo), np.maximum.accumulate(hi)


class _OpenEnds:
    """The prices and the running state of open ends: rows outside the target, frames skipped."""

    def __init__(self, n: int, m: int, open_cost: float, skip_cost: float | None):
        self.open_cost = open_cost
        per_frame = float(open_cost if skip_cost is None else skip_cost)
        self.skip = per_frame * np.arange(m)                  # cost of skipping the first j frames
        self.skip_end = per_frame * (m - 1 - np.arange(m))
        self.after = np.inf
        self.after_from = np.full(n, -1, np.int64)      # -1: was already after; else the cell


class _RowCosts:
    """Local (Euclidean) costs of one row's band: one matrix product for small problems, else
    blocks of 64 rows over their joint band (BLAS beats per-row work)."""

    def __init__(self, ref: np.ndarray, tgt: np.ndarray, lo: np.ndarray, hi: np.ndarray):
        self.ref, self.tgt, self.lo, self.hi = ref, tgt, lo, hi
        n, m = len(ref), len(tgt)
        self.full = None
        if n * m <= 6_000_000:
            r64 = ref.astype(np.float32)
            t64 = tgt.astype(np.float32)
            d2 = (r64 ** 2).sum(1)[:, None] + (t64 ** 2).sum(1)[None, :] - 2.0 * (r64 @ t64.T)
            self.full = np.sqrt(np.maximum(d2, 0.0))
        else:
            self.tgt_sq = (tgt.astype(np.float64) ** 2).sum(axis=1)
        self.blk_start = self.blk_end = self.ba = 0
        self.blk = None

    def row(self, i: int) -> np.ndarray:
        a, b = self.lo[i], self.hi[i]
        if self.full is not None:
            return self.full[i, a:b].astype(np.float64)
        if i >= self.blk_end:
            self.blk_start, self.blk_end = i, min(len(self.ref), i + 64)
            self.ba, bb = self.lo[self.blk_start], self.hi[self.blk_end - 1]
            r = self.ref[self.blk_start:self.blk_end].astype(np.float64)
            d2 = (self.tgt_sq[None, self.ba:bb] + (r ** 2).sum(1)[:, None]
                  - 2.0 * (r @ self.tgt[self.ba:bb].astype(np.float64).T))
            self.blk = np.sqrt(np.maximum(d2, 0.0))
        return self.blk[i - self.blk_start, a - self.ba:b - self.ba]


def _forward(costs: _RowCosts, lo: np.ndarray, hi: np.ndarray, m: int, step_penalty: float,
             ends: _OpenEnds | None) -> tuple[np.ndarray, list[np.ndarray]]:
    """Accumulated costs of the last row (prev[j + 2] at target j) and each row's choices."""
    inf = np.inf
    prev = np.full(m + 2, inf)   # prev[j + 2] holds row i-1 at target j (2 guard cells)
    cur = np.full(m + 2, inf)
    back: list[np.ndarray] = []   # int8 choices per row (the band only): n * band bytes
    for i in range(len(lo)):
        a, b = lo[i], hi[i]
        c = costs.row(i)
        if i == 0:
            if ends is not None:
                cur[2 + a:2 + b] = c + ends.skip[a:b]
                back.append(np.full(b - a, 3, np.int8))
            else:
                cur[2 + a:2 + b] = np.where(np.arange(a, b) == 0, c, inf)
                back.append(np.zeros(b - a, np.int8))
        else:
            best = prev[1 + a:1 + b].copy()
            k = np.ones(b - a, np.int8)
            stay = prev[2 + a:2 + b] + step_penalty
            sel = stay < best
            best[sel] = stay[sel]
            k[sel] = 0
            two = prev[a:b] + step_penalty
            sel = two < best
            best[sel] = two[sel]
            k[sel] = 2
            if ends is not None:
                _open_step(ends, prev, best, k, i, a, b, lo[i - 1], hi[i - 1])
            cur[2 + a:2 + b] = best + c
            back.append(k)
        # Clear the old row's band so the buffer can serve as the next row (inf outside bands).
        if i > 0:
            prev[2 + lo[i - 1]:2 + hi[i - 1]] = inf
        prev, cur = cur, prev
    return prev, back


def _open_step(ends: _OpenEnds, prev, best, k, i: int, a: int, b: int, pa: int, pb: int) -> None:
    """Row i with open ends: entering here from outside, and leaving after the previous row."""
    # Enter here after i rows outside before the target and j frames skipped.
    enter = i * ends.open_cost + ends.skip[a:b]
    sel = enter < best
    best[sel] = enter[sel]
    k[sel] = 3
    # Leave: rows from i on stay after the target, the frames after j skipped.
    leave = prev[2 + pa:2 + pb] + ends.skip_end[pa:pb]
    jl = int(np.argmin(leave))
    if leave[jl] < ends.after:
        ends.after = leave[jl]
        ends.after_from[i] = pa + jl
    ends.after += ends.open_cost


def _trace_back(prev: np.ndarray, back: list[np.ndarray], lo: np.ndarray, n: int, m: int,
                ends: _OpenEnds | None) -> np.ndarray:
    """The target frame of each reference row (-1 before the target, m after it)."""
    path = np.empty(n, np.int64)
    i = n - 1
    if ends is not None:
        final = prev[2:] + ends.skip_end
        j = int(np.argmin(final))
        if ends.after < final[j]:
            # Trailing rows lie after the target: walk back to the row that left it.
            while i >= 0 and ends.after_from[i] < 0:
                path[i] = m
                i -= 1
            if i >= 0:
                path[i] = m
                j = int(ends.after_from[i])
                i -= 1
    else:
        # Trace back from the last target frame.
        j = m - 1
        if not np.isfinite(prev[2 + j]):
            j = int(np.argmin(prev[2:])) if np.isfinite(prev[2:]).any() else m - 1
    while i >= 0:
        path[i] = j
        step = int(back[i][j - lo[i]])
        if step == 3:
            path[:i] = -1     # the rows before entered from outside (at row 0: just started)
            break
        j = max(j - step, 0)
        i -= 1
    return path


def pool(feat: np.ndarray, factor: int) -> np.ndarray:
    """Mean of each block of `factor` frames (the last block may be shorter)."""
    n = len(feat)
    m = (n + factor - 1) // factor
    pad = np.pad(feat, ((0, m * factor - n), (0, 0)), mode="edge")
    return pad.reshape(m, factor, -1).mean(axis=1)


def coarse_band(n_coarse: int, frac: float = 0.15, minimum: int = 40, maximum: int = 750) -> int:
    """Half-band for the coarse pass: a share of the length, capped (750 blocks of 40 ms is 30 s of
    drift from the rate-matched diagonal) so that long clips cost linear time."""
    return int(min(max(minimum, frac * n_coarse), maximum))


def refine(ref: np.ndarray, tgt: np.ndarray, coarse: DtwPath, factor: int, *,
           fine_band: int = 24, step_penalty: float = 0.0) -> DtwPath:
    """Frame-accurate warp in a narrow band around a warp of `factor`-pooled features.  Cost grows
    linearly with length instead of quadratically."""
    rows = np.arange(len(coarse.target)) * factor + (factor - 1) / 2
    centre = np.interp(np.arange(len(ref)), rows, coarse.target * factor + (factor - 1) / 2)
    return dtw_rows(ref, tgt, fine_band, step_penalty=step_penalty, centre=centre)
