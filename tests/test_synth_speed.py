"""The render's synthesis, cut for CPU (issue 15, docs/speed.md): each fast path gives the values
of the implementation before it, bit for bit (or, where a cut regroups the arithmetic, within the
bound its test states), on synthetic patches."""
from __future__ import annotations

import cv2
import numpy as np

from lipflap.render import synth as S
from lipflap.render.lip_band import shown_lips


def _match_detail_before(out, src, regions, lipmask):
    g_out = cv2.cvtColor(np.ascontiguousarray(out), cv2.COLOR_RGB2GRAY)
    l_d = cv2.Laplacian(g_out, cv2.CV_32F)
    l_low = cv2.Laplacian(S._gauss(g_out, 1.0), cv2.CV_32F)
    l_d -= l_low
    l_src = cv2.Laplacian(cv2.cvtColor(np.ascontiguousarray(src), cv2.COLOR_RGB2GRAY), cv2.CV_32F)
    ks = []
    for (r_out, r_src), bounds in zip(regions, (S.LIP_DETAIL_RANGE, S.DETAIL_RANGE)):
        k = 1.0
        if r_out.sum() >= 64 and r_src.sum() >= 64:
            k = S._detail_gain(l_low[r_out], l_d[r_out], float(l_src[r_src].var()), bounds)
        ks.append(k)
    if all(abs(k - 1.0) < 0.02 for k in ks):
        return out
    soft = S._gauss(lipmask.astype(np.float32), 2.0)
    kmap = (ks[0] * soft + ks[1] * (1.0 - soft))[..., None]
    low = S._gauss(out, 1.0)
    return low + kmap * (out - low)


