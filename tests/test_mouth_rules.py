"""Each timing rule on its own, on hand-made segments and frames."""
from fractions import Fraction

import numpy as np
import pytest

from lipflap.mouth.build import frame_times
from lipflap.mouth.rules import (anticipation, closure, coarticulation, flicker, min_duration, pauses,
                                 widest_vowel)
from lipflap.mouth.segments import segments_from_phones
from lipflap.mouth.visemes import SHAPE_TARGET
from lipflap.speech.types import Phone


def _segs(spec):
    """spec: [(phone, duration_s), ...] laid end to end from 0."""
    phones, t = [], 0.0
    for ph, d in spec:
        phones.append(Phone(ph, t, t + d))
        t += d
    return segments_from_phones(phones)


# ---- pauses ------------------------------------------------------------------------------------
def test_long_pause_rests_short_holds_middle_relaxes():
    segs = _segs([("a", 0.2), ("_", 0.5), ("a", 0.2), ("_", 0.2), ("a", 0.2), ("_", 0.06),
                  ("o", 0.2)])
    out = pauses.rest_in_pauses(segs)
    kinds = [(s.kind, round(s.duration, 2)) for s in out]
    assert ("pause", 0.06) not in kinds                  # held: removed...
    held_before = [s for s in out if s.kind == "vowel"][2]
    assert held_before.vis_end.min() == pytest.approx(1.36)   # ...the vowel before holds over it
    rest = next(s for s in out if s.kind == "pause" and s.duration > 0.4)
    assert rest.rest and np.allclose(rest.target, SHAPE_TARGET["X"])
    assert rest.vis_start[0] > rest.start and rest.vis_end[0] < rest.end   # release and onset
    relax = next(s for s in out if s.kind == "pause" and 0.15 < s.duration < 0.25)
    assert not relax.rest
    assert 0.0 < relax.target[0] < out[0].target[0]       # part-way toward rest


def test_edge_pauses_always_rest():
    segs = _segs([("_", 0.15), ("a", 0.2), ("_", 0.15)])
    out = pauses.rest_in_pauses(segs)
    assert out[0].rest and out[-1].rest


def test_pause_mask_from_speech_probability():
    fps = 25
    speech = np.r_[np.zeros(5), np.ones(10), np.zeros(2), np.ones(10), np.zeros(6), np.ones(10),
                   np.zeros(10), np.ones(5)]
    m = pauses.pause_mask_from_speech(speech, fps)
    assert (m[:4] == 1).all() and m[4] == 0   # leading: rest from the first frame, open ahead
    assert (m[15:17] == 0).all()              # 80 ms: hold
    assert (m[28:32] == 0.5).all()            # 240 ms: relax, after 40 ms edges
    assert m[27] == 0 and m[32] == 0
    assert (m[45:51] == 1).all()              # 400 ms: rest in its core,
    assert (m[43:45] == 0).all()              # after an 80 ms release
    assert (m[51:53] == 0).all()              # and before a 100 ms onset (2.5 frames: 2)
    assert (m[53:] == 0).all()                # speech at the end


def test_pause_mask_trailing_pause_rests_to_the_end_after_its_release():
    fps = 25
    m = pauses.pause_mask_from_speech(np.r_[np.ones(10), np.zeros(20)], fps)
    assert (m[:12] == 0).all() and (m[12:] == 1).all()


# ---- anticipation ------------------------------------------------------------------------------
def test_vowel_formed_before_it_sounds_and_rounding_earlier():
    segs = _segs([("a", 0.2), ("s", 0.1), ("t", 0.1), ("u", 0.2)])
    u = segs[3]
    anticipation.anticipate(segs)
    assert u.vis_start[0] == pytest.approx(u.start - anticipation.MAX_LEAD_S)   # capped lead
    assert anticipation.MAX_LEAD_S <= 0.08                    # at most two frames at 25 fps
    assert u.vis_start[2] == pytest.approx(u.start - 0.20)   # rounding: across the cluster
    assert u.vis_start[1] == pytest.approx(u.start - 0.20)   # and the narrowing that shows it
    assert segs[0].vis_start[0] == pytest.approx(0.0)         # nothing before it to anticipate


