"""Lip shape and colour outliers: output frames whose mouth leaves the actor's own range.

Per frame, from Face Mesh landmarks and the frame's pixels: upper and lower lip thickness, mouth
width and jaw drop (nose tip to chin), each over the eye distance, and the lips' own colour (mean
CIE L* and chroma of the pixels between the outer and the inner lip contour). The source's frames
give the actor's range per feature (1st to 99th percentile, widened by a tenth of its span and by
at least one just-noticeable step: 0.01 eye distances for the geometry, 3 levels of L* or chroma);
an output frame with any feature outside it is flagged with which way it left (a swollen lip, a jaw
pulled down past anything the actor did, lips darker or more saturated than theirs).
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from ..face.landmarks import N_LANDMARKS
from . import regions

FEATURES = ("upper_lip", "lower_lip", "width", "jaw", "lip_L", "lip_chroma")
# What leaving the range each way looks like, for the flags.
WORDS = {("upper_lip", "high"): "upper lip thicker", ("upper_lip", "low"): "upper lip thinner",
         ("lower_lip", "high"): "lower lip thicker", ("lower_lip", "low"): "lower lip thinner",
         ("width", "high"): "mouth wider", ("width", "low"): "mouth narrower",
         ("jaw", "high"): "jaw lower", ("jaw", "low"): "jaw higher",
         ("lip_L", "high"): "lips lighter", ("lip_L", "low"): "lips darker",
         ("lip_chroma", "high"): "lips more saturated", ("lip_chroma", "low"): "lips greyer"}
PERCENTILES = (1.0, 99.0)
WIDEN = 0.1
MIN_MARGIN = np.array([0.01, 0.01, 0.01, 0.01, 3.0, 3.0])
MIN_FRAMES = 5

LIPS_OUTER = regions.MOUTH_OUTER
LIPS_INNER = (78, 191, 80, 81, 82, 13, 312, 311, 310, 415, 308, 324, 318, 402, 317, 14, 87, 178,
              88, 95)
NOSE_TIP, CHIN = 1, 152
UPPER_OUTER, UPPER_INNER, LOWER_INNER, LOWER_OUTER = 0, 13, 14, 17
CORNERS = (61, 291)
# The points lip_features reads (and regions.valid checks). The run keeps only these of each
# frame's unsmoothed Face Mesh points for the quick QC's actor range (the whole 478 would double
# what a long shot holds through the render): 64 of 478, 0.5 kB a frame.
RANGE_POINTS = tuple(sorted(set(LIPS_OUTER) | set(LIPS_INNER) | set(regions.LOWER_FACE)
                            | set(regions.EYE_OUTER) | {NOSE_TIP, CHIN, UPPER_OUTER, UPPER_INNER,
                                                        LOWER_INNER, LOWER_OUTER, *CORNERS}))


def range_points(landmarks) -> np.ndarray | None:
    """(len(RANGE_POINTS), 2) float32: the points of (478, 2+) `landmarks` lip_features reads;
    None stays None."""
    if landmarks is None:
        return None
    return np.asarray(landmarks, np.float32)[list(RANGE_POINTS), :2].copy()


def from_range_points(points: np.ndarray) -> np.ndarray:
    """(478, 2) float64 landmarks holding `points` (range_points') at RANGE_POINTS, NaN elsewhere:
    what lip_features and regions.valid take."""
    full = np.full((N_LANDMARKS, 2), np.nan)
    full[list(RANGE_POINTS)] = points
    return full


def lip_features(landmarks, image: np.ndarray, origin: tuple[int, int] = (0, 0)) -> np.ndarray | None:
    """(6,) features of one frame, or None without a usable face or lip pixels.

    image: the frame (RGB, 8- or 16-bit) or any crop of it holding the lips, whose top-left pixel
    is `origin` (x, y) in frame pixels."""
    if not regions.valid(landmarks):
        return None
    p = np.asarray(landmarks, np.float64)[:, :2]
    iod = regions.eye_distance(p)
    if iod <= 1e-6:
        return None
    d = lambda a, b: float(np.linalg.norm(p[a] - p[b])) / iod
    geo = [d(UPPER_OUTER, UPPER_INNER), d(LOWER_INNER, LOWER_OUTER), d(*CORNERS), d(NOSE_TIP, CHIN)]
    colour = lip_colour(p, image, origin)
    if colour is None:
        return None
    return np.array(geo + list(colour))


def lip_colour(p: np.ndarray, image: np.ndarray, origin=(0, 0)) -> tuple[float, float] | None:
    """Mean (L*, chroma) of the lip pixels (between the outer and inner contours), on 0..255
    8-bit Lab scales; None when fewer than 20 lip pixels are in the image."""
    ox, oy = origin
    outer = p[list(LIPS_OUTER)] - [ox, oy]
    inner = p[list(LIPS_INNER)] - [ox, oy]
    h, w = image.shape[:2]
    x0, y0 = np.maximum(np.floor(outer.min(0)).astype(int) - 1, 0)
    x1, y1 = np.minimum(np.ceil(outer.max(0)).astype(int) + 2, [w, h])
    if x1 <= x0 or y1 <= y0:
        return None
    crop = np.asarray(image[y0:y1, x0:x1, :3])
    if crop.dtype == np.uint16:
        crop = (crop >> 8).astype(np.uint8)
    elif crop.dtype != np.uint8:
        crop = np.clip(crop * (255.0 if crop.max() <= 1.0 else 1.0), 0, 255).astype(np.uint8)
    m = np.zeros(crop.shape[:2], np.uint8)
    cv2.fillPoly(m, [np.round(outer - [x0, y0]).astype(np.int32)], 1)
    cv2.fillPoly(m, [np.round(inner - [x0, y0]).astype(np.int32)], 0)
    if int(m.sum()) < 20:
        return None
    lab = cv2.cvtColor(np.ascontiguousarray(crop), cv2.COLOR_RGB2LAB).astype(np.float32)[m > 0]
    chroma = np.hypot(lab[:, 1] - 128.0, lab[:, 2] - 128.0)
    return float(lab[:, 0].mean()), float(chroma.mean())


@dataclass
class ShapeRange:
    lo: np.ndarray      # (6,) lowest value inside the actor's range (margin included)
    hi: np.ndarray

    @classmethod
    def from_source(cls, features) -> "ShapeRange | None":
        f = np.array([x for x in features if x is not None])
        if len(f) < MIN_FRAMES:
            return None
        lo, hi = np.percentile(f, PERCENTILES[0], axis=0), np.percentile(f, PERCENTILES[1], axis=0)
        m = np.maximum(WIDEN * (hi - lo), MIN_MARGIN)
        return cls(lo - m, hi + m)

    def outside(self, feat: np.ndarray) -> list[tuple[str, str]]:
        """[(feature, "low"|"high")] this frame leaves the range by."""
        out = []
        for k, name in enumerate(FEATURES):
            if feat[k] < self.lo[k]:
                out.append((name, "low"))
            elif feat[k] > self.hi[k]:
                out.append((name, "high"))
        return out


def outliers(output_features: dict, source_features, weights=None) -> dict | None:
    """Outlier figures of output frames {index: features or None} against the source frames'
    features: {"fraction": any, "per_feature": {name: fraction}, "frames": {index: [words]},
    "frames_measured": n}; None when either side has too few measurable frames. `weights`
    (indexable by frame): how many frames each measured one stands for in the fractions (a
    sample's, lipflap.qc.pixels.timing_weights); None: one each."""
    rng = ShapeRange.from_source(source_features)
    measured = {i: f for i, f in output_features.items() if f is not None}
    if rng is None or len(measured) < MIN_FRAMES:
        return None
    per = {name: 0.0 for name in FEATURES}
    frames, flagged, total = {}, 0.0, 0.0
    for i, f in sorted(measured.items()):
        w = 1.0 if weights is None else float(weights[i])
        total += w
        out = rng.outside(f)
        for name, _ in out:
            per[name] += w
        if out:
            flagged += w
            frames[int(i)] = [WORDS[o] for o in out]
    n = len(measured)
    total = total if total > 0 else 1.0
    return {"fraction": flagged / total, "per_feature": {k: v / total for k, v in per.items()},
            "frames": frames, "frames_measured": n,
            "range": {k: [round(float(a), 4), round(float(b), 4)]
                      for k, a, b in zip(FEATURES, rng.lo, rng.hi)}}
