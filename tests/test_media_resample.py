"""lipflap.media.resample computes what scipy.signal.resample_poly computes, without importing it."""
import subprocess
import sys

import numpy as np
import pytest

from lipflap.media.resample import resample_poly


@pytest.mark.parametrize("up,down,n", [(320, 441, 22050 + 7), (160, 441, 44100), (1, 3, 48001),
                                       (3, 1, 1600), (2, 3, 10), (160, 441, 5), (1, 2, 1)])
def test_same_samples_as_scipy(up, down, n):
    signal = pytest.importorskip("scipy.signal")
    x = (np.random.default_rng(n).standard_normal(n) * 0.3).astype(np.float32)
    want = signal.resample_poly(x, up, down)
    got = resample_poly(x, up, down)
    assert got.dtype == np.float32 and got.shape == want.shape
    assert np.abs(got - want).max() < 1e-6


def test_channels_on_any_axis_and_identity():
    x = np.random.default_rng(1).standard_normal((2, 3000)).astype(np.float32)
    both = resample_poly(x, 160, 441, axis=1)
    assert both.shape == (2, 1089)
    assert np.array_equal(both[1], resample_poly(x[1], 160, 441))
    assert np.array_equal(resample_poly(x.T, 160, 441, axis=0), both.T)
    assert np.array_equal(resample_poly(x, 7, 7), x)
    with pytest.raises(ValueError):
        resample_poly(x, 0, 3)


def test_the_audio_only_path_never_imports_scipy():
    code = ("import sys; from lipflap.speech.audio import load_speech; "
            "from lipflap.speech import audio_only; from lipflap.mouth import build; "
            "from lipflap.commands import visemes; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in "
            "('scipy', 'torch', 'cv2', 'mediapipe')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