@pytest.mark.parametrize("lip", ["p", "m", "f"])
def test_vowel_opening_not_anticipated_across_the_lips_closing(lip):
    # "ʁpa": the lips close for the p, so the a opens them only from its release; a tongue
    # consonant after the lip one still lets the vowel form early
    segs = _segs([("ɛ", 0.1), ("ʁ", 0.09), (lip, 0.03), ("a", 0.2)])
    anticipation.anticipate(segs)
    assert segs[3].vis_start[0] == pytest.approx(segs[3].start)
    segs = _segs([("ɛ", 0.1), (lip, 0.06), ("l", 0.1), ("a", 0.2)])
    anticipation.anticipate(segs)
    assert segs[3].vis_start[0] == pytest.approx(segs[3].start - anticipation.MAX_LEAD_S)
    segs = _segs([("ɛ", 0.1), (lip, 0.06), ("l", 0.04), ("a", 0.2)])
    anticipation.anticipate(segs)
    assert segs[3].vis_start[0] == pytest.approx(segs[2].start)


def test_no_anticipation_across_a_pause():
    segs = _segs([("_", 0.3), ("a", 0.2)])
    anticipation.anticipate(segs)
    assert segs[1].vis_start[0] == pytest.approx(segs[1].start)


# ---- coarticulation ----------------------------------------------------------------------------
def test_blend_reaches_long_targets_and_undershoots_short_weak_ones():
    segs = _segs([("a", 0.3), ("k", 0.03), ("a", 0.3)])
    times = np.array([0.15, 0.315, 0.5, 5.0])
    params, owner = coarticulation.blend(segs, times)
    assert params[0, 0] == pytest.approx(segs[0].target[0], abs=0.02)   # mid-vowel: its target
    assert params[1, 0] > segs[1].target[0] + 0.15   # a short k between a's stays open
    assert params[3, 0] == pytest.approx(SHAPE_TARGET["X"][0], abs=1e-3)  # far away: rest
    assert owner[0] == 0 and owner[3] == -1


def test_a_short_vowel_between_closures_shows_its_opening():
    """held-out vu_beard's "Mama baut" at 35 fps: the second a (60 ms between the m and the b's
    seal) owns one unsealed frame, whose middle instant sits just after the m's release; its
    widest instant on screen is drawn instead. A long vowel's frames are left as they were."""
    from lipflap.mouth.build import track_from_phones
    phones, t = [], 0.3
    for ph, d in (("m", 0.06), ("a", 0.13), ("m", 0.06), ("a", 0.06), ("b", 0.08), ("aU", 0.17)):
        phones.append(Phone(ph, t, t + d))
        t += d
    fps = Fraction(35)
    segs = _segs([("a", 0.4)])
    times = frame_times(fps, 14, 0.0)
    params, owner = coarticulation.blend(segs, times)
    same = widest_vowel.widest_vowel_frames(params, owner, segs, times, 1 / 35, coarticulation.blend,
                                            np.zeros(len(times), bool))
    assert np.array_equal(same, params)        # a long vowel: its widest frame is at its target
    track = track_from_phones(phones, fps, 40)
    ap = np.array([f.aperture for f in track.frames])
    mid = frame_times(fps, 40, 0.0)
    short = [i for i, f in enumerate(track.frames) if 0.55 <= mid[i] < 0.61 and f.viseme != "PP"]
    assert len(short) == 1 and ap[short[0]] > 0.6, ap[17:23]


def test_strong_segments_win():
    segs = _segs([("a", 0.2), ("f", 0.08), ("a", 0.2)])
    params, _ = coarticulation.blend(segs, np.array([0.24]))
    assert params[0, 0] < 0.35                       # the labiodental holds its small opening


