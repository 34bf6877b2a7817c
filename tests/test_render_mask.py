"""The blend mask follows the face's own contours (issue 15 item 2): on a turned head it stays
inside the face, leaves the far cheek and the background alone, and covers the lips fully."""
import cv2
import numpy as np
import pytest

from lipflap.render import mask
from lipflap.render.synth import _blur

SIZE = 320


@pytest.fixture(scope="module")
def astro3d():
    """Face Mesh's 3-D landmarks of the astronaut photo (pixels, z in x's scale)."""
    import mediapipe as mp
    import skimage.data
    img = np.ascontiguousarray(skimage.data.astronaut()[:320, 64:384])
    with mp.solutions.face_mesh.FaceMesh(static_image_mode=True, refine_landmarks=True) as fm:
        res = fm.process(img)
    p = res.multi_face_landmarks[0].landmark
    return np.array([[q.x * SIZE, q.y * SIZE, q.z * SIZE] for q in p])


def _turned(lm3: np.ndarray, yaw_deg: float) -> np.ndarray:
    """The face turned about its own vertical axis by `yaw_deg`, seen orthographically."""
    c = lm3[:468].mean(0)
    a = np.radians(yaw_deg)
    rot = np.array([[np.cos(a), 0, np.sin(a)], [0, 1, 0], [-np.sin(a), 0, np.cos(a)]])
    return ((lm3 - c) @ rot.T + c)[:, :2]


def _alpha(lm: np.ndarray, wanted: np.ndarray | None = None):
    region = np.arange(468)
    own = lm[:468]
    wanted = own if wanted is None else wanted[:468]
    size = float(np.linalg.norm(lm[61] - lm[291]))
    lips = [61, 146, 91, 181, 84, 17, 314, 405, 321, 375, 291, 409, 270, 269, 267, 0, 37, 39, 40, 185]
    cov = np.ones((SIZE, SIZE), np.float32)
    alpha, lipmask, skin = mask.blend_masks(region, wanted, own, cov, wanted[lips], own[lips],
                                            0, 0, SIZE, SIZE, size, _blur)
    return alpha, lipmask, skin, size


def _poly(pts) -> np.ndarray:
    m = np.zeros((SIZE, SIZE), np.uint8)
    cv2.fillPoly(m, [np.round(pts).astype(np.int32)], 1)
    return m.astype(bool)


def _distance_outside(inside: np.ndarray) -> np.ndarray:
    """Per pixel, its distance (pixels) from the `inside` set (0 inside)."""
    return cv2.distanceTransform((~inside).astype(np.uint8), cv2.DIST_L2, 5)


@pytest.mark.parametrize("yaw", [0.0, 20.0, -20.0])
def test_mask_stays_inside_the_face_and_covers_the_lips(astro3d, yaw):
    lm = _turned(astro3d, yaw)
    alpha, lipmask, skin, size = _alpha(lm)
    oval = [10, 338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288, 397, 365, 379, 378, 400,
            377, 152, 148, 176, 149, 150, 136, 172, 58, 132, 93, 234, 127, 162, 21, 54, 103, 67, 109]
    face = _poly(lm[oval])
    far = _distance_outside(face)
    # Nothing past the face's silhouette but the chin's shadow and the fade under the jaw line.
    reach = (mask.CHIN_MARGIN + 1) * mask.FADE * size
    assert alpha[far > reach].max() < 0.01
    # and beside the chin (the cheeks, the far side of a turned head) nothing to speak of
    beside = np.arange(SIZE)[:, None] < lm[[149, 378], 1].min()
    assert alpha[(far > 0) & beside].sum() < 0.01 * alpha.sum()
    # The lips and the opening are fully the patch's.
    lips = _poly(lm[[61, 146, 91, 181, 84, 17, 314, 405, 321, 375, 291, 409, 270, 269, 267, 0, 37,
                     39, 40, 185]])
    assert alpha[lips].min() > 0.97
    # The eyes are never touched, the nose tip at most by the fade's last percent.
    for k, most in ((33, 0.0), (263, 0.0), (1, 0.05)):
        x, y = np.round(lm[k]).astype(int)
        assert alpha[y, x] <= most
    # Skin where light is compared is inside the muzzle, not on the lips.
    assert not (skin > 0)[lipmask > 0].any()


def test_far_cheek_on_a_turned_head_keeps_its_pixels(astro3d):
    """Turned 15 degrees, the cheek beyond the far fold (between the fold and the silhouette,
    at the mouth's height) is left as the frame has it: no seam can cross it. (At 20 degrees
    this synthetic turn leaves only 0.05 mouth widths of far cheek beyond the fold.)"""
    for yaw, (fold, side) in ((15.0, (212, 58)), (-15.0, (432, 288))):
        lm = _turned(astro3d, yaw)
        alpha, _, _, _ = _alpha(lm)
        # the far side is where the face's half looks narrower
        mid = (lm[61] + lm[291]) / 2
        left, right = np.linalg.norm(lm[234] - mid), np.linalg.norm(lm[454] - mid)
        assert (left < right) == (yaw > 0)
        # a point two thirds of the way from the fold out to the jaw's side
        p = lm[fold] + 0.67 * (lm[side] - lm[fold])
        x, y = np.round(p).astype(int)
        assert alpha[y, x] < 0.05


