"""Frame scoring for the exemplar library (issue 15 item 1) on drawn mouths with known content."""
import numpy as np
import pytest

from lipflap.render import frame_score as fs
from lipflap.render import geometry as g

REGION = np.array(list(g.LIPS_OUTER) + list(g.LIPS_INNER))
LIPS = np.arange(40)
POSE = np.array([[0.01, 0.0, 0.0], [0.0, 0.01, 0.0]])      # 100 px eye distance
SKIN, LIP = (200, 150, 120), (190, 95, 95)


def _ring(cx, cy, a, b):
    t = np.pi - np.arange(20) * np.pi / 10       # left corner, lower lip, right corner, upper lip
    return np.stack([cx + a * np.cos(t), cy + b * np.sin(t)], 1)


def _mouth(interior: str, gap: float = 14.0):
    import cv2
    img = np.zeros((120, 160, 3), np.uint8)
    img[:] = SKIN
    rng = np.random.default_rng(0)
    outer, inner = _ring(80, 60, 40, gap / 2 + 10), _ring(80, 60, 34, gap / 2)
    cv2.fillPoly(img, [np.round(outer).astype(np.int32)], LIP)
    m = np.zeros(img.shape[:2], np.uint8)
    cv2.fillPoly(m, [np.round(inner).astype(np.int32)], 1)
    ys, xs = np.nonzero(m)
    if interior == "open":
        img[ys, xs] = (30, 12, 14)
        low = ys > 60 + gap / 4
        img[ys[low], xs[low]] = (90, 40, 45)          # shaded tongue at the back
    elif interior == "clenched":
        img[ys, xs] = (235, 232, 222)
        mid = np.abs(ys - 60) <= 0
        img[ys[mid], xs[mid]] = (40, 20, 20)          # the line where the teeth meet
    elif interior == "apart":
        img[ys, xs] = (30, 12, 14)
        rows = np.abs(ys - 60) > gap / 4
        img[ys[rows], xs[rows]] = (200, 195, 180)     # upper and lower rows of teeth, dark between
    elif interior == "tongue":
        img[ys, xs] = (30, 12, 14)
        low = ys >= 60
        img[ys[low], xs[low]] = (215, 110, 115)       # lit tongue over the lower teeth
    img = np.clip(img + rng.normal(0, 2, img.shape), 0, 255).astype(np.uint8)
    return img, np.vstack([outer, inner])


def _score(kind):
    img, pts = _mouth(kind)
    return fs.measure(0, img, pts, REGION, LIPS, POSE, 0.3, 255.0)


def test_open_mouth_is_clean_and_grimaces_are_not():
    scores = [_score(k) for k in ("open", "clenched", "tongue")] + [_score("open") for _ in range(5)]
    fs.judge(scores)
    assert scores[0].clean, scores[0]
    assert "teeth_clenched" in scores[1].reasons
    assert "tongue" in scores[2].reasons
    assert "teeth_clenched" not in scores[2].reasons and "tongue" not in scores[1].reasons


def test_twisted_lips_are_an_outlier_against_the_shot():
    scores = [_score("open") for _ in range(8)]
    img, pts = _mouth("open")
    pts = pts.copy()
    pts[10, 1] -= 12          # right corner pulled up (outer 291)
    scores.append(fs.measure(9, img, pts, REGION, LIPS, POSE, 0.3, 255.0))
    fs.judge(scores)
    assert "twisted" in scores[-1].reasons
    assert all(s.clean for s in scores[:-1])


def test_blurred_frame_is_flagged():
    import cv2
    scores = [_score("open") for _ in range(6)]
    img, pts = _mouth("open")
    scores.append(fs.measure(7, cv2.GaussianBlur(img, (0, 0), 2.5), pts, REGION, LIPS, POSE, 0.3, 255.0))
    fs.judge(scores)
    assert "blur" in scores[-1].reasons


