"""The dub's mouth track alone against its true phones, at several frame rates and phases.

    python bench/track_timing.py [--rates 23.976,24,25,29.97] [--phases 0,0.01,0.02,0.03]

For each distinct dub of the talk set and the hard set (built by `bench/timing_set.py build` and
`bench/hard_set.py`: scratch/talk/talk_a|b|c.dub.wav and scratch/hard/sad|turn|turn_small.dub.wav
with their .phones.json), the script-aware track (`mouth_track_for_audio`, as `lipflap run` makes
it) is sampled at each rate with the video's frame 0 put `phase` seconds into the dub, and its
aperture scored with the yardstick's `timing_scores` against the phones moved by the same phase.
Prints timing_r0 per rate: the mean and standard deviation over dubs and phases, and each dub's
mean over the phases (docs/quality.md, 'Timing at other frame rates').
"""
from __future__ import annotations

import argparse
import json
import math
import os
import sys
import wave
from fractions import Fraction

import numpy as np

from hard_set import EVAL, REPO, TEXT
from lipflap.contract.rates import parse_rate

# (language, dub stem under scratch/, text key): the distinct dubs of the two sets (talk_a, e and g
# share the de dub, b, f and i the fr, c, d and h the es).
DUBS = [("de", "talk/talk_a.dub", "de"), ("fr", "talk/talk_b.dub", "fr"),
        ("es", "talk/talk_c.dub", "es"), ("de", "hard/sad.dub", "de_short"),
        ("de", "hard/turn.dub", "de_long"), ("fr", "hard/turn_small.dub", "fr_long")]


def track_r0(stem: str, text: str, lang: str, fps: Fraction, phase: float) -> float:
    import lipeval  # ../shared/eval, put on the path once by main()
    from lipflap.mouth.build import mouth_track_for_audio
    with open(stem + ".phones.json") as f:
        phones = json.load(f)
    with wave.open(stem + ".wav") as w:
        dur = w.getnframes() / w.getframerate()
    n = int(math.ceil((dur - phase) * fps)) + 2
    tr = mouth_track_for_audio(stem + ".wav", fps, text=text, language=lang, n_frames=n,
                               start_s=phase)
    ap = np.array([f.aperture for f in tr.frames[:n]])
    moved = [dict(p, start=p["start"] - phase, end=p["end"] - phase) for p in phones]
    return float(lipeval.timing_scores(ap, ap, float(fps), moved)["timing_r0"])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rates", default="23.976,24,25,29.97")
    ap.add_argument("--phases", default="0,0.01,0.02,0.03", help="seconds, comma-separated")
    a = ap.parse_args()
    phases = [float(x) for x in a.phases.split(",")]
    sys.path.insert(0, EVAL)
    stems = [(lang, os.path.join(REPO, "scratch", s), TEXT[k]) for lang, s, k in DUBS]
    missing = [s for _, s, _ in stems if not os.path.exists(s + ".wav")]
    if missing:
        print(f"track_timing: {missing[0]}.wav is missing; run `python bench/timing_set.py build` "
              f"and `python bench/hard_set.py` first.", file=sys.stderr)
        return 2
    for text in a.rates.split(","):
        fps = parse_rate(text)   # 23.976 -> 24000/1001, as everywhere in lipflap
        per = {os.path.basename(s): [track_r0(s, t, lang, fps, ph) for ph in phases]
               for lang, s, t in stems}
        allv = [v for vs in per.values() for v in vs]
        print(f"{text:>7} fps: timing_r0 mean {np.mean(allv):.3f} sd {np.std(allv):.3f} "
              f"({len(allv)} tracks); per dub " +
              ", ".join(f"{k.split('.')[0]} {np.mean(v):.3f}" for k, v in per.items()), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
