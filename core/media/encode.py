"""Writing video: ProRes, DNxHR, H.264 in .mov/.mp4, or 16-bit PNG / half-float EXR sequences.

Everything goes to a temporary name in the destination folder and is renamed on `close()`, so an
interrupted run never leaves a file that looks finished; an exception inside `with VideoWriter(...)`
removes the temporary output.

Fidelity (docs/output.md): `write_frame(frame)` converts the decoded source frame straight to
the output pixel format (YUV to YUV where the output is YUV: no trip through RGB), which is what a
plain transcode does; `write_composite` starts from that same converted frame and blends the RGB
patch, converted to the output's format at 16-bit precision, only where alpha > 0 and only in the
patch's box. Outside the patch the output is therefore identical to `plain_transcode`.

Sequences: 16-bit PNG holds the source's code values (straight alpha); half-float EXR holds linear
light (the BT.709 curve removed, as compositors expect of EXR) with premultiplied alpha. Both are
numbered with source frame numbers. Sequences carry no timecode; a dub goes beside them as a WAV.
"""
from __future__ import annotations

import errno
import os
import re
import shutil
import socket
import uuid
from dataclasses import dataclass, field
from fractions import Fraction

import av
import cv2
import numpy as np

from ..contract.errors import MediaError
from . import colour, orientation
from .decode import Frame, read_frames, to_float
from .decode import plane_array as _plane_array
from .probe import VideoInfo, probe
from ..contract.rates import is_drop_frame_rate, parse_rate
from ..contract.timecode import frames_to_tc, tc_to_frames


@dataclass(frozen=True)
class CodecSpec:
    encoder: str
    pix_fmt: str
    alpha_pix_fmt: str | None
    options: dict = field(default_factory=dict)
    container: str | None = "mov"       # None: an image sequence
    ext: str = ".mov"


# Every ProRes profile: vendor apl0 so Apple/Resolve treat it as native, and the codec's flat
# default quantisation matrix (all 4s, what a decoder assumes when a frame carries none) instead
# of prores_ks's HQ matrix (5-7 on the finest coefficients). The rate control and its per-frame
# cap are unchanged, so the same profile at the same data budget keeps more of the finest band:
# plain transcodes of the noisy 960x960 selfie close-up (bench/hard_set.py) read mouth sharpness
# 0.864 -> 0.884 in 4444 (bytes +0.1%, at the cap either way), 0.951 -> 0.963 in 4444 XQ and
# 0.763 -> 0.789 in 422 HQ, PSNR outside the lower face +0.04-0.07 dB; the clean talk_g clip
# reads 0.979 -> 0.984 in 4444 for 1.3% more bytes, below the cap. Hard-set renders in 4444:
# selfie 0.855 -> 0.875, the six other clips 0.002-0.014 higher, roughness unchanged
# (docs/cli.md, "ProRes data rates", gives the commands).
_PRORES = {"vendor": "apl0", "quant_mat": "default"}

CODECS: dict[str, CodecSpec] = {
    # prores_ks profile 3 = 422 HQ, 4 = 4444, 5 = 4444 XQ.
    "prores_hq": CodecSpec("prores_ks", "yuv422p10le", None, {"profile": "3", **_PRORES}),
    "prores_4444": CodecSpec("prores_ks", "yuv444p10le", "yuva444p10le",
                             {"profile": "4", **_PRORES}),
    # 4444 XQ (ap4x): 1.5x the 4444 data budget, for sources whose grain or sensor noise 4444
    # softens: the selfie's plain transcode reads 0.963 in XQ against 0.884 in 4444, for 1.38x
    # the bytes; on clean clips the two are alike.
    "prores_4444xq": CodecSpec("prores_ks", "yuv444p10le", "yuva444p10le",
                               {"profile": "5", **_PRORES}),
    "dnxhr_hq": CodecSpec("dnxhd", "yuv422p", None, {"profile": "dnxhr_hq"}),
    "h264": CodecSpec("libx264", "yuv420p", None, {"crf": "16", "preset": "medium"}),
    # zlib level 2: 6x faster than the default on smooth 16-bit frames for ~12% larger files.
    "png": CodecSpec("png", "rgb48be", "rgba64be", {"compression_level": "2"}, None, ".png"),
    # Half-float, linear light (BT.709 curve removed), premultiplied alpha; ZIP per scanline
    # (Nuke's default, 40% faster to write here than 16-scanline ZIP, 6% larger).
    "exr": CodecSpec("exr", "gbrpf32le", "gbrapf32le", {"format": "half", "compression": "zip1"},
                     None, ".exr"),
}

_SEQ_PATTERN = re.compile(r"%0?\d*d|#+")


def _same_file(a: str, b: str) -> bool:
    try:
        if os.path.exists(a) and os.path.exists(b):
            return os.path.samefile(a, b)
    except OSError:
        pass
    return os.path.realpath(a) == os.path.realpath(b)


