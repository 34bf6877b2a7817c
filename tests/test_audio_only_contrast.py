"""The audio-only path restores the contrast its networks' classes carry: vowels open further,
rounded vowels narrow (lipflap.speech.audio_only._class_contrast), as far as the network is sure
of the speech, sealed frames left sealed."""
from __future__ import annotations

import dataclasses

import numpy as np

from lipflap.speech import audio_only as ao


def _net(classes: np.ndarray, closure: np.ndarray) -> ao.MouthCurves:
    t = len(classes)
    flat = np.full(t, 0.3, np.float32)
    return ao.MouthCurves(0.01, np.arange(t) * 0.01, flat.copy(), np.full(t, 0.5, np.float32),
                          flat.copy(), flat.copy(), closure.astype(np.float32),
                          np.ones(t, np.float32), classes.astype(np.float32))


def _one_hot(names: list[str]) -> np.ndarray:
    out = np.zeros((len(names), len(ao.VISEMES)))
    out[np.arange(len(names)), [ao.VISEMES.index(n) for n in names]] = 1.0
    return out


def test_vowels_open_rounded_narrow_seals_stay():
    names = ["SS"] * 10 + ["aa"] * 10 + ["ou"] * 10 + ["E"] * 10 + ["PP"] * 10
    closure = np.r_[np.zeros(40), np.ones(10)]
    net = _net(_one_hot(names), closure)
    heard = dataclasses.replace(net, aperture=np.zeros(len(names), np.float32),
                                closure=np.zeros(len(names), np.float32))
    assert ao.network_certainty(net) >= ao._SURE_HI
    out = ao.combine(net, heard)
    ap, wd = out.aperture, out.width
    # a consonant keeps the network's opening, every vowel class opens it by _VOWEL_OPEN; then
    # each frame goes _CLASS_APERTURE of the way to the opening its class is drawn at
    from lipflap.mouth.visemes import VISEME_TARGET
    own = np.r_[np.full(10, 0.3), np.full(30, 0.3 + ao._VOWEL_OPEN)]
    drawn = np.array([VISEME_TARGET[n][0] for n in names[:40]])
    b = ao._CLASS_APERTURE
    np.testing.assert_allclose(ap[:40], (1 - b) * own + b * drawn, atol=1e-6)
    # an open vowel opens further than a consonant, a mid vowel, a close rounded one
    assert ap[15] > ap[35] > ap[25] and ap[15] > ap[5]
    # the sealed frames are not opened by a vowel class's share nor by their class's opening
    assert np.all(ap[40:] <= 0.3 + 1e-6)
    # only the rounded classes narrow, by _ROUND_NARROW
    np.testing.assert_allclose(wd[20:30], 0.5 - ao._ROUND_NARROW, atol=1e-6)
    np.testing.assert_allclose(np.r_[wd[:20], wd[30:]], 0.5, atol=1e-6)


def test_unsure_network_keeps_its_width_and_the_read_out_its_aperture():
    # classes spread thin (a recorded voice): the network is not sure of them
    names = ["ou"] * 30
    cls = 0.2 * _one_hot(names) + 0.8 / len(ao.VISEMES)
    net = _net(cls, np.zeros(30))
    assert ao.network_certainty(net) < ao._SURE_LO
    ap, wd = ao._class_contrast(net, net.aperture, net.width, sure=0.0)
    # the width is not cut; the network's own aperture carries its contrast...
    np.testing.assert_array_equal(wd, net.width)
    assert np.all(ap > net.aperture)
    # ...which the read-out replaces where the network is unsure (recorded voices)
    heard = dataclasses.replace(net)
    out = ao.combine(net, heard, ao.aperture_readout.load())
    np.testing.assert_allclose(out.width, 0.5, atol=1e-6)
    readout = ao.aperture_readout.load()(net, heard) * ao._inside_speech(out.speech)
    np.testing.assert_allclose(out.aperture, readout, atol=1e-5)


def test_rounding_never_narrows_past_the_rounded_viseme():
    from lipflap.mouth.visemes import VISEME_TARGET
    floor = VISEME_TARGET["ou"][1]
    net = _net(_one_hot(["ou"] * 3), np.zeros(3))
    width = np.array([floor + 0.02, floor + 0.3, floor - 0.05])
    _, wd = ao._class_contrast(net, net.aperture, width, sure=1.0)
    # cut to the viseme's width, cut in full, and left as it was where already narrower
    np.testing.assert_allclose(wd, [floor, floor + 0.3 - ao._ROUND_NARROW, floor - 0.05], atol=1e-6)


def test_the_class_aperture_changes_where_the_classes_change():
    # the regressed curve eases over a consonant-vowel edge; the classes' aperture steps there
    names = ["DD"] * 6 + ["aa"] * 6
    net = _net(_one_hot(names), np.zeros(12))
    ramp = np.clip((np.arange(12) - 2) / 8.0, 0, 1).astype(np.float32) * 0.6 + 0.1
    net = dataclasses.replace(net, aperture=ramp)
    exp = ao.class_aperture(net)
    from lipflap.mouth.visemes import VISEME_TARGET
    np.testing.assert_allclose(exp, [VISEME_TARGET[n][0] for n in names], atol=1e-6)
    out = ao.combine(net, dataclasses.replace(net))
    step = np.diff(out.aperture)
    # the output rises most at the edge itself, between frames 5 and 6, and by more than the
    # regressed curve and the vowel contrast give there (0.075 + _VOWEL_OPEN): half the drawn
    # step (0.90 - 0.24) goes with the classes (0.43 here, 0.195 without)
    assert int(np.argmax(step)) == 5
    assert step[5] > ramp[6] - ramp[5] + ao._VOWEL_OPEN + 0.15
