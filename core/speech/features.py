"""Short-time spectra, mel filterbanks and MFCCs in numpy (no librosa), for voice activity and
alignment; `resample` and `mel_filterbank` are also the audio-only model's (audio_features).

Frames are centred: frame k describes the audio around k * hop seconds (the signal is padded by half
a window at both ends), so a frame index converts to time without an offset.
"""
from __future__ import annotations

import numpy as np

from lipflap.media.resample import resample_poly

HOP_S = 0.010
WIN_S = 0.025


def resample(x: np.ndarray, rate: int, target: int = 16000) -> np.ndarray:
    """Polyphase resampling (anti-aliased, the exact ratio) of a mono float signal: the one
    resampler of the speech stage (alignment, voice activity, the audio-only model's features)."""
    x = np.asarray(x, dtype=np.float32)
    if rate == target or x.size == 0:
        return x
    if rate <= 0:
        raise ValueError(f"sample rate must be positive, got {rate}")
    g = np.gcd(int(rate), int(target))
    return resample_poly(x, target // g, rate // g).astype(np.float32)


def frame_power(x: np.ndarray, rate: int, hop_s: float = HOP_S,
                win_s: float = WIN_S) -> tuple[np.ndarray, np.ndarray]:
    """Power spectra of Hann-windowed, centred frames: (P (frames, bins), bin frequencies in Hz).

    hop_s may be any positive value (alignment uses a non-standard hop for the reference to match
    speaking rates); hops are placed at round(k * hop_s * rate) samples.
    """
    x = np.asarray(x, dtype=np.float32)
    win = max(16, int(round(win_s * rate)))
    n_fft = 1 << int(np.ceil(np.log2(win)))
    n_frames = int(np.floor(len(x) / (hop_s * rate))) + 1 if len(x) else 0
    freqs = np.fft.rfftfreq(n_fft, 1.0 / rate)
    if n_frames == 0:
        return np.zeros((0, len(freqs)), np.float32), freqs
    half = win // 2
    padded = np.pad(x, (half, half + win))
    starts = np.round(np.arange(n_frames) * hop_s * rate).astype(np.int64)
    window = np.hanning(win).astype(np.float32)[None, :]
    from scipy.fft import rfft   # here, not at the top: the audio-only path never needs it
    out = np.empty((n_frames, len(freqs)), np.float32)
    step = 2048   # frames per block: keeps memory flat for long clips
    for a in range(0, n_frames, step):
        idx = starts[a:a + step, None] + np.arange(win)[None, :]
        spec = rfft(padded[idx] * window, n=n_fft, axis=1)
        out[a:a + step] = spec.real ** 2 + spec.imag ** 2
    return out, freqs


def _hz_to_mel(f):
    return 2595.0 * np.log10(1.0 + np.asarray(f, dtype=np.float64) / 700.0)


def _mel_to_hz(m):
    return 700.0 * (10.0 ** (np.asarray(m, dtype=np.float64) / 2595.0) - 1.0)


def mel_filterbank(freqs: np.ndarray, n_mels: int = 32, fmin: float = 80.0,
                   fmax: float = 7600.0) -> np.ndarray:
    """Triangular filters (n_mels, bins); not area-normalised (features are normalised later)."""
    edges = _mel_to_hz(np.linspace(_hz_to_mel(fmin), _hz_to_mel(fmax), n_mels + 2))
    fb = np.zeros((n_mels, len(freqs)), np.float32)
    for m in range(n_mels):
        lo, mid, hi = edges[m], edges[m + 1], edges[m + 2]
        up = (freqs - lo) / max(mid - lo, 1e-9)
        down = (hi - freqs) / max(hi - mid, 1e-9)
        fb[m] = np.clip(np.minimum(up, down), 0.0, None)
    return fb


def log_mel(power: np.ndarray, freqs: np.ndarray, n_mels: int = 32, fmin: float = 80.0,
            fmax: float = 7600.0, floor: float = 1e-10) -> np.ndarray:
    fb = mel_filterbank(freqs, n_mels, fmin, fmax)
    return np.log(np.maximum(power @ fb.T, floor)).astype(np.float32)


def mfcc_from_logmel(lm: np.ndarray, n_ceps: int = 13) -> np.ndarray:
    """DCT-II (orthonormal) of log-mel energies, coefficients 0..n_ceps-1."""
    if lm.shape[0] == 0:
        return np.zeros((0, n_ceps), np.float32)
    from scipy.fft import dct
    return dct(lm, type=2, axis=1, norm="ortho")[:, :n_ceps].astype(np.float32)


def deltas(feat: np.ndarray, width: int = 2) -> np.ndarray:
    """Regression deltas over +-width frames (edges repeated)."""
    if feat.shape[0] == 0:
        return feat.copy()
    pad = np.pad(feat, ((width, width), (0, 0)), mode="edge")
    num = sum(k * (pad[width + k:len(pad) - width + k] - pad[width - k:len(pad) - width - k])
              for k in range(1, width + 1))
    return (num / (2.0 * sum(k * k for k in range(1, width + 1)))).astype(np.float32)


def cmvn(feat: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
    """Mean and variance normalisation per coefficient, statistics from the masked frames only
    (speech), so that long pauses and channel colour do not shift the features."""
    sel = feat if mask is None or not mask.any() else feat[mask]
    if sel.shape[0] == 0:
        return feat.copy()
    mu = sel.mean(axis=0)
    sd = sel.std(axis=0) + 1e-6
    return ((feat - mu) / sd).astype(np.float32)


def frame_energy_db(power: np.ndarray, freqs: np.ndarray, lo: float = 100.0,
                    hi: float = 4000.0) -> np.ndarray:
    band = (freqs >= lo) & (freqs <= hi)
    return (10.0 * np.log10(np.maximum(power[:, band].mean(axis=1), 1e-12))).astype(np.float32)


def spectral_flatness(power: np.ndarray, freqs: np.ndarray, lo: float = 100.0,
                      hi: float = 4000.0) -> np.ndarray:
    """Geometric over arithmetic mean of the band's power: near 1 for white noise, low for voiced
    speech with its harmonics and formants."""
    band = (freqs >= lo) & (freqs <= hi)
    p = np.maximum(power[:, band], 1e-12)
    return (np.exp(np.log(p).mean(axis=1)) / p.mean(axis=1)).astype(np.float32)
