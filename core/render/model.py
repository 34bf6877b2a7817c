"""A per-shot model of this actor's mouth, learned from the shot's own frames.

Landmarks are brought into a head-pose-free space by a similarity fit on rigid points (generalised
Procrustes over the shot). In that space the model keeps: the lower-face points that move with the
mouth and jaw ("region"), their main modes (PCA), the actor's range (closed to widest aperture,
relaxed width, jaw travel), and a ridge regression from mouth parameters (aperture, width, jaw) to
the region's shape. A mouth-shape track (docs/cli.md: aperture 0 closed, 1 this speaker's widest) is
turned into target landmarks in each output frame's own pose as a change from that frame's own
mouth, so everything the track does not ask to move stays where the actor had it.
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from . import geometry as g

# Width in the track is 0 pursed .. 1 spread with ~0.45 relaxed; one unit of it is this fraction of
# the actor's relaxed mouth width (a spread smile is ~20% wider than relaxed, a pucker ~15% narrower).
WIDTH_SPAN = 0.35
WIDTH_RELAXED = 0.45
# Rounding (protrusion) reads in a frontal view mostly as a narrower mouth; the track's width
# already narrows for rounded visemes, so this is a small extra.
ROUNDING_NARROWING = 0.05
# The mouth's width is set to the track's by a horizontal warp of the lips (rounded vowels and w
# narrow, spread vowels widen) within the actor's own widths in the shot (1st..99th percentile of
# the corner distance): the exemplars alone seldom narrow a mouth, as speakers round on few frames
# (measured: rounded/spread width ratio 0.96-1.04 on es/de/fr dubs where the track asked 0.55-0.62).
# Never more than this factor either way in one frame, whatever the range says. The width is held
# WIDTH_INSET_LO / _HI (eye distances) inside the actor's own range (1st..99th percentile in the
# shot). Where the shot shows less, it still reaches WIDTH_REACH over relaxed on the wide side and
# WIDTH_REACH under relaxed less WIDTH_INSET_LO on the narrow side (an actor who never rounds in
# the shot still rounds a "u": about 2.4% under relaxed for a relaxed width of 0.575). Measured on talk_f (de) when the exemplars were
# not matched on width: a mouth narrowed by the warp re-tracked ~0.03-0.04 eye distances off its
# target, and an inset of 0.01 left 4.9% of frames outside the actor's width range (lipeval
# outside_width), 0.03 left 0.6%. With rounded targets built from the actor's own narrow mouths
# (select.width_cost) talk_b's narrowed frames re-track within -0.026..+0.019 of the plan, and
# 0.015 on the narrow side left no frame outside the actor's widths on the talk clips and the hard
# set (talk_b rounded/spread ratio 0.899 at 0.03 with every frame matched on width, 0.884 at
# 0.015; its narrowest frame, f10, read 0.559 against the yardstick's bound of 0.554). The wide
# side stays at 0.03: at 0.015 a spread frame of expr_disgusted (f31) re-tracked past the actor's
# widest (0.576 against 0.575). The inset holds for the reach too: a reach planned without it
# put vx_radio's rounded frames (a 2 s shot, its narrowest mouth 4% under relaxed) at 0.547 eye
# distances, re-tracked at 0.530-0.541 against the yardstick's bound of 0.541 (outside_width
# 0.098); with it, 0 (vx_beard2 0.013 -> 0.007, vx_makeup 0.040 -> 0.033). A shot that never
# narrows (the still photo of tests/test_render_units.py) still narrows its planned rounded
# frames 7.5% against spread ones.
WIDTH_WARP_MAX = 0.15
WIDTH_REACH = 0.05
WIDTH_INSET_LO = 0.015
WIDTH_INSET_HI = 0.03


@dataclass
class MouthModel:
    ref_rigid: np.ndarray          # (R, 2) rigid points in the normalised space (IOD ~ 1)
    region: np.ndarray             # landmark indices of the lower-face points the warp moves
    lips: np.ndarray               # positions within `region` of the lip points (for matching)
    lip_weights: np.ndarray        # per lip point weight (inner lips count double)
    mean_shape: np.ndarray         # (P, 2) mean normalised region shape
    modes: np.ndarray              # (k, 2P) PCA modes of the region shape
    mode_sd: np.ndarray            # (k,) their standard deviations
    feat_mean: np.ndarray          # (3,) mean (aperture, width, jaw) of the shot
    coef: np.ndarray               # (3, 2P) ridge regression: shape change per parameter unit
    ap_max: float                  # raw aperture (gap / IOD) this actor reaches (track aperture 1)
    width_rest: float              # relaxed raw width (corner distance / IOD)
    width_lo: float                # narrowest raw width the actor shows in the shot (1st pct)
    width_hi: float                # widest (99th pct)
    jaw_lo: float                  # normalised chin height at rest
    jaw_hi: float                  # ... at the widest
    gap_profile: np.ndarray        # (9,) gap of each inner pair relative to the aperture pairs' mean
    follow: np.ndarray             # (P,) how far each region point follows the exemplar's shape
    jaw_follow: np.ndarray         # (P,) how far each point below the mouth follows a gap change
    ring: np.ndarray               # (Q, 2) fixed warp boundary in the normalised space
    tris: np.ndarray               # (T, 3) triangles over region points then ring points
    frames_used: int
    chin_max: float = float("inf")  # normalised chin height of the actor's widest jaw in the shot
    # (lo, hi) thickness of the upper lip (0 to 13) and the lower lip (14 to 17) over the IOD:
    # the actor's 2nd-98th percentile in the shot, held a re-track's error inside (_held_in)
    upper_lip_range: tuple = (0.0, float("inf"))
    lower_lip_range: tuple = (0.0, float("inf"))
    # shortest nose-tip-to-chin distance over the IOD the chin is held at: the actor's 2nd
    # percentile in the shot, held a re-track's error inside (_held_in)
    jaw_len_min: float = 0.0
    # ... and the longest (98th percentile, held in): the chin of an open vowel is raised to it
    jaw_len_max: float = float("inf")
    # Head pose in the normalised space: the region's shape change per unit of head turn (yaw,
    # pitch measures of geometry.head_turn), learned on the shot with the mouth parameters; the
    # shot's mean turn and the range of turns it shows (the shift is never extrapolated past it).
    pose_coef: np.ndarray | None = None   # (3, 2P) per turn term (turn_terms)
    turn_mean: np.ndarray | None = None   # (3,) the shot's mean turn terms
    turn_range: np.ndarray | None = None  # (2, 2) [lo, hi] per measure
    chin_free_max: float = float("inf")   # chin_max with each frame's pose_shift taken off

    # -- pose -------------------------------------------------------------------------------
    def pose(self, lm: np.ndarray) -> np.ndarray:
        """2x3 similarity from this frame's pixels into the normalised space."""
        return g.fit_similarity(lm[list(g.RIGID)], self.ref_rigid)

    def features(self, lm: np.ndarray, pose: np.ndarray | None = None) -> np.ndarray:
        """(aperture, width, jaw) of a frame on the track's 0..1 scales (may leave 0..1)."""
        pose = self.pose(lm) if pose is None else pose
        a = g.aperture(lm) / self.ap_max
        w = WIDTH_RELAXED + (g.mouth_width(lm) / self.width_rest - 1.0) / WIDTH_SPAN
        chin = g.apply(pose, lm[[g.CHIN]])[0, 1]
        j = (chin - self.jaw_lo) / max(self.jaw_hi - self.jaw_lo, 1e-6)
        return np.array([a, w, j])

    def pose_shift(self, turn: np.ndarray | None) -> np.ndarray:
        """(P, 2) normalised shape change of the region from the shot's mean head turn to `turn`
        (clipped into the turns the shot shows): how the lower face looks turned or nodded in
        this actor's own frames (the mouth sits further toward the turn than the eyes and temples
        the pose is fitted on, and foreshortens)."""
        if self.pose_coef is None or turn is None:
            return np.zeros_like(self.mean_shape)
        t = np.clip(np.asarray(turn, np.float64), self.turn_range[0], self.turn_range[1])
        return ((turn_terms(t) - self.turn_mean) @ self.pose_coef).reshape(-1, 2)

    def predict(self, feat: np.ndarray) -> np.ndarray:
        """Normalised region shape for (aperture, width, jaw)."""
        return self.mean_shape + ((np.asarray(feat) - self.feat_mean) @ self.coef).reshape(-1, 2)

    def match_lips(self, feat: np.ndarray) -> np.ndarray:
        """Normalised lip points the exemplars are matched against for (aperture, width, jaw):
        the predicted shape's lips with the corners as far apart as the render will set them
        (`raw_width`). The ridge regression shrinks the width's effect to a fraction (the shot's
        widths vary little against its ridge term): talk_b's lips predicted for a "u" were
        0.614 eye distances wide and for an "i" 0.641, where the render sets 0.594 and 0.671,
        so the path built its u from a spread exemplar (0.632) that the warp narrowed, and the
        re-tracked output read 0.603-0.625 (rounded/spread width ratio 0.921)."""
        lips = self.predict(feat)[self.lips]
        return scale_width(lips, lips[0], lips[len(g.LIPS_OUTER) // 2], self.raw_width(feat[1]))

    # -- targets ----------------------------------------------------------------------------
    def track_features(self, aperture: float, width: float, rounding: float, jaw: float) -> np.ndarray:
        return np.array([aperture, width - ROUNDING_NARROWING * rounding / WIDTH_SPAN, jaw])

    def place(self, lm: np.ndarray, pose: np.ndarray, shape: np.ndarray, gap: float,
              width: float | None = None, turn: np.ndarray | None = None) -> np.ndarray:
        """Region points in this frame's pixels for a normalised mouth `shape` (an exemplar's).

        Points near the mouth and chin take the shape (placed in this frame's head pose); towards
        the edge of the region they stay where this frame has them, so the patch meets the
        untouched face exactly. With `width` (the track's width on the model's feature scale,
        see `track_features`) the lips are narrowed or widened to it (`set_width`). Then the
        inner lips are set to exactly `gap` (inner-lip gap / IOD; 0 means lips touching).
        With `turn` (this frame's head turn, geometry.head_turn), `shape` is pose-free (an
        exemplar's shape less its own pose_shift) and is first turned to this frame's pose, and
        the jaw is held within what the actor shows at this pose.
        """
        own = lm[self.region].astype(np.float64)
        inv = g.invert(pose)
        placed = g.apply(inv, shape + self.pose_shift(turn))
        pts = own + self.follow[:, None] * (placed - own)
        if width is not None:
            pts = self.set_width(pts, self.raw_width(width) * g.interocular(lm))
        pts = self.set_gap(pts, gap * g.interocular(lm))
        pts = self.bound_lips(pts, g.interocular(lm))
        return self.bound_jaw(self.hold_jaw_length(pts, lm), pose, turn)

    def hold_jaw_length(self, pts: np.ndarray, lm: np.ndarray) -> np.ndarray:
        """Keep the chin jaw_len_min..jaw_len_max eye distances from the nose tip. A mouth closed
        from an open frame raised the chin past anything the actor did (talk_b f0: nose to chin
        0.906 eye distances, the actor's shortest about 0.92); an open vowel built from the
        actor's widest jaw, planned on bound_jaw's limit (her widest chin height plus 0.005),
        re-tracked longer than anything she shows (talk_c f60: 0.970 against the yardstick's
        bound of 0.955). The chin is moved along the nose-chin line, the points below the mouth
        in proportion to how far they follow the jaw (the lips do not), as bound_jaw moves it."""
        chin = self.pos[g.CHIN]
        iod = g.interocular(lm)
        v = pts[chin] - lm[g.NOSE_TIP]
        d = float(np.linalg.norm(v))
        lo, hi = self.jaw_len_min * iod, self.jaw_len_max * iod
        if d < 1e-6 or lo <= d <= hi or self.jaw_follow[chin] <= 0:
            return pts
        share = np.clip(self.jaw_follow / self.jaw_follow[chin], 0.0, 1.0)
        return pts + np.outer(share, v * ((lo if d < lo else hi) / d - 1.0))

    def bound_lips(self, pts: np.ndarray, iod: float) -> np.ndarray:
        """Keep each lip's thickness within the actor's own range in the shot: the outer contour
        is moved along its offset from the inner one (a lip stretched by a wider opening, or
        swollen by an exemplar's pout, otherwise leaves it: issue 15, lips swelling into a pout
        on open vowels)."""
        pos = self.pos
        pts = pts.copy()
        for (o_mid, i_mid), outer, inner, (lo, hi) in (
                ((0, 13), g.OUTER_UPPER, [u for u, _ in g.INNER_PAIRS], self.upper_lip_range),
                ((17, 14), g.OUTER_LOWER, [d for _, d in g.INNER_PAIRS], self.lower_lip_range)):
            t = float(np.linalg.norm(pts[pos[o_mid]] - pts[pos[i_mid]])) / max(iod, 1e-6)
            if t < 1e-6 or lo <= t <= hi:
                continue
            f = (lo if t < lo else hi) / t
            for o, i in zip(outer, inner):
                pts[pos[o]] = pts[pos[i]] + f * (pts[pos[o]] - pts[pos[i]])
        return pts

    def bound_jaw(self, pts: np.ndarray, pose: np.ndarray, turn: np.ndarray | None = None) -> np.ndarray:
        """Keep the chin within the actor's own range in the shot (at this head turn, when
        given: chin_max is then pose-free and the frame's pose_shift moves it): a jaw dropped
        past anything the actor did (an exemplar's open jaw plus a wider gap) is raised back,
        the points below the mouth in proportion to how far they follow the jaw, so the jaw line
        never goes past the face (issue 15: a jaw pulled down into the collar at +20 degrees)."""
        pos = self.pos
        chin = pos[g.CHIN]
        norm = g.apply(pose, pts)
        limit = self.chin_max if turn is None else self.chin_free_max + self.pose_shift(turn)[chin, 1]
        over = float(norm[chin, 1] - limit)
        if over <= 0 or self.jaw_follow[chin] <= 0:
            return pts
        share = np.clip(self.jaw_follow / self.jaw_follow[chin], 0.0, 1.0)
        norm[:, 1] -= over * share
        return g.apply(g.invert(pose), norm)

    def raw_width(self, width: float, bounded: bool = True) -> float:
        """Corner distance / IOD for a width on the feature scale, inside the actor's own range
        pulled in by WIDTH_INSET_LO / _HI, and reaching at least WIDTH_REACH under relaxed (less
        the inset) and over it; with `bounded` False, the width the track asks for (how rounded
        or spread a target is, whatever the shot allows)."""
        raw = self.width_rest * (1.0 + (float(width) - WIDTH_RELAXED) * WIDTH_SPAN)
        if not bounded:
            return float(raw)
        lo = min(self.width_lo, self.width_rest * (1.0 - WIDTH_REACH)) + WIDTH_INSET_LO
        hi = max(self.width_hi - WIDTH_INSET_HI, self.width_rest * (1.0 + WIDTH_REACH))
        return float(np.clip(raw, lo, hi))

    def set_width(self, pts: np.ndarray, width_px: float) -> np.ndarray:
        """Scale the mouth along its corner-to-corner axis about its centre so the corners are
        `width_px` apart (at most WIDTH_WARP_MAX either way); points follow by their `follow`
        weight, so the cheeks and the patch's edge stay put."""
        pos = self.pos
        left, right = pts[pos[g.MOUTH_CORNERS[0]]], pts[pos[g.MOUTH_CORNERS[1]]]
        cur = float(np.linalg.norm(right - left))
        if cur < 1e-6 or width_px <= 0:
            return pts
        k = float(np.clip(width_px / cur, 1.0 - WIDTH_WARP_MAX, 1.0 + WIDTH_WARP_MAX))
        return scale_width(pts, left.copy(), right.copy(), k * cur, self.follow)

    def set_gap(self, pts: np.ndarray, gap_px: float) -> np.ndarray:
        pos = self.pos
        left, right = pts[pos[g.MOUTH_CORNERS[0]]], pts[pos[g.MOUTH_CORNERS[1]]]
        t = right - left
        t /= max(np.linalg.norm(t), 1e-6)
        n = np.array([-t[1], t[0]])          # points from the upper lip to the lower lip
        if n[1] < 0:
            n = -n
        pts = pts.copy()
        mid = []
        for k, (up, lo) in enumerate(g.INNER_PAIRS):
            u, l = pts[pos[up]], pts[pos[lo]]
            cur = float((l - u) @ n)
            change = max(gap_px, 0.0) * self.gap_profile[k] - cur
            pts[pos[up]] = u - n * change / 2
            pts[pos[lo]] = l + n * change / 2
            # The lip's outer edge rides with its inner edge (lips keep their thickness).
            pts[pos[g.OUTER_UPPER[k]]] -= n * change / 2 * 0.85
            pts[pos[g.OUTER_LOWER[k]]] += n * change / 2 * 0.85
            if (up, lo) in g.APERTURE_PAIRS:
                mid.append(change)
        # The chin goes with the lower lip (a wider opening than the exemplar's drops the jaw).
        pts += np.outer(self.jaw_follow, n) * (float(np.mean(mid)) / 2)
        return pts

    @property
    def inner_tris(self) -> np.ndarray:
        """Bool per triangle: the mouth opening's (all corners on the inner lip contour)."""
        pos = self.pos
        inner = [pos[i] for i in g.LIPS_INNER]
        return np.isin(self.tris, inner).all(1)

    @property
    def pos(self) -> dict:
        return {int(k): i for i, k in enumerate(self.region)}

    def ring_points(self, pose: np.ndarray) -> np.ndarray:
        return g.apply(g.invert(pose), self.ring)

    def lip_shape(self, region_pts: np.ndarray, pose: np.ndarray) -> np.ndarray:
        """Normalised lip points (for matching exemplars to targets)."""
        return g.apply(pose, region_pts[self.lips])


def scale_width(pts: np.ndarray, left: np.ndarray, right: np.ndarray, width: float,
                weight: np.ndarray | float = 1.0) -> np.ndarray:
    """`pts` stretched along the `left`-`right` corner axis about its middle so the corners come
    `width` apart (each point by its `weight`: 1 moves fully, 0 stays)."""
    axis = np.asarray(right, np.float64) - left
    cur = float(np.linalg.norm(axis))
    if cur < 1e-9 or width <= 0:
        return pts
    axis /= cur
    along = (pts - (np.asarray(left) + right) / 2) @ axis
    return pts + np.outer(np.asarray(weight) * (width / cur - 1.0) * along, axis)


def _procrustes_reference(lms: list[np.ndarray]) -> np.ndarray:
    rig = [lm[list(g.RIGID)].astype(np.float64) for lm in lms]
    ref = rig[0] - rig[0].mean(0)
    iod = np.linalg.norm(lms[0][g.EYE_OUTER[0]] - lms[0][g.EYE_OUTER[1]])
    ref /= max(iod, 1e-6)
    for _ in range(3):
        aligned = np.mean([g.apply(g.fit_similarity(r, ref), r) for r in rig], axis=0)
        aligned -= aligned.mean(0)
        # keep IOD = 1 in the normalised space
        e0, e1 = g.RIGID.index(g.EYE_OUTER[0]), g.RIGID.index(g.EYE_OUTER[1])
        ref = aligned / max(np.linalg.norm(aligned[e0] - aligned[e1]), 1e-6)
    return ref


def _region_indices(mean_all: np.ndarray) -> np.ndarray:
    """Lower-face points below the nose and inside the face oval."""
    poly = mean_all[list(g.JAW)].astype(np.float32)
    top = mean_all[g.NOSE_BASE, 1] - 0.02
    keep = []
    for i in range(468):
        x, y = mean_all[i]
        if y < top or i in g.LIPS_MID:
            continue
        if i in g.JAW or cv2.pointPolygonTest(poly, (float(x), float(y)), False) >= 0:
            keep.append(i)
    must = set(g.LIPS_OUTER) | set(g.LIPS_INNER) | set(g.JAW)
    return np.array(sorted(set(keep) | must), np.int32)


def fit_model(lms: list[np.ndarray]) -> MouthModel:
    """Learn the mouth model from a shot's usable frames (landmarks in pixels)."""
    if len(lms) < 3:
        raise ValueError("need at least 3 frames with a face to learn the mouth")
    ref = _procrustes_reference(lms)
    poses = [g.fit_similarity(lm[list(g.RIGID)], ref) for lm in lms]
    norm_all = np.array([g.apply(p, lm) for p, lm in zip(poses, lms)])      # (N, 478, 2)
    mean_all = norm_all.mean(0)
    region = _region_indices(mean_all)
    shapes = norm_all[:, region, :].reshape(len(lms), -1)
    mean_shape = shapes.mean(0)
    pos = {int(k): i for i, k in enumerate(region)}
    r = _actor_ranges(lms, norm_all)
    turns = np.array([g.head_turn(lm, p) for lm, p in zip(lms, poses)])
    feat_mean, coef, pose_coef, turn_mean = _shape_regression(r, shapes, mean_shape, mean_all, region,
                                                              pos, len(lms), turns)
    modes, mode_sd = _shape_modes(shapes - mean_shape, len(lms))
    profile = _gap_profile(lms)
    lips_idx = list(g.LIPS_OUTER) + list(g.LIPS_INNER)
    lips = np.array([pos[i] for i in lips_idx], np.int32)
    lip_weights = np.array([1.0] * len(g.LIPS_OUTER) + [2.0] * len(g.LIPS_INNER))
    follow, jaw_follow = _follow_weights(mean_all, region)
    ring = _warp_ring(mean_all[region])
    # Triangulate on an opened mouth so the inner-mouth triangles span upper to lower lip.
    opened = mean_shape.reshape(-1, 2) + ((np.array([1.0, 0.5, 1.0]) - feat_mean) @ coef).reshape(-1, 2)
    for kk, (up, lo) in enumerate(g.INNER_PAIRS):
        gap = 0.25 * profile[kk]
        opened[pos[up], 1] -= gap / 2
        opened[pos[lo], 1] += gap / 2
    tris = _lip_aware_mesh(np.vstack([opened, ring]), pos)
    return MouthModel(ref_rigid=ref, region=region, lips=lips, lip_weights=lip_weights,
                      mean_shape=mean_shape.reshape(-1, 2), modes=modes, mode_sd=mode_sd,
                      feat_mean=feat_mean, coef=coef, ap_max=r.ap_max, width_rest=r.width_rest,
                      width_lo=r.width_lo, width_hi=r.width_hi,
                      jaw_lo=r.jaw_lo, jaw_hi=r.jaw_hi, gap_profile=profile, follow=follow,
                      jaw_follow=jaw_follow, ring=ring, tris=tris,
                      frames_used=len(lms), chin_max=r.chin_max,
                      pose_coef=pose_coef, turn_mean=turn_mean,
                      turn_range=np.percentile(turns, [1, 99], axis=0),
                      chin_free_max=_chin_free_max(r, turns, turn_mean, pose_coef, pos),
                      upper_lip_range=r.upper_lip_range, lower_lip_range=r.lower_lip_range,
                      jaw_len_min=r.jaw_len_min, jaw_len_max=r.jaw_len_max)


@dataclass
class _Ranges:
    """What this actor's own frames show: opening, width, jaw and lip thickness, per frame and
    as the ranges the render is held inside."""
    ap: np.ndarray
    wd: np.ndarray
    chin: np.ndarray
    ap_max: float
    width_rest: float
    width_lo: float
    width_hi: float
    jaw_lo: float
    jaw_hi: float
    chin_max: float
    upper_lip_range: tuple
    lower_lip_range: tuple
    jaw_len_min: float
    jaw_len_max: float


def _actor_ranges(lms: list[np.ndarray], norm_all: np.ndarray) -> _Ranges:
    ap = np.array([g.aperture(lm) for lm in lms])
    wd = np.array([g.mouth_width(lm) for lm in lms])
    chin = norm_all[:, g.CHIN, 1]
    ap_max = max(float(np.percentile(ap, 98)), 0.04)
    closed = ap < np.percentile(ap, 30) + 1e-6
    width_rest = float(np.median(wd[closed])) if closed.any() else float(np.median(wd))
    width_lo, width_hi = float(np.percentile(wd, 1)), float(np.percentile(wd, 99))
    jaw_lo, jaw_hi = float(np.percentile(chin, 5)), float(np.percentile(chin, 98))
    # The yardstick's margin of a just noticeable jaw change is 0.01 eye distances.
    chin_max = float(chin.max()) + 0.005
    iods = np.array([g.interocular(lm) for lm in lms])
    up_th = np.array([np.linalg.norm(lm[0] - lm[13]) for lm in lms]) / iods
    low_th = np.array([np.linalg.norm(lm[14] - lm[17]) for lm in lms]) / iods
    upper_lip_range = _held_in(up_th)
    lower_lip_range = _held_in(low_th)
    jaw_len_min, jaw_len_max = _held_in(
        np.array([np.linalg.norm(lm[g.NOSE_TIP] - lm[g.CHIN]) for lm in lms]) / iods)
    if jaw_hi - jaw_lo < 0.02:
        jaw_hi = jaw_lo + 0.02
    return _Ranges(ap, wd, chin, ap_max, width_rest, width_lo, width_hi, jaw_lo, jaw_hi, chin_max,
                   upper_lip_range, lower_lip_range, jaw_len_min, jaw_len_max)


# A re-track of the rendered face (the yardstick's, frame by frame) reads the lower lip's thickness
# off the planned one by 0.007-0.013 eye distances (1 sd; 5th-95th percentile -0.022..+0.016 on
# hard talk_e, about +-0.014 on talk-set talk_e, selfie and talk_b), the nose-to-chin length by
# 0.015 (talk_b; 0.024 on selfie, whose chin leaves the picture): a shape planned at the edge of
# the actor's range is read outside it about one frame in four. Planned lip thickness and jaw
# length are held this far inside the range.
RETRACK_MARGIN = 0.015


def _held_in(values: np.ndarray) -> tuple[float, float]:
    """The range a planned measure (a lip's thickness, the jaw's length) is held in: the actor's
    2nd-98th percentile in the shot pulled in at each end by RETRACK_MARGIN, keeping at least the
    middle third of it."""
    lo, hi = float(np.percentile(values, 2)), float(np.percentile(values, 98))
    m = min(RETRACK_MARGIN, (hi - lo) / 3)
    return lo + m, hi - m


def _shape_regression(r: _Ranges, shapes, mean_shape, mean_all, region, pos, n: int, turns):
    """Opening, width, jaw and head turn -> the region's shape offsets, a ridge regression on
    the shot. Returns the mouth parameters' mean and coefficients (3, 2P), and the head turn's
    coefficients (2, 2P) and mean."""
    feats = np.stack([r.ap / r.ap_max, WIDTH_RELAXED + (r.wd / r.width_rest - 1) / WIDTH_SPAN,
                      (r.chin - r.jaw_lo) / (r.jaw_hi - r.jaw_lo)], 1)
    feat_mean = feats.mean(0)
    x = feats - feat_mean
    y = shapes - mean_shape
    # Ridge: a shot with little variety in one parameter must not produce wild coefficients.
    lam = 0.05 * n
    coef = np.linalg.solve(x.T @ x + lam * np.eye(3), x.T @ y)
    # The head turn's effect is learned jointly with the mouth parameters (the partial effect of
    # a turn at a fixed mouth: a turned mouth also reads narrower), while the mouth's own
    # coefficients stay those of the mouth alone (so the choice of exemplars is the same as
    # without it). The turn measures are put on a unit spread for the ridge (a turn of a few
    # degrees is a few hundredths of them). A shot whose turn spreads less than TURN_SD_LO
    # learns nothing (its turns are landmark noise: fitted, they moved a still astronaut's
    # mouth by 0.008 eye distances), one over TURN_SD_HI all; and pose_shift never leaves the
    # turns the shot shows.
    terms = turn_terms(turns)
    turn_mean = terms.mean(0)
    spread = turns.std(0)[[0, 0, 1]]
    t_sd = np.maximum(terms.std(0), 1e-6)
    trust = np.clip((spread - TURN_SD_LO) / (TURN_SD_HI - TURN_SD_LO), 0.0, 1.0)
    use = trust > 0
    pose_coef = np.zeros((3, y.shape[1]))
    if use.any():
        xj = np.hstack([x, (terms[:, use] - turn_mean[use]) / t_sd[use]])
        sol = np.linalg.solve(xj.T @ xj + lam * np.eye(xj.shape[1]), xj.T @ y)[3:]
        pose_coef[use] = sol * (trust[use] / t_sd[use])[:, None]
    # Where the shot never opened much, a regression has nothing to learn opening from: the
    # inner-gap constraint in target_points still opens the lips, and the jaw follows the
    # lower lip by at least this share of the opening.
    lower = pos[14]
    if coef[0, 2 * lower + 1] < 0.3 * r.ap_max:
        jaw_like = np.zeros(len(region))
        for i, k in enumerate(region):
            # points below the mouth drop with the jaw, more the closer they are to the chin line
            yy = mean_all[k, 1]
            if yy > mean_all[14, 1]:
                jaw_like[i] = 1.0
            elif yy > mean_all[61, 1]:
                jaw_like[i] = 0.5 * (yy - mean_all[61, 1]) / max(mean_all[14, 1] - mean_all[61, 1], 1e-6)
        coef[0, 1::2] = np.maximum(coef[0, 1::2], 0.6 * r.ap_max * jaw_like)
    return feat_mean, coef, pose_coef, turn_mean


# Spread (standard deviation) of a turn measure below which a shot counts as not turning, and
# over which its turns are trusted fully: about 0.7 and 2 degrees of yaw (the turn clip's
# measure runs -0.33..+0.27 for -22..+22 degrees).
TURN_SD_LO = 0.01
TURN_SD_HI = 0.03


def turn_terms(turn: np.ndarray) -> np.ndarray:
    """(..., 3) the terms a head turn changes the lower face by: the yaw measure (the mouth
    slides toward the turn), its square (it foreshortens either way) and the nod measure."""
    t = np.asarray(turn, np.float64)
    return np.stack([t[..., 0], t[..., 0] ** 2, t[..., 1]], -1)


def _chin_free_max(r: _Ranges, turns, turn_mean, pose_coef, pos) -> float:
    """The widest jaw of the shot with each frame's head turn taken off (bound_jaw adds the
    output frame's back): the chin is held within what the actor shows at that pose."""
    shift = (turn_terms(turns) - turn_mean) @ pose_coef[:, 2 * pos[g.CHIN] + 1]
    return float((r.chin - shift).max()) + 0.005


def _shape_modes(y: np.ndarray, n: int):
    """The principal modes holding 98% of the shot's shape variance, and their spreads."""
    _, sv, vt = np.linalg.svd(y, full_matrices=False)
    var = sv ** 2
    k = int(np.searchsorted(np.cumsum(var) / max(var.sum(), 1e-12), 0.98) + 1)
    k = max(1, min(k, len(sv)))
    return vt[:k], sv[:k] / np.sqrt(max(n - 1, 1))


def _gap_profile(lms: list[np.ndarray]) -> np.ndarray:
    """How the inner lips part along the mouth, relative to the middle, on the open frames."""
    gaps = np.array([[np.linalg.norm(lm[a] - lm[b]) for a, b in g.INNER_PAIRS] for lm in lms])
    main = np.array([[np.linalg.norm(lm[a] - lm[b]) for a, b in g.APERTURE_PAIRS] for lm in lms]).mean(1)
    openish = main > np.percentile(main, 75)
    if openish.sum() >= 2 and main[openish].mean() > 1e-3:
        profile = (gaps[openish] / main[openish, None]).mean(0)
    else:
        profile = np.array([0.35, 0.7, 0.9, 1.0, 1.05, 1.0, 0.9, 0.7, 0.35])
    return np.clip(profile, 0.05, 1.6)


def _follow_weights(mean_all: np.ndarray, region: np.ndarray):
    """How far each point follows an exemplar's mouth: fully on the lips and chin, fading to
    nothing at the nose base, the cheeks and the sides of the jaw (the patch's edge); and how far
    the points below the lips follow the jaw."""
    mc = (mean_all[61] + mean_all[291]) / 2
    half_w = np.linalg.norm(mean_all[291] - mean_all[61]) / 2
    up_span = max(mc[1] - mean_all[g.NOSE_BASE, 1], 1e-3)
    down_span = max(mean_all[g.CHIN, 1] - mc[1], 1e-3) * 1.6
    rel = mean_all[region] - mc
    d = np.hypot(rel[:, 0] / (2.2 * half_w), rel[:, 1] / np.where(rel[:, 1] < 0, up_span, down_span))
    follow = np.clip((1.0 - d) / 0.35, 0.0, 1.0)
    follow = follow * follow * (3 - 2 * follow)      # smoothstep
    lips_set = set(g.LIPS_OUTER) | set(g.LIPS_INNER)
    below = np.array([mean_all[k, 1] > mean_all[14, 1] and int(k) not in lips_set for k in region])
    return follow, np.where(below, 0.6 * follow, 0.0)


def _warp_ring(reg: np.ndarray) -> np.ndarray:
    """Warp boundary: an ellipse around the region, far enough out that the chin can drop and the
    mouth can widen without the boundary moving; in the normalised space, so each frame's pose
    places it."""
    c = reg.mean(0)
    half = (reg.max(0) - reg.min(0)) / 2
    ang = np.linspace(0, 2 * np.pi, 24, endpoint=False)
    return c + np.stack([np.cos(ang) * (half[0] * 1.25 + 0.12), np.sin(ang) * (half[1] * 1.25 + 0.15)], 1)


def _lip_aware_mesh(pts: np.ndarray, pos: dict) -> np.ndarray:
    """Delaunay over the skin, and fixed bands for the lips and the mouth opening.

    A plain Delaunay has triangles from one lip to the other, which turn inside out when the
    mouth closes; here the upper lip, the lower lip and the opening are strips between their own
    contours, so setting the gap to anything from 0 up keeps every triangle the right way round.
    """
    # The skin's Delaunay leaves the inner-lip points out: with them in, a thin upper lip let it
    # join the points under the nose to the inner lip (393-312-164, 311-393-391: centroids
    # outside the lips, so kept), triangles lying over the upper lip's strip; its pixels then
    # took the skin's map, a fold at the lip's border that showed as a pale stepped line along
    # it on exemplars borrowed from other footage (library_set talk_f f18, f28).
    # Nor any other point that lies inside the outer lips on this shape: held-out ve_sticker
    # (full lips, open to wide "o"s) has Face Mesh 313 just inside its lower lip on the shot's
    # mean shape; the skin's triangle from it across the lip (313-314-17) was dropped as lip, and
    # the skin between 313, 314 and 405 had no triangle, a hole the warp's raster filled from
    # the lip's edge: grey and red spikes under the lower lip of every closed frame (f30, f55,
    # f68). Left out, the warp maps the point's pixels by the triangle it lies in.
    outer = np.array([pts[pos[i]] for i in g.LIPS_OUTER], np.float32)
    inner = np.array([pos[i] for i in g.LIPS_INNER])
    on_outer = {pos[i] for i in g.LIPS_OUTER}
    inside = [k for k in range(len(pts)) if k not in on_outer
              and cv2.pointPolygonTest(outer, (float(pts[k, 0]), float(pts[k, 1])), False) >= 0]
    skin = np.setdiff1d(np.arange(len(pts)), np.r_[inner, np.asarray(inside, int)])
    tris = skin[_delaunay(pts[skin])]
    cent = pts[tris].mean(1)
    keep = [cv2.pointPolygonTest(outer, (float(x), float(y)), False) < 0 for x, y in cent]
    tris = list(tris[np.array(keep, bool)])
    up_o = [61, 185, 40, 39, 37, 0, 267, 269, 270, 409, 291]
    lo_o = [61, 146, 91, 181, 84, 17, 314, 405, 321, 375, 291]
    up_i = [78, 191, 80, 81, 82, 13, 312, 311, 310, 415, 308]
    lo_i = [78, 95, 88, 178, 87, 14, 317, 402, 318, 324, 308]

    def strip(a, b):
        out = []
        for k in range(len(a) - 1):
            p0, p1, q0, q1 = (pos[a[k]], pos[a[k + 1]], pos[b[k]], pos[b[k + 1]])
            for t in ((p0, p1, q1), (p0, q1, q0)):
                if len(set(t)) == 3:
                    out.append(list(t))
        return out
    tris += strip(up_o, up_i) + strip(lo_o, lo_i) + strip(up_i, lo_i)
    return np.array(tris, np.int32)


def _delaunay(pts: np.ndarray) -> np.ndarray:
    from scipy.spatial import Delaunay
    return np.asarray(Delaunay(pts).simplices, np.int32)
