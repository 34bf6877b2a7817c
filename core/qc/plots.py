"""Plots for the QC report, drawn with OpenCV into RGB arrays (no plotting library needed).

`aperture_plot`: the track's expected aperture and the aperture measured on the output (normalised
to the clip's range) over time, with the checked moments shaded: green where met, red where
missed. `psnr_plot`: PSNR outside the lower face per frame.
"""
from __future__ import annotations

import math

import cv2
import numpy as np

WHITE = (255, 255, 255)
INK = (40, 40, 40)
GRID = (225, 225, 225)
EXPECTED = (40, 90, 220)     # blue
MEASURED = (235, 120, 20)    # orange
MET = {"bilabial": (190, 235, 190), "open": (200, 220, 250), "pause": (232, 232, 232)}
MISSED = (250, 200, 200)
FONT = cv2.FONT_HERSHEY_SIMPLEX


def _text(img, s, org, scale=0.42, color=INK, thick=1):
    cv2.putText(img, ascii_label(s), (int(org[0]), int(org[1])), FONT, scale, color, thick, cv2.LINE_AA)


def ascii_label(s: str) -> str:
    """OpenCV's Hershey fonts are ASCII only: write IPA as X-SAMPA-like ASCII."""
    table = {"ˈ": "", "ˌ": "", "ː": ":", "ɑ": "A", "æ": "{", "ɐ": "6", "ɒ": "Q", "ə": "@",
             "ɛ": "E", "ɪ": "I", "ʊ": "U", "ʌ": "V", "ɔ": "O", "ʎ": "L", "ɲ": "J", "ɾ": "4",
             "β": "B", "ð": "D", "θ": "T", "ʃ": "S", "ʒ": "Z", "ŋ": "N", "ɣ": "G", "χ": "X",
             "ʁ": "R", "ɹ": "r\\", "ç": "C", "ø": "2", "œ": "9", "ɯ": "M", "ɨ": "1", "·": "."}
    out = []
    for ch in s:
        if ch in table:
            out.append(table[ch])
        elif ord(ch) < 128:
            out.append(ch)
        else:
            out.append("?")
    return "".join(out)


def _polyline(img, xs, ys, color, thick=2):
    """Draw a series with gaps where y is NaN."""
    pts = []
    for x, y in zip(xs, ys):
        if y is None or not math.isfinite(y):
            if len(pts) > 1:
                cv2.polylines(img, [np.array(pts, np.int32)], False, color, thick, cv2.LINE_AA)
            elif len(pts) == 1:
                cv2.circle(img, pts[0], thick, color, -1, cv2.LINE_AA)
            pts = []
        else:
            pts.append((int(round(x)), int(round(y))))
    if len(pts) > 1:
        cv2.polylines(img, [np.array(pts, np.int32)], False, color, thick, cv2.LINE_AA)
    elif len(pts) == 1:
        cv2.circle(img, pts[0], thick, color, -1, cv2.LINE_AA)


def _axes(n: int, fps: float, width: int, height: int, left=48, right=12, top=34, bottom=36):
    img = np.full((height, width, 3), 255, np.uint8)
    x0, x1, y0, y1 = left, width - right, top, height - bottom
    span = max(n - 1, 1)

    def fx(i):
        return x0 + (x1 - x0) * (i / span)
    # time ticks: every 1 s, or 0.5 s on short clips, or more sparsely on long ones
    dur = n / fps if fps else n
    step = 0.5 if dur <= 4 else 1 if dur <= 12 else 2 if dur <= 30 else 5 if dur <= 80 else 10
    t = 0.0
    while t * fps <= n - 1 + 1e-9:
        x = int(fx(t * fps))
        cv2.line(img, (x, y0), (x, y1), GRID, 1)
        _text(img, f"{t:g}s", (x - 10, y1 + 16), 0.38)
        t += step
    cv2.rectangle(img, (x0, y0), (x1, y1), (150, 150, 150), 1)
    return img, fx, (x0, x1, y0, y1)


