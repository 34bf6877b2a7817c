"""Mixed dialogue dub (issue 18): speaker-turn scripts, their placement on the dub's speech, and
the assignment of dub speech to the face that talks in the original picture."""
from __future__ import annotations

import numpy as np
import pytest

from lipflap.contract.errors import JobError
from lipflap.face.activity import TALKING, speaking_activity, talking
from lipflap.pipeline.voices import merge_patches, owners_by_activity, untouched_frames
from lipflap.render.synth import Patch
from lipflap.speech.turns import Turn, parse_turns, place_turns, script_of

FPS = 25.0


def test_parse_turns_tags_and_json():
    t = parse_turns("[ANNA] Hola, Ben. [BEN] Hola.\n[ANNA] ¿Qué tal?")
    assert [(x.speaker, x.text) for x in t] == [("ANNA", "Hola, Ben."), ("BEN", "Hola."),
                                                ("ANNA", "¿Qué tal?")]
    assert script_of(t) == "Hola, Ben. Hola. ¿Qué tal?"
    j = parse_turns('[{"speaker": "A", "text": "uno"}, {"speaker": "B", "text": "dos"}]')
    assert [(x.speaker, x.text) for x in j] == [("A", "uno"), ("B", "dos")]
    assert parse_turns("a plain script") is None
    for bad, needle in [("Hola [A] x", "before the first"), ('[{"speaker": 1, "text": "x"}]',
                        "must be a list"), ("[A] [B]", "no text"), ("[{\"speaker\": ", "JSON")]:
        with pytest.raises(JobError, match=needle):
            parse_turns(bad)


def test_place_turns_follows_text_length():
    turns = [Turn("A", "x" * 30), Turn("B", "y" * 10), Turn("A", "z" * 20)]
    # Speech: 3 s, 1 s, 0.5 s + 1.5 s (a pause inside A's second turn)
    segs = [(0.0, 3.0), (3.4, 4.4), (4.8, 5.3), (5.5, 7.0)]
    assert place_turns(turns, segs) == [(0.0, 3.0), (3.4, 4.4), (4.8, 7.0)]
    # Fewer stretches than turns: the longest is halved.
    assert len(place_turns(turns, [(0.0, 6.0)])) == 3


def _talk(n, on, rng):
    """Apertures of a mouth that talks where `on` and holds still elsewhere."""
    ap = 0.05 + rng.normal(0, 0.001, n)
    ap[on] += np.abs(rng.normal(0, 0.12, on.sum()))
    return ap


def test_activity_tells_talking_from_still():
    rng = np.random.default_rng(1)
    on = np.zeros(150, bool)
    on[20:80] = True
    act = speaking_activity(_talk(150, on, rng), FPS)
    assert talking(act)[30:70].all() and not talking(act)[100:].any()
    assert np.isnan(speaking_activity(np.full(10, np.nan), FPS)).all()


def test_owners_follow_original_turns_and_flag_overlap():
    rng = np.random.default_rng(2)
    n = 250
    a_on, b_on = np.zeros(n, bool), np.zeros(n, bool)
    a_on[10:100], b_on[110:200], a_on[200:240], b_on[200:240] = True, True, True, True
    act = np.array([speaking_activity(_talk(n, a_on, rng), FPS),
                    speaking_activity(_talk(n, b_on, rng), FPS)])
    # The dub speaks without a pause from 12 to 195 (the turn change is inside one stretch),
    # then both at once.
    speech = np.zeros(n, bool)
    speech[12:196], speech[205:235] = True, True
    own = owners_by_activity(speech, act, FPS)
    assert not own[:, ~speech].any()
    assert own[0, 12:95].all() and not own[1, 12:95].any()
    assert own[1, 115:196].all() and not own[0, 115:196].any()
    # One change of owner inside the stretch, none shorter than MIN_TURN_S.
    assert np.count_nonzero(np.diff(own[0, 12:196].astype(int))) == 1
    assert own[:, 205:235].all()            # overlap: both faces move


def test_untouched_only_where_silent_and_not_talking():
    speech = np.zeros(70, bool)
    speech[10:20] = True
    act = np.zeros(70)
    act[40:50] = 2 * TALKING
    u = untouched_frames(speech, act)
    assert not u[7:23].any() and not u[37:53].any()
    assert u[:6].all() and u[24:36].all() and u[54:].all()
    # Lips held apart while silent are closed, not kept; a kept stretch too short to fade
    # in and out is rendered too.
    resting = np.ones(70, bool)
    resting[0:3], resting[28:31] = False, False
    u = untouched_frames(speech, act, resting)
    assert not u[:7].any() and not u[23:37].any() and u[53:].all()


def test_merge_patches_places_each_face():
    a = Patch(x0=10, y0=5, rgb=np.full((4, 6, 3), 200.0, np.float32), alpha=np.ones((4, 6), np.float32))
    b = Patch(x0=40, y0=8, rgb=np.full((3, 3, 3), 50.0, np.float32),
              alpha=np.full((3, 3), 0.5, np.float32))
    m = merge_patches([(a, 400.0), (None, 1.0), (b, 100.0)])
    assert (m.x0, m.y0, m.alpha.shape) == (10, 5, (6, 33))
    assert m.alpha[0, 0] == 1 and np.allclose(m.rgb[0, 0], 0.5)
    assert m.alpha[3, 30] == 0.5 and np.allclose(m.rgb[3, 30], 0.5)
    assert m.alpha[5, 10] == 0      # between the faces: untouched
    assert merge_patches([(None, 1.0)]) is None
