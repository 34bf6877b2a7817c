"""A dub read a block at a time, on the frame clock, for muxing next to a long render.

`load_audio` returns a whole range at once: for a 10-minute dub at 48 kHz that is 115 MB a
channel held through the render, plus the resampler's copies. `AudioReader` gives the same samples
(the same placement by timestamp, channel mix and polyphase resampling; equal to `load_audio`'s
to float rounding) in order, decoding and resampling a few seconds at a time, so what it holds
does not grow with the dub's length.
"""
from __future__ import annotations

import math
import os
from fractions import Fraction

import numpy as np

from ..contract.errors import MediaError
from .audio import PAD_S, mix, open_audio
from .resample import resample_poly

BLOCK_S = 4.0          # output seconds resampled at a time
MARGIN_NATIVE = 512    # native samples of context each side of a block (>> the filter's half length)


class AudioReader:
    """Samples of `path` from `offset_s` (frame clock) for `duration_s`, at `rate` with `channels`,
    read in order with `read(n)`; zeros outside the audio and after `duration_s`."""

    def __init__(self, path, rate: int, channels: int = 1, offset_s: float = 0.0,
                 duration_s: float | None = None, stream: int = 0, warn=None):
        self.path = os.fspath(path)
        self.rate = int(rate)
        self.channels = int(channels)
        if self.rate <= 0 or self.channels < 1:
            raise MediaError(f"{self.path}: cannot read audio at {rate} Hz with {channels} channels.")
        self._src = open_audio(self.path, stream, warn)  # warn: see lipflap.media.audio
        try:
            self.sr = sr = self._src.rate
            self._src.seek(offset_s)
        except BaseException:
            self._src.close()
            raise
        self._chunk_iter = self._src.chunks()
        self._pos = None                      # native position after the last decoded chunk
        self._chunks: list[tuple[int, np.ndarray]] = []   # (native position, (ch, n))
        self._src_ch = None
        self._done = False
        ratio = Fraction(self.rate, sr)
        self._up, self._down = ratio.numerator, ratio.denominator
        # Output sample J of the whole resampled range sits at native base + J * down / up.
        self._base = math.floor((offset_s - PAD_S) * sr)
        self._top = None if duration_s is None else \
            math.ceil((offset_s + duration_s + PAD_S) * sr) + 1
        self._k = int(round((offset_s * sr - self._base) * self.rate / sr))  # next J to give
        self._left = None if duration_s is None else int(round(duration_s * self.rate))
        self._ready = np.zeros((0, self.channels), np.float32)

    # -- native side ----------------------------------------------------------------------
    def _decode_until(self, native_end: int) -> None:
        while not self._done and (self._pos is None or self._pos < native_end):
            try:
                pos, data = next(self._chunk_iter)
            except StopIteration:
                self._done = True
                break
            if self._src_ch is None:
                self._src_ch = data.shape[0]
            self._chunks.append((pos, data))
            self._pos = pos + data.shape[1]

    def _native(self, a: int, b: int) -> np.ndarray:
        """Native samples [a, b) (channels mixed to the output's), zeros where there is none."""
        self._decode_until(b)
        ch = self._src_ch or 1
        buf = np.zeros((ch, b - a), np.float32)
        lo_lim = self._base
        hi_lim = b if self._top is None else min(b, self._top)
        for p, d in self._chunks:
            a0, a1 = max(p, a, lo_lim), min(p + d.shape[1], hi_lim)
            if a1 > a0:
                buf[:, a0 - a:a1 - a] = d[:, a0 - p:a1 - p]
        # Chunks wholly before what any later block needs are dropped.
        keep_from = a
        self._chunks = [(p, d) for p, d in self._chunks if p + d.shape[1] > keep_from]
        return mix(buf, self.channels)

    # -- output side ----------------------------------------------------------------------
    def _block(self, j0: int, count: int) -> np.ndarray:
        """Output samples J = j0 .. j0 + count - 1 as (count, channels)."""
        up, down = self._up, self._down
        if up == down:
            return self._native(self._base + j0, self._base + j0 + count).T
        # Start on a J whose native position is whole, with whole multiples of `down` of margin.
        j_start = j0 - j0 % up
        m = down * math.ceil(MARGIN_NATIVE / down)
        n_start = self._base + j_start * down // up - m
        n_end = self._base + math.ceil((j0 + count) * down / up) + m
        seg = resample_poly(self._native(n_start, n_end), up, down, axis=1).astype(np.float32)
        first = j0 - j_start + m * up // down
        out = seg[:, first:first + count]
        if out.shape[1] < count:
            out = np.pad(out, ((0, 0), (0, count - out.shape[1])))
        return out.T

    def read(self, n: int) -> np.ndarray:
        """The next `n` samples as (n, channels) float32."""
        n = int(n)
        if self._left is not None:
            real = max(0, min(n, self._left))
        else:
            real = n
        while self._ready.shape[0] < real:
            count = max(int(BLOCK_S * self.rate), real - self._ready.shape[0])
            blk = self._block(self._k, count)
            self._k += count
            self._ready = np.concatenate([self._ready, blk]) if len(self._ready) else blk
        out = self._ready[:real]
        self._ready = self._ready[real:]
        if self._left is not None:
            self._left -= real
        if real < n:
            out = np.concatenate([out, np.zeros((n - real, self.channels), np.float32)])
        return np.ascontiguousarray(out)

    def close(self) -> None:
        self._chunks = []
        self._src.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
