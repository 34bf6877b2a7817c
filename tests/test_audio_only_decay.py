"""The audio-only curves end a phrase's speech where its sound falls into its decay tail (an
echo, a voice's ringing), so the pause after it is measured whole and rests
(lipflap.speech.audio_only.speech_ends_at_decay, lipflap.speech.decay)."""
from __future__ import annotations

import numpy as np

from lipflap.speech import audio_features as af
from lipflap.speech.audio_only import MouthCurves, speech_ends_at_decay


def _curves(speech: np.ndarray) -> MouthCurves:
    n = len(speech)
    z = np.zeros(n, np.float32)
    return MouthCurves(af.HOP_S, np.arange(n) * af.HOP_S, z, z, z, z, z,
                       speech.astype(np.float32))


def _phrase(tail_db: float) -> np.ndarray:
    """0.2 s silence, 0.5 s of a voiced buzz, 0.15 s of it tail_db under, 0.4 s silence."""
    rng = np.random.default_rng(0)
    t = np.arange(int(0.5 * af.RATE)) / af.RATE
    buzz = 0.3 * np.sign(np.sin(2 * np.pi * 140 * t)) * (1 + 0.1 * rng.standard_normal(len(t)))
    tail = buzz[:int(0.15 * af.RATE)] * 10 ** (tail_db / 20)
    quiet = np.zeros(int(0.2 * af.RATE))
    return np.concatenate([quiet, buzz, tail, quiet, quiet]).astype(np.float32)


def test_the_ringing_after_a_phrase_is_not_speech():
    x = _phrase(-30.0)
    n = af.n_frames(len(x))
    speech = np.zeros(n)
    speech[20:85] = 1.0          # the networks hear the phrase and its 0.15 s ring as speech
    speech[85:88] = [0.6, 0.3, 0.1]
    out = speech_ends_at_decay(_curves(speech), x).speech
    assert out[20:68].min() == 1.0                  # the phrase itself is kept
    assert out[71:90].max() == 0.0                  # its ring and the probability's fall are not
    assert np.array_equal(out[:20], speech[:20])


def test_a_phrase_that_ends_at_full_level_keeps_its_speech():
    x = _phrase(-6.0)            # the last 0.15 s only a little quieter: speech, not a tail
    n = af.n_frames(len(x))
    speech = np.zeros(n)
    speech[20:85] = 1.0
    assert np.array_equal(speech_ends_at_decay(_curves(speech), x).speech, speech)
