"""How far `run`'s quick QC timing r is from the r on every frame, from its sampling alone.

    python bench/quick_timing_sample.py scratch/qa19        # the cases of a bench_qc_agree.py folder
    python bench/quick_timing_sample.py --talk s19          # scratch/talk/s19 (bench/timing_set.py)

On the yardstick's own landmarks of each render (../shared/eval/lipeval.py's tracker, cached in
the folder's lmcache/), the timing r on every frame (against the phones' opening as QC draws it,
lipflap.qc.sync.phone_opening: the yardstick's curve) against the r on the frames the quick QC
re-tracks (lipflap.qc.pixels.sample_frames): weighted as the quick QC weights them
(timing_weights), unweighted, and with the frames between linearly interpolated. The landmarks
are the same in every column, so the differences are the sampling's alone (docs/quality.md).
"""
from __future__ import annotations

import argparse
import json
import os
import sys

import av
import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.environ.get("LIPFLAP_SHARED", os.path.join(os.path.dirname(REPO), "shared"))
VARIANTS = ("weighted", "unweighted", "interpolated")


def talk_cases(tag: str) -> dict:
    """The talk set's renders under scratch/talk/TAG, as bench_qc_agree.py's cases."""
    from hard_set import TEXT
    from timing_set import LANG
    cases = {}
    for clip, lang in sorted(LANG.items()):
        mov = os.path.join(REPO, "scratch", "talk", tag, f"{clip}.mov")
        with av.open(mov) as c:
            n = c.streams.video[0].frames
        stem = os.path.join(REPO, "scratch", "talk", clip)
        cases[clip] = {"expect": "good", "output": mov, "dub": stem + ".dub.wav",
                       "phones": stem + ".dub.phones.json", "text": TEXT[lang], "language": lang,
                       "start": 0, "end": n - 1}
    return cases


def sampled_rs(ap: np.ndarray, exp: np.ndarray, case: dict, fps: float) -> dict:
    """r on every frame and on the quick QC's sample, each way."""
    from lipflap.mouth.build import mouth_track_for_audio
    from lipflap.qc.expected import expected_from_track
    from lipflap.qc.pixels import frame_strata, sample_frames, timing_weights
    from lipflap.qc.sync import pearson
    n = len(ap)
    track = mouth_track_for_audio(case["dub"], fps, text=case["text"],
                                  language=case["language"], n_frames=n)
    ex = expected_from_track(track, n)
    sampled = np.zeros(n, bool)
    sampled[sample_frames(ex, n)] = True
    got = np.where(sampled, ap, np.nan)
    idx = np.flatnonzero(sampled & np.isfinite(ap))
    return {"full": pearson(ap, exp),
            "weighted": pearson(got, exp, timing_weights(frame_strata(ex, n), sampled)),
            "unweighted": pearson(got, exp),
            "interpolated": pearson(np.interp(np.arange(n), idx, ap[idx]), exp),
            "sampled": float(sampled.mean())}


def measure(name: str, case: dict, cache: str, lipeval) -> dict:
    n = case["end"] - case["start"] + 1
    with av.open(case["output"]) as c:
        fps = float(c.streams.video[0].average_rate)
    path = os.path.join(cache, name + ".npz")
    if os.path.exists(path):
        ap = np.load(path)["ap"]
    else:
        lms, _ = lipeval.track(case["output"])
        ap, _ = lipeval.aperture_series(lms)
        np.savez(path, ap=ap)
    with open(case["phones"]) as f:
        phones = json.load(f)
    phones = phones.get("phones", phones) if isinstance(phones, dict) else phones
    from lipflap.qc.sync import phone_opening
    ap = np.asarray(ap[:n], float)
    exp = phone_opening([(p["phone"], p["start"], p["end"]) for p in phones], fps, len(ap))
    return sampled_rs(ap, exp, case, fps)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("folder", nargs="?", help="a bench_qc_agree.py folder (its cases.json)")
    p.add_argument("--talk", metavar="TAG", help="the talk set's renders under scratch/talk/TAG")
    a = p.parse_args()
    sys.path.insert(0, os.path.join(SHARED, "eval"))
    sys.path.insert(0, os.path.join(REPO, "bench"))
    import lipeval
    if a.talk:
        cases, cache = talk_cases(a.talk), os.path.join(REPO, "scratch", "talk", a.talk, "lmcache")
    elif a.folder:
        with open(os.path.join(a.folder, "cases.json")) as f:
            cases = json.load(f)
        cache = os.path.join(a.folder, "lmcache")
    else:
        p.error("give a folder or --talk TAG")
    os.makedirs(cache, exist_ok=True)
    diffs = {v: [] for v in VARIANTS}
    for name, case in sorted(cases.items()):
        if case.get("expect") != "good":
            continue
        r = measure(name, case, cache, lipeval)
        print(f"{name:16s} full {r['full']:.3f}  " + "  ".join(
            f"{v} {r[v]:.3f} ({r[v] - r['full']:+.3f})" for v in VARIANTS)
            + f"  sampled {r['sampled']:.2f}", flush=True)
        for v in VARIANTS:
            diffs[v].append(r[v] - r["full"])
    for v, d in diffs.items():
        d = np.array(d)
        print(f"{v:12s} mean {d.mean():+.4f}  min {d.min():+.4f}  max {d.max():+.4f}  "
              f"mean |d| {np.abs(d).mean():.4f}")


if __name__ == "__main__":
    main()
