"""Which of the actor's own frames each output frame's mouth is built from.

A bounded exemplar library is chosen by clustering the shot's mouth shapes (short runs of
consecutive frames around each cluster's most typical frame, so runs can play on), then a Viterbi
pass picks one exemplar per output frame: a data cost for how far the exemplar's lips are from the
target (opening a closed mouth costs more than closing an open one, since a warp can squeeze a mouth
shut but cannot invent its inside), and a transition cost that is zero for playing on to the next
source frame (Video Rewrite), small for holding, and large for a jump. Runs are what keep the mouth
from flickering.
"""
from __future__ import annotations

import cv2
import numpy as np

# One unit of data cost: lips off by 1% of the inter-ocular distance on average.
SIGMA = 0.01
HOLD_COST = 1.0
JUMP_COST = 6.0
APERTURE_WEIGHT = 1.0
UNDER_OPEN_WEIGHT = 2.0
SELF_DISCOUNT = 0.5
# A closure built from a parted exemplar squeezes its teeth into a line of white specks along the
# seam (issue 15, expr_disgusted frame 71): for a closed target (gap under CLOSED_GAP eye
# distances) an exemplar more open than it costs this much more per unit.
CLOSED_GAP = 0.01
# Head turn and nod: an exemplar at another yaw or pitch shows the mouth from another side, and a
# 2-D warp cannot turn it (issue 15: too wide a mouth at +20 degrees, twisted lips at -13). One
# POSE_SIGMA of difference in the turn measures (geometry.head_turn; about 3 degrees) costs one
# unit.
POSE_SIGMA = 0.05
OVER_OPEN_CLOSED_WEIGHT = 4.0


def choose_library(frames: np.ndarray, shapes: np.ndarray, max_size: int = 96, run: int = 4) -> np.ndarray:
    """Frame indices to keep as exemplars.

    frames: (N,) usable frame indices, ascending; shapes: (N, D) normalised lip shapes. A shot that
    fits is kept whole; otherwise k-means over the shapes, and for each cluster its medoid and the
    following frames (a run), plus runs at the most closed and most open frames.
    """
    frames = np.asarray(frames)
    if len(frames) <= max_size:
        return frames.copy()
    n_clusters = max(2, max_size // run - 2)
    data = shapes.astype(np.float32)
    crit = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 30, 1e-4)
    cv2.setRNGSeed(1234)  # deterministic renders
    _, labels, centers = cv2.kmeans(data, n_clusters, None, crit, 2, cv2.KMEANS_PP_CENTERS)
    labels = labels.ravel()
    seeds = []
    for c in range(n_clusters):
        members = np.flatnonzero(labels == c)
        if len(members):
            d = ((data[members] - centers[c]) ** 2).sum(1)
            seeds.append(members[int(np.argmin(d))])
    gap = np.abs(shapes - shapes.mean(0)).sum(1)
    seeds += [int(np.argmax(gap)), int(np.argmin(gap))]
    keep: set[int] = set()
    present = set(frames.tolist())
    for s in seeds:
        f0 = int(frames[s])
        for f in range(f0, f0 + run):
            if f in present:
                keep.add(f)
        if len(keep) >= max_size:
            break
    return np.array(sorted(keep))[:max_size]


def data_costs(target_shapes: np.ndarray, target_ap: np.ndarray, lib_shapes: np.ndarray,
               lib_ap: np.ndarray, weights: np.ndarray, self_index: np.ndarray,
               target_turn: np.ndarray | None = None, lib_turn: np.ndarray | None = None) -> np.ndarray:
    """(T, K) cost of building target t from exemplar k.

    target_shapes (T, P, 2), lib_shapes (K, P, 2) normalised lips; *_ap raw apertures (gap / IOD);
    self_index[t] is the library position of output frame t's own source frame or -1;
    *_turn (T, 2) and (K, 2) head turn (yaw, pitch measures) of the output frames and exemplars.
    """
    w = weights / weights.sum()
    cost = np.empty((len(target_shapes), len(lib_shapes)))
    for a in range(0, len(target_shapes), 128):   # chunks keep memory flat in shot length
        d = target_shapes[a:a + 128, None] - lib_shapes[None]           # (t, K, P, 2)
        cost[a:a + 128] = (w * (d ** 2).sum(-1)).sum(-1) / SIGMA ** 2
    # The inner-lip gap decides how the mouth reads (closed lips, visible teeth): it is matched
    # on its own, on top of the averaged lip shape, and an exemplar less open than the target
    # costs more than a more open one.
    cost += aperture_cost(target_ap, lib_ap)
    if target_turn is not None and lib_turn is not None:
        d = (target_turn[:, None] - lib_turn[None]) / POSE_SIGMA
        cost += (d ** 2).sum(-1)
    rows = np.flatnonzero(self_index >= 0)
    cost[rows, self_index[rows]] *= SELF_DISCOUNT
    return cost


