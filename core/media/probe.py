"""What a video file is: size, exact rate and frame count, timecode, colour tags, audio streams.

Frame counts come from the container index when it has one entry per frame (MOV/MP4), else from
counting packets: header durations and `nb_frames` are estimates in many containers. The first
frame is decoded once, because some facts (rotation, colour tags of some codecs, the first
presentation time that frame indexes count from) are only reliable on a decoded frame.
"""
from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from fractions import Fraction

import av

from ..contract.errors import MediaError
from . import colour, orientation
from ..contract.rates import is_drop_frame_rate, rate_string
from ..contract.timecode import frames_to_tc, tc_to_frames


@dataclass
class AudioInfo:
    index: int              # position among the file's audio streams (0 = first audio stream)
    rate: int
    channels: int
    layout: str
    start_s: float          # stream start, seconds on the container clock
    codec: str
    duration_s: float | None


@dataclass
class VideoInfo:
    path: str
    width: int
    height: int
    fps: Fraction
    frame_count: int
    duration_s: float
    vfr: bool
    start_timecode: str
    start_tc_frames: int
    drop_frame: bool
    pixel_aspect: Fraction
    field_order: str
    pix_fmt: str
    bit_depth: int
    color_primaries: str
    color_trc: str
    colorspace: str
    color_range: str
    rotation: int
    codec: str
    audio: list[AudioInfo] = field(default_factory=list)
    # Not part of the JSON: where frame 0 sits on the video stream's clock (stream time_base
    # units and seconds); decode and load_audio count from here.
    first_pts: int | None = field(default=None, repr=False)
    start_s: float = field(default=0.0, repr=False)
    time_base: Fraction | None = field(default=None, repr=False)
    timecode_found: bool = field(default=False, repr=False)

    @property
    def shown_size(self) -> tuple[int, int]:
        """(width, height) of the picture as a player shows it (its display rotation applied):
        the size decode's frames and every landmark are in (media.orientation)."""
        return orientation.shown_size(orientation.quarter_turns(self.rotation), self.width,
                                      self.height)

    def to_dict(self) -> dict:
        d = asdict(self)
        for k in ("first_pts", "start_s", "time_base", "timecode_found"):
            d.pop(k)
        d["fps"] = rate_string(self.fps)
        d["fps_float"] = float(self.fps)
        d["pixel_aspect"] = rate_string(self.pixel_aspect)
        return d


def open_input(path) -> av.container.InputContainer:
    """av.open with the errors a user can act on turned into one-sentence MediaErrors."""
    path = os.fspath(path)
    if not os.path.exists(path):
        raise MediaError(f"{path}: file not found; check the path.")
    if os.path.isdir(path):
        raise MediaError(f"{path} is a folder, not a media file; give a video file.")
    try:
        return av.open(path, "r")
    except av.error.FFmpegError as e:
        if _looks_like_quicktime(path):
            raise MediaError(f"{path} is a MOV/MP4 without its index (moov atom): the recording or "
                             f"copy was cut short; re-copy or re-export the file.") from None
        raise MediaError(f"{path} is not a readable media file ({_short(e)}); give a video file "
                         f"such as .mov or .mp4.") from None


def video_stream(c):
    """The picture stream: the first video stream that is not cover art or a thumbnail."""
    still = av.stream.Disposition.attached_pic | av.stream.Disposition.timed_thumbnails
    for s in c.streams.video:
        if not (s.disposition & still):
            return s
    return None


def _looks_like_quicktime(path: str) -> bool:
    try:
        with open(path, "rb") as fh:
            head = fh.read(12)
    except OSError:
        return False
    return len(head) == 12 and head[4:8] in (b"ftyp", b"mdat", b"wide", b"free")


def _short(e: Exception) -> str:
    msg = getattr(e, "strerror", None) or str(e)
    return str(msg).split(":")[0].strip().rstrip(".") or type(e).__name__


def probe(path) -> VideoInfo:
    path = os.fspath(path)
    with open_input(path) as c:
        vs = video_stream(c)
        if vs is None:
            raise MediaError(f"{path} has no video stream; give a video file (for audio use --audio).")
        cc = vs.codec_context
        tb = vs.time_base or Fraction(1, 90000)
        fps = _rate(vs)
        count, vfr, index_first = _count_frames(c, vs, fps)
        first, first_pts = _first_frame(path, c, vs)
        if first_pts is None:
            first_pts = index_first
        pix_fmt = (cc.format.name if cc.format else None) or (first.format.name if first else "unknown")
        bit_depth = _bit_depth(pix_fmt)
        tc_text = _timecode_tag(c, vs)
        drop = bool(tc_text and any(s in tc_text for s in ";,.")) and is_drop_frame_rate(fps)
        tc_frames = 0
        found = False
        if tc_text:
            try:
                tc_frames = tc_to_frames(tc_text, fps, drop)
                found = True
            except Exception:  # a malformed tag is reported as absent, not fatal
                tc_frames = 0
        start_tc = frames_to_tc(tc_frames, fps, drop)
        sar = vs.sample_aspect_ratio or cc.sample_aspect_ratio
        par = Fraction(sar) if sar and sar.numerator > 0 else Fraction(1)

        def tag(table, attr):
            v = getattr(cc, attr, None)
            name = colour.name(table, v) if v is not None else "unknown"
            if name == "unknown" and first is not None:
                name = colour.name(table, getattr(first, attr, None))
            return name

        start_s = float(first_pts * tb) if first_pts is not None else float(
            (vs.start_time or 0) * tb)
        if vfr and vs.duration:
            duration = float(vs.duration * tb)
        else:
            duration = float(count / fps) if fps else 0.0
        audio = []
        for i, a in enumerate(c.streams.audio):
            actx = a.codec_context
            atb = a.time_base or Fraction(1, actx.sample_rate or 1)
            audio.append(AudioInfo(
                index=i, rate=int(actx.sample_rate or 0), channels=int(actx.channels or 0),
                layout=actx.layout.name if actx.layout else "", codec=actx.name,
                start_s=float((a.start_time or 0) * atb),
                duration_s=float(a.duration * atb) if a.duration else None))
        return VideoInfo(
            path=path, width=int(cc.width or (first.width if first else 0)),
            height=int(cc.height or (first.height if first else 0)), fps=fps, frame_count=count,
            duration_s=duration, vfr=vfr, start_timecode=start_tc, start_tc_frames=tc_frames,
            drop_frame=drop, pixel_aspect=par,
            field_order=colour.name(colour.FIELD_ORDER, cc.field_order),
            pix_fmt=pix_fmt, bit_depth=bit_depth,
            color_primaries=tag(colour.PRIMARIES, "color_primaries"),
            color_trc=tag(colour.TRC, "color_trc"),
            colorspace=tag(colour.SPACE, "colorspace"),
            color_range=tag(colour.RANGE, "color_range"),
            rotation=int(first.rotation) if first is not None and first.rotation else 0,
            codec=cc.name, audio=audio, first_pts=first_pts, start_s=start_s, time_base=tb,
            timecode_found=found)


