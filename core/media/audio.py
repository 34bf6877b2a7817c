"""Audio as float32 numpy, resampled, aligned to the video's frame clock.

Time 0 is the presentation time of video frame 0 when the file has video (so frame i starts at
i/fps), else the start of the audio stream. Samples are placed by their timestamps (gaps stay
silent) and resampled with a zero-phase polyphase filter, so a sound at time t lands at output
sample round(t * rate).
"""
from __future__ import annotations

import math
import os
from fractions import Fraction

import av
import numpy as np
from scipy.signal import resample_poly

from ..contract.errors import MediaError
from .probe import open_input, video_stream

_PAD_S = 0.05  # decoded beyond each end so the resampling filter has context


def load_audio(path, rate: int = 16000, channels: int = 1, offset_s: float = 0.0,
               duration_s: float | None = None, stream: int | None = None) -> np.ndarray:
    """Samples from `offset_s` for `duration_s` (None: to the end), shape (n,) when mono or
    (n, channels); zero-padded where the request lies outside the audio."""
    path = os.fspath(path)
    rate = int(rate)
    if rate <= 0 or channels < 1:
        raise MediaError(f"{path}: cannot load audio at {rate} Hz with {channels} channels.")
    with open_input(path) as c:
        if not c.streams.audio:
            raise MediaError(f"{path} has no audio stream; give a file with sound.")
        si = stream or 0
        if si >= len(c.streams.audio) or si < 0:
            raise MediaError(f"{path} has {len(c.streams.audio)} audio stream(s); stream {si} does "
                             f"not exist.")
        a = c.streams.audio[si]
        sr = int(a.codec_context.sample_rate)
        atb = a.time_base or Fraction(1, sr)
        t0 = _time_zero(c, a)
        lo = offset_s - _PAD_S                    # seconds, on the frame clock
        hi = None if duration_s is None else offset_s + duration_s + _PAD_S
        # Native-rate buffer whose sample 0 sits at native position base (frame clock).
        base = math.floor(lo * sr)
        chunks: list[tuple[int, np.ndarray]] = []
        if lo + t0 > 1.0:
            try:
                c.seek(int((lo + t0 - 0.5) / atb), stream=a, backward=True)
            except av.error.FFmpegError:
                c.seek(0, stream=a, backward=True)
        # Packed samples, split here: PyAV counts 9 planes in an 8-channel planar frame and
        # reads past the last one (a segfault on 7.1 dubs).
        resampler = av.AudioResampler(format="flt")
        pos = None
        for frame in _decode(c, a):
            for rf in resampler.resample(frame):
                pos = _place(rf, atb, t0, sr, pos)
                data = rf.to_ndarray().reshape(-1, rf.layout.nb_channels).T
                chunks.append((pos, data))
                pos += data.shape[1]
            if hi is not None and pos is not None and pos > hi * sr:
                break
        src_ch = chunks[0][1].shape[0] if chunks else (a.codec_context.channels or 1)
        if duration_s is None:
            end_native = max((p + d.shape[1] for p, d in chunks), default=base) + int(_PAD_S * sr)
            duration_s = max(0.0, end_native / sr - _PAD_S - offset_s)
        top = math.ceil((offset_s + duration_s + _PAD_S) * sr) + 1
        buf = np.zeros((src_ch, max(0, top - base)), np.float32)
        for p, d in chunks:
            a0, a1 = max(p, base), min(p + d.shape[1], top)
            if a1 > a0:
                buf[:, a0 - base:a1 - base] = d[:, a0 - p:a1 - p]
        buf = _mix(buf, channels)
        ratio = Fraction(rate, sr)
        if ratio != 1:
            out = resample_poly(buf, ratio.numerator, ratio.denominator, axis=1).astype(np.float32)
        else:
            out = buf
        n = int(round(duration_s * rate))
        k0 = int(round((offset_s * sr - base) * rate / sr))
        seg = out[:, k0:k0 + n]
        if seg.shape[1] < n:
            seg = np.pad(seg, ((0, 0), (0, n - seg.shape[1])))
        seg = np.ascontiguousarray(seg.T)
        return seg[:, 0].copy() if channels == 1 else seg


def _time_zero(c, a) -> float:
    """Seconds on the container clock where time 0 sits: video frame 0, else the audio start."""
    vs = video_stream(c)
    if vs is not None:
        if vs.start_time is not None and vs.time_base:
            return float(vs.start_time * vs.time_base)
    if a.start_time is not None and a.time_base:
        return float(a.start_time * a.time_base)
    return 0.0


def _place(frame, atb, t0, sr, pos):
    """Native sample position (frame clock) of a decoded frame: from its timestamp, else
    continuing the previous one."""
    if frame.pts is not None and frame.time_base is not None:
        return int(round((float(frame.pts * frame.time_base) - t0) * sr))
    if pos is not None:
        return pos
    return 0


def _decode(c, a):
    try:
        for packet in c.demux(a):
            try:
                yield from packet.decode()
            except av.error.InvalidDataError:
                continue
    except (av.error.FFmpegError, EOFError):
        return


def _mix(buf: np.ndarray, channels: int) -> np.ndarray:
    src = buf.shape[0]
    if channels == src:
        return buf
    if channels == 1:
        return buf.mean(axis=0, keepdims=True)
    if src == 1:
        return np.repeat(buf, channels, axis=0)
    if channels < src:
        return buf[:channels]
    return np.concatenate([buf, np.zeros((channels - src, buf.shape[1]), buf.dtype)])