def aperture_cost(target_ap: np.ndarray, lib_ap: np.ndarray) -> np.ndarray:
    """(T, K) cost of the inner-lip gap of exemplar k (gap / IOD) for target t."""
    diff = (target_ap[:, None] - lib_ap[None]) / SIGMA
    cost = APERTURE_WEIGHT * diff ** 2 + UNDER_OPEN_WEIGHT * np.maximum(diff, 0.0) ** 2
    closed = (target_ap < CLOSED_GAP)[:, None]
    return cost + OVER_OPEN_CLOSED_WEIGHT * closed * np.minimum(diff, 0.0) ** 2


# An exemplar whose opening seen on its own (seen.still_aperture) differs from its tracked one by
# more than SEEN_MARGIN eye distances is matched by the one seen: below it the two readings differ
# by the trackers' noise (a look and its mirror image differ by up to 0.04 on a just-parted
# mouth), and choices should not shuffle on noise (at 0.02 talk_d swapped exemplars on 0.025
# differences, its rounded vowel at frames 92-96 built from a wider mouth: rounding ratio
# 0.917 -> 0.93).
SEEN_MARGIN = 0.03


def seen_aperture_delta(target_ap: np.ndarray, lib_ap: np.ndarray, still_ap: np.ndarray) -> np.ndarray:
    """(T, K) change of the aperture cost when each exemplar is matched by the opening it shows
    on its own (NaN: not seen, no change) rather than by its tracked landmarks."""
    off = np.isfinite(still_ap) & (np.abs(np.nan_to_num(still_ap) - lib_ap) > SEEN_MARGIN)
    if not off.any():
        return np.zeros((len(target_ap), len(lib_ap)))
    seen = np.where(off, np.nan_to_num(still_ap), lib_ap)
    return aperture_cost(target_ap, seen) - aperture_cost(target_ap, lib_ap)


def transition_costs(lib_frames: np.ndarray, lib_shapes: np.ndarray) -> np.ndarray:
    """(K, K) cost of exemplar j following exemplar i."""
    k = len(lib_frames)
    flat = lib_shapes.reshape(k, -1)
    # Jumping between look-alike frames is cheaper than between different ones.
    dist = ((flat[:, None] - flat[None]) ** 2).mean(-1) / SIGMA ** 2
    trans = JUMP_COST + np.minimum(dist, 50.0)
    np.fill_diagonal(trans, HOLD_COST)
    nxt = {int(f): i for i, f in enumerate(lib_frames)}
    for i, f in enumerate(lib_frames):
        j = nxt.get(int(f) + 1)
        if j is not None:
            trans[i, j] = 0.0
    return trans


def viterbi(costs: np.ndarray, trans: np.ndarray) -> np.ndarray:
    """Minimum-cost exemplar path through (T, K) data costs and (K, K) transitions."""
    t_len, k = costs.shape
    back = np.zeros((t_len, k), np.int32)
    acc = costs[0].copy()
    for t in range(1, t_len):
        tot = acc[:, None] + trans                 # (prev, cur)
        back[t] = np.argmin(tot, axis=0)
        acc = tot[back[t], np.arange(k)] + costs[t]
    path = np.zeros(t_len, np.int32)
    path[-1] = int(np.argmin(acc))
    for t in range(t_len - 1, 0, -1):
        path[t - 1] = back[t, path[t]]
    return path
