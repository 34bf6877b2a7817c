"""The lips as a picture shows them: the lip band between the outer and inner contours, less the
mouth's inside that shows in it.

A lip band drawn at contours (a tracker's on the actor's own frames, the target's on a rendered one)
takes in the dark opening wherever the contour misses the pixels' own lip edge: an exemplar whose
tracked inner contour lies below its dark slit (talk_e f113), or whose opening reaches past its
contour at a corner (f89), puts that slit or corner inside the target's lip band when it is warped.
Its band mean then reads 2-4 L* darker than the lips shown, so the lip colour match and the range
guard lifted or left the lips themselves too light (talk_e f88-89, f95: lip pixels L* 47.9-48.3
where the band at the target's contours read 45.2), and a re-track of the output, whose contours
follow the visible opening, read them past the actor's range. One rule measures the lips the same
way on the actor's frames (frame_score, the range) and on the patch (synth): the band's pixels
darker than OPENING_DARK of its median L* that connect, through such pixels, to the inner
contour's area are the opening, not lips.
"""
from __future__ import annotations

import cv2
import numpy as np

from .median import median_of

# A pixel of the band under this share of the band's median L* belongs to the opening when it
# connects to it: the cavity reads L* 5-10 against lips of 35-55. A dark upper lip can read 10-15
# beside the seam (talk_f, dark lipstick), which 0.5 took for opening: talk_f's lips were then
# measured lighter than shown and held 2-4 L* darker (f81 out of her range, talk set render);
# at 0.35 talk_e f88-89 are held as at 0.5 and talk_f f81 is in range.
OPENING_DARK = 0.35
# Fewer lip pixels than this left: the band is measured whole (a mouth all opening).
MIN_LIP_PIXELS = 12
_K3 = np.ones((3, 3), np.uint8)


def shown_lips(lightness: np.ndarray, band: np.ndarray, inner: np.ndarray) -> np.ndarray:
    """The band's pixels that show lips: `band` less the pixels darker than OPENING_DARK of the
    band's median `lightness` (CIE L*, any scale) that are joined through such pixels, within the
    band and the opening, to the inner contour's area `inner` (its filled polygon, touching pixels
    included: a closed mouth's seam). Boolean masks of `lightness`'s shape."""
    if np.count_nonzero(band) < MIN_LIP_PIXELS:
        return band
    dark = (lightness < OPENING_DARK * median_of(lightness[band])) & (band | inner)
    # The components are labelled over the dark pixels' box only (their components are the
    # same; outside it nothing is opening): on the bench's lips a fraction of the band's box
    # (0.91 -> 0.73 ms of thread CPU a bench frame over the synthesis' eight calls).
    x, y, w, h = cv2.boundingRect(dark.view(np.uint8))
    if w == 0:
        return band
    box = (slice(y, y + h), slice(x, x + w))
    dark = dark[box]
    n, label = cv2.connectedComponents(dark.view(np.uint8), connectivity=8)
    # the inner area dilated by a pixel, over the box and the pixel round it
    y0, x0 = max(y - 1, 0), max(x - 1, 0)
    near = cv2.dilate(inner[y0:y + h + 1, x0:x + w + 1].astype(np.uint8), _K3)
    seeds = dark & (near[y - y0:y - y0 + h, x - x0:x - x0 + w] > 0)
    opening = np.zeros(n, bool)
    opening[label[seeds]] = True
    opening[0] = False
    lips = band.copy()
    lips[box] &= ~opening[label]
    return lips if np.count_nonzero(lips) >= MIN_LIP_PIXELS else band
