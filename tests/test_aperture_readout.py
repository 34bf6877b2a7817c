"""The audio-only aperture read-out: design layout, ridge fit, dub range, the shipped file."""
from __future__ import annotations

import numpy as np
import pytest

from lipflap.speech import aperture_readout as ar
from lipflap.speech.audio_only import MouthCurves


def _curves(rng, t=400):
    v = {k: rng.random(t).astype(np.float32) for k in
         ("aperture", "width", "rounding", "jaw", "closure", "speech")}
    return MouthCurves(0.01, np.arange(t) * 0.01, **v)


def test_design_layout_and_lags():
    rng = np.random.default_rng(0)
    net, heard = _curves(rng), _curves(rng)
    x = ar.design(net, heard)
    n_ch = len(ar.CHANNELS)
    assert x.shape == (400, n_ch * len(ar.LAGS))
    k0 = ar.LAGS.index(0)
    # the unshifted block holds the channels in CHANNELS order
    np.testing.assert_allclose(x[:, k0 * n_ch + 0], net.aperture)
    np.testing.assert_allclose(x[:, k0 * n_ch + ar.CHANNELS.index(("heard", "speech"))], heard.speech)
    # a block shifted by +L hops reads the curve L frames later, held at the end
    k = ar.LAGS.index(20)
    np.testing.assert_allclose(x[:-20, k * n_ch], net.aperture[20:])
    assert np.all(x[-20:, k * n_ch] == net.aperture[-1])


def test_fit_recovers_a_linear_map_and_ignores_unmeasured_frames():
    rng = np.random.default_rng(1)
    xs, ys = [], []
    w = rng.standard_normal(len(ar.CHANNELS) * len(ar.LAGS))
    for _ in range(3):
        x = rng.standard_normal((500, len(w)))
        y = x @ w * 0.01 + 0.4
        y[::7] = np.nan          # frames where Face Mesh found no face
        xs.append(x)
        ys.append(y)
    r = ar.fit(xs, ys, alpha=1e-6, top=0.8)
    x = rng.standard_normal((200, len(w)))
    np.testing.assert_allclose(r.raw(x), x @ w * 0.01 + 0.4, atol=1e-3)
    # a strong penalty shrinks toward the mean of the targets
    flat = ar.fit(xs, ys, alpha=1e6, top=0.8)
    assert np.abs(flat.raw(x) - 0.4).max() < 0.01


def test_dub_range():
    raw = np.linspace(-3.0, 5.0, 1001)
    out = ar.to_dub_range(raw, 0.8)
    lo, hi = np.percentile(raw, ar.RANGE_PCT)
    assert out.dtype == np.float32 and out.min() == 0.0
    assert abs(out[np.searchsorted(raw, hi)] - 0.8) < 0.01
    assert np.all(out[raw <= lo] == 0.0)
    assert np.all(np.diff(out) >= 0)
    assert np.all(ar.to_dub_range(np.full(50, 2.0), 0.8) == 0.0)
    assert len(ar.to_dub_range(np.zeros(0), 0.8)) == 0


def test_shipped_file_round_trip(tmp_path):
    r = ar.load()
    n = len(ar.CHANNELS) * len(ar.LAGS)
    assert r.weights.shape == r.mean.shape == r.scale.shape == (n,)
    assert 0.5 <= r.top <= 1.0 and np.all(r.scale > 0)
    path = tmp_path / "r.npz"
    ar.save(r, path, {"test": True})
    again = ar.load(path)
    np.testing.assert_allclose(again.weights, r.weights, rtol=1e-6)
    # a file for another lag layout is refused, not misread
    with np.load(path) as z:
        d = dict(z)
    d["lags"] = np.array([0, 1], np.int32)
    np.savez(tmp_path / "bad.npz", **d)
    with pytest.raises(RuntimeError, match="lag layout"):
        ar.load(tmp_path / "bad.npz")


def test_held_out_real_speaker_follows_the_video(shared_media, shared_eval):
    """expr_sad, a real speaker the read-out was never fit on: the network is unsure of his
    voice, so the read-out makes the aperture, and it follows the mouth measured on the video
    (bench_audio_loo: r 0.64 at offset 0; the curves before the read-out: 0.41)."""
    import sys
    sys.path.insert(0, str(shared_eval))
    import lipeval

    from lipflap.mouth.build import mouth_track_for_audio
    from lipflap.speech import audio_only

    video = str(shared_media / "expr_sad.mp4")
    wav, sr = lipeval.load_audio(video, 16000)
    x16, times = audio_only.prepare(wav, sr)
    assert audio_only.network_certainty(audio_only.network_curves(x16, times)) < audio_only._SURE_LO
    lms, fps = lipeval.track(video)
    truth, _ = lipeval.aperture_series(lms)
    track = mouth_track_for_audio(wav, fps, rate=sr, n_frames=len(truth))
    r = lipeval.corr(truth, np.array([f.aperture for f in track.frames]))
    assert r > 0.45, r
