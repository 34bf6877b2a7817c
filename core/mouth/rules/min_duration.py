"""Minimum shape duration: a shape must stay up long enough to register (about 0.07 s, Rhubarb's
finding: shorter flickers, longer loses shapes). Short runs are absorbed by the neighbouring run
whose mouth is closer to theirs; protected runs (closures) stay, however short."""
from __future__ import annotations

import numpy as np

MIN_SHAPE_S = 0.07


def min_frames_for(fps: float, min_s: float = MIN_SHAPE_S) -> int:
    return max(1, int(round(min_s * float(fps))))


def enforce_min_duration(labels: list, params: np.ndarray, protected: np.ndarray,
                         min_frames: int) -> list:
    out = list(labels)
    if min_frames <= 1 or len(out) < 2:
        return out
    prot = np.asarray(protected, bool)
    # runs as [start, end, label, protected, mean params]; merged in place, shortest first
    runs = []
    for a, b in _runs(out):
        runs.append([a, b, out[a], bool(prot[a:b].any()), params[a:b].mean(axis=0)])
    stuck: set[int] = set()      # starts of short runs between closures: real, left alone
    while len(runs) > 1:
        best = None
        for k, (a, b, _lab, p, _m) in enumerate(runs):
            if b - a < min_frames and not p and a not in stuck and (best is None or
                                                                   b - a < best[0]):
                best = (b - a, k)
        if best is None:
            break
        k = best[1]
        a, b, _lab, _p, mean = runs[k]
        options = []
        for j in (k - 1, k + 1):
            # a closure's label belongs to sealed frames only
            if 0 <= j < len(runs) and not runs[j][3]:
                options.append((float(np.abs(runs[j][4] - mean).sum()), j))
        if not options:
            stuck.add(a)
            continue
        _, j = min(options)
        ja, jb, jlab, _jp, jmean = runs[j]
        n1, n2 = jb - ja, b - a
        runs[j] = [min(a, ja), max(b, jb), jlab, False, (jmean * n1 + mean * n2) / (n1 + n2)]
        del runs[k]
        # the grown run may now touch another of its own label
        j = j if j < k else j - 1
        for nb in (j + 1, j - 1):
            lo, hi = min(j, nb), max(j, nb)
            if 0 <= lo and hi < len(runs) and runs[lo][2] == runs[hi][2] and \
                    runs[lo][3] == runs[hi][3]:
                A, B = runs[lo], runs[hi]
                na, nb_ = A[1] - A[0], B[1] - B[0]
                runs[lo] = [A[0], B[1], A[2], A[3], (A[4] * na + B[4] * nb_) / (na + nb_)]
                del runs[hi]
                j = lo
    for a, b, lab, _p, _m in runs:
        for i in range(a, b):
            out[i] = lab
    return out


def _runs(labels: list) -> list[tuple[int, int]]:
    runs = []
    a = 0
    for i in range(1, len(labels) + 1):
        if i == len(labels) or labels[i] != labels[a]:
            runs.append((a, i))
            a = i
    return runs
