"""Is a frame of the actor's own a speech-like mouth? Scores from its pixels and landmarks.

The exemplar library is the only source of mouth pixels the renderer has; a frame with the
tongue out, teeth clenched behind parted lips (a grimace), twisted lips or motion blur would be
replayed on ordinary speech sounds (issue 15). Each candidate crop is measured here on its own
pixels (CIE Lab of the lip band and of the mouth opening, at the frame's landmarks) and landmarks
(pose-normalised lip geometry), then judged against absolute limits and against the shot's other
candidates (`judge`), so an actor's habitual look is not an outlier but a grimace is.

Measures (all per frame):
- interior: fractions of the mouth opening that are dark cavity, teeth (much lighter than the
  lips, little red) and tongue-red mass (as red as the lips, not dark), the tongue measured in
  the lower half of the opening where a tongue out lies;
- twist: the corners' height difference and the lower lip's sideways shift, over mouth width;
- sharpness: Laplacian variance of the skin round the lips, against the shot's median.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from . import geometry as g
from .lip_band import shown_lips
from .median import median_of

# Limits, tuned on expr_disgusted and talk_e (their frames looked at one by one) and checked on
# the other clips of the hard set (bench/hard_set.py) without change.
# expr_disgusted: bared, clenched teeth (frames 53-66, 80-84, 89-104, 111-116) read teeth
# 0.39-0.58 with dark 0.0-0.29; open speech with both rows of teeth (20-27, 34-35, 85-88) 0.22-0.38
# with dark 0.09-0.35; the tongue over the lower teeth (28-33) 0.25-0.39, clean frames <= 0.22.
OPEN_FOR_TEETH = 0.30       # aperture (of this actor's widest) from which the teeth are judged
CLENCH_TEETH = 0.40         # both halves of the opening this much teeth ...
CLENCH_DARK = 0.30          # ... and less dark gap than this: clenched/bared teeth
CLOSED_TEETH = 0.30         # or this much teeth with no dark gap at all ...
CLOSED_DARK = 0.05
# Teeth apart: both rows shown with the mouth open between them (a bared, surprised or disgusted
# look), judged on the top and bottom thirds of the opening's central strip, "teeth" there being
# anything lighter than the lips and less red than them (dim teeth count: expr_surprised's read
# 0.08-0.21 on the absolute teeth test). expr_surprised frames 21-26 (surprise, both rows) read
# top 0.19-0.82 with bottom 0.38-0.53, its speech frames bottom <= 0.19; expr_disgusted's open
# speech with both rows 34, 52, 66 read top 0.43-0.63, bottom 0.47-0.69; talk_h (selfie) one frame.
APART_TOP = 0.15
APART_BOTTOM = 0.30
TONGUE_FRAC = 0.25          # lit lip-red share of the opening's lower half ...
TONGUE_Z = 3.0              # ... and an outlier among the shot's open candidates (robust z): the
                            # inside of a mouth is redder against darker lips, so a share alone
                            # would call every open mouth of some actors a tongue
TONGUE_MIN_OPEN = 0.15      # the opening must be this open for the share to mean anything
# Teeth inside the tracked lips: a mouth the tracker reads (nearly) closed, under OPEN_FOR_TEETH of
# the widest, whose pixels show teeth below or above its inner contour, in what the landmarks call
# lip. The warp moves those teeth as lip: built from such a frame, a closure or a small opening
# showed teeth fragments in the lower lip with a second seam under the first (hard turn f108,
# from source f111), and f120-121 kept their own teeth inside closed lips through a pause. Measured
# as the mean thickness (eye distances) over the opening's central strip of the teeth-coloured
# pixels in the lip band that touch the inner contour; among the frames under OPEN_FOR_TEETH it
# read over 0.004 on turn f60-61, f111, f120-122, f173, f177, talk_e f165 and talk_f f62 (each
# seen: teeth below the contour), at most 0.0022 on every such frame of talk_a, c, d, g and h. A
# frame with the mouth open is not judged: its teeth often spill a few pixels past a contour
# Face Mesh draws inside the opening (talk_f f30, talk_d f134), which the lip band allows for.
TEETH_IN_LIPS = 0.004
TWIST_Z = 3.5               # robust z of the twist ...
TWIST_MIN = 0.06            # ... and at least this share of the mouth width
BLUR_RATIO = 0.45           # sharpness under this share of the shot's median

# How much a flagged frame costs in the exemplar choice, in data-cost units (select.SIGMA): far
# more than any shape mismatch of a clean frame, so a flagged frame is used only where no clean
# frame has the shape at all (then the cleanest is used and the frames are reported).
FLAG_COST = 400.0


@dataclass
class FrameScore:
    frame: int
    aperture: float = 0.0          # of this actor's widest
    dark: float = 0.0              # share of the opening's central strip
    teeth: float = 0.0             # the lesser of its upper and lower halves' teeth shares
    tongue: float = 0.0            # lit lip-red share of its lower half
    rows: tuple = (0.0, 0.0, 0.0)  # teeth-like share of the opening's top, middle, bottom thirds
    teeth_in_lips: float = 0.0     # eye distances of teeth in the lip band at the seam (closed mouths)
    twist: float = 0.0             # / mouth width
    sharpness: float = 0.0
    lip_l: float = float("nan")    # mean CIE L* of the lip band (between outer and inner contours)
    lip_c: float = float("nan")    # ... and mean chroma
    reasons: list[str] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not self.reasons


def _lab(img: np.ndarray, peak: float) -> np.ndarray:
    f = img.astype(np.float32) / float(peak)
    return cv2.cvtColor(f, cv2.COLOR_RGB2LAB)        # L 0..100, a/b about -100..100


def _poly_mask(shape, pts: np.ndarray) -> np.ndarray:
    m = np.zeros(shape, np.uint8)
    cv2.fillPoly(m, [np.round(pts * 4).astype(np.int32)], 1, lineType=cv2.LINE_8, shift=2)
    return m


# The measures are worked out where they are read, with the same arithmetic on the same pixels
# as over the whole crop (the results are the same to the bit: tests/test_render_frame_score.py
# keeps the whole-crop version and compares): the lips' dilated zone on its own box, the
# opening's masks on the opening's box, the chroma on the pixels it is read at. Over the whole
# crop they were ~1.8 ms of a ~3 ms candidate at 1080p (the library stage, on the run's one chain
# between the plan and the render: docs/speed.md, eleventh round).
def measure(frame: int, crop: np.ndarray, pts: np.ndarray, region: np.ndarray, lips: np.ndarray,
            pose: np.ndarray, ap_max: float, peak: float) -> FrameScore:
    """Measures of one candidate: `crop` its lower-face pixels, `pts` its region points in crop
    coordinates (model.region order), `lips` the positions of the 20 outer then 20 inner lip
    points within the region, `pose` the frame's pixel -> normalised similarity."""
    pos = {k: i for i, k in enumerate(np.asarray(region).tolist())}
    outer, inner = pts[lips[:20]], pts[lips[20:]]
    s = FrameScore(frame)
    width = float(np.linalg.norm(pts[pos[61]] - pts[pos[291]]))
    if width < 4:
        return s
    gap = float(np.mean([np.linalg.norm(pts[pos[a]] - pts[pos[b]]) for a, b in g.APERTURE_PAIRS]))
    scale = float(np.sqrt(abs(np.linalg.det(pose[:, :2]))))      # pixels -> eye distances
    s.aperture = gap * scale / max(ap_max, 1e-6)

    # The lip box at a margin; everything is measured there.
    x0, y0 = np.maximum(np.floor(outer.min(0)).astype(int) - 2, 0)
    x1, y1 = np.minimum(np.ceil(outer.max(0)).astype(int) + 3, [crop.shape[1], crop.shape[0]])
    if x1 - x0 < 6 or y1 - y0 < 4:
        return s
    box = crop[y0:y1, x0:x1]
    lab = _lab(box, peak)
    o, n = outer - [x0, y0], inner - [x0, y0]
    m_out = _poly_mask(box.shape[:2], o)
    m_in = _poly_mask(box.shape[:2], n)
    band = (m_out > 0) & (m_in == 0)
    if np.count_nonzero(band) < 12:
        return s
    lip_l = median_of(lab[..., 0][band])
    lip_a = median_of(lab[..., 1][band])
    # The lip colour the range is drawn from, measured as the renderer holds it (lip_band): the
    # lips shown, not the opening that a contour off the lip edge takes into the band.
    shown = shown_lips(lab[..., 0], band, m_in > 0)
    s.lip_l = float(lab[..., 0][shown].mean())
    s.lip_c = float(np.hypot(lab[..., 1][shown], lab[..., 2][shown]).mean())
    s.sharpness = _sharpness(crop, outer, width, peak)
    # Interior: only when the opening has enough pixels to count (a few px gap says nothing).
    # Judged on the central strip of the opening (the middle half of its width), upper and
    # lower half apart: clenched teeth fill both halves with teeth and leave no dark gap; a
    # tongue out over the lower teeth fills the lower half with lit, lip-red mass. The sides of
    # an opening are shadowed in every mouth and say little.
    inside = cv2.erode(m_in, np.ones((3, 3), np.uint8)) > 0
    if np.count_nonzero(inside) >= 25:
        lip_c = median_of(np.hypot(lab[..., 1][band], lab[..., 2][band]))
        mid_y = float((pts[pos[13], 1] + pts[pos[14], 1]) / 2 - y0)
        _interior(s, lab, inside, n, mid_y, lip_l, lip_a, lip_c)
    if s.aperture < OPEN_FOR_TEETH:
        s.teeth_in_lips = _teeth_in_lips(lab, band, m_in, n, width, lip_l, lip_a) * scale

    # Twist, in the head's own frame (pose-normalised): corners at different heights, or the
    # lower lip's middle off the corners' midpoint.
    q = g.apply(pose, pts[[pos[61], pos[291], pos[17], pos[0]]])
    wn = max(float(np.linalg.norm(q[1] - q[0])), 1e-6)
    tilt = abs(float(q[1, 1] - q[0, 1])) / wn
    shift = abs(float(q[2, 0] - (q[0, 0] + q[1, 0]) / 2)) / wn
    s.twist = max(tilt, shift)
    return s


