"""Render a shot: plan (model, library, exemplar path, targets), gather exemplars, synthesise frames.

The plan needs only landmarks and the mouth-shape track; pixels are read in two streaming passes
(one to copy the bounded exemplar library's lower-face crops, one to render), so memory does not
grow with the shot's length beyond a few numbers per frame.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Iterable

import cv2
import numpy as np

from . import geometry as g
from . import select
from .model import MouthModel, fit_model
from .synth import Exemplar, Look, Patch, crop_box, synthesize

REST = (0.0, 0.45, 0.05, 0.03)     # aperture, width, rounding, jaw of a closed relaxed mouth
RAMP_FRAMES = 4
SHAPE_SMOOTH_FRAMES = 0.8   # Gaussian sigma, frames


@dataclass
class RenderPlan:
    n: int                              # frames in the rendered range
    model: MouthModel | None
    active: np.ndarray                  # (n,) bool: frame gets a synthesised lower face
    fade: np.ndarray                    # (n,) 0..1 alpha ramp near passed-through frames
    exemplar: np.ndarray                # (n,) source frame (range index) each frame is built from, -1
    targets: list                       # per frame (P + Q, 2) float32 target points or None
    own: list                           # per frame (P + Q, 2) float32 own points or None
    lib_frames: np.ndarray              # range indices of the exemplar library
    lib_points: dict = field(default_factory=dict)   # frame -> (P + Q, 2) points
    want: np.ndarray | None = None      # (n, 3) target parameters actually rendered
    own_params: np.ndarray | None = None


def plan_render(landmarks: list, usable: np.ndarray, params: np.ndarray, strength: float = 1.0,
                max_library: int = 96, ramp: int = RAMP_FRAMES) -> RenderPlan:
    """landmarks: per range frame (478, 2) pixels or None; usable: (n,) bool (analysis flags);
    params: (n, 4) aperture, width, rounding, jaw from the track."""
    n = len(landmarks)
    usable = np.array([bool(u) and lm is not None for u, lm in zip(usable, landmarks)])
    idx = np.flatnonzero(usable)
    empty = RenderPlan(n, None, np.zeros(n, bool), np.zeros(n), np.full(n, -1), [None] * n,
                       [None] * n, np.array([], int))
    if len(idx) < 3:
        return empty
    lms = [np.asarray(landmarks[i], np.float64) for i in idx]
    model = fit_model(lms)

    # Fade: distance (in frames) to the nearest passed-through frame, so shapes and alpha ramp.
    dist = np.full(n, ramp + 1.0)
    bad = np.flatnonzero(~usable)
    if len(bad):
        dist = np.min(np.abs(np.arange(n)[:, None] - bad[None]), axis=1).astype(float)
    fade = np.clip(dist / (ramp + 1.0), 0.0, 1.0) * usable

    poses, own_feat = {}, np.zeros((n, 3))
    for i in idx:
        poses[i] = model.pose(landmarks[i])
        own_feat[i] = model.features(landmarks[i], poses[i])
    track = np.array([model.track_features(*p) for p in params])
    s = float(np.clip(strength, 0.0, 1.0))
    want = own_feat + (s * fade)[:, None] * (track - own_feat)

    # Matching: exemplars against the model's mouth for the wanted parameters.
    norm_own = {i: g.apply(poses[i], landmarks[i][model.region]) for i in idx}
    t_shapes = np.array([model.predict(want[i])[model.lips] for i in idx])
    t_ap = np.array([max(want[i, 0], 0.0) * model.ap_max for i in idx])
    own_shapes = np.array([norm_own[i][model.lips] for i in idx])
    lib = select.choose_library(idx, own_shapes.reshape(len(idx), -1), max_size=max_library)
    pos_in_idx = {int(f): k for k, f in enumerate(idx)}
    lib_shapes = np.array([own_shapes[pos_in_idx[int(f)]] for f in lib])
    lib_ap = np.array([g.aperture(landmarks[f]) for f in lib])
    lib_pos = {int(f): k for k, f in enumerate(lib)}
    self_index = np.array([lib_pos.get(int(f), -1) for f in idx])
    costs = select.data_costs(t_shapes, t_ap, lib_shapes, lib_ap, model.lip_weights, self_index)
    trans = select.transition_costs(lib, lib_shapes)

    exemplar = np.full(n, -1)
    targets, own = [None] * n, [None] * n
    # Viterbi per run of usable frames: a passed-through frame breaks the chain.
    breaks = np.flatnonzero(np.diff(idx) > 1) + 1
    for seg in np.split(np.arange(len(idx)), breaks):
        if not len(seg):
            continue
        path = select.viterbi(costs[seg], trans)
        frames = idx[seg]
        exemplar[frames] = lib[path]
        # Target geometry: the chosen exemplars' own mouths, lightly smoothed over time so a jump
        # between exemplars glides over a couple of frames, placed in each frame's pose.
        shapes = np.array([norm_own[int(lib[k])] for k in path])
        shapes = _smooth_time(shapes, SHAPE_SMOOTH_FRAMES)
        for j, i in enumerate(frames):
            ring = model.ring_points(poses[i])
            reg = model.place(landmarks[i], poses[i], shapes[j], t_ap[pos_in_idx[int(i)]])
            targets[i] = np.vstack([reg, ring]).astype(np.float32)
            own[i] = np.vstack([landmarks[i][model.region], ring]).astype(np.float32)
    lib_points = {int(f): np.vstack([landmarks[f][model.region], model.ring_points(poses[f])])
                  for f in lib}
    # At strength 0 (or the edge of a ramp) the frame is the source's own: pass it through.
    active = usable & (s * fade > 0)
    return RenderPlan(n, model, active, fade, exemplar, targets, own, lib, lib_points,
                      want, own_feat)


class LibraryBuilder:
    """Copies the lower-face crops of the exemplars the path uses while frames stream past."""

    def __init__(self, plan: RenderPlan):
        self.plan = plan
        self.wanted = {int(f) for f in plan.exemplar if f >= 0}
        self.last = max(self.wanted) if self.wanted else -1
        self.lib: dict[int, Exemplar] = {}
        self.peak = 255.0

    def feed(self, i: int, img: np.ndarray) -> None:
        """Range frame i of this plan (RGB uint8 or uint16)."""
        if i not in self.wanted or i in self.lib:
            return
        pts = self.plan.lib_points[i]
        x0, y0, w, h = crop_box(pts, img.shape[1], img.shape[0], pad=6)
        self.lib[i] = Exemplar(i, img[y0:y0 + h, x0:x0 + w].copy(), x0, y0, pts, _gap(pts, self.plan.model))
        self.peak = 65535.0 if img.dtype == np.uint16 else 255.0

    def finish(self) -> tuple[dict, Look | None]:
        if not self.lib:
            return {}, None
        return self.lib, _look(self.lib, self.plan.model, self.peak)


def gather_library(plan: RenderPlan, frames: Iterable[tuple[int, np.ndarray]]) -> tuple[dict, Look | None]:
    """One pass over (range index, RGB image) pairs, stopping after the last exemplar."""
    b = LibraryBuilder(plan)
    for i, img in frames:
        b.feed(i, img)
        if i >= b.last:
            break
    return b.finish()


def _smooth_time(x: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian smoothing along axis 0 (edges held)."""
    if sigma <= 0 or len(x) < 3:
        return x
    r = int(np.ceil(3 * sigma))
    k = np.exp(-0.5 * (np.arange(-r, r + 1) / sigma) ** 2)
    k /= k.sum()
    pad = np.concatenate([np.repeat(x[:1], r, 0), x, np.repeat(x[-1:], r, 0)])
    out = np.zeros_like(x)
    for j, w in enumerate(k):
        out += w * pad[j:j + len(x)]
    return out