def test_lip_colour_is_the_frames_and_inside_the_actors_range():
    import cv2
    from lipflap.render.synth import Look, _lip_colour
    img, pts = _mouth("open")
    dark = img.astype(np.float32).copy()
    band = np.zeros(img.shape[:2], np.uint8)
    cv2.fillPoly(band, [np.round(pts[:20]).astype(np.int32)], 1)
    cv2.fillPoly(band, [np.round(pts[20:]).astype(np.int32)], 0)
    dark[band > 0] *= 0.55                        # an exemplar's lips much darker than the frame's

    def lab_mean(x):
        lab = cv2.cvtColor(np.clip(x / 255.0, 0, 1).astype(np.float32), cv2.COLOR_RGB2LAB)
        inner = cv2.erode(band, np.ones((3, 3), np.uint8)) > 0
        return lab[inner].mean(0)

    own_l = lab_mean(img.astype(np.float32))[0]
    look = Look(peak=255.0, cavity=np.zeros(3, np.float32), tongue=np.zeros(3, np.float32),
                lip_range=np.array([[own_l - 2, own_l + 2], [0.0, 200.0]], np.float32))
    out = _lip_colour(dark.copy(), img.astype(np.float32), pts, pts, 0, 0, look)   # in place
    before, after = lab_mean(dark)[0], lab_mean(out)[0]
    assert before < own_l - 10
    assert abs(after - own_l) < 3.0, (before, after, own_l)
    far = np.ones(img.shape[:2], bool)
    far[20:100, 30:130] = False
    assert np.allclose(out[far], dark[far])       # nothing outside the lips moves


def test_teeth_rows_apart_are_flagged_and_an_open_mouth_is_not():
    scores = [_score("apart")] + [_score("open") for _ in range(5)]
    fs.judge(scores)
    assert "teeth_apart" in scores[0].reasons, scores[0]
    assert "teeth_clenched" not in scores[0].reasons
    assert all("teeth_apart" not in s.reasons for s in scores[1:])


def test_lip_colour_is_measured_on_the_lips_shown_not_on_the_opening_in_the_band():
    # The same lips with the dark opening drawn 1.6x taller than the inner contour (a contour off
    # the lip edge) read the same lip colour as with the contour on the edge: the range the
    # renderer holds is of the lips, as it measures the patch's (lipflap.render.lip_band).
    import cv2
    img, pts = _mouth("open")
    on_edge = fs.measure(0, img, pts, REGION, LIPS, POSE, 0.3, 255.0)
    m = np.zeros(img.shape[:2], np.uint8)
    cv2.fillPoly(m, [np.round(_ring(80, 60, 34, 7 * 1.6)).astype(np.int32)], 1)
    off = img.copy()
    off[m > 0] = (30, 12, 14)
    s = fs.measure(0, off, pts, REGION, LIPS, POSE, 0.3, 255.0)
    assert abs(s.lip_l - on_edge.lip_l) < 1.0, (s.lip_l, on_edge.lip_l)
    assert abs(s.lip_c - on_edge.lip_c) < 1.5, (s.lip_c, on_edge.lip_c)


