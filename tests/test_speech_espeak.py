"""eSpeak NG wrapper: timed IPA phones, languages, variants, errors, thread safety."""
from __future__ import annotations

import importlib.util
import threading

import numpy as np
import pytest

from lipflap.contract.errors import LipflapError
from lipflap.speech import espeak
from lipflap.speech.types import PAUSE


def test_synthesize_gives_contiguous_timed_ipa_phones():
    x, sr, phones = espeak.synthesize("Hola, ¿cómo estás? Muy bien.", "es")
    assert x.dtype == np.float32 and sr == 22050 and len(x) > sr // 2
    assert 0.05 < np.abs(x).max() <= 1.0
    assert phones[0].start == 0.0
    assert phones[-1].end == pytest.approx(len(x) / sr)
    for a, b in zip(phones, phones[1:]):
        assert a.end == pytest.approx(b.start) and a.end > a.start
        assert not (a.phone == PAUSE and b.phone == PAUSE)   # pauses merged
    names = [p.phone for p in phones if p.phone != PAUSE]
    assert names[:3] == ["ˈo", "l", "a"]                      # IPA with stress marks
    assert "β" in names and PAUSE in [p.phone for p in phones]   # the comma pauses
    words = [p.word for p in phones if p.phone != PAUSE]
    assert words[0] == "Hola" and "cómo" in words and words[-1] == "bien"
    assert all(p.word is None for p in phones if p.phone == PAUSE)


def test_language_switch_markers_are_not_phones():
    # eSpeak reads kanji with its English table and emits "(en)"/"(ja)" switch marks.
    _, _, phones = espeak.synthesize("今日", "ja")
    assert phones and not any(p.phone.startswith("(") for p in phones)


def test_rate_pitch_variant_change_the_voice_not_the_phones():
    text = "Der Hund meines Nachbarn bellt jede Nacht."
    a, sr, pa = espeak.synthesize(text, "de")
    b, _, pb = espeak.synthesize(text, "de", rate=260, pitch=70, variant="f3")
    c, _, _ = espeak.synthesize(text, "de", rate=110)
    assert len(b) < 0.85 * len(a) < 0.85 * len(c)
    assert [p.phone for p in pa if p.phone != PAUSE] == [p.phone for p in pb if p.phone != PAUSE]
    # Defaults come back after a call with options (the library's state is global).  Samples are
    # not identical between runs (eSpeak varies timing and noise slightly), phones are.
    a2, _, pa2 = espeak.synthesize(text, "de")
    assert abs(len(a2) - len(a)) <= 0.03 * len(a)
    assert np.allclose([p.start for p in pa2], [p.start for p in pa], atol=0.03)


def test_languages_and_errors():
    codes = dict(espeak.list_languages())
    for code in ("es", "de", "fr", "it", "pt", "ja", "en-us", "cmn"):
        assert code in codes
    assert espeak.check_language("EN-US") == "en-us"
    with pytest.raises(LipflapError, match=r"unknown language 'xx'; run `lipflap visemes "
                                           r"--list-languages`"):
        espeak.check_language("xx")
    with pytest.raises(LipflapError, match="unknown language 'zz'"):
        espeak.synthesize("hello", "zz")
    with pytest.raises(LipflapError, match="unknown eSpeak voice variant 'nope'"):
        espeak.synthesize("hola", "es", variant="nope")
    assert "f3" in espeak.list_variants()


def test_threads_get_their_own_results():
    texts = [("Buenos días a todos.", "es"), ("Guten Morgen allerseits.", "de"),
             ("Bonjour à tous.", "fr"), ("Buongiorno a tutti.", "it")]
    serial = [espeak.synthesize(t, lang) for t, lang in texts]
    out: dict[int, tuple] = {}

    def work(i):
        for _ in range(3):
            out[i] = espeak.synthesize(*texts[i])

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(texts))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for i, (x, _, ph) in enumerate(serial):
        assert abs(len(out[i][0]) - len(x)) <= 0.03 * len(x)   # eSpeak varies a little per run
        rms = np.sqrt(np.mean(x ** 2))
        assert np.sqrt(np.mean(out[i][0] ** 2)) == pytest.approx(rms, rel=0.05)
        assert [p.phone for p in out[i][2]] == [p.phone for p in ph]


def test_times_agree_with_the_yardstick_dub_maker(shared_eval):
    spec = importlib.util.spec_from_file_location("make_dub", shared_eval / "make_dub.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    text = "Mañana vamos a la playa, si no llueve."
    samples, sr, events = mod.synth(text, "es", 150, 60)   # re-initialises the same library
    x, sr2, phones = espeak.synthesize(text, "es", rate=150, pitch=60)
    assert sr2 == sr and abs(len(x) - len(samples)) <= 0.03 * len(x)
    theirs = np.array([t for t, name in events if name])
    ours = np.array([p.start for p in phones if p.phone != PAUSE])
    assert len(ours) == len(theirs) and np.abs(ours - theirs).max() < 0.03