def aperture_plot(expected: list, measured: list, events: list[dict], fps: float, *,
                  title: str = "", width: int = 1000, height: int = 320) -> np.ndarray:
    """RGB image: expected (blue) and measured-normalised (orange) aperture over the clip."""
    n = max(len(expected), len(measured), 2)
    img, fx, (x0, x1, y0, y1) = _axes(n, fps, width, height, top=50)
    ymax = 1.15

    def fy(v):
        return y1 - (y1 - y0) * (min(max(v, -0.05), ymax) / ymax)
    # shaded moments
    shade = img.copy()
    for e in events:
        col = MISSED if e.get("met") is False else MET.get(e["kind"], GRID)
        xa, xb = fx(e["start"] - 0.5), fx(e["end"] + 0.5)
        cv2.rectangle(shade, (int(max(xa, x0)), y0 + 1), (int(min(xb, x1)), y1 - 1), col, -1)
    img = cv2.addWeighted(shade, 0.8, img, 0.2, 0)
    for v in (0.0, 0.5, 1.0):
        y = int(fy(v))
        cv2.line(img, (x0, y), (x1, y), GRID, 1)
        _text(img, f"{v:.1f}", (6, y + 4), 0.38)
    # the yardstick's thresholds, dashed: closed below 0.2, open above 0.45
    for v, c in ((0.2, (120, 170, 120)), (0.45, (120, 140, 200))):
        y = int(fy(v))
        for xs in range(x0, x1, 12):
            cv2.line(img, (xs, y), (min(xs + 6, x1), y), c, 1)
    xs = [fx(i) for i in range(len(expected))]
    _polyline(img, xs, [None if v is None else fy(v) for v in expected], EXPECTED, 2)
    xs = [fx(i) for i in range(len(measured))]
    _polyline(img, xs, [None if v is None else fy(v) for v in measured], MEASURED, 2)
    cv2.rectangle(img, (x0, y0), (x1, y1), (150, 150, 150), 1)
    _text(img, title or "mouth aperture over time", (x0, 18), 0.5)
    # legend, on its own line under the title
    lx, ly = x0, 38
    items = [("line", EXPECTED, "expected (track)"), ("line", MEASURED, "measured on output"),
             ("box", MET["bilabial"], "p/b/m"), ("box", MET["open"], "open vowel"),
             ("box", MET["pause"], "pause"), ("box", MISSED, "missed")]
    for kind, col, label in items:
        if kind == "line":
            cv2.line(img, (lx, ly - 4), (lx + 22, ly - 4), col, 2, cv2.LINE_AA)
        else:
            cv2.rectangle(img, (lx + 4, ly - 11), (lx + 18, ly + 2), col, -1)
        _text(img, label, (lx + 28, ly), 0.4)
        lx += 36 + 8 * len(label)
    return img


def psnr_plot(psnr_db: list[float], fps: float, *, width: int = 1000, height: int = 160,
              target: float = 45.0) -> np.ndarray:
    """RGB image: PSNR outside the lower face per frame (99 dB = identical)."""
    n = max(len(psnr_db), 2)
    img, fx, (x0, x1, y0, y1) = _axes(n, fps, width, height, top=28)
    lo, hi = 20.0, 100.0

    def fy(v):
        return y1 - (y1 - y0) * ((min(max(v, lo), hi) - lo) / (hi - lo))
    for v in (20, 45, 99):
        y = int(fy(v))
        cv2.line(img, (x0, y), (x1, y), (200, 120, 120) if v == target else GRID, 1)
        _text(img, f"{v}", (10, y + 4), 0.38)
    _polyline(img, [fx(i) for i in range(len(psnr_db))], [fy(v) for v in psnr_db], (60, 140, 60), 2)
    _text(img, "PSNR outside the lower face (dB per frame; 99 = untouched; target >= 45)",
          (x0, 18), 0.45)
    return img


def png_bytes(rgb: np.ndarray) -> bytes:
    ok, buf = cv2.imencode(".png", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    if not ok:
        raise RuntimeError("PNG encoding failed")
    return buf.tobytes()