def _measure_whole_crop(frame, crop, pts, region, lips, pose, ap_max, peak):
    """frame_score.measure as it was written first, every mask over the whole crop: the
    reference the measure's boxes must match to the bit."""
    import cv2
    from lipflap.render.lip_band import shown_lips
    pos = {int(k): i for i, k in enumerate(region)}
    outer, inner = pts[lips[:20]], pts[lips[20:]]
    s = fs.FrameScore(frame)
    width = float(np.linalg.norm(pts[pos[61]] - pts[pos[291]]))
    gap = float(np.mean([np.linalg.norm(pts[pos[a]] - pts[pos[b]]) for a, b in g.APERTURE_PAIRS]))
    s.aperture = gap * float(np.sqrt(abs(np.linalg.det(pose[:, :2])))) / max(ap_max, 1e-6)
    x0, y0 = np.maximum(np.floor(outer.min(0)).astype(int) - 2, 0)
    x1, y1 = np.minimum(np.ceil(outer.max(0)).astype(int) + 3, [crop.shape[1], crop.shape[0]])
    box = crop[y0:y1, x0:x1]
    lab = fs._lab(box, peak)
    o, n = outer - [x0, y0], inner - [x0, y0]
    m_out, m_in = fs._poly_mask(box.shape[:2], o), fs._poly_mask(box.shape[:2], n)
    band = (m_out > 0) & (m_in == 0)
    lip_l = float(np.median(lab[..., 0][band]))
    lip_a = float(np.median(lab[..., 1][band]))
    shown = shown_lips(lab[..., 0], band, m_in > 0)
    s.lip_l = float(lab[..., 0][shown].mean())
    s.lip_c = float(np.hypot(lab[..., 1][shown], lab[..., 2][shown]).mean())
    grey = cv2.cvtColor(crop.astype(np.float32) * (255.0 / float(peak)), cv2.COLOR_RGB2GRAY)
    lap = cv2.Laplacian(grey, cv2.CV_32F)
    k = max(3, int(0.15 * width)) | 1
    skin = ~(cv2.dilate(fs._poly_mask(crop.shape[:2], outer), np.ones((k, k), np.uint8)) > 0)
    skin[:2], skin[-2:], skin[:, :2], skin[:, -2:] = False, False, False, False
    s.sharpness = float(lap[skin].var()) if skin.sum() >= 50 else 0.0
    inside = cv2.erode(m_in, np.ones((3, 3), np.uint8)) > 0
    if inside.sum() >= 25:
        L, a, b = lab[..., 0], lab[..., 1], lab[..., 2]
        chroma = np.hypot(a, b)
        teeth = (L > lip_l + 10) & (a < 0.5 * lip_a + 4) & (chroma < 30)
        dark = L < 0.55 * lip_l
        red = (~teeth) & (~dark) & (a > 0.75 * lip_a) & (L > 0.85 * lip_l)
        cx, half_w = float(n[:, 0].mean()), 0.25 * float(n[:, 0].max() - n[:, 0].min())
        mid_y = float((pts[pos[13], 1] + pts[pos[14], 1]) / 2 - y0)
        yy, xx = np.mgrid[0:box.shape[0], 0:box.shape[1]]
        strip = inside & (np.abs(xx - cx) <= half_w)
        top, bot = strip & (yy < mid_y), strip & (yy >= mid_y)
        if top.sum() >= 4 and bot.sum() >= 4:
            s.teeth = float(min(teeth[top].mean(), teeth[bot].mean()))
            s.dark = float(dark[strip].mean())
            s.tongue = float(red[bot].mean())
        ys = yy[strip]
        if len(ys) >= 10:
            light = (L > lip_l + 4) & (chroma < 0.8 * float(np.median(chroma[band])))
            t, bb = np.percentile(ys, 30), np.percentile(ys, 70)
            parts = (strip & (yy <= t), strip & (yy > t) & (yy < bb), strip & (yy >= bb))
            s.rows = tuple(float(light[p].mean()) if p.any() else 0.0 for p in parts)
    q = g.apply(pose, pts[[pos[61], pos[291], pos[17], pos[0]]])
    wn = max(float(np.linalg.norm(q[1] - q[0])), 1e-6)
    s.twist = max(abs(float(q[1, 1] - q[0, 1])) / wn,
                  abs(float(q[2, 0] - (q[0, 0] + q[1, 0]) / 2)) / wn)
    return s