# ---- closure -----------------------------------------------------------------------------------
@pytest.mark.parametrize("fps", [Fraction(24000, 1001), Fraction(25), Fraction(30000, 1001)])
@pytest.mark.parametrize("offset", [0.0, 0.011, 0.023, 0.031])
def test_short_stop_sealed_in_the_closure_before_its_burst(fps, offset):
    # a 20 ms burst after a vowel: the lips are sealed in the 30 ms of silence before it (one
    # frame at 24-30 fps, the one on screen then) and part at the burst, never after it
    segs = _segs([("a", 0.2 + offset), ("p", 0.02), ("a", 0.2)])
    times = frame_times(fps, 20, 0.0)
    mask = closure.closure_frames(segs, times, float(fps))
    p = segs[1]
    half = 0.5 / float(fps)
    k = np.flatnonzero(mask)
    assert len(k) == 1
    assert times[k[0]] - half < p.start and times[k[0]] + half > p.start - closure.STOP_CLOSURE_S
    assert times[k[0]] < p.end


@pytest.mark.parametrize("fps", [Fraction(24000, 1001), Fraction(25)])
def test_long_bilabial_sealed_on_every_frame_inside(fps):
    segs = _segs([("a", 0.2), ("m", 0.12), ("a", 0.2)])
    times = frame_times(fps, 15, 0.0)
    mask = closure.closure_frames(segs, times, float(fps))
    inside = (times >= 0.2) & (times < 0.32)
    assert (mask == inside).all() and mask.sum() >= 2
    params = closure.apply_closure(np.full((15, 4), 0.5), mask)
    assert (params[mask, 0] == 0).all() and (params[~mask, 0] == 0.5).all()


def test_a_frame_long_b_is_sealed_on_its_closure_not_its_burst():
    fps = 25.0
    segs = _segs([("a", 0.21), ("b", 0.042), ("a", 0.2)])   # a voiced closure, then the burst
    times = np.arange(15) / fps
    mask = closure.closure_frames(segs, times, fps)
    assert list(np.flatnonzero(mask)) == [5]              # 0.20 s closed; 0.24 s, the burst, not


def test_closure_from_curve_picks_confident_frames():
    c = np.array([0, 0.2, 0.7, 0.9, 0.6, 0.1, 0, 0.8, 0, 0.9, 0.95, 0.9, 0])
    ap = np.full(len(c), 0.3)
    speech = np.ones(len(c), bool)
    speech[9:] = False
    m = closure.closure_frames_from_curve(c, ap, speech)
    # the run 2-4 reaches SECOND_SEAL_P on one frame only: one sealed frame, its most closed
    assert list(np.flatnonzero(m)) == [3, 7]


def test_closure_from_curve_reads_frames_at_their_own_instants():
    # a run whose frames all hear the seal over their 1/fps (the largest over the frame): which
    # are sealed is read at each frame's own instant; a second only where that is closed enough
    peak = np.array([0, 0.9, 0.9, 0.9, 0])
    ap = np.full(5, 0.3)
    speech = np.ones(5, bool)

    def sealed(instant):
        m = closure.closure_frames_from_curve(peak, ap, speech, instant=np.array(instant))
        return list(np.flatnonzero(m))

    assert sealed([0, 0.85, 0.95, 0.3, 0]) == [1, 2]
    assert sealed([0, 0.3, 0.95, 0.85, 0]) == [2, 3]
    # the release: the frame after the seal hears it only at its window's edge
    assert sealed([0, 0.6, 0.95, 0.5, 0]) == [2]
    # never none: a run whose instants all miss the seal still shows its most closed frame
    assert sealed([0, 0.2, 0.4, 0.1, 0]) == [2]


