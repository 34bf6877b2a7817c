"""The patch's detail and steadiness (issue 15 item 4): the fine band's gain, the frame's grain on
the lips, and the previous frame's lips blended motion-compensated and only where they agree."""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from lipflap.render import synth
from lipflap.render.model import _delaunay


def test_detail_gain_gives_the_wanted_laplacian_variance():
    rng = np.random.default_rng(3)
    low = rng.normal(0, 2.0, 5000)
    d = 0.5 * low + rng.normal(0, 3.0, 5000)        # correlated with the band below it
    for want in (20.0, 40.0, 90.0):
        k = synth._detail_gain(low, d, want, (0.1, 10.0))
        assert abs(float((low + k * d).var()) - want) < 1e-3 * want
    assert synth._detail_gain(low, d, 1e6, (0.75, 2.0)) == 2.0      # bounded


def _grid(w=80, h=80, step=10):
    ys, xs = np.mgrid[-step:h + 2 * step:step, -step:w + 2 * step:step]
    pts = np.stack([xs.ravel(), ys.ravel()], 1).astype(np.float64)
    return pts, SimpleNamespace(tris=_delaunay(pts))


def _prev(rgb, pts):
    h, w = rgb.shape[:2]
    return synth.Patch(0, 0, rgb.astype(np.float32), np.ones((h, w), np.float32),
                       np.ones((h, w), np.float32), pts)


def _band(rows, h=80, w=80, base=150.0, dark=60.0):
    img = np.full((h, w, 3), base, np.float32)
    img[rows[0]:rows[1]] = dark
    return img


def test_previous_lips_follow_the_mouth_and_leave_no_second_contour():
    pts, model = _grid()
    prev = _prev(_band((30, 35)), pts)
    cur = _band((36, 41))                             # the lip edge moved 6 px down
    target = pts + [0.0, 6.0]
    out = cur.copy()
    synth._blend_previous(out, 0, 0, np.ones((80, 80), np.float32), prev, 0.4, target, model,
                          255.0, 100.0)
    assert np.abs(out[30:35, 10:70] - 150.0).max() < 1.0, "no copy of the old edge"
    assert np.abs(out[36:41, 10:70] - 60.0).max() < 1.0
    # Blended in place (the old way), the old edge would show at 40% strength.
    assert np.abs((0.6 * cur + 0.4 * prev.rgb)[30:35, 10:70] - 150.0).min() > 30


def test_previous_lips_blend_where_they_agree_and_not_where_they_differ():
    pts, model = _grid()
    cur = _band((36, 41))
    near = _prev(cur + 5.0, pts)                      # the same mouth, a little lighter
    out = cur.copy()
    synth._blend_previous(out, 0, 0, np.ones((80, 80), np.float32), near, 0.4, pts, model,
                          255.0, 100.0)
    moved = out[20:60, 20:60] - cur[20:60, 20:60]
    assert moved.min() > 0.25 * 5.0 and moved.max() <= 0.4 * 5.0 + 1e-3, (moved.min(), moved.max())
    teeth = cur.copy()
    teeth[36:41] = 235.0                              # teeth where this frame has a lip edge
    out = cur.copy()
    synth._blend_previous(out, 0, 0, np.ones((80, 80), np.float32), _prev(teeth, pts), 0.4, pts,
                          model, 255.0, 100.0)
    assert np.abs(out[36:41, 20:60] - 60.0).max() < 3.0, "the lip is not tinted by the teeth"


def test_the_frames_grain_reaches_the_lips_but_its_edges_do_not():
    rng = np.random.default_rng(5)
    h = w = 96
    src = np.full((h, w, 3), 128.0, np.float32) + rng.normal(0, 3.0, (h, w, 1)).astype(np.float32)
    src[60:, 40:56] += 80.0                           # the frame's own strong edge (its teeth)
    out = np.full((h, w, 3), 128.0, np.float32)       # the exemplar: no grain of this frame
    lipmask = np.zeros((h, w), np.float32)
    lipmask[24:80, 16:80] = 1.0
    skin = 1.0 - lipmask
    model = SimpleNamespace(tris=np.array([[0, 1, 2]]))
    tri_id = np.zeros((h, w), np.int32)
    moved = np.full(3, 50.0)                          # the geometry moved everywhere
    synth._carry_grain(out, src, moved, model, tri_id, skin, lipmask, 100.0)
    lips = (slice(32, 56), slice(24, 72))
    grain = out[lips][..., 0] - 128.0
    noise = src[lips][..., 0] - 128.0
    assert grain.std() > 1.0
    assert np.corrcoef(grain.ravel(), noise.ravel())[0, 1] > 0.5
    assert np.abs(out[56:80, 30:66] - 128.0).max() < 15.0, "the frame's edge is not carried"