def test_a_dropped_chin_is_covered_with_its_edge(astro3d):
    """Wanted points with the chin lower than the frame's own: the mask reaches the new jaw
    line (alpha high on it), so the jaw is drawn whole, not faded into the neck."""
    lm = _turned(astro3d, 10.0)
    wanted = lm.copy()
    drop = 0.08 * np.linalg.norm(lm[61] - lm[291])
    below = lm[:, 1] > lm[14, 1]
    wanted[below, 1] += drop * (lm[below, 1] - lm[14, 1]) / (lm[152, 1] - lm[14, 1])
    alpha, _, _, _ = _alpha(lm, wanted)
    x, y = np.round(wanted[152] - [0, 1]).astype(int)
    assert alpha[y, x] > 0.7


def test_the_shadow_under_a_dropped_chin_is_the_patchs(astro3d):
    """The chin's own shadow lies under the chin point (its darkest rows 0.02-0.07 mouth widths
    under it): where the wanted chin is lower than the frame's, the patch keeps that whole, so the
    exemplar's darkest row never meets the frame's lit neck (expr_disgusted f31, f98: a hard
    dark line under the chin when the alpha fell to nothing 0.05 mouth widths under it)."""
    lm = _turned(astro3d, 0.0)
    size = float(np.linalg.norm(lm[61] - lm[291]))
    wanted = lm.copy()
    below = lm[:, 1] > lm[14, 1]
    wanted[below, 1] += 0.15 * size * (lm[below, 1] - lm[14, 1]) / (lm[152, 1] - lm[14, 1])
    alpha, _, _, _ = _alpha(lm, wanted)
    x, y = np.round(wanted[152] + [0, 0.07 * size]).astype(int)
    assert alpha[y, x] > 0.9


def test_the_renderers_region_holds_every_outline_point():
    """The outline and silhouette points lie in the lower face the mouth model keeps."""
    import skimage.data
    import mediapipe as mp
    from lipflap.render.model import fit_model
    img = np.ascontiguousarray(skimage.data.astronaut()[:320, 64:384])
    with mp.solutions.face_mesh.FaceMesh(static_image_mode=True, refine_landmarks=True) as fm:
        p = fm.process(img).multi_face_landmarks[0].landmark
    lm = np.array([[q.x * SIZE, q.y * SIZE] for q in p])
    model = fit_model([lm, lm + 0.5, lm - 0.5])
    assert len(mask.outline_positions(model.region)) == len(mask.OUTLINE)
    assert len(mask.silhouette_positions(model.region)[0]) == len(mask.SILHOUETTE)


def test_an_exemplar_is_turned_to_the_frames_pose(astro3d):
    """A shot that turns -20..+20 degrees: an exemplar from the frontal frame, placed in the
    +18 degree frame through the pose the shot's own frames show, lands on that frame's lips
    (the mouth sits further toward the turn and foreshortens); placed by the 2-D similarity
    alone it is off by several times more."""
    from lipflap.render import geometry as g
    from lipflap.render.model import fit_model
    lms = [_turned(astro3d, a) for a in np.linspace(-20, 20, 11)]
    model = fit_model(lms)
    ex, tgt = _turned(astro3d, 0.0), _turned(astro3d, 18.0)
    pe, pt = model.pose(ex), model.pose(tgt)
    te, tt = g.head_turn(ex, pe), g.head_turn(tgt, pt)
    shape = g.apply(pe, ex[model.region])
    gap = g.aperture(tgt)
    lips = model.region[model.lips]
    pos = {int(k): i for i, k in enumerate(model.region)}
    rows = [pos[int(k)] for k in lips]
    plain = model.place(tgt, pt, shape, gap)[rows]
    turned = model.place(tgt, pt, shape - model.pose_shift(te), gap, turn=tt)[rows]
    err_plain = float(np.abs(plain - tgt[lips]).mean())
    err_turned = float(np.abs(turned - tgt[lips]).mean())
    iod = g.interocular(tgt)
    assert err_turned < 0.01 * iod
    assert err_turned < 0.5 * err_plain


def test_a_shot_that_does_not_turn_learns_no_turn(astro3d):
    """Frames that only move and tilt in the picture (no yaw, no nod): whatever turn an output
    frame is given, its shape moves by under a thousandth of the eye distance."""
    from lipflap.render.model import fit_model
    lm = astro3d[:, :2]
    lms = []
    for k in range(8):
        m = cv2.getRotationMatrix2D((160, 150), 2.0 * k - 7, 1.0 + 0.02 * k)
        lms.append(lm @ m[:, :2].T + m[:, 2] + np.random.default_rng(k).normal(0, 0.2, lm.shape))
    model = fit_model(lms)
    for turn in ([0.3, 0.4], [-0.3, 0.5], [0.0, 0.45]):
        assert np.abs(model.pose_shift(np.array(turn))).max() < 1e-3


