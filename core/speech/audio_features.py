"""Log-mel features for the audio-only mouth model (shared by inference and training).

Frames are centred: frame i describes the audio around i * HOP_S seconds. Features are
normalised per utterance (per-band mean removed, one global scale) so that level, microphone
colouring and codec matter less than the spectral shape of the speech itself.
"""
from __future__ import annotations

import numpy as np

from .features import mel_filterbank, resample  # noqa: F401 - resample is this module's API too

RATE = 16000
HOP = 160            # 10 ms
WIN = 400            # 25 ms analysis window
NFFT = 512
N_MELS = 40
FMIN, FMAX = 60.0, 7600.0
HOP_S = HOP / RATE
N_FEATURES = 2 * N_MELS + 1   # mel, mel deltas, relative log energy
# Spectral envelope only: the log-mel rows are projected onto their first N_CEPS cosine
# (cepstral) components. The mouth shapes the envelope (formants); the finer detail is mostly
# the voice source (harmonics of the pitch, glottal pulse shape), which is where synthetic
# training speech and recorded voices differ most.
N_CEPS = 20


def to_mono(samples: np.ndarray) -> np.ndarray:
    """1-D float32 audio; a (n, channels) or (channels, n) array with 2+ channels is refused."""
    x = np.asarray(samples)
    if x.ndim == 2 and 1 in x.shape:
        x = x.reshape(-1)
    if x.ndim != 1:
        raise ValueError(f"expected mono audio (1-D samples), got an array of shape {x.shape}; "
                         "mix the channels down (e.g. samples.mean(axis=1)) first")
    if x.dtype.kind in "iu":
        x = x.astype(np.float32) / float(np.iinfo(x.dtype).max)
    return x.astype(np.float32, copy=False)


def _envelope_projection() -> np.ndarray:
    k, n = np.arange(N_CEPS)[:, None], np.arange(N_MELS)[None, :]
    dct = np.cos(np.pi * k * (n + 0.5) / N_MELS) * np.sqrt(2.0 / N_MELS)
    dct[0] /= np.sqrt(2.0)   # orthonormal rows, so the projection is idempotent
    return (dct.T @ dct).astype(np.float32)


# (bins, N_MELS): the one filterbank rule, at this model's rate, window and band.
_FB = np.ascontiguousarray(mel_filterbank(np.fft.rfftfreq(NFFT, 1.0 / RATE), N_MELS, FMIN, FMAX).T)
ENVELOPE = _envelope_projection()


def envelope_only(feats: np.ndarray) -> np.ndarray:
    """Project the static and delta mel blocks of (T, N_FEATURES) features onto the spectral
    envelope (idempotent: features already projected are unchanged)."""
    out = np.array(feats, np.float32)
    for b in (0, N_MELS):
        out[:, b:b + N_MELS] = out[:, b:b + N_MELS] @ ENVELOPE
    return out
_WINDOW = np.hanning(WIN + 2)[1:-1].astype(np.float32)


def n_frames(n_samples: int) -> int:
    return n_samples // HOP + 1


def power_mel(x16: np.ndarray) -> np.ndarray:
    """(T, N_MELS) mel power spectrum of 16 kHz audio, T = n_frames(len(x16))."""
    pad = np.pad(x16.astype(np.float32), (WIN // 2, WIN // 2 + HOP))
    t = n_frames(len(x16))
    idx = np.arange(WIN)[None, :] + HOP * np.arange(t)[:, None]
    frames = pad[idx] * _WINDOW
    spec = np.abs(np.fft.rfft(frames, NFFT, axis=1)).astype(np.float32) ** 2
    return spec @ _FB


def features_from_mel(mel: np.ndarray) -> np.ndarray:
    """(T, N_FEATURES) normalised features from a mel power spectrum."""
    logmel = np.log(mel + 1e-8)
    energy = np.log(mel.sum(axis=1) + 1e-8)
    # a floor 70 dB below the loudest frames: digital silence and a quiet room look alike
    top = np.percentile(energy, 98) if len(energy) else 0.0
    floor = top - 16.0
    logmel = np.maximum(logmel, floor - np.log(N_MELS))
    energy = np.maximum(energy, floor)
    z = logmel - logmel.mean(axis=0, keepdims=True)
    z /= z.std() + 1e-5
    z = z @ ENVELOPE
    # regression deltas over +-2 frames
    p = np.pad(z, ((2, 2), (0, 0)), mode="edge")
    d = (p[3:-1] - p[1:-3] + 2 * (p[4:] - p[:-4])) / 10.0
    e = ((energy - top) / 8.0)[:, None]
    return np.concatenate([z, d * 4.0, e], axis=1).astype(np.float32)


def features(samples: np.ndarray, rate: int) -> np.ndarray:
    """Mono samples at any rate -> (T, N_FEATURES) float32, one row per 10 ms."""
    x = resample(to_mono(samples), rate)
    return features_from_mel(power_mel(x))


def _sine_power() -> float:
    t = np.arange(4 * WIN) / RATE
    return float(power_mel(np.sin(2 * np.pi * 1000.0 * t).astype(np.float32))[3:-3].sum(axis=1).mean())


_FULL_SCALE_SINE = _sine_power()


def frame_dbfs(mel: np.ndarray) -> np.ndarray:
    """Per-frame level in dB relative to full scale RMS (a full-scale sine reads -3 dBFS),
    counting only the 60-7600 Hz band the features see."""
    return 10 * np.log10(mel.sum(axis=1) / _FULL_SCALE_SINE + 1e-20) - 3.01
