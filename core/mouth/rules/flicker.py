"""No one-frame flickers: a shape or a movement that lasts a single frame and is then undone reads
as a glitch, not speech. Protected frames (a p/b/m closure, a vowel's own peak) keep theirs."""
from __future__ import annotations

import numpy as np


def remove_param_flickers(params: np.ndarray, protected: np.ndarray, *,
                          threshold: float = 0.1) -> np.ndarray:
    """Replace single-frame spikes (up then straight back down, or the reverse, by more than
    `threshold`, with the neighbours agreeing within half of that) by the neighbours' mean."""
    x = np.array(params, float, copy=True)
    if len(x) < 3:
        return x
    prev, cur, nxt = x[:-2], x[1:-1], x[2:]
    up, down = cur - prev, cur - nxt
    spike = (np.sign(up) == np.sign(down)) & (np.minimum(np.abs(up), np.abs(down)) > threshold) \
        & (np.abs(prev - nxt) < threshold / 2)
    spike &= ~np.asarray(protected, bool)[1:-1, None]
    fix = 0.5 * (prev + nxt)
    x[1:-1] = np.where(spike, fix, cur)
    return x


def remove_label_flickers(labels: list, protected: np.ndarray) -> list:
    """X Y X with Y one unprotected frame becomes X X X, unless the X frames are protected: a
    closure's label belongs to sealed frames only (A, open, A is a real "mop")."""
    out = list(labels)
    prot = np.asarray(protected, bool)
    for i in range(1, len(out) - 1):
        if out[i - 1] == out[i + 1] != out[i] and not (prot[i] or prot[i - 1] or prot[i + 1]):
            out[i] = out[i - 1]
    return out
