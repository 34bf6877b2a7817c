"""How deep the shadow under the lower lip is, in a render against its source, frame by frame.

    python bench/under_lip.py SOURCE RENDER [F0 F1]

Each video is re-tracked with the yardstick's Face Mesh (`lipeval.track`); per frame, the depth is
the mean L* (0-100) of a band just under the central part of the lower lip's outer contour (0.02 to
0.12 of the mouth's width below it) minus the mean L* of the chin further down (0.25 to 0.40), each
video at its own lips. Prints the source's and the render's mean and deepest depth and the 5th
percentile and minimum of render minus source; with F0 F1, both depths for those frames. The
yardstick does not look at the skin under the lips: this is what the selfie's dark crescent at
f63-66 reads (docs/quality.md, README hard-set row).
"""
from __future__ import annotations

import os
import sys

import av
import cv2
import numpy as np

from hard_set import EVAL

# Face Mesh's lower lip, outer contour, corner to corner; the central part is [2:-2].
LOWER_OUTER = [61, 146, 91, 181, 84, 17, 314, 405, 321, 375, 291]
BAND = (0.02, 0.12)
CHIN = (0.25, 0.40)


def frames(path: str):
    """The video's frames as RGB, one at a time (a 1080p clip held whole is ~6 MB a frame)."""
    with av.open(path) as c:
        for f in c.decode(video=0):
            yield f.to_ndarray(format="rgb24")


def depth(img: np.ndarray, pts: np.ndarray) -> float:
    """L* under the lower lip minus L* of the chin, both below the lip's central contour."""
    width = float(np.linalg.norm(pts[61] - pts[291]))
    lum = cv2.cvtColor(img, cv2.COLOR_RGB2LAB)[..., 0].astype(np.float32) * (100.0 / 255.0)
    contour = pts[LOWER_OUTER[2:-2]]

    def mean_below(d0: float, d1: float) -> float:
        poly = np.vstack([contour + [0, d0 * width], (contour + [0, d1 * width])[::-1]])
        mask = np.zeros(lum.shape, np.uint8)
        cv2.fillPoly(mask, [poly.astype(np.int32)], 1)
        return float(lum[mask > 0].mean()) if mask.any() else float("nan")
    return mean_below(*BAND) - mean_below(*CHIN)


def depths(path: str) -> np.ndarray:
    import lipeval  # ../shared/eval, put on the path once by main()
    lms, _ = lipeval.track(path)
    return np.array([depth(im, p) if p is not None else np.nan for im, p in zip(frames(path), lms)])


def main() -> int:
    if len(sys.argv) not in (3, 5):
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    src, out = sys.argv[1], sys.argv[2]
    sys.path.insert(0, EVAL)
    for p in (src, out):
        if not os.path.exists(p):
            print(f"under_lip: {p} does not exist.", file=sys.stderr)
            return 2
    ds, dr = depths(src), depths(out)
    n = min(len(ds), len(dr))
    ds, dr = ds[:n], dr[:n]
    diff = dr - ds
    print(f"{os.path.basename(out)}: source depth mean {np.nanmean(ds):.1f} deepest {np.nanmin(ds):.1f}"
          f" | render mean {np.nanmean(dr):.1f} deepest {np.nanmin(dr):.1f}"
          f" | render - source p5 {np.nanpercentile(diff, 5):.1f} min {np.nanmin(diff):.1f}")
    if len(sys.argv) == 5:
        for i in range(int(sys.argv[3]), min(int(sys.argv[4]) + 1, n)):
            print(f"f{i} source {ds[i]:.1f} render {dr[i]:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
