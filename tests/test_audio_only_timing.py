"""The audio-only track opens and closes on time against true phone times: on eSpeak NG dubs in
the language's default voice (the networks' kind of speech, as ../shared/eval/make_dub.py
makes them), its timing r against the phones' expected opening stays within 0.05 of the
script-aware track drawn from the same true phones (the issue's bar for audio-only), and
within 0.035 on average. Before the networks' class contrast and the seal rule
(lipflap.speech.audio_only._class_contrast, lipflap.mouth.rules.closure.SECOND_SEAL_P) these
three read 0.052, 0.050 and 0.046 under (mean 0.049); since, 0.031, 0.024, 0.023.
Female and Klatt variants of eSpeak NG are a weak spot: the networks are less sure of them, and
the read-out fit to real mouths takes over where they are least sure (docs/quality.md). Three
female dubs whose certainty (0.669-0.676) fell inside the blend band of before
(lipflap.speech.audio_only._SURE_LO/_HI, 0.65-0.69, now 0.65-0.67) are held within 0.05 too:
0.059, 0.040 and 0.059 under before, 0.042, 0.000 and 0.041 since. Not covered, and still
0.115-0.140 under: f4 and f5 on "Im Winter trinken wir gerne Tee." (certainty 0.639-0.646, where
the recorded voices measured reach 0.635)."""
from __future__ import annotations

import numpy as np

from lipflap.mouth.build import mouth_track_for_audio, track_from_phones
from lipflap.qc.sync import timing_figures
from lipflap.speech.synthdub import make_dub

FPS = 25
# Sentences of the kind a dub carries, none of the bench's or the tuning's texts.
DUBS = [
    ("de", ["Paula bringt morgen frisches Obst mit.", "Wir fahren bald an den Strand."]),
    ("de", ["Der Bauer pflanzt Bohnen und Mais.", "Morgen kommt Oma mit dem Bus."]),
    ("fr", ["Pierre aime beaucoup le pain chaud.", "Nous partons demain matin vers la mer."]),
]


# (language, sentences, eSpeak NG voice variant) of female dubs at the band's old middle
FEMALE = [
    ("de", ["Der Bauer pflanzt Bohnen und Mais.", "Morgen kommt Oma mit dem Bus."], "f4"),
    ("de", ["Im Winter trinken wir gerne Tee.", "Papa baut einen Schneemann."], "f1"),
    ("de", ["Der Bauer pflanzt Bohnen und Mais.", "Morgen kommt Oma mit dem Bus."], "f5"),
]


def _gap(language: str, sentences: list[str], variant: str | None = None) -> float:
    dub = make_dub(sentences, language, variant=variant, pitch=None, snr_db=None, hesitation=0.0,
                   seed=3)
    n = int(np.ceil((dub.phones[-1].end + 0.3) * FPS))
    phones = [(p.phone, p.start, p.end) for p in dub.phones]
    audio = mouth_track_for_audio(dub.samples, FPS, rate=dub.rate, n_frames=n)
    script = track_from_phones(dub.phones, FPS, n)
    r_audio = timing_figures(audio.column("aperture"), phones, FPS)["r0"]
    r_script = timing_figures(script.column("aperture"), phones, FPS)["r0"]
    assert r_script > 0.8
    return r_script - r_audio


def test_audio_only_timing_within_script_aware():
    gaps = [_gap(lang, text) for lang, text in DUBS]
    assert max(gaps) <= 0.05, gaps
    assert float(np.mean(gaps)) <= 0.035, gaps


def test_audio_only_timing_within_script_aware_on_female_voices_at_the_band():
    gaps = [_gap(lang, text, variant) for lang, text, variant in FEMALE]
    assert max(gaps) <= 0.05, gaps
