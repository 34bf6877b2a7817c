"""How much a clip's timing_r0 owes to where its frames fall on the dub: the mouth tracks (no
render) of hard-set dubs, audio-only and script-aware, at a frame rate, with frame 0 showing the
dub at several offsets within one frame.

    python bench/timing_phase.py [--fps 25 30] [--phases 5] CLIP ...   # hard-set case names

Prints, per clip and rate, lipeval's timing_r0 of each track at each phase, their means, and the
audio-only track's mean gap to the script-aware one. The dubs are bench/hard_set.py's
(OUT/<clip>.dub.wav and .dub.phones.json, built by `python bench/hard_set.py`).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from fractions import Fraction

import numpy as np

from hard_set import CASES, EVAL, REPO, TEXT


def phase_scores(wav: str, phones: list, text: str, lang: str, fps: Fraction,
                 phases: int) -> tuple[list, list]:
    """timing_r0 of the audio-only and the script-aware track at `phases` offsets of frame 0
    (0, 1/phases, ... of a frame), each against the true phones moved with it."""
    sys.path.insert(0, EVAL)
    import lipeval
    from lipflap.mouth.build import mouth_track_for_audio, track_from_curves
    from lipflap.speech.audio import load_speech
    from lipflap.speech.audio_only import predict_curves

    x, rate = load_speech(wav, rate=16000)
    curves = predict_curves(x, rate)
    audio, script = [], []
    for k in range(phases):
        shift = float(k) / phases / float(fps)
        moved = [dict(p, start=p["start"] - shift, end=p["end"] - shift) for p in phones]
        tracks = ((track_from_curves(curves, fps, start_s=shift), audio),
                  (mouth_track_for_audio(x, fps, rate=rate, text=text, language=lang,
                                         start_s=shift), script))
        for track, out in tracks:
            ap = np.asarray(track.column("aperture"), float)
            out.append(lipeval.timing_scores(ap, ap, float(fps), moved)["timing_r0"])
    return audio, script


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("clips", nargs="+", choices=sorted(CASES))
    p.add_argument("--out", default=os.path.join(REPO, "scratch", "hard"))
    p.add_argument("--fps", nargs="+", default=["25", "30"])
    p.add_argument("--phases", type=int, default=5)
    a = p.parse_args()
    for clip in a.clips:
        _, _, lang, text_key, _ = CASES[clip]
        wav = os.path.join(a.out, f"{clip}.dub.wav")
        with open(os.path.join(a.out, f"{clip}.dub.phones.json"), encoding="utf-8") as fh:
            phones = json.load(fh)
        for rate in a.fps:
            fps = Fraction(rate)
            audio, script = phase_scores(wav, phones, TEXT[text_key], lang, fps, a.phases)
            print(f"{clip} ({lang}) {float(fps):.2f} fps: audio-only "
                  f"{' '.join(f'{v:.3f}' for v in audio)} mean {np.mean(audio):.3f} | "
                  f"script-aware {' '.join(f'{v:.3f}' for v in script)} mean "
                  f"{np.mean(script):.3f} | gap {np.mean(audio) - np.mean(script):+.3f}",
                  flush=True)


if __name__ == "__main__":
    main()