def _sharpness(crop: np.ndarray, outer: np.ndarray, width: float, peak: float) -> float:
    """Laplacian variance of the skin round the lips (lips and teeth add edges an open mouth has
    and a closed one has not): the whole crop less the lips, dilated, and its two-pixel edge.
    The lips' zone is drawn and dilated on its own box (a dilation reaches k // 2 pixels; the
    zone outside that box is empty either way)."""
    grey = crop.astype(np.float32)
    if peak != 255.0:
        grey *= 255.0 / float(peak)
    lap = cv2.Laplacian(cv2.cvtColor(grey, cv2.COLOR_RGB2GRAY), cv2.CV_32F)
    k = max(3, int(0.15 * width)) | 1
    hgt, wid = crop.shape[:2]
    reach = k // 2 + 1
    bx0, by0 = np.maximum(np.floor(outer.min(0)).astype(int) - reach, 0)
    bx1, by1 = np.minimum(np.ceil(outer.max(0)).astype(int) + reach + 1, [wid, hgt])
    skin = np.ones((hgt, wid), bool)
    if bx1 > bx0 and by1 > by0:
        zone = cv2.dilate(_poly_mask((by1 - by0, bx1 - bx0), outer - [bx0, by0]),
                          np.ones((k, k), np.uint8))
        skin[by0:by1, bx0:bx1] = zone == 0
    skin[:2], skin[-2:], skin[:, :2], skin[:, -2:] = False, False, False, False
    return float(lap[skin].var()) if np.count_nonzero(skin) >= 50 else 0.0


