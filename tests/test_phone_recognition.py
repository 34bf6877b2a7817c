"""Phones heard by pocketsphinx's phone decoder, and their curves in the audio-only path."""
from __future__ import annotations

import dataclasses

import os
import threading

import numpy as np
import pytest

from lipflap.speech import articulation, audio_only, phone_recognition as pr
from lipflap.speech import audio_features as af
from lipflap.speech.audio_features import resample

VOWELS = set("ɑæʌɔəɛɝɪiʊueoa")


def test_every_arpabet_phone_has_an_articulation():
    for name, ipa in pr.ARPABET_IPA.items():
        assert articulation._symbols(ipa), f"{name} -> {ipa!r} has no articulation entry"


def _bursts(seconds, gap_at, gap_s=0.4, seed=0):
    """Noise bursts (syllable-like, 5 Hz) with one silent gap: a stand-in for speech whose
    quiet places are known."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * pr.RATE)) / pr.RATE
    x = rng.standard_normal(len(t)).astype(np.float32) * 0.1
    x *= (0.6 + 0.4 * np.sin(2 * np.pi * 5 * t)).astype(np.float32)
    x[(t >= gap_at) & (t < gap_at + gap_s)] *= 1e-4
    return x


def test_pieces_are_cut_in_quiet_places_and_bounded():
    x = _bursts(20.0, gap_at=10.4)
    cuts = pr.split_points(x, pieces=2)
    assert len(cuts) == 3 and cuts[0] == 0 and cuts[-1] == len(x)
    assert 10.4 <= cuts[1] / pr.RATE <= 10.8
    long = _bursts(75.0, gap_at=37.0)
    cuts = pr.split_points(long, max_s=30.0)
    assert len(cuts) >= 4 and max(np.diff(cuts)) <= 31.0 * pr.RATE
    assert pr.split_points(x[:100]) == [0, 100]


@pytest.fixture(scope="module")
def english():
    from test_audio_only import _speech
    x, sr, phones = _speech("en", lead=0.6, trail=0.6)
    return resample(x, sr), phones


def test_hears_vowels_bilabials_and_silence_in_speech(english):
    x16, truth = english
    heard = pr.recognise(x16, workers=1)
    assert heard and heard[0][0] == "" and heard[-1][0] == ""     # silence both ends
    dur = len(x16) / pr.RATE
    assert all(0 <= a < b <= dur + 0.02 for _, a, b in heard)
    assert all(heard[i][2] <= heard[i + 1][1] + 1e-6 for i in range(len(heard) - 1))
    spoken = [p for p, _, _ in heard if p]
    assert sum(p[0] in VOWELS for p in spoken) >= 8
    # the sentence has 12 bilabials ("Bob bought a big map ... Pam paid him back ... plums")
    assert sum(p in ("b", "p", "m") for p in spoken) >= 4
    speech_start = truth[0][1]
    first = next(a for p, a, _ in heard if p)
    assert abs(first - speech_start) < 0.1


def test_forked_pieces_equal_decoding_them_here(english, monkeypatch):
    x16, _ = english
    x = np.concatenate([x16, x16[::-1] * 0.5, x16])       # > 8 s: decoded in two processes
    assert len(x) / pr.RATE >= pr._PARALLEL_FROM_S
    # other tests may leave an idle thread behind; forking beside it is harmless here
    monkeypatch.setattr(pr.threading, "active_count", lambda: 1)
    forks = []
    real_fork = os.fork
    monkeypatch.setattr(pr.os, "fork", lambda: forks.append(1) or real_fork())
    both = pr.recognise(x, workers=2)
    assert forks == [1]
    cuts = pr.split_points(x, pieces=2)
    assert both == pr._decode_pieces(x, cuts, [0, 1])
    # a child that fails: its pieces are decoded here, nothing is lost
    monkeypatch.setattr(pr.pickle, "dumps", lambda *_: (_ for _ in ()).throw(RuntimeError()))
    assert pr.recognise(x, workers=2) == both


def test_three_pieces_three_processes_same_phones(english, monkeypatch):
    """Three pieces for two workers: each piece in its own process (no 2:1 share), cut where a
    two-process run cuts, so the phones are the same."""
    x16, _ = english
    x = np.concatenate([x16, x16[::-1] * 0.5, x16])
    monkeypatch.setattr(pr.threading, "active_count", lambda: 1)
    real_split = pr.split_points
    third = len(x) / pr.RATE / 3 + 0.5
    monkeypatch.setattr(pr, "split_points",
                        lambda a, pieces=1: real_split(a, max_s=third, pieces=pieces))
    forks = []
    real_fork = os.fork
    monkeypatch.setattr(pr.os, "fork", lambda: forks.append(1) or real_fork())
    heard = pr.recognise(x, workers=2)
    assert len(forks) == 2
    cuts = real_split(x, max_s=third, pieces=2)
    assert len(cuts) == 4
    assert heard == pr._decode_pieces(x, cuts, [0, 1, 2])


def test_leaving_early_stops_and_reaps_the_children(english, monkeypatch):
    """start() forks at once; an error in the caller's work before result() leaves no child."""
    x16, _ = english
    x = np.concatenate([x16, x16[::-1] * 0.5, x16])
    monkeypatch.setattr(pr.threading, "active_count", lambda: 1)
    pids = []
    real_fork = os.fork
    monkeypatch.setattr(pr.os, "fork", lambda: pids.append(real_fork()) or pids[-1])
    with pytest.raises(ValueError):
        with pr.start(x, workers=2):
            raise ValueError("the network failed")
    assert len(pids) == 1
    with pytest.raises(ChildProcessError):
        os.waitpid(pids[0], os.WNOHANG)     # already reaped