def _rate(vs) -> Fraction:
    avg, base = vs.average_rate, vs.base_rate or vs.guessed_rate
    rate = None
    for cand in (avg, base):
        if cand and cand > 0:
            rate = Fraction(cand)
            break
    if rate is None:
        raise MediaError(f"{vs.container.name} does not say its frame rate; re-wrap it as .mov.")
    # Containers store 23.976 as e.g. 2997/125 or 24000/1001 with rounding noise: snap to the
    # NTSC rationals and integers when within 0.05%.
    for exact in (Fraction(24000, 1001), Fraction(30000, 1001), Fraction(48000, 1001),
                  Fraction(60000, 1001), Fraction(120000, 1001), Fraction(round(rate))):
        if exact and abs(rate - exact) / exact < Fraction(5, 10000):
            return exact
    return rate


def _bit_depth(pix_fmt: str) -> int:
    try:
        return max(c.bits for c in av.VideoFormat(pix_fmt).components)
    except Exception:
        return 8


def _timecode_tag(c, vs) -> str | None:
    for md in [vs.metadata, c.metadata] + [s.metadata for s in c.streams if s.type == "data"]:
        for key, tc in (md or {}).items():
            # MOV/MP4 say "timecode", Matroska "TIMECODE".
            if key.lower() == "timecode" and tc:
                return tc
    return None


def _count_frames(c, vs, fps: Fraction) -> tuple[int, bool, int | None]:
    """(frame count, variable frame rate?, first timestamp) from the index or by demuxing."""
    try:
        entries = [e for e in vs.index_entries if not e.is_discard]
    except Exception:
        entries = []
    fmt = c.format.name or ""
    if entries and ("mov" in fmt or "mp4" in fmt) and (not vs.frames or len(entries) == vs.frames):
        # MOV/MP4 indexes every sample; timestamps are decode times, regular for constant rate
        # even with B-frames.
        stamps = [e.timestamp for e in entries]
        return len(stamps), _irregular(stamps, vs.time_base, fps), None
    stamps = []
    for pkt in c.demux(vs):
        if pkt.size == 0 and pkt.pts is None:
            continue  # the flush packet
        stamps.append(pkt.pts if pkt.pts is not None else pkt.dts)
    known = sorted(s for s in stamps if s is not None)
    count = len(stamps)
    # Matroska writes each stream's duration at the end of recording; fewer packets than that
    # means the file was cut: report the full length so decoding names the frame where it broke.
    expected = _tagged_frames(vs, fps)
    if expected is not None and expected > count + 1:
        count = expected
    return count, _irregular(known, vs.time_base, fps), (known[0] if known else None)


def _tagged_frames(vs, fps: Fraction) -> int | None:
    for key, value in (vs.metadata or {}).items():
        if key.lower() == "duration":
            try:
                hh, mm, ss = value.split(":")
                seconds = int(hh) * 3600 + int(mm) * 60 + Fraction(ss)
            except ValueError:
                return None
            return int(round(seconds * fps))
    return None


def _irregular(stamps: list[int], tb, fps: Fraction) -> bool:
    if len(stamps) < 3 or not tb:
        return False
    s = sorted(stamps)
    step = 1 / (fps * tb)  # ticks per frame
    # A constant rate only jitters by the rounding of its timestamps (a tick or so); steps that
    # differ by more (e.g. 512 and 1024 ticks averaging 22.13 fps in a file from a 30 fps
    # recorder that dropped frames) mean the rate varies, and frames must be counted.
    tol = max(1.5, 0.05 * float(step))
    return any(abs((b - a) - step) > tol for a, b in zip(s, s[1:]))


def _first_frame(path, c, vs):
    """The first decoded frame (None if none decodes) and its pts; reopened so the caller's
    demux position does not matter."""
    try:
        with av.open(path) as c2:
            v2 = video_stream(c2)
            for frame in c2.decode(v2):
                return frame, frame.pts
    except av.error.FFmpegError:
        pass
    return None, None
