"""Synthesis of one output frame's lower face from one exemplar of the actor's own frames.

One resampling pass (a piecewise-affine map from the target landmarks into the exemplar, Lanczos),
then, in floating point at the source's own scale (8- or 16-bit values): a low-frequency offset that
matches the exemplar to this frame's lighting, the frame's own fine grain put back on the skin where
the geometry has not moved, a synthesised mouth interior where the target opens wider than the
exemplar did, and a feathered lower-face alpha. The caller composites the patch.
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from . import geometry as g
from .model import MouthModel


@dataclass
class Exemplar:
    frame: int
    image: np.ndarray      # lower-face crop in the source's dtype (uint8 or uint16), RGB
    x0: int
    y0: int
    points: np.ndarray     # (P + Q, 2) region then ring points, frame pixels
    gap: float             # inner-lip gap in pixels


@dataclass
class Patch:
    x0: int
    y0: int
    rgb: np.ndarray        # float32 (h, w, 3) in the source's value scale
    alpha: np.ndarray      # float32 (h, w) 0..1


@dataclass
class Look:
    """Per-shot appearance constants the synthesis needs."""
    peak: float                 # 255 or 65535
    cavity: np.ndarray          # (3,) colour of the darkest mouth interior seen in the shot
    tongue: np.ndarray          # (3,) colour of the lower interior


def crop_box(points: np.ndarray, width: int, height: int, pad: int = 4) -> tuple[int, int, int, int]:
    x0, y0 = np.floor(points.min(0)).astype(int) - pad
    x1, y1 = np.ceil(points.max(0)).astype(int) + pad
    x0, y0 = max(0, x0), max(0, y0)
    x1, y1 = min(width, x1), min(height, y1)
    return int(x0), int(y0), int(max(x1 - x0, 1)), int(max(y1 - y0, 1))


def _blur(img: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian blur; wide ones run on a reduced image (they only carry low frequencies)."""
    sigma = max(sigma, 0.3)
    f = int(sigma / 2.5)
    if f < 2:
        return cv2.GaussianBlur(img, (0, 0), sigmaX=sigma, borderType=cv2.BORDER_REFLECT)
    h, w = img.shape[:2]
    small = cv2.resize(img, (max(1, w // f), max(1, h // f)), interpolation=cv2.INTER_AREA)
    small = cv2.GaussianBlur(small, (0, 0), sigmaX=sigma / f, borderType=cv2.BORDER_REFLECT)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)


def _poly(shape, pts, x0, y0) -> np.ndarray:
    m = np.zeros(shape, np.uint8)
    p = np.round((pts - [x0, y0]) * 16).astype(np.int32)
    cv2.fillPoly(m, [p], 1, lineType=cv2.LINE_8, shift=4)
    return m


def synthesize(image: np.ndarray, ex: Exemplar, target: np.ndarray, own: np.ndarray, model: MouthModel,
               look: Look, fade: float, is_self: bool) -> Patch | None:
    """Build the lower face of `image` (the output frame's source pixels: an RGB array, or a
    media Frame, of which only the patch's box is converted) from exemplar `ex`.

    target: (P + Q, 2) wanted region + ring points in this frame; own: the frame's own points (same
    ring). `fade` scales the alpha (ramps into and out of passed-through ranges). Returns the patch,
    or None when the face is not in the picture.
    """
    if hasattr(image, "region"):        # a decoded media Frame: convert only the box used
        wid, hgt = image.size
    else:
        hgt, wid = image.shape[:2]
    n_reg = len(model.region)
    reg_t = target[:n_reg]
    lips_t = reg_t[model.lips]
    size = float(np.linalg.norm(lips_t[0] - lips_t[10]))       # mouth width in pixels
    size = max(size, 8.0)
    feather = 0.09 * size
    # Work only where the alpha can be non-zero: the hull of wanted and own lower face (the chin
    # may move) plus the feather; the mesh's outer ring lies beyond it.
    hull = cv2.convexHull(np.vstack([reg_t, own[:n_reg]]).astype(np.float32))[:, 0]
    x0, y0, w, h = crop_box(hull, wid, hgt, pad=int(np.ceil(3 * feather)) + 4)
    if w < 8 or h < 8:
        return None
    # Backward map: output pixel -> exemplar pixel, one cubic pass from the exemplar's pixels.
    mx, my, cov, tri_id = g.triangle_maps(target, ex.points - [ex.x0, ex.y0], model.tris, x0, y0, w, h,
                                          with_index=True)
    warped = cv2.remap(ex.image, mx, my, cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE)
    warped = warped.astype(np.float32)
    src = (image.region(x0, y0, w, h) if hasattr(image, "region")
           else image[y0:y0 + h, x0:x0 + w]).astype(np.float32)

    # Lower-face mask, softened.
    face = _poly((h, w), hull, x0, y0).astype(np.float32)
    face *= cov
    kf = 2 * max(1, int(feather)) + 1
    alpha = _blur(cv2.erode(face, np.ones((kf, kf), np.uint8)), feather)

    # Skin (not lips, not mouth) where lighting can be compared between exemplar and frame.
    lips_own = own[:n_reg][model.lips[:20]]
    lipmask = np.maximum(_poly((h, w), lips_t[:20], x0, y0), _poly((h, w), lips_own, x0, y0))
    k = max(3, int(0.12 * size)) | 1
    lipmask = cv2.dilate(lipmask, np.ones((k, k), np.uint8)).astype(np.float32)
    skin = face * (1.0 - lipmask)
    # Lighting: a low-frequency offset (normalised convolution over the skin), which moves the
    # exemplar's shading to the frame's without scaling its texture contrast. Low frequencies
    # only, so it is estimated on a reduced image.
    sig = 0.35 * size
    f = max(1, int(sig / 2.5))
    small = (max(1, w // f), max(1, h // f))
    s_skin = cv2.resize(skin, small, interpolation=cv2.INTER_AREA)
    s_src = cv2.resize(src, small, interpolation=cv2.INTER_AREA) * s_skin[..., None]
    s_out = cv2.resize(warped, small, interpolation=cv2.INTER_AREA) * s_skin[..., None]
    ssig = sig / f
    ws = cv2.GaussianBlur(s_skin, (0, 0), ssig) + 1e-4
    off = (cv2.GaussianBlur(s_src, (0, 0), ssig) - cv2.GaussianBlur(s_out, (0, 0), ssig)) / ws[..., None]
    # Far from any skin sample the estimate is noise; fall back to the mean offset there.
    conf = np.clip(ws / 0.3, 0.0, 1.0)[..., None]
    mean_off = ((off * s_skin[..., None]).sum((0, 1)) / max(float(s_skin.sum()), 1.0)).astype(np.float32)
    off = conf * off + (1 - conf) * mean_off
    offset = cv2.resize(off, (w, h), interpolation=cv2.INTER_LINEAR)
    out = warped + offset

    # Grain: where the output geometry matches this frame's own (skin that did not move), the
    # frame's own fine detail replaces the resampled one, so the patch is as sharp as the source.
    # Within a triangle the displacement from the frame's own geometry is linear, so its corners
    # bound it: a triangle whose corners moved less than ~1 px keeps the frame's grain.
    moved = np.linalg.norm(target - own, axis=1)[model.tris].max(1).astype(np.float32)
    disp = cv2.GaussianBlur(moved[tri_id], (0, 0), 2.0)
    still = np.clip(1.5 - disp, 0.0, 1.0)
    hp_sig = 1.0
    hp_src = src - _blur(src, hp_sig)
    hp_out = out - _blur(out, hp_sig)
    grain_w = (still * (1.0 - lipmask))[..., None]
    out = out + grain_w * (hp_src - hp_out)

    # Mouth interior where the target opens wider than the exemplar: dark cavity, tongue below.
    inner_t = lips_t[20:]
    gap_t = _inner_gap(reg_t, model)
    gap_e = _inner_gap(ex.points[:n_reg], model)
    if gap_t > 2.0 and gap_t > 1.3 * gap_e:
        amount = float(np.clip((gap_t / max(gap_e, 0.5) - 1.3) / 1.2, 0.0, 0.85))
        inner = _poly((h, w), inner_t, x0, y0).astype(np.float32)
        inner = _blur(inner, max(0.6, 0.04 * size))
        top = inner_t[:, 1].min() - y0
        bot = inner_t[:, 1].max() - y0
        rows = np.clip((np.arange(h, dtype=np.float32) - top) / max(bot - top, 1.0), 0, 1)
        shade = np.clip((rows - 0.45) / 0.55, 0, 1)[:, None, None]
        fill = look.cavity * (1 - shade) + look.tongue * shade
        # the exemplar's own teeth stay near the upper lip, the cavity takes the rest
        keep_teeth = np.clip(1.0 - rows / 0.3, 0, 1)[:, None] * 0.6
        a = (inner * amount * (1 - keep_teeth))[..., None]
        out = out * (1 - a) + fill.astype(np.float32) * a

    # Detail matched per kind of region (lips with lips, moved skin with skin), so an open
    # mouth is not judged against the frame's closed one by its skin.
    inside = alpha > 0.5
    out = _match_detail(out, src, [inside & (lipmask > 0), inside & (lipmask == 0) & (still < 0.5)],
                        lipmask)

    if is_self:
        # Same source frame and nearly the same geometry: keep the frame's own pixels.
        alpha = alpha * np.clip(disp / 0.75, 0.0, 1.0)
    alpha *= float(fade)
    out = np.clip(out, 0, look.peak)
    return Patch(x0, y0, out, alpha.astype(np.float32))


# Per-frame detail matching may move the fine band by at most this factor either way.
DETAIL_RANGE = (0.75, 1.25)


def _match_detail(out: np.ndarray, src: np.ndarray, regions: list, lipmask: np.ndarray) -> np.ndarray:
    """Give the patch's finest band the energy this frame has in the same place.

    Resampling softens, squeezing a mouth shut sharpens; the frame's own texture energy (grain,
    codec softness, motion blur) is the reference, so the mouth is as sharp as its frame and no
    sharper. `regions` are [lips, moved skin], each matched on its own and blended by the lip
    mask. The change is bounded: a mouth that opens where the frame's was closed may keep some
    extra edges.
    """
    g_out = cv2.cvtColor(np.ascontiguousarray(out), cv2.COLOR_RGB2GRAY)
    g_src = cv2.cvtColor(np.ascontiguousarray(src), cv2.COLOR_RGB2GRAY)
    l_out = cv2.Laplacian(g_out, cv2.CV_32F)
    l_src = cv2.Laplacian(g_src, cv2.CV_32F)
    ks = []
    for region in regions:
        k = 1.0
        if region.sum() >= 64:
            e_out, e_src = float(l_out[region].var()), float(l_src[region].var())
            if e_out > 1e-6 and e_src > 1e-6:
                k = float(np.clip(np.sqrt(e_src / e_out), *DETAIL_RANGE))
        ks.append(k)
    if all(abs(k - 1.0) < 0.02 for k in ks):
        return out
    soft = cv2.GaussianBlur(lipmask.astype(np.float32), (0, 0), 2.0)
    kmap = (ks[0] * soft + ks[1] * (1.0 - soft))[..., None]
    low = cv2.GaussianBlur(out, (0, 0), 1.0)
    return low + kmap * (out - low)


def _inner_gap(region_pts: np.ndarray, model: MouthModel) -> float:
    pos = {int(k): i for i, k in enumerate(model.region)}
    return float(np.mean([np.linalg.norm(region_pts[pos[a]] - region_pts[pos[b]]) for a, b in g.APERTURE_PAIRS]))
