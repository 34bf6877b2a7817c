"""Training targets for the audio-only mouth model (lipflap.speech.articulation, make_data.py)."""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "training"))
from lipflap.speech import articulation  # noqa: E402

from lipflap.speech.audio_only import VISEMES  # noqa: E402


def _at(tg, t):
    return {k: (v[int(round(t / 0.01))]) for k, v in tg.items()}


def test_viseme_order_matches_engine():
    assert tuple(articulation.VISEMES) == VISEMES


def test_targets_follow_articulation():
    # "pa ma  (long pause)  su"
    phones = [("p", 0.5, 0.6), ("ˈa", 0.6, 0.8), ("m", 0.8, 0.9), ("a", 0.9, 1.1),
              ("", 1.1, 1.7), ("s", 1.7, 1.8), ("ˈuː", 1.8, 2.0)]
    tg = articulation.frame_targets(phones, 2.5)
    assert len(tg["aperture"]) == 251
    mid_p, mid_a, mid_m = _at(tg, 0.55), _at(tg, 0.7), _at(tg, 0.85)
    assert mid_p["aperture"] == 0 and mid_m["aperture"] == 0
    assert mid_p["closure"] > 0.9 and mid_m["closure"] > 0.9
    assert mid_a["aperture"] > 0.6 and mid_a["closure"] < 0.05
    assert VISEMES[mid_a["viseme"]] == "aa" and VISEMES[mid_p["viseme"]] == "PP"
    u = _at(tg, 1.9 - articulation.LEAD_S)   # the lips lead the sound (LEAD_S)
    assert u["rounding"] > 0.7 and u["width"] < 0.35 and VISEMES[u["viseme"]] == "ou"
    for t in (0.2, 1.4, 2.4):   # lead, long pause, trail: rest, no speech
        r = _at(tg, t)
        assert r["aperture"] < 0.05 and r["speech"] == 0 and VISEMES[r["viseme"]] == "sil"
    assert _at(tg, 1.75)["speech"] == 1
    for k in ("aperture", "width", "rounding", "jaw", "closure"):
        assert tg[k].min() >= 0 and tg[k].max() <= 1


def test_short_pause_holds_and_unknown_symbols_stay_speech():
    phones = [("a", 0.1, 0.3), ("", 0.3, 0.38), ("a", 0.38, 0.6), ("ʲ", 0.6, 0.65), ("a", 0.65, 0.9)]
    tg = articulation.frame_targets(phones, 1.0)
    assert _at(tg, 0.34)["aperture"] > 0.5          # a 80 ms gap does not close the mouth
    assert _at(tg, 0.62)["speech"] == 1             # a lone diacritic is not a pause
    # affricates look like their fricative, diphthongs move between their two vowels
    assert [s.vis for s in articulation.segments([("tʃ", 0, 0.1)], 0.1)] == ["CH"]
    segs = articulation.segments([("aɪ", 0.0, 0.2)], 0.2)
    assert [s.vis for s in segs] == ["aa", "ih"] and segs[0].ap > segs[1].ap


def test_shape_targets_lead_the_sound_and_closures_do_not():
    # "pause, a, pause, ma": the opening leads the acoustic vowel; the lips cannot open before
    # the m's release, whatever the lead
    phones = [("a", 0.6, 0.9), ("m", 1.5, 1.6), ("a", 1.6, 1.9)]
    lead = articulation.frame_targets(phones, 2.5)
    still = articulation.frame_targets(phones, 2.5, lead_s=0.0)
    t = np.arange(len(lead["aperture"])) * 0.01

    def half_open(tg):   # first time past half the first vowel's opening
        ap = tg["aperture"]
        return t[ap > 0.5 * ap[t < 1.2].max()][0]

    assert abs((half_open(still) - half_open(lead)) - articulation.LEAD_S) <= 0.011
    np.testing.assert_array_equal(lead["closure"], still["closure"])
    np.testing.assert_array_equal(lead["speech"], still["speech"])
    core = (t >= 1.52) & (t <= 1.58)
    assert lead["aperture"][core].max() < 0.05        # sealed although the opening leads
    # smoothing: a tongue consonant between open vowels is a shallow dip, not a snap shut
    tg = articulation.frame_targets([("a", 0.2, 0.4), ("t", 0.4, 0.46), ("a", 0.46, 0.7)], 1.0)
    dip = tg["aperture"][int(0.43 / 0.01) - 4:int(0.43 / 0.01)]
    assert dip.min() > 0.4 and np.abs(np.diff(tg["aperture"])).max() < 0.15


def test_vocal_tract_length_perturbation_moves_formants():
    import train_audio_mouth as tam
    from lipflap.speech import audio_features as af

    x = np.zeros((3, af.N_FEATURES), np.float32)
    x[:, 15] = 1.0            # a formant peak in band 15 (static) and its delta
    x[:, af.N_MELS + 15] = 1.0
    x[:, -1] = 0.7
    np.testing.assert_allclose(tam.vtlp(x.copy(), 1.0), x)
    up, down = tam.vtlp(x.copy(), 1.12), tam.vtlp(x.copy(), 0.88)
    peak = lambda v, b: np.argmax(v[0, b:b + af.N_MELS])   # noqa: E731
    assert peak(up, 0) > 15 > peak(down, 0)
    assert peak(up, af.N_MELS) > 15 > peak(down, af.N_MELS)
    assert np.all(up[:, -1] == 0.7)    # the energy column is not a band


def test_targets_have_one_row_per_hop_even_when_shorter_than_the_kernels():
    for n in (1, 2, 3, 7, 501):
        tg = articulation.frame_targets([("m", 0.0, 0.03), ("a", 0.03, 0.2)], (n - 1) * 0.01 + 1e-6)
        assert {len(v) for v in tg.values()} == {n}, n
