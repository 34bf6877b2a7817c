"""Frame-exact, streaming decode.

Frame N is the N-th frame in presentation order, whatever the GOP structure. With a constant
rate the index of a decoded frame is computed from its timestamp against frame 0's timestamp
(`VideoInfo.first_pts`), which makes a seek safe: seek to a keyframe before the target, decode,
and drop frames until the computed index reaches it. Variable-rate files (and streams without
timestamps) are decoded from the start and counted.

Images are RGB, uint8 for 8-bit sources and uint16 (full 16-bit scale) for deeper ones, so 10-bit
material never passes through 8 bits. The YUV->RGB matrix and range are the ones
`colour.effective_matrix/effective_range` choose, the same ones the writer uses back.
"""
from __future__ import annotations

import os
from typing import Iterator

import av
import numpy as np

from ..contract.errors import MediaError, RangeError
from . import colour, orientation
from .probe import VideoInfo, open_input, probe, video_stream

# Frames decoded before the target after a seek, first try; doubled while the seek lands late.
_SEEK_BACK = 8


def to_float(img) -> np.ndarray:
    """Pixels as float32 in 0..1 whatever their integer depth (a decoded frame's uint8 or uint16;
    an 8-bit or 16-bit alpha); floats are returned as float32, unscaled."""
    a = np.asarray(img)
    if a.dtype == np.uint8:
        return a.astype(np.float32) / 255.0
    if a.dtype == np.uint16:
        return a.astype(np.float32) / 65535.0
    return a.astype(np.float32)


