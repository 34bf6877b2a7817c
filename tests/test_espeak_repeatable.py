"""eSpeak NG gives the same samples and phones for the same call, whatever the process spoke before.

Before the fix the library's waveform generator carried counters across calls (pitch flutter,
roughness cycles, gain control, echo buffer, noise seed): one sentence synthesised three times in
one process gave three lengths, and the aligner's reference, hence its phone times, moved with it.
"""
from __future__ import annotations

import numpy as np

from lipflap.speech.align import align_script
from lipflap.speech.espeak import synthesize
from lipflap.speech.synthdub import make_dub

TEXT = "The quick brown fox jumps over the lazy dog."


def _same(a, b) -> bool:
    return len(a[0]) == len(b[0]) and np.array_equal(a[0], b[0]) and a[1] == b[1] and a[2] == b[2]


def test_same_call_same_samples_after_other_speech():
    first = synthesize(TEXT, "en")
    again = synthesize(TEXT, "en")
    assert _same(first, again)
    for text, lang, kw in [("Bonjour, comment allez-vous ?", "fr", dict(rate=220, pitch=70, variant="f3")),
                           ("Wie geht es dir heute?", "de", dict(rate=120, pitch=20, variant="klatt")),
                           ("Hola amigo.", "es", dict(variant="m3"))]:
        synthesize(text, lang, **kw)
        assert _same(first, synthesize(TEXT, "en")), (lang, kw)


def test_a_rough_variant_repeats_too():
    # f3 has roughness, breath and echo: the statics that a plain voice leaves untouched.
    first = synthesize(TEXT, "en", variant="f3", rate=160)
    synthesize("Una frase distinta.", "es", variant="klatt3")
    assert _same(first, synthesize(TEXT, "en", variant="f3", rate=160))


def test_alignment_of_one_dub_repeats_in_one_process():
    dub = make_dub(["Mañana vamos a la playa."], "es", variant="m3", rate=190, pitch=40, seed=3)
    first = align_script(dub.samples, dub.rate, dub.text, "es")
    synthesize("Something else entirely, to move the synthesizer on.", "en", variant="f2")
    again = align_script(dub.samples, dub.rate, dub.text, "es")
    assert [(p.phone, p.start, p.end, p.word) for p in first.phones] == \
           [(p.phone, p.start, p.end, p.word) for p in again.phones]


def test_a_setting_left_in_the_library_does_not_leak():
    # Another user of the library in the process (eval/make_dub.py drives it directly) may leave
    # pitch range, word gap or punctuation set; every call sets them all again.
    from lipflap.speech.espeak import _engine
    first = synthesize(TEXT, "en")
    lib = _engine().lib
    for param, value in [(4, 90), (7, 20), (5, 1), (2, 40)]:  # range, wordgap, punctuation, volume
        lib.espeak_SetParameter(param, value, 0)
    assert _same(first, synthesize(TEXT, "en"))