def check_frame_size(path: str, codec: str, width: int, height: int, alpha: bool = False) -> None:
    """Raise the one-sentence error a writer of this codec would give for this frame size; the
    engine asks before its analysis pass, so a wrong codec costs no minutes."""
    spec = CODECS[codec]
    pix_fmt = spec.alpha_pix_fmt if alpha and spec.alpha_pix_fmt else spec.pix_fmt
    if width <= 0 or height <= 0:
        raise MediaError(f"{path}: invalid output size {width}x{height}.")
    if pix_fmt.startswith("yuv"):
        sx, sy = _chroma_sub(pix_fmt)
        if width % sx or height % sy:
            raise MediaError(f"{path}: {codec} needs a width divisible by {sx} and height by {sy}, "
                             f"the frame is {width}x{height}; use --codec prores_4444, prores_4444xq, "
                             f"png or exr, "
                             f"which take any size.")
    if spec.encoder == "dnxhd" and (width < 256 or height < 120):
        raise MediaError(f"{path}: DNxHR needs frames of at least 256x120, these are "
                         f"{width}x{height}; use prores_hq for small frames.")


def to_output_format(f: av.VideoFrame, pix_fmt: str, matrix: str, rng: str) -> av.VideoFrame:
    """A decoded source frame in an output pixel format, as a plain transcode converts it."""
    if _is_yuv(f.format.name):
        # YUV to YUV: resampling of chroma and bit depth only, matrix and range untouched.
        return f.reformat(format=pix_fmt, threads=colour.SWS_THREADS)
    # An RGB source (PNG, EXR, DPX...): into YUV with this output's matrix and range.
    return f.reformat(format=pix_fmt, dst_colorspace=colour.sws_matrix(matrix),
                      dst_color_range=colour.SWS_RANGE[rng], src_color_range="JPEG",
                      threads=colour.SWS_THREADS)


class _ArrayAudio:
    """Samples already in memory, read in order like a streaming reader; silence past the end."""

    def __init__(self, x: np.ndarray, rate: int):
        self.x, self.rate, self.channels, self.pos = x, rate, x.shape[1], 0

    def read(self, n: int) -> np.ndarray:
        out = self.x[self.pos:self.pos + n]
        self.pos += n
        if out.shape[0] < n:
            out = np.concatenate([out, np.zeros((n - out.shape[0], self.channels), np.float32)])
        return out


