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


@pytest.mark.parametrize("rotation", [90, 180, -90])
def test_a_rotated_clip_is_shown_upright_to_every_stage(tmp_path, rotation):
    """A phone's display rotation (media.orientation): image, size and region are the stored
    picture turned as a player shows it; `stored` is the picture as the file holds it."""
    clip = make_clip(tmp_path / "r.mp4", fps=25, frames=2, width=320, height=180, codec="h264",
                     pattern="gradient", rotation=rotation)
    k = rotation // 90
    rng = np.random.default_rng(1)
    for fr in read_frames(clip, 0, 1):
        fresh = lambda: Frame(fr.index, None, fr.time_s, fr.av_frame, fr._convert, fr.turn)  # noqa: E731
        stored = fresh().stored
        shown = np.rot90(stored, k)
        assert fr.turn == k % 4 and fresh().size == (shown.shape[1], shown.shape[0])
        assert np.array_equal(fresh().image, shown)
        sw, sh = fresh().size
        for _ in range(25):
            w, h = int(rng.integers(4, min(150, sw))), int(rng.integers(4, min(80, sh)))
            x0, y0 = int(rng.integers(0, sw - w)), int(rng.integers(0, sh - h))
            assert np.array_equal(fresh().region(x0, y0, w, h), shown[y0:y0 + h, x0:x0 + w])
        f = fresh()
        f.image = shown + 0          # a shown picture set is stored turned back
        assert np.array_equal(f.stored, stored)
