"""Invariants of script-aware tracks over random phone sequences and frame rates."""
import math
from fractions import Fraction

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from lipflap.mouth.build import frame_times, track_from_phones
from lipflap.speech.types import Phone

PHONES = ["p", "b", "m", "ˈa", "a", "e", "i", "o", "u", "s", "t", "k", "l", "f", "tʃ", "aɪ", "_",
          "ʃ", "n", "ɾ", "ɔ̃", "ə", "w", "h"]
RATES = st.sampled_from([Fraction(24000, 1001), Fraction(24), Fraction(25), Fraction(30000, 1001),
                         Fraction(50), Fraction(60000, 1001), Fraction(1350, 61), Fraction(12)])


@st.composite
def phone_lists(draw):
    names = draw(st.lists(st.sampled_from(PHONES), min_size=1, max_size=40))
    durs = draw(st.lists(st.floats(0.012, 0.5), min_size=len(names), max_size=len(names)))
    t, out = draw(st.floats(0.0, 0.5)), []
    for n, d in zip(names, durs):
        out.append(Phone(n, t, t + d))
        t += d
    return out


@settings(max_examples=60, deadline=None)
@given(phone_lists(), RATES, st.floats(-0.3, 0.3))
def test_track_invariants(phones, fps, start_s):
    t = track_from_phones(phones, fps, start_s=start_s)
    n = len(t.frames)
    assert n == max(0, math.ceil((phones[-1].end - start_s) * fps - 1e-6))
    if not n:
        return
    p = np.array([f.params() for f in t.frames])
    assert np.isfinite(p).all() and (p >= 0).all() and (p <= 1).all()
    assert [f.frame for f in t.frames] == list(range(n))
    times = frame_times(fps, n, start_s)
    period = 1 / float(fps)
    for ph in phones:
        if ph.phone in ("p", "b", "m"):
            # a sealed frame no further than a frame from the phone (the yardstick's +-1 frame)
            near = (times > ph.start - period - 1e-9) & (times < ph.end + period)
            if near.any():
                assert (p[near, 0] == 0).any(), (ph, float(fps))
    shapes = [f.shape for f in t.frames]
    # A labels only on sealed frames; no isolated unprotected one-frame shapes
    for i, f in enumerate(t.frames):
        if f.shape == "A":
            assert f.aperture == 0
    for i in range(1, n - 1):
        if shapes[i - 1] == shapes[i + 1] != shapes[i]:
            assert "A" in (shapes[i - 1], shapes[i])
    # cues tile the track
    assert t.cues[0][0] == 0 and abs(t.cues[-1][1] - n / float(fps)) < 1e-6
    assert all(abs(a[1] - b[0]) < 1e-9 for a, b in zip(t.cues, t.cues[1:]))


def test_a_track_with_no_frames_after_its_start():
    """A lone p that ends where the track starts has no frames (found by test_track_invariants:
    the closure's approach rule indexed an empty frame list)."""
    t = track_from_phones([Phone("p", 0.0, 0.25)], Fraction(24000, 1001), start_s=0.25)
    assert len(t.frames) == 0