def test_an_upper_lip_raised_to_the_nose_is_not_faded(astro3d):
    """Bared teeth raise the upper lip up to the nose (expr_disgusted): the whole lip stays
    inside the patch, not half faded across its edge."""
    lm = _turned(astro3d, 5.0)
    up = [0, 37, 39, 40, 185, 267, 269, 270, 409]
    lm[up, 1] -= 0.8 * (lm[up, 1] - lm[164, 1])
    alpha, _, _, _ = _alpha(lm)
    lips = _poly(lm[[61, 146, 91, 181, 84, 17, 314, 405, 321, 375, 291, 409, 270, 269, 267, 0, 37,
                     39, 40, 185]])
    assert alpha[lips].min() > 0.97


@pytest.mark.parametrize("yaw,drop", [(0.0, 0.0), (20.0, 0.0), (-20.0, 0.0), (0.0, 0.08)])
def test_alpha_is_zero_outside_the_muzzles_extent(astro3d, yaw, drop):
    """The synthesis works in a box cut to muzzle_extent (lipflap.render.synth._work_box): no
    pixel of the alpha may lie outside it, turned head or dropped chin (wanted below own)."""
    lm = _turned(astro3d, yaw)
    wanted = lm.copy()
    size = float(np.linalg.norm(lm[61] - lm[291]))
    lower = wanted[:, 1] > lm[13, 1]
    wanted[lower, 1] += drop * 4 * size
    alpha, _, _, _ = _alpha(lm, wanted)
    x0, y0, x1, y1 = mask.muzzle_extent(np.arange(468), wanted[:468], lm[:468], size)
    ys, xs = np.nonzero(alpha > 0)
    assert len(ys)
    assert xs.min() >= x0 and xs.max() < x1 and ys.min() >= y0 and ys.max() < y1
    # and the box is not the whole face: the cheeks beyond the folds are left out
    assert (x1 - x0) < 0.95 * (lm[:468, 0].max() - lm[:468, 0].min()) + 2 * 0.18 * size


def pushed_out(pts, which, margin):
    """One polygon `pts` with its points `which` pushed out by `margin` through mask._push (the
    form the muzzle had before its three polygons went through _push at once)."""
    out = np.array(pts, np.float64)
    k = np.asarray(which, np.intp)
    if not len(k):
        return out
    n = len(out)
    push = np.zeros(n)
    push[k] = margin
    idx = np.arange(n)
    return mask._push(out, (idx + 1) % n, idx - 1, np.zeros(n, np.intp), np.zeros(1, np.intp), push)


def _pushed_out_loop(pts, which, margin):
    """The point-by-point form the push had (the reference for its vectorised one)."""
    out = pts.copy()
    centre = pts.mean(0)
    for j, k in enumerate(which):
        a, b = pts[k - 1], pts[(k + 1) % len(pts)]
        t = b - a
        nrm = np.array([t[1], -t[0]]) / max(float(np.linalg.norm(t)), 1e-6)
        if (pts[k] - centre) @ nrm < 0:
            nrm = -nrm
        out[k] = pts[k] + margin[j] * nrm
    return out


def test_pushed_out_moves_every_point_as_the_point_by_point_form(astro3d):
    rng = np.random.default_rng(3)
    lm = astro3d[:, :2]
    region = np.arange(468)
    order = mask.outline_positions(region)
    for trial in range(20):
        pts = lm[order] + rng.normal(0, 2.0, (len(order), 2))
        which = range(3, 3 + rng.integers(1, len(order) - 3)) if trial % 2 else range(len(order))
        margin = rng.uniform(-5, 12, len(which))
        got = pushed_out(pts, which, margin)
        assert np.abs(got - _pushed_out_loop(pts, which, margin)).max() < 1e-9
    pts = lm[order]
    assert np.array_equal(pushed_out(pts, range(0), np.zeros(0)), pts)


def test_work_box_is_the_box_cut_to_the_extent_and_its_reach():
    from lipflap.render.synth import WORK_REACH, _work_box
    box = (10, 20, 300, 200)
    x0, y0, w, h = _work_box(box, (100.2, 90.0, 150.0, 140.5))
    assert (x0, y0) == (100 - WORK_REACH, 90 - WORK_REACH)
    assert (x0 + w, y0 + h) == (150 + WORK_REACH, 141 + WORK_REACH)
    assert _work_box(box, (-50.0, -50.0, 1000.0, 1000.0)) == box, "never larger than the box"
    assert _work_box(box, (float("nan"), 0.0, 1.0, 1.0)) == box
    assert _work_box(box, (600.0, 600.0, 700.0, 700.0)) == box, "no overlap: the box as it was"
