"""Voice activity: pauses found, no speech in silence/noise/hum, telephone rates."""
from __future__ import annotations

import numpy as np
import pytest

from lipflap.speech.synthdub import make_dub
from lipflap.speech.types import PAUSE
from lipflap.speech.vad import detect_speech, speech_segments

SENTENCES = ["El perro de mi vecino ladra todas las noches.",
             "Mañana vamos a la playa, si no llueve."]


def _true_pauses(phones, min_s=0.25):
    return [(p.start, p.end) for p in phones if p.phone == PAUSE and p.duration >= min_s]


@pytest.mark.parametrize("rate", [8000, 16000, 48000])
def test_finds_the_pauses_of_a_noisy_dub(rate):
    dub = make_dub(SENTENCES, "es", snr_db=20, hesitation=1.0, out_rate=rate, seed=3)
    segs = speech_segments(dub.samples, dub.rate)
    assert 2 <= len(segs) <= 8
    speech = [p for p in dub.phones if p.phone != PAUSE]
    # Every long true pause is (mostly) outside the segments; every phone's middle inside one.
    for a, b in _true_pauses(dub.phones):
        inside = sum(max(0.0, min(b, e) - max(a, s)) for s, e in segs)
        assert inside < 0.3 * (b - a) + 0.05
    mids = [(p.start + p.end) / 2 for p in speech]
    covered = [any(s <= m <= e for s, e in segs) for m in mids]
    assert np.mean(covered) > 0.95


@pytest.mark.parametrize("rate", [8000, 16000, 96000])
def test_no_speech_in_silence_noise_or_hum(rate):
    n = 3 * rate
    t = np.arange(n) / rate
    rng = np.random.default_rng(0)
    for x in (np.zeros(n, np.float32),
              (0.05 * rng.standard_normal(n)).astype(np.float32),
              (0.2 * np.sin(2 * np.pi * 50 * t) + 1e-3 * rng.standard_normal(n)).astype(np.float32),
              np.zeros(0, np.float32)):
        res = detect_speech(x, rate)
        assert res.segments == [] and not res.mask.any()


def test_quiet_speech_is_still_speech():
    dub = make_dub(SENTENCES[:1], "es", snr_db=30, seed=1)
    segs = speech_segments(dub.samples * 0.01, dub.rate)   # about -50 dBFS
    assert len(segs) >= 1


def test_a_pause_in_a_clean_dub_with_digital_silence_is_found():
    """A synthetic or edited dub: digital silence around the speech, and a reverb-like tail
    40-60 dB under the speech at the start of a pause. The floor is the silence (-inf), so
    thresholds set as a share of the whole range would let the tail bridge the pause."""
    dub = make_dub(["¡Hola!"], "es", snr_db=None, seed=1)
    x, rate = np.asarray(dub.samples, np.float32), dub.rate
    speech_end = max(p.end for p in dub.phones if p.phone != PAUSE)
    x = x[:int(rate * (speech_end + 0.02))]
    tail_t = np.arange(int(0.2 * rate)) / rate
    rng = np.random.default_rng(0)
    peak = float(np.percentile(np.abs(x), 99))
    # decaying noise from -40 dB to -80 dB under the peaks over 0.2 s, then silence
    tail = peak * 10 ** (-(40 + 200 * tail_t) / 20) * rng.standard_normal(len(tail_t))
    gap = np.concatenate([tail, np.zeros(int(0.25 * rate))]).astype(np.float32)
    lead = np.zeros(int(0.3 * rate), np.float32)
    y = np.concatenate([lead, x, gap, x, np.zeros(int(0.3 * rate), np.float32)])
    segs = speech_segments(y, rate)
    assert len(segs) == 2, segs
    first_end = 0.3 + len(x) / rate
    assert first_end - 0.05 <= segs[0][1] <= first_end + 0.2


def test_speech_seconds_of_a_track_under_a_clip(tmp_path):
    """A dub track's seconds of speech in a window (how a character off screen is found to speak
    under a clip): speech there, none in the silence after it."""
    import wave
    from lipflap.speech.vad import speech_seconds
    dub = make_dub(SENTENCES[:1], "es", snr_db=30, seed=5)
    x = np.concatenate([dub.samples, np.zeros(2 * dub.rate, np.float32)])
    path = str(tmp_path / "track.wav")
    with wave.open(path, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(dub.rate)
        w.writeframes((np.clip(x, -1, 1) * 32767).astype("<i2").tobytes())
    spoken = sum(p.duration for p in dub.phones if p.phone != PAUSE)
    got = speech_seconds(path, 0.0, len(dub.samples) / dub.rate)
    assert 0.7 * spoken <= got <= len(dub.samples) / dub.rate
    assert speech_seconds(path, len(dub.samples) / dub.rate + 0.2, 1.5) == 0.0
