"""The blend masks of a synthesised lower face, bounded by the face's own contours.

The patch replaces the "muzzle": the skin between the two nasolabial folds and their continuation
down to the jaw (the marionette lines), under the nose, and the chin down to the jaw line. Its
edges lie on the face's own creases and on the jaw line, where a change of shading reads as
natural, instead of a convex hull whose straight edges cross the cheeks (issue 15: faint diagonal
seam lines across both cheeks at -13 degrees of yaw) and whose fade reaches past the jaw into the
collar and the background on a turned head. The polygon is built from this frame's own mesh
points and from the wanted ones (a dropped or raised chin is covered either way), so it follows
the head's pose: on a turned head the far fold lies near the silhouette and the far cheek beyond
it is left as the frame has it.
"""
from __future__ import annotations

import functools
from types import MappingProxyType
from typing import Mapping, NamedTuple

import cv2
import numpy as np

from .geometry import LIPS_OUTER

# The muzzle's outline, clockwise in the image for a face looking at the camera: under the nose
# (just below the nostrils), down the fold on the image's right, along the chin's jaw line, up
# the fold on the image's left. Face Mesh indices; each side mirrors the other.
UNDER_NOSE = (165, 167, 164, 393, 391)
FOLD_RIGHT = (436, 432, 422, 424, 431, 395)
JAW_LINE = (379, 378, 400, 377, 152, 148, 176, 149, 150)
FOLD_LEFT = (170, 211, 204, 202, 212, 216)
OUTLINE = UNDER_NOSE + FOLD_RIGHT + JAW_LINE + FOLD_LEFT
# The face's lower silhouette, cheek to cheek through the chin: the patch never reaches past it
# by more than the fade below the jaw line. Under the chin (CHIN_SPAN) the limit is pushed out
# by the jaw margin; at the ends of the muzzle's jaw line (150, 379) it is the silhouette; from
# there up the cheeks it is pulled into the face by the margin, so on a turned head the far
# corner of the muzzle fades out inside the face, never over the face's edge against the
# background (turn clip, frame 37: a light nick in the far jaw line where it did).
SILHOUETTE = (93, 132, 58, 172, 136, 150, 149, 176, 148, 152, 377, 400, 378, 379, 365, 397, 288,
              361, 323)
CHIN_SPAN = (149, 176, 148, 152, 377, 400, 378)
MUZZLE_ENDS = (150, 379)
# Fade width (Gaussian sigma) over the mouth width: the alpha is 0.5 on the outline and reaches
# 0.98 two sigmas inside, i.e. 0.09 mouth widths, where the lips still are at least 0.2 mouth
# widths away (talk_g: the folds lie 0.24 mouth widths out from the corners).
FADE = 0.045
# Up the cheeks the silhouette is pulled into the face by this many fade widths, and past the
# (pushed) silhouette the alpha is cut to nothing within two such margins (the far side of a
# turned head, background and collar stay the frame's).
JAW_MARGIN = 1.0
# Under the chin the jaw line and the silhouette are pushed out by CHIN_MARGIN fade widths, so
# the jaw line is the patch's (a dropped chin keeps its edge, a raised one covers the frame's
# own chin) and so is the shadow under it, where the fade then lies in the plain neck: the
# shadow under a chin is about 0.13 mouth widths deep (expr_disgusted: from the chin point to
# the neck's level 9 px at a 70 px mouth), and where the wanted chin is lower than the frame's
# the patch must carry that shadow whole; cut within one fade width of the jaw line, the
# exemplar's darkest row met the frame's lit neck as a hard dark line (expr_disgusted f31, f98).
CHIN_MARGIN = 3.0
# The lips with this many fade widths around them are always inside: an upper lip raised up to
# the nose (expr_disgusted: its top 0.007-0.08 mouth widths under the outline's nose points) is
# otherwise half faded, a double edge that re-tracks as a thick upper lip (outside_upper_lip
# 0.008 -> 0.056 before this guard).
LIP_GUARD = 2.2


def outline_positions(region: np.ndarray) -> np.ndarray:
    """Positions within `region` (the renderer's lower-face landmark indices) of the outline's
    points, in outline order; points the region lacks are left out."""
    pos = {int(k): i for i, k in enumerate(region)}
    return np.array([pos[k] for k in OUTLINE if k in pos], np.int32)


