"""A second bilabial-closure read-out on the audio-only networks' hidden layers.

The networks' own closure output learned from eSpeak NG's phone times, where a b after a
consonant ("ist bei", "une belle", "están bien") is only its 20-30 ms burst and the silence of
its closure is billed to the consonant before it: after an alveolar stop it reads about 0.1-0.2
where the lips must seal (talk_i de, "mit Brot": 0.17 at most), and the phone decoder hears no
b there either. This head is one layer of 32 rectified units and a logistic output over the
four networks' last hidden layers and the features they read, each taken at a few offsets
(LAGS), fit by training/fit_closure_head.py on eSpeak NG speech of which half is phrases of
alveolar + bilabial word pairs (training/texts.py CLUSTERS), with the b's closure moved back
over that silence (training/make_data.py bilabial_closures). On that script's validation speech
(other seeds, voices, noise, reverb) it reaches 0.5 on 85% of the b's after a consonant where
the networks' own closure does on 38%, but it also fires more often away from any closure, so
lipflap.speech.audio_only takes only its confident runs that the other sources missed
(_HEAD_P). It costs about 0.02 s of CPU a minute of dub. The networks' own curves, and so the
aperture read-out fit on them, are unchanged.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

FIT = Path(__file__).with_name("closure_head.npz")
# offsets in 10 ms hops of the inputs the head reads (the silence before the burst and the vowel
# transitions either side)
LAGS = (-4, -2, 0, 2, 4)


@dataclass
class ClosureHead:
    """One hidden layer of rectified units over the standardised inputs at each lag, then a
    logistic output. Inputs per frame: the networks' hidden units then the features."""
    mean: np.ndarray      # (F,) input means over the training frames (per unit, all lags)
    scale: np.ndarray     # (F,) their standard deviations
    w1: np.ndarray        # (len(LAGS), F, H) first layer, one block per lag
    b1: np.ndarray        # (H,)
    w2: np.ndarray        # (H,) output weights
    b2: float

    def __call__(self, inputs: np.ndarray) -> np.ndarray:
        """Closure probability per 10 ms frame from (T, F) inputs (see `inputs`)."""
        z = (np.asarray(inputs, np.float32) - self.mean) / self.scale
        t = len(z)
        idx = np.arange(t)
        h = np.broadcast_to(self.b1, (t, len(self.b1))).astype(np.float32)
        for k, lag in enumerate(LAGS):
            # each lag's block applied once, then shifted: cheaper than building the lag matrix
            h = h + (z @ self.w1[k])[np.clip(idx + lag, 0, t - 1)]
        logit = np.maximum(h, 0.0) @ self.w2 + self.b2
        return (1.0 / (1.0 + np.exp(-np.clip(logit, -30, 30)))).astype(np.float32)


def inputs(hidden: np.ndarray, feats: np.ndarray) -> np.ndarray:
    """(T, F) the head's per-frame inputs: the networks' hidden units (audio_only._Ensemble.run)
    beside the features they were computed from (lipflap.speech.audio_features)."""
    return np.concatenate([hidden, feats], axis=1).astype(np.float32)


def design(hidden: np.ndarray) -> np.ndarray:
    """(T, len(LAGS) * F) the hidden units at each of LAGS (held at the ends), lag-major: the
    layout of ClosureHead.weights flattened (for fitting)."""
    t = len(hidden)
    idx = np.arange(t)
    return np.concatenate([hidden[np.clip(idx + lag, 0, t - 1)] for lag in LAGS], axis=1)


def save(head: ClosureHead, path, meta: dict) -> None:
    np.savez(path, mean=head.mean.astype(np.float32), scale=head.scale.astype(np.float32),
             w1=head.w1.astype(np.float32), b1=head.b1.astype(np.float32),
             w2=head.w2.astype(np.float32), b2=np.float32(head.b2),
             lags=np.array(LAGS, np.int32), meta=np.array(repr(meta)))


def load(path=FIT) -> ClosureHead:
    """The head stored at `path` (by default the one inside the package); a file fit for other
    lags is refused with a RuntimeError."""
    path = Path(path)
    with np.load(path) as z:
        if tuple(int(v) for v in z["lags"]) != LAGS:
            raise RuntimeError(f"{path} was fit for other lags; refit it with "
                               "training/fit_closure_head.py")
        return ClosureHead(*(z[k].astype(np.float32) for k in ("mean", "scale", "w1", "b1", "w2")),
                           float(z["b2"]))
