"""Speech audio from any file the media stage reads: mono, at the analysis rate.

A dub often arrives as a multichannel mix (5.1 or 7.1 stems at 48 or 96 kHz).  The dialogue is
on the centre channel of those layouts; for other layouts with more than two channels the channel
with the most speech-band energy is taken; stereo is mixed to mono (dialogue sits in both).  The
caller may name the channel instead (0-based index, or a layout name such as "FC").
"""
from __future__ import annotations

import os

import numpy as np

from lipflap.contract.errors import MediaError
from lipflap.media.audio import open_audio, read_audio, unnamed_channels
from lipflap.speech.features import frame_power

SPEECH_BAND = (300.0, 3400.0)


def load_speech(path, rate: int = 16000, channel: int | str | None = None,
                stream: int | None = None, warn=None) -> tuple[np.ndarray, int]:
    """(samples float32 mono, rate) of the dialogue in `path` (opened once: its channel names and
    samples come from the one open stream). `warn` is told of undecodable packets
    (lipflap.media.audio)."""
    path = os.fspath(path)
    with open_audio(path, stream, warn) as src:
        names = src.channel_names
        n_ch = max(1, len(names))
        if channel is not None:
            idx = _channel_index(path, channel, names)
            data = read_audio(src, rate=rate, channels=n_ch)
            data = data[:, None] if data.ndim == 1 else data
            return np.ascontiguousarray(data[:, idx], dtype=np.float32), rate
        if n_ch == 1:
            return read_audio(src, rate=rate, channels=1).astype(np.float32), rate
        data = read_audio(src, rate=rate, channels=n_ch)
    return pick_dialogue(data, rate, names), rate


def _channel_index(path: str, channel: int | str, names: list[str]) -> int:
    n = max(1, len(names))
    if isinstance(channel, str) and not channel.strip().lstrip("-").isdigit():
        want = channel.strip().upper()
        if want in names:
            return names.index(want)
        if names == unnamed_channels(n):
            raise MediaError(f"{path} has no channel layout names, so there is no channel "
                             f"'{channel}'; give the channel by its number, 0 to {n - 1}.")
        raise MediaError(f"{path} has no channel '{channel}' (its channels are "
                         f"{', '.join(names)}); give one of those or a 0-based index.")
    idx = int(channel)
    if not 0 <= idx < n:
        raise MediaError(f"{path} has {n} audio channel(s); channel {idx} does not exist "
                         f"(channels are numbered from 0).")
    return idx


def pick_dialogue(data: np.ndarray, rate: int, names: list[str] | None = None) -> np.ndarray:
    """Mono dialogue from (n, channels) samples: the centre channel when the layout has one and
    more than two channels, a mix for stereo, else the channel with most speech-band energy."""
    if data.ndim == 1:
        return data.astype(np.float32)
    n_ch = data.shape[1]
    if n_ch == 1:
        return data[:, 0].astype(np.float32)
    names = names or []
    if n_ch > 2 and "FC" in names:
        return np.ascontiguousarray(data[:, names.index("FC")], dtype=np.float32)
    if n_ch == 2:
        return data.mean(axis=1).astype(np.float32)
    return np.ascontiguousarray(data[:, speechiest_channel(data, rate)], dtype=np.float32)


def speechiest_channel(data: np.ndarray, rate: int) -> int:
    """Index of the channel with the most energy in the speech band (300-3400 Hz), measured on
    its louder frames so that a channel of steady hum or an LFE rumble does not win."""
    scores = []
    for k in range(data.shape[1]):
        power, freqs = frame_power(data[:, k], rate)
        band = (freqs >= SPEECH_BAND[0]) & (freqs <= min(SPEECH_BAND[1], 0.45 * rate))
        e = power[:, band].sum(axis=1) if len(power) else np.zeros(1)
        scores.append(float(np.percentile(e, 90)) if e.size else 0.0)
    return int(np.argmax(scores))
