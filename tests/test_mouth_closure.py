"""Lip closures on time (issue 15, item 5): a p/b seals the lips during its closure, the silence
before its burst, and releases them at the burst; an m seals them on the frames it sounds in; never
after the sound; an f/v puts the lower lip to the teeth on its frames, held at least two frames at
25 fps; the lips release into the following vowel."""
from fractions import Fraction

import numpy as np
import pytest

from lipflap.mouth.build import frame_times, track_from_phones
from lipflap.mouth.rules import closure
from lipflap.speech.types import Phone


def _track(phones, fps, n):
    tr = track_from_phones(phones, fps, n)
    return tr.column("aperture"), [f.viseme for f in tr.frames]


def test_disgusted_b_after_the_pause_is_sealed_before_its_burst_and_released_on_it():
    # expr_disgusted's fr dub: /b/ 0.313-0.3275 s, then the nasal vowel. Frame 7 (0.28-0.32 s on
    # screen) holds the closure before the burst; frame 8 (0.32-0.36) shows the release, parting
    # into the vowel, not yet as open as frame 9.
    ph = [Phone("_", 0.0, 0.313), Phone("b", 0.313, 0.3275), Phone("ɔ̃", 0.3275, 0.4088),
          Phone("ʒ", 0.4088, 0.4842), Phone("ˈu", 0.4842, 0.68), Phone("_", 0.68, 1.2)]
    ap, vis = _track(ph, 25, 30)
    assert ap[7] == 0.0 and vis[7] == "PP"
    assert 0.2 < ap[8] < ap[9]


def test_disgusted_p_between_vowels_is_sealed_on_its_closure_never_after():
    # /p/ 2.3194-2.3398 s ("ami Pierre"), its closure silence 2.29-2.32 s: frame 57 (instant
    # 2.30) sealed, 58 (instant 2.34, the burst just over) released, 56 open.
    ph = [Phone("_", 0.0, 2.0), Phone("a", 2.0, 2.1649), Phone("m", 2.1649, 2.2259),
          Phone("ˈi", 2.2259, 2.3194), Phone("p", 2.3194, 2.3398), Phone("j", 2.3398, 2.4153),
          Phone("ˈɛ", 2.4153, 2.4849), Phone("ʁ", 2.4849, 2.55), Phone("_", 2.55, 3.2)]
    ap, _ = _track(ph, 25, 80)
    assert ap[57] == 0.0
    assert ap[54] == 0.0 and ap[55] == 0.0          # the m, on its own frames
    assert ap[56] > 0.05 and ap[58] > 0.1


@pytest.mark.parametrize("fps", [Fraction(24000, 1001), Fraction(25), Fraction(30000, 1001),
                                 Fraction(50), Fraction(1350, 61)])
@pytest.mark.parametrize("seed", range(6))
def test_every_bilabial_is_sealed_in_its_closure_never_after(fps, seed):
    rng = np.random.default_rng(seed)
    phones, t = [Phone("_", 0.0, 0.4)], 0.4
    spans = []
    for _ in range(8):
        v = float(rng.uniform(0.12, 0.2))
        phones.append(Phone("a", t, t + v))
        t += v
        c = str(rng.choice(["p", "b", "m"]))
        d = float(rng.uniform(0.012, 0.12))
        phones.append(Phone(c, t, t + d))
        spans.append((c, t, t + d))
        t += d
    phones += [Phone("a", t, t + 0.2), Phone("_", t + 0.2, t + 0.8)]
    n = int((t + 0.8) * float(fps))
    ap, _ = _track(phones, fps, n)
    times = frame_times(fps, n, 0.0)
    half = 0.5 / float(fps)
    for c, start, end in spans:
        lo, hi = (start, end) if c == "m" else \
            (start - closure.STOP_CLOSURE_S, max(start, end - closure.STOP_BURST_S))
        near = np.flatnonzero((times > lo - 2 * half) & (times < end + 2 * half))
        sealed = near[ap[near] == 0.0]
        assert len(sealed)                                      # sealed at least one frame
        # every sealed frame is on screen while the lips are sealed ...
        assert ((times[sealed] + half > lo) & (times[sealed] - half < hi)).all()
        # ... never after the sound (on screen before it ends), at most two 25 fps frames ahead
        assert (times[sealed] - half < end).all()
        assert (start - times[sealed] <= 0.08 + 1e-9).all()
        # every frame whose instant lies in the sealed time is sealed
        assert (ap[(times >= lo) & (times < hi)] == 0.0).all()
        after = int(np.searchsorted(times - half, end - 1e-9))
        assert ap[after] > 0.0                                  # released after the sound


