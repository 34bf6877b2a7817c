"""Coarticulation: each frame's mouth is a dominance-weighted blend of the targets around it.

Cohen & Massaro's model: every segment pulls each mouth parameter toward its target with a
dominance that is full over the segment's span and falls off outside it (Gaussian, different
reach before and after). A frame's value is the dominance-weighted mean of the targets, so short,
weak segments are undershot the way real speech undershoots them, while strong ones (closures,
labiodentals) win.
"""
from __future__ import annotations

import numpy as np

from ..visemes import SHAPE_TARGET

_REST = np.array(SHAPE_TARGET["X"], float)
_EPS = 1e-6          # a faint pull to rest, so a frame far from every segment is at rest
_CHUNK = 256         # frames evaluated together (bounded memory on long tracks)


def blend(segs: list, times: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(params (n, 4), owner (n,)): blended parameters per frame time and the index of the segment
    with the most dominance there (-1 where none reaches)."""
    times = np.asarray(times, float)
    n = len(times)
    params = np.tile(_REST, (n, 1))
    owner = np.full(n, -1, int)
    if not segs or not n:
        return params, owner
    vs = np.array([s.vis_start for s in segs])       # (m, 4)
    ve = np.array([s.vis_end for s in segs])
    tb = np.array([s.tau_before for s in segs])
    ta = np.array([s.tau_after for s in segs])
    dom = np.array([s.dominance for s in segs])
    tgt = np.array([s.target for s in segs])
    reach = 4.0 * max(tb.max(), ta.max())
    lo_sorted = np.minimum.accumulate(vs.min(axis=1)[::-1])[::-1]   # min start of seg k..end
    hi_sorted = np.maximum.accumulate(ve.max(axis=1))               # max end of seg 0..k
    for c0 in range(0, n, _CHUNK):
        t = times[c0:c0 + _CHUNK]
        # segments that can reach this chunk: end + reach >= t0 and start - reach <= t1
        a = int(np.searchsorted(hi_sorted, t[0] - reach, side="left"))
        b = int(np.searchsorted(lo_sorted, t[-1] + reach, side="right"))
        if b <= a:
            continue
        tt = t[:, None, None]                                        # (c, 1, 1)
        before = np.maximum(vs[None, a:b] - tt, 0.0) / tb[None, a:b]
        after = np.maximum(tt - ve[None, a:b], 0.0) / ta[None, a:b]
        d = dom[None, a:b] * np.exp(-(before + after) ** 2)          # (c, k, 4)
        w = d.sum(axis=1)
        params[c0:c0 + len(t)] = ((d * tgt[None, a:b]).sum(axis=1) + _EPS * _REST) / (w + _EPS)
        total = d.sum(axis=2)
        best = total.argmax(axis=1)
        has = total[np.arange(len(t)), best] > 1e-4
        owner[c0:c0 + len(t)] = np.where(has, best + a, -1)
    return np.clip(params, 0.0, 1.0), owner
