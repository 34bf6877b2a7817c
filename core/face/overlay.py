"""Review pictures of a face analysis: an overlay video and a contact sheet.

Drawn per frame: every face's box and id (the chosen speaker in green, others in grey), the
speaker's smoothed contours (lips, eyes, face outline), its raw mouth points in red, and a caption
with the frame index, pose, confidence and flags. Preview only: scaled to at most 1280 px wide.
"""
from __future__ import annotations

import os

import cv2
import numpy as np

from ..contract.files import atomic_write
from . import landmarks as L
from .geometry import bbox
from .mesh import to_uint8
from .result import FrameFace, ShotAnalysis

PREVIEW_MAX_W = 1280
_CONTOURS = [(L.OUTER_LIPS, True), (L.INNER_LIPS, True), (L.FACE_OVAL, True), (L.LEFT_EYE, True),
             (L.RIGHT_EYE, True), (L.NOSE[:7], False)]


def caption(ff: FrameFace) -> str:
    pose = "" if ff.pose is None else "yaw %+.0f pitch %+.0f roll %+.0f" % ff.pose
    who = "" if ff.face_id is None else f"id {ff.face_id} "
    return f"#{ff.index} {who}conf {ff.confidence:.2f} {' '.join(ff.flags)}\n{pose}"


def put_caption(img: np.ndarray, text: str, size: float = 0.5) -> None:
    th = max(1, round(size * 2))
    step = int(24 * size * 1.6)
    for k, line in enumerate(text.split("\n")):
        y = step * (k + 1)
        cv2.putText(img, line, (6, y), cv2.FONT_HERSHEY_SIMPLEX, size, (0, 0, 0), 3 * th,
                    cv2.LINE_AA)
        cv2.putText(img, line, (6, y), cv2.FONT_HERSHEY_SIMPLEX, size, (255, 255, 0), th,
                    cv2.LINE_AA)


def draw(img: np.ndarray, ff: FrameFace, scale: float = 1.0,
         with_caption: bool = True) -> np.ndarray:
    """A copy of `img` (RGB, any depth) scaled by `scale` with the analysis of frame `ff` drawn."""
    out = to_uint8(img)
    if scale != 1.0:
        size = (max(2, round(out.shape[1] * scale)), max(2, round(out.shape[0] * scale)))
        out = cv2.resize(out, size, interpolation=cv2.INTER_AREA)
    else:
        out = out.copy()
    lw = max(1, round(out.shape[1] / 640))
    for fid, (x0, y0, x1, y1) in ff.faces:
        col = (0, 220, 0) if fid == ff.face_id else (160, 160, 160)
        p0 = (int(x0 * scale), int(y0 * scale))
        cv2.rectangle(out, p0, (int(x1 * scale), int(y1 * scale)), col, lw)
        cv2.putText(out, f"id {fid}", (p0[0], max(12, p0[1] - 4)), cv2.FONT_HERSHEY_SIMPLEX,
                    0.4 * lw, col, lw, cv2.LINE_AA)
    if ff.landmarks is not None:
        pts = ff.landmarks * scale
        col = (0, 255, 0) if ff.usable else (255, 160, 0)
        for idx, closed in _CONTOURS:
            poly = np.round(pts[idx] * 4).astype(np.int32)   # 2 bits of sub-pixel precision
            cv2.polylines(out, [poly], closed, col, 1, cv2.LINE_AA, shift=2)
    if ff.raw_landmarks is not None:
        for x, y in ff.raw_landmarks[L.LIPS] * scale:
            cv2.circle(out, (int(round(x)), int(round(y))), 1, (255, 0, 0), -1)
    if with_caption:
        put_caption(out, caption(ff), 0.5 * lw)
    return out


def _preview_scale(width: int) -> float:
    return min(1.0, PREVIEW_MAX_W / max(width, 1))


def write_preview(analysis: ShotAnalysis, out_path, progress=None) -> str:
    """Second decode pass of the analysed range with the overlay, as H.264."""
    from ..media.decode import read_frames
    from ..media.encode import VideoWriter
    s = _preview_scale(analysis.width)
    w = max(2, round(analysis.width * s)) // 2 * 2
    h = max(2, round(analysis.height * s)) // 2 * 2
    if progress is not None:
        progress.start("preview", len(analysis.frames))
    with VideoWriter(os.fspath(out_path), codec="h264", fps=analysis.fps, width=w,
                     height=h) as vw:
        for fr in read_frames(analysis.path, analysis.start, analysis.end):
            img = draw(fr.image, analysis.frame(fr.index), s)
            vw.write(np.ascontiguousarray(img[:h, :w]))
            if progress is not None:
                progress.advance()
    return os.fspath(out_path)


def contact_sheet(analysis: ShotAnalysis, out_png, count: int = 12, cols: int = 4,
                  tile_w: int = 400, indexes: list[int] | None = None) -> str:
    """A PNG grid of `count` evenly spaced frames (or `indexes`), each cropped around the speaker's
    face when there is one, with the overlay drawn."""
    from ..media.decode import read_frames
    if indexes is None:
        n = len(analysis.frames)
        indexes = sorted({analysis.start + int(round(i * (n - 1) / max(count - 1, 1)))
                          for i in range(min(count, n))})
    want = set(indexes)
    tiles = []
    for fr in read_frames(analysis.path, min(want), max(want)):
        if fr.index not in want:
            continue
        ff = analysis.frame(fr.index)
        img = draw(fr.image, ff, with_caption=False)
        if ff.landmarks is not None:
            x0, y0, x1, y1 = bbox(ff.landmarks)
            side = 1.6 * max(x1 - x0, y1 - y0)
            cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
            a, b = int(max(0, cx - side / 2)), int(max(0, cy - side / 2))
            crop = img[b:int(cy + side / 2), a:int(cx + side / 2)]
            img = crop if crop.size else img
        th = int(round(tile_w * img.shape[0] / img.shape[1]))
        tile = cv2.resize(img, (tile_w, max(1, th)), interpolation=cv2.INTER_AREA)
        put_caption(tile, caption(ff), 0.4)
        tiles.append(tile)
    if not tiles:
        raise ValueError("no frames to show")
    tile_h = max(t.shape[0] for t in tiles)
    rows = []
    for r in range(0, len(tiles), cols):
        row = [np.pad(t, ((0, tile_h - t.shape[0]), (0, 0), (0, 0))) for t in tiles[r:r + cols]]
        row += [np.zeros((tile_h, tile_w, 3), np.uint8)] * (cols - len(row))
        rows.append(np.concatenate(row, axis=1))
    sheet = np.concatenate(rows, axis=0)
    os.makedirs(os.path.dirname(os.path.abspath(out_png)), exist_ok=True)
    ok, png = cv2.imencode(".png", cv2.cvtColor(sheet, cv2.COLOR_RGB2BGR))
    if not ok:
        raise ValueError(f"{out_png}: the contact sheet could not be encoded as PNG")
    atomic_write(out_png, png.tobytes())
    return os.fspath(out_png)