def test_a_phrase_that_starts_with_a_closure_stays_sealed_out_of_the_rest():
    # frames 0-3 rest, 4-5 the onset (quiet), speech from frame 6 at its instant
    rest = np.array([1, 1, 1, 1, 0, 0, 0, 0, 0, 0], float)
    speech_at = np.array([0, 0, 0, 0, 0.05, 0.2, 0.9, 1, 1, 1])
    clo = np.array([0, 0, 0, 0, 0.05, 0.1, 0.3, 0.1, 0, 0])      # a French "Pierre" burst: 0.3
    none = np.zeros(len(rest), bool)
    assert list(np.flatnonzero(closure.onset_seal_frames(clo, rest, speech_at, none))) == [4, 5]
    # a closure heard well enough to be sealed already (a voiced b or an m): the lips stay
    # sealed from the rest to it
    heard = none.copy()
    heard[7] = True
    assert list(np.flatnonzero(closure.onset_seal_frames(clo, rest, speech_at, heard))) == [4, 5, 6]
    # an onset with no closure heard (a vowel, an alveolar: at most 0.21 measured) opens as it was
    clo_a = np.array([0, 0, 0, 0, 0.02, 0.05, 0.2, 0.1, 0, 0])
    assert not closure.onset_seal_frames(clo_a, rest, speech_at, none).any()
    # the m of "Am" after the vowel has come in is not the onset's: the rule above seals it
    clo_am = np.array([0, 0, 0, 0, 0.02, 0.05, 0.1, 0.9, 0.1, 0])
    assert not closure.onset_seal_frames(clo_am, rest, speech_at, none).any()
    # speech in on the first frame after the rest: nothing between to hold
    assert not closure.onset_seal_frames(clo, rest, np.array([0, 0, 0, 0, 0.9, 1, 1, 1, 1, 1]),
                                         none).any()
    # a relaxed pause (0.5) is not a rest: its lips are apart, the rule above decides
    assert not closure.onset_seal_frames(clo, np.where(rest > 0, 0.5, 0), speech_at, none).any()


# ---- flicker and minimum duration -------------------------------------------------------------
def test_param_flicker_removed_unless_protected():
    x = np.array([[0.3], [0.3], [0.7], [0.3], [0.3], [0.0], [0.3]], float).repeat(4, axis=1)
    prot = np.zeros(7, bool)
    prot[5] = True                                  # a closure frame
    y = flicker.remove_param_flickers(x, prot)
    assert y[2, 0] == pytest.approx(0.3) and y[5, 0] == 0.0
    # a real movement (up and staying up) is not a flicker
    ramp = np.array([[0.1], [0.3], [0.5], [0.7]], float).repeat(4, axis=1)
    assert np.allclose(flicker.remove_param_flickers(ramp, np.zeros(4, bool)), ramp)


def test_label_flicker():
    labels = list("BBCBBABB")
    prot = np.array([c == "A" for c in labels])
    assert flicker.remove_label_flickers(labels, prot) == list("BBBBBABB")


def test_min_duration_merges_into_closer_neighbour_and_keeps_closures():
    labels = list("DDDDCBBBBBAFFFF")
    params = np.zeros((15, 4))
    params[:4, 0] = 0.9
    params[4, 0] = 0.8           # the C frame looks like the D's
    params[5:10, 0] = 0.2
    params[11:, 0] = 0.25
    prot = np.array([c == "A" for c in labels])
    out = min_duration.enforce_min_duration(labels, params, prot, 3)
    assert "".join(out) == "DDDDDBBBBBAFFFF"


def test_min_frames_by_rate():
    assert min_duration.min_frames_for(24) == 2
    assert min_duration.min_frames_for(50) == 4
    assert min_duration.min_frames_for(12) == 1


def test_only_long_l_gets_shape_h():
    segs = _segs([("a", 0.2), ("l", 0.05), ("a", 0.2), ("l", 0.15)])
    assert segs[1].shape == "B" and segs[3].shape == "H"