class VideoWriter:
    """Writes frames to `path` in `codec`; see the module docstring for the guarantees.

    `like`: the source's VideoInfo; colour tags, pixel aspect and field order are copied from it.
    `start_timecode`: "HH:MM:SS:FF" (';' for drop-frame) or a frame count; None with `like` gives
    the source's timecode at `first_frame_number` (the source index of the first frame written).
    Sequences (png, exr) are numbered from `first_frame_number`.
    `audio`: (samples float32 (n,) or (n, ch), rate), muxed as PCM in .mov, AAC in .mp4, or written
    beside a sequence as a WAV; it is cut or padded to the video's length.
    `metadata`: container tags for a .mov/.mp4 (e.g. the com.lipflap.* disclosure), written as
    QuickTime mdta keys so names of our own survive; sequences have no container to tag.
    """

    def __init__(self, path, *, codec: str, fps, width: int, height: int,
                 like: VideoInfo | None = None, start_timecode=None, first_frame_number: int = 0,
                 alpha: bool = False, audio: tuple[np.ndarray, int] | None = None,
                 inputs=(), metadata: dict[str, str] | None = None):
        if codec not in CODECS:
            raise MediaError(f"unknown codec {codec!r}; choose one of {', '.join(CODECS)}.")
        self.path = os.fspath(path)
        self.codec = codec
        self.spec = spec = CODECS[codec]
        self.fps = parse_rate(fps)
        self.width, self.height = int(width), int(height)
        self.like = like
        # Pictures handed to write and write_composite are as shown; a source with a display
        # rotation is written as it is stored, its matrix kept (media.orientation).
        self.turn = orientation.quarter_turns(like.rotation) if like is not None else 0
        self.alpha = bool(alpha)
        self.first_frame_number = int(first_frame_number)
        if alpha and spec.alpha_pix_fmt is None:
            raise MediaError(f"codec {codec} has no alpha channel; use prores_4444, png or exr for "
                             f"patch output.")
        self.pix_fmt = spec.alpha_pix_fmt if alpha else spec.pix_fmt
        self._is_rgb = spec.container is None
        check_frame_size(self.path, codec, self.width, self.height, alpha)
        for other in [like.path if like else None, *inputs]:
            if other and _same_file(self.path, os.fspath(other)):
                raise MediaError(f"refusing to write {self.path}: it is an input of this job; "
                                 f"choose another output name.")
        # YUV<->RGB for write() and patches: the source's matrix/range, or the defaults.
        # An RGB source (PNG/EXR) has no YUV matrix or range of its own to keep.
        yuv_like = like is not None and _is_yuv(like.pix_fmt)
        self.matrix, self.range = output_colour(like, codec, self.pix_fmt, self.height)
        self._tags = self._colour_tags(like)
        if not self._is_rgb and like is not None and not yuv_like:
            self._tags["colorspace"] = colour.value(colour.SPACE, self.matrix)
            self._tags["color_range"] = colour.value(colour.RANGE, self.range)
        self.start_timecode = self._timecode(start_timecode)
        self._audio = self._prepare_audio(audio)
        self._n = 0
        self._rgb16 = None
        self._linear_lut = None
        self._metadata = dict(metadata or {})
        self._closed = False
        self._tmp = None
        self._out = None
        self._seq_dir = None
        if self._is_rgb:
            self._open_sequence()
        else:
            self._open_container()

    # ---- setup -----------------------------------------------------------------------------

    def _colour_tags(self, like):
        t = {}
        if like is None:
            # Say which matrix and range write() used, so any reader converts back the same way.
            if not self._is_rgb:
                t = {"colorspace": colour.value(colour.SPACE, self.matrix),
                     "color_range": colour.value(colour.RANGE, self.range)}
                if self.matrix == "bt709":
                    t.update(color_primaries=1, color_trc=1)
            return t
        for attr, table in (("color_primaries", colour.PRIMARIES), ("color_trc", colour.TRC),
                            ("colorspace", colour.SPACE), ("color_range", colour.RANGE)):
            v = colour.value(table, getattr(like, attr))
            if v is not None:
                t[attr] = v
        return t

    def _timecode(self, tc):
        if tc is None:
            if self.like is None or not getattr(self.like, "timecode_found", True):
                return None
            return frames_to_tc(self.like.start_tc_frames + self.first_frame_number, self.fps,
                                self.like.drop_frame)
        if isinstance(tc, (int, np.integer)):
            drop = bool(self.like and self.like.drop_frame and is_drop_frame_rate(self.fps))
            return frames_to_tc(int(tc), self.fps, drop)
        tc_to_frames(tc, self.fps)  # validates
        return str(tc)

    def _prepare_audio(self, audio):
        """An object with rate, channels and read(n) -> (n, channels) float32, from either a
        (samples, rate) pair or a streaming reader (lipflap.media.audio_stream.AudioReader)."""
        if audio is None:
            return None
        if hasattr(audio, "read") and hasattr(audio, "rate") and hasattr(audio, "channels"):
            return audio
        samples, rate = audio
        x = np.asarray(samples)
        if x.ndim == 1:
            x = x[:, None]
        if x.ndim != 2 or x.shape[1] < 1 or int(rate) <= 0:
            raise MediaError(f"{self.path}: audio must be (samples, rate) with samples shaped (n,) "
                             f"or (n, channels).")
        if x.dtype.kind == "i":
            x = x.astype(np.float32) / float(np.iinfo(x.dtype).max + 1)
        return _ArrayAudio(np.ascontiguousarray(x, dtype=np.float32), int(rate))

    def _open_container(self):
        folder, name = os.path.split(os.path.abspath(self.path))
        if not os.path.isdir(folder):
            raise MediaError(f"cannot write {self.path}: folder {folder} does not exist.")
        stem, ext = os.path.splitext(name)
        ext = ext.lower() or self.spec.ext
        fmt = "mp4" if ext == ".mp4" else "mov"
        if fmt == "mp4" and self.codec != "h264":
            raise MediaError(f"{self.path}: {self.codec} goes in a .mov, not .mp4; rename the output.")
        _remove_stale_temporaries(folder, f".{stem}.lipflap-tmp-")
        self._tmp = os.path.join(folder, f".{stem}.lipflap-tmp-{_owner_tag()}-{uuid.uuid4().hex[:8]}{ext}")
        try:
            # Created here: PyAV opens the file only at the first packet, which would turn an
            # unwritable folder into a failure deep inside the render.
            open(self._tmp, "xb").close()
            # use_metadata_tags: the mov/mp4 muxer drops keys it does not know without it.
            out = av.open(self._tmp, "w", format=fmt,
                          options={"movflags": "use_metadata_tags"} if self._metadata else {})
            out.metadata.update(self._metadata)
        except (av.error.FFmpegError, OSError) as e:
            if os.path.exists(self._tmp):
                os.remove(self._tmp)
            raise MediaError(f"cannot write {self.path} ({getattr(e, 'strerror', None) or e}); "
                             f"check the folder is writable.") from None
        self._out = out
        try:
            opts = dict(self.spec.options)
            if self.codec in ("prores_4444", "prores_4444xq") and self.alpha:
                opts["alpha_bits"] = "16"
            vs = out.add_stream(self.spec.encoder, rate=self.fps, options=opts)
            vs.width, vs.height, vs.pix_fmt = self.width, self.height, self.pix_fmt
            vs.time_base = Fraction(self.fps.denominator, self.fps.numerator)
            cc = vs.codec_context
            cc.time_base = vs.time_base
            cc.thread_type = "AUTO"
            for k, v in self._tags.items():
                setattr(cc, k, v)
            if self.like is not None:
                if self.like.pixel_aspect and self.like.pixel_aspect != 1:
                    cc.sample_aspect_ratio = self.like.pixel_aspect
                fo = colour.value(colour.FIELD_ORDER, self.like.field_order)
                if fo:
                    cc.field_order = fo
                if self.like.rotation:
                    # Phone footage: keep the display matrix so players turn it the same way.
                    vs.set_display_rotation(self.like.rotation)
                if self.like.field_order in ("tt", "bb", "tb", "bt"):
                    self._interlace(cc, top_first=self.like.field_order in ("tt", "tb"))
            if self.start_timecode:
                # The mov/mp4 muxer turns this tag into a tmcd track; probe reads it back.
                vs.metadata["timecode"] = self.start_timecode
            self._vs = vs
            self._as = None
            if self._audio is not None:
                rate, ch = self._audio.rate, self._audio.channels
                if fmt == "mp4":
                    a = out.add_stream("aac", rate=rate, layout=_layout(ch))
                    a.bit_rate = 256000
                    self._afmt = "fltp"
                else:
                    a = out.add_stream("pcm_s24le", rate=rate, layout=_layout(ch))
                    self._afmt = "s32"
                a.time_base = Fraction(1, rate)
                self._as = a
                self._apos = 0
        except Exception:
            self.abort()
            raise

    def _interlace(self, cc, top_first: bool) -> None:
        """Code interlaced sources as interlaced H.264 (fields kept apart in DCT and motion
        search). ProRes follows each decoded frame's own interlace flag; FFmpeg's DNxHR profiles
        are progressive only."""
        if self.spec.encoder == "libx264":
            order = "tff=1" if top_first else "bff=1"
            cc.options = {**cc.options, "x264-params": order}
            cc.flags |= av.codec.context.Flags.interlaced_dct | av.codec.context.Flags.interlaced_me

    def _open_sequence(self):
        p = self.path
        if _SEQ_PATTERN.search(os.path.basename(p)):
            folder = os.path.dirname(os.path.abspath(p))
            base = _SEQ_PATTERN.sub(lambda m: f"%0{len(m.group())}d" if m.group().startswith("#")
                                    else m.group(), os.path.basename(p))
        else:
            # A folder: frames are <folder>/<folder name>.NNNNNN.ext
            folder = os.path.abspath(p)
            base = f"{os.path.basename(folder.rstrip(os.sep))}.%06d{self.spec.ext}"
            os.makedirs(folder, exist_ok=True)
        if not os.path.isdir(folder):
            raise MediaError(f"cannot write {p}: folder {folder} does not exist.")
        self._seq_folder, self._seq_base = folder, base
        _remove_stale_temporaries(folder, ".lipflap-tmp-")
        self._seq_dir = os.path.join(folder, f".lipflap-tmp-{_owner_tag()}-{uuid.uuid4().hex[:8]}")
        os.makedirs(self._seq_dir)
        self._seq_ctx = None

    def sequence_path(self, number: int) -> str:
        """Final file name of the frame numbered `number` (sequences only)."""
        return os.path.join(self._seq_folder, self._seq_base % number)

    # ---- writing ---------------------------------------------------------------------------

    def write(self, image: np.ndarray) -> None:
        """Append an RGB or RGBA image (uint8, uint16 or float 0..1), as shown (turned back into
        the stored picture when the source has a display rotation)."""
        img = _as_u16(image, self.path)
        if self.turn:
            img = np.ascontiguousarray(np.rot90(img, -self.turn))
        if img.shape[:2] != (self.height, self.width):
            raise MediaError(f"{self.path}: frame {self._n} is {img.shape[1]}x{img.shape[0]}, the "
                             f"output is {self.width}x{self.height}.")
        if self._is_rgb:
            self._write_rgb(img)
            return
        has_a = img.shape[2] == 4
        if self.alpha and not has_a:
            img = np.concatenate([img, np.full(img.shape[:2] + (1,), 65535, np.uint16)], axis=2)
        elif has_a and not self.alpha:
            img = np.ascontiguousarray(img[:, :, :3])
        self._encode(self._rgb_to_out(img))

    def write_frame(self, frame: Frame) -> None:
        """Append a decoded source frame unchanged (a plain transcode of it)."""
        if self._is_rgb:
            self._write_rgb(self._source_rgb(frame))
        else:
            self._encode(self._source_out(frame, copy=False))

    def write_composite(self, frame: Frame, patch: np.ndarray, alpha: np.ndarray, x0: int,
                        y0: int) -> None:
        """Append `frame` with `patch` (h x w RGB) blended at (x0, y0) through `alpha` (h x w,
        0..1 float, or uint8/uint16 full scale), the box in the frame as shown (decode.Frame).
        Pixels where alpha is 0 stay exactly as `write_frame` would write them."""
        p = _as_u16(patch, self.path)[:, :, :3]
        a = _as_alpha(alpha)
        if a.shape != p.shape[:2]:
            raise MediaError(f"{self.path}: frame {frame.index}: alpha {a.shape} does not match "
                             f"patch {p.shape[:2]}.")
        turn = getattr(frame, "turn", 0)
        if turn:
            x0, y0 = orientation.stored_box(turn, self.width, self.height, int(x0), int(y0),
                                            a.shape[1], a.shape[0])[:2]
            p, a = np.rot90(p, -turn), np.ascontiguousarray(np.rot90(a, -turn))
        # Clip the box to the frame.
        x0, y0 = int(x0), int(y0)
        h, w = a.shape
        cx0, cy0 = max(x0, 0), max(y0, 0)
        cx1, cy1 = min(x0 + w, self.width), min(y0 + h, self.height)
        if cx1 <= cx0 or cy1 <= cy0 or not (a > 0).any():
            self.write_frame(frame)
            return
        p = p[cy0 - y0:cy1 - y0, cx0 - x0:cx1 - x0]
        a = a[cy0 - y0:cy1 - y0, cx0 - x0:cx1 - x0]
        if self._is_rgb:
            base = self._source_rgb(frame).copy()
            region = base[cy0:cy1, cx0:cx1, :3].astype(np.float32)
            blended = region + (p.astype(np.float32) - region) * a[:, :, None]
            base[cy0:cy1, cx0:cx1, :3] = np.rint(blended).astype(np.uint16)
            self._write_rgb(base)
            return
        out = self._source_out(frame, copy=True)
        # Align the box to the chroma grid so the patch's chroma lands on the same samples.
        sx, sy = _chroma_sub(self.pix_fmt)
        bx0, by0 = cx0 - cx0 % sx, cy0 - cy0 % sy
        bx1, by1 = -(-cx1 // sx) * sx, -(-cy1 // sy) * sy
        bw, bh = bx1 - bx0, by1 - by0
        pb = np.zeros((bh, bw, 3), np.uint16)
        ab = np.zeros((bh, bw), np.float32)
        pb[cy0 - by0:cy1 - by0, cx0 - bx0:cx1 - bx0] = p
        ab[cy0 - by0:cy1 - by0, cx0 - bx0:cx1 - bx0] = a
        # Edge-extend the patch into the alignment margin so chroma filtering sees no black.
        _edge_fill(pb, cy0 - by0, cy1 - by0, cx0 - bx0, cx1 - bx0)
        patch_out = self._rgb_to_out(pb, alpha_planes=False)
        # The chroma planes' alpha: the mean over each chroma sample's block (an exact box
        # average; OpenCV's INTER_AREA at an integer factor, ~10x numpy's strided mean).
        a_chroma = ab if (sx, sy) == (1, 1) else \
            cv2.resize(ab, (bw // sx, bh // sy), interpolation=cv2.INTER_AREA)
        for i, plane in enumerate(out.planes):
            if self.alpha and i == 3:
                continue  # full-frame composite: alpha stays opaque
            fx, fy = (sx, sy) if i in (1, 2) else (1, 1)
            dst = _plane_array(out, i)[by0 // fy:by1 // fy, bx0 // fx:bx1 // fx]
            src = _plane_array(patch_out, i)[:bh // fy, :bw // fx]
            aa = ab if (fx, fy) == (1, 1) else a_chroma
            # Where alpha is 0 the blend gives the sample back exactly (integers are exact in
            # float32), so no mask is needed to leave those pixels untouched.
            d = dst.astype(np.float32)
            d += (src.astype(np.float32) - d) * aa
            dst[:] = np.rint(d, out=d)
        self._encode(out)

    # ---- conversions -----------------------------------------------------------------------

    def _source_out(self, frame: Frame, copy: bool) -> av.VideoFrame:
        """A source frame in the output's format, for writing unchanged or under a patch."""
        f = frame.av_frame
        if f is not None and _is_yuv(f.format.name) and \
                _chroma_sub(self.pix_fmt)[0] < _chroma_sub(f.format.name)[0]:
            # The output has horizontal chroma the source never had (4:2:0 into 4:4:4). Take it
            # from the decoder's RGB, the pixels the renderer rebuilds the face from, so the
            # untouched and the rebuilt pixels share one chroma upsampling: no seam at the mask
            # edge, and the output decodes to what the source decodes to (~65 dB, not the ~45 dB
            # a second, different upsampling filter leaves).
            img = _as_u16(frame.stored, self.path)[:, :, :3]
            if self.alpha:
                img = np.concatenate([img, np.full(img.shape[:2] + (1,), 65535, np.uint16)], axis=2)
            out = self._rgb_to_out(img)
            # The YUV holds the source's matrix and range again: carry the source's tags too
            # (an untagged source stays untagged, so readers guess alike for both).
            for attr in ("colorspace", "color_range", "color_primaries", "color_trc"):
                if hasattr(f, attr):
                    try:
                        setattr(out, attr, getattr(f, attr))
                    except (AttributeError, TypeError, ValueError):
                        pass
            return out
        if f is None:
            return self._rgb_to_out(self._source_rgb(frame))
        return self._source_to_out(f, copy)

    def _source_to_out(self, f: av.VideoFrame, copy: bool) -> av.VideoFrame:
        if (f.width, f.height) != (self.width, self.height):
            raise MediaError(f"{self.path}: source frame is {f.width}x{f.height}, the output is "
                             f"{self.width}x{self.height}.")
        out = to_output_format(f, self.pix_fmt, self.matrix, self.range)
        if copy and out is f:
            out = _copy_frame(f)
        return out

    def _source_rgb(self, frame: Frame) -> np.ndarray:
        """The source frame as 16-bit RGB, converted the way decode converts (same matrix and
        range), from the decoded frame so 8-bit sources are not rounded to 8 bits first."""
        cached = getattr(frame, "_image", None)
        if getattr(frame, "av_frame", None) is None:
            img = _as_u16(frame.stored if hasattr(frame, "stored") else frame.image,
                          self.path)[:, :, :3]
        elif cached is not None and cached.dtype == np.uint16:
            img = cached
        else:
            if self._rgb16 is None:
                from .decode import rgb_converter
                self._rgb16 = rgb_converter(self.like or _info_from_frame(frame.av_frame),
                                            deep=True)
            img = self._rgb16(frame.av_frame)
        if self.alpha:
            img = np.concatenate([img, np.full(img.shape[:2] + (1,), 65535, np.uint16)], axis=2)
        return img

    def _rgb_to_out(self, img: np.ndarray, alpha_planes: bool = True) -> av.VideoFrame:
        """16-bit RGB(A) -> output format with this output's matrix and range."""
        fmt_in = "rgba64le" if img.shape[2] == 4 else "rgb48le"
        if img.shape[2] == 4:
            f = av.VideoFrame(img.shape[1], img.shape[0], fmt_in)
            _plane_array(f, 0)[:] = img.reshape(img.shape[0], -1)
        else:
            f = av.VideoFrame.from_ndarray(np.ascontiguousarray(img), format=fmt_in)
        f.color_range = 2
        return f.reformat(format=self.pix_fmt, dst_colorspace=colour.sws_matrix(self.matrix),
                          dst_color_range=colour.SWS_RANGE[self.range],
                          src_color_range="JPEG", threads=colour.SWS_THREADS)

    # ---- encoding --------------------------------------------------------------------------

    def _encode(self, f: av.VideoFrame) -> None:
        f.pts = self._n
        # Let the encoder choose frame types: a decoded frame still carries the source's (I/P/B),
        # and libx264 would force a keyframe wherever the source had one.
        f.pict_type = 0
        # The codec's time base (1/fps); the stream's changes to the muxer's timescale once the
        # header is written, and a frame stamped with that would be rescaled to pts 0.
        f.time_base = self._vs.codec_context.time_base
        for k, v in self._tags.items():
            try:
                setattr(f, k, v)
            except (AttributeError, TypeError, ValueError):
                pass
        try:
            for pkt in self._vs.encode(f):
                self._out.mux(pkt)
        except av.error.FFmpegError as e:
            raise self._write_error(f"encoding frame {self._n}", e) from None
        self._n += 1
        self._mux_audio_until(self._n)

    def _write_error(self, what: str, e: Exception) -> MediaError:
        """One sentence for a failed write; a full disk says so and what to do."""
        if getattr(e, "errno", None) in (errno.ENOSPC, errno.EFBIG, errno.EDQUOT):
            return MediaError(f"{self.path}: {what} failed because the disk is full (or the file "
                              f"outgrew what the system allows); free space or write the output "
                              f"elsewhere.")
        return MediaError(f"{self.path}: {what} failed ({e}).")

    def _mux_audio_until(self, nframes: int) -> None:
        if self._as is None:
            return
        rate = self._audio.rate
        want = int(round(nframes * rate / self.fps))
        if want <= self._apos:
            return
        # (a dub shorter than the picture reads as silence past its end)
        chunk = self._audio.read(want - self._apos)
        nch = self._audio.channels
        if self._afmt == "s32":
            data = np.clip(np.rint(chunk * 2147483648.0), -2147483648, 2147483647).astype(np.int32)
            af = av.AudioFrame.from_ndarray(data.reshape(1, -1), format="s32",
                                            layout=_layout(nch))
        else:
            # Packed float; the encoder converts to AAC's planar format itself (PyAV miscounts
            # the planes of an 8-channel planar frame built from numpy).
            af = av.AudioFrame.from_ndarray(np.ascontiguousarray(chunk).reshape(1, -1),
                                            format="flt", layout=_layout(nch))
        af.sample_rate = rate
        af.pts = self._apos
        af.time_base = Fraction(1, rate)
        try:
            for pkt in self._as.encode(af):
                self._out.mux(pkt)
        except av.error.FFmpegError as e:
            raise self._write_error(f"writing the sound at frame {nframes}", e) from None
        self._apos = want

    def _write_rgb(self, img: np.ndarray) -> None:
        """One numbered PNG/EXR file from a 16-bit RGB(A) array."""
        number = self.first_frame_number + self._n
        if self.alpha and img.shape[2] == 3:
            img = np.concatenate([img, np.full(img.shape[:2] + (1,), 65535, np.uint16)], axis=2)
        elif not self.alpha and img.shape[2] == 4:
            img = img[:, :, :3]
        if self.codec == "png":
            fmt = "rgba64be" if self.alpha else "rgb48be"
            f = av.VideoFrame(img.shape[1], img.shape[0], fmt)
            # Assigning through a big-endian view converts byte order explicitly (PyAV's
            # from_ndarray byte-swapping differs between its copy paths).
            _plane_array(f, 0, np.dtype(">u2"))[:] = img.reshape(img.shape[0], -1)
        else:
            fmt = "gbrapf32le" if self.alpha else "gbrpf32le"
            # Linear light, and alpha premultiplied: the EXR conventions Nuke and others assume.
            # A 16-bit lookup table does the curve (a per-pixel power is ~10x slower at 1080p).
            if self._linear_lut is None:
                self._linear_lut = colour.linear_from_bt709(
                    np.arange(65536, dtype=np.float32) / 65535.0)
            flt = np.empty(img.shape, np.float32)
            flt[:, :, :3] = self._linear_lut[img[:, :, :3]]
            if self.alpha:
                flt[:, :, 3] = img[:, :, 3] * np.float32(1 / 65535.0)
                flt[:, :, :3] *= flt[:, :, 3:4]
            f = av.VideoFrame(img.shape[1], img.shape[0], fmt)
            # gbrp plane order is G, B, R (, A).
            for i, ch in enumerate((1, 2, 0, 3)[:len(f.planes)]):
                _plane_array(f, i, np.dtype("<f4"))[:] = flt[:, :, ch]
        if self._seq_ctx is None:
            ctx = av.CodecContext.create(self.spec.encoder, "w")
            ctx.width, ctx.height, ctx.pix_fmt = self.width, self.height, fmt
            ctx.time_base = Fraction(self.fps.denominator, self.fps.numerator)
            ctx.options = dict(self.spec.options)
            ctx.open()
            self._seq_ctx = ctx
        f.pts = self._n
        data = b"".join(bytes(p) for p in self._seq_ctx.encode(f))
        name = os.path.join(self._seq_dir, self._seq_base % number)
        try:
            with open(name, "wb") as fh:
                fh.write(data)
        except OSError as e:
            raise self._write_error(f"writing frame {number}", e) from None
        self._n += 1

    # ---- finishing -------------------------------------------------------------------------

    @property
    def frames_written(self) -> int:
        return self._n

    def close(self, finish=None) -> str:
        """Finish the file and rename it to its final name; returns the final path.
        `finish(tmp, final)`, when given, runs on the finished temporary output just before the
        rename (tmp: the file, or a sequence's folder of frames; final: the final path or the
        sequence's final %d pattern), e.g. to sign it; if it raises, nothing is renamed."""
        if self._closed:
            return self.path
        if self._n == 0:
            self.abort()
            raise MediaError(f"{self.path}: no frames were written, so no output was made.")
        try:
            if self._is_rgb:
                if finish is not None:
                    finish(self._seq_dir, os.path.join(self._seq_folder, self._seq_base))
                final = []
                for name in sorted(os.listdir(self._seq_dir)):
                    dst = os.path.join(self._seq_folder, name)
                    os.replace(os.path.join(self._seq_dir, name), dst)
                    final.append(dst)
                os.rmdir(self._seq_dir)
                if self._audio is not None:
                    self._write_sidecar_wav()
            else:
                for pkt in self._vs.encode():
                    self._out.mux(pkt)
                self._mux_audio_until(self._n)
                if self._as is not None:
                    for pkt in self._as.encode():
                        self._out.mux(pkt)
                self._out.close()
                self._out = None
                if finish is not None:
                    finish(self._tmp, self.path)
                os.replace(self._tmp, self.path)
        except (av.error.FFmpegError, OSError) as e:
            self.abort()
            raise self._write_error("finishing the file", e) from None
        except Exception:
            self.abort()
            raise
        self._closed = True
        return self.path

    def _write_sidecar_wav(self):
        rate, nch = self._audio.rate, self._audio.channels
        n = int(round(self._n * rate / self.fps))
        stem = self._seq_base.split("%")[0].rstrip("._") or "audio"
        path = os.path.join(self._seq_folder, stem + ".wav")
        tmp = path + ".lipflap-tmp"
        with av.open(tmp, "w", format="wav") as out:
            a = out.add_stream("pcm_s24le", rate=rate, layout=_layout(nch))
            done = 0
            while done < n:
                # a few seconds at a time: a long dub is never held whole
                x = self._audio.read(min(n - done, 4 * rate))
                data = np.clip(np.rint(x * 2147483648.0), -2147483648, 2147483647).astype(np.int32)
                af = av.AudioFrame.from_ndarray(data.reshape(1, -1), format="s32",
                                                layout=_layout(nch))
                af.sample_rate = rate
                af.pts = done
                af.time_base = Fraction(1, rate)
                for pkt in a.encode(af):
                    out.mux(pkt)
                done += x.shape[0]
            for pkt in a.encode():
                out.mux(pkt)
        os.replace(tmp, path)

    def abort(self) -> None:
        """Drop the output: nothing with the final name is created."""
        self._closed = True
        if self._out is not None:
            try:
                self._out.close()
            except Exception:  # noqa: BLE001 - the file is removed anyway
                pass
            self._out = None
        if self._tmp and os.path.exists(self._tmp):
            os.remove(self._tmp)
        if self._seq_dir and os.path.isdir(self._seq_dir):
            shutil.rmtree(self._seq_dir, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is not None:
            self.abort()
            return False
        self.close()
        return False


def plain_transcode(src, dst, codec: str, start: int = 0, end: int | None = None, **kw) -> str:
    """The reference: frames start..end of `src` written unchanged to `dst` in `codec`, with the
    source's tags and timecode."""
    info = probe(src)
    with VideoWriter(dst, codec=codec, fps=info.fps, width=info.width, height=info.height,
                     like=info, first_frame_number=start, **kw) as w:
        for f in read_frames(src, start, end, info=info):
            w.write_frame(f)
    return w.path


# ---- helpers -------------------------------------------------------------------------------

def _owner_tag() -> str:
    """Host and process that own a temporary output, so a later run can tell a dead run's
    leftovers (killed with SIGKILL, power cut) from another run still writing."""
    host = re.sub(r"[^A-Za-z0-9]+", "", socket.gethostname())[:24] or "host"
    return f"{host}.{os.getpid()}"


def _remove_stale_temporaries(folder: str, prefix: str) -> None:
    """Delete temporaries with `prefix` left by dead processes of this host. Other hosts' and
    live processes' files (a shared render folder) are never touched."""
    host = _owner_tag().split(".")[0]
    pattern = re.compile(re.escape(prefix) + re.escape(host) + r"\.(\d+)-[0-9a-f]{8}")
    try:
        names = os.listdir(folder)
    except OSError:
        return
    for name in names:
        m = pattern.match(name)
        if not m:
            continue
        pid = int(m.group(1))
        if pid == os.getpid():
            continue
        try:
            os.kill(pid, 0)
            continue  # still running
        except ProcessLookupError:
            pass
        except OSError:
            continue  # exists but not ours to signal: leave it
        path = os.path.join(folder, name)
        try:
            if os.path.isdir(path):
                shutil.rmtree(path)
            else:
                os.remove(path)
        except OSError:
            pass


def _info_from_frame(f: av.VideoFrame):
    """The few VideoInfo fields the RGB converter reads, from a frame's own tags."""
    from types import SimpleNamespace
    return SimpleNamespace(bit_depth=16, colorspace=colour.name(colour.SPACE, f.colorspace),
                           color_range=colour.name(colour.RANGE, f.color_range),
                           pix_fmt=f.format.name, height=f.height)


def output_colour(like, codec: str, pix_fmt: str, height: int) -> tuple[str, str]:
    """(matrix, range) a writer of `codec` in `pix_fmt` converts RGB with: the source's (`like`,
    a VideoInfo) where it is YUV, else the defaults for the frame's height; full range for an
    image sequence (RGB, no YUV of its own)."""
    yuv_like = like is not None and _is_yuv(like.pix_fmt)
    matrix = colour.effective_matrix(like.colorspace if yuv_like else None, height)
    if CODECS[codec].container is None:
        return matrix, "pc"
    return matrix, colour.effective_range(like.color_range if yuv_like else None, pix_fmt)


def _is_yuv(pix_fmt: str | None) -> bool:
    return bool(pix_fmt) and pix_fmt.startswith(("yuv", "nv", "p01", "p21"))


def _layout(ch: int) -> str:
    return {1: "mono", 2: "stereo", 6: "5.1"}.get(ch, f"{ch}c")


def _chroma_sub(pix_fmt: str) -> tuple[int, int]:
    if pix_fmt.startswith(("yuv420", "yuva420", "nv12")):
        return 2, 2
    if pix_fmt.startswith(("yuv422", "yuva422")):
        return 2, 1
    return 1, 1


def _copy_frame(f: av.VideoFrame) -> av.VideoFrame:
    g = av.VideoFrame(f.width, f.height, f.format.name)
    for i in range(len(f.planes)):
        _plane_array(g, i)[:] = _plane_array(f, i)
    g.color_range = f.color_range
    g.colorspace = f.colorspace
    return g


def _edge_fill(pb, r0, r1, c0, c1):
    if c0 > 0:
        pb[:, :c0] = pb[:, c0:c0 + 1]
    if c1 < pb.shape[1]:
        pb[:, c1:] = pb[:, c1 - 1:c1]
    if r0 > 0:
        pb[:r0] = pb[r0:r0 + 1]
    if r1 < pb.shape[0]:
        pb[r1:] = pb[r1 - 1:r1]


def _as_u16(image, path) -> np.ndarray:
    img = np.asarray(image)
    if img.ndim != 3 or img.shape[2] not in (3, 4):
        raise MediaError(f"{path}: images must be HxWx3 (RGB) or HxWx4 (RGBA), got {img.shape}.")
    if img.dtype == np.uint16:
        return img
    if img.dtype == np.uint8:
        return img.astype(np.uint16) * 257
    if img.dtype.kind == "f":
        return np.rint(np.clip(img, 0.0, 1.0) * 65535.0).astype(np.uint16)
    raise MediaError(f"{path}: images must be uint8, uint16 or float, got {img.dtype}.")


def _as_alpha(alpha) -> np.ndarray:
    a = np.asarray(alpha)
    if a.ndim == 3:
        a = a[:, :, 0]
    f = to_float(a)
    # A float alpha is clipped: it weighs patch against frame, and a weight outside 0..1 overshoots.
    return f if a.dtype in (np.uint8, np.uint16) else np.clip(f, 0.0, 1.0)
