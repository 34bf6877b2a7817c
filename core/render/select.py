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

from dataclasses import dataclass

import cv2
import numpy as np

from . import geometry as g

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
# A rounded target's width is matched on its own too, as the opening is: averaged over forty lip
# points a 0.04 eye-distance wider mouth costs under 2 units, less than the lips' other
# differences, so each "u" of talk_b (f12-16, f75-78) was built from a spread exemplar (f43,
# 0.632 wide) that the warp narrowed to the planned 0.594, and the re-tracked output read
# 0.603-0.625 (rounded/spread width ratio 0.921), though the actor's own narrow parted mouths (f67
# 0.584, f84 0.611) were in the library: the exemplar's own width is what shows. For a target
# narrower than the actor's relaxed width the exemplar's width is matched, WIDTH_WEIGHT per unit
# (SIGMA) squared, the weight ramping in over the first WIDTH_RAMP of narrowing (a rounded vowel's
# target is WIDTH_RAMP or more narrower): matched on width everywhere, the path jumped more
# (expr_surprised roughness 1.077 -> 1.099); paying only for the part of an exemplar's width above
# the target, a pause before a "u" took a narrow exemplar whose pixels showed it parted (talk_g
# f85-89 re-tracked 0.07-0.10 open against a planned 0.025-0.05, timing_r0 0.758 -> 0.702).
WIDTH_WEIGHT = 1.0
WIDTH_RAMP = 0.05
# Positions of the mouth corners (61, 291) in the lip shapes matched (model.lips: the outer
# contour from 61, then the inner).
CORNERS = (0, len(g.LIPS_OUTER) // 2)


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
               target_turn: np.ndarray | None = None, lib_turn: np.ndarray | None = None,
               relaxed_width: float | None = None, peaks: np.ndarray | None = None,
               wanted_widths: np.ndarray | None = None) -> np.ndarray:
    """(T, K) cost of building target t from exemplar k.

    target_shapes (T, P, 2), lib_shapes (K, P, 2) normalised lips; *_ap raw apertures (gap / IOD);
    self_index[t] is the library position of output frame t's own source frame or -1;
    *_turn (T, 2) and (K, 2) head turn (yaw, pitch measures) of the output frames and exemplars.
    With `relaxed_width` (the actor's relaxed corner distance / IOD) the shapes are the mouth
    model's lips (model.lips) and a rounded target's width is matched on its own too (width_cost).
    `peaks` (T,) bool: the targets at an opening's peak (opening_peaks; see peak_cost).
    `wanted_widths` (T,): the corner distances / IOD the track asks for before the actor's range
    bounds them (model.raw_width(..., bounded=False)); they say how far each target counts as
    rounded (width_ramp). Without them the targets' own (bounded) widths do.
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
    if relaxed_width is not None:
        cost += width_cost(target_shapes, lib_shapes, relaxed_width, wanted_widths)
    if peaks is not None:
        widths = None if relaxed_width is None else \
            (corner_width(target_shapes) if wanted_widths is None else wanted_widths,
             corner_width(lib_shapes), relaxed_width)
        cost += peak_cost(target_ap, lib_ap, peaks, widths)
    if target_turn is not None and lib_turn is not None:
        d = (target_turn[:, None] - lib_turn[None]) / POSE_SIGMA
        cost += (d ** 2).sum(-1)
    rows = np.flatnonzero(self_index >= 0)
    cost[rows, self_index[rows]] *= SELF_DISCOUNT
    return cost


def width_cost(target_shapes: np.ndarray, lib_shapes: np.ndarray, relaxed: float,
               wanted: np.ndarray | None = None) -> np.ndarray:
    """(T, K) cost of exemplar k's corner-to-corner width for target t (normalised lips), for the
    targets narrower than `relaxed` (a rounded mouth): the exemplar's width is matched to the
    target's drawn (bounded) width, either way. How far a target counts as rounded, the weight of
    that match, is read from `wanted` (T,), the widths the track asks for, where given: a shot
    whose own narrowest mouth is near its relaxed one bounds a "u" to little narrowing
    (model.raw_width), and read from the bounded width the match weighed 0.77 there, and a spread
    exemplar won (vx_makeup f89-95, re-tracked 0.69-0.73 wide against 0.57-0.65)."""
    t = corner_width(target_shapes)
    ramp = width_ramp(t if wanted is None else wanted, relaxed)
    excess = (corner_width(lib_shapes)[None] - t[:, None]) / SIGMA
    return WIDTH_WEIGHT * ramp[:, None] * excess ** 2


def corner_width(shapes: np.ndarray) -> np.ndarray:
    """(N,) corner-to-corner width of (N, P, 2) normalised lips (model.lips)."""
    return np.linalg.norm(shapes[:, CORNERS[0]] - shapes[:, CORNERS[1]], axis=-1)


def width_ramp(target_width: np.ndarray, relaxed: float) -> np.ndarray:
    """(T,) 0..1: how far each target counts as narrowed (rounded): 0 at the relaxed width or
    wider, 1 from WIDTH_RAMP narrower."""
    return np.clip((relaxed - np.asarray(target_width)) / (WIDTH_RAMP * relaxed), 0.0, 1.0)


# A vowel is read at its widest frame, and the warp cannot open an exemplar's pixels as far as it
# opens its landmarks: at an opening's peak (opening_peaks) an exemplar less open than the target
# costs this much more per unit (peak_cost), so the peak is not traded for a smoother path or for
# the neighbours' width. talk_a fr audio-only, the nasal vowel at 2.99 s (frame 67, planned gap
# 0.052 eye distances, the audio read it as a rounded "oh") between m and a rounded "ʒy" (frames
# 68-72, narrowed): with the exemplars matched on width (width_cost, model.match_lips) the path
# held one exemplar over 66-72 that is right for the "ʒy" (tracked 0.039 open, 0.556 wide)
# instead of jumping from a more open one after the vowel: 5 units more on frame 67 against 15.7
# for the jump. The re-tracked peak read 0.45 of the output's range (the yardstick needs more
# than 0.45), 0.57 before the width matching. The peak is held as strictly as a seal (a seal pays
# SEAL_SEEN_WEIGHT * (APERTURE_WEIGHT + OVER_OPEN_CLOSED_WEIGHT) = 10 per unit for an exemplar
# seen open; so does a peak for one less open than it, with the 3 every frame pays). On that path
# the choice turned between 5 and 5.5. A narrowed (rounded) target's width is not traded for the
# opening either: counted in full, the weight built talk_b's "on" (frame 9, planned 0.096 open
# and 0.585 wide) from a mouth 0.094 open but 0.604 wide (re-tracked 0.614) over its own
# narrowest open one (0.074, 0.583), and the rounded/spread width ratio rose 0.884 -> 0.895; the
# actor shows no mouth as narrow and more open. So a narrowed target asks of each exemplar only
# the opening some exemplar no wider than it has.
PEAK_UNDER_OPEN_WEIGHT = 7.0


def opening_peaks(ap: np.ndarray) -> np.ndarray:
    """(T,) bool: the frames of one run of consecutive frames whose wanted opening (gap / IOD)
    is above both neighbours' and not sealed (a vowel's widest frame); the run's first and last
    frames never are."""
    ap = np.asarray(ap, np.float64)
    pad = np.concatenate([ap[:1], ap, ap[-1:]])
    return (ap > pad[:-2]) & (ap > pad[2:]) & (ap >= CLOSED_GAP)


def peak_cost(target_ap: np.ndarray, lib_ap: np.ndarray, peaks: np.ndarray,
              widths: tuple | None = None) -> np.ndarray:
    """(T, K) the extra cost, at the targets at an opening's peak (`peaks`, (T,) bool), of
    exemplar k opening less than target t (gap / IOD; seen_aperture_delta changes it where an
    exemplar is seen otherwise than tracked). `widths`: (the widths
    the targets ask for (T,; data_costs' wanted_widths), the exemplars' (K,), the actor's relaxed
    width), corner distances / IOD: a target narrowed by width_ramp asks of exemplar k only the
    opening of the most open exemplar no wider than k."""
    target_ap, lib_ap = np.asarray(target_ap, np.float64), np.asarray(lib_ap, np.float64)
    short = np.maximum(target_ap[:, None] - lib_ap[None], 0.0) ** 2
    if widths is not None:
        t_w, lib_w, relaxed = widths
        narrower = lib_w[None, :] <= lib_w[:, None]                   # (k, j): j no wider than k
        reach = np.where(narrower, lib_ap[None, :], -np.inf).max(1)   # >= lib_ap (j = k)
        capped = np.maximum(np.minimum(target_ap[:, None], reach[None]) - lib_ap[None], 0.0) ** 2
        ramp = width_ramp(t_w, relaxed)[:, None]
        short = (1.0 - ramp) * short + ramp * capped
    return PEAK_UNDER_OPEN_WEIGHT * np.asarray(peaks, bool)[:, None] * short / SIGMA ** 2


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
# A sealed target's cost for the opening an exemplar is seen at counts this many times: a seal
# needs an exemplar seen shut more than it needs a smooth path (hard set oldfilm f99, the p at
# 4.01 s: at 1 the path took exemplar 63, seen 0.013 apart and next to the following frame's
# exemplar 64, over exemplar 9, seen 0.002, and the seal re-tracked at 0.24 of the range; at 2
# and 3 it keeps 9). At 2 a seal seen just parted (0.011: a slit) cost 12 units, about the two
# exemplar changes a sealed frame between parted ones takes, and the path stayed on the parted
# one (hard set vz_cg, the b at f65: exemplar 104 seen 0.011, its teeth showing in the slit after
# the warp; at 3 exemplar 15, seen 0.000, and a clean lip line).
SEAL_SEEN_WEIGHT = 3.0


def seen_aperture_delta(target_ap: np.ndarray, lib_ap: np.ndarray, still_ap: np.ndarray,
                        peaks: np.ndarray | None = None, widths: tuple | None = None
                        ) -> np.ndarray:
    """(T, K) change of the aperture cost when each exemplar is matched by the opening it shows
    on its own (NaN: not seen, no change) rather than by its tracked landmarks.

    A sealed target (under CLOSED_GAP) takes every exemplar's seen opening, within SEEN_MARGIN
    too, at SEAL_SEEN_WEIGHT: the warp shuts a parted exemplar's landmarks, not the parting its
    pixels show, and a one-frame seal built from a mouth seen 0.01-0.02 apart re-tracks as open.
    talk_b f94 (the b after a one-frame schwa at 3.758 s): exemplar 17, tracked 0.024 and seen
    0.017-0.019, re-tracked at 0.23 of the range (the yardstick's closure needs < 0.2); exemplar
    63, tracked 0.033 and seen 0.002-0.003, at 0.00. Which of the two a render took hung on
    SEEN_MARGIN: 63's two readings were 0.031 apart with the analysis pass's looks and 0.030
    with the library builder's (a cached analysis), so the clip's closure read 1.00 or 0.90 by
    whether its analysis was cached. With `peaks` (and `widths`, as for peak_cost) the extra cost
    at an opening's peak changes with the openings seen too."""
    seen = np.isfinite(still_ap)
    off = seen & (np.abs(np.nan_to_num(still_ap) - lib_ap) > SEEN_MARGIN)
    sealed = np.asarray(target_ap) < CLOSED_GAP
    if not off.any() and not (seen.any() and sealed.any()):
        return np.zeros((len(target_ap), len(lib_ap)))
    looks = np.where(off, np.nan_to_num(still_ap), lib_ap)
    delta = aperture_cost(target_ap, looks) - aperture_cost(target_ap, lib_ap)
    if peaks is not None and off.any():
        delta += peak_cost(target_ap, looks, peaks, widths) \
            - peak_cost(target_ap, lib_ap, peaks, widths)
    if seen.any() and sealed.any():
        shut = np.asarray(target_ap)[sealed]
        looks = np.where(seen, np.nan_to_num(still_ap), lib_ap)
        delta[sealed] = np.where(seen, SEAL_SEEN_WEIGHT * aperture_cost(shut, looks),
                                 aperture_cost(shut, lib_ap)) - aperture_cost(shut, lib_ap)
    return delta


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


# A jump between exemplars whose mouths look different once drawn at one shape (teeth bared in one
# and hidden in the other, another shading of the lips) is a pop from one frame to the next: it
# costs this much per percent of the peak of mean grey difference (texture_distances). The pops,
# not the fine band's gain or grain, were what set the roughness apart: expr_disgusted 1.121
# rendered as main, 1.096 built from one exemplar throughout, 1.118-1.126 with the grain, the
# detail gain or the previous-frame blend turned off; a higher JUMP_COST alone 1.124. Measured
# with lipeval, with the opening's easing (pipeline.EASE), weight 0 / 1.5 / 3: expr_surprised
# roughness (main 1.142) - / 1.095 / 1.089; at 3 the path holds the shot's jaw-drop frames
# (outside_jaw 0.016 -> 0.040) and the re-tracked timing_r0 falls (talk_e 0.753 / 0.756 / 0.731,
# selfie 0.792 / 0.785 / 0.770): 1.5 keeps most of the gain.
APPEAR_WEIGHT = 1.5
# The exemplars are compared at this mouth width in pixels, over the lips and opening.
APPEAR_SIZE = 48


def texture_distances(exemplars: list, region: np.ndarray, lips: np.ndarray, tris: np.ndarray,
                      peak: float, made: "TextureDescriptors | None" = None) -> np.ndarray:
    """(K, K) mean absolute grey difference (percent of peak, each mouth's mean removed) between
    the exemplars' lips and mouth openings, all warped onto one shape: the library's mouth at
    its upper-quartile opening, APPEAR_SIZE pixels wide. `exemplars` carry .image (crop), .x0,
    .y0, .points (region then ring, frame pixels) and .gap; region, lips and tris are the mouth
    model's. `made`: descriptors worked out earlier (as each crop was cut), used where they were
    made on this same shape; the others are worked out here."""
    k = len(exemplars)
    if k < 2:
        return np.zeros((k, k), np.float32)
    shape = appearance_shape([e.points for e in exemplars], [e.gap for e in exemplars], region,
                             lips)
    desc = np.empty((k, shape.size), np.float32)
    for i, e in enumerate(exemplars):
        got = made.get(e, shape) if made is not None else None
        desc[i] = got if got is not None else texture_descriptor(e, shape, region, lips, tris)
    dist = np.empty((k, k), np.float32)
    # Row by row ((K, K, pixels) at once is tens of MB), each row from the diagonal on: |a - b|
    # and |b - a| are the same floats, so the lower half is the upper's mirror to the bit, at
    # half the work (~5 -> ~2.5 ms for the bench's 83, on the run's one chain).
    for i in range(k):
        dist[i, i:] = np.abs(desc[i:] - desc[i]).mean(1)
        dist[i + 1:, i] = dist[i, i + 1:]
    return dist * (100.0 / peak)


@dataclass
class AppearanceShape:
    """The one shape the exemplars' mouths are compared on (texture_distances)."""
    dst: np.ndarray             # (P + Q, 2) the reference's points there
    inside: np.ndarray          # (h, w) bool: the lips and opening, dilated by a pixel
    ref: np.ndarray             # the reference exemplar's own points (frame pixels)

    @property
    def size(self) -> int:
        return int(self.inside.sum())

    def same(self, other: "AppearanceShape") -> bool:
        return self.ref.shape == other.ref.shape and bool(np.array_equal(self.ref, other.ref))


def appearance_shape(points: list, gaps: list, region: np.ndarray,
                     lips: np.ndarray) -> AppearanceShape:
    """The shape of texture_distances for exemplars with these points and inner-lip gaps (in
    their order): the mouth at the upper-quartile opening, APPEAR_SIZE pixels wide. It needs no
    pixels, so the library can describe each crop as it is cut."""
    k = len(points)
    ref = points[sorted(range(k), key=lambda i: gaps[i])[int(0.75 * (k - 1))]]
    n_reg = len(region)
    outer = ref[:n_reg][lips[:20]]
    s = APPEAR_SIZE / max(float(np.linalg.norm(outer[0] - outer[10])), 1.0)
    w, h = int(1.6 * APPEAR_SIZE), APPEAR_SIZE
    dst = (ref - outer.mean(0)) * s + [0.8 * APPEAR_SIZE, 0.5 * APPEAR_SIZE]
    inside = np.zeros((h, w), np.uint8)
    cv2.fillPoly(inside, [np.round(dst[:n_reg][lips[:20]]).astype(np.int32)], 1)
    inside = cv2.dilate(inside, np.ones((3, 3), np.uint8)) > 0
    return AppearanceShape(dst, inside, ref)


def _appear_sigma(e, n_reg: int, lips: np.ndarray) -> float:
    """The blur taking exemplar e's own pixels to the descriptor's scale first (no aliasing of
    grain): half its mouth width's pixels per descriptor pixel, at least 0.5."""
    pts = e.points[:n_reg]
    return max(0.5, 0.5 * float(np.linalg.norm(pts[lips[0]] - pts[lips[10]])) / APPEAR_SIZE)


def texture_descriptor(e, shape: AppearanceShape, region: np.ndarray, lips: np.ndarray,
                       tris: np.ndarray) -> np.ndarray:
    """One exemplar's grey lips and opening warped onto `shape`, its mean removed."""
    n_reg = len(region)
    h, w = shape.inside.shape
    mx, my, _ = g.triangle_maps(shape.dst, e.points - [e.x0, e.y0], tris, 0, 0, w, h)
    grey = cv2.cvtColor(e.image.astype(np.float32), cv2.COLOR_RGB2GRAY)
    grey = cv2.GaussianBlur(grey, (0, 0), _appear_sigma(e, n_reg, lips))
    v = cv2.remap(grey, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)[shape.inside]
    return v - v.mean()


class TextureDescriptors:
    """Descriptors (texture_descriptor) made as the library's crops are cut, on the two library
    threads, instead of all at once in texture_distances on the run's one chain between the
    library and the render (0.2 s of CPU on the bench). The same values as texture_descriptor
    gives (tests/test_render_texture.py compares them to the bit), in ~0.3 against ~1.05 ms a
    1080p crop: the shape's triangle raster is drawn once, not once a crop (geometry.
    maps_on_raster), and only the part of the crop the descriptor reads, widened by the blur's
    reach, is made grey and blurred, not the whole lower face."""

    def __init__(self, shape: AppearanceShape, region: np.ndarray, lips: np.ndarray,
                 tris: np.ndarray):
        self.shape, self.region, self.lips, self.tris = shape, region, lips, tris
        self.made: dict[int, tuple[np.ndarray, np.ndarray]] = {}   # frame -> (its crop, descriptor)
        h, w = shape.inside.shape
        _, _, covered, ids = g.triangle_maps(shape.dst, shape.dst, tris, 0, 0, w, h,
                                             with_index=True)
        # The raster's uncovered pixels take triangle 0's map, which maps_on_raster may make
        # otherwise than triangle_maps (a triangle too thin to draw): never read when the lips
        # lie inside the mesh, as they do; otherwise each crop is described the plain way.
        self.ids = ids if covered[shape.inside].all() else None

    def add(self, e) -> None:
        self.made[int(e.frame)] = (e.image, self._describe(e))

    def _describe(self, e) -> np.ndarray:
        if self.ids is None:
            return texture_descriptor(e, self.shape, self.region, self.lips, self.tris)
        inside, n_reg = self.shape.inside, len(self.region)
        mx, my = g.maps_on_raster(self.ids, self.shape.dst, e.points - [e.x0, e.y0], self.tris)
        sig = _appear_sigma(e, n_reg, self.lips)
        # Read: the pixel under each position and the next (bilinear), within the crop; a blurred
        # pixel takes the grey within the kernel's radius (OpenCV's float kernel: 4 sigma a side).
        # The crop's own edges stay edges, so their reflection and replication are as before.
        reach = (int(round(sig * 8 + 1)) | 1) // 2 + 2
        xs, ys = mx[inside], my[inside]
        hgt, wid = e.image.shape[:2]
        x0 = max(int(np.floor(xs.min())) - reach, 0)
        x1 = min(int(np.floor(xs.max())) + 2 + reach, wid)
        y0 = max(int(np.floor(ys.min())) - reach, 0)
        y1 = min(int(np.floor(ys.max())) + 2 + reach, hgt)
        if x1 - x0 < 2 or y1 - y0 < 2:
            return texture_descriptor(e, self.shape, self.region, self.lips, self.tris)
        grey = cv2.cvtColor(e.image[y0:y1, x0:x1].astype(np.float32), cv2.COLOR_RGB2GRAY)
        grey = cv2.GaussianBlur(grey, (0, 0), sig)
        mx -= x0        # whole pixels off float32 positions under 2**23: exact
        my -= y0
        v = cv2.remap(grey, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)[inside]
        return v - v.mean()

    def get(self, e, shape: AppearanceShape) -> np.ndarray | None:
        """The descriptor made of exemplar `e` (the same crop), if it was made on `shape`."""
        got = self.made.get(int(e.frame))
        if got is None or got[0] is not e.image or not shape.same(self.shape):
            return None
        return got[1]


def with_texture_jumps(trans: np.ndarray, lib_frames: np.ndarray, dist: np.ndarray) -> np.ndarray:
    """Transition costs with the texture pop of each jump added (APPEAR_WEIGHT per percent);
    holding an exemplar and playing on to the next source frame stay as they were."""
    extra = APPEAR_WEIGHT * dist.astype(np.float64)
    np.fill_diagonal(extra, 0.0)
    nxt = {int(f): i for i, f in enumerate(lib_frames)}
    for i, f in enumerate(lib_frames):
        j = nxt.get(int(f) + 1)
        if j is not None:
            extra[i, j] = 0.0
    return trans + extra


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