def _patch_case(rng, h, w, edge):
    """A textured patch and frame, an elliptic lip mask and a skin region; `edge` puts the
    regions against the image's border."""
    out = (rng.random((h, w, 3)) * 200 + 20).astype(np.float32)
    low = S._gauss(out, 1.0)
    src = low + np.float32(rng.uniform(0.85, 0.95)) * (out - low)   # gains inside their bounds
    lip = np.zeros((h, w), np.uint8)
    cy = 3 if edge else h // 2
    cv2.ellipse(lip, (w // 2, cy), (w // 5, h // 8), 0, 0, 360, 1, -1)
    inside = np.zeros((h, w), bool)
    inside[(0 if edge else h // 6):h - h // 5, w // 8:w - (0 if edge else w // 7)] = True
    lips_in = inside & (lip > 0)
    skin = inside & (lip == 0) & (rng.random((h, w)) > 0.3)
    return out, src, [(lips_in, lips_in), (skin, skin)], lip.astype(np.float32)


def test_match_detail_over_the_regions_box_equals_the_whole_patch():
    rng = np.random.default_rng(3)
    for h, w, edge in ((120, 160, False), (90, 140, True), (200, 130, False), (64, 64, True)):
        out, src, regions, lip = _patch_case(rng, h, w, edge)
        want = _match_detail_before(out.copy(), src, regions, lip)
        got = S._match_detail(out.copy(), src, regions, lip)
        # the lip mask's blur over its box reflects the border about the edge, OpenCV's
        # default about the edge pixel (tenth round): equal unless the lips meet the border,
        # then within 1e-3 (1.5e-5 seen)
        assert got.dtype == np.float32
        assert np.array_equal(got, want) if not edge else np.abs(got - want).max() < 1e-3


def _carry_grain_before(out, src, moved_pts, model, tri_id, skin, lipmask, size):
    moved = moved_pts[model.tris].max(1).astype(np.float32)
    # the displacement's and the energy's sigma-2 blurs on the image halved (tenth round)
    disp = S._reduced_blur(moved[tri_id], 2.0, 2)
    still = np.clip(1.5 - disp, 0.0, 1.0)
    d0, d1 = max(1.5, S.CARRY_NEAR * size), max(3.0, S.CARRY_FAR * size)
    carry = np.clip((d1 - disp) / (d1 - d0), 0.0, 1.0)
    hp_src = src - S._blur(src, 1.0)
    hp_out = out - S._blur(out, 1.0)
    hp_grey = cv2.cvtColor(np.ascontiguousarray(hp_src), cv2.COLOR_RGB2GRAY)
    energy = S._reduced_blur(hp_grey * hp_grey, 2.0, 2)
    # the skin's medians over every other row and column (tenth round) when that has enough
    sub = (slice(None, None, 2),) * 2 if (skin[::2, ::2] > 0.5).sum() >= S.SKIN_SAMPLES else (slice(None),) * 2
    ref = float(np.median(energy[sub][skin[sub] > 0.5])) if (skin > 0.5).sum() >= 32 else float(np.median(energy))
    plain = np.clip(2.0 - energy / max(S.EDGE_ENERGY * ref, 1e-6), 0.0, 1.0)
    lip_soft = S._blur(lipmask, max(1.0, 0.03 * size))
    grain_w = (np.maximum(still, carry * plain) * (1.0 - lip_soft))[..., None]
    core = S.GRAIN_CORE * 1.4826 * float(np.median(np.abs(hp_grey[sub][skin[sub] > 0.5]))) \
        if (skin > 0.5).sum() >= 32 else 0.0
    rows, cols = np.flatnonzero((lip_soft > 0.01).any(1)), np.flatnonzero((lip_soft > 0.01).any(0))
    res = out + grain_w * (hp_src - hp_out)
    if core > 0 and len(rows):
        lb = (slice(int(rows[0]), int(rows[-1]) + 1), slice(int(cols[0]), int(cols[-1]) + 1))
        lip_grain = np.clip(hp_src[lb], -core, core) - np.clip(hp_out[lb], -core, core)
        res[lb] += lip_grain * (lip_soft[lb] * plain[lb])[..., None]
    return res, disp, still, lip_soft


class _Model:
    def __init__(self, tris):
        self.tris = tris


def test_carry_grain_equals_the_implementation_before():
    rng = np.random.default_rng(11)
    for h, w, edge in ((120, 160, False), (90, 140, True), (160, 110, False), (60, 80, False)):
        out, src, _, lip = _patch_case(rng, h, w, edge)
        tris = rng.integers(0, 30, (40, 3))
        tri_id = rng.integers(0, 40, (h, w)).astype(np.int32)
        moved = rng.random(30) * rng.choice([0.0, 4.0, 30.0], 30)
        skin = (rng.random((h, w)) > 0.5).astype(np.float32)
        want, *rest_w = _carry_grain_before(out, src, moved, _Model(tris), tri_id, skin, lip, 80.0)
        got = out.copy()
        rest = S._carry_grain(got, src, moved, _Model(tris), tri_id, skin, lip, 80.0)
        # The fine bands by linearity (one blur of src - out, one of src's grey): the same
        # values but for float32 rounding, on 8-bit values of 20-220 (tenth round).
        assert np.abs(got - want).max() < 1e-3, np.abs(got - want).max()
        assert not np.array_equal(got, out)
        assert all(np.array_equal(a, b) for a, b in zip(rest, rest_w))


def _lip_colour_before(out, src, lips_t, lips_own, x0, y0, look):
    h, w = out.shape[:2]
    band_t = (S._poly((h, w), lips_t[:20], x0, y0) > 0) & (S._poly((h, w), lips_t[20:], x0, y0) == 0)
    band_o = (S._poly((h, w), lips_own[:20], x0, y0) > 0) & (S._poly((h, w), lips_own[20:], x0, y0) == 0)
    if band_t.sum() < 12 or band_o.sum() < 12:
        return out
    bx, by, bw, bh = cv2.boundingRect(np.round(lips_t[:20] - [x0, y0]).astype(np.int32))
    by0, by1, bx0, bx1 = max(by - 4, 0), min(by + bh + 5, h), max(bx - 4, 0), min(bx + bw + 5, w)
    scale = 1.0 / look.peak
    lab = cv2.cvtColor(np.clip(out[by0:by1, bx0:bx1] * scale, 0, 1), cv2.COLOR_RGB2LAB)
    ox, oy, ow, oh = cv2.boundingRect(np.round(lips_own[:20] - [x0, y0]).astype(np.int32))
    sy0, sy1, sx0, sx1 = max(oy - 1, 0), min(oy + oh + 2, h), max(ox - 1, 0), min(ox + ow + 2, w)
    lab_src = cv2.cvtColor(np.clip(src[sy0:sy1, sx0:sx1] * scale, 0, 1).astype(np.float32),
                           cv2.COLOR_RGB2LAB)
    m = band_t[by0:by1, bx0:bx1]
    # both measured over the lips shown (lipflap.render.lip_band)
    lips = shown_lips(lab[..., 0], m, S._poly((h, w), lips_t[20:], x0, y0)[by0:by1, bx0:bx1] > 0)
    own = shown_lips(lab_src[..., 0], band_o[sy0:sy1, sx0:sx1],
                     S._poly((h, w), lips_own[20:], x0, y0)[sy0:sy1, sx0:sx1] > 0)
    want = lab[lips].mean(0)
    want = want + S.LIP_MATCH * (lab_src[own].mean(0) - want)
    cur = lab[lips].mean(0)
    c_after = float(np.hypot(lab[lips][:, 1], lab[lips][:, 2]).mean()) * S._chroma_gain(cur, want)
    want[0], c_in = S._into_range(float(want[0]), c_after, S.held_lip_range(look.lip_range))
    if c_after > 1e-3:
        want[1:] *= c_in / c_after
    gain = S._chroma_gain(cur, want)
    new = lab.copy()
    new[..., 0] += want[0] - cur[0]
    new[..., 1:] = new[..., 1:] * gain + (want[1:] - cur[1:] * gain)
    soft = S._gauss(m.astype(np.float32), 1.0)[..., None]
    rgb = cv2.cvtColor(new, cv2.COLOR_LAB2RGB) * look.peak
    res = out.copy()
    res[by0:by1, bx0:bx1] = out[by0:by1, bx0:bx1] * (1 - soft) + rgb * soft
    return res


def _lips(cx, cy, rx, ry, gap):
    t = np.linspace(0, 2 * np.pi, 20, endpoint=False)
    outer = np.stack([cx + rx * np.cos(t), cy + ry * np.sin(t)], 1)
    inner = np.stack([cx + 0.7 * rx * np.cos(t), cy + gap * np.sin(t)], 1)
    return np.concatenate([outer, inner])


def test_lip_colour_equals_the_implementation_before():
    rng = np.random.default_rng(7)
    for peak, (l_lo, l_hi) in ((255.0, (20.0, 40.0)), (65535.0, (60.0, 90.0))):
        look = S.Look(peak=peak, cavity=np.zeros(3, np.float32), tongue=np.zeros(3, np.float32),
                      lip_range=np.array([[l_lo, l_hi], [5.0, 30.0]], np.float32))
        out = (rng.random((100, 140, 3)) * peak).astype(np.float32)
        src = (rng.random((100, 140, 3)) * peak).astype(np.float32)
        lips_t, lips_own = _lips(530.3, 250.6, 30.2, 14.1, 5.3), _lips(528.9, 251.2, 28.7, 12.2, 2.1)
        want = _lip_colour_before(out.copy(), src, lips_t, lips_own, 460, 200, look)
        got = S._lip_colour(out.copy(), src, lips_t, lips_own, 460, 200, look)
        # its means in double (cv2.mean, tenth round): within 1e-3 of 8-bit (1.2e-4 seen)
        assert not np.array_equal(want, out) and np.abs(got - want).max() < 1e-3 * peak / 255


def test_channel_mean_and_merged_weights_equal_numpys_broadcast():
    """_blend_previous's agreement (mean over the colour channels) and its weighted sums."""
    rng = np.random.default_rng(2)
    for h, w in ((7, 5), (80, 150), (213, 301)):
        img = (rng.random((h, w, 3)) * rng.choice([1.0, 255.0, 65535.0])).astype(np.float32)
        wgt = rng.random((h, w)).astype(np.float32)
        assert np.array_equal(S._channel_mean(np.abs(img - img[::-1])), np.abs(img - img[::-1]).mean(2))
        assert np.array_equal(img * S._rgb(wgt), img * wgt[..., None])


def test_lab_of_selected_pixels_as_one_row_equals_the_whole_image_conversion():
    """The L*a*b* helpers convert selected pixels as one row (a column of one-pixel rows was 3x
    slower): forward the same values as the image's conversion, back within the last bits."""
    rng = np.random.default_rng(5)
    img = rng.random((90, 130, 3)).astype(np.float32)
    sel = rng.random((90, 130)) > 0.4
    lab = cv2.cvtColor(img, cv2.COLOR_RGB2LAB)
    assert np.array_equal(S._lab(img[sel]), lab[sel])
    back = cv2.cvtColor(lab, cv2.COLOR_LAB2RGB)[sel]
    assert np.abs(S._lab_rgb(lab[sel]) - back).max() <= 1e-5


def _keep_lip_range_before(out, src, alpha, lips_t, x0, y0, look, tries=3):
    h, w = out.shape[:2]
    bx, by, bw, bh = cv2.boundingRect(np.round(lips_t[:20] - [x0, y0]).astype(np.int32))
    pad = 4 + int(np.ceil(S.RIM_SHARE * bw))
    y_lo, x_lo = max(by - pad, 0), max(bx - pad, 0)
    box = (slice(y_lo, min(by + bh + pad + 1, h)), slice(x_lo, min(bx + bw + pad + 1, w)))
    measured = S._lip_bands(out[box].shape[:2], lips_t, x0 + x_lo, y0 + y_lo)
    if min(b.sum() for b, _ in measured) < 12:
        return
    cover = np.logical_or.reduce([b for b, _ in measured[:len(S.BAND_OFFSETS)]])
    a_band = float(alpha[box][cover].mean())
    if a_band < 0.05:
        return
    scale = 1.0 / look.peak
    # each band measured over the lips it shows on the composite (lipflap.render.lip_band)
    seen = out[box] * alpha[box][..., None] + src[box] * (1 - alpha[box][..., None])
    seen = cv2.cvtColor(np.clip(seen * scale, 0, 1).astype(np.float32), cv2.COLOR_RGB2LAB)[..., 0]
    shown = [shown_lips(seen, b, i) for b, i in measured]
    soft = S._gauss(cover.astype(np.float32), 0.7)
    sel = (soft > 1e-3) | measured[-1][0]
    wgt, a = soft[sel][:, None], alpha[box][sel][:, None]
    in_band = [b[sel] for b in shown]
    px_out, px_src = out[box][sel], src[box][sel]
    (l_lo, l_hi), (c_lo, c_hi) = S.held_lip_range(look.lip_range)

    def lab(rgb):
        # as one row (S._lab): a column of one-pixel rows takes OpenCV's scalar path, whose
        # results differ in the last bits from its vector path's, and which pixels fall to which
        # depends on the row's length (the pixels the band's soft edge selects)
        return S._lab(np.clip(rgb * scale, 0, 1))

    for _ in range(tries):
        comp = lab(px_out * a + px_src * (1 - a))
        chroma = np.hypot(comp[:, 1], comp[:, 2])
        ls = np.array([comp[m, 0].mean() for m in in_band])
        cs = np.log(np.maximum([chroma[m].mean() for m in in_band[:-1]], 1e-3))   # the rim: L* only
        d_l = S._lightness_step(ls, l_lo, l_hi)
        d_c = S._range_step(cs, float(np.log(max(c_lo, 1e-3))), float(np.log(max(c_hi, 1e-3))))
        if abs(d_l) < 0.05 and abs(d_c) < 0.002:
            break
        own = lab(px_out)
        own[:, 0] += d_l / a_band
        own[:, 1:] *= float(np.exp(d_c / a_band))
        # back as one row (S._lab_rgb, checked above): a column of one-pixel rows takes OpenCV's
        # other path, which rounds an out-of-gamut pixel 0.5/255 apart
        rgb = S._lab_rgb(own) * look.peak
        px_out = px_out * (1 - wgt) + rgb * wgt
    out[box][sel] = px_out


def test_keep_lip_range_equals_the_implementation_before():
    rng = np.random.default_rng(9)
    for peak, (l_lo, l_hi) in ((255.0, (20.0, 40.0)), (65535.0, (60.0, 90.0)), (255.0, (70.0, 95.0))):
        look = S.Look(peak=peak, cavity=np.zeros(3, np.float32), tongue=np.zeros(3, np.float32),
                      lip_range=np.array([[l_lo, l_hi], [5.0, 30.0]], np.float32))
        out = (rng.random((100, 140, 3)) * peak).astype(np.float32)
        src = (rng.random((100, 140, 3)) * peak).astype(np.float32)
        alpha = rng.uniform(0.5, 1.0, (100, 140)).astype(np.float32)
        lips_t = _lips(530.3, 250.6, 30.2, 14.1, 5.3)
        want, got = out.copy(), out.copy()
        _keep_lip_range_before(want, src, alpha, lips_t, 460, 200, look)
        S._keep_lip_range(got, src, alpha, lips_t, 460, 200, look)
        # within 1e-5 of the peak but for a few pixels at the gamut's edge, which OpenCV's Lab
        # -> RGB rounds 0.5/255 apart on a difference in the last bits of their L*a*b* (3 of
        # the 2,700 the first case shifts, with the 3-sigma kernels of the eleventh round)
        diff = np.abs(got - want).max(2)
        assert not np.array_equal(want, out) and np.count_nonzero(diff > 1e-5 * peak) <= 5
        assert diff.max() <= 0.6 / 255 * peak


def _dark_gap_before(ex, a, b):
    def grey(pt):
        x = int(np.clip(round(pt[0] - ex.x0), 1, ex.image.shape[1] - 2))
        y = int(np.clip(round(pt[1] - ex.y0), 1, ex.image.shape[0] - 2))
        return float(ex.image[y - 1:y + 2, x - 1:x + 2].mean())
    v = b - a
    return grey((a + b) / 2) < min(grey(a - 0.5 * v), grey(b + 0.5 * v))


def test_dark_gap_equals_the_implementation_before():
    """The 3x3 means as an integer sum over the count: the same decisions, including points
    past the crop's edges (clamped) and equal greys (the comparison is strict)."""
    rng = np.random.default_rng(3)
    for dtype, top in ((np.uint8, 256), (np.uint16, 65536)):
        img = rng.integers(0, top, (40, 60, 3)).astype(dtype)
        img[10:13, 20:23] = 7                           # a flat patch: equal greys
        ex = S.Exemplar(0, img, 100, 200, np.zeros((1, 2)), 0.0)
        for _ in range(3000):
            a = np.array([100.0, 200.0]) + rng.uniform(-5, 65, 2)
            b = a + rng.normal(0, 4, 2)
            assert S._dark_gap(ex, a, b) == _dark_gap_before(ex, a, b)
        flat = np.array([121.0, 211.0])
        assert S._dark_gap(ex, flat, flat) == _dark_gap_before(ex, flat, flat) is False


def _muzzle_before(shape, region, wanted, own, x0, y0, size):
    from lipflap.render import mask as M
    from test_render_mask import pushed_out

    def below_jaw(pts, margin):
        present = set(int(r) for r in region)
        n_top = len([k for k in M.UNDER_NOSE + M.FOLD_RIGHT if k in present])
        n_jaw = len([k for k in M.JAW_LINE if k in present])
        taper = np.minimum(1.0, 1.5 * np.sin(np.pi * np.arange(1, n_jaw + 1) / (n_jaw + 1)))
        return pushed_out(pts, range(n_top, n_top + n_jaw), margin * taper)
    order = M.outline_positions(region)
    sil, reach = M.silhouette_positions(region)
    pos = {int(k): i for i, k in enumerate(region)}
    lips = [pos[k] for k in M.LIPS_OUTER]
    fade = M.FADE * size
    guard = np.full(len(lips), M.LIP_GUARD * M.FADE * size)
    out = np.zeros(shape, np.uint8)
    face = np.zeros(shape, np.uint8)
    for pts in (wanted, own):
        out |= M._fill(shape, below_jaw(pts[order], M.CHIN_MARGIN * fade), x0, y0)
        out |= M._fill(shape, pushed_out(pts[lips], range(len(lips)), guard), x0, y0)
        face |= M._fill(shape, pushed_out(pts[sil], range(len(sil)), reach * fade), x0, y0)
    return out & face, face


def test_muzzle_with_its_layout_worked_out_once_equals_the_implementation_before():
    """The muzzle's positions within the region come from a cache (mask._layout): the same masks
    for two regions in turn (the cache keyed by the region's values, not its object)."""
    from lipflap.render import mask as M
    rng = np.random.default_rng(5)
    a = np.linspace(0, 2 * np.pi, 468, endpoint=False)
    lm = np.stack([200 + 80 * np.cos(a) * (1 + 0.3 * np.sin(7 * a)),
                   220 + 100 * np.sin(a) * (1 + 0.2 * np.cos(5 * a))], 1)
    full = np.arange(468)
    part = np.array(sorted(set(M.OUTLINE) | set(M.SILHOUETTE) | set(M.LIPS_OUTER) | {1, 2, 3}))
    for region in (full, part, full.astype(np.int32), part):
        for _ in range(3):
            wanted = lm[region] + rng.normal(0, 3, (len(region), 2))
            own = lm[region] + rng.normal(0, 3, (len(region), 2))
            got = M.muzzle((400, 420), region, wanted, own, 5, 10, 60.0)
            want = _muzzle_before((400, 420), region, wanted, own, 5, 10, 60.0)
            assert all(np.array_equal(g, w) for g, w in zip(got, want))


def test_gauss_is_opencvs_float_blur_within_its_tails():
    """synth._gauss cuts the kernel at 3 sigma (eleventh round): within 0.3% of the image's range
    of OpenCV's float kernel (4 sigma), on noise, steps and masks, 3 channels or one."""
    rng = np.random.default_rng(11)
    for k in range(12):
        h, w = (int(v) for v in rng.integers(20, 120, 2))
        img = (rng.random((h, w, 3) if k % 2 else (h, w)) * 255).astype(np.float32)
        if k % 3 == 0:
            img = np.where(img > 127, 255.0, 0.0).astype(np.float32)
        for sigma in (0.7, 1.0, 1.5, 2.3, 4.0):
            for border in (cv2.BORDER_REFLECT, cv2.BORDER_REFLECT_101):
                want = cv2.GaussianBlur(img, (0, 0), sigma, borderType=border)
                got = S._gauss(img, sigma, border)
                assert got.shape == want.shape and got.dtype == np.float32
                assert np.abs(got - want).max() <= 0.003 * 255, (sigma, np.abs(got - want).max())


def test_maps_by_table_lookup_equal_numpys_gathers():
    """geometry._maps gathers the triangles' coefficients by OpenCV's lookup of the ids' low
    byte (eleventh round): the same maps as numpy's take, either side of 256 and 512 triangles."""
    from lipflap.render import geometry as G
    rng = np.random.default_rng(12)
    for n in (1, 100, 256, 257, 300, 512, 513, 900):
        ids = rng.integers(0, n, (37, 53)).astype(np.int32 if n % 2 else np.intp)
        c = rng.normal(0, 50, (6, n)).astype(np.float32)
        yy, xx = np.mgrid[0:37, 0:53].astype(np.float32)
        mx, my = G._maps(ids, c)
        want_x = c[0].take(ids) * xx + c[1].take(ids) * yy + c[2].take(ids)
        want_y = c[3].take(ids) * xx + c[4].take(ids) * yy + c[5].take(ids)
        assert np.array_equal(mx, want_x) and np.array_equal(my, want_y), n


def test_enlarged_into_one_array_equals_the_replicated_border():
    """_enlarged enlarges into the corner of one full-size array (eleventh round): the values of
    the enlargement with its border replicated by copyMakeBorder, either side odd or even."""
    rng = np.random.default_rng(13)
    for h, w in ((283, 367), (282, 366), (283, 366), (282, 367), (9, 8)):
        for shape in ((h // 2, w // 2, 3), (h // 2, w // 2)):
            img = rng.random(shape).astype(np.float32)
            up = cv2.resize(img, (w // 2 * 2, h // 2 * 2), interpolation=cv2.INTER_LINEAR)
            want = cv2.copyMakeBorder(up, 0, h - up.shape[0], 0, w - up.shape[1], cv2.BORDER_REPLICATE)
            assert np.array_equal(S._enlarged(img, 2, (h, w)), want)
