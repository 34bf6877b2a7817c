"""Before/after contact sheet: the lower face at the moments that tell (bilabials, open vowels,
pauses), as rows of source | output | difference x4, each row labelled with what the dub says
there and whether the measured mouth did it. Without a source, rows show the output alone.
"""
from __future__ import annotations

import cv2
import numpy as np

from .plots import INK, ascii_label

ROW_H = 150
LABEL_W = 215
KIND_NAME = {"bilabial": "p/b/m closed?", "open": "open vowel open?", "pause": "pause at rest?"}


def _to8(img: np.ndarray) -> np.ndarray:
    if img.dtype == np.uint16:
        return (img >> 8).astype(np.uint8)
    return img.astype(np.uint8)


def contact_sheet(rows: list[dict], frames: dict[int, tuple], box: tuple[int, int, int, int],
                  fps: float) -> np.ndarray | None:
    """rows: event results ({"kind", "start", "end", "label", "met", ...}); frames: {frame index:
    (source image or None, output image)} at each row's middle frame; box: the crop (x0, y0, x1,
    y1). Returns an RGB image, or None when no row has its frame."""
    x0, y0, x1, y1 = box
    out_rows = []
    has_source = any(s is not None for s, _ in frames.values())
    for ev in rows:
        i = (ev["start"] + ev["end"]) // 2
        if i not in frames:
            continue
        src, out = frames[i]
        if out is None:
            continue
        o = _to8(out[y0:y1, x0:x1])
        w = max(1, int(round(o.shape[1] * ROW_H / max(o.shape[0], 1))))
        tiles = []
        if has_source:
            s = _to8(src[y0:y1, x0:x1]) if src is not None else np.zeros_like(o)
            d = np.clip(np.abs(s.astype(np.int16) - o.astype(np.int16)) * 4, 0, 255).astype(np.uint8)
            tiles = [s, o, d]
        else:
            tiles = [o]
        tiles = [cv2.resize(t, (w, ROW_H), interpolation=cv2.INTER_AREA) for t in tiles]
        label = np.full((ROW_H, LABEL_W, 3), 255, np.uint8)
        met = ev.get("met")
        col = (30, 140, 30) if met else (200, 30, 30) if met is False else (120, 120, 120)
        cv2.rectangle(label, (0, 0), (6, ROW_H - 1), col, -1)
        v = ev.get("value")
        detail = "" if v is None else (f"  ({v * 100:.0f}% at rest)" if ev["kind"] == "pause"
                                       else "  (aperture " + f"{v:.2f}".replace("-0.00", "0.00")
                                       + ")")
        lines = [KIND_NAME.get(ev["kind"], ev["kind"]),
                 f"'{ascii_label(ev['label'])}'  frame {i}",
                 f"{i / fps:.2f} s",
                 {True: "yes", False: "NO", None: "not measured"}[met] + detail]
        for k, t in enumerate(lines):
            cv2.putText(label, t, (14, 30 + 28 * k), cv2.FONT_HERSHEY_SIMPLEX, 0.5,
                        col if k == 3 else INK, 1, cv2.LINE_AA)
        sep = np.full((ROW_H, 4, 3), 255, np.uint8)
        parts = [label]
        for t in tiles:
            parts += [t, sep]
        row = np.hstack(parts[:-1])
        out_rows.append(row)
    if not out_rows:
        return None
    width = max(r.shape[1] for r in out_rows)
    head = np.full((26, width, 3), 255, np.uint8)
    titles = ["source", "output", "difference x4"] if has_source else ["output"]
    tile_w = (out_rows[0].shape[1] - LABEL_W) // len(titles)
    for k, t in enumerate(titles):
        cv2.putText(head, t, (LABEL_W + k * tile_w + 6, 18), cv2.FONT_HERSHEY_SIMPLEX, 0.5, INK, 1,
                    cv2.LINE_AA)
    gap = np.full((3, width, 3), 235, np.uint8)
    stack = [head]
    for r in out_rows:
        if r.shape[1] < width:
            r = np.hstack([r, np.full((ROW_H, width - r.shape[1], 3), 255, np.uint8)])
        stack += [r, gap]
    return np.vstack(stack[:-1])
