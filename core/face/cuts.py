"""Shot-cut detection from the picture.

Each frame is reduced to a small blurred grey thumbnail and a coarse colour histogram. A cut is a
change between neighbouring frames that is large in absolute terms, large against the shot's
recent frame-to-frame change (so steady fast motion is not a cut) and not followed by an equally
large change (one frame of look-ahead: the start of a fast move keeps changing, a cut settles).
A single odd frame (a photo flash, a glitch) is not a cut either: the frame after it matches the
one before it. Blank frames (black or flat, e.g. a flash to black) are never cuts themselves:
the first frame after them is compared with the last frame before them, so a gap inside one
shot stays one shot and a cut hidden behind black frames is still found.
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import cv2
import numpy as np

THUMB = 64


@dataclass
class FrameSignature:
    gray: np.ndarray     # (THUMB, THUMB) float32 0..1, blurred
    hist: np.ndarray     # (64,) float32, sums to 1
    mean: float
    std: float

    @property
    def blank(self) -> bool:
        return self.std < 0.025 and (self.mean < 0.08 or self.mean > 0.92 or self.std < 0.01)


def signature(img: np.ndarray) -> FrameSignature:
    h, w = img.shape[:2]
    step = max(1, min(h, w) // (2 * THUMB))
    small = img[::step, ::step]
    if small.dtype == np.uint16:
        small = (small >> 8).astype(np.uint8)
    small = cv2.resize(np.ascontiguousarray(small), (THUMB, THUMB), interpolation=cv2.INTER_AREA)
    rgb = small.astype(np.float32) / 255.0
    gray = rgb @ np.array([0.299, 0.587, 0.114], np.float32)
    gray = cv2.GaussianBlur(gray, (5, 5), 1.0)
    q = np.minimum((rgb * 4).astype(np.int32), 3)
    codes = q[..., 0] * 16 + q[..., 1] * 4 + q[..., 2]
    hist = np.bincount(codes.ravel(), minlength=64).astype(np.float32)
    hist /= max(hist.sum(), 1.0)
    return FrameSignature(gray, hist, float(gray.mean()), float(gray.std()))


def difference(a: FrameSignature, b: FrameSignature) -> tuple[float, float]:
    """(mean absolute thumbnail difference 0..1, histogram distance 0..1)."""
    return float(np.abs(a.gray - b.gray).mean()), float(0.5 * np.abs(a.hist - b.hist).sum())


class CutDetector:
    """Feed frames in order with `decide(cur, nxt)`; True means a new shot starts at `cur`."""

    def __init__(self, threshold: float = 0.06, ratio: float = 3.0, settle: float = 2.0,
                 hist_threshold: float = 0.55):
        self.threshold = threshold
        self.ratio = ratio
        self.settle = settle
        self.hist_threshold = hist_threshold
        self._ref: FrameSignature | None = None
        self._before_ref: FrameSignature | None = None
        self._gap = 0
        self._recent: deque[float] = deque(maxlen=8)
        self.last_scores: tuple[float, float] = (0.0, 0.0)

    def decide(self, cur: FrameSignature, nxt: FrameSignature | None) -> bool:
        if cur.blank:
            self._gap += 1
            return False
        ref, gap, before = self._ref, self._gap, self._before_ref
        self._before_ref, self._ref, self._gap = ref, cur, 0
        if ref is None:
            return False
        d, dh = difference(ref, cur)
        self.last_scores = (d, dh)
        base = max(float(np.median(self._recent)) if self._recent else 0.0, 0.008)
        dn = None
        if nxt is not None and not nxt.blank:
            dn = difference(cur, nxt)[0]
        thr = self.threshold * (1.5 if gap else 1.0)
        spike = d > thr and d > self.ratio * base and (dn is None or d > self.settle * dn)
        recolour = dh > self.hist_threshold and d > 0.5 * thr and (dn is None or d > dn)
        cut = spike or recolour
        if cut and before is not None and difference(before, cur)[0] < thr:
            # Back to what was there two frames ago: the frame between was a flash or a glitch.
            cut = False
        if cut:
            self._recent.clear()
        elif not gap:
            self._recent.append(d)
        return cut
