"""Synthetic dubs with known phone times, for measuring alignment (bench, tests, demos).

The same approach as ../shared/eval/make_dub.py (eSpeak NG and its phoneme events), plus what a real
dub has that a clean synthesis lacks: a different voice, rate and pitch from the aligner's
reference, pauses the script does not mark, and background noise at a chosen SNR.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lipflap.speech.espeak import synthesize
from lipflap.speech.features import resample
from lipflap.speech.types import PAUSE, Phone


@dataclass
class SynthDub:
    samples: np.ndarray
    rate: int
    phones: list[Phone]      # true times, pauses as "_"
    text: str                # the script as the aligner gets it


def make_dub(sentences: list[str], language: str, *, variant: str | None = "f3",
             rate: int | None = 150, pitch: int | None = 65, snr_db: float | None = 20.0,
             hesitation: float = 0.3, out_rate: int | None = None, lead_s: float = 0.4,
             seed: int = 0) -> SynthDub:
    """Speak the sentences one chunk at a time with random pauses between them.

    hesitation: probability that a sentence is also split at a random word boundary with a pause
    (a pause the script does not show).  Noise is white, scaled to snr_db against the speech's
    mean power while it speaks.
    """
    rng = np.random.default_rng(seed)
    chunks: list[str] = []
    for s in sentences:
        words = s.split()
        if len(words) >= 4 and rng.random() < hesitation:
            k = int(rng.integers(2, len(words) - 1))
            chunks += [" ".join(words[:k]), " ".join(words[k:])]
        else:
            chunks.append(s)
    parts: list[np.ndarray] = []
    phones: list[Phone] = []
    sr = 0
    t = 0.0

    def silence(sec: float) -> None:
        nonlocal t
        n = int(round(sec * sr))
        parts.append(np.zeros(n, np.float32))
        if n:
            if phones and phones[-1].phone == PAUSE:
                phones[-1].end = t + n / sr
            else:
                phones.append(Phone(PAUSE, t, t + n / sr))
            t += n / sr

    for ci, chunk in enumerate(chunks):
        x, sr, ph = synthesize(chunk, language, rate=rate, pitch=pitch, variant=variant)
        silence(lead_s if ci == 0 else float(rng.uniform(0.15, 0.8)))
        for p in ph:
            q = Phone(p.phone, p.start + t, p.end + t, p.word)
            if q.phone == PAUSE and phones and phones[-1].phone == PAUSE:
                phones[-1].end = q.end
            else:
                phones.append(q)
        parts.append(x)
        t += len(x) / sr
    silence(lead_s)
    y = np.concatenate(parts).astype(np.float32)
    if snr_db is not None:
        speaking = np.abs(y) > 1e-4
        p_speech = float(np.mean(y[speaking] ** 2)) if speaking.any() else 1e-6
        noise = rng.standard_normal(len(y)).astype(np.float32)
        y = y + noise * np.sqrt(p_speech / 10 ** (snr_db / 10))
    if out_rate and out_rate != sr:
        y = resample(y, sr, out_rate)
        sr = out_rate
    return SynthDub(y.astype(np.float32), sr, phones, " ".join(sentences))


def onset_errors(true: list[Phone], found: list[Phone]) -> tuple[np.ndarray, int]:
    """Onset errors (seconds, absolute) of the non-pause phones, paired in order by phone name
    (difflib); returns (errors, number of true phones left unpaired)."""
    import difflib

    a = [p for p in true if p.phone != PAUSE]
    b = [p for p in found if p.phone != PAUSE]
    if len(a) == len(b):
        # Same length: pair by position (difflib can pair the wrong repeat of repeated text).
        errs = [abs(x.start - y.start) for x, y in zip(a, b) if x.phone == y.phone]
        return np.asarray(errs), len(a) - len(errs)
    sm = difflib.SequenceMatcher(None, [p.phone for p in a], [p.phone for p in b], autojunk=False)
    errs = []
    for blk in sm.get_matching_blocks():
        for k in range(blk.size):
            errs.append(abs(a[blk.a + k].start - b[blk.b + k].start))
    return np.asarray(errs), len(a) - len(errs)
