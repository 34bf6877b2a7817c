"""The audio-only aperture read out of both sources' curves by a linear map fit to real mouths.

The network learned from synthetic speech and the phone decoder from English; neither ever saw
a real mouth move. This read-out did: a ridge regression from ten of their curves (the
network's aperture, jaw, width, rounding, closure and speech; the decoder's aperture, jaw,
closure and speech), each taken at eleven offsets from -200 ms to +200 ms, to the inner-lip
aperture measured on the video of real speakers talking (training/fit_aperture_readout.py).
The offsets let it learn one timing kernel that suits many speakers instead of a single lead
(real speakers' best lag spread over -1..+4 video frames against the old curves), and it
weighs the two sources by how well each followed real mouths.

Its raw output is then set to the dub's own range: the 5th percentile of the dub goes to 0 and
its 95th to `top` (0.9: speech reaching most of the range, as real mouths do; the curves it
replaces sat near 0.3 during speech). Judged leave-one-out over nine real speakers
(bench/bench_audio_loo.py --loo), it lifts the mean r at offset 0 from 0.35 to 0.43.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

FIT = Path(__file__).with_name("aperture_readout.npz")
# (source, curve) in the order of the design matrix's blocks
CHANNELS = (("net", "aperture"), ("net", "jaw"), ("net", "width"), ("net", "rounding"),
            ("net", "closure"), ("net", "speech"),
            ("heard", "aperture"), ("heard", "jaw"), ("heard", "closure"), ("heard", "speech"))
# offsets in 10 ms hops: +-200 ms every 40 ms (finer steps or a wider span scored no better
# leave-one-out; the loudness envelope as an extra channel added nothing either)
LAGS = tuple(range(-20, 21, 4))
RANGE_PCT = (5.0, 95.0)


def design(net, heard) -> np.ndarray:
    """(T, len(CHANNELS) * len(LAGS)) design matrix at the curves' 10 ms frames; column
    k * len(CHANNELS) + j is channel j shifted by LAGS[k] hops (held at the ends)."""
    src = {"net": net, "heard": heard}
    base = np.stack([np.asarray(getattr(src[s], k), np.float64) for s, k in CHANNELS], axis=1)
    t = len(base)
    idx = np.arange(t)
    return np.concatenate([base[np.clip(idx + lag, 0, t - 1)] for lag in LAGS], axis=1)


@dataclass
class Readout:
    mean: np.ndarray      # (F,) feature means of the training frames
    scale: np.ndarray     # (F,) their standard deviations
    weights: np.ndarray   # (F,) on standardised features
    bias: float
    top: float            # where the dub's 95th percentile lands

    def raw(self, x: np.ndarray) -> np.ndarray:
        return ((x - self.mean) / self.scale) @ self.weights + self.bias

    def __call__(self, net, heard) -> np.ndarray:
        """Aperture 0..1 per 10 ms frame, in the dub's own range."""
        return to_dub_range(self.raw(design(net, heard)), self.top)


def to_dub_range(raw: np.ndarray, top: float) -> np.ndarray:
    """The dub's 5th percentile -> 0, its 95th -> `top`, clipped to 0..1 (a flat input: 0)."""
    if not len(raw):
        return np.zeros(0, np.float32)
    lo, hi = np.percentile(raw, RANGE_PCT)
    if hi - lo < 1e-9:
        return np.zeros(len(raw), np.float32)
    return np.clip(top * (raw - lo) / (hi - lo), 0.0, 1.0).astype(np.float32)


def fit(xs: list, ys: list, alpha: float, top: float) -> Readout:
    """Ridge regression of the targets `ys` (per clip, NaN where unmeasured) on the design rows
    `xs`; `alpha` is the penalty per training frame on standardised features."""
    x = np.concatenate(xs)
    y = np.concatenate(ys)
    ok = ~np.isnan(y) & np.isfinite(x).all(axis=1)
    x, y = x[ok], y[ok]
    mean = x.mean(axis=0)
    scale = x.std(axis=0) + 1e-6
    z = (x - mean) / scale
    bias = float(y.mean())
    w = np.linalg.solve(z.T @ z + alpha * len(z) * np.eye(z.shape[1]), z.T @ (y - bias))
    return Readout(mean, scale, w, bias, float(top))


def save(readout: Readout, path, meta: dict) -> None:
    np.savez(path, mean=readout.mean.astype(np.float32), scale=readout.scale.astype(np.float32),
             weights=readout.weights.astype(np.float32), bias=np.float32(readout.bias),
             top=np.float32(readout.top), lags=np.array(LAGS, np.int32),
             channels=np.array(["/".join(c) for c in CHANNELS]), meta=np.array(repr(meta)))


def load(path=FIT) -> Readout:
    """The read-out stored at `path` (by default the one inside the package). A file for
    another channel or lag layout is refused with a RuntimeError."""
    path = Path(path)
    with np.load(path) as z:
        if tuple(int(v) for v in z["lags"]) != LAGS or \
                tuple(str(c) for c in z["channels"]) != tuple("/".join(c) for c in CHANNELS):
            raise RuntimeError(f"{path} was fit for another channel or lag layout; refit it with "
                               "training/fit_aperture_readout.py")
        return Readout(z["mean"].astype(np.float64), z["scale"].astype(np.float64),
                       z["weights"].astype(np.float64), float(z["bias"]), float(z["top"]))
