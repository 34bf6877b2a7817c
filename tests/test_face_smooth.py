"""Landmark smoothing on synthetic trajectories with known truth (no MediaPipe needed)."""
import numpy as np

from lipflap.face import geometry as G
from lipflap.face import landmarks as L
from lipflap.face.smooth import runs, smooth_run

FPS = 25.0


def _template(rng):
    """A 478-point 'face' with the outer eye corners 100 px apart and a closed mouth."""
    pts = rng.uniform([0, 0], [200, 240], size=(L.N_LANDMARKS, 2))
    pts[L.EYE_OUTER_CORNERS[0]] = (50, 80)
    pts[L.EYE_OUTER_CORNERS[1]] = (150, 80)
    for k, (a, b) in enumerate(L.INNER_LIP_PAIRS):
        pts[a] = (85 + 15 * k, 170)
        pts[b] = (85 + 15 * k, 170)
    return pts


def _fast_move_truth(rng, n=60):
    base = _template(rng)
    x = np.zeros(n)
    x[30:36] = np.linspace(20, 120, 6)   # 20 px (0.2 eye distances) per frame
    x[36:] = 120
    truth = np.repeat(base[None], n, axis=0)
    truth[:, :, 0] += x[:, None]
    return truth, x


def _lag(signal, truth_x, lo, hi):
    """Shift (frames, +: signal late) that best aligns signal to truth over frames lo..hi."""
    t = np.arange(len(truth_x), dtype=float)
    best, best_err = 0.0, np.inf
    for s in np.arange(-3, 3.01, 0.05):
        shifted = np.interp(t[lo:hi] + s, t, signal)
        err = np.mean((shifted - truth_x[lo:hi]) ** 2)
        if err < best_err:
            best, best_err = s, err
    return best


def test_smoothing_halves_jitter_on_still_head_without_lag_on_fast_move():
    rng = np.random.default_rng(1)
    truth, x = _fast_move_truth(rng)
    raw = truth + rng.normal(0, 0.8, truth.shape)
    sm = smooth_run(raw, FPS)
    still = np.r_[3:27, 40:57]
    rig = L.RIGID
    raw_err = np.sqrt(np.mean((raw[still][:, rig] - truth[still][:, rig]) ** 2))
    sm_err = np.sqrt(np.mean((sm[still][:, rig] - truth[still][:, rig]) ** 2))
    assert sm_err <= 0.5 * raw_err, (sm_err, raw_err)
    # Same for every point, mouth included.
    assert np.sqrt(np.mean((sm[still] - truth[still]) ** 2)) <= 0.6 * raw_err
    # Lag of the head's (rigid points') x position on the fast move.
    cx_sm = sm[:, rig, 0].mean(axis=1) - truth[0, rig, 0].mean()
    lag = _lag(cx_sm, x, 28, 39)
    assert abs(lag) <= 1.0, lag
    # And no large overshoot or trailing error during the move.
    assert np.max(np.abs(cx_sm - x)) < 0.6 * 20


def test_fast_lip_closure_survives_smoothing():
    rng = np.random.default_rng(2)
    n = 40
    base = _template(rng)
    truth = np.repeat(base[None], n, axis=0)
    opening = np.full(n, 30.0)             # 0.3 eye distances: an open vowel
    opening[20:22] = 0.0                   # a bilabial closure two frames long
    for a, b in L.INNER_LIP_PAIRS:
        truth[:, b, 1] += opening
    # The lower lip and chin move together with the inner lip.
    for i in L.LOWER_OUTER_LIP + L.CHIN_CONTOUR:
        if i not in L.MOUTH_CORNERS:
            truth[:, i, 1] += opening
    raw = truth + rng.normal(0, 0.5, truth.shape)
    sm = smooth_run(raw, FPS)
    ap_truth = G.mouth_apertures(truth)
    ap_sm = G.mouth_apertures(sm)
    assert ap_truth[20] < 0.01 and ap_truth[10] > 0.25
    # The closure still reads as closed (yardstick: below 20% of the range) ...
    assert ap_sm[20:22].min() < 0.2 * ap_truth[10], ap_sm[17:25]
    # ... and the open mouth stays open right around it.
    assert ap_sm[17] > 0.8 * ap_truth[17] and ap_sm[24] > 0.8 * ap_truth[24]


def test_smoothing_keeps_a_still_face_still_and_short_runs_intact():
    rng = np.random.default_rng(3)
    base = _template(rng)
    still = np.repeat(base[None], 10, axis=0)
    np.testing.assert_allclose(smooth_run(still, FPS), still, atol=1e-3)
    one = base[None]
    np.testing.assert_allclose(smooth_run(one, FPS), one, atol=1e-4)


def test_runs_split_at_gaps_and_breaks():
    present = np.array([1, 1, 0, 1, 1, 1, 0, 0, 1], bool)
    assert runs(present) == [(0, 2), (3, 6), (8, 9)]
    assert runs(present, breaks={4}) == [(0, 2), (3, 4), (4, 6), (8, 9)]
