"""The codec's own loss as the writer codes (lipflap.media.roundtrip): a band of the frame's full
width over whole macroblock rows codes bit for bit as those rows do in the whole frame in
ProRes (prores_ks shares a row's budget among its slices), where the box alone, with no flat
background to borrow from, is coded coarser; lossless codecs give their pictures back."""
from __future__ import annotations

import numpy as np
import pytest

from lipflap.media.roundtrip import coded_and_decoded
from lipflap.qc.fidelity import sharpness_ratio


def _frame(w: int = 320, h: int = 192) -> np.ndarray:
    """Flat grey with a grainy, detailed block in the middle (a face's texture in a plain room)."""
    rng = np.random.default_rng(7)
    img = np.full((h, w, 3), 90, np.uint8)
    yy, xx = np.mgrid[0:80, 0:120]
    tex = 128 + 50 * np.sin(xx / 2.1) * np.cos(yy / 1.7) + rng.normal(0, 18, (80, 120))
    img[64:144, 100:220] = np.clip(tex, 0, 255).astype(np.uint8)[..., None]
    return img


def test_a_full_width_band_codes_as_the_whole_frame_and_the_box_alone_does_not():
    img = _frame()
    whole = coded_and_decoded([img], "prores_hq", None, (320, 192))[0]
    band = coded_and_decoded([img[48:160]], "prores_hq", None, (320, 192))[0]     # rows 48-159
    assert np.array_equal(band, whole[48:160])
    box = (slice(64, 144), slice(100, 220))
    alone = coded_and_decoded([img[box]], "prores_hq", None, (320, 192))[0]
    kept_band = sharpness_ratio(band[16:96, 100:220], img[box])
    kept_alone = sharpness_ratio(alone, img[box])
    # measured: the band keeps 0.999 of the box's sharpness, the box coded alone 0.903
    assert kept_alone < kept_band - 0.05


@pytest.mark.parametrize("codec", ["png", "exr"])
def test_lossless_codecs_give_their_pictures_back(codec):
    img = _frame()
    assert np.array_equal(coded_and_decoded([img], codec, None, (320, 192))[0], img)


def test_each_picture_comes_back_in_order_and_at_its_depth():
    img = _frame()
    deep = img.astype(np.uint16) * 257
    out = coded_and_decoded([deep, deep[:, ::-1].copy()], "prores_4444", None, (320, 192))
    assert [o.dtype for o in out] == [np.uint16, np.uint16]
    assert np.abs(out[0].astype(int) - deep).mean() < 300
    assert np.abs(out[1].astype(int) - deep[:, ::-1]).mean() < 300
