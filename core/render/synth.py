"""Synthesis of one output frame's lower face from one exemplar of the actor's own frames.

One resampling pass (a piecewise-affine map from the target landmarks into the exemplar, cubic),
then, in floating point at the source's own scale (8- or 16-bit values): a low-frequency offset that
matches the exemplar to this frame's lighting, the frame's own fine grain put back on the skin where
the geometry has not moved, a synthesised mouth interior where the target opens wider than the
exemplar did, and a feathered lower-face alpha. The caller composites the patch.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass, field

import cv2
import numpy as np

from . import geometry as g
from .lip_band import MIN_LIP_PIXELS, shown_lips
from .median import median_of
from .mask import (CHIN_MARGIN, FADE, JAW_MARGIN, blend_masks, blur_reduction, exemplar_silhouette,
                   jaw_positions, muzzle_extent, positions, shared_face)
from .model import MouthModel

# The exemplar's one resampling pass: cubic. Lanczos keeps more of the fine band (expr_disgusted
# sharpness 0.881 -> 0.907 with the old detail match) but costs 3x (22 vs 7 ms on a 600x500
# patch); with the detail gain solved exactly the fine band is given back either way
# (expr_surprised 1.061 cubic, 1.058 Lanczos).
RESAMPLE = cv2.INTER_CUBIC


def _resampled(img: np.ndarray, mx: np.ndarray, my: np.ndarray) -> np.ndarray:
    """The exemplar's one resampling pass (RESAMPLE, replicated border) as float32, rounded and
    clipped to its integer type's levels as OpenCV's pass on the integers gives them. OpenCV's
    cubic remap has no vector path for 8-bit images; on float32 it runs 2.0 against 2.7 ms for a
    bench patch (a 340x330 map), the conversion included. The weights are the same table's in
    float instead of 15-bit fixed point: a level differs where the sum lies within ~1e-4 of a
    half."""
    out = cv2.remap(img.astype(np.float32), mx, my, RESAMPLE, borderMode=cv2.BORDER_REPLICATE)
    np.rint(out, out=out)
    return _clip0(out, np.iinfo(img.dtype).max)


def _clip0(a: np.ndarray, hi: float) -> np.ndarray:
    """np.clip(a, 0, hi, out=a) of a contiguous float32 array (returned): two passes of OpenCV's
    threshold (truncate at hi, then zero what is not above 0), 0.033 against 0.146 ms for a
    3-channel bench patch (0.05 one channel); the same values (a NaN stays NaN either way)."""
    cv2.threshold(a, hi, 0, cv2.THRESH_TRUNC, dst=a)
    cv2.threshold(a, 0, 0, cv2.THRESH_TOZERO, dst=a)
    return a


@dataclass
class Exemplar:
    frame: int
    image: np.ndarray      # lower-face crop in the source's dtype (uint8 or uint16), RGB
    x0: int
    y0: int
    points: np.ndarray     # (P + Q, 2) region then ring points, frame pixels
    gap: float             # inner-lip gap in pixels
    # CIE L* its lips are held lighter by than the actor's range's dark end asks (retrack_shift)
    lip_shift: float = 0.0
    # float32 (h, w) 1 inside the exemplar's own face (_within_exemplar_face), made at first use
    face: np.ndarray | None = field(default=None, repr=False, compare=False)


@dataclass
class Patch:
    x0: int
    y0: int
    rgb: np.ndarray        # float32 (h, w, 3) in the source's value scale
    alpha: np.ndarray      # float32 (h, w) 0..1
    mouth: np.ndarray | None = None   # float32 (h, w) 0..1: the lips and opening (from the exemplar)
    points: np.ndarray | None = None  # (P + Q, 2) the target points it was drawn at, frame pixels


@dataclass
class Look:
    """Per-shot appearance constants the synthesis needs."""
    peak: float                 # 255 or 65535
    cavity: np.ndarray          # (3,) colour of the darkest mouth interior seen in the shot
    tongue: np.ndarray          # (3,) colour of the lower interior
    # [[L lo, L hi], [chroma lo, chroma hi]] (CIE Lab) of this actor's lips in the shot, or None
    lip_range: np.ndarray | None = None
    # the shot's most open clean exemplar: real teeth, tongue and cavity for a wider opening
    open_ex: "Exemplar | None" = None


def crop_box(points: np.ndarray, width: int, height: int, pad: int = 4) -> tuple[int, int, int, int]:
    x0, y0 = np.floor(points.min(0)).astype(int) - pad
    x1, y1 = np.ceil(points.max(0)).astype(int) + pad
    x0, y0 = max(0, x0), max(0, y0)
    x1, y1 = min(width, x1), min(height, y1)
    return int(x0), int(y0), int(max(x1 - x0, 1)), int(max(y1 - y0, 1))


def _blur(img: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian blur; wide ones run on an image reduced by blur_reduction(sigma) (they only
    carry low frequencies), padded to a whole number of reduced pixels:
    OpenCV's area reduction by a whole factor is its fast path (0.01 against 0.19 ms for a
    285x355 mask halved). A one-channel image (a mask) is blurred only over its non-zero
    pixels' box widened by the blur's reach (zero elsewhere, as the whole blur gives there)."""
    sigma = max(sigma, 0.3)
    f = blur_reduction(sigma)
    if f < 2:
        if img.ndim == 2:
            return _blur_support(img, sigma)
        return _gauss(img, sigma, cv2.BORDER_REFLECT)
    if img.ndim == 3:
        return _reduced_blur(img, sigma, f)
    box = _support(img, int(np.ceil(4 * sigma)) + 2 * f)
    if box is None:
        return np.zeros(img.shape, np.float32)
    if (box[0].stop - box[0].start) * (box[1].stop - box[1].start) > 0.7 * img.size:
        return _reduced_blur(img, sigma, f)
    out = np.zeros(img.shape, np.float32)
    out[box] = _reduced_blur(img[box], sigma, f)
    return out


def _gauss(img: np.ndarray, sigma: float, border: int = cv2.BORDER_REFLECT_101) -> np.ndarray:
    """OpenCV's Gaussian blur with its kernel cut at 3 sigma each side (the size it picks for
    8-bit images) instead of the 4 it picks for float ones: the weights left out are 0.27% of
    the kernel (a value moves by at most that share of its neighbourhood's range), and the
    sigma-1 blurs of a bench patch take 7 taps instead of 9 (0.39 -> 0.32 ms a 3-channel
    patch), the reduced blurs' 21 instead of 29."""
    k = 2 * gauss_reach(sigma) + 1
    return cv2.GaussianBlur(img, (k, k), sigma, sigmaY=sigma, borderType=border)


def gauss_reach(sigma: float) -> int:
    """_gauss' kernel radius (pixels) for `sigma`."""
    return (int(round(sigma * 6 + 1)) | 1) // 2


