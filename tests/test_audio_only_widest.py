"""An audio-only frame next to a seal is drawn toward the widest opening within its 1/fps
(lipflap.mouth.build._WIDEST_SHARE), not the mean that takes in the dip toward the seal a frame
away; where the aperture is the read-out fit to real mouths (own_aperture 0) the mean stays."""
from __future__ import annotations


import numpy as np

from lipflap.mouth import build
from lipflap.speech.audio_only import MouthCurves

FPS = 30


def _curves(own: float) -> MouthCurves:
    t = np.arange(100) * 0.01
    # open at 0.6, a V-shaped dip to a seal at 0.5 s, 60 ms either side
    ap = np.clip(np.abs(t - 0.5) / 0.06, 0.0, 1.0) * 0.6
    closure = (np.abs(t - 0.5) < 0.012).astype(np.float32)
    ones = np.ones(len(t), np.float32)
    return MouthCurves(0.01, t, ap.astype(np.float32), 0.5 * ones, 0.1 * ones, ap.astype(np.float32),
                       closure, ones, None, own_aperture=own)


def _frames(own: float) -> np.ndarray:
    track = build.track_from_curves(_curves(own), FPS, n_frames=30)
    return np.array([f.aperture for f in track.frames]), [f.viseme for f in track.frames]


def test_the_frames_beside_a_seal_open_toward_their_widest():
    mine, vis = _frames(1.0)
    mean, _ = _frames(0.0)
    sealed = [i for i, v in enumerate(vis) if v == "PP"]
    assert sealed, vis
    beside = [sealed[0] - 1, sealed[-1] + 1]
    # the mean's dip reaches the frames either side; drawn toward the widest they open further
    assert all(mine[i] > mean[i] + 0.05 for i in beside), (mine[beside], mean[beside])
    # frames far from the seal are open alike either way, and the seal stays sealed
    np.testing.assert_allclose(mine[:10], mean[:10], atol=1e-6)
    assert all(mine[i] == 0.0 for i in sealed)


def test_the_read_outs_aperture_keeps_its_mean():
    curves = _curves(0.0)
    t = np.asarray(curves.times)
    times = build.frame_times(build.parse_rate(FPS), 30, 0.0)
    mean = build._resample(t, curves.aperture, times, 1.0 / FPS)
    params, closed, _ = build._frames_from_curves(curves, times, float(FPS))
    open_ = ~closed & (times > 0.1) & (times < 0.9)
    np.testing.assert_allclose(params[open_, 0], np.clip(mean[open_], 0, 1), atol=1e-6)