def _interior(s: FrameScore, lab: np.ndarray, inside: np.ndarray, n: np.ndarray, mid_y: float,
              lip_l: float, lip_a: float, lip_c: float) -> None:
    """The opening's teeth, dark and tongue shares and its teeth rows (s.teeth, s.dark, s.tongue,
    s.rows), on the box of `inside` (the opening's pixels, eroded; every mask read lies in it).
    `n`: the inner contour in lab's pixels; `mid_y` the lips' middle row there."""
    ys, xs = np.nonzero(inside)
    iy0, iy1, ix0, ix1 = int(ys.min()), int(ys.max()) + 1, int(xs.min()), int(xs.max()) + 1
    sub = lab[iy0:iy1, ix0:ix1]
    L, a, b = sub[..., 0], sub[..., 1], sub[..., 2]
    chroma = np.hypot(a, b)
    teeth = _teeth_coloured(L, a, chroma, lip_l, lip_a)
    dark = L < 0.55 * lip_l
    red = (~teeth) & (~dark) & (a > 0.75 * lip_a) & (L > 0.85 * lip_l)
    cx = float(n[:, 0].mean())
    half_w = 0.25 * float(n[:, 0].max() - n[:, 0].min())
    yy = np.arange(iy0, iy1)[:, None]
    xx = np.arange(ix0, ix1)[None, :]
    strip = inside[iy0:iy1, ix0:ix1] & (np.abs(xx - cx) <= half_w)
    top, bot = strip & (yy < mid_y), strip & (yy >= mid_y)
    n_top, n_bot = np.count_nonzero(top), np.count_nonzero(bot)
    if n_top >= 4 and n_bot >= 4:
        s.teeth = min(_share(teeth, top, n_top), _share(teeth, bot, n_bot))
        s.dark = _share(dark, strip)
        s.tongue = _share(red, bot, n_bot)
    s.rows = _teeth_rows(L, chroma, lip_l, lip_c, strip, yy)


