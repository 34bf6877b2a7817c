"""run's quick QC takes its timing r on every re-tracked frame, each weighted for the frames it
stands for (issue 15: agree with `lipflap qc`'s r on every frame)."""
import numpy as np

from lipflap.qc import sync
from lipflap.qc.pixels import BETWEEN, JUDGED, PAUSE_CORE, frame_strata, sample_frames, timing_weights


def test_weighted_pearson_is_pearson_of_the_frames_repeated():
    rng = np.random.default_rng(3)
    a, b = rng.normal(size=30), rng.normal(size=30)
    b += 0.6 * a
    w = rng.integers(0, 4, size=30).astype(float)
    rep = np.repeat(np.arange(30), w.astype(int))
    assert abs(sync.pearson(a, b, w) - float(np.corrcoef(a[rep], b[rep])[0, 1])) < 1e-9
    assert abs(sync.pearson(a, b, np.ones(30)) - sync.pearson(a, b)) < 1e-12
    a[4] = np.nan
    assert sync.pearson(a, b, w) is not None        # a frame without a face is left out


def test_each_retracked_frame_stands_for_its_stratum():
    n = 20
    strata = np.zeros(n, np.int8)
    strata[[4, 5, 6, 12, 13]] = JUDGED
    strata[14:20] = PAUSE_CORE
    sampled = strata == JUDGED
    sampled[::4] = True                              # 0 4 8 12 16: 0 and 8 between, 16 pause
    sampled[17] = True
    w = timing_weights(strata, sampled)
    assert (w[strata == JUDGED] == 1.0).all()
    assert np.allclose(w[[0, 8]], 9 / 2)             # 9 frames between, 2 re-tracked
    assert np.allclose(w[[16, 17]], 6 / 2)           # 6 in the pause core, 2 re-tracked
    assert (w[~sampled] == 0).all()
    assert np.isclose(w.sum(), n)                    # the sample stands for every frame


def test_strata_follow_the_judged_moments():
    from lipflap.mouth.build import track_from_phones
    from lipflap.qc.expected import expected_from_track
    from lipflap.speech.types import Phone
    ph = [Phone("_", 0.0, 0.6), Phone("p", 0.6, 0.62), Phone("a", 0.62, 0.8),
          Phone("t", 0.8, 0.9), Phone("e", 0.9, 1.0), Phone("_", 1.0, 2.0)]
    ex = expected_from_track(track_from_phones(ph, 25, 50), 50)
    kind = frame_strata(ex, 50)
    sampled = np.zeros(50, bool)
    sampled[sample_frames(ex, 50)] = True
    assert sampled[kind == JUDGED].all()             # every judged frame is re-tracked
    assert (kind == PAUSE_CORE).any() and (kind == BETWEEN).any()
    assert np.isclose(timing_weights(kind, sampled).sum(), 50)
