"""Fit the audio-only aperture read-out (lipflap.speech.aperture_readout) to real mouths.

    python training/fit_aperture_readout.py [--out core/speech/aperture_readout.npz]
        [--shared ../shared] [--cache DIR]

Targets: the inner-lip aperture Face Mesh measures on the video of the nine real speakers in
../shared/media (talk_a..talk_i, their own speech; ../shared/eval/audio_side.py's measure), each
in the speaker's own range (5th percentile 0, 95th 1). Inputs: the network's and the phone
decoder's curves on the clip's own audio (bench/bench_audio_loo.py's Clip). The penalty and the
dub range `top` are chosen by leave-one-out over the nine (bench_audio_loo.choose), then the
read-out is fit on all nine; the choice, every pair's leave-one-out mean and this command go into
the file's `meta`. A few seconds on one core; the result is deterministic for given media and
engine. Judge it with `python bench/bench_audio_loo.py --loo` (each speaker scored by a read-out
fit without them), never by the in-sample figures.
"""
from __future__ import annotations

import argparse
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "bench"))
import bench_audio_loo as loo  # noqa: E402
from lipflap.speech import aperture_readout  # noqa: E402


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", default=str(aperture_readout.FIT))
    p.add_argument("--shared", default=loo.SHARED)
    p.add_argument("--cache", default=os.path.join(loo.tempfile.gettempdir(), "lipflap_audio_loo"))
    a = p.parse_args()
    os.makedirs(a.cache, exist_ok=True)
    audio_side, _ = loo._eval_modules(a.shared)
    clips = [loo.Clip(name, a.shared, a.cache) for name in loo.SPEAKERS]
    (alpha, top), means = loo.choose(clips, audio_side.shifted)
    for (al, t), m in sorted(means.items()):
        print(f"alpha {al:g} top {t:g}: leave-one-out mean r0 {m:.3f}")
    readout = loo.fit_readout(clips, alpha, top)
    meta = {"clips": list(loo.SPEAKERS), "alpha": alpha, "top": top,
            "loo_mean_r0": {f"{al:g}/{t:g}": round(m, 4) for (al, t), m in means.items()},
            "command": "python " + " ".join(sys.argv)}
    aperture_readout.save(readout, a.out, meta)
    print(f"chose alpha {alpha:g}, top {top:g}; wrote {a.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