def _teeth_coloured(L: np.ndarray, a: np.ndarray, chroma: np.ndarray, lip_l: float,
                    lip_a: float) -> np.ndarray:
    """Pixels coloured as teeth against lips of median L* `lip_l` and a* `lip_a`: much lighter,
    little red, little colour."""
    return (L > lip_l + 10) & (a < 0.5 * lip_a + 4) & (chroma < 30)


def _teeth_in_lips(lab: np.ndarray, band: np.ndarray, m_in: np.ndarray, n: np.ndarray,
                   width: float, lip_l: float, lip_a: float) -> float:
    """Mean thickness in pixels, over the central columns (0.2 mouth widths either side of the
    inner contour's middle), of the lip band's teeth-coloured pixels (_teeth_coloured) that
    touch the inner contour, through teeth-coloured pixels in the band (TEETH_IN_LIPS); `lip_l`,
    `lip_a`: the band's median L* and a*."""
    L, a = lab[..., 0], lab[..., 1]
    teeth = band & _teeth_coloured(L, a, np.hypot(a, lab[..., 2]), lip_l, lip_a)
    if not teeth.any():
        return 0.0
    ring = band & (cv2.dilate(m_in, np.ones((3, 3), np.uint8)) > 0)
    count, label = cv2.connectedComponents(teeth.view(np.uint8), connectivity=8)
    touching = np.zeros(count, bool)
    touching[label[teeth & ring]] = True
    touching[0] = False
    cx = float(n[:, 0].mean())
    cols = slice(max(int(np.ceil(cx - 0.2 * width)), 0), max(int(np.floor(cx + 0.2 * width)) + 1, 0))
    strip = touching[label[:, cols]]
    return float(np.count_nonzero(strip)) / max(strip.shape[1], 1)


