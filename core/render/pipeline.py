"""Render a shot: plan (model, library, exemplar path, targets), gather exemplars, synthesise frames.

The plan needs only landmarks and the mouth-shape track; pixels are read in two streaming passes
(one to copy the bounded exemplar library's lower-face crops, one to render), so memory does not
grow with the shot's length beyond a few numbers per frame.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import cv2
import numpy as np

from . import frame_score
from . import geometry as g
from . import select
from .model import MouthModel, fit_model
from .synth import Exemplar, Look, Patch, crop_box, retrack_shift, synthesize

REST = (0.0, 0.45, 0.05, 0.03)     # aperture, width, rounding, jaw of a closed relaxed mouth
RAMP_FRAMES = 4
SHAPE_SMOOTH_FRAMES = 0.8   # Gaussian sigma, frames


# The mouth model is learned from at most this many frames, spread evenly over a long shot: the
# actor's range and modes are as well known from them as from all, at a bounded cost.
MAX_MODEL_FRAMES = 1500


@dataclass
class RenderPlan:
    """What to render, at a few numbers a frame: the per-frame target and own points are derived
    on demand from the shot's landmarks and the chosen exemplars, so a long shot's plan does not
    hold a copy of its geometry (docs/speed.md: memory flat in the shot's length)."""
    n: int                              # frames in the rendered range
    model: MouthModel | None
    active: np.ndarray                  # (n,) bool: frame gets a synthesised lower face
    fade: np.ndarray                    # (n,) 0..1 alpha ramp near passed-through frames
    exemplar: np.ndarray                # (n,) source frame (range index) each frame is built from, -1
    lib_frames: np.ndarray              # range indices of the exemplar library
    lib_points: dict = field(default_factory=dict)   # frame -> (P + Q, 2) points
    want: np.ndarray | None = None      # (n, 3) target parameters actually rendered
    own_params: np.ndarray | None = None
    landmarks: list | None = None       # per frame (478, 2) or None: the analysis's, not copies
    poses: np.ndarray | None = None     # (n, 2, 3) pixel -> normalised, NaN when unusable
    gap: np.ndarray | None = None       # (n,) float32 target inner-lip gap / IOD
    lib_shapes: np.ndarray | None = None  # (K, P, 2) float32 normalised pose-free exemplar regions
    lib_pos: np.ndarray | None = None   # (n,) int32 library position of exemplar[i], -1
    usable_idx: np.ndarray | None = None  # range indices the path runs over
    costs: np.ndarray | None = None     # (len(usable_idx), K) float32 data costs from landmarks
    trans: np.ndarray | None = None     # (K, K) transition costs
    turns: np.ndarray | None = None     # (n, 2) float32 geometry.head_turn, 0 off the usable frames
    peaks: np.ndarray | None = None     # (n,) bool: the wanted opening's peaks (opening_peaks)
    lib_ap: np.ndarray | None = None    # (K,) the library frames' tracked openings (gap / IOD)
    lib_widths: np.ndarray | None = None  # (K,) their corner widths as matched (corner_width)
    # Output frame ranges built from an exemplar the frame scoring found atypical (the shot had
    # no clean mouth of that shape): [{"start", "end", "reason"}], range indices.
    exemplar_flags: list = field(default_factory=list)
    # Output frame ranges built from other footage of the actor (lipflap.pipeline.actor_library):
    # [{"start", "end", "library", "library_frames"}], and those whose exemplar lacks the shape
    # asked for: [{"start", "end", "reason"}], range indices.
    borrowed: list = field(default_factory=list)
    lacking: list = field(default_factory=list)
    # The last patch rendered, (range index, Patch): a jump to another exemplar is blended with
    # it (render_frame is called in frame order by one worker).
    last_patch: tuple | None = None

    def shape(self, i: int) -> np.ndarray:
        """Frame i's target mouth: the chosen exemplars' own mouths, smoothed over time
        (Gaussian, edges of a run of rendered frames held), so a jump between exemplars glides
        over a couple of frames."""
        r = int(np.ceil(3 * SHAPE_SMOOTH_FRAMES)) if SHAPE_SMOOTH_FRAMES > 0 else 0
        lo, hi = i, i
        while lo > i - r and lo > 0 and self.lib_pos[lo - 1] >= 0:
            lo -= 1
        while hi < i + r and hi < self.n - 1 and self.lib_pos[hi + 1] >= 0:
            hi += 1
        if hi - lo + 1 < 3 or r == 0:
            # too short a run to smooth (as a whole-run smoothing leaves it)
            return self.lib_shapes[self.lib_pos[i]].astype(np.float64)
        out = np.zeros(self.lib_shapes.shape[1:])
        for d in range(-r, r + 1):
            j = min(max(i + d, lo), hi)
            out += _KERNEL[d + r] * self.lib_shapes[self.lib_pos[j]]
        return out

    def targets(self, i: int) -> np.ndarray | None:
        """(P + Q, 2) float32 target points of range frame i in its pixels, None if not rendered."""
        if self.lib_pos is None or self.lib_pos[i] < 0:
            return None
        m, lm, pose = self.model, self.landmarks[i], self.poses[i]
        reg = m.place(lm, pose, self.shape(i), float(self.gap[i]), width=float(self.want[i, 1]),
                      turn=self.turns[i])
        return np.vstack([reg, m.ring_points(pose)]).astype(np.float32)

    def own(self, i: int) -> np.ndarray | None:
        """(P + Q, 2) float32: frame i's own region points and warp ring."""
        if self.lib_pos is None or self.lib_pos[i] < 0:
            return None
        m = self.model
        return np.vstack([self.landmarks[i][m.region], m.ring_points(self.poses[i])]).astype(np.float32)


def _kernel(sigma: float) -> np.ndarray:
    r = int(np.ceil(3 * sigma))
    k = np.exp(-0.5 * (np.arange(-r, r + 1) / sigma) ** 2)
    return k / k.sum()


_KERNEL = _kernel(SHAPE_SMOOTH_FRAMES) if SHAPE_SMOOTH_FRAMES > 0 else np.ones(1)


def plan_render(landmarks: list, usable: np.ndarray, params: np.ndarray, strength: float = 1.0,
                max_library: int = 96, ramp: int = RAMP_FRAMES) -> RenderPlan:
    """landmarks: per range frame (478, 2) pixels or None (kept by reference in the plan);
    usable: (n,) bool (analysis flags); params: (n, 4) aperture, width, rounding, jaw."""
    n = len(landmarks)
    usable = np.array([bool(u) and lm is not None for u, lm in zip(usable, landmarks)])
    idx = np.flatnonzero(usable)
    empty = RenderPlan(n, None, np.zeros(n, bool), np.zeros(n), np.full(n, -1), np.array([], int))
    if len(idx) < 3:
        return empty
    learn = idx if len(idx) <= MAX_MODEL_FRAMES else \
        idx[np.round(np.linspace(0, len(idx) - 1, MAX_MODEL_FRAMES)).astype(int)]
    model = fit_model([np.asarray(landmarks[i], np.float64) for i in learn])

    # Fade: distance (in frames) to the nearest passed-through frame, so shapes and alpha ramp.
    dist = np.full(n, ramp + 1.0)
    bad = np.flatnonzero(~usable)
    if len(bad):
        # nearest bad frame by binary search (a (n, bad) distance table grows with the square)
        pos = np.searchsorted(bad, np.arange(n))
        left = np.abs(np.arange(n) - bad[np.clip(pos - 1, 0, len(bad) - 1)])
        right = np.abs(bad[np.clip(pos, 0, len(bad) - 1)] - np.arange(n))
        dist = np.minimum(left, right).astype(float)
    fade = np.clip(dist / (ramp + 1.0), 0.0, 1.0) * usable

    poses = np.full((n, 2, 3), np.nan)
    own_feat = np.zeros((n, 3))
    lips = model.region[model.lips]
    own_shapes = np.zeros((len(idx), len(lips), 2), np.float32)
    turn = np.zeros((len(idx), 2))
    for k, i in enumerate(idx):
        p = model.pose(landmarks[i])
        poses[i] = p
        own_feat[i] = model.features(landmarks[i], p)
        own_shapes[k] = g.apply(p, landmarks[i][lips])
        turn[k] = g.head_turn(landmarks[i], p)
    track = np.array([model.track_features(*p) for p in params])
    s = float(np.clip(strength, 0.0, 1.0))
    want = own_feat + (s * fade)[:, None] * (track - own_feat)

    # Matching: exemplars against the model's mouth for the wanted parameters.
    t_shapes = np.array([model.match_lips(want[i]) for i in idx], np.float32)
    t_ap = np.maximum(want[idx, 0], 0.0) * model.ap_max
    lib = select.choose_library(idx, own_shapes.reshape(len(idx), -1), max_size=max_library)
    pos_in_idx = np.searchsorted(idx, lib)
    lib_lips = own_shapes[pos_in_idx]
    lib_ap = np.array([g.aperture(landmarks[f]) for f in lib])
    lib_index = np.full(n, -1)
    lib_index[lib] = np.arange(len(lib))
    self_index = lib_index[idx]
    gap = np.zeros(n, np.float32)
    gap[idx] = t_ap
    peaks = _opening_peaks(gap, usable)
    costs = select.data_costs(t_shapes, t_ap, lib_lips, lib_ap, model.lip_weights, self_index,
                              turn, turn[pos_in_idx], relaxed_width=model.width_rest,
                              peaks=peaks[idx], wanted_widths=wanted_widths(model, want[idx]))
    del t_shapes, own_shapes
    trans = select.transition_costs(lib, lib_lips)

    lib_pos = _path(n, idx, costs, trans)
    exemplar = np.where(lib_pos >= 0, lib[np.maximum(lib_pos, 0)], -1)
    gap = _ease_gap(gap, usable)
    turns = np.zeros((n, 2), np.float32)
    turns[idx] = turn
    # Pose-free exemplar shapes: each is turned to the output frame's pose when placed.
    lib_shapes = np.array([g.apply(poses[f], landmarks[f][model.region]) - model.pose_shift(turns[f])
                           for f in lib], np.float32)
    lib_points = {int(f): np.vstack([landmarks[f][model.region],
                                     model.ring_points(poses[f])])
                  for f in lib}
    # At strength 0 (or the edge of a ramp) the frame is the source's own: pass it through.
    active = usable & (s * fade > 0)
    return RenderPlan(n, model, active, fade, exemplar, lib, lib_points, want, own_feat,
                      list(landmarks), poses, gap, lib_shapes, lib_pos, idx,
                      costs.astype(np.float32), trans, turns=turns, peaks=peaks, lib_ap=lib_ap,
                      lib_widths=select.corner_width(lib_lips))


# The rendered opening, eased over time: a 3-tap average of the wanted gap within each run of
# rendered frames, sealed frames (gap under select.CLOSED_GAP) kept shut. The dub's track opens
# a mouth from a seal to its full vowel in one frame and shuts it in the next (expr_sad "Mama":
# 0, 0, 0.20, 0.20, 0, 0 eye distances), which the real mouth does over two or three: the
# rendered lips' roughness (second over first temporal difference) was 1.48 on expr_disgusted
# against the source's own 1.09; with this easing the pixels' roughness ratio (lipeval) fell
# 1.105 -> 1.069 (expr_disgusted) and 1.137 -> 1.116 (expr_sad), closures, openings, rest and
# best lag unchanged; the planned track's timing_r0 against the phones is unchanged (talk_e 0.792
# -> 0.801, selfie 0.800 -> 0.799). A frame wider than both neighbours (a vowel's widest) keeps its
# opening: eased, a short vowel between two closures showed half of it (audio-only dubs, lipeval
# opening: talk_g de 1.00 -> 0.90, talk_a fr 1.00 -> 0.91; with the peak kept 1.00 and 1.00).
EASE = (0.25, 0.5, 0.25)


def _ease_gap(gap: np.ndarray, usable: np.ndarray) -> np.ndarray:
    out = gap.copy()
    for seg in _runs(usable):
        if len(seg) < 3:
            continue
        g = gap[seg].astype(np.float64)
        padded = np.concatenate([g[:1], g, g[-1:]])
        eased = EASE[0] * padded[:-2] + EASE[1] * padded[1:-1] + EASE[2] * padded[2:]
        out[seg] = np.where((g < select.CLOSED_GAP) | select.opening_peaks(g), g, eased)
    return out


def _opening_peaks(gap: np.ndarray, usable: np.ndarray) -> np.ndarray:
    """(n,) bool: select.opening_peaks of the wanted gap in each run of usable frames."""
    out = np.zeros(len(gap), bool)
    for seg in _runs(usable):
        out[seg] = select.opening_peaks(gap[seg])
    return out


def _runs(usable: np.ndarray) -> list[np.ndarray]:
    """The runs of consecutive usable frames (range indices)."""
    idx = np.flatnonzero(usable)
    return np.split(idx, np.flatnonzero(np.diff(idx) > 1) + 1)


def _path(n: int, idx: np.ndarray, costs: np.ndarray, trans: np.ndarray) -> np.ndarray:
    """Library position per range frame (-1 off the usable frames): Viterbi per run of usable
    frames, since a passed-through frame breaks the chain."""
    lib_pos = np.full(n, -1, np.int32)
    breaks = np.flatnonzero(np.diff(idx) > 1) + 1
    for seg in np.split(np.arange(len(idx)), breaks):
        if len(seg):
            lib_pos[idx[seg]] = select.viterbi(costs[seg], trans)
    return lib_pos


def reason_spans(reasons) -> list[dict]:
    """(frame, reason) pairs in frame order -> [{"start", "end", "reason"}], consecutive frames
    with one reason joined; an empty reason is no flag."""
    out: list[dict] = []
    for i, reason in reasons:
        if not reason:
            continue
        if out and out[-1]["end"] == i - 1 and out[-1]["reason"] == reason:
            out[-1]["end"] = int(i)
        else:
            out.append({"start": int(i), "end": int(i), "reason": reason})
    return out


def rechoose(plan: RenderPlan, scores: dict, lib: dict | None = None, peak: float = 255.0,
             still: dict | None = None,
             textures: "select.TextureDescriptors | None" = None) -> None:
    """Choose the exemplar path again with each library frame's pixel scores: a frame the
    scoring flags (tongue out, clenched teeth, twisted lips, blur) costs FLAG_COST, so it is used
    only where no clean frame has the shape; output frames built from one are listed in
    plan.exemplar_flags with the reasons. With the crops (`lib`, frame -> Exemplar, values up to
    `peak`), a jump between exemplars also costs the texture pop it makes
    (select.texture_distances). `still` (library frame -> aperture seen on its own,
    seen.still_aperture) rematches the exemplars whose tracked opening was off. `textures`: the
    crops' texture descriptors made as they were cut (select.TextureDescriptors)."""
    if plan.costs is None or not len(plan.lib_frames):
        return
    bad = np.array([0.0 if scores.get(int(f)) is None or scores[int(f)].clean
                    else frame_score.FLAG_COST for f in plan.lib_frames], np.float32)
    trans = plan.trans
    if lib is not None and all(int(f) in lib for f in plan.lib_frames):
        m = plan.model
        dist = select.texture_distances([lib[int(f)] for f in plan.lib_frames], m.region, m.lips,
                                        m.tris, peak, made=textures)
        trans = select.with_texture_jumps(trans, plan.lib_frames, dist)
    seen_delta = _seen_delta(plan, still) if still else None
    if bad.any() or trans is not plan.trans or seen_delta is not None:
        costs = plan.costs + bad[None]
        if seen_delta is not None:
            costs += seen_delta
        plan.lib_pos = _path(plan.n, plan.usable_idx, costs, trans)
        plan.exemplar = np.where(plan.lib_pos >= 0, plan.lib_frames[np.maximum(plan.lib_pos, 0)], -1)
    reasons = []
    for i in np.flatnonzero(plan.exemplar >= 0):
        s = scores.get(int(plan.exemplar[i]))
        reasons.append((int(i), "atypical_exemplar:" + "+".join(s.reasons)
                        if s is not None and s.reasons else ""))
    plan.exemplar_flags = reason_spans(reasons)
    plan.costs = None        # not needed again; a long shot should not carry it into the render


def wanted_widths(model: MouthModel, want: np.ndarray) -> np.ndarray:
    """(T,) the corner distances / IOD the track asks for at each of `want`'s rows (aperture,
    width, jaw on the model's scales), before the actor's range bounds them: how rounded each
    target is, for the exemplar choice (select.width_ramp)."""
    return np.array([model.raw_width(w, bounded=False) for w in want[:, 1]])


def _seen_delta(plan: RenderPlan, still: dict) -> np.ndarray | None:
    """(usable frames, K) float32 change of the data costs when the shot's own library frames
    are matched by the opening they show on their own (`still`); None when none changes.
    Borrowed frames (past plan.n) were not looked at on their own."""
    st = np.array([still.get(int(f), np.nan) for f in plan.lib_frames])
    if plan.lib_ap is not None:
        lib_ap = np.asarray(plan.lib_ap, np.float64)
    else:
        lib_ap = np.array([g.aperture(plan.landmarks[int(f)]) if np.isfinite(v) else 0.0
                           for f, v in zip(plan.lib_frames, st)])
    idx, m = plan.usable_idx, plan.model
    peaks = None if plan.peaks is None else plan.peaks[idx]
    widths = None
    if peaks is not None and plan.lib_widths is not None:
        widths = (wanted_widths(m, plan.want[idx]), plan.lib_widths, m.width_rest)
    delta = select.seen_aperture_delta(plan.gap[idx].astype(np.float64), lib_ap, st, peaks, widths)
    return delta.astype(np.float32) if delta.any() else None


class LibraryBuilder:
    """Copies the lower-face crops of the exemplars the path uses while frames stream past."""

    def __init__(self, plan: RenderPlan, seen: np.ndarray | None = None,
                 raw_lips: list | None = None):
        """`seen`: per range frame of the plan, the opening the analysis pass's still look saw
        (FrameFace.seen, NaN where it did not look; lipflap.render.seen); None: every exemplar
        is matched by its track. The builder never looks itself: a fresh and a cached analysis
        carry the same looks, so the same job chooses the same exemplars either way.
        `raw_lips`: per range frame of the plan, the tracker's unsmoothed lip contours ((40, 2),
        g.LIPS_OUTER then g.LIPS_INNER, frame pixels; None where none), which set each
        exemplar's lip_shift (synth.retrack_shift); None: no exemplar is shifted."""
        self.plan = plan
        self.seen = seen
        self.raw_lips = raw_lips
        # Every library frame is a candidate until its pixels are scored (finish chooses the
        # path again and drops the crops it does not use).
        self.wanted = {int(f) for f in plan.lib_frames} if plan.model is not None else set()
        self.last = max(self.wanted) if self.wanted else -1
        self.lib: dict[int, Exemplar] = {}
        self.scores: dict[int, frame_score.FrameScore] = {}
        self.still: dict[int, float] = {}       # the opening seen of each library frame
        self.peak = 255.0
        self.textures = _textures(plan, self.wanted)

    def feed(self, i: int, img) -> None:
        """Range frame i of this plan: RGB uint8 or uint16, or its media Frame (then only the
        exemplar's box is converted)."""
        if i not in self.wanted or i in self.lib:
            return
        pts = self.plan.lib_points[i]
        if hasattr(img, "region"):
            wid, hgt = img.size
            x0, y0, w, h = crop_box(pts, wid, hgt, pad=6)
            crop = np.array(img.region(x0, y0, w, h), copy=True)
        else:
            x0, y0, w, h = crop_box(pts, img.shape[1], img.shape[0], pad=6)
            crop = img[y0:y0 + h, x0:x0 + w].copy()
        m = self.plan.model
        self.peak = 65535.0 if crop.dtype == np.uint16 else 255.0
        raw = self.raw_lips[i] if self.raw_lips is not None and i < len(self.raw_lips) else None
        shift = 0.0 if raw is None else retrack_shift(crop, x0, y0, pts[:len(m.region)][m.lips],
                                                      raw, self.peak)
        self.lib[i] = Exemplar(i, crop, x0, y0, pts, _gap(pts, m), lip_shift=shift)
        if self.textures is not None:
            self.textures.add(self.lib[i])
        self.scores[i] = frame_score.measure(i, crop, pts[:len(m.region)] - [x0, y0], m.region,
                                             m.lips, self.plan.poses[i], m.ap_max, self.peak)
        self._look(i)

    def _look(self, i: int) -> None:
        """The opening library frame i showed on its own where its track may lag (seen)."""
        if self.seen is not None and np.isfinite(self.seen[i]):
            self.still[i] = float(self.seen[i])

    def finish(self, extra: Callable[["LibraryBuilder"], None] | None = None
               ) -> tuple[dict, Look | None]:
        """Score the crops, choose the path again and keep the crops it uses. `extra(self)`, run
        once the shot's own frames are scored, may add exemplars from other footage (lib, scores
        and the plan's library together)."""
        if not self.lib:
            return {}, None
        # In frame order, whatever order the frames were fed in (the library stage feeds kept
        # frames from two threads, lipflap.pipeline.library), as a pass in frame order fills them.
        self.lib, self.scores, self.still = (dict(sorted(d.items()))
                                             for d in (self.lib, self.scores, self.still))
        frame_score.judge(list(self.scores.values()))
        look = _look(self.lib, self.plan.model, self.peak, self.scores)   # the shot's own look
        if extra is not None:
            extra(self)
        rechoose(self.plan, self.scores, self.lib, self.peak, self.still, self.textures)
        self.textures = None        # it holds every crop; the unused ones go now
        used = {int(f) for f in self.plan.exemplar if f >= 0}
        self.lib = {f: e for f, e in self.lib.items() if f in used}
        return self.lib, look


def _textures(plan: RenderPlan, wanted: set) -> "select.TextureDescriptors | None":
    """Texture descriptors to make as the library's crops are cut, on the shape rechoose will
    compare them on (its exemplars are the plan's library frames, in that order); None without
    a library to compare."""
    if plan.model is None or len(wanted) < 2:
        return None
    m = plan.model
    pts = [plan.lib_points[int(f)] for f in plan.lib_frames]
    shape = select.appearance_shape(pts, [_gap(p, m) for p in pts], m.region, m.lips)
    return select.TextureDescriptors(shape, m.region, m.lips, m.tris)


def _gap(pts: np.ndarray, model: MouthModel) -> float:
    pos = {k: i for i, k in enumerate(np.asarray(model.region).tolist())}
    return float(np.mean([np.linalg.norm(pts[pos[a]] - pts[pos[b]]) for a, b in g.APERTURE_PAIRS]))


def _look(lib: dict, model: MouthModel, peak: float, scores: dict | None = None) -> Look:
    """Mouth-interior colours from the most open clean exemplar (dark cavity; tongue lower down)."""
    cavity = np.array([0.10, 0.045, 0.045]) * peak
    tongue = np.array([0.30, 0.13, 0.13]) * peak
    clean = [e for f, e in lib.items() if scores is None or f not in scores or scores[f].clean]
    open_ex = None
    if clean:
        ex = max(clean, key=lambda e: e.gap)
        if ex.gap > 3.0:
            open_ex = ex
            inner = ex.points[:len(model.region)][model.lips[20:]] - [ex.x0, ex.y0]
            m = np.zeros(ex.image.shape[:2], np.uint8)
            cv2.fillPoly(m, [np.round(inner).astype(np.int32)], 1)
            m = cv2.erode(m, np.ones((3, 3), np.uint8))
            px = ex.image[m > 0].astype(np.float64)
            if len(px) >= 20:
                lum = px.mean(1)
                cavity = px[lum <= np.percentile(lum, 15)].mean(0)
                ys = np.nonzero(m)[0]
                low = px[ys >= np.percentile(ys, 60)]
                tongue = np.median(low, 0) if len(low) else cavity * 2
                tongue = np.minimum(tongue, cavity * 3 + 0.05 * peak)
    lips = frame_score.lip_range(list(scores.values())) if scores else None
    return Look(peak=peak, cavity=cavity.astype(np.float32), tongue=tongue.astype(np.float32),
                lip_range=lips, open_ex=open_ex)


def render_frame(plan: RenderPlan, lib: dict, look: Look, i: int, image) -> Patch | None:
    """The patch for range frame i, or None when the frame passes through untouched. `image` is
    the frame's RGB array or its media Frame (then only the patch's box is converted)."""
    if not plan.active[i] or plan.fade[i] <= 0 or plan.exemplar[i] < 0:
        return None
    ex = lib.get(int(plan.exemplar[i]))
    if ex is None:
        return None
    # The previous frame's lips are blended in (steadier lip texture) unless the mouth closes or
    # opens from a closure there: blending an opening into a closure parts the lips (expr_sad
    # closure rate 1.00 -> 0.86 when every jump was blended).
    # The skin around them takes the previous frame's in any case (synth.SKIN_SHARE).
    # (only the frame just before this one: a gap or a passed-through frame breaks the chain)
    prev, share = plan.last_patch, 0.0
    if prev is not None and (i == 0 or prev[0] != i - 1):
        prev = None
    if prev is not None:
        e0, e1 = int(plan.exemplar[i - 1]), int(plan.exemplar[i])
        if min(float(plan.gap[i - 1]), float(plan.gap[i])) >= select.CLOSED_GAP:
            share = JUMP_BLEND if e1 not in (e0, e0 + 1) else STEP_BLEND
    patch = synthesize(image, ex, plan.targets(i).astype(np.float64), plan.own(i).astype(np.float64),
                       plan.model, look, float(plan.fade[i]), is_self=int(plan.exemplar[i]) == i,
                       prev=prev[1] if prev is not None else None, prev_share=share)
    plan.last_patch = (i, patch) if patch is not None else None
    return patch


# A jump to another exemplar changes the lips' texture at once (a pop the roughness measure sees:
# expr_sad 1.15); on the jump frame the lips are this share the previous frame's, on other open
# frames STEP_BLEND (expr_disgusted roughness 1.12 -> 1.07 with 0.25; the fine band lost in the
# blend is given back by the detail match).
JUMP_BLEND = 0.4
STEP_BLEND = 0.25
