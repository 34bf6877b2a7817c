"""The audio-only closure head (lipflap.speech.closure_head): a b right after a consonant seals.

eSpeak NG's b after t, n or s is only its 20-30 ms burst, the silence of its closure billed to
the consonant before it; the networks' own closure and the phone decoder missed such a b
("mit Brot" in the talk_i de dub, issue 21). The phrases here are not in the head's training
phrases (training/texts.py CLUSTERS).
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from lipflap.speech import audio_only, closure_head, phone_recognition

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "training"))
import espeak_synth  # noqa: E402
import make_data  # noqa: E402
import texts  # noqa: E402

# (voice, phrase): words outside the head's training lists but for a few function words; the
# networks miss two of its three b's after t (closure 0.38 in "bit Bob", 0.35 in "that brat"
# at 165 words a minute; the head 0.96 both). Not every one is caught: "mit Brigitte" in de+f2
# reads 0.27 from the networks and 0.82 from the head, below its _HEAD_P.
CLUSTERS = (("en+f2", "It bit Bob, that brat."),)
PLAIN = ("de", "Die Katze sucht Tee, dann rennt sie schnell weg.")
FUNCTION_WORDS = ("it", "that", "er", "die", "dann", "sie")


def _speech(voice, text, rate=165):
    # in a forked child, as tests/test_audio_only.py: the training wrapper's synthesis in this
    # process would change the library state the engine's own wrapper works from
    x, sr, phones = espeak_synth.synth_isolated(text, voice, rate=rate)
    lead = 0.5
    x = np.concatenate([np.zeros(int(lead * sr), np.float32), x, np.zeros(int(lead * sr), np.float32)])
    return x, sr, [(p, a + lead, b + lead) for p, a, b in phones]


def _after_consonant_bs(phones):
    out = []
    for k in range(1, len(phones)):
        ph, prev = phones[k][0].strip("ˈˌː"), phones[k - 1][0].strip("ˈˌː")
        if ph == "b" and prev and prev[0] not in make_data._VOWEL_CHARS:
            out.append((phones[k][1], phones[k][2]))
    return out


def _window(c, a, b):
    return (c.times >= a - 0.04) & (c.times < b + 0.02)


@pytest.fixture(scope="module", params=CLUSTERS, ids=[v for v, _ in CLUSTERS])
def cluster(request):
    x, sr, phones = _speech(*request.param)
    x16, times = audio_only.prepare(x, sr)
    net = audio_only.network_curves(x16, times)
    heard = audio_only.phone_curves(phone_recognition.recognise(x16), times)
    return phones, net, heard, audio_only.combine(net, heard, audio_only._readout())


def test_held_out_phrases_not_in_training_lists():
    words = {w.lower() for pair in texts.CLUSTERS.values() for ws in pair for w in ws}
    for _, text in CLUSTERS + (PLAIN,):
        for w in text.replace(",", " ").replace(".", " ").split():
            assert w.lower() not in words or w.lower() in FUNCTION_WORDS, w


def test_b_after_consonant_seals(cluster):
    phones, net, heard, combined = cluster
    bs = _after_consonant_bs(phones)
    assert len(bs) >= 1, phones
    own = [np.maximum(net.closure, heard.closure)[_window(net, a, b)].max() for a, b in bs]
    # the networks and the phone decoder both miss one at least (the case the head exists for)
    assert min(own) < 0.5, own
    for a, b in bs:
        w = _window(combined, a, b)
        # ... the head, and so the combined curve, seals every one
        assert net.cluster_closure[w].max() >= audio_only._HEAD_P, (a, net.cluster_closure[w].max())
        assert combined.closure[w].max() >= 0.5


def test_no_closure_without_bilabials():
    x, sr, phones = _speech(*PLAIN)
    x16, times = audio_only.prepare(x, sr)
    net = audio_only.network_curves(x16, times)
    assert not any(p.strip("ˈˌː")[:1] in "pbm" for p, _, _ in phones if p)
    speech = (times >= phones[0][1]) & (times < phones[-1][2])
    assert net.cluster_closure[speech].max() < audio_only._HEAD_P, net.cluster_closure[speech].max()


def test_head_reads_lags_and_refuses_other_layouts(tmp_path):
    f, t, units = 8, 50, 2
    head = closure_head.ClosureHead(np.zeros(f, np.float32), np.ones(f, np.float32),
                                    np.zeros((len(closure_head.LAGS), f, units), np.float32),
                                    np.zeros(units, np.float32), np.array([1.0, -1.0], np.float32),
                                    0.0)
    lag = closure_head.LAGS.index(2)
    head.w1[lag, 3, 0] = 5.0
    h = np.zeros((t, f), np.float32)
    h[20, 3] = 1.0
    p = head(h)
    # input 3 at frame 20 is read by frame 18 through the +2 lag, and nowhere else
    assert p[18] > 0.99 and abs(p[20] - 0.5) < 1e-6 and abs(p[22] - 0.5) < 1e-6
    assert np.allclose(closure_head.design(h)[:, lag * f:(lag + 1) * f][18], h[20])
    closure_head.save(head, tmp_path / "h.npz", {})
    assert np.allclose(closure_head.load(tmp_path / "h.npz")(h), p)
    z = dict(np.load(tmp_path / "h.npz"))
    z["lags"] = np.array([0], np.int32)
    np.savez(tmp_path / "bad.npz", **z)
    with pytest.raises(RuntimeError, match="other lags"):
        closure_head.load(tmp_path / "bad.npz")


def test_bilabial_closures_moves_b_after_consonant_only():
    ph = [("a", 0.0, 0.1), ("t", 0.1, 0.18), ("b", 0.18, 0.2), ("a", 0.2, 0.3), ("b", 0.3, 0.38)]
    out = make_data.bilabial_closures(ph)
    assert out[1] == ("t", 0.1, 0.14) and out[2] == ("b", 0.14, 0.2)
    assert out[4] == ph[4]            # after a vowel the b keeps its own closure


def _curves(closure, head):
    t = len(closure)
    z = np.zeros(t, np.float32)
    return audio_only.MouthCurves(0.01, np.arange(t) * 0.01, z, z, z, z,
                                  np.asarray(closure, np.float32), z + 1, None,
                                  cluster_closure=np.asarray(head, np.float32))


def test_head_adds_only_closures_the_others_missed():
    t = 60
    own, head = np.zeros(t), np.zeros(t)
    own[10:14] = 0.9            # a closure the networks hear ...
    head[8:16] = 0.95           # ... which the head would lengthen: left as it is
    head[30:33] = 0.9           # one nobody else hears: added
    head[45:48] = 0.6           # a weak one (below _HEAD_P): not added
    none = _curves(np.zeros(t), np.zeros(t))
    out = audio_only.combine(_curves(own, head), none).closure
    assert np.allclose(out[:25], own[:25])
    assert np.allclose(out[30:33], 0.9) and out[28] == 0 and out[33] == 0
    assert out[40:].max() == 0