def _share(flags: np.ndarray, where: np.ndarray, count: int | None = None) -> float:
    """flags[where].mean() (booleans: a count over a count, both exact, divided once in
    float64), without the selection's copy and np.mean's overhead."""
    count = np.count_nonzero(where) if count is None else count
    return np.count_nonzero(flags & where) / count


def _teeth_rows(L, chroma, lip_l: float, lip_c: float, strip, yy) -> tuple:
    """Teeth-like share (lighter than the lips, less red) of the top, middle and bottom thirds
    (by row) of the opening's central strip. `yy`: the rows' numbers (a column, broadcast)."""
    ys = np.broadcast_to(yy, strip.shape)[strip]
    if len(ys) < 10:
        return (0.0, 0.0, 0.0)
    light = (L > lip_l + 4) & (chroma < 0.8 * lip_c)
    t, b = np.percentile(ys, [30, 70])
    parts = (strip & (yy <= t), strip & (yy > t) & (yy < b), strip & (yy >= b))
    return tuple(_share(light, p) if p.any() else 0.0 for p in parts)


def _robust_z(v: np.ndarray) -> np.ndarray:
    med = np.median(v)
    mad = 1.4826 * np.median(np.abs(v - med)) + 1e-6
    return (v - med) / mad


def judge(scores: list[FrameScore]) -> None:
    """Set each score's reasons: absolute limits, and outliers against the shot's candidates."""
    if not scores:
        return
    twist = np.array([s.twist for s in scores])
    sharp = np.array([s.sharpness for s in scores])
    z_twist = _robust_z(twist)
    opened = np.array([s.aperture >= TONGUE_MIN_OPEN for s in scores])
    tongue = np.array([s.tongue for s in scores])
    z_tongue = np.zeros(len(scores))
    if opened.sum() >= 5:
        z_tongue[opened] = _robust_z(tongue[opened])
    med_sharp = float(np.median(sharp[sharp > 0])) if (sharp > 0).any() else 0.0
    for k, s in enumerate(scores):
        r = []
        if s.aperture >= OPEN_FOR_TEETH and ((s.teeth > CLENCH_TEETH and s.dark < CLENCH_DARK)
                                             or (s.teeth > CLOSED_TEETH and s.dark < CLOSED_DARK)):
            r.append("teeth_clenched")
        top, mid, bot = s.rows
        if s.aperture >= OPEN_FOR_TEETH and top >= APART_TOP and bot >= APART_BOTTOM \
                and mid < 0.5 * min(top, bot):
            r.append("teeth_apart")
        if s.aperture >= TONGUE_MIN_OPEN and s.tongue > TONGUE_FRAC and z_tongue[k] > TONGUE_Z:
            r.append("tongue")
        if z_twist[k] > TWIST_Z and s.twist > TWIST_MIN:
            r.append("twisted")
        if med_sharp > 0 and s.sharpness < BLUR_RATIO * med_sharp:
            r.append("blur")
        if s.aperture < OPEN_FOR_TEETH and s.teeth_in_lips > TEETH_IN_LIPS:
            r.append("teeth_in_lips")
        s.reasons = r


def lip_range(scores: list[FrameScore]) -> np.ndarray | None:
    """[[L lo, L hi], [chroma lo, chroma hi]] of the lip band over the shot's candidates: the
    actor's own range, which a rendered mouth must not leave (no darker, paler or more saturated
    lips than the actor shows). 2nd to 98th percentile, so one odd frame does not widen it."""
    v = np.array([[s.lip_l, s.lip_c] for s in scores if np.isfinite(s.lip_l)])
    if len(v) < 5:
        return None
    return np.percentile(v, [2, 98], axis=0).T.astype(np.float32)
