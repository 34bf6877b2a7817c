"""Which frames of a render leave the actor's own lip/mouth/jaw range, and by which feature.

    python bench/lip_range_diag.py OUTPUT.mov SOURCE.mp4 [--frames N] [--all]

Re-tracks both videos with the yardstick's own tracker (../shared/eval/lipeval.py `track`),
measures each frame with its `_lip_features` (upper and lower lip thickness, mouth width, jaw
drop over the eye distance; lip L* and chroma) and prints the source's bounds as `shape_outliers`
draws them (1st-99th percentile widened by max(10% of the range, one just noticeable step)), then
one line per output frame outside them (every frame with --all): the feature, the value, the
bound, and the source frame's own value for comparison; with --shown also the lip L* over the lips
shown (lipflap.render.lip_band), which the renderer holds in the actor's range: a lip_L outlier
whose lips-shown value is in range comes from the re-track's contours, not the lips' colour. Landmarks of both are cached in the
output's folder (or --cache DIR): OUTPUT.lms.npz and SOURCE.source.lms.npz, so a second look is
fast and nothing is written beside a shared source clip.
"""
from __future__ import annotations

import argparse
import os
import sys

import numpy as np

EVAL = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                    "shared", "eval")
sys.path.insert(0, os.environ.get("LIPFLAP_EVAL", EVAL))
import lipeval  # noqa: E402  (the yardstick, read-only)

MARGIN = np.array([0.01, 0.01, 0.01, 0.01, 3.0, 3.0])


def _tracked(path: str, frames: int | None, cache: str | None = None) -> list:
    cache = cache or os.path.splitext(path)[0] + ".lms.npz"
    if os.path.exists(cache) and os.path.getmtime(cache) > os.path.getmtime(path):
        z = np.load(cache)
        lms = [None if not ok else p for ok, p in zip(z["ok"], z["p"])]
    else:
        lms, _ = lipeval.track(path)
        ok = np.array([p is not None for p in lms])
        p = np.array([q if q is not None else np.zeros((478, 2), np.float32) for q in lms])
        np.savez_compressed(cache, ok=ok, p=p)
    return lms[:frames] if frames else lms


def features(video: str, lms: list, shown: list | None = None) -> list:
    """lipeval's features of each frame; with `shown` (a list), also appends to it the lips'
    mean L* (8-bit scale, as lipeval's) over the lips shown (lipflap.render.lip_band: the band
    less the opening reaching into it), the quantity the renderer holds in range."""
    import av
    out = []
    with av.open(video) as c:
        for i, fr in enumerate(c.decode(video=0)):
            if i >= len(lms):
                break
            p = lms[i]
            img = fr.to_ndarray(format="rgb24")
            out.append(None if p is None else lipeval._lip_features(p, img.astype(np.float32)))
            if shown is not None:
                shown.append(None if p is None else _shown_l(p, img))
    return out


def _shown_l(p: np.ndarray, img: np.ndarray) -> float:
    import cv2
    from lipflap.render.lip_band import shown_lips
    x0, y0 = np.maximum(p[lipeval.LIPS_OUTER].min(0).astype(int) - 2, 0)
    x1, y1 = p[lipeval.LIPS_OUTER].max(0).astype(int) + 3
    crop = img[y0:y1, x0:x1]
    o, n = np.zeros(crop.shape[:2], np.uint8), np.zeros(crop.shape[:2], np.uint8)
    cv2.fillPoly(o, [(p[lipeval.LIPS_OUTER] - [x0, y0]).astype(np.int32)], 1)
    cv2.fillPoly(n, [(p[lipeval.LIPS_INNER] - [x0, y0]).astype(np.int32)], 1)
    L = cv2.cvtColor(crop, cv2.COLOR_RGB2LAB)[..., 0].astype(np.float32)
    m = shown_lips(L, (o > 0) & (n == 0), n > 0)
    return float(L[m].mean()) if m.any() else float("nan")


def bounds(f_src: list) -> tuple[np.ndarray, np.ndarray]:
    fs = np.array([f for f in f_src if f is not None])
    lo, hi = np.percentile(fs, 1, axis=0), np.percentile(fs, 99, axis=0)
    m = np.maximum(0.1 * (hi - lo), MARGIN)
    return lo - m, hi + m


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("output")
    p.add_argument("source")
    p.add_argument("--frames", type=int)
    p.add_argument("--all", action="store_true")
    p.add_argument("--cache", help="folder for the landmark caches (default: the output's)")
    p.add_argument("--shown", action="store_true",
                   help="also the lip L* over the lips shown (less the opening in the band), "
                        "the quantity the renderer holds")
    a = p.parse_args()
    where = a.cache or os.path.dirname(os.path.abspath(a.output))
    os.makedirs(where, exist_ok=True)
    stem = os.path.splitext(os.path.basename(a.source))[0]
    lo_out = _tracked(a.output, a.frames)
    n = len(lo_out)
    lo_src = _tracked(a.source, n, os.path.join(where, f"{stem}.source.lms.npz"))
    sh_o, sh_s = ([], []) if a.shown else (None, None)
    f_o, f_s = features(a.output, lo_out, sh_o), features(a.source, lo_src, sh_s)
    lo, hi = bounds(f_s)
    names = lipeval.SHAPE_NAMES
    print("bounds " + "  ".join(f"{k}[{l:.3f},{h:.3f}]" for k, l, h in zip(names, lo, hi)))
    bad = 0
    for i, f in enumerate(f_o):
        if f is None:
            continue
        out = (f < lo) | (f > hi)
        bad += bool(out.any())
        if not (out.any() or a.all):
            continue
        s = f_s[i] if i < len(f_s) and f_s[i] is not None else np.full(6, np.nan)
        parts = [f"{k}={v:.3f}{'!' if o else ''}(src {sv:.3f})"
                 for k, v, o, sv in zip(names, f, out, s) if o or a.all]
        if sh_o is not None:
            parts.append(f"lip_L_shown={sh_o[i]:.3f}(src {sh_s[i] if i < len(sh_s) and sh_s[i] else np.nan:.3f})")
        print(f"{i:4d} " + " ".join(parts))
    valid = sum(f is not None for f in f_o)
    print(f"outside_any {bad / max(valid, 1):.3f} ({bad}/{valid})")


if __name__ == "__main__":
    main()