def _reduced_blur(img: np.ndarray, sigma: float, f: int) -> np.ndarray:
    """_blur's reduced path. The area reduction and the linear interpolation back spread the
    image too: about REDUCED_SPREAD f^2 of variance (pixels^2) is taken off the blur's (an
    edge's blur then within 1.2% of the whole image's at sigma 3.3, 0.3% at 6.6, against 2.8%
    and 0.8% without)."""
    h, w = img.shape[:2]
    # A side that is not a whole number of reduced pixels is padded with the image's reflection
    # as far as the kernel reaches (the reduced image's own reflected border would mirror it
    # about the wrong line: up to 0.2 of a mask's step over the kernel's width).
    reach = f * int(np.ceil(4 * sigma / f))
    ph, pw = (-h % f and -h % f + reach), (-w % f and -w % f + reach)
    sigma = max(sigma * sigma - REDUCED_SPREAD * f * f, 0.25 * f * f) ** 0.5
    if ph or pw:
        img = cv2.copyMakeBorder(img, 0, ph, 0, pw, cv2.BORDER_REFLECT)
    small = cv2.resize(img, ((w + pw) // f, (h + ph) // f), interpolation=cv2.INTER_AREA)
    small = _gauss(small, sigma / f, cv2.BORDER_REFLECT)
    up = cv2.resize(small, (w + pw, h + ph), interpolation=cv2.INTER_LINEAR)
    return up if not (ph or pw) else np.ascontiguousarray(up[:h, :w])


REDUCED_SPREAD = 0.25


def _support(img: np.ndarray, reach: int) -> tuple[slice, slice] | None:
    """The box of a one-channel image's non-zero pixels widened by `reach`, within the image;
    None when it has none. (OpenCV's bounding box of the non-zero mask: 0.015 against 0.05 ms
    for numpy's any() over both axes of a float image, five or six masks a frame.)"""
    nz = img if img.dtype == np.bool_ else np.not_equal(img, 0)
    x, y, bw, bh = cv2.boundingRect(nz.view(np.uint8))
    if bw == 0:
        return None
    h, w = img.shape
    return (slice(max(y - reach, 0), min(y + bh + reach, h)),
            slice(max(x - reach, 0), min(x + bw + reach, w)))


def _blur_support(img: np.ndarray, sigma: float) -> np.ndarray:
    """A one-channel full-resolution Gaussian blur computed only over the box of the image's
    non-zero pixels widened by the kernel's radius (a mask: the lips' in the patch is about a
    third of it); zero elsewhere, which is what the whole blur gives there. The same values bit
    for bit: the box's reflected border only reflects zeros, or is the image's own border
    (tests/test_pipeline_speed.py)."""
    r = gauss_reach(sigma)
    box = _support(img, r)
    if box is None:
        return np.zeros(img.shape, img.dtype)
    h, w = img.shape
    if (box[0].stop - box[0].start) * (box[1].stop - box[1].start) > 0.7 * h * w:
        return _gauss(img, sigma, cv2.BORDER_REFLECT)
    out = np.zeros(img.shape, img.dtype)
    out[box] = _gauss(img[box], sigma, cv2.BORDER_REFLECT)
    return out


def _rgb(plane: np.ndarray) -> np.ndarray:
    """A one-channel plane as three equal channels, to scale an RGB image by it: numpy's
    broadcast of (h, w, 1) against (h, w, 3) runs an inner loop of 3 (0.5-1.0 ms a 311x456
    patch, against 0.1 ms merged and multiplied; the same products)."""
    return cv2.merge((plane, plane, plane))


def _channel_mean(img: np.ndarray) -> np.ndarray:
    """img.mean(2) of a float32 (h, w, 3) image, the same sums in the same order ((r + g) + b,
    then / 3), without numpy's reduction over an axis of 3 (0.43 against 0.03 ms on 120x200)."""
    s = img[..., 0] + img[..., 1]
    s += img[..., 2]
    s /= 3
    return s


def _poly(shape, pts, x0, y0) -> np.ndarray:
    m = np.zeros(shape, np.uint8)
    p = np.round((pts - [x0, y0]) * 16).astype(np.int32)
    cv2.fillPoly(m, [p], 1, lineType=cv2.LINE_8, shift=4)
    return m


def synthesize(image: np.ndarray, ex: Exemplar, target: np.ndarray, own: np.ndarray, model: MouthModel,
               look: Look, fade: float, is_self: bool, prev: "Patch | None" = None,
               prev_share: float = 0.0) -> Patch | None:
    """Build the lower face of `image` (the output frame's source pixels: an RGB array, or a
    media Frame, of which only the patch's box is converted) from exemplar `ex`.

    target: (P + Q, 2) wanted region + ring points in this frame; own: the frame's own points (same
    ring). `fade` scales the alpha (ramps into and out of passed-through ranges). `prev`, the
    previous frame's patch, is blended into the lips by `prev_share` (none at 0) and into the
    skin around them (SKIN_SHARE) before the detail match.
    Returns the patch, or None when the face is not in the picture.
    """
    if hasattr(image, "region"):        # a decoded media Frame: convert only the box used
        wid, hgt = image.size
    else:
        hgt, wid = image.shape[:2]
    n_reg = len(model.region)
    ex_src = _sealed_source(ex, target, model)
    target = _unfolded(target, ex_src, model)
    reg_t = target[:n_reg]
    lips_t = reg_t[model.lips]
    size = float(np.linalg.norm(lips_t[0] - lips_t[10]))       # mouth width in pixels
    size = max(size, 8.0)
    feather = 0.09 * size
    # Work only where the alpha can be non-zero: the hull of wanted and own lower face (the chin
    # may move) plus the feather; the mesh's outer ring lies beyond it.
    below = _lift_below(model, reg_t, own[:n_reg], size)       # the lifted neck's easing band
    hull = cv2.convexHull(np.vstack([reg_t, own[:n_reg], below]).astype(np.float32))[:, 0]
    x0, y0, w, h = _work_box(crop_box(hull, wid, hgt, pad=int(np.ceil(3 * feather)) + 4),
                             _widened(muzzle_extent(model.region, reg_t, own[:n_reg], size), below))
    if w < 8 or h < 8:
        return None
    # Backward map: output pixel -> exemplar pixel, one pass from the exemplar's pixels.
    mx, my, cov, tri_id = g.triangle_maps(target, ex_src - [ex.x0, ex.y0],
                                          model.tris, x0, y0, w, h, with_index=True)
    _smooth_skin_map(mx, my, cov, target, ex_src - [ex.x0, ex.y0], lips_t[:20], x0, y0, size)
    warped = _resampled(ex.image, mx, my)
    _soften_tears(warped, mx, my, cov, target, ex_src - [ex.x0, ex.y0], model.tris, x0, y0)
    src = (image.region(x0, y0, w, h) if hasattr(image, "region")
           else image[y0:y0 + h, x0:x0 + w]).astype(np.float32)

    alpha, lipmask, skin = blend_masks(model.region, reg_t, own[:n_reg], cov, lips_t[:20],
                                       own[:n_reg][model.lips[:20]], x0, y0, w, h, size, _blur)
    alpha *= _within_picture(ex, mx, my, size)
    alpha *= _within_exemplar_face(ex, model, mx, my, size)
    skin = _comparable_skin(skin, model, reg_t, own[:n_reg], x0, y0, w, h, size)
    out = warped                        # the warped copy is this frame's own: offset in place
    out += _light_offset(src, warped, skin, size, w, h)
    disp, still, lip_soft = _carry_grain(out, src, np.linalg.norm(target - own, axis=1), model,
                                         tri_id, skin, lipmask, size)
    _match_edge_light(out, src, alpha, skin, disp, lip_soft, size, w, h,
                      functools.partial(_off_jaw, model, reg_t, own[:n_reg], size, x0, y0))
    out = _lip_colour(out, src, lips_t, own[:n_reg][model.lips], x0, y0, look)
    out = _mouth_interior(out, target, reg_t, lips_t, ex, model, look, x0, y0, w, h, size)

    if prev is not None and prev_share > 0:
        _blend_previous(out, x0, y0, lip_soft, prev, prev_share, target, model, look.peak,
                        size, (tri_id, cov))
    if prev is not None:
        _steady_bands(out, x0, y0, target, prev, model, lip_soft, size, inside=prev_share > 0,
                      raster=(tri_id, cov))

    # Detail matched per kind of region (lips with lips, moved skin with skin), so an open
    # mouth is not judged against the frame's closed one by its skin.
    inside = alpha > 0.5
    lips_in = inside & (lipmask > 0)
    skin_moved = inside & (lipmask == 0) & (still < 0.5)
    out = _match_detail(out, src, [(lips_in, lips_in), (skin_moved, skin_moved)], lipmask)

    if is_self:
        # Same source frame and nearly the same geometry: keep the frame's own pixels.
        alpha = alpha * np.clip(disp / 0.75, 0.0, 1.0)
    alpha *= float(fade)
    _clip0(out, look.peak)
    _keep_lip_range(out, src, alpha, lips_t, x0, y0, look, dark_shift=ex.lip_shift)
    alpha = _lift_neck(out, alpha, src, reg_t, own[:n_reg], model, fade, size, x0, y0, w, h)
    return Patch(x0, y0, out, alpha.astype(np.float32, copy=False), lip_soft.astype(np.float32, copy=False),
                 target)


def _comparable_skin(skin, model: MouthModel, reg_t, own, x0: int, y0: int, w: int, h: int,
                     size: float) -> np.ndarray:
    """The skin where light is compared and the grain's noise level read (_carry_grain): where
    the frame and the wanted pose both show face (mask.shared_face). Under a raised chin the
    frame's own chin skin against the exemplar's collar read as light to add (held-out
    vw_emotion f53: a grey, lifted collar). Where they barely overlap (under a quarter of the
    skin), the whole skin as before: no estimate from a handful of pixels."""
    both = shared_face((h, w), model.region, reg_t, own, x0, y0, size)
    if both is None or cv2.countNonZero(both) < 0.25 * cv2.countNonZero((skin > 0.5).view(np.uint8)):
        return skin
    return skin * both


def _lift_neck(out, alpha, src, reg_t, own, model: MouthModel, fade: float, size: float,
               x0: int, y0: int, w: int, h: int) -> np.ndarray:
    """Under a chin raised above the frame's own (a closure or a rest wanted over an open mouth),
    the frame's own jaw edge and what lies under it (neck, collar, background) drawn up with the
    chin, in place on `out`; returns the patch's alpha over it. Left to the frame, the band
    between the two chins showed the frame's own chin skin under the exemplar's jaw line, a
    double chin; filled with what lay under the exemplar's chin, its collar and hair did not meet
    the frame's (held-out vw_emotion f9, f53). The map is a strip under the wanted jaw line: each
    jaw point draws from the frame's own one along the face's down direction (nose to chin; the
    jaw line's two end points not at all, the strip meeting the frame there), the band LIFT_HOLD
    fade widths under it moved whole (as far as the box allows), then easing to no move
    LIFT_REACH fade widths under the largest rise, so the frame's pixels are resampled only
    there; elsewhere the patch is left bit for bit. The lifted pixels lie over the patch under
    the wanted jaw line and ease in over it for LIFT_ABOVE fade widths above it: the jaw's edge
    is the frame's own, not the exemplar's chin, which need not end at its tracked jaw line."""
    got = _jaw_down(model, reg_t)
    if got is None:
        return alpha
    jaw, down = got
    top = reg_t[jaw].astype(np.float64)
    # The lift eases out over the jaw line's last two points, not one: its whole rise next to an
    # unmoved end bent the lifted jaw edge into a kink (turn f168-169 and turn_small f189 at the
    # jaw's side, vz_eyes f43 a notch; held at half there, one smooth line).
    taper = np.ones(len(jaw))
    taper[[0, -1]] = 0.0
    taper[[1, -2]] = 0.5
    rise = np.maximum((own[jaw] - top) @ down, 0.0) * taper
    # Only as far as the patch shows its jaw there: where its alpha has faded above the jaw line
    # (its exemplar's chin met the picture's edge, _within_picture), the frame's own chin shows,
    # and its neck lifted under it met that chin as a hard arc (selfie f65).
    rise *= _shown_above(alpha, top - FADE * size * down, fade, x0, y0)
    if rise.max() < LIFT_MIN * FADE * size:
        return alpha                    # no chin raised past the patch's fade: nothing to lift
    dst, frm, strip, share = _lift_strip(top, rise, down, FADE * size, x0, y0, w, h)
    # Only the strip's box (the grain's blur reach around it) is worked: a few thousand pixels.
    # The map is drawn over the strip's points' box with room for that reach and the raster's
    # hole filling (0.4 ms, against 2.3-5.5 ms over a 456x311 to 640x520 patch box).
    sx0, sy0, sw, sh = crop_box(dst - [x0, y0], w, h, pad=HP_REACH + 6)
    bmx, bmy, bcov, bids = g.triangle_maps(dst, frm - [x0, y0], strip, x0 + sx0, y0 + sy0, sw, sh,
                                           with_index=True)
    inner = _support(bcov, HP_REACH + 2)
    if inner is None:
        return alpha
    by = slice(inner[0].start + sy0, inner[0].stop + sy0)
    bx = slice(inner[1].start + sx0, inner[1].stop + sx0)
    box = (by, bx)
    # How far down the band above the jaw line each pixel lies (0 at its top, 1 from the jaw line
    # down): the frame's lifted chin is laid over the patch by that much. Its map on the strip's
    # raster already drawn (the box holds every drawn pixel with a margin, so the raster and its
    # hole filling are the same as drawn again over the box; an uncovered pixel's value, whose
    # lift is 0, is not used): 0.7 ms less on each of the bench's 16 lifting frames.
    ramp, _ = g.maps_on_raster(bids[inner], dst - [x0 + bx.start, y0 + by.start],
                               np.stack([share, np.zeros_like(share)], 1), strip)
    ys, xs = np.mgrid[by, bx].astype(np.float32)
    mx, my, on_strip = bmx[inner], bmy[inner], bcov[inner]
    # The lifted pixels count by how far they moved, in full from one fade width: along the jaw
    # line the rise grows from nothing at its ends, and counted in full from one pixel the
    # frame's pixels began to cover the patch in a step there (0 to 1 within a pixel of rise).
    lift = np.clip(((mx - xs) * float(down[0]) + (my - ys) * float(down[1])) / (FADE * size), 0.0, 1.0)
    lift *= on_strip
    if not lift.any():
        return alpha
    bg = _lifted_frame(src, box, mx, my, on_strip, lift)
    # The frame's lifted pixels over the patch, by r: under the jaw line wholly (the exemplar's
    # own chin edge, which its tracked jaw line need not follow, is not shown there), above it
    # easing in over the band. Composite at a fade of 1: (src (1 - a) + o a) (1 - r) + bg r.
    # (a carries the fade already; r is faded with it, so the total stays within the fade)
    a = alpha[box]
    r = np.clip(ramp, 0.0, 1.0) * lift
    keep = a * (1.0 - r)                           # the patch's share left
    r *= float(fade)
    total = keep + r
    o = out[box]
    mix = o * _rgb(keep) + bg * _rgb(r)
    np.divide(mix, _rgb(np.maximum(total, 1e-6)), out=o, where=_rgb(r) > 0)
    alpha = alpha.copy()
    alpha[box] = total
    return alpha.astype(np.float32, copy=False)


def _jaw_down(model: MouthModel, reg_t: np.ndarray):
    """(the jaw line's region positions, the face's unit down direction from nose to chin in
    the wanted shape `reg_t`), or None when the region lacks them."""
    jaw = jaw_positions(model.region)
    chin, nose = (np.flatnonzero(model.region == k) for k in (152, 164))
    if not len(chin) or not len(nose) or len(jaw) < 3:
        return None
    down = reg_t[chin[0]] - reg_t[nose[0]]
    return jaw, down / max(float(np.linalg.norm(down)), 1e-6)


def _lift_below(model: MouthModel, reg_t: np.ndarray, own: np.ndarray, size: float) -> np.ndarray:
    """Frame points (k, 2) the lifted neck's strip may reach beyond the frame's own jaw line: its
    points moved down by as much as LIFT_STRETCH asks past the rise and LIFT_REACH (none when the
    chin is not raised past that); the working box is widened to hold them."""
    got = _jaw_down(model, reg_t)
    if got is None:
        return np.empty((0, 2))
    jaw, down = got
    rise = float(np.max((own[jaw] - reg_t[jaw]) @ down))
    extra = _ease_reach(rise, FADE * size) - (rise + LIFT_REACH * FADE * size)
    if rise < LIFT_MIN * FADE * size or extra <= 0:
        return np.empty((0, 2))
    return own[jaw] + extra * down


def _widened(extent, pts: np.ndarray):
    """The extent (x0, y0, x1, y1) widened to hold `pts` (frame pixels)."""
    if not len(pts):
        return extent
    x0, y0, x1, y1 = extent
    (px0, py0), (px1, py1) = pts.min(0), pts.max(0)
    return min(x0, float(px0)), min(y0, float(py0)), max(x1, float(px1)), max(y1, float(py1))


def _lifted_frame(src: np.ndarray, box, mx: np.ndarray, my: np.ndarray, on_strip: np.ndarray,
                  lift: np.ndarray) -> np.ndarray:
    """The frame's own pixels over `box` drawn through the lift's map (mx, my, frame pixels;
    `on_strip` where the strip covers), its fine grain kept at the pixel where `lift` > 0."""
    here = src[box]
    # Resampled as the exemplar is (RESAMPLE, cubic), kept within the box's own levels: bilinear
    # took the fine band off the frame's lifted beard and jaw (mouth-box sharpness vz_longhair
    # 0.949, vw_emotion 0.957 at 4161653; cubic 0.955, 0.967, selfie 0.958 both).
    bg = cv2.remap(src, mx, my, RESAMPLE, borderMode=cv2.BORDER_REPLICATE)
    _clip0(bg, float(src.max()))
    # off the strip the map is another triangle's: the frame's own pixels there, so the moved
    # image's fine band has no edge at the strip's border
    np.copyto(bg, here, where=~on_strip[..., None])
    _keep_pixel_grain(bg, here, lift > 0)
    return bg


def _lift_strip(top: np.ndarray, rise: np.ndarray, down: np.ndarray, fade_px: float,
                x0: int, y0: int, w: int, h: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The lifted strip's mesh: (dst, frm) points (rows of the jaw line's points, frame pixels),
    its triangles, and each point's share of the frame's lifted chin over the patch (0 on the top
    row, 1 from the jaw line down). Rows: LIFT_ABOVE fade widths above the wanted jaw line `top`,
    the line, LIFT_HOLD fade widths under it (the three moved whole by `rise` along `down`), then
    LIFT_ROWS rows easing the move off to the anchor, LIFT_REACH further under the largest rise
    (unmoved). Each jaw segment is cut into LIFT_COLUMNS columns. The strip stays inside the box
    (the frame's pixels beyond it are never moved): the band above and the hold are shortened
    where the box ends first."""
    reach = _ease_reach(float(rise.max()), fade_px)
    held = float(np.clip(_room_along(top, down, x0, y0, w, h) - 1.0 - reach, 0.0, LIFT_HOLD * fade_px))
    # (the room above is that of the points that move: an unmoved end point off the box, a face
    # at the picture's side, would take the band away along the whole line)
    over = float(np.clip(_room_along(top[rise > 0], -down, x0, y0, w, h) - 1.0, 0.0,
                         LIFT_ABOVE * fade_px))
    # Finer than the jaw points: one quad per segment, cut into two triangles, moves a line
    # across the easing band by two different affine maps, and where the rise changes along the
    # segment the line bends at the diagonal in every segment (held-out ve_sticker f42: rises of
    # 7 and 21 px at one segment's ends, (1 - s) s 14 = 3.5 px off at mid-band). The same map
    # along every row and column, only finer.
    t = np.linspace(0.0, len(top) - 1.0, (len(top) - 1) * LIFT_COLUMNS + 1)
    top = np.stack([np.interp(t, np.arange(len(top)), top[:, k]) for k in range(2)], 1)
    rise = np.interp(t, np.arange(len(rise)), rise)
    up = rise[:, None] * down
    hold, anchor = top + held * down, top + (reach + held) * down
    ease = np.linspace(0.0, 1.0, LIFT_ROWS + 1)[1:]
    dst = [top - over * down, top, hold] + [hold + e * (anchor - hold) for e in ease]
    frm = [top - over * down + up, top + up, hold + up] + [d + (1.0 - e) * up
                                                          for d, e in zip(dst[3:], ease)]
    n = len(top)
    band = lambda a, b: ([(a + i, a + i + 1, b + i) for i in range(n - 1)]
                         + [(a + i + 1, b + i + 1, b + i) for i in range(n - 1)])
    strip = np.array([tri for r in range(len(dst) - 1) for tri in band(r * n, (r + 1) * n)], np.int32)
    share = np.repeat((np.arange(len(dst)) > 0).astype(np.float64), n)
    return np.vstack(dst), np.vstack(frm), strip, share


def _ease_reach(rise: float, fade_px: float) -> float:
    """How far under the wanted jaw line the lifted strip eases off to no move, for the largest
    rise: past the rise by LIFT_REACH fade widths, and at least LIFT_STRETCH times the rise."""
    return max(rise + LIFT_REACH * fade_px, LIFT_STRETCH * rise)


def _shown_above(alpha: np.ndarray, pts: np.ndarray, fade: float, x0: int, y0: int) -> np.ndarray:
    """(N,) 0..1: the patch's alpha at `pts` (frame pixels) over the frame's fade, 0 off the box."""
    if fade <= 0:
        return np.zeros(len(pts))
    h, w = alpha.shape
    q = np.round(pts - [x0, y0]).astype(int)
    ok = (q[:, 0] >= 0) & (q[:, 0] < w) & (q[:, 1] >= 0) & (q[:, 1] < h)
    got = np.zeros(len(pts))
    got[ok] = alpha[q[ok, 1], q[ok, 0]]
    return np.clip(got / fade, 0.0, 1.0)


def _room_along(pts: np.ndarray, d: np.ndarray, x0: int, y0: int, w: int, h: int) -> float:
    """How far (pixels) every one of `pts` can go along the unit direction `d` and stay inside the
    box at (x0, y0) of size (w, h)."""
    room = np.inf
    for k, (lo, hi) in enumerate(((x0, x0 + w - 1), (y0, y0 + h - 1))):
        if d[k] > 1e-6:
            room = min(room, float(np.min((hi - pts[:, k]) / d[k])))
        elif d[k] < -1e-6:
            room = min(room, float(np.min((lo - pts[:, k]) / d[k])))
    return room


def _keep_pixel_grain(moved: np.ndarray, src: np.ndarray, where: np.ndarray) -> None:
    """In place on `moved` (the frame's pixels resampled): its fine band within the frame's noise
    level (GRAIN_CORE times the fine band's robust spread off edges) replaced by the frame's
    own at the same pixel, as _carry_grain does on the lips, and only where neither image has an
    edge there (fine-band energy under EDGE_ENERGY times its median, _carry_grain's `plain`):
    sensor noise and film grain belong to the pixel, and one bilinear resampling smooths them
    (the selfie's sensor noise: mouth-box sharpness 0.957 -> 0.944 with the lifted neck
    resampled, held-out selfie), while the frame's own jaw edge, where it no longer is, must not
    come back as a faint line, nor the moved one be flattened."""
    if np.count_nonzero(where) < 32:
        return
    hp_src = np.subtract(src, _gauss(src, HP_SIGMA, cv2.BORDER_REFLECT))
    hp_mov = np.subtract(moved, _gauss(moved, HP_SIGMA, cv2.BORDER_REFLECT))
    # The noise level is read on the quieter part of the whole box (its lower quartiles), not on
    # the strip: the frame's old jaw edge crosses a narrow strip, and its energy, blurred, filled
    # the strip, so the level that tells an edge from grain rose until the edge passed as grain.
    plain = None
    for hp in (hp_src, hp_mov):
        e = _gauss(_channel_mean(hp * hp), EDGE_REACH, cv2.BORDER_REFLECT)
        ref = float(np.percentile(e, 25)) / QUARTILE_ENERGY
        p = np.clip(2.0 - e / max(EDGE_ENERGY * ref, 1e-6), 0.0, 1.0)
        plain = p if plain is None else plain * p
    flat = plain > 0.5
    if np.count_nonzero(flat) < 32:
        return
    # |noise|'s lower quartile is 0.3186 sd, its median 0.6745 (so 1.4826 median = 2.1165 quartile)
    # (the flat pixels gathered as whole rows: a 3-channel boolean selection copies pixel by
    # pixel; 2.75 -> 2.40 ms a call on the bench's 16 lifting frames)
    fine = _rows(hp_src).take(np.flatnonzero(flat), 0)
    core = GRAIN_CORE * 2.1165 * float(np.percentile(np.abs(fine, out=fine), 25))
    if core <= 0:
        return
    moved += (np.clip(hp_src, -core, core) - np.clip(hp_mov, -core, core)) * _rgb(plain)


# The lifted strip's grain is kept off an edge by the edge's fine-band energy blurred this wide
# (pixels): the high band of a step reaches ~3 pixels either side of it, and at 2 a 180-level jaw
# edge still left a 2-3 level line where the frame's own chin had been (unit test, noise sd 3).
EDGE_REACH = 2.0
# A noise field's blurred fine-band energy, lower quartile over median (Gaussian noise, blurred
# at EDGE_REACH: measured 0.92 on sd 1, 3 and 6; the energy of a blur of many samples is nearly even).
QUARTILE_ENERGY = 0.92


# How far under a raised chin's wanted jaw line the frame's own pixels are still drawn up, in fade
# widths past the rise (mask.FADE): the frame's jaw edge and the shadow under it (about
# CHIN_MARGIN fade widths) fit above the strip's end, where the map meets the frame unmoved. 4
# read the same by eye on vw_emotion, its resampled strip a little softer (selfie mouth-box
# sharpness 0.944 at 4 against 0.949 at 3, both before _keep_pixel_grain).
LIFT_REACH = 3.0
# Under the wanted jaw line the frame's pixels are moved whole by the rise for this many fade
# widths before the map eases off: the frame's visible jaw edge and the shadow under it (about
# CHIN_MARGIN fade widths) go up by the whole rise. Eased from the jaw line itself, a jaw edge
# lying under the tracked one went up by less (held-out vw_emotion f9: Face Mesh's chin about two
# fade widths above where her skin meets her collar, a band of her chin skin left under the
# wanted jaw line).
LIFT_HOLD = 3.0
# Above the wanted jaw line the frame's own chin, lifted with it, is eased in over the patch for
# this many fade widths, so the chin's edge is the frame's own all along: the exemplar's visible
# chin need not lie on its tracked jaw line (turn f169: about 10 pixels under it, whose lit
# underside showed as a light rim over the frame's lifted jaw edge, with a dark wedge at its end).
LIFT_ABOVE = 2.0
# The lifted strip eases off over at least this many times the largest rise, so the frame's
# pixels under a raised chin are stretched at most this much (the box is widened for it,
# _lift_below). With the easing band the rise plus LIFT_REACH fade widths only, a wide "o" closed
# (held-out ve_sticker f25, f42, f142: rises of 24-30 px against a 3.6 px fade) stretched her
# choker under the chin 3.1-3.8x into streaks.
LIFT_STRETCH = 2.0
# The lifted strip's mesh: columns per jaw segment and rows over its easing band (_lift_strip).
# A level line's slope within a segment spread 1.04 with one quad a segment (ve_sticker's f42
# rises), 0.42 at 4 x 4, 0.37 at 8 x 8; by eye her choker's edge a little smoother at f40, f43.
LIFT_COLUMNS = 4
LIFT_ROWS = 4
# A chin raised by less than this many fade widths is not lifted: within the fade the two jaw
# lines read as one soft edge, and lifting resampled the frame's pixels under every closed
# frame of a close-up (held-out selfie: mouth-box sharpness 0.957 without the lift, 0.948 with it
# from a rise of half a pixel).
LIFT_MIN = 1.0


# The skin points next to the lips keep at least this share of their triangles' area in the
# exemplar (geometry.unfold): a wider opening than the exemplar's raises the upper lip (model
# set_gap) past the points under the nose, which the warp then turned over (expr_disgusted f98: a
# row of the philtrum stretched across the top of the upper lip, a pale notch in its edge).
FOLD_KEEP = 0.3


def _unfolded(target: np.ndarray, ex_src: np.ndarray, model: MouthModel) -> np.ndarray:
    """`target` with the region's skin points next to the lips moved so that no triangle among
    the region's points turns over against the exemplar's (see FOLD_KEEP)."""
    movable, in_region = _fold_sets(model, len(target))
    return g.unfold(target, ex_src, model.tris, movable, in_region, FOLD_KEEP)


def _fold_sets(model: MouthModel, n_points: int) -> tuple[np.ndarray, np.ndarray]:
    """_unfolded's movable points and checked triangles, the same for every frame of a model:
    worked out once per model (model.inner_tris alone was 0.19 ms a frame), in a cache of a
    few models (_FOLD_SETS, emptied when full)."""
    key = tuple((a.dtype.str, a.shape, a.tobytes()) for a in (model.region, model.tris, model.lips))
    key += (n_points,)
    got = _FOLD_SETS.get(key)
    if got is None:
        if len(_FOLD_SETS) >= 16:
            _FOLD_SETS.clear()
        n_reg = len(model.region)
        tris = model.tris
        in_region = (tris < n_reg).all(1) & ~model.inner_tris
        lip = np.zeros(n_points, bool)
        lip[model.lips] = True
        next_to_lips = np.zeros(n_points, bool)
        next_to_lips[tris[in_region & lip[tris].any(1)].ravel()] = True
        movable = next_to_lips & ~lip
        movable[n_reg:] = False
        movable.flags.writeable = in_region.flags.writeable = False     # shared by its frames
        got = _FOLD_SETS[key] = (movable, in_region)
    return got


_FOLD_SETS: dict = {}


# Where the warp's map tears (two neighbouring output pixels sample the exemplar more than TEAR
# times the map's usual step apart: a closed target's lips drawn from a parted exemplar, whose
# opening collapses to a line, or a triangle too thin to draw that takes a neighbour's map), the
# two sides meet as a hard, pixel-stepped edge: two-face dialogue frame 130, closed lips from an
# exemplar tracked 0.040 eye distances open (seen 0.013), showed the lower lip's lit surface cut
# straight against the upper lip's rim in 1-pixel stairs; expr_surprised f29-31 and the turn
# clip's f27 a black stepped line with teeth specks. There the warped exemplar takes its own blur
# (TEAR_SIGMA pixels), a soft line as a real lip line is. Sigma 0.6 left faint stairs at f130
# (8x zoom); 0.8 drew expr_surprised's closed lip line faint. The hard line read as detail:
# expr_surprised's mouth sharpness (Laplacian variance, in-process on its mouth box) 0.993 before,
# 0.956 at 0.8, 0.971 at 0.7, 0.979 at 0.6.
TEAR = 2.0
TEAR_SIGMA = 0.7


# The skin's map is smoothed this wide (Gaussian sigma, a share of the mouth's width), from
# nothing at the outer lips to in full SKIN_MAP_RAMP further out. The piecewise-affine map's
# slope jumps at every triangle's edge: where the wanted shape spaces the points under the lower
# lip other than the exemplar does (held-out ve_sticker f55, f68, f126-141: three chin points in
# a near-vertical line at 45% and 65% of their span), the thin triangles between them squeezed
# and stretched the shadow under her lip by turns, 3x and 0.3x, a grey saw with a sharp edge.
# 0.08 (6 px on her 75 px mouth) smooths it to the shadow's own soft blob; the lips keep the
# mesh's exact map, so their outline still lands on the wanted one.
SKIN_MAP_SIGMA = 0.08
SKIN_MAP_RAMP = 0.06


def _smooth_skin_map(mx: np.ndarray, my: np.ndarray, cov: np.ndarray, dst: np.ndarray,
                     src: np.ndarray, lips_out: np.ndarray, x0: int, y0: int, size: float) -> None:
    """Smooth the backward map (mx, my; in place) over the skin: the map less the mesh's
    overall affine (least squares, dst -> src, so a map that is affine stays exactly as it
    is and the box's border does not bend it) is blurred over the covered pixels (normalised by
    the coverage) and taken by a weight that rises from 0 at the outer lips `lips_out`. The blur
    runs on the map reduced as _blur reduces (blur_reduction); the last partial cell of rows and
    columns at the box's far sides, beyond the alpha's reach (WORK_REACH), is left as it is."""
    h, w = mx.shape
    sig = SKIN_MAP_SIGMA * size
    f = max(blur_reduction(sig), 1)
    sw, sh = w // f, h // f
    if sw < 2 or sh < 2:
        return
    fw, fh = sw * f, sh * f
    d = np.hstack([dst - [x0, y0], np.ones((len(dst), 1))])
    aff = np.linalg.lstsq(d, src, rcond=None)[0].astype(np.float32)      # (3, 2)
    gx = np.arange(fw, dtype=np.float32)[None, :]
    gy = np.arange(fh, dtype=np.float32)[:, None]
    c = cov[:fh, :fw].view(np.uint8).astype(np.float32)
    s = (max(sig * sig - REDUCED_SPREAD * f * f, 0.25 * f * f) ** 0.5) / f
    bc = _gauss(cv2.resize(c, (sw, sh), interpolation=cv2.INTER_AREA), s, cv2.BORDER_REPLICATE)
    inv = 1.0 / np.maximum(bc, 1e-6)
    # weight: none within two reduced pixels of the outer lips (the reduced raster's reach), in
    # full SKIN_MAP_RAMP further on; none where the coverage is under half (the map's own edge)
    out = np.ones((sh, sw), np.uint8)
    cv2.fillPoly(out, [np.round((lips_out - [x0, y0]) / f - 0.5).astype(np.int32)], 0)
    wgt = cv2.distanceTransform(out, cv2.DIST_L2, 3)
    wgt -= 2.0
    wgt *= f / max(SKIN_MAP_RAMP * size, 1.0)
    np.clip(wgt, 0.0, 1.0, out=wgt)
    wgt[bc <= 0.5] = 0.0
    if not wgt.any():
        return
    uw = cv2.resize(wgt, (fw, fh), interpolation=cv2.INTER_LINEAR)
    uw *= c
    # (two full-size buffers for both coordinates, written in place: a fresh full-size array per
    # step made the whole about twice as slow, 2.0 against ~1 ms on a 311x456 box). With r the
    # residual (map less affine, zero off the mesh): map + weight (blurred r - r).
    res, up = np.empty((fh, fw), np.float32), np.empty((fh, fw), np.float32)
    for m, col in ((mx, 0), (my, 1)):
        part = m[:fh, :fw]
        np.multiply(gx, -aff[0, col], out=res)
        res -= aff[1, col] * gy + aff[2, col]
        res += part
        res *= c
        sm = _gauss(cv2.resize(res, (sw, sh), interpolation=cv2.INTER_AREA), s, cv2.BORDER_REPLICATE)
        sm *= inv
        cv2.resize(sm, (fw, fh), dst=up, interpolation=cv2.INTER_LINEAR)
        up -= res
        up *= uw
        part += up


def _soften_tears(warped: np.ndarray, mx: np.ndarray, my: np.ndarray, cov: np.ndarray,
                  target: np.ndarray, ex_src: np.ndarray, tris: np.ndarray, x0: int, y0: int) -> None:
    """Blur `warped` (in place) where its map (mx, my) jumps between covered neighbours. A
    piecewise-affine map can only tear at a triangle squeezed TEAR times or more against the
    mesh's overall scale (collapsed, or too thin to draw): only their box is looked at (most
    frames have none; a whole 1080p patch cost about 7 ms)."""
    a_t = np.abs(g.signed_areas(target, tris))
    a_s = np.abs(g.signed_areas(ex_src, tris))
    usual = float(a_s.sum() / max(a_t.sum(), 1e-9))          # source pixels per output pixel, squared
    squeezed = a_s > TEAR * TEAR * usual * a_t
    if not squeezed.any():
        return
    lim = TEAR * max(1.0, float(np.sqrt(usual)))
    pts = target[np.unique(tris[squeezed])] - [x0, y0]
    h, w = mx.shape
    r = 8       # the blur's reach (OpenCV's radius for sigma 0.8 is 3) and the weight's spread
    bx0, by0 = (max(int(v) - r, 0) for v in np.floor(pts.min(0)))
    bx1, by1 = int(min(np.ceil(pts[:, 0].max()) + r + 1, w)), int(min(np.ceil(pts[:, 1].max()) + r + 1, h))
    if bx1 - bx0 < 2 or by1 - by0 < 2:
        return
    box = (slice(by0, by1), slice(bx0, bx1))
    bmx, bmy, bcov = mx[box], my[box], cov[box]
    dx, dy = np.diff(bmx, axis=1), np.diff(bmy, axis=1)
    jx = (dx * dx + dy * dy > lim * lim) & bcov[:, 1:] & bcov[:, :-1]
    dx, dy = np.diff(bmx, axis=0), np.diff(bmy, axis=0)
    jy = (dx * dx + dy * dy > lim * lim) & bcov[1:] & bcov[:-1]
    if not (jx.any() or jy.any()):
        return
    tear = np.zeros(bmx.shape, bool)
    tear[:, 1:] |= jx
    tear[:, :-1] |= jx
    tear[1:] |= jy
    tear[:-1] |= jy
    part = warped[box]
    wgt = np.minimum(1.0, 2.0 * _gauss(tear.astype(np.float32), TEAR_SIGMA))
    soft = _gauss(part, TEAR_SIGMA, cv2.BORDER_REFLECT)
    soft -= part
    soft *= _rgb(wgt)
    part += soft


# Pixels kept round the alpha's extent in the working box: the filters a pixel under the alpha
# reads its neighbours through (the frame's fine band, sigma 1, then its energy and the warp's
# displacement, sigma 2: OpenCV's kernel radii 4 + 8) see the same pixels as in a larger box.
WORK_REACH = 14


def _work_box(box: tuple[int, int, int, int], extent) -> tuple[int, int, int, int]:
    """The patch's working box: `box` (the lower face's hull and the feather) cut to where the
    alpha can be non-zero (mask.muzzle_extent) and WORK_REACH round it. The region's hull spans
    the cheeks past the muzzle's folds; half the box had alpha 0 on the bench (alpha > 0 on 40%
    of its pixels), and every full-resolution step of the synthesis, the region conversion and
    the composite paid for it."""
    x0, y0, w, h = box
    if not np.all(np.isfinite(extent)):
        return box
    ex0, ey0, ex1, ey1 = extent
    nx0 = max(x0, int(np.floor(ex0)) - WORK_REACH)
    ny0 = max(y0, int(np.floor(ey0)) - WORK_REACH)
    nx1 = min(x0 + w, int(np.ceil(ex1)) + WORK_REACH)
    ny1 = min(y0 + h, int(np.ceil(ey1)) + WORK_REACH)
    if nx1 - nx0 < 8 or ny1 - ny0 < 8:
        return x0, y0, w, h
    return nx0, ny0, nx1 - nx0, ny1 - ny0


def _within_picture(ex: Exemplar, mx: np.ndarray, my: np.ndarray, size: float):
    """1, or where the warp reaches beyond the exemplar's picture (its face met the frame's
    edge: a close-up's chin) a fade to 0 at that edge over the mask's fade width: the replicated
    border drew vertical streaks under the chin (selfie f57-66), a hard cut a line."""
    eh, ew = ex.image.shape[:2]
    inside = (mx >= -0.5) & (my >= -0.5) & (mx <= ew - 0.5) & (my <= eh - 0.5)
    if inside.all():
        return 1.0
    sig = max(FADE * size, 0.5)
    k = 2 * int(np.ceil(2 * sig)) + 1
    core = cv2.erode(inside.astype(np.uint8), np.ones((k, k), np.uint8)).astype(np.float32)
    return np.minimum(_blur(core, sig), inside)


def _within_exemplar_face(ex: Exemplar, model: MouthModel, mx: np.ndarray, my: np.ndarray,
                          size: float):
    """1 where the warp takes its pixels from inside the exemplar's own face (its silhouette
    with the frame's reach: a margin past it under the chin, a margin inside it up the cheeks,
    mask.exemplar_silhouette), fading to 0 where it takes them from beyond, as blend_masks cuts
    at the output frame's silhouette. A jaw dropped for an open vowel moved the exemplar's jaw
    side over the frame's cheek, and the exemplar's dark hair behind its jaw came with it, a
    dark smudge inside the face (held-out vz_eyes f55-59). The exemplar's filled silhouette is
    made once per exemplar (`Exemplar.face`). Worked out on every third pixel of the maps instead
    (b9bb926), the cut moved the re-tracked figures of three held-out clips (vx_makeup outside_any
    0.033 -> 0.060, vy_glasses 0.020 -> 0.027) for a cost that did not show beside the host's swing
    on the bench (docs/speed.md, twentieth round); it is worked out at full resolution."""
    if ex.face is None:
        ex.face = _exemplar_face(ex, model)
    if ex.face is None:
        return 1.0
    seen = cv2.remap(ex.face, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    inside = cv2.erode((seen > 0.5).astype(np.uint8), np.ones((3, 3), np.uint8))
    if inside.all():
        return 1.0
    sig = max(FADE * size, 0.5)
    return _blur(inside.astype(np.float32), max(sig * JAW_MARGIN / 2, 0.5))


def _exemplar_face(ex: Exemplar, model: MouthModel) -> np.ndarray | None:
    """float32 (h, w) of the exemplar's crop: 1 inside its own silhouette
    (mask.exemplar_silhouette), 0 beyond; None without a silhouette."""
    lips = ex.points[model.lips]
    poly = exemplar_silhouette(model.region, ex.points[:len(model.region)],
                               max(float(np.linalg.norm(lips[0] - lips[10])), 8.0))
    if poly is None:
        return None
    face = np.zeros(ex.image.shape[:2], np.uint8)
    cv2.fillPoly(face, [np.round((poly - [ex.x0, ex.y0]) * 16).astype(np.int32)], 1,
                 lineType=cv2.LINE_8, shift=4)
    return face.astype(np.float32)


def _light_offset(src, warped, skin, size: float, w: int, h: int) -> np.ndarray:
    """Lighting: a low-frequency offset (normalised convolution over the skin), which moves the
    exemplar's shading to the frame's without scaling its texture contrast. Low frequencies
    only, so it is estimated on a reduced image."""
    sig = 0.35 * size
    f = max(1, int(sig / 2.5))
    small = (max(1, w // f), max(1, h // f))
    # The frame's and the exemplar's blurs differenced: by linearity one reduction and one blur
    # of their difference (a full-resolution subtraction, 0.03 ms, against a 3-channel area
    # reduction, 0.24 ms, on a bench patch). The difference and the skin reduced each on its
    # own: merged into one 4-channel image first (an area reduction by a factor that is not
    # whole is OpenCV's slow path, 0.27 ms for the skin alone) the merge's copy cost more than
    # the second reduction saved, 0.80 against 0.73 ms a call (the bench's 125 calls replayed,
    # alternated; the same values).
    s_diff = cv2.resize(np.subtract(src, warped), small, interpolation=cv2.INTER_AREA)
    s_skin = cv2.resize(skin, small, interpolation=cv2.INTER_AREA)
    s_diff *= s_skin[..., None]
    ssig = sig / f
    ws = _gauss(s_skin, ssig) + 1e-4
    off = _gauss(s_diff, ssig) / ws[..., None]
    # Far from any skin sample the estimate is noise; fall back to the mean offset there.
    conf = np.clip(ws / 0.3, 0.0, 1.0)[..., None]
    mean_off = ((off * s_skin[..., None]).sum((0, 1)) / max(float(s_skin.sum()), 1.0)).astype(np.float32)
    off = conf * off + (1 - conf) * mean_off
    return cv2.resize(off, (w, h), interpolation=cv2.INTER_LINEAR)


# Near the patch's edge, where the geometry did not move, the patch's light is matched to the
# frame's at this finer scale (mouth widths; _light_offset's is 0.35), estimated in the fade band
# (alpha under EDGE_BAND) and reaching into the patch by about that much. A geometry that moved
# by EDGE_MOVE mouth widths or more there (a dropped or raised chin) is not matched, nor the jaw
# line and the shadow under it (CHIN_MARGIN and EDGE_JAW_REACH fade widths about the wanted and
# the frame's own jaw line): there the patch's own jaw edge is what must show, and the frame's
# lies a few pixels off it; matched there, held-out vy_glasses, vy_squint and selfie re-tracked
# a shorter jaw on 1-2 more frames each.
EDGE_LIGHT = 0.12
EDGE_BAND = 0.95
EDGE_MOVE = 0.1
EDGE_JAW_REACH = 2.0


def _off_jaw(model: MouthModel, reg_t, own, size: float, x0: int, y0: int, shape: tuple[int, int],
             f: int) -> np.ndarray:
    """float32 `shape` (the box reduced by `f`): 0 on and about the jaw line (wanted and own),
    easing to 1 away from it."""
    jaw = jaw_positions(model.region)
    m = np.zeros(shape, np.uint8)
    reach = (CHIN_MARGIN + EDGE_JAW_REACH) * FADE * size / f
    for pts in (reg_t[jaw], own[jaw]):
        p = np.round((np.asarray(pts, np.float64) - [x0, y0]) * (16.0 / f)).astype(np.int32)
        cv2.polylines(m, [p], False, 1, thickness=max(1, int(round(2 * reach))),
                      lineType=cv2.LINE_8, shift=4)
    return 1.0 - _gauss(m.astype(np.float32), max(FADE * size / f, 0.5))


def _match_edge_light(out, src, alpha, skin, disp, lip_soft, size: float, w: int, h: int,
                      off_jaw) -> None:
    """In place on `out`: the frame's own light at the patch's edge, off the jaw line
    (`off_jaw(shape, f)`: _off_jaw's weight on the box reduced by f) and off the lips. An
    exemplar of another expression shades the cheeks at the folds otherwise (a smile's fold
    against a relaxed cheek): matched only at _light_offset's scale, the difference met the
    frame at the alpha's edge as a ridge across the cheek (held-out vy_paint f97). A
    low-frequency field: it is worked out on the box reduced by a whole factor (its sigma over
    2.5 pixels; OpenCV's fast area reduction), only its sum at full resolution (2.3-2.6 against
    3.8-5.1 ms a call on a 640x520 box with the weights at full resolution)."""
    sig = EDGE_LIGHT * size
    f = max(1, int(sig / 2.5))
    sw, sh = max(1, w // f), max(1, h // f)
    cut = (slice(0, sh * f), slice(0, sw * f))
    red = lambda img: cv2.resize(img[cut], (sw, sh), interpolation=cv2.INTER_AREA)
    keep = np.clip(1.0 - red(disp) / (EDGE_MOVE * size), 0.0, 1.0)
    keep *= off_jaw((sh, sw), f)
    b = red(skin) * keep * np.clip((EDGE_BAND - red(alpha)) / (EDGE_BAND - 0.5), 0.0, 1.0)
    on = b > 0.5
    if not on.any():
        return
    ws = _gauss(b, sig / f) + 1e-4
    off = _gauss((red(src) - red(out)) * _rgb(b), sig / f) / _rgb(ws)
    # In full along the band, fading into the patch over about a sigma: the band's weight
    # blurred, against half its typical level on the band itself; nothing on the lips.
    ref = 0.5 * median_of(ws[on])        # (np.median's value, without its copy and overhead)
    off *= _rgb(np.clip(ws / ref, 0.0, 1.0) * keep * (1.0 - red(lip_soft)))
    # back on the reduced part of the box: the rest, under f pixels at its right and bottom
    # edges, lies in the alpha's far tail (mask.muzzle_extent), where the band never is
    out[cut] += cv2.resize(off, (sw * f, sh * f), interpolation=cv2.INTER_LINEAR)


def _carry_grain(out, src, moved_pts, model: MouthModel, tri_id, skin, lipmask, size: float):
    """Grain and fine texture, in place on `out`: the frame's own high band replaces the
    resampled one on the skin, fully where the geometry did not move (within a triangle the
    displacement from the frame's own geometry is linear, so its corners bound it) and, fading
    out, where it moved by up to a few percent of the mouth width: grain, pores and stubble are
    then the frame's own, as sharp as the source and changing from frame to frame as the
    source's do (a held exemplar would freeze them: texture flicker on close-ups, issue 15).
    Strong edges of the frame (lip line, jaw line, nostril) are not carried where the geometry
    moved, where they would ghost. Returns the displacement, where it is still, and the lips'
    soft mask."""
    moved = moved_pts[model.tris].max(1).astype(np.float32)
    # The displacement's and the fine band's energy's sigma-2 blurs (17 taps) on the image
    # halved (_reduced_blur): both only weigh the grain; an edge's blur within ~4% of the whole
    # image's, 0.35 against 0.1 ms each on a bench patch.
    disp = _reduced_blur(g.id_gather(tri_id, len(moved))(moved), 2.0, 2)
    # The planes below are worked out in their own arrays (the same operations, no temporaries).
    still = np.subtract(1.5, disp)
    _clip0(still, 1.0)
    d0, d1 = max(1.5, CARRY_NEAR * size), max(3.0, CARRY_FAR * size)
    carry = np.subtract(d1, disp)
    carry /= d1 - d0
    _clip0(carry, 1.0)
    # The fine bands (src - G(src), out - G(out), G Gaussian sigma HP_SIGMA) by linearity: what
    # is carried, their difference, is one blur of src - out; the frame's band's grey (its
    # energy, its noise level) is one blur of src's grey; the two bands themselves only over the
    # lips' box, where their grain is clipped. Two full 3-channel blurs were 0.8 ms a bench frame.
    hp = np.subtract(src, out)
    hp -= _gauss(hp, HP_SIGMA, cv2.BORDER_REFLECT)
    grey = cv2.cvtColor(np.ascontiguousarray(src), cv2.COLOR_RGB2GRAY)
    hp_grey = grey - _gauss(grey, HP_SIGMA, cv2.BORDER_REFLECT)
    energy = _reduced_blur(hp_grey * hp_grey, 2.0, 2)
    on_skin = skin > 0.5
    enough = np.count_nonzero(on_skin) >= 32
    # The skin's two medians (its energy, its noise level) over every other row and column of
    # it (a quarter of the 25-40k pixels on the bench; the estimates move by ~1%), all of it
    # when that leaves fewer than SKIN_SAMPLES.
    sub = (slice(None, None, 2), slice(None, None, 2))
    if np.count_nonzero(on_skin[sub]) < SKIN_SAMPLES:
        sub = (slice(None), slice(None))
    ref = median_of(energy[sub][on_skin[sub]]) if enough else float(np.median(energy))
    plain = energy                      # 2 - energy / (EDGE_ENERGY ref), clipped, in its array
    plain /= max(EDGE_ENERGY * ref, 1e-6)
    np.subtract(2.0, plain, out=plain)
    _clip0(plain, 1.0)
    lip_soft = _blur(lipmask, max(1.0, 0.03 * size))     # wide on big faces: on a reduced image
    grain_w = carry                     # max(still, carry * plain) * (1 - lip_soft)
    grain_w *= plain
    np.maximum(still, grain_w, out=grain_w)
    grain_w *= 1.0 - lip_soft
    # On the lips only the grain: the part of each fine band within GRAIN_CORE times the skin's
    # noise level (the frame's sensor noise or film grain, which belongs to the pixel, not to the
    # face), away from the frame's own edges; the exemplar's lip texture above it stays.
    if enough:
        fine = hp_grey[sub][on_skin[sub]]
        core = GRAIN_CORE * 1.4826 * median_of(np.abs(fine, out=fine))
    else:
        core = 0.0
    lb = _support(lip_soft > 0.01, 0)
    lip_grain = None
    if core > 0 and lb is not None:
        hp_out = _fine_band(out, lb)
        lip_grain = _clip_in(hp[lb] + hp_out, core)             # the frame's: hp_src
        lip_grain -= _clip_in(hp_out, core)                    # (hp_out is not used after)
        lip_grain *= _rgb(lip_soft[lb] * plain[lb])
    hp *= _rgb(grain_w)                 # out + grain_w * (hp_src - hp_out)
    out += hp
    if lip_grain is not None:
        out[lb] += lip_grain
    return disp, still, lip_soft


def _clip_in(a: np.ndarray, core: float) -> np.ndarray:
    """np.clip(a, -core, core) in a's own array (returned): its maximum then its minimum, what
    np.clip does (NaN kept), without its dispatch and its fresh array."""
    np.maximum(a, -core, out=a)
    return np.minimum(a, core, out=a)


# The fine band carried from the frame: finer than a Gaussian of this sigma (pixels).
HP_SIGMA = 1.0
# _gauss' kernel radius for HP_SIGMA
HP_REACH = gauss_reach(HP_SIGMA)


def _fine_band(img: np.ndarray, box: tuple[slice, slice]) -> np.ndarray:
    """img - G(img) (HP_SIGMA, reflected border) over `box` only: the blur over the box widened
    by its kernel's reach, within the image, gives the whole image's values there."""
    h, w = img.shape[:2]
    (r, c), k = box, HP_REACH
    a, b = max(r.start - k, 0), min(r.stop + k, h)
    e, d = max(c.start - k, 0), min(c.stop + k, w)
    low = _gauss(img[a:b, e:d], HP_SIGMA, cv2.BORDER_REFLECT)
    return img[box] - low[r.start - a:r.stop - a, c.start - e:c.stop - e]


# The most open mouth's inside is squeezed into an opening at most to this share of its own height:
# squeezed further, its rows of teeth and the cavity between them became thin parallel stripes
# (hard turn f181-183, a 0.025-0.048 eye-distance opening built from a sealed exemplar). A lower
# opening takes only the top of that mouth's inside (the upper teeth's edge and the dark under it),
# squeezed this much, as a mouth parted a little shows it. (Hard talk_e's slits, f12-17, look as
# before: a dark slit with the upper teeth's edge as one bright line. Filled with the dark cavity
# instead, they were black holes without teeth and the lips re-tracked darker: outside_any 0.016
# -> 0.032.)
INTERIOR_SQUEEZE_MIN = 0.4


def _top_of_inside(op: Exemplar, model: MouthModel, gap_t: float) -> np.ndarray:
    """op's points with its lower inner lip raised towards the upper one, so that the inside
    between them, squeezed to `gap_t` pixels, is squeezed by INTERIOR_SQUEEZE_MIN and no more."""
    pts = op.points.copy()
    keep = min(1.0, gap_t / max(INTERIOR_SQUEEZE_MIN * op.gap, 1e-6))
    pos = model.pos
    for up, lo in g.INNER_PAIRS:
        pts[pos[lo]] = pts[pos[up]] + keep * (pts[pos[lo]] - pts[pos[up]])
    return pts


def _mouth_interior(out, target, reg_t, lips_t, ex: Exemplar, model: MouthModel, look: Look,
                    x0: int, y0: int, w: int, h: int, size: float) -> np.ndarray:
    """Mouth interior where the target opens wider than the exemplar: the inside of the shot's
    most open clean mouth (its own teeth, tongue and cavity, warped into this opening; only its
    top where the opening is under INTERIOR_SQUEEZE_MIN of it: _top_of_inside), or,
    where the shot has none more open than the exemplar, a dark cavity with the tongue below."""
    inner_t = lips_t[20:]
    gap_t = _inner_gap(reg_t, model)
    gap_e = _inner_gap(ex.points[:len(model.region)], model)
    if not (gap_t > 2.0 and gap_t > 1.3 * gap_e):
        return out
    amount = float(np.clip((gap_t / max(gap_e, 0.5) - 1.3) / 1.2, 0.0, 0.85))
    inner = _poly((h, w), inner_t, x0, y0).astype(np.float32)
    inner = _blur(inner, max(0.6, 0.04 * size))
    op = look.open_ex
    if op is not None and op.gap > 1.3 * gap_e and op.frame != ex.frame:
        tris = model.tris[model.inner_tris]
        ox, oy, ocov = g.triangle_maps(target, _top_of_inside(op, model, gap_t) - [op.x0, op.y0],
                                       tris, x0, y0, w, h)
        fill = _resampled(op.image, ox, oy)
        a = _rgb(inner * ocov * min(1.0, amount / 0.85))
    else:
        top = inner_t[:, 1].min() - y0
        bot = inner_t[:, 1].max() - y0
        rows = np.clip((np.arange(h, dtype=np.float32) - top) / max(bot - top, 1.0), 0, 1)
        shade = np.clip((rows - 0.45) / 0.55, 0, 1)[:, None, None]
        fill = (look.cavity * (1 - shade) + look.tongue * shade).astype(np.float32)
        # the exemplar's own teeth stay near the upper lip, the cavity takes the rest
        keep_teeth = np.clip(1.0 - rows / 0.3, 0, 1)[:, None] * 0.6
        a = _rgb(inner * amount * (1 - keep_teeth))
    return out * (1 - a) + fill * a         # (a as three equal channels: see _rgb)


# The frame's own fine band is carried onto skin that moved by up to CARRY_NEAR of the mouth width
# fully, fading to none at CARRY_FAR; pixels whose fine-band energy is over EDGE_ENERGY times the
# skin's median are edges, carried only where the skin did not move.
CARRY_NEAR = 0.04
CARRY_FAR = 0.2
EDGE_ENERGY = 4.0
# The skin's energy and noise medians are taken over every other row and column when that
# leaves at least this many pixels.
SKIN_SAMPLES = 2000
# The frame's grain is carried onto the lips up to this many times its noise level (robust sigma
# of the fine band on the skin).
GRAIN_CORE = 1.5

# Share of the difference between the frame's own lip colour and the exemplar's (after the skin's
# light offset) that is taken away: lips pressed, stretched or lit differently in the exemplar
# differ from the frame's by a few L* levels, which reads as lipstick on closed lips (issue 15).
LIP_MATCH = 0.6


def _lip_colour(out, src, lips_t, lips_own, x0, y0, look: Look) -> np.ndarray:
    """Lips in the frame's own colour and within the actor's own range, in place on `out` (returned).

    The patch's lip band (between the outer and inner contours at the target) is moved towards
    the mean colour of this frame's own lips, then its mean L* and chroma are clamped into
    held_lip_range(look.lip_range) (the actor's 2nd-98th percentile over the shot, its L* held a
    re-track's error inside), all as one smooth shift of the band, so the lips' own texture
    stays. Every mean is of the lips each band shows (lip_band.shown_lips), as the range is.
    """
    h, w = out.shape[:2]
    bx, by, bw, bh = cv2.boundingRect(np.round(lips_t[:20] - [x0, y0]).astype(np.int32))
    by0, by1 = max(by - 4, 0), min(by + bh + 5, h)
    bx0, bx1 = max(bx - 4, 0), min(bx + bw + 5, w)
    ox, oy, ow, oh = cv2.boundingRect(np.round(lips_own[:20] - [x0, y0]).astype(np.int32))
    sy0, sy1 = max(oy - 1, 0), min(oy + oh + 2, h)
    sx0, sx1 = max(ox - 1, 0), min(ox + ow + 2, w)
    if by1 <= by0 or bx1 <= bx0 or sy1 <= sy0 or sx1 <= sx0:
        return out
    # The bands drawn in the two lip boxes, not the whole patch (the polygons lie inside them).
    t_at, o_at = (by1 - by0, bx1 - bx0, x0 + bx0, y0 + by0), (sy1 - sy0, sx1 - sx0, x0 + sx0, y0 + sy0)
    inner_t = _poly(t_at[:2], lips_t[20:], *t_at[2:]) > 0
    inner_o = _poly(o_at[:2], lips_own[20:], *o_at[2:]) > 0
    m = (_poly(t_at[:2], lips_t[:20], *t_at[2:]) > 0) & ~inner_t
    band_o = (_poly(o_at[:2], lips_own[:20], *o_at[2:]) > 0) & ~inner_o
    if np.count_nonzero(m) < 12 or np.count_nonzero(band_o) < 12:
        return out
    scale = 1.0 / look.peak
    box = _clip0(out[by0:by1, bx0:bx1] * scale, 1.0)
    lab = cv2.cvtColor(box, cv2.COLOR_RGB2LAB)
    lab_src = cv2.cvtColor(np.clip(src[sy0:sy1, sx0:sx1] * scale, 0, 1).astype(np.float32, copy=False),
                           cv2.COLOR_RGB2LAB)
    # Both means over the lips shown (lip_band): the opening that falls inside either band is
    # not lip colour; the shift below still moves the whole band.
    shown_t = shown_lips(lab[..., 0], m, inner_t)
    # (the means over a mask by cv2.mean, in double: numpy's mean over the first axis of the
    # (n, 3) pixels runs an inner loop of 3, 0.1-0.2 ms a call on the bench's lips)
    cur = _masked_mean(lab, shown_t)
    own = _masked_mean(lab_src, shown_lips(lab_src[..., 0], band_o, inner_o))
    want = cur + LIP_MATCH * (own - cur)
    if look.lip_range is not None:
        # The range is of the band's mean per-pixel chroma (as frame_score and the yardstick
        # measure it), which the shift below scales by about the mean colour's chroma gain.
        c_after = float(np.hypot(lab[..., 1][shown_t], lab[..., 2][shown_t]).mean()) * \
            _chroma_gain(cur, want)
        want[0], c_in = _into_range(float(want[0]), c_after, held_lip_range(look.lip_range))
        if c_after > 1e-3:
            want[1:] *= c_in / c_after
    # L* moves by an offset; chroma by a factor about grey, so the lips' colour texture stays.
    # (one affine map of the three channels, cv2.transform: numpy's ops on the strided a*, b*
    # planes were 0.27 ms a bench frame)
    gain = _chroma_gain(cur, want)
    shift = np.concatenate([[want[0] - cur[0]], want[1:] - cur[1:] * gain])
    new = cv2.transform(lab, np.hstack([np.diag([1.0, gain, gain]), shift[:, None]]))
    soft = _gauss(m.astype(np.float32), 1.0)
    rgb = cv2.cvtColor(new, cv2.COLOR_LAB2RGB) * look.peak
    # In place (the caller's `out` is the patch's own array), without a copy of the patch.
    out[by0:by1, bx0:bx1] = out[by0:by1, bx0:bx1] * _rgb(1 - soft) + rgb * _rgb(soft)
    return out


def _masked_mean(img: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """The (3,) float32 mean of a 3-channel image over a boolean mask's pixels."""
    return np.array(cv2.mean(img, mask.view(np.uint8))[:3], np.float32)


def _lab(px: np.ndarray) -> np.ndarray:
    """CIE L*a*b* of (n, 3) RGB values in 0..1, converted as one row: as a column of one-pixel
    rows OpenCV converts each row on its own, 3x slower than the whole box (0.88 against 0.29 ms,
    0.18 ms as one row, on 24k pixels; _keep_lip_range 2.0 -> 1.5 ms a frame on the bench's
    replay, 2.8 -> 2.1 on expr_sad's, best of four, busy machine). The same values; the way back
    differs from a whole image's in the last bits (OpenCV's vector and scalar paths)."""
    return cv2.cvtColor(np.ascontiguousarray(px, np.float32)[None], cv2.COLOR_RGB2LAB)[0]


def _lab_rgb(lab: np.ndarray) -> np.ndarray:
    """RGB in 0..1 of (n, 3) L*a*b* values, converted as one row (see _lab)."""
    return cv2.cvtColor(np.ascontiguousarray(lab, np.float32)[None], cv2.COLOR_LAB2RGB)[0]


def _chroma_gain(cur: np.ndarray, want: np.ndarray) -> float:
    c_cur = float(np.hypot(cur[1], cur[2]))
    return float(np.hypot(want[1], want[2])) / c_cur if c_cur > 1e-3 else 1.0


# A re-track of the output (the yardstick's, frame by frame) reads the lip band's mean L* off the
# one at the rendered contours by 1.1-1.7 L* (1 sd), darker by 0.7-0.9 L* on average (its contours
# fall partly on the dark rims; hard talk_e, talk-set talk_e, selfie): the band's L* is held this
# far inside the actor's range, on the light side LIP_L_MARGIN, on the dark side that darkening
# more (LIP_L_MARGIN_DARK). Chroma is read within 0.6-0.7 (1 sd), well inside the yardstick's
# margin of 3, and is held at the range itself. (Measured when the guard and the range were of
# the whole band; both are now of the lips shown (lip_band), and the same margin keeps talk_e's
# re-tracked lips in her range: 3 of 118 frames out -> 1.) With one margin of 1.0 either way,
# talk_c's f99 (an open 'a') re-tracked 2.0 levels of 8-bit L* under the yardstick's bound
# (100.7 against 102.7; its lips shown 101.4, so the lips, not an opening in the band); 1.7 either
# way left it 0.3 under. The dark side is held at the mean darkening (0.8) plus about one sd (1.4):
# tuned on talk_c, the other talk clips and the hard set held out (docs/quality.md).
LIP_L_MARGIN = 1.0
LIP_L_MARGIN_DARK = 2.2


def held_lip_range(lip_range: np.ndarray) -> np.ndarray:
    """The actor's lip range (look.lip_range) with its L* pulled in by LIP_L_MARGIN_DARK at the
    dark end and LIP_L_MARGIN at the light end, keeping at least the middle third of it."""
    (l_lo, l_hi), chroma = lip_range
    third = (float(l_hi) - float(l_lo)) / 3
    return np.array([[l_lo + min(LIP_L_MARGIN_DARK, third), l_hi - min(LIP_L_MARGIN, third)],
                     chroma], np.float32)


# The part of LIP_L_MARGIN_DARK that stands for a re-track's mean darkening (0.7-0.9 L*, above);
# the rest is its spread. An exemplar whose own frame a re-track reads darker than this has the
# difference added to its dark end (retrack_shift), at most RETRACK_SHIFT_MAX.
RETRACK_DARKENING = 0.8
RETRACK_SHIFT_MAX = 2.0


def retrack_shift(crop: np.ndarray, x0: int, y0: int, lips: np.ndarray, raw_lips: np.ndarray,
                  peak: float) -> float:
    """How much lighter (CIE L*, 0..RETRACK_SHIFT_MAX) an exemplar's lips are held than the
    actor's range's dark end asks: its lip band read at the tracker's own unsmoothed contours
    `raw_lips`, as a re-track of the output reads it, against the band at its smoothed contours
    `lips` (each 20 outer then 20 inner points, frame pixels), on its crop, less the darkening
    LIP_L_MARGIN_DARK already allows (RETRACK_DARKENING). The render holds the band at the
    smoothed contours warped; where the smoothing drew them past the lip's own edge (a pressed
    mouth among open frames: held-out vt_grin f101, the lower lip's contour a pixel into the pale
    skin under it) that band read 5.3 levels of 8-bit L* lighter than the unsmoothed one, and the
    rest after the dub, built from it, re-tracked 3-7 levels under her range (f126-131)."""
    # Only the lips' box is converted (the library cuts and scores every candidate frame on the
    # run's one chain: the whole crop took 0.08 s of the bench's library stage).
    both = np.vstack([lips[:20], raw_lips[:20]])
    bx0, by0 = np.maximum(np.floor(both.min(0)).astype(int) - [x0, y0] - 1, 0)
    bx1, by1 = np.ceil(both.max(0)).astype(int) - [x0, y0] + 2
    box = crop[by0:by1, bx0:bx1]
    h, w = box.shape[:2]
    if h < 2 or w < 2:
        return 0.0

    # Whole-pixel contours, not _poly's sub-pixel ones: this stands for a re-track, whose
    # contours the yardstick and the QCs draw at whole pixels.
    def band(pts):
        outer = np.round(pts[:20] - [x0 + bx0, y0 + by0]).astype(np.int32)
        inner = np.round(pts[20:] - [x0 + bx0, y0 + by0]).astype(np.int32)
        m = np.zeros((h, w), np.uint8)
        cv2.fillPoly(m, [outer], 1)
        cv2.fillPoly(m, [inner], 0)
        return m > 0

    at_smooth, at_raw = band(lips), band(raw_lips)
    if np.count_nonzero(at_smooth) < MIN_LIP_PIXELS or np.count_nonzero(at_raw) < MIN_LIP_PIXELS:
        return 0.0
    lab = cv2.cvtColor(np.clip(box.astype(np.float32) / peak, 0, 1), cv2.COLOR_RGB2LAB)[..., 0]
    darker = float(lab[at_smooth].mean()) - float(lab[at_raw].mean())
    return float(np.clip(darker - RETRACK_DARKENING, 0.0, RETRACK_SHIFT_MAX))


def _into_range(l_mean: float, c_mean: float, lip_range) -> tuple[float, float]:
    """The band's mean L* and mean chroma, each clamped into the actor's own range."""
    (l_lo, l_hi), (c_lo, c_hi) = lip_range
    return float(np.clip(l_mean, l_lo, l_hi)), float(np.clip(c_mean, c_lo, c_hi))


# A re-track's lip contours are drawn to whole pixels (lipeval truncates them) and land a fraction
# of a pixel off the target's: the band is held in range at these offsets (pixels) too.
BAND_OFFSETS = ((0.0, 0.0), (-0.5, -0.5), (0.5, -0.5), (-0.5, 0.5), (0.5, 0.5))
# And a re-track's outer contour is often drawn outside the lips' own edge, taking in the skin
# round them: Face Mesh on the output against the rendered contours (sidelight, mouth 89 pixels
# wide, 125 frames): the upper lip's outer contour 0.66 pixels lower on average (sd 0.74, 95th
# percentile 1.84); at f35-37 1.5-1.9 pixels above the lip over her pale skin, where the band read
# 3.9-5.4 levels of 8-bit L* lighter than at the target's contours and past the actor's range
# (s60; 1% of the width is 0.9 pixels, about one sd). The band with a rim of RIM_SHARE of the
# mouth's width is held in range as well, in L*; it is measured only, the shift moves the lips.
RIM_SHARE = 0.01


def _lip_bands(shape, lips_t, x0, y0) -> list[tuple[np.ndarray, np.ndarray]]:
    """(band, inner) boolean masks of the lip bands _keep_lip_range holds in range: the band
    between the outer and inner contours at each of BAND_OFFSETS, then the band at the target's
    contours (no offset) with a rim of RIM_SHARE of the mouth's width (a pixel at least) round
    its outer contour, for L* only."""
    # every offset's contours to fixed point at once, as _poly rounds each (0.16 -> 0.09 ms a call)
    fixed = np.round((lips_t[None] + np.array(BAND_OFFSETS)[:, None] - [x0, y0]) * 16).astype(np.int32)
    out, at_target = [], None
    for (dx, dy), p in zip(BAND_OFFSETS, fixed):
        inner, outer = np.zeros(shape, np.uint8), np.zeros(shape, np.uint8)
        cv2.fillPoly(inner, [p[20:]], 1, lineType=cv2.LINE_8, shift=4)
        cv2.fillPoly(outer, [p[:20]], 1, lineType=cv2.LINE_8, shift=4)
        inner = inner > 0
        if dx == dy == 0.0:
            at_target = (outer, inner)
        out.append(((outer > 0) & ~inner, inner))
    rim = max(1, int(round(RIM_SHARE * float(np.linalg.norm(lips_t[0] - lips_t[10])))))
    outer, inner = at_target
    out.append(((cv2.dilate(outer, np.ones((2 * rim + 1,) * 2, np.uint8)) > 0) & ~inner, inner))
    return out


def _range_step(vals: np.ndarray, lo: float, hi: float) -> float:
    """The one change that brings every value into [lo, hi] (centres them when they spread wider)."""
    v_lo, v_hi = float(vals.min()), float(vals.max())
    if v_hi - v_lo > hi - lo:
        return (lo + hi) / 2 - (v_lo + v_hi) / 2
    return max(0.0, lo - v_lo) + min(0.0, hi - v_hi)


def _lightness_step(vals: np.ndarray, lo: float, hi: float) -> float:
    """The change of L* for the lip bands `vals` (the bands at BAND_OFFSETS, then the band with
    its rim, last): every band brought into [lo, hi], the rim only as far as the lips' own bands
    stay there. The rim stands for a re-track whose contour takes in the skin round the lips; on
    thin lips against light skin it spreads wider than the range with them, and centring all six
    pushed the lips themselves under the range (held-out vt_grin, a small face's closed lips,
    f5: bands 135.5-138.0 of 8-bit L* inside 130.5-139.2, the rim 145.9, moved to 129.5-131.8)."""
    lips = vals[:-1]
    v_lo, v_hi = float(lips.min()), float(lips.max())
    if v_hi - v_lo > hi - lo:
        return (lo + hi) / 2 - (v_lo + v_hi) / 2
    return float(np.clip(_range_step(vals, lo, hi), lo - v_lo, hi - v_hi))


def _keep_lip_range(out, src, alpha, lips_t, x0, y0, look: Look, tries: int = 3,
                    dark_shift: float = 0.0) -> None:
    """The finished lips, as they will be seen (the patch over the frame by its alpha), kept within
    the actor's own lip L* and chroma (held_lip_range of look.lip_range, its dark end raised by
    `dark_shift`, the exemplar's retrack_shift, up to its light end), in place on `out`.

    _lip_colour sets the colour early, but the mouth interior, the previous frame's lips and the
    detail match move the band's mean after it (expr_disgusted f86 ended at L* 134.5 of 8-bit
    against the actor's 98th percentile 131.9). And a re-track of the output lands its contours
    off the target's: the band is held in range also at half-pixel offsets (expr_surprised f21,
    small lips between bright teeth and dark skin: L* 105.7 of 8-bit at the target's contours,
    107.8 half a pixel up-left, the actor's 98th percentile 105.9). A shift of L* and a gain of
    chroma about grey, smooth over the lips."""
    if look.lip_range is None:
        return
    h, w = out.shape[:2]
    bx, by, bw, bh = cv2.boundingRect(np.round(lips_t[:20] - [x0, y0]).astype(np.int32))
    pad = 4 + int(np.ceil(RIM_SHARE * bw))      # the rim's reach, and the blur's
    y_lo, x_lo = max(by - pad, 0), max(bx - pad, 0)
    box = (slice(y_lo, min(by + bh + pad + 1, h)), slice(x_lo, min(bx + bw + pad + 1, w)))
    bands = _lip_bands(out[box].shape[:2], lips_t, x0 + x_lo, y0 + y_lo)
    if min(np.count_nonzero(b) for b, _ in bands) < 12:
        return
    cover = np.logical_or.reduce([b for b, _ in bands[:len(BAND_OFFSETS)]])     # what the shift moves
    a_band = float(alpha[box][cover].mean())
    if a_band < 0.05:
        return
    scale = 1.0 / look.peak
    # Each band is measured over the lips it shows (lip_band, on the composite as it will be
    # seen): the opening that reaches into it is not lip colour; the shift moves the whole band.
    # (src + alpha (out - src): the composite with the alpha as three equal channels; numpy's
    # broadcast of an (h, w, 1) alpha runs an inner loop of 3; 0.64 -> 0.2 ms a bench frame)
    seen = out[box] - src[box]
    seen *= _rgb(alpha[box])
    seen += src[box]
    seen *= scale
    _clip0(seen, 1.0)
    seen = cv2.cvtColor(seen, cv2.COLOR_RGB2LAB)        # also the first try's colours, below
    # The rim band is measured only (a re-track's contour drawn outside the lips' edge takes in
    # the skin round them); the shift moves the lips, not that skin. It holds the lips' L* only:
    # the skin round lips is nearly always greyer than they are, and held in chroma the rim
    # pushed lips already inside the actor's range to more saturated ones (a review's test
    # scene: 45.8-47.4 -> 49.5-51.3).
    # (L* as its own plane once: six reads of the strided channel were 0.1 ms a bench frame)
    lightness = np.ascontiguousarray(seen[..., 0])
    shown = [shown_lips(lightness, b, i) for b, i in bands]
    # Only the pixels the shift reaches (the band and its soft edge) and the rim are converted.
    soft = _gauss(cover.astype(np.float32), 0.7)
    sel = (soft > 1e-3) | bands[-1][0]      # the rim reaches past the soft edge on a wide mouth
    at, px = _selected(sel, y_lo, x_lo, w)
    wgt, a = _rgb(soft.reshape(-1).take(at))[:, 0], _rgb(_rows(alpha).take(px))[:, 0]  # (n, 3)
    # each band's mean by one product: its pixels' share of each (0 or 1 / its count)
    share = np.array([b.reshape(-1).take(at) for b in shown], np.float64)
    share /= share.sum(1, keepdims=True)
    (l_lo, l_hi), (c_lo, c_hi) = held_lip_range(look.lip_range)
    l_lo = min(float(l_lo) + dark_shift, float(l_hi))

    def lab(rgb):
        return _lab(np.clip(rgb * scale, 0, 1))

    # The first try reads the composite's colours converted above; the band's pixels are
    # gathered (and written back) only when a shift is needed (21 of the bench's 125 frames).
    comp, px_out = _rows(seen).take(at, 0), None
    for t in range(tries):
        if t:
            comp = lab(px_out * a + seen_src)
        ls = share @ comp[:, 0].astype(np.float64)
        cs = share[:-1] @ np.hypot(comp[:, 1], comp[:, 2]).astype(np.float64)
        cs = np.log(np.maximum(cs, 1e-3))
        d_l = _lightness_step(ls, l_lo, l_hi)
        d_c = _range_step(cs, float(np.log(max(c_lo, 1e-3))), float(np.log(max(c_hi, 1e-3))))
        if abs(d_l) < 0.05 and abs(d_c) < 0.002:
            break
        if px_out is None:
            px_out, px_src = _rows(out).take(px, 0), _rows(src).take(px, 0)
            seen_src = px_src * (1 - a)     # the frame's share of the composite, the same each try
        px_out = _shifted(px_out, wgt, d_l / a_band, d_c / a_band, scale, look.peak)
    if px_out is not None:
        _put_rows(out, px, px_out)


def _selected(sel: np.ndarray, y0: int, x0: int, w: int) -> tuple[np.ndarray, np.ndarray]:
    """The positions, row by row, of the pixels of `sel` (a mask over the box at (x0, y0)) in
    the box and in the patch (`w` pixels wide), to gather them as whole rows (_rows(...).take):
    a 3-channel boolean selection copies pixel by pixel (0.2 ms a gather of the bench's ~6k lip
    pixels, against 0.02 ms)."""
    at = np.flatnonzero(sel)
    return at, at + (at // sel.shape[1]) * (w - sel.shape[1]) + (y0 * w + x0)


def _shifted(px: np.ndarray, wgt: np.ndarray, d_l: float, d_c: float, scale: float,
             peak: float) -> np.ndarray:
    """The band's pixels `px` (RGB, (n, 3)) with their L* moved by d_l and their chroma scaled
    by exp(d_c) about grey, blended in by `wgt` (_keep_lip_range's shift)."""
    own = _lab(np.clip(px * scale, 0, 1))
    own[:, 0] += d_l
    gain = float(np.exp(d_c))
    own[:, 1] *= gain                   # (a* and b* each as one column: the two as an (n, 2)
    own[:, 2] *= gain                   # view ran an inner loop of 2, 70 against 8 us)
    rgb = _lab_rgb(own) * peak
    return px * (1 - wgt) + rgb * wgt


def _rows(img: np.ndarray) -> np.ndarray:
    """A C-contiguous image as its pixels in row order, (h * w, channels) or (h * w,): a view,
    written through (setting a view's shape raises rather than copy a strided image)."""
    rows = img.view()
    rows.shape = (-1,) + img.shape[2:]
    return rows


def _put_rows(img: np.ndarray, at: np.ndarray, values: np.ndarray) -> None:
    """_rows(img)[at] = values for a C-contiguous (h, w, c) image, each pixel put as one item
    of its c values' bytes (np.put: 0.04 against 0.12 ms for ~6k pixels by fancy assignment,
    0.09 ms by the boolean mask)."""
    pixel = np.dtype((np.void, img.dtype.itemsize * img.shape[2]))
    values = np.ascontiguousarray(values, img.dtype)
    np.put(_rows(img).view(pixel)[:, 0], at, values.view(pixel)[:, 0])


# Per-frame detail matching may move the fine band by at most this factor either way.
# The lips may gain more: every pixel of them is resampled from the exemplar (one cubic pass keeps
# about 0.65 of the fine band's variance), while the skin carries the frame's own fine band.
# expr_sad (1080p): lips' sharpness ratio 0.76 with 1.25, skin 1.00.
DETAIL_RANGE = (0.75, 1.25)
LIP_DETAIL_RANGE = (0.75, 2.0)


def _match_detail(out: np.ndarray, src: np.ndarray, regions: list, lipmask: np.ndarray) -> np.ndarray:
    """Give the patch's finest band the energy this frame has in the same place (in place on
    `out`, returned).

    Resampling softens, squeezing a mouth shut sharpens; the frame's own texture energy (grain,
    codec softness, motion blur) is the reference, so the mouth is as sharp as its frame and no
    sharper. `regions` are [lips, moved skin] as (mask in the patch, mask in the frame) pairs, each
    matched on its own and blended by the lip mask. The gain k on the fine band d = out - G(out)
    is solved so that the Laplacian's variance matches: Lap(out') = Lap(G(out)) + k Lap(d), a
    quadratic in k (scaling d by the plain energy ratio undershoots, since the Laplacian also sees
    the band below d: expr_disgusted sharpness 0.88 with the ratio). The change is bounded: a
    mouth that opens where the frame's was closed may keep some extra edges.
    """
    # Grey, blur and Laplacian are linear: the band's Laplacian is the difference of two.
    # Only over the regions' box widened by the filters' reach (the same values bit for bit).
    box = _support_box([m for pair in regions for m in pair], DETAIL_REACH)
    regions = [(r_out[box], r_src[box]) for r_out, r_src in regions]
    g_out = cv2.cvtColor(np.ascontiguousarray(out[box]), cv2.COLOR_RGB2GRAY)
    l_d = cv2.Laplacian(g_out, cv2.CV_32F)
    l_low = cv2.Laplacian(_gauss(g_out, 1.0), cv2.CV_32F)
    l_d -= l_low
    l_src = cv2.Laplacian(cv2.cvtColor(np.ascontiguousarray(src[box]), cv2.COLOR_RGB2GRAY), cv2.CV_32F)
    ks = []
    for (r_out, r_src), bounds in zip(regions, (LIP_DETAIL_RANGE, DETAIL_RANGE)):
        k = 1.0
        if np.count_nonzero(r_out) >= 64 and np.count_nonzero(r_src) >= 64:
            k = _detail_gain(l_low[r_out], l_d[r_out], float(l_src[r_src].var()), bounds)
        ks.append(k)
    if all(abs(k - 1.0) < 0.02 for k in ks):
        return out
    # over the lip mask's box only (_blur_support: a reflected border, where OpenCV's default
    # reflects about the edge pixel; the two differ by under 1e-4 near the mask's edges)
    soft = _blur_support(lipmask.astype(np.float32, copy=False), 2.0)
    kmap = _rgb(ks[0] * soft + ks[1] * (1.0 - soft))
    low = _gauss(out, 1.0)
    out -= low                          # low + kmap * (out - low), in the patch's own array
    out *= kmap
    out += low
    return out


# How far _match_detail's measurement reaches from a pixel: the sigma-1 blur's kernel radius (3,
# _gauss') and the Laplacian's 1.
DETAIL_REACH = gauss_reach(1.0) + 1


def _support_box(masks: list, reach: int) -> tuple[slice, slice]:
    """The box of the masks' pixels widened by `reach`, within the image (the whole image when
    they are empty). Filters whose kernels reach no further than `reach` give, on the masks'
    pixels, the same values over this box as over the whole image: inside it every neighbour is
    the image's, and where it meets the image's edge the border is the image's own.
    Saves ~2/3 of the area on the bench's patches (tests/test_pipeline_speed.py)."""
    union = np.logical_or.reduce(masks)
    box = _support(union, reach)
    return box if box is not None else (slice(0, union.shape[0]), slice(0, union.shape[1]))


def _detail_gain(l_low: np.ndarray, l_d: np.ndarray, want: float, bounds) -> float:
    """k with var(l_low + k l_d) = want, within bounds (the larger root; the bound if none)."""
    vd = float(l_d.var())
    if vd < 1e-6 or want < 1e-6:
        return 1.0
    c = float(((l_low - l_low.mean()) * (l_d - l_d.mean())).mean())
    vl = float(l_low.var())
    disc = c * c - vd * (vl - want)
    k = (-c + np.sqrt(disc)) / vd if disc >= 0 else bounds[0]
    return float(np.clip(k, *bounds))


def _target_raster(out: np.ndarray, x0: int, y0: int, target: np.ndarray,
                   model: MouthModel) -> tuple[np.ndarray, np.ndarray]:
    """(triangle ids, covered) of the target's mesh over the patch `out` at (x0, y0): what
    synthesize's warp drew, for the previous frame's maps (geometry.maps_on_raster)."""
    h, w = out.shape[:2]
    _, _, cov, ids = g.triangle_maps(target, target, model.tris, x0, y0, w, h, with_index=True)
    return ids, cov


# The previous frame's lips are blended in only where, once brought to this frame's geometry, they
# show the same thing: the weight falls to 0 where the two differ by PREV_AGREE of the peak in
# the low band (teeth that appear, an exemplar with another lip line): selfie f90 showed the
# previous frame's lower lip edge as a second contour inside the lower lip when it was blended
# in place.
PREV_AGREE = 0.06
PREV_AGREE_COARSE = 0.1
# Width of the coarse band of the previous frame that is blended regardless, of the mouth width.
PREV_COARSE = 0.02


def _blend_previous(out: np.ndarray, x0: int, y0: int, mouth: np.ndarray, prev: "Patch",
                    share: float, target: np.ndarray, model: MouthModel, peak: float,
                    size: float, raster: tuple | None = None) -> None:
    """Blend the previous frame's lips into `out` (in place), motion-compensated: each pixel takes
    the previous patch's pixel at the same point of the mouth (the piecewise-affine map from this
    frame's target geometry to the previous frame's), where the two agree. `raster`: the
    patch's (triangle ids, covered) of the target's mesh (_target_raster), drawn when None."""
    if prev.mouth is None or prev.points is None:
        return
    lip_box = _support(mouth > 0.01, 0)
    if lip_box is None:
        return
    ly0, ly1, lx0, lx1 = lip_box[0].start, lip_box[0].stop, lip_box[1].start, lip_box[1].stop
    bw, bh = lx1 - lx0, ly1 - ly0
    ids, cov = raster if raster is not None else _target_raster(out, x0, y0, target, model)
    lip_box = (slice(ly0, ly1), slice(lx0, lx1))
    cov = cov[lip_box]
    mx, my = g.maps_on_raster(ids[lip_box], target - [x0 + lx0, y0 + ly0],
                              prev.points - [prev.x0, prev.y0], model.tris)
    ph, pw = prev.alpha.shape
    back = cv2.remap(prev.rgb, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    m_prev = cv2.remap(prev.mouth, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
                       borderValue=0)
    inside = cov & (mx >= 0) & (my >= 0) & (mx <= pw - 1) & (my <= ph - 1)
    cur = out[ly0:ly1, lx0:lx1]
    # The coarse band (lip shading, the opening's shape) where the two agree within
    # PREV_AGREE_COARSE (a misplaced edge there only softens; teeth where the previous frame had
    # lip are not tinted: selfie f40 showed the lower teeth pink when it was blended regardless),
    # the fine band only where they agree within PREV_AGREE, so no second contour is drawn.
    # Only the two frames' difference and its coarse band enter (the blur is linear: one blur of
    # back - cur, not one of each).
    sig = max(1.0, PREV_COARSE * size)
    d = np.subtract(back, cur)
    c_d = _blur(d, sig)                 # c_back - c_cur
    wgt = share * np.minimum(mouth[ly0:ly1, lx0:lx1], m_prev) * inside
    diff = _channel_mean(np.abs(c_d))
    w_coarse = _rgb((wgt * np.clip(1.0 - diff / (PREV_AGREE_COARSE * peak), 0.0, 1.0)).astype(np.float32))
    diff = _gauss(_channel_mean(np.abs(d)), 1.5)
    w_fine = _rgb((wgt * np.clip(1.0 - diff / (PREV_AGREE * peak), 0.0, 1.0)).astype(np.float32))
    d -= c_d                            # the fine band of back - cur
    d *= w_fine
    c_d *= w_coarse
    d += c_d
    cur += d


# The mouth's inside (teeth, tongue, cavity) of consecutive open frames, built from different
# exemplars, differs more than the opening's motion: teeth bared in one, a dark cavity in the next
# (expr_sad f12-17: exemplars 4, 4, 83, -, 102, 77, teeth, teeth, a bright line, teeth, a black
# hole). Its low band (Gaussian STEADY_BAND pixels) takes INTERIOR_SHARE of the previous frame's,
# motion-compensated; the fine band (teeth edges, grain) stays this frame's, so no second contour is
# drawn and the sharpness stays. Measured in-process on lipeval's mouth box (roughness ratio,
# mouth_activity, sharpness), share 0.7: expr_sad 1.134 -> 1.113 (activity 3.90 -> 3.83 grey
# levels, the source's 3.74; sharpness 1.041 -> 1.040), expr_disgusted 1.083 -> 1.073 (sharpness
# 0.983 -> 0.979). Share 0.4 / 0.5 / 0.7 on expr_sad: 1.119 / 1.118 / 1.113; with the skin's
# steadiness below 1.094 / 1.091 / 1.091, and at 0.7 the previous frame's teeth showed as a soft
# glow below this frame's in a dark mouth (expr_sad f86, from f84-85's teeth lower down; fainter
# at 0.5). A band of 1 pixel took teeth
# edges with it (expr_disgusted sharpness 0.983 -> 0.962 at share 0.4); of 4 pixels less of the
# flicker (expr_sad 1.116). The interior's colour statistics alone (mean and contrast matched to
# its neighbours') 1.127. The mouth's low band blurred along its motion to the neighbouring frames
# (a camera's shutter, 0.35-0.5 of a frame each way) took expr_sad's lipeval roughness from 1.109
# to 1.093, but sharpness with it (talk_e 0.981 -> 0.957, expr_sad 0.967 -> 0.955), and a sealed
# frame blurred along its neighbours' opening read as parted (expr_surprised closure 0.78): not
# kept; the skin's steadiness below does more at no cost in sharpness.
# It also holds the re-tracked opening back: the demo's quick QC (`lipflap demo`, the astronaut)
# read timing r0 0.740 with no interior share and the skin's at 0.7, 0.681 with the interior's at
# 0.5 alone, and with both its best lag went from 0 to +1 frame (r 0.711 at 0, 0.717 at +1: a mouth
# late). At 0.25: best lag 0 (r0 0.727, 0.715 at +1), and expr_sad's lipeval roughness 1.093
# (1.086 at 0.5, 1.101 at 0; expr_surprised 1.070 at 0.5, 1.086 at 0).
INTERIOR_SHARE = 0.25


# The skin around the mouth (chin, the folds beside it) differs between exemplars in its shading
# at the scale of wrinkles and dimples, which the light offset (0.35 of the mouth width) leaves:
# a jump between exemplars, and the dub's mouth jumps every few frames, pops it. Its band between
# STEADY_BAND pixels and SKIN_COARSE of the mouth width takes SKIN_SHARE of the previous frame's,
# motion-compensated (the same point of the face), on every frame, sealed or not (the lips are
# left out); the fine band (grain, pores) and the light stay this frame's. Measured in-process
# on lipeval's mouth box, share 0.5 with the steady interior at 0.7 (roughness ratio, sharpness,
# mean first difference in grey levels): expr_sad 1.113 -> 1.091, 1.042 -> 1.041, 3.83 -> 3.67 (the
# source's 3.74); expr_disgusted 1.073 -> 1.061, 0.985 -> 0.981; talk_e 1.021 -> 1.013, 1.000
# both. Share 0.7: expr_disgusted 1.057, talk_e 1.011; with the interior's share at 0.5,
# expr_sad 1.096 at 0.5, 1.091 at 0.7 (3.63, the chin's shading then held from f12 to f18 where
# it changed every frame). The whole low band, light included, 1.089 on expr_sad, to 0.3 of the
# width 1.090: the wrinkles' band is what pops. With both, lipeval (bench/hard_set.py, main
# 537267f -> these): roughness expr_sad 1.130 -> 1.087, expr_disgusted 1.082 -> 1.060,
# expr_surprised 1.081 -> 1.057, selfie 1.001 -> 0.994, talk_e 1.022 -> 1.010, turn 1.034 ->
# 1.021, talk_a 0.989 -> 0.974, talk_g 1.024 -> 1.007; sharpness, closure, opening, rest and
# timing r0 as they were; mouth activity 2-7% lower, the pops it counted: expr_sad's speech frames
# still change more than the source's (grey levels a frame, upper / middle / lower third of the
# mouth box: source 2.91 / 6.08 / 2.92, before 3.11 / 7.91 / 3.63, now 3.05 / 7.47 / 2.98).
SKIN_SHARE = 0.7
SKIN_COARSE = 0.15
# Both bands start at STEADY_BAND pixels (Gaussian), so they are worked out at half resolution,
# the interior's and the skin's together on one map of the previous patch: render_frame's CPU
# time, best of three on a busy machine, expr_sad (1080p) 34.8 -> 41.1 ms a frame (at full
# resolution one by one 37.0 -> 48.9), expr_disgusted 7.0 -> 8.5; roughness the same.
STEADY_BAND = 2.5
STEADY_REDUCE = 2


def _whole_blocks(img: np.ndarray, size: tuple[int, int], f: int) -> np.ndarray:
    """`img` reduced to `size` (w, h) by area over exactly f x f pixels a reduced one (an odd
    last row or column is left out): OpenCV's area reduction by a whole factor is its fast
    path, 0.12 against 0.56 ms for a 3-channel 285x355 patch (0.01 against 0.19 ms one channel),
    and half the bench's patches had an odd side."""
    return cv2.resize(img[:size[1] * f, :size[0] * f], size, interpolation=cv2.INTER_AREA)


def _enlarged(img: np.ndarray, f: int, shape: tuple[int, int]) -> np.ndarray:
    """_whole_blocks' reduced image brought back to `shape` (h, w): enlarged f times (linear),
    the rows and columns it left out given their neighbour's value."""
    h, w = shape
    sh, sw = img.shape[0] * f, img.shape[1] * f
    if (sh, sw) == (h, w):
        return cv2.resize(img, (sw, sh), interpolation=cv2.INTER_LINEAR)
    # enlarged into the full-size array's corner and its last rows and columns copied from
    # their neighbour: one full-size array, not two (the replicated border's copy of the whole
    # was 0.04 ms, and a second fresh 1.2 MB array a bench patch's page faults: 1.25 against
    # 0.07 ms a call in a loop)
    up = np.empty((h, w) + img.shape[2:], img.dtype)
    cv2.resize(img, (sw, sh), dst=up[:sh, :sw], interpolation=cv2.INTER_LINEAR)
    up[sh:, :sw] = up[sh - 1:sh, :sw]
    up[:, sw:] = up[:, sw - 1:sw]
    return up


def _steady_bands(out: np.ndarray, x0: int, y0: int, target: np.ndarray, prev: "Patch",
                  model: MouthModel, lips: np.ndarray, size: float, inside: bool,
                  raster: tuple | None = None) -> None:
    """Blend the previous frame's skin shading band (SKIN_SHARE, away from the lips: `lips`,
    their soft mask) and, with `inside`, its mouth interior's low band (INTERIOR_SHARE, where
    both frames are open) into this frame's patch, in place on `out`; each pixel from the
    previous patch's pixel at the same point of the face, where the previous patch was drawn.
    Each band is taken from its own region's pixels only (normalised convolution: the teeth do
    not tint the chin, nor the lips the teeth). The bands are smooth at STEADY_REDUCE times less
    resolution: worked out there and brought back; the weights are the full resolution's.
    `raster`: the patch's (triangle ids, covered) of the target's mesh (_target_raster), drawn
    when None, sampled at the reduced pixels' centres for their map."""
    if prev.points is None:
        return
    f = STEADY_REDUCE
    h, w = out.shape[:2]
    ph, pw = prev.rgb.shape[:2]
    small, p_small = (max(1, w // f), max(1, h // f)), (max(1, pw // f), max(1, ph // f))
    # pixel centres of the reduced images in the full ones' coordinates: u -> (u + 0.5) f - 0.5
    reduced = functools.partial(_whole_blocks, f=f)
    # each reduced pixel takes the triangle of the full-resolution pixel its centre falls in
    # (the map is continuous across the triangles' edges; a triangle too thin to draw at half
    # resolution keeps its own map here)
    at = (slice(f // 2, small[1] * f, f), slice(f // 2, small[0] * f, f))
    ids, cov = raster if raster is not None else _target_raster(out, x0, y0, target, model)
    cov = cov[at]
    mx, my = g.maps_on_raster(ids[at], (target - [x0, y0] + 0.5) / f - 0.5,
                              (prev.points - [prev.x0, prev.y0] + 0.5) / f - 0.5, model.tris)

    def reduced_prev(img, border=cv2.BORDER_REPLICATE):
        return cv2.remap(reduced(img, p_small), mx, my,
                         cv2.INTER_LINEAR, borderMode=border, borderValue=0)

    full = functools.partial(_enlarged, f=f, shape=(h, w))

    def band_of(diff, m, lo, hi=None):
        """Gaussian lo minus hi (pixels) of diff over the pixels of mask m only."""
        m = m.astype(np.float32, copy=False)
        dm = diff * _rgb(m)
        band = _gauss(dm, lo) / _rgb(_gauss(m, lo) + 1e-3)
        if hi is not None:
            band -= _blur(dm, hi) / _rgb(_blur(m, hi) + 1e-3)
        return band

    drawn = full(_clip0(reduced_prev(prev.alpha, cv2.BORDER_CONSTANT), 1.0) * cov)
    skin = 1.0 - _clip0(1.5 * lips, 1.0)
    diff = reduced_prev(prev.rgb) - reduced(out, small)
    band = band_of(diff, reduced(skin, small),
                   STEADY_BAND / f, max(STEADY_BAND, SKIN_COARSE * size) / f)
    band = full(band)                   # in place: the same products, no full-size copies
    band *= _rgb(SKIN_SHARE * skin * drawn)
    out += band
    if not inside or INTERIOR_SHARE <= 0:
        return
    n_reg, k = len(model.region), np.ones((3, 3), np.uint8)
    now = cv2.erode(_poly((h, w), target[:n_reg][model.lips[20:]], x0, y0), k)
    was = cv2.erode(_poly((ph, pw), prev.points[:n_reg][model.lips[20:]], prev.x0, prev.y0), k)
    if cv2.countNonZero(now) < 12 or cv2.countNonZero(was) < 12:
        return
    both = reduced(now.astype(np.float32), small) * \
        reduced_prev(was.astype(np.float32), cv2.BORDER_CONSTANT)
    low = band_of(diff, both > 0.5, STEADY_BAND / f)
    # back to full resolution only over the opening's box
    bx, by, bw, bh = cv2.boundingRect(now)
    by0, by1, bx0, bx1 = max(by - 3, 0), min(by + bh + 3, h), max(bx - 3, 0), min(bx + bw + 3, w)
    gx, gy = np.meshgrid((np.arange(bx0, bx1, dtype=np.float32) + 0.5) / f - 0.5,
                         (np.arange(by0, by1, dtype=np.float32) + 0.5) / f - 0.5)
    up = lambda img: cv2.remap(img, gx.astype(np.float32), gy.astype(np.float32), cv2.INTER_LINEAR,
                               borderMode=cv2.BORDER_REPLICATE)
    soft = _gauss(now[by0:by1, bx0:bx1].astype(np.float32), 1.0)
    wgt = INTERIOR_SHARE * soft * np.clip(up(both), 0.0, 1.0) * drawn[by0:by1, bx0:bx1]
    out[by0:by1, bx0:bx1] += _rgb(wgt.astype(np.float32)) * up(low)


# A mouth closed from an exemplar whose lips are a little apart: each of the exemplar's inner-lip
# points is moved into its gap by SEAL of the part of the gap the target closes (half a side), so
# the two lips meet inside the gap, on its own dark pixels sampled from both sides. Mapped at the gap's
# edges, the upper lip's dark rim met the lower lip's lit rim in one pixel: a hard step that
# read as a light seam along the closed lips (expr_surprised f8, f53-54, f81, whose lips are
# never closed in the shot: 48 -> 99 in one row, the exemplar's own gap rises over three).
# Only where the lips meet: fully for a target gap under SEAL_CLOSED mouth widths, fading out by
# twice that; an open mouth that narrows keeps its lips' rims and squeezes its opening (sealed,
# expr_disgusted f34 and f103, 31 px gaps from 33 px ones, took a pixel of teeth into each lip).
# Half the gap: all of it (SEAL 1, the lips meeting on its middle) drew a crease the tracker
# reads as parted lips on a small face (oldfilm, a 30 px mouth: one closure of ten lost, 0.8 ->
# 0.7); at 0.5 oldfilm keeps 0.8 and expr_surprised's closed lips show no step.
SEAL = 0.5
SEAL_CLOSED = 0.02


def _sealed_source(ex: Exemplar, target: np.ndarray, model: MouthModel) -> np.ndarray:
    """The exemplar's points for the warp, its inner-lip pairs drawn together into its gap
    where the target closes it (see SEAL) and the gap is darker than the lips' rims; a copy
    when any moves."""
    ex_pts = ex.points
    pos = positions(model.region)
    closed = SEAL_CLOSED * float(np.hypot(*(target[pos[g.MOUTH_CORNERS[1]]]
                                            - target[pos[g.MOUTH_CORNERS[0]]])))
    pts = ex_pts
    for a, b in g.INNER_PAIRS:
        ia, ib = pos[a], pos[b]
        v = ex_pts[ib] - ex_pts[ia]
        ge = float(np.hypot(*v))
        gt = float(np.hypot(*(target[ib] - target[ia])))
        share = SEAL * min(max(2.0 - gt / max(closed, 1e-6), 0.0), 1.0)    # (np.clip: 7 us a call)
        if ge < 1.0 or gt >= ge or share <= 0 or not _dark_gap(ex, ex_pts[ia], ex_pts[ib]):
            continue
        if pts is ex_pts:
            pts = ex_pts.astype(np.float64, copy=True)
        d = share * 0.5 * (ge - gt) / ge
        pts[ia] += d * v
        pts[ib] -= d * v
    return pts


def _dark_gap(ex: Exemplar, a: np.ndarray, b: np.ndarray) -> bool:
    """Whether the exemplar's gap between inner-lip points a and b is darker than the two rims:
    a mouth cavity the lips can meet in. Teeth in the gap are lighter than the lips, and drawn
    together there they made a white seam along closed lips (scikit-image's astronaut, a smile
    with teeth, closed by the edited track: re-tracked aperture 0.031 -> 0.071 of 0.114)."""
    ih, iw = ex.image.shape[:2]

    def grey(pt):                       # a 3x3 mean, so one grain speck does not decide
        # (integer sum over the count: what ndarray.mean gives, exactly, without its ~20 us of
        # overhead, three times for each of the four inner-lip pairs a frame)
        x = min(max(round(pt[0] - ex.x0), 1), iw - 2)
        y = min(max(round(pt[1] - ex.y0), 1), ih - 2)
        block = ex.image[y - 1:y + 2, x - 1:x + 2]
        return int(block.sum()) / block.size
    v = b - a                           # the rims sampled half a gap into each lip
    return grey((a + b) / 2) < min(grey(a - 0.5 * v), grey(b + 0.5 * v))


def _inner_gap(region_pts: np.ndarray, model: MouthModel) -> float:
    pos = positions(model.region)
    return float(np.mean([np.linalg.norm(region_pts[pos[a]] - region_pts[pos[b]]) for a, b in g.APERTURE_PAIRS]))
