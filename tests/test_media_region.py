"""Converting only a box of a decoded frame gives the whole-frame conversion's pixels."""
import numpy as np
import pytest

from lipflap.media.decode import Frame, read_frames
from mediagen import make_clip


@pytest.mark.parametrize("codec,name", [("h264", "a.mp4"), ("prores", "b.mov")])
def test_region_equals_the_whole_frame_conversion(tmp_path, codec, name):
    clip = make_clip(tmp_path / name, fps=25, frames=3, width=320, height=180, codec=codec,
                     pattern="gradient")
    rng = np.random.default_rng(0)
    for fr in read_frames(clip, 0, 2):
        whole = Frame(fr.index, None, fr.time_s, fr.av_frame, fr._convert).image
        assert Frame(fr.index, None, fr.time_s, fr.av_frame, fr._convert).size == (320, 180)
        for _ in range(25):
            w, h = int(rng.integers(4, 150)), int(rng.integers(4, 80))
            x0, y0 = int(rng.integers(0, 320 - w)), int(rng.integers(0, 180 - h))
            part = Frame(fr.index, None, fr.time_s, fr.av_frame, fr._convert).region(x0, y0, w, h)
            assert part.dtype == whole.dtype and part.shape == (h, w, 3)
            assert np.array_equal(part, whole[y0:y0 + h, x0:x0 + w]), (x0, y0, w, h)