def test_hold_is_two_frames_at_film_rates_and_longer_at_high_rates():
    assert closure.hold_frames(24) == closure.hold_frames(25) == closure.hold_frames(30) == 2
    assert closure.hold_frames(50) == 4 and closure.hold_frames(60) == 4


def test_labiodental_puts_the_lip_to_the_teeth_on_its_frames_not_after():
    # "vais": v 1.0288-1.0777 between schwa and an open-mid vowel at 25 fps
    ph = [Phone("_", 0.0, 0.8), Phone("ʒ", 0.8, 0.9), Phone("ə", 0.9, 1.0288),
          Phone("v", 1.0288, 1.0777), Phone("ˈɛ", 1.0777, 1.25), Phone("_", 1.25, 1.9)]
    tr = track_from_phones(ph, 25, 45)
    ap = tr.column("aperture")
    times = frame_times(Fraction(25), 45, 0.0)
    a, b = closure.own_frames(1.0288, 1.0777, times, 0.04)
    assert (ap[a:b] <= closure.LABIODENTAL_APERTURE + 1e-9).all()
    assert all(tr.frames[i].viseme == "FF" for i in range(a, b))
    assert ap[b] > closure.LABIODENTAL_APERTURE + 0.1          # the vowel opens after it


def test_a_phone_touching_the_next_frame_by_a_hair_does_not_seal_it():
    # m ends 1 ms into the next frame: that frame shows the vowel, not the seal
    fps = 25
    ph = [Phone("_", 0.0, 0.3), Phone("a", 0.3, 0.45), Phone("m", 0.45, 0.521),
          Phone("a", 0.521, 0.7), Phone("_", 0.7, 1.2)]
    ap, _ = _track(ph, fps, 30)
    assert ap[11] == 0.0 and ap[12] == 0.0   # instants 0.46 and 0.50 inside the m
    assert ap[13] > 0.0                      # 0.52-0.56 on screen: released


def test_a_short_vowel_between_two_closures_keeps_its_one_open_frame():
    # expr_surprised's es dub, "como mamá": m 3.4098-3.4765, a 3.4765-3.5084 (32 ms, frame 87 its
    # only frame), m 3.5084-3.5752. The second m's seal does not reach back over the a.
    ph = [Phone("_", 0.0, 3.3), Phone("o", 3.3, 3.4098), Phone("m", 3.4098, 3.4765),
          Phone("a", 3.4765, 3.5084), Phone("m", 3.5084, 3.5752), Phone("ˈa", 3.5752, 3.6428),
          Phone("_", 3.6428, 4.3)]
    ap, _ = _track(ph, 25, 105)
    assert ap[85] == 0.0 and ap[86] == 0.0 and ap[88] == 0.0
    assert ap[87] > 0.0


def test_a_one_frame_stop_closure_is_approached_by_a_narrowing_frame():
    # A p between two long open a's seals one 25 fps frame (24, instant 0.98 s, in its closure
    # silence 0.97-1.00 s). Real lips close over 50-80 ms, so frame 23 is already on its way shut:
    # no wider than APPROACH_CAP, not sealed; the release (25) is not narrowed, and an m, which
    # holds several frames and is blended into, gets no extra narrowing.
    ph = [Phone("_", 0.0, 0.6), Phone("ˈa", 0.6, 1.0), Phone("p", 1.0, 1.02),
          Phone("ˈa", 1.02, 1.4), Phone("m", 1.4, 1.47), Phone("ˈa", 1.47, 1.8),
          Phone("_", 1.8, 2.4)]
    ap, _ = _track(ph, 25, 60)
    assert ap[24] == 0.0 and ap[22] > 0.9
    assert 0.2 < ap[23] <= closure.APPROACH_CAP < ap[22] - 0.2
    assert ap[25] > 0.4
    before_m = int(np.flatnonzero(ap[30:40] == 0.0)[0]) + 30 - 1
    assert ap[before_m] > 0.5


def test_a_vowels_only_frame_before_a_stop_is_not_narrowed():
    # A 32 ms a between m and p keeps its one open frame: the approach never takes it.
    ph = [Phone("_", 0.0, 0.5), Phone("m", 0.5, 0.58), Phone("a", 0.58, 0.612),
          Phone("p", 0.612, 0.632), Phone("ˈa", 0.632, 0.9), Phone("_", 0.9, 1.4)]
    times = frame_times(Fraction(25), 40, 0.0)
    segs_ap, _ = _track(ph, 25, 40)
    own = closure.own_frames(0.58, 0.612, times, 0.04)
    assert own[1] - own[0] == 1 and segs_ap[own[0]] > 0.2
