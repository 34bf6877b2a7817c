"""The library reads each exemplar's unsmoothed lip contours from the analysis' range points
(lipflap.pipeline.raw_lips.raw_lip_contours), in the render's lip order."""
import numpy as np

from lipflap.pipeline.raw_lips import raw_lip_contours
from lipflap.qc.shape import range_points
from lipflap.render import geometry as g


def test_raw_lip_contours_are_the_trackers_points_in_the_renders_order():
    rng = np.random.default_rng(4)
    face = rng.uniform(0, 500, (478, 3)).astype(np.float32)
    got = raw_lip_contours([range_points(face), None])
    assert got[1] is None
    want = face[list(g.LIPS_OUTER) + list(g.LIPS_INNER), :2]
    assert got[0].shape == (40, 2) and np.allclose(got[0], want)
    assert raw_lip_contours(None) is None