class Frame:
    """One decoded frame. `image` (HxWx3 RGB) is converted on first access, so passes that only
    need `av_frame` (a plain transcode) do not pay for RGB.

    `turn`: quarter turns counter-clockwise from the stored picture to the one a player shows
    (a phone's display rotation, orientation.quarter_turns). `image`, `size` and `region` are in
    that shown orientation, so every stage finds faces upright; `stored` is the picture as the
    file holds it, which the writer codes (it turns a patch back, encode.VideoWriter)."""

    __slots__ = ("index", "time_s", "av_frame", "turn", "_image", "_shown", "_convert",
                 "__weakref__")

    def __init__(self, index: int, image: np.ndarray | None, time_s: float, av_frame=None,
                 convert=None, turn: int = 0):
        self.index = index
        self.time_s = time_s
        self.av_frame = av_frame
        self.turn = int(turn) % 4
        self._image = image         # the stored picture's RGB
        self._shown = None          # turned frames: the shown picture's RGB
        self._convert = convert

    @property
    def stored(self) -> np.ndarray:
        """RGB of the picture as the file stores it."""
        if self._image is None and self._convert is not None:
            self._image = self._convert(self.av_frame)
        return self._image

    @property
    def image(self) -> np.ndarray:
        """RGB of the picture as it is shown (the stored one, turned by `turn`)."""
        if not self.turn:
            return self.stored
        if self._shown is None:
            self._shown = np.ascontiguousarray(np.rot90(self.stored, self.turn))
        return self._shown

    @image.setter
    def image(self, value: np.ndarray) -> None:
        if self.turn:
            self._shown = value
            value = np.ascontiguousarray(np.rot90(value, -self.turn))
        self._image = value

    @property
    def stored_size(self) -> tuple[int, int]:
        """(width, height) as stored, without converting the image."""
        if self._image is None and self.av_frame is not None:
            return self.av_frame.width, self.av_frame.height
        return self.stored.shape[1], self.stored.shape[0]

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) as shown, without converting the image."""
        return orientation.shown_size(self.turn, *self.stored_size)

    def region(self, x0: int, y0: int, w: int, h: int) -> np.ndarray:
        """RGB of the box (x0, y0, w, h) of the shown picture (see `stored_region`); a turned
        frame's box is clipped to the picture."""
        if not self.turn:
            return self.stored_region(x0, y0, w, h)
        if self._shown is not None:
            return self._shown[max(y0, 0):y0 + h, max(x0, 0):x0 + w]
        (sw, sh), (vw, vh) = self.stored_size, self.size
        x0, y0 = max(x0, 0), max(y0, 0)
        w, h = max(min(w, vw - x0), 0), max(min(h, vh - y0), 0)
        bx, by, bw, bh = orientation.stored_box(self.turn, sw, sh, x0, y0, w, h)
        # C-contiguous as an unturned region's conversion is: the renderer reshapes its copies in
        # place (render.synth._rows), which a turned view's strides refuse.
        return np.ascontiguousarray(np.rot90(self.stored_region(bx, by, bw, bh), self.turn))

    def stored_region(self, x0: int, y0: int, w: int, h: int) -> np.ndarray:
        """RGB of the box (x0, y0, w, h) of the stored picture, converting only that part of the
        frame when the whole image has not been converted yet: a renderer that needs the lower
        face of a 4K frame does not pay for the whole frame's YUV -> RGB (about 6 ms at 1080p,
        25 at 4K).

        The box is widened by a margin on the chroma grid, so the chroma filter sees the same
        neighbours as in a whole-frame conversion and the pixels are the same."""
        if self._image is not None or self.av_frame is None or self._convert is None:
            return self.stored[y0:y0 + h, x0:x0 + w]
        f = self.av_frame
        fmt = f.format
        if not (fmt.name.startswith("yuv") and len(f.planes) >= 3):
            return self.stored[y0:y0 + h, x0:x0 + w]
        sx = max(1, round(f.width / f.planes[1].width))
        sy = max(1, round(f.height / f.planes[1].height))
        m = _REGION_MARGIN
        ax = max(0, (x0 - m) // sx * sx)
        ay = max(0, (y0 - m) // sy * sy)
        bx = min(f.width, -(-(x0 + w + m) // sx) * sx)
        by = min(f.height, -(-(y0 + h + m) // sy) * sy)
        if (bx - ax) * (by - ay) * 2 > f.width * f.height:
            return self.stored[y0:y0 + h, x0:x0 + w]   # most of the frame anyway
        sub = av.VideoFrame(bx - ax, by - ay, fmt.name)
        for i in range(len(f.planes)):
            fx, fy = (sx, sy) if i in (1, 2) else (1, 1)
            src = plane_array(f, i)
            dst = plane_array(sub, i)
            c0 = ax // fx * (src.shape[1] // f.planes[i].width)   # samples per pixel in the row
            dst[:] = src[ay // fy:ay // fy + dst.shape[0], c0:c0 + dst.shape[1]]
        rgb = self._convert(sub)
        return rgb[y0 - ay:y0 - ay + h, x0 - ax:x0 - ax + w]

    def __repr__(self) -> str:
        return f"Frame(index={self.index}, time_s={self.time_s:.6f})"


_REGION_MARGIN = 16   # pixels of context around a converted box (swscale's chroma filter taps)


def plane_array(frame: av.VideoFrame, i: int, dtype=None) -> np.ndarray:
    """A writable (rows, width*components) view of plane `i` of `frame`, honouring the line
    stride."""
    fmt = frame.format
    plane = frame.planes[i]
    if dtype is None:
        bits = max(c.bits for c in fmt.components)
        dtype = np.dtype(np.uint16) if bits > 8 else np.dtype(np.uint8)
    buf = np.frombuffer(plane, dtype)
    rows = plane.height
    per_row = plane.line_size // dtype.itemsize
    arr = buf[:rows * per_row].reshape(rows, per_row)
    comps_in_plane = sum(1 for c in fmt.components if c.plane == i)
    return arr[:, :plane.width * comps_in_plane]


def rgb_converter(info: VideoInfo, deep: bool | None = None):
    """A function av.VideoFrame -> HxWx3 RGB ndarray with this file's matrix and range."""
    if deep is None:
        deep = info.bit_depth > 8
    fmt = "rgb48le" if deep else "rgb24"
    matrix = colour.sws_matrix(colour.effective_matrix(info.colorspace, info.height))
    rng = colour.SWS_RANGE[colour.effective_range(info.color_range, info.pix_fmt)]

    if colour.is_float_rgb(info.pix_fmt):
        # Float (EXR) frames are linear light: back to BT.709 code values for a viewable image.
        scale, dtype = (65535.0, np.uint16) if deep else (255.0, np.uint8)

        def convert_float(f: av.VideoFrame) -> np.ndarray:
            lin = _float_rgb(f)
            v = colour.bt709_from_linear(np.clip(lin, 0.0, 1.0))
            return np.rint(v * scale).astype(dtype)
        return convert_float

    def convert(f: av.VideoFrame) -> np.ndarray:
        return f.to_ndarray(format=fmt, src_colorspace=matrix, src_color_range=rng,
                            dst_color_range="JPEG", threads=colour.SWS_THREADS)
    return convert


def _float_rgb(f: av.VideoFrame) -> np.ndarray:
    """HxWx3 float32 RGB of a planar float frame, read from the planes directly: swscale's
    half-to-float path is not exact."""
    name = f.format.name
    if not name.startswith(("gbrpf", "gbrapf")):
        return f.to_ndarray(format="gbrpf32le", threads=colour.SWS_THREADS)
    dtype = np.dtype("<f2") if "f16" in name else np.dtype("<f4")
    out = np.empty((f.height, f.width, 3), np.float32)
    for plane_index, channel in ((0, 1), (1, 2), (2, 0)):   # planes are G, B, R
        plane = f.planes[plane_index]
        rows = np.frombuffer(plane, dtype)[:plane.height * plane.line_size // dtype.itemsize]
        out[:, :, channel] = rows.reshape(plane.height, -1)[:, :f.width]
    return out


def check_range(info: VideoInfo, start: int, end: int | None) -> tuple[int, int]:
    n = info.frame_count
    end = n - 1 if end is None else int(end)
    start = int(start)
    if n == 0:
        raise MediaError(f"{info.path} contains no video frames; give a file with picture.")
    if start < 0 or end >= n or start > end:
        raise RangeError(f"{info.path}: frames {start}-{end} are outside the file, which has {n} "
                         f"frames (0-{n - 1}); give --start/--end within that range.")
    return start, end


def read_frames(path, start: int = 0, end: int | None = None, *, deep: bool | None = None,
                info: VideoInfo | None = None) -> Iterator[Frame]:
    """Frames start..end (both inclusive, 0-based) of the file's first video stream."""
    path = os.fspath(path)
    info = info or probe(path)
    start, end = check_range(info, start, end)
    convert = rgb_converter(info, deep)
    turn = orientation.quarter_turns(info.rotation)
    fps = info.fps
    by_pts = not info.vfr and info.first_pts is not None and info.time_base
    step = 1 / (fps * info.time_base) if by_pts else None  # ticks per frame

    def index_of(f, counter):
        if by_pts and f.pts is not None:
            return int(round((f.pts - info.first_pts) / step))
        return counter

    with open_input(path) as c:
        vs = video_stream(c)
        vs.thread_type = "AUTO"
        frames = None
        if by_pts and start > 0:
            frames = _seek(c, vs, info, start, step, index_of)
        if frames is None:
            if start > 0:
                _rewind(c, vs)
            frames = _decoded(c, vs, path)
        expected = start
        counter = 0
        for f in frames:
            idx = index_of(f, counter)
            counter += 1
            if idx < expected:
                continue
            if getattr(f, "is_corrupt", False):
                raise MediaError(f"{path} is damaged at frame {idx} (of {info.frame_count}): it "
                                 f"decodes corrupt; re-export or re-copy the file.")
            if idx > expected:
                raise MediaError(f"{path}: frame {expected} (of {info.frame_count}) could not be "
                                 f"decoded (next decodable frame is {idx}); re-export or re-copy "
                                 f"the file.")
            yield Frame(idx, None, float(idx / fps), f, convert, turn)
            expected += 1
            if expected > end:
                return
        raise MediaError(f"{path} is truncated or damaged: decoding stopped at frame {expected} of "
                         f"{info.frame_count} (frames before it are readable); re-export or "
                         f"re-copy the file.")


def read_frame(path, index: int, *, deep: bool | None = None,
               info: VideoInfo | None = None) -> Frame:
    for f in read_frames(path, index, index, deep=deep, info=info):
        return f
    raise MediaError(f"{path}: frame {index} could not be decoded.")  # read_frames raises first


def _decoded(c, vs, path) -> Iterator[av.VideoFrame]:
    """Decoded frames from the current position; errors end the stream (the caller reports the
    frame where it stopped)."""
    try:
        for packet in c.demux(vs):
            try:
                yield from packet.decode()
            except av.error.InvalidDataError:
                # One undecodable packet (a truncated tail, a damaged slice): keep going; frames
                # that never come out are reported by index by the caller.
                continue
    except av.error.FFmpegError:
        return
    except EOFError:
        return


def _seek(c, vs, info, target, step, index_of):
    """Position the decoder so the first frame it yields is at or before `target`; returns the
    frame iterator (with that first frame put back) or None to decode from the start."""
    back = _SEEK_BACK
    while back < 4 * target + 64:
        first_idx = max(0, target - back)
        ts = int(info.first_pts + round(first_idx * step))
        try:
            c.seek(ts, stream=vs, backward=True, any_frame=False)
        except av.error.FFmpegError:
            return None
        it = _decoded(c, vs, info.path)
        head = next(it, None)
        if head is None:
            back *= 8
            continue
        if head.pts is not None and index_of(head, 0) <= target:
            def chain(head=head, it=it):
                yield head
                yield from it
            return chain()
        back *= 8
    _rewind(c, vs)
    return None


def _rewind(c, vs) -> None:
    try:
        c.seek(0, stream=vs, backward=True)
    except av.error.FFmpegError:
        pass
