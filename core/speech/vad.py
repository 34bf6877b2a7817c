"""Voice activity: where speech is, and the pauses between.

Energy with hysteresis against an estimated noise floor, helped by spectral flatness (voiced speech
has a peaky spectrum, steady noise a flat one), then minimum pause and speech durations.  Works at
any sample rate from 8 kHz up (the analysis band stops below Nyquist).  Audio without speech
(digital silence, steady noise, a hum) gives no segments, never an error.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lipflap.speech.features import HOP_S, frame_energy_db, frame_power, spectral_flatness


@dataclass(frozen=True)
class VadParams:
    min_speech_s: float = 0.08    # shorter bursts are clicks or breaths
    min_pause_s: float = 0.12     # shorter gaps are stop closures inside speech
    pad_s: float = 0.0            # widen each segment (0: edges are where energy crosses `low`)
    min_range_db: float = 9.0     # a signal whose level moves less than this has no speech
    abs_floor_dbfs: float = -65.0  # speech peaks quieter than this are not speech
    flat_voiced: float = 0.30     # flatness below this marks a weak but voiced frame
    max_range_db: float = 50.0    # the floor is taken no lower than this under the speech peaks


@dataclass
class VadResult:
    segments: list[tuple[float, float]]
    mask: np.ndarray          # bool per frame at `hop` seconds, frame k centred on k * hop
    hop: float
    noise_db: float           # estimated noise floor (band energy, dB)
    speech_db: float          # typical speech level (band energy, dB)


def detect_speech(samples: np.ndarray, rate: int, params: VadParams = VadParams()) -> VadResult:
    x = np.asarray(samples, dtype=np.float32)
    if x.ndim != 1:
        raise ValueError("detect_speech wants mono samples; see lipflap.speech.audio.load_speech")
    power, freqs = frame_power(x, rate)
    n = power.shape[0]
    empty = VadResult([], np.zeros(n, bool), HOP_S, -120.0, -120.0)
    if n == 0:
        return empty
    hi_band = min(4000.0, 0.45 * rate)
    e = frame_energy_db(power, freqs, 100.0, hi_band)
    flat = spectral_flatness(power, freqs, 100.0, hi_band)
    floor = float(np.percentile(e, 8))
    peak = float(np.percentile(e, 97))
    # Digital silence (a synthetic or edited dub) puts the floor at -100 dB or lower, and
    # thresholds set as a share of that range sit so low that a reverb tail or a breath 40-60 dB
    # under the speech bridges a real pause. No recording has more than ~50 dB between its
    # speech and its noise that matters: measure the range from there at most.
    floor = max(floor, peak - params.max_range_db)
    rng = peak - floor
    # Absolute level: RMS of the loudest frames relative to full scale.
    hop = int(round(HOP_S * rate))
    m = len(x) // hop
    if m:
        frame_rms = np.sqrt(np.mean(x[:m * hop].reshape(m, hop).astype(np.float64) ** 2, axis=1))
        peak_dbfs = 20 * np.log10(max(float(np.percentile(frame_rms, 97)), 1e-9))
    else:
        peak_dbfs = -120.0
    empty.noise_db, empty.speech_db = floor, peak
    if rng < params.min_range_db or peak_dbfs < params.abs_floor_dbfs:
        return empty
    high = floor + max(6.0, 0.30 * rng)
    low = floor + max(3.0, 0.12 * rng)
    mid = floor + max(4.5, 0.20 * rng)
    seed = (e > high) | ((e > mid) & (flat < params.flat_voiced))
    cand = e > low
    mask = _hysteresis(seed, cand)
    mask = _close_gaps(mask, int(round(params.min_pause_s / HOP_S)))
    mask = _drop_short(mask, int(round(params.min_speech_s / HOP_S)))
    if params.pad_s > 0:
        k = int(round(params.pad_s / HOP_S))
        mask = np.convolve(mask.astype(np.int32), np.ones(2 * k + 1, np.int32), "same") > 0
    segs = mask_to_segments(mask, HOP_S, len(x) / rate)
    return VadResult(segs, mask, HOP_S, floor, peak)


def speech_segments(samples: np.ndarray, rate: int,
                    params: VadParams = VadParams()) -> list[tuple[float, float]]:
    """Speech segments (start, end) in seconds; [] when there is no speech."""
    return detect_speech(samples, rate, params).segments


def speech_seconds(audio: str, offset_s: float, duration_s: float) -> float:
    """Seconds of speech in the sound file `audio` from `offset_s` for `duration_s` (a dub track
    under a clip: whether its character speaks there)."""
    from lipflap.media.audio import load_audio
    rate = 16000
    wav = np.asarray(load_audio(audio, rate=rate, offset_s=max(0.0, offset_s),
                                duration_s=duration_s), np.float32).reshape(-1)
    return float(sum(b - a for a, b in speech_segments(wav, rate)))


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """[start, end) index runs of True."""
    if mask.size == 0:
        return []
    d = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    return list(zip(np.flatnonzero(d == 1).tolist(), np.flatnonzero(d == -1).tolist()))


def _hysteresis(seed: np.ndarray, cand: np.ndarray) -> np.ndarray:
    out = np.zeros_like(cand)
    for a, b in _runs(cand | seed):
        if seed[a:b].any():
            out[a:b] = True
    return out


def _close_gaps(mask: np.ndarray, min_gap: int) -> np.ndarray:
    out = mask.copy()
    runs = _runs(mask)
    for (_, b0), (a1, _) in zip(runs, runs[1:]):
        if a1 - b0 < min_gap:
            out[b0:a1] = True
    return out


def _drop_short(mask: np.ndarray, min_len: int) -> np.ndarray:
    out = mask.copy()
    for a, b in _runs(mask):
        if b - a < min_len:
            out[a:b] = False
    return out


def mask_to_segments(mask: np.ndarray, hop: float, duration: float) -> list[tuple[float, float]]:
    """Frame mask -> (start, end) seconds; frame k covers [k*hop - hop/2, k*hop + hop/2)."""
    return [(max(0.0, (a - 0.5) * hop), min(duration, (b - 0.5) * hop)) for a, b in _runs(mask)]
