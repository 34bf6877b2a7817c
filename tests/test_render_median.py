"""render.median.median_of gives np.median's value bit for bit."""
import numpy as np

from lipflap.render.median import median_of


def test_median_of_equals_np_median():
    rng = np.random.default_rng(3)
    for n in list(range(1, 40)) + [999, 1000, 40001, 40002]:
        for dtype in (np.float32, np.float64):
            v = (rng.standard_normal(n) * 37.0).astype(dtype)
            v[rng.integers(0, n, n // 3)] = v[0]            # ties
            want = float(np.median(v))
            assert median_of(v.copy()) == want


def test_median_of_integers_as_np_median():
    v = np.array([250, 254, 3, 255], np.uint8)
    assert median_of(v.copy()) == float(np.median(v)) == 252.0
