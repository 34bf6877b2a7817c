"""The yardstick's mouth-box sharpness ratio split by what the two mouths show.

    python bench/sharpness_by_state.py OUTPUT.mov SOURCE.mp4 [--open 0.08] [--closed 0.05]

lipeval's `mouth_sharpness_ratio_median` is the median over frames of the variance of the
Laplacian in one mouth box, output over source. A row of teeth has far more edges than closed
lips, so where the dub closes a mouth that the source shows open the ratio drops without any blur
(a smiling speaker whose dub rests her mouth read 0.896: docs/quality.md 'Held out'). This prints
the ratio's median over all frames (as the yardstick) and over frames grouped by the inner-lip
gap (the yardstick's own aperture, `lipeval.aperture_series`, on its tracker's landmarks of both
videos): both closed, both open,
source open and output closed, source closed and output open. Like against like is what says
whether the render is soft.
"""
from __future__ import annotations

import argparse
import os
import sys

import av
import cv2
import numpy as np

EVAL = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                    "shared", "eval")
sys.path.insert(0, os.environ.get("LIPFLAP_EVAL", EVAL))
import lipeval  # noqa: E402  (the yardstick, read-only)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("output")
    ap.add_argument("source")
    ap.add_argument("--open", type=float, default=0.08, help="gap (eye distances) counted open")
    ap.add_argument("--closed", type=float, default=0.05, help="gap under which it is closed")
    a = ap.parse_args()
    lm_s, _ = lipeval.track(a.source)
    lm_o, _ = lipeval.track(a.output)
    gap_s, gap_o = lipeval.aperture_series(lm_s)[0], lipeval.aperture_series(lm_o)[0]
    found = [p for p in lm_s if p is not None]
    if not found:
        sys.exit(f"{a.source}: no face found")
    # the yardstick's box: every source frame's mouth points, padded by 15% of its width
    box = np.concatenate([p[lipeval.MOUTH_BOX] for p in found])
    x0, y0 = box.min(0).astype(int)
    x1, y1 = box.max(0).astype(int)
    pad = int(0.15 * (x1 - x0))
    x0, y0, x1, y1 = max(0, x0 - pad), max(0, y0 - pad), x1 + pad, y1 + pad
    rows = []
    with av.open(a.output) as co, av.open(a.source) as cs:
        for i, (fo, fs) in enumerate(zip(co.decode(video=0), cs.decode(video=0))):
            g = [cv2.cvtColor(f.to_ndarray(format="rgb24")[y0:y1, x0:x1], cv2.COLOR_RGB2GRAY)
                 .astype(np.float32) for f in (fo, fs)]
            ls = cv2.Laplacian(g[1], cv2.CV_32F).var()
            if ls > 1e-3 and i < len(lm_s) and i < len(lm_o):
                rows.append((cv2.Laplacian(g[0], cv2.CV_32F).var() / ls, gap_s[i], gap_o[i]))
    r = np.array(rows)
    print(f"all frames: median {np.median(r[:, 0]):.3f} ({len(r)})")
    so, sc = r[:, 1] >= a.open, r[:, 1] < a.closed
    oo, oc = r[:, 2] >= a.open, r[:, 2] < a.closed
    for name, m in (("both closed", sc & oc), ("both open", so & oo),
                    ("source open, output closed", so & oc), ("source closed, output open", sc & oo)):
        print(f"{name}: " + (f"median {np.median(r[m, 0]):.3f} ({int(m.sum())})" if m.any() else "none"))


if __name__ == "__main__":
    main()