def test_no_fork_beside_other_threads(english, monkeypatch):
    x16, _ = english
    x = np.concatenate([x16, x16])
    monkeypatch.setattr(pr.os, "fork", lambda: pytest.fail("forked beside a running thread"))
    stop = threading.Event()
    th = threading.Thread(target=stop.wait)
    th.start()
    try:
        assert pr.recognise(x, workers=2)
    finally:
        stop.set()
        th.join()


def test_curves_combine_both_sources(english):
    x16, _ = english
    net = audio_only.predict_curves(x16, pr.RATE, phones=False)
    both = audio_only.predict_curves(x16, pr.RATE)
    heard = audio_only.phone_curves(pr.recognise(x16), net.times)
    assert len(heard) == len(net) == len(both)
    # eSpeak NG speech, like the network's training data: it is sure of it, and the aperture is
    # its own, widened toward the decoder's, never narrowed (also the rule without a read-out),
    # opened further where its classes hear a vowel, then taken part of the way to the opening
    # its classes expect
    assert audio_only.network_certainty(net) >= audio_only._SURE_HI
    wider = np.maximum((heard.aperture - net.aperture) / 2, 0) * (1 - net.closure)
    names = audio_only.VISEMES
    vowel = net.classes[:, [names.index(v) for v in ("aa", "E", "ih", "oh", "ou")]].sum(axis=1)
    own = np.clip(net.aperture + wider + audio_only._VOWEL_OPEN * vowel * (1 - net.closure), 0, 1)
    b = audio_only._CLASS_APERTURE
    np.testing.assert_allclose(
        both.aperture,
        (1 - b) * own + b * audio_only.class_aperture(net) * (1 - net.closure), atol=1e-5)
    np.testing.assert_allclose(audio_only.combine(net, heard).aperture, both.aperture, atol=1e-6)
    # the same curves with the network made unsure (as on recorded voices): the read-out's
    # aperture, shut where the network hears sealed lips and in the silence before and after
    # the speech, opening in the speech
    unsure = dataclasses.replace(net, classes=(0.3 * net.classes + 0.7 / net.classes.shape[1]))
    assert audio_only.network_certainty(unsure) < audio_only._SURE_LO
    read = audio_only.combine(unsure, heard, audio_only.aperture_readout.load())
    assert read.aperture.min() >= 0.0 and read.aperture.max() <= 1.0
    assert not np.allclose(read.aperture, both.aperture, atol=0.05)
    assert np.all(read.aperture <= 1.0 - net.closure + 1e-6)
    assert read.aperture[:30].max() == 0.0 and read.aperture[-30:].max() == 0.0
    assert read.aperture.max() > 0.5
    # the speech is the two sources' mean, but in a phrase's decay tail (speech_ends_at_decay)
    raw = audio_only._net_curves(af.features_from_mel(af.power_mel(x16)), net.times)
    mean = (raw.speech + heard.speech) / 2
    kept = both.speech > 0
    np.testing.assert_allclose(both.speech[kept], mean[kept], atol=1e-6)
    assert np.count_nonzero(mean[~kept] > 0.5) < 0.05 * len(mean)
    np.testing.assert_array_equal(both.closure, np.maximum(net.closure, heard.closure))
    assert both.classes is net.classes or np.array_equal(both.classes, net.classes)
    # the decoder's own curves: rest at the ends, open somewhere in the speech, sealed lips
    assert heard.aperture[:30].max() < 0.05 and heard.aperture[-30:].max() < 0.05
    assert heard.aperture.max() > 0.5 and heard.closure.max() >= 0.99


def test_real_speech_phone_rate(shared_media):
    from scipy.io import wavfile
    sr, x = wavfile.read(str(shared_media / "speech_a.wav"))
    x16 = resample(x.astype(np.float32).mean(axis=1) / 32768.0, sr)
    heard = pr.recognise(x16)
    spoken = [p for p, _, _ in heard if p]
    per_s = len(spoken) / (len(x16) / pr.RATE)
    assert 6 <= per_s <= 18, per_s         # running speech: about 10-14 phones a second
    assert sum(p[0] in VOWELS for p in spoken) >= 0.25 * len(spoken)


def test_from_a_thread_the_same_pieces_are_decoded_here(english, monkeypatch):
    """Beside another thread (no fork then) a long dub is cut as for the forked children, so
    the phones are the same (lipflap run's mouth track runs beside the picture analysis)."""
    x16, _ = english
    x = np.concatenate([x16, x16[::-1] * 0.5, x16])
    monkeypatch.setattr(pr.threading, "active_count", lambda: 2)
    forks = []
    monkeypatch.setattr(pr.os, "fork", lambda: forks.append(1))
    heard = pr.recognise(x, workers=2)
    assert forks == []
    assert heard == pr._decode_pieces(x, pr.split_points(x, pieces=2), [0, 1])
