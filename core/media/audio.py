"""Audio as float32 numpy, resampled, aligned to the video's frame clock: the one audio reader.

Time 0 is the presentation time of video frame 0 when the file has video (so frame i starts at
i/fps), else the start of the audio stream. Samples are placed by their timestamps (gaps stay
silent) and resampled with a zero-phase polyphase filter, so a sound at time t lands at output
sample round(t * rate).

    open_audio(path, stream) -> AudioSource   the stream, seeked and decoded in placed chunks
    load_audio(path, rate, channels, offset_s, duration_s) -> samples   a whole range at once
    read_audio(src, rate, channels, offset_s, duration_s)               the same, from open_audio's
    audio_duration(path) -> (seconds, channels)
    mix(buf, channels)                          the channel rule both readers share

`lipflap.media.audio_stream.AudioReader` reads the same samples a block at a time on top of
`open_audio` and `mix`.

Undecodable packets (a damaged dub) are skipped and told once a reading, to the reader's `warn`
(one sentence naming the file, the time of the first and how many; without `warn`, on stderr);
a stream of which nothing decodes is refused (MediaError).
"""
from __future__ import annotations

import math
import os
import sys
from fractions import Fraction
from typing import Callable, Iterator

import av
import numpy as np

from ..contract.errors import MediaError
from .probe import open_input, video_stream
from .resample import resample_poly

PAD_S = 0.05  # decoded beyond each end so the resampling filter has context


class AudioSource:
    """One audio stream of an open file, on the frame clock: `rate` (native Hz), `t0` (seconds on
    the container clock where time 0 sits), `chunks()` (decoded, placed samples)."""

    def __init__(self, container, stream, warn: Callable[[str], None] | None = None):
        self.container = container
        self.stream = stream
        self.rate = int(stream.codec_context.sample_rate)
        self.time_base = stream.time_base or Fraction(1, self.rate)
        self.t0 = _time_zero(container, stream)
        self.warn = warn

    def seek(self, offset_s: float) -> None:
        """Position the decoder at or before `offset_s - PAD_S` (frame clock); near the start the
        stream is read from its beginning."""
        lo = offset_s - PAD_S
        if lo + self.t0 > 1.0:
            try:
                self.container.seek(int((lo + self.t0 - 0.5) / self.time_base), stream=self.stream,
                                    backward=True)
            except av.error.FFmpegError:
                self.container.seek(0, stream=self.stream, backward=True)

    def chunks(self) -> Iterator[tuple[int, np.ndarray]]:
        """(native sample position on the frame clock, (channels, n) float32) in decode order,
        each placed by its timestamp, else following the previous one."""
        # Packed samples, split here: PyAV counts 9 planes in an 8-channel planar frame and
        # reads past the last one (a segfault on 7.1 dubs).
        resampler = av.AudioResampler(format="flt")
        pos = None
        damage = _Damage(self.container.name, self.t0)
        try:
            for frame in _decode(self.container, self.stream, damage):
                for rf in resampler.resample(frame):
                    pos = _place(rf, self.time_base, self.t0, self.rate, pos)
                    data = rf.to_ndarray().reshape(-1, rf.layout.nb_channels).T
                    data = np.ascontiguousarray(data, np.float32)
                    yield pos, data
                    pos += data.shape[1]
            if damage.count and pos is None:
                raise MediaError(damage.nothing_decoded())
        finally:
            # Also when the reader stops early (a range read): what it met is told once.
            if damage.count and pos is not None:
                (self.warn or _on_stderr)(damage.sentence())

    @property
    def channel_names(self) -> list[str]:
        """FFmpeg channel names in file order ("FL", "FR", "FC", ...), or unnamed_channels(n) when
        the file gives none."""
        ctx = self.stream.codec_context
        layout = ctx.layout
        names = [ch.name for ch in layout.channels] if layout is not None else []
        n = ctx.channels or len(names) or 1
        # A layout of unspecified order (a plain 2-channel WAV, as PyAV writes one) names each
        # channel "NONE".
        if len(names) != n or any(not name or name == "NONE" for name in names):
            return unnamed_channels(n)
        return names

    def close(self) -> None:
        self.container.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def unnamed_channels(n: int) -> list[str]:
    """The names of the `n` channels of a file whose layout names none: "c0", "c1", ..."""
    return [f"c{i}" for i in range(n)]


def open_audio(path, stream: int | None = None,
               warn: Callable[[str], None] | None = None) -> AudioSource:
    """The `stream`-th audio stream of `path` (default the first); a file without one, or without
    that one, is refused here, for every reader. `warn` is told of undecodable packets."""
    path = os.fspath(path)
    c = open_input(path)
    try:
        if not c.streams.audio:
            raise MediaError(f"{path} has no audio stream; give a file with sound.")
        si = stream or 0
        if not 0 <= si < len(c.streams.audio):
            raise MediaError(f"{path} has {len(c.streams.audio)} audio stream(s); stream {si} does "
                             f"not exist.")
        return AudioSource(c, c.streams.audio[si], warn)
    except BaseException:
        c.close()
        raise


