"""Untouched pixels through a 4:2:0 -> 4:4:4 output: decoded the way the source decodes."""
import math

import av
import numpy as np
import pytest

from lipflap.media.encode import plain_transcode
from tests.mediagen import make_clip


def _psnr(a, b):
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return 99.0 if mse == 0 else 10 * math.log10(255 ** 2 / mse)


@pytest.mark.parametrize("tagged", [False, True])
@pytest.mark.parametrize("size", [(320, 180), (1280, 720)])
def test_prores_4444_from_420_decodes_like_the_source(tmp_path, tagged, size):
    src = make_clip(tmp_path / "src.mp4", frames=4, width=size[0], height=size[1], colour=tagged,
                    pattern="gradient")
    out = plain_transcode(src, str(tmp_path / "out.mov"), "prores_4444")
    s = [f for f in av.open(src).decode(video=0)]
    o = [f for f in av.open(out).decode(video=0)]
    assert len(o) == len(s)
    # Any reader that decodes both with its own defaults sees the same picture: the output keeps
    # the source's tags (untagged stays untagged) and its chroma is the source's as decoded.
    assert (o[0].colorspace == s[0].colorspace) or (not tagged and o[0].colorspace in (0, 2))
    worst = min(_psnr(a.to_ndarray(format="rgb24"), b.to_ndarray(format="rgb24")) for a, b in zip(s, o))
    assert worst >= 48.0, worst