@pytest.mark.parametrize("kind", ["open", "clenched", "apart", "tongue", "closed"])
def test_measure_on_its_boxes_is_the_whole_crops_to_the_bit(kind):
    """The measures are taken on the boxes they read (the lips' dilated zone, the opening) and
    give what the whole crop gives, bit for bit: the library's exemplars and flags hang on them.
    A lower face larger than the mouth, the mouth off its middle and near an edge, 8 and 16 bits."""
    import cv2
    img, pts = _mouth(kind if kind != "closed" else "open", gap=14.0 if kind != "closed" else 1.0)
    rng = np.random.default_rng(3)
    for dx, dy, pad in ((0, 0, 0), (70, 40, 90), (3, 150, 60)):
        big = rng.integers(0, 255, (img.shape[0] + 2 * pad + dy, img.shape[1] + 2 * pad + dx, 3))
        big = cv2.GaussianBlur(big.astype(np.uint8), (0, 0), 1.5)       # skin texture to measure
        big[pad + dy:pad + dy + img.shape[0], pad + dx:pad + dx + img.shape[1]] = img
        at = pts + [pad + dx, pad + dy]
        for crop, peak in ((big, 255.0), (big.astype(np.uint16) * 257, 65535.0)):
            want = _measure_whole_crop(5, crop, at, REGION, LIPS, POSE, 0.3, peak)
            got = fs.measure(5, crop, at, REGION, LIPS, POSE, 0.3, peak)
            # (teeth_in_lips came later, on the lip box only; its own tests are below)
            drop = lambda sc: {k: v for k, v in vars(sc).items() if k != "teeth_in_lips"}
            assert drop(got) == drop(want), (kind, dx, dy, pad, peak)


def _closed_with_teeth_below(teeth_rows: int):
    """A mouth tracked closed (inner contour 1 px high at y 60) whose pixels show `teeth_rows`
    rows of teeth just under the contour, inside what the landmarks call the lower lip."""
    img, pts = _mouth("open", gap=1.0)
    for y in range(61, 61 + teeth_rows):
        img[y, 55:106] = (236, 232, 222)
    return img, pts


def test_teeth_inside_the_lips_of_a_closed_mouth_are_flagged():
    """Hard turn f111: the tracker reads the mouth closed and its teeth lie under the contour; the
    warp would carry them as lip (a ghost row of teeth in the lower lip)."""
    scores = []
    for rows in (0, 0, 0, 0, 4):
        img, pts = _closed_with_teeth_below(rows)
        scores.append(fs.measure(0, img, pts, REGION, LIPS, POSE, 0.3, 255.0))
    fs.judge(scores)
    assert scores[0].teeth_in_lips == 0.0 and scores[0].clean, scores[0]
    # 4 rows drawn at 100 px an eye distance, the first on the contour's own pixels
    assert 0.025 <= scores[4].teeth_in_lips <= 0.045, scores[4]
    assert "teeth_in_lips" in scores[4].reasons


def test_teeth_spilling_past_an_open_mouths_contour_are_not_judged():
    """An open mouth's teeth often reach a few pixels past the contour Face Mesh draws inside the
    opening (talk_f f30): not a frame to keep out."""
    img, pts = _mouth("open", gap=14.0)
    img[68:71, 55:106] = (236, 232, 222)              # the lower teeth's edge, in the lower lip
    s = fs.measure(0, img, pts, REGION, LIPS, POSE, 0.3, 255.0)
    fs.judge([s])
    assert s.aperture >= fs.OPEN_FOR_TEETH
    assert s.teeth_in_lips == 0.0 and "teeth_in_lips" not in s.reasons


def test_teeth_in_lips_reads_the_same_at_16_bits_and_off_the_crops_corner():
    """The library's crops come at 8 or 16 bits and anywhere in the frame: the same teeth under
    the same contour read the same."""
    img, pts = _closed_with_teeth_below(4)
    base = fs.measure(0, img, pts, REGION, LIPS, POSE, 0.3, 255.0).teeth_in_lips
    assert base > fs.TEETH_IN_LIPS
    deep = fs.measure(0, img.astype(np.uint16) * 257, pts, REGION, LIPS, POSE, 0.3, 65535.0)
    assert deep.teeth_in_lips == pytest.approx(base, abs=1e-9)
    big = np.zeros((img.shape[0] + 50, img.shape[1] + 70, 3), np.uint8)
    big[50:, 70:] = img
    moved = fs.measure(0, big, pts + [70, 50], REGION, LIPS, POSE, 0.3, 255.0)
    assert moved.teeth_in_lips == pytest.approx(base, abs=1e-9)