def _gap(pts: np.ndarray, model: MouthModel) -> float:
    pos = {int(k): i for i, k in enumerate(model.region)}
    return float(np.mean([np.linalg.norm(pts[pos[a]] - pts[pos[b]]) for a, b in g.APERTURE_PAIRS]))


def _look(lib: dict, model: MouthModel, peak: float) -> Look:
    """Mouth-interior colours from the most open exemplar (dark cavity; tongue lower down)."""
    cavity = np.array([0.10, 0.045, 0.045]) * peak
    tongue = np.array([0.30, 0.13, 0.13]) * peak
    if lib:
        ex = max(lib.values(), key=lambda e: e.gap)
        if ex.gap > 3.0:
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
    return Look(peak=peak, cavity=cavity.astype(np.float32), tongue=tongue.astype(np.float32))


def render_frame(plan: RenderPlan, lib: dict, look: Look, i: int, image: np.ndarray) -> Patch | None:
    """The patch for range frame i, or None when the frame passes through untouched."""
    if not plan.active[i] or plan.fade[i] <= 0 or plan.exemplar[i] < 0:
        return None
    ex = lib.get(int(plan.exemplar[i]))
    if ex is None:
        return None
    return synthesize(image, ex, plan.targets[i].astype(np.float64), plan.own[i].astype(np.float64),
                      plan.model, look, float(plan.fade[i]), is_self=int(plan.exemplar[i]) == i)