def audio_duration(path) -> tuple[float, int]:
    """Seconds of sound and channel count of the first audio stream (from the header when it
    says, else by decoding)."""
    path = os.fspath(path)
    with open_audio(path) as src:
        a, c = src.stream, src.container
        layout = getattr(a.codec_context, "layout", None)
        ch = getattr(layout, "nb_channels", None) or getattr(a.codec_context, "channels", 1) or 1
        if a.duration is not None and a.time_base:
            return float(a.duration * a.time_base), ch
        if c.duration:
            return c.duration / 1e6, ch
        try:
            n = sum(fr.samples for fr in c.decode(audio=0))
        except av.error.FFmpegError as e:
            raise MediaError(f"{path} is not a readable sound file ({e}); give a WAV, AIFF or "
                             f"similar.") from None
        return n / float(a.codec_context.sample_rate), ch


def load_audio(path, rate: int = 16000, channels: int = 1, offset_s: float = 0.0,
               duration_s: float | None = None, stream: int | None = None,
               warn: Callable[[str], None] | None = None) -> np.ndarray:
    """Samples from `offset_s` for `duration_s` (None: to the end), shape (n,) when mono or
    (n, channels); zero-padded where the request lies outside the audio. `warn`: open_audio's."""
    with open_audio(path, stream, warn) as src:
        return read_audio(src, rate, channels, offset_s, duration_s)


def read_audio(src: AudioSource, rate: int = 16000, channels: int = 1, offset_s: float = 0.0,
               duration_s: float | None = None) -> np.ndarray:
    """load_audio's samples from a stream already open (a caller that also reads the stream's
    channel names opens the file once)."""
    rate = int(rate)
    if rate <= 0 or channels < 1:
        raise MediaError(f"{src.container.name}: cannot load audio at {rate} Hz with {channels} "
                         f"channels.")
    sr = src.rate
    lo = offset_s - PAD_S                     # seconds, on the frame clock
    hi = None if duration_s is None else offset_s + duration_s + PAD_S
    # Native-rate buffer whose sample 0 sits at native position base (frame clock).
    base = math.floor(lo * sr)
    src.seek(offset_s)
    chunks: list[tuple[int, np.ndarray]] = []
    for pos, data in src.chunks():
        chunks.append((pos, data))
        if hi is not None and pos + data.shape[1] > hi * sr:
            break
    src_ch = chunks[0][1].shape[0] if chunks else (src.stream.codec_context.channels or 1)
    if duration_s is None:
        end_native = max((p + d.shape[1] for p, d in chunks), default=base) + int(PAD_S * sr)
        duration_s = max(0.0, end_native / sr - PAD_S - offset_s)
    top = math.ceil((offset_s + duration_s + PAD_S) * sr) + 1
    buf = np.zeros((src_ch, max(0, top - base)), np.float32)
    for p, d in chunks:
        a0, a1 = max(p, base), min(p + d.shape[1], top)
        if a1 > a0:
            buf[:, a0 - base:a1 - base] = d[:, a0 - p:a1 - p]
    buf = mix(buf, channels)
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


def mix(buf: np.ndarray, channels: int) -> np.ndarray:
    """(src channels, n) -> (channels, n): mono is the mean, mono to many repeats, extra channels
    are dropped and missing ones silent."""
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


class _Damage:
    """The undecodable packets of one reading: how many, and the time (frame clock) of the first."""

    def __init__(self, path: str, t0: float):
        self.path, self.t0 = path, t0
        self.count = 0
        self.first_s: float | None = None

    def add(self, packet, after: bool = False) -> None:
        """`packet` could not be decoded; `after`: the one after it could not be read."""
        self.count += 1
        if self.count == 1 and packet is not None and packet.pts is not None and packet.time_base:
            end = packet.pts + (packet.duration or 0) if after else packet.pts
            self.first_s = float(end * packet.time_base) - self.t0

    def _at(self) -> str:
        return f"{self.first_s:.2f} s" if self.first_s is not None else "an unknown time"

    def sentence(self) -> str:
        n = self.count
        return (f"{self.path}: {n} audio packet{'s' if n > 1 else ''} could not be decoded (the "
                f"first at {self._at()}) and play{'' if n > 1 else 's'} as silence; re-export or "
                f"re-copy the file if that sound matters.")

    def nothing_decoded(self) -> str:
        return (f"{self.path}: none of its audio from {self._at()} on could be decoded "
                f"({self.count} damaged packet{'s' if self.count > 1 else ''}); re-export or "
                f"re-copy the file.")


def _on_stderr(sentence: str) -> None:
    # The reader has no warnings of its own to carry it (a bench, a library caller).
    print(f"lipflap: warning: {sentence}", file=sys.stderr)


def told_elsewhere(sentence: str) -> None:
    """The `warn` of a reading of a file whose damage another reading of the same run tells."""


def _decode(c, a, damage: _Damage):
    packet = None
    try:
        for packet in c.demux(a):
            try:
                yield from packet.decode()
            except av.error.InvalidDataError:
                damage.add(packet)
    except EOFError:
        return
    except av.error.FFmpegError:
        # The demuxer gave up (a truncated or damaged file): the rest of the stream is lost.
        damage.add(packet, after=True)

