"""An exemplar whose pixels show its lips (nearly) shut while Face Mesh tracks them parted: its
inner-lip points moved to where the pixels close, before it is warped.

Face Mesh in tracking mode often holds a closed mouth a few pixels open (issue 15: the hard set's
selfie frame 112, tracked 0.024 eye distances, 7 px, seen on its own at 0.006; frame 116 0.031 and
0.001; surprised frame 12 0.041 and 0.026). Those exemplars are the ones a closure is built from
(render.select's SEAL_SEEN_WEIGHT prefers them), and the warp shuts their *tracked* gap: the
triangles of the opening collapse onto one line, and the strip of lip that the tracked gap holds
goes with them (frame 112: its lower inner points lie 0.016 eye distances below the dark lip
line, so its lower lip was warped as 0.124 thick where its pixels show 0.140), and the map tears
at the seam (the stepped black seam that synth._soften_tears blurs).

The look (render.seen) keeps only how far apart the lips are, not where they meet: where they
meet is read from the exemplar's own pixels, the darkest point (the shadow of the lip line)
between each tracked upper and lower inner-lip point. Both points are drawn towards it until the
gap is the one seen, each keeping its side; the outer lip contour stays, so each lip keeps the
thickness its pixels show. The crops of the texture comparison (select.texture_distances) are
drawn from these points too, so the path compares such an exemplar's lips with lips.

Measured on the hard set (bench/hard_set.py, main at 0cb7801 against this): selfie f54 (a "p")
re-tracks a lower lip of 0.123 eye distances (0.098 before; the actor's 0.094-0.152), a full lower
lip on one clean lip line where it was a thin one with its shadow set apart; but that is the
path's doing (the texture comparison now takes frame 24 there, tracked 0.006 and seen 0.003, over
112): forced onto 112, the corrected exemplar re-tracks 0.096 and looks as before (its own pressed
lips, the shadow apart from them; the drawn lip is the target's 0.126 either way). The torn pixels
_soften_tears blurs fell 99273 -> 59623 over selfie and 17443 -> 14056 over surprised (f54 forced
onto 112: 3194 -> 3018): a closure still shuts the lip line left between the points, so the blur
stays. Closure 1.00 and lag 0 on selfie, surprised, turn and disgusted; outside_any as before but
turn 0.005 -> 0.010 (f99, an open frame whose exemplar is unchanged, re-tracked 0.6 L* lighter
than the actor's lightest; its picture is the same).
"""
from __future__ import annotations

import cv2
import numpy as np

from . import geometry as g

# An exemplar is corrected only where its look sees the lips at most this far apart (eye
# distances): shut or only just parted, the mouths a closure is built from; a look at a mouth
# opened wider can be off by 0.03-0.04 either way (render.seen), and its opening is no lip line.
SHUT_SEEN = 0.03

# Points along each upper-to-lower inner pair where the lip line is looked for, per pixel of the
# pair's length (at least SEAM_SAMPLES_MIN).
SEAM_SAMPLES_PER_PX = 2
SEAM_SAMPLES_MIN = 5


def seal_points(points: np.ndarray, crop: np.ndarray, x0: int, y0: int, region: np.ndarray,
                tracked: float, seen: float) -> np.ndarray:
    """`points` ((P + Q, 2) region then ring, frame pixels) of an exemplar with its inner-lip
    pairs drawn together to the `seen` opening around the lip line of `crop` (the exemplar's
    lower-face crop, RGB, at x0, y0); unchanged (the same array) unless the look saw the lips
    shut (`seen` under SHUT_SEEN) and closer than the track (`tracked`, the frame's aperture)."""
    if not (np.isfinite(seen) and np.isfinite(tracked)) or seen >= SHUT_SEEN or seen >= tracked:
        return points
    keep = max(seen, 0.0) / tracked           # the share of each pair's gap the pixels show
    pos = {int(k): i for i, k in enumerate(region)}
    up = np.array([pos[a] for a, _ in g.INNER_PAIRS])
    lo = np.array([pos[b] for _, b in g.INNER_PAIRS])
    grey = _grey(crop)
    out = np.array(points, np.float64, copy=True)
    u, low = out[up] - [x0, y0], out[lo] - [x0, y0]
    t = np.array([_darkest(grey, a, b) for a, b in zip(u, low)])
    # The lip line is one smooth curve: a pair whose darkest point stands apart from both
    # neighbours' (a fleck, a tooth's edge) follows them.
    t = np.array([np.median(t[max(0, k - 1):k + 2]) for k in range(len(t))])
    seam = u + t[:, None] * (low - u)
    out[up] = seam + keep * (u - seam) + [x0, y0]
    out[lo] = seam + keep * (low - seam) + [x0, y0]
    return out


def _grey(crop: np.ndarray) -> np.ndarray:
    """Float grey of the crop, lightly blurred (sensor noise and grain are not the lip line)."""
    grey = np.asarray(crop, np.float32)[..., :3].mean(-1)
    return cv2.GaussianBlur(grey, (3, 3), 0)


def _darkest(grey: np.ndarray, a: np.ndarray, b: np.ndarray) -> float:
    """Where (0 at a, 1 at b) the segment a-b (crop pixels) is darkest; the first of equals."""
    n = max(SEAM_SAMPLES_MIN, int(np.ceil(np.linalg.norm(b - a) * SEAM_SAMPLES_PER_PX)) + 1)
    ts = np.linspace(0.0, 1.0, n)
    xy = (a[None] + ts[:, None] * (b - a)[None]).astype(np.float32)
    vals = cv2.remap(grey, xy[:, :1].reshape(-1, 1), xy[:, 1:].reshape(-1, 1), cv2.INTER_LINEAR,
                     borderMode=cv2.BORDER_REPLICATE).ravel()
    return float(ts[int(np.argmin(vals))])
