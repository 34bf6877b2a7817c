"""The inside of a parted mouth from the shot's most open mouth: all of it where the opening is tall
enough, only its top where it is a slit (hard turn f181-183: the widest mouth's two rows of teeth
squeezed into a 0.025-0.048 eye-distance opening showed as a striped seam)."""
import numpy as np
import pytest

from lipflap.render import geometry as g
from lipflap.render.model import fit_model
from lipflap.render.synth import INTERIOR_SQUEEZE_MIN, Exemplar, Look, _inner_gap, _mouth_interior
from test_render_seal import parted as _parted     # the lower lip and jaw px lower

SIZE = 320
LIP_GREY = 128


@pytest.fixture(scope="module")
def astro(astro_face):
    return astro_face


def _points(model, lm):
    return np.vstack([lm[model.region], model.ring_points(model.pose(lm))])


def _picture(model, pts, teeth: bool):
    """Lip-grey picture; inside the inner lips a cavity, with two rows of white teeth when asked."""
    import cv2
    pos = {int(k): i for i, k in enumerate(model.region)}
    img = np.full((SIZE, SIZE, 3), LIP_GREY, np.uint8)
    inner = np.array([pts[pos[k]] for k in g.LIPS_INNER], np.float32)
    m = np.zeros((SIZE, SIZE), np.uint8)
    cv2.fillPoly(m, [np.round(inner).astype(np.int32)], 1)
    img[m > 0] = 20
    if teeth:
        ys = np.nonzero(m.any(1))[0]
        top, bot = ys.min(), ys.max()
        rows = np.zeros(SIZE, bool)
        rows[top:top + (bot - top) // 3] = True
        rows[bot - (bot - top) // 3:bot + 1] = True
        img[(m > 0) & rows[:, None]] = 240
    return img


def _opening(astro, target_px):
    """The interior drawn into a target parted by `target_px` from a sealed exemplar, with the
    shot's most open mouth (24 px, teeth) at hand. Returns the bright (teeth) share of the opening's top and bottom thirds and its height over the
    widest mouth's."""
    import cv2
    model = fit_model([astro, astro + 0.5, astro - 0.5])
    n = len(model.region)
    sealed = _points(model, _parted(astro, 0.2))
    widest = _points(model, _parted(astro, 24.0))
    ex = Exemplar(0, _picture(model, sealed, False), 0, 0, sealed, _inner_gap(sealed[:n], model))
    op = Exemplar(1, _picture(model, widest, True), 0, 0, widest, _inner_gap(widest[:n], model))
    look = Look(peak=255.0, cavity=np.array([20.0, 20.0, 20.0], np.float32),
                tongue=np.array([60.0, 30.0, 30.0], np.float32), open_ex=op)
    target = _points(model, _parted(astro, target_px))
    reg_t = target[:n]
    lips_t = reg_t[model.lips]
    out = np.full((SIZE, SIZE, 3), float(LIP_GREY), np.float32)
    size = float(np.linalg.norm(lips_t[0] - lips_t[10]))
    got = _mouth_interior(out, target, reg_t, lips_t, ex, model, look, 0, 0, SIZE, SIZE, size)
    m = np.zeros((SIZE, SIZE), np.uint8)
    cv2.fillPoly(m, [np.round(lips_t[20:]).astype(np.int32)], 1)
    m = m > 0
    ys = np.nonzero(m.any(1))[0]
    third = (ys.max() - ys.min()) / 3
    rows = np.arange(SIZE)[:, None] * np.ones((1, SIZE))
    bright = got.mean(2) > 180
    upper, lower = m & (rows < ys.min() + third), m & (rows > ys.max() - third)
    return bright[upper].mean(), bright[lower].mean(), _inner_gap(reg_t, model) / op.gap


def test_a_slit_shows_the_top_of_the_widest_mouths_inside_not_both_rows_squeezed(astro):
    upper, lower, share = _opening(astro, 6.0)
    assert share < INTERIOR_SQUEEZE_MIN
    assert upper > 0.3, upper             # the upper teeth's edge under the upper lip
    # no lower row squeezed in under it (no stripes): 0.15 here, 0.78 with the whole inside
    # squeezed in (before INTERIOR_SQUEEZE_MIN)
    assert lower < 0.3, lower


def test_a_tall_opening_takes_the_widest_mouths_whole_inside(astro):
    upper, lower, share = _opening(astro, 16.0)
    assert share >= INTERIOR_SQUEEZE_MIN
    assert upper > 0.3 and lower > 0.3, (upper, lower)        # both rows of teeth, warped in
