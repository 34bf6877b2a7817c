"""The patch's detail and steadiness (issue 15 item 4): the fine band's gain, the frame's grain on
the lips, and the previous frame's lips blended motion-compensated and only where they agree."""
from __future__ import annotations

from types import SimpleNamespace

import cv2
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


def _mouth_model(cx=60.0, cy=50.0, shift=(0.0, 0.0)):
    """A grid with a 40-point mouth (outer then inner contour, ellipses) in the middle: region is
    every point, lips the mouth's, tris a Delaunay mesh of them all."""
    ys, xs = np.mgrid[-10:111:15, -10:131:15]
    grid = np.stack([xs.ravel(), ys.ravel()], 1).astype(np.float64)
    t = np.linspace(0, 2 * np.pi, 20, endpoint=False)
    outer = np.stack([cx + 38 * np.cos(t), cy + 22 * np.sin(t)], 1)
    inner = np.stack([cx + 30 * np.cos(t), cy + 14 * np.sin(t)], 1)
    far = np.abs(grid - [cx, cy]) > [44, 28]
    pts = np.vstack([grid[far.any(1)], outer, inner])
    n = len(pts)
    model = SimpleNamespace(region=np.arange(n), lips=np.arange(n - 40, n), tris=_delaunay(pts))
    return pts + np.asarray(shift), model


def _mouth_image(pts, model, inside, h=100, w=120, lip=140.0):
    img = np.full((h, w, 3), lip, np.float32)
    m = synth._poly((h, w), pts[model.lips[20:]], 0, 0) > 0
    img[m] = inside
    return img, m


def _lip_mask(pts, model, h=100, w=120):
    """The mouth (outer lip contour, opening included), as the synthesis's soft lip mask is."""
    return synth._poly((h, w), pts[model.lips[:20]], 0, 0).astype(np.float32)


def test_the_mouths_inside_takes_the_previous_frames_low_band_and_keeps_its_own_fine_band():
    pts, model = _mouth_model()
    teeth, m = _mouth_image(pts, model, 230.0)
    prev = synth.Patch(0, 0, teeth, np.ones(m.shape, np.float32), None, pts)
    dark, _ = _mouth_image(pts, model, 30.0)
    rng = np.random.default_rng(1)
    dark[m] += rng.normal(0, 6.0, (int(m.sum()), 1)).astype(np.float32)   # its own fine texture
    out = dark.copy()
    synth._steady_bands(out, 0, 0, pts, prev, model, _lip_mask(pts, model), 76.0, inside=True)
    core = np.zeros(m.shape, np.uint8)
    core[m] = 1
    core = cv2.erode(core, np.ones((9, 9), np.uint8)) > 0
    lift = (out - dark)[core].mean()
    share = synth.INTERIOR_SHARE
    assert share * 200 * 0.8 < lift <= share * 200 + 1.0, lift  # the black hole takes the teeth's light
    still = dark.copy()
    synth._steady_bands(still, 0, 0, pts, prev, model, _lip_mask(pts, model), 76.0, inside=False)
    assert np.abs(still - dark).max() < 1e-3, "not across a seal: the lips' mask covers the mouth"
    # away from the opening's edge by the low band's reach, the fine band is this frame's
    deep = cv2.erode(core.astype(np.uint8), np.ones((11, 11), np.uint8)) > 0
    assert deep.sum() > 100
    fine = lambda img: img - cv2.GaussianBlur(img, (0, 0), synth.STEADY_BAND)
    assert np.abs(fine(out)[deep] - fine(dark)[deep]).mean() < 0.5, "its own fine band stays"
    lips = cv2.dilate(m.astype(np.uint8), np.ones((11, 11), np.uint8)) == 0
    assert np.abs(out - dark)[lips].max() < 1e-3, "the lips and skin are not touched"


def test_the_previous_inside_follows_the_mouth_and_stays_out_of_the_lips():
    now, model = _mouth_model()
    before, _ = _mouth_model(shift=(0.0, -8.0))                 # the mouth was 8 px higher
    teeth, was = _mouth_image(before, model, 230.0)
    prev = synth.Patch(0, 0, teeth, np.ones(was.shape, np.float32), None, before)
    dark, m = _mouth_image(now, model, 30.0)
    out = dark.copy()
    synth._steady_bands(out, 0, 0, now, prev, model, _lip_mask(now, model), 76.0, inside=True)
    core = cv2.erode(m.astype(np.uint8), np.ones((9, 9), np.uint8)) > 0
    assert (out - dark)[core].mean() > 0.7 * synth.INTERIOR_SHARE * 200, \
        "the inside the previous frame had, where it is now"
    upper_lip = was & ~cv2.dilate(m.astype(np.uint8), np.ones((7, 7), np.uint8)).astype(bool)
    assert upper_lip.sum() > 50
    assert np.abs(out - dark)[upper_lip].max() < 1e-3, "where the old opening was, the lip stays"


def test_the_skin_takes_the_previous_frames_wrinkles_but_not_its_light_grain_or_lips():
    pts, model = _mouth_model()
    h, w = 100, 120
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    fold = 40.0 * np.exp(-((xx - 20) ** 2 + (yy - 85) ** 2) / (2 * 4.0 ** 2))   # a dimple, 4 px
    rng = np.random.default_rng(4)
    cur = np.full((h, w, 3), 150.0, np.float32) + rng.normal(0, 3.0, (h, w, 1)).astype(np.float32)
    before = np.full((h, w, 3), 170.0, np.float32) - fold[..., None]   # brighter, with the dimple
    lips = np.zeros((h, w), np.float32)
    lips[25:75, 20:100] = 1.0
    prev = synth.Patch(0, 0, before, np.ones((h, w), np.float32), None, pts)
    out = cur.copy()
    synth._steady_bands(out, 0, 0, pts, prev, model, lips, 80.0, inside=False)
    d = (out - cur)[..., 0]
    assert d[85, 20] < -synth.SKIN_SHARE * 40 * 0.5, "the dimple comes over"
    assert abs(float(d[10:20, 60:110].mean())) < 1.0, "the previous frame's light does not"
    assert np.abs(d[29:71, 24:96]).max() < 1e-3, "the lips are left alone"
    fine = lambda a: a - cv2.GaussianBlur(a, (0, 0), 1.0)
    assert np.abs(fine(out) - fine(cur))[5:20, 40:110].mean() < 0.3, "this frame's grain stays"


def test_the_skin_follows_the_face_from_the_previous_frame():
    now, model = _mouth_model()
    before, _ = _mouth_model(shift=(6.0, 0.0))       # the face was 6 px to the right
    h, w = 100, 120
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    fold = 40.0 * np.exp(-((xx - 26) ** 2 + (yy - 85) ** 2) / (2 * 4.0 ** 2))
    prev = synth.Patch(0, 0, 150.0 - np.repeat(fold[..., None], 3, 2), np.ones((h, w), np.float32),
                       None, before)
    cur = np.full((h, w, 3), 150.0, np.float32)
    out = cur.copy()
    synth._steady_bands(out, 0, 0, now, prev, model, np.zeros((h, w), np.float32), 80.0,
                        inside=False)
    d = (out - cur)[..., 0]
    assert int(np.argmin(d[85, 5:50])) + 5 in (19, 20, 21), "the dimple where that skin is now"