def silhouette_positions(region: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Positions within `region` of the silhouette's points, and for each how far (in fade
    widths) the patch may reach past it: CHIN_MARGIN under the chin, 0 at the muzzle's ends,
    -JAW_MARGIN up the cheeks."""
    pos = {int(k): i for i, k in enumerate(region)}
    keep = [k for k in SILHOUETTE if k in pos]
    reach = [CHIN_MARGIN if k in CHIN_SPAN else 0.0 if k in MUZZLE_ENDS else -JAW_MARGIN
             for k in keep]
    return np.array([pos[k] for k in keep], np.int32), np.array(reach)


# The chin span's outer points, two each side (Face Mesh 149, 176 and 400, 378): an exemplar's
# own face is cut at its silhouette there, with no chin margin (exemplar_silhouette).
CHIN_SIDES = CHIN_SPAN[:2] + CHIN_SPAN[-2:]


def exemplar_silhouette(region: np.ndarray, points: np.ndarray, size: float,
                        chin: bool = True) -> np.ndarray | None:
    """(N, 2) the face's silhouette polygon of an exemplar (its region points, pixels), pushed
    as the output frame's is (silhouette_positions; `size` its mouth width), except at the chin's
    sides (CHIN_SIDES), where it is the silhouette itself: under the chin's middle the margin
    keeps the shadow under it, at the sides a turned exemplar's jaw meets the background, which
    the margin let through (held-out vz_eyes f55-59). With `chin` False the chin's middle is not
    pushed either. None without a silhouette."""
    key = _region_key(region)
    lay = _layout(key)
    if len(lay.sil) < 3:
        return None
    reach = _silhouette_reach(key, chin)
    k = np.arange(len(lay.sil))
    return _push(np.asarray(points, np.float64)[lay.sil], (k + 1) % len(k), (k - 1) % len(k),
                 np.zeros(len(k), int), np.array([0]), FADE * size * reach)


@functools.lru_cache(maxsize=32)
def _silhouette_reach(key: tuple, chin: bool) -> np.ndarray:
    """exemplar_silhouette's reach per silhouette point (fade widths), worked out once per region
    and `chin` (np.isin over the region's indices was 0.1 ms a call, two calls a frame)."""
    region = np.frombuffer(key[1], np.dtype(key[0]))
    lay = _layout(key)
    reach = np.where(np.isin(region[lay.sil], CHIN_SIDES if chin else CHIN_SPAN), 0.0, lay.reach)
    reach.flags.writeable = False       # shared by every frame of the region's shot
    return reach


def shared_face(shape: tuple[int, int], region: np.ndarray, wanted: np.ndarray, own: np.ndarray,
                x0: int, y0: int, size: float) -> np.ndarray | None:
    """uint8 (h, w) 0/1: where the frame's own face and the wanted one overlap (each its
    silhouette by exemplar_silhouette's rule, the chin's middle not pushed: the face itself, not
    the shadow under it; `size` the mouth width), where the exemplar's skin and the frame's can
    be compared for light. None without a silhouette."""
    mine = exemplar_silhouette(region, own, size, chin=False)
    theirs = exemplar_silhouette(region, wanted, size, chin=False)
    if mine is None or theirs is None:
        return None
    return _fill(shape, mine, x0, y0) & _fill(shape, theirs, x0, y0)


def _fill(shape, pts: np.ndarray, x0: int, y0: int, into: np.ndarray | None = None) -> np.ndarray:
    """A 0/1 uint8 mask of polygon `pts` (frame pixels) in the box at (x0, y0); with `into`, drawn
    onto that mask (the union with what it holds: no mask and no OR pass per polygon)."""
    m = np.zeros(shape, np.uint8) if into is None else into
    p = np.round((np.asarray(pts, np.float64) - [x0, y0]) * 16).astype(np.int32)
    cv2.fillPoly(m, [p], 1, lineType=cv2.LINE_8, shift=4)
    return m


def _push(pts: np.ndarray, nxt: np.ndarray, prv: np.ndarray, group: np.ndarray,
          starts: np.ndarray, push: np.ndarray) -> np.ndarray:
    """Polygons laid end to end in `pts` (..., N, 2), each point moved out of its polygon (along
    the outline's outward normal, away from the polygon's centre) by `push` (N,) pixels: `nxt`,
    `prv` each point's neighbours in its polygon, `group` its polygon, `starts` where each
    polygon begins. (All points of all polygons at once: a call per polygon, six a frame, was
    ~55 us each of numpy's per-call overhead, a sixth of the blend masks' CPU on the bench.)"""
    t = pts[..., nxt, :] - pts[..., prv, :]
    nrm = np.stack([t[..., 1], -t[..., 0]], -1)
    nrm /= np.maximum(np.sqrt(t[..., 0] * t[..., 0] + t[..., 1] * t[..., 1]), 1e-6)[..., None]
    counts = np.diff(np.append(starts, pts.shape[-2]))
    centre = np.add.reduceat(pts, starts, axis=-2) / counts[:, None]
    away = ((pts - centre[..., group, :]) * nrm).sum(-1)
    nrm[away < 0] *= -1
    return pts + push[:, None] * nrm


def _jaw_taper(region: np.ndarray) -> tuple[range, np.ndarray]:
    """The jaw line's positions within the outline and their taper (see muzzle)."""
    present = set(int(r) for r in region)
    n_top = len([k for k in UNDER_NOSE + FOLD_RIGHT if k in present])
    n_jaw = len([k for k in JAW_LINE if k in present])
    taper = np.minimum(1.0, 1.5 * np.sin(np.pi * np.arange(1, n_jaw + 1) / (n_jaw + 1)))
    return range(n_top, n_top + n_jaw), taper


class _Layout(NamedTuple):
    """Where the muzzle's points lie within a region, worked out once per region: the same
    lists, dicts and sets were built from its ~130 indices six times a frame (a fifth of
    blend_masks' CPU on the bench)."""
    order: np.ndarray
    sil: np.ndarray
    reach: np.ndarray
    lips: list
    jaw: tuple
    # The muzzle's three polygons (outline, lips, silhouette) end to end, for _push: the
    # points' positions within the region, where each polygon begins, each point's neighbours
    # and polygon, and how far it is pushed out, in fade widths (the outline's jaw line
    # CHIN_MARGIN tapered, see _jaw_taper; the lips LIP_GUARD; the silhouette its reach).
    at: np.ndarray
    starts: np.ndarray
    nxt: np.ndarray
    prv: np.ndarray
    group: np.ndarray
    push: np.ndarray


def _polygons(order, sil, reach, lips, jaw) -> tuple:
    """_Layout's polygons end to end (see there)."""
    (jaw_at, taper), runs = jaw, (np.asarray(order), np.asarray(lips, np.int32), np.asarray(sil))
    outline_push = np.zeros(len(order))
    outline_push[jaw_at.start:jaw_at.stop] = CHIN_MARGIN * taper
    pushes = (outline_push, np.full(len(lips), LIP_GUARD), np.asarray(reach, np.float64))
    starts = np.cumsum([0] + [len(r) for r in runs[:-1]])
    idx = [np.arange(len(r)) for r in runs]
    nxt = np.concatenate([s + (i + 1) % len(i) for s, i in zip(starts, idx)])
    prv = np.concatenate([s + (i - 1) % len(i) for s, i in zip(starts, idx)])
    group = np.concatenate([np.full(len(r), g) for g, r in enumerate(runs)])
    return (np.concatenate(runs), starts, nxt, prv, group, np.concatenate(pushes))


def _region_key(region: np.ndarray) -> tuple:
    region = np.asarray(region)
    return region.dtype.str, region.tobytes()


@functools.lru_cache(maxsize=16)
def _layout(key: tuple) -> _Layout:
    region = np.frombuffer(key[1], np.dtype(key[0]))
    pos = {int(k): i for i, k in enumerate(region)}
    parts = (outline_positions(region), *silhouette_positions(region),
             [pos[k] for k in LIPS_OUTER], _jaw_taper(region))
    lay = _Layout(*parts, *_polygons(*parts))
    for a in (lay.order, lay.sil, lay.reach, lay.jaw[1]) + lay[5:]:
        a.flags.writeable = False       # shared by every frame of the region's shot
    return lay


def positions(region: np.ndarray) -> Mapping[int, int]:
    """{landmark index: its position within `region`}, read-only, built once per region (the
    dict of a region's ~130 indices was 40 us, built four times a frame)."""
    return _positions(_region_key(region))


@functools.lru_cache(maxsize=16)
def _positions(key: tuple) -> Mapping[int, int]:
    region = np.frombuffer(key[1], np.dtype(key[0]))
    return MappingProxyType({int(k): i for i, k in enumerate(region)})


def jaw_positions(region: np.ndarray) -> np.ndarray:
    """Positions within `region` of the muzzle's jaw line (JAW_LINE, in its order; points the
    region lacks left out), from the region's cached layout."""
    lay = _layout(_region_key(region))
    return lay.order[lay.jaw[0].start:lay.jaw[0].stop]


def muzzle(shape: tuple[int, int], region: np.ndarray, wanted: np.ndarray, own: np.ndarray,
           x0: int, y0: int, size: float) -> tuple[np.ndarray, np.ndarray]:
    """uint8 (h, w) 0/1 masks: the union of the muzzle at the wanted points and at the frame's
    own points (region points, frame pixels), the jaw line included with a margin under it and
    the lips with LIP_GUARD fade widths round them, cut to the face inside either's silhouette
    (see SILHOUETTE); and that face."""
    lay = _layout(_region_key(region))
    # The jaw line pushed out under the chin tapering to nothing at its two ends: on a turned
    # head the far end meets the silhouette, and the background beyond it stays the frame's
    # (turn clip, frame 175: a soft smear past the far jaw when the margin was even).
    pushed = _push(np.stack([wanted[lay.at], own[lay.at]]).astype(np.float64), lay.nxt, lay.prv,
                   lay.group, lay.starts, FADE * size * lay.push)
    out = np.zeros(shape, np.uint8)
    face = np.zeros(shape, np.uint8)
    _, a, b = lay.starts
    for pts in pushed:
        _fill(shape, pts[:a], x0, y0, into=out)
        _fill(shape, pts[a:b], x0, y0, into=out)
        _fill(shape, pts[b:], x0, y0, into=face)
    return out & face, face


# A Gaussian of REDUCED_SIGMA pixels or wider is worked out on a reduced image (the renderer's
# _blur): by f = sigma / REDUCED_SIGMA pixels, at least 2. Until the tenth round by sigma / 2.5,
# so blurs of 2.5-5 pixels (on the bench's 146-pixel mouths: the silhouette's cut, the lips'
# soft mask, the previous lips' coarse band) ran at full resolution with 21-41 taps; reduced by
# 2 their values differ by ~1-2% of a step's height (linear interpolation between samples 2
# pixels apart of an edge 2.5 or more pixels wide).
REDUCED_SIGMA = 2.5


def blur_reduction(sigma: float) -> int:
    """The factor the renderer's blur of `sigma` pixels reduces its image by (1: none)."""
    return max(2, int(sigma / REDUCED_SIGMA)) if sigma >= REDUCED_SIGMA else 1


def muzzle_extent(region: np.ndarray, wanted: np.ndarray, own: np.ndarray,
                  size: float) -> tuple[float, float, float, float]:
    """(x0, y0, x1, y1), frame pixels: a box the lower-face alpha of `blend_masks` is zero
    outside of. The muzzle's outline and the lips (wanted and own), each point widened by the
    most it is pushed out (the jaw line CHIN_MARGIN fade widths, the lips LIP_GUARD, the rest
    of the outline not at all), then by the fade's reach: its Gaussian's kernel (4 sigmas) and,
    where the blur runs on a reduced image, two of its pixels (lipflap.render.synth._blur)."""
    pos = positions(region)
    fade = FADE * size
    lo, hi = [], []
    for keys, push in ((JAW_LINE, CHIN_MARGIN * fade), (LIPS_OUTER, LIP_GUARD * fade),
                       (UNDER_NOSE + FOLD_RIGHT + FOLD_LEFT, 0.0)):
        at = [pos[k] for k in keys if k in pos]
        if at:
            pts = np.vstack([wanted[at], own[at]])
            lo.append(pts.min(0) - push)
            hi.append(pts.max(0) + push)
    sig = max(fade, 0.5)
    reach = 4.0 * sig + 2.0 * blur_reduction(sig) + 2.0
    (x0, y0), (x1, y1) = np.min(lo, 0) - reach, np.max(hi, 0) + reach
    return float(x0), float(y0), float(x1), float(y1)


def blend_masks(region: np.ndarray, wanted: np.ndarray, own: np.ndarray, cov: np.ndarray,
                lips_t: np.ndarray, lips_own: np.ndarray, x0: int, y0: int, w: int, h: int,
                size: float, blur):
    """The lower-face alpha (float32 0..1, faded across the outline), the lips' mask (wanted and
    own lips, dilated) and the skin (inside the muzzle, not lips) where lighting is compared
    between exemplar and frame. `cov`: the pixels the warp covers; `blur(img, sigma)`: the
    renderer's Gaussian blur (wide ones on a reduced image: 6 against 30 ms for this fade on a
    1080p face)."""
    face, sil = muzzle((h, w), region, wanted, own, x0, y0, size)
    face = face.astype(np.float32)
    face *= cov                         # (in its own array: no second full-size copy)
    sig = max(FADE * size, 0.5)
    alpha = blur(face, sig)
    # Past the face (SILHOUETTE: under the chin a margin beyond it, up the cheeks a margin
    # inside) the fade is cut off within another half margin: the far side of a turned head,
    # the collar and the background keep the frame's pixels.
    alpha *= blur(cv2.erode(sil, np.ones((3, 3), np.uint8)).astype(np.float32),
                  max(sig * JAW_MARGIN / 2, 0.5))
    # A fade must not lift pixels the warp does not cover.
    alpha *= cov
    lipmask = _fill((h, w), lips_own, x0, y0, into=_fill((h, w), lips_t, x0, y0))
    k = max(3, int(0.12 * size)) | 1
    lipmask = cv2.dilate(lipmask, np.ones((k, k), np.uint8)).astype(np.float32)
    return alpha, lipmask, face * (1.0 - lipmask)
