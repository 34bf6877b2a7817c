"""Timing and rounding on the shared talk clips (issue 15, item 5): dubs with true phone times,
script-aware renders, lipeval's timing_r0 / best lag / rounding ratio; and the same timing
measure on the mouth track alone (no render), for tuning the timing rules in seconds.

    python bench/timing_set.py build                 # scratch/talk/<clip>.dub.wav + .phones.json
    python bench/timing_set.py run TAG [CLIP ...]    # render + measure into scratch/talk/TAG/
    python bench/timing_set.py run-audio-only TAG [CLIP ...]   # the same from the dub's sound alone
    python bench/timing_set.py track                 # the track's timing r against the true phones
    python bench/timing_set.py gap TAG [CLIP ...]    # the render's aperture against its plan

Clips and dub languages: talk_d (es), talk_f (fr), talk_h (es) are the ones the timing rules were
tuned on; talk_a (de), talk_b (fr), talk_c (es), talk_e (de), talk_g (de), talk_i (fr) are held out. Only three
dubs exist (es/de/fr texts of bench/hard_set.py), so a held-out clip shares its dub with a tuned one
at the track level; its render (another face, another rate for talk_a) is its own.
"""
from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import wave
from fractions import Fraction

import av
import numpy as np

from hard_set import EVAL, MEDIA, REPO, TEXT

LANG = {"talk_a": "de", "talk_b": "fr", "talk_c": "es", "talk_d": "es", "talk_e": "de",
        "talk_f": "fr", "talk_g": "de", "talk_h": "es", "talk_i": "fr"}
TUNED = ("talk_d", "talk_f", "talk_h")
OUT = os.path.join(REPO, "scratch", "talk")
KEYS = ("timing_r0", "timing_best_lag", "rounding_width_ratio", "rounded_vowels",
        "bilabial_closure", "open_vowel_opening", "pause_rest", "outside_any",
        "mouth_sharpness_ratio_median", "mouth_roughness_ratio")


def build() -> None:
    os.makedirs(OUT, exist_ok=True)
    for clip, lang in LANG.items():
        dub = os.path.join(OUT, f"{clip}.dub.wav")
        if not os.path.exists(dub):
            subprocess.run([sys.executable, os.path.join(EVAL, "make_dub.py"), "--voice", lang,
                            "--text", TEXT[lang], "--out", dub], check=True,
                           stdout=subprocess.DEVNULL)


def frames_for(clip: str) -> tuple[int, Fraction]:
    """Frames to render (the dub's length plus two, within the clip) and the clip's rate."""
    with av.open(os.path.join(MEDIA, f"{clip}.mp4")) as c:
        s = c.streams.video[0]
        rate, n = Fraction(s.average_rate), s.frames
    with wave.open(os.path.join(OUT, f"{clip}.dub.wav")) as w:
        dur = w.getnframes() / w.getframerate()
    return min(n, int(math.ceil(dur * rate)) + 2), rate


def run(tag: str, clips: list[str], audio_only: bool = False) -> None:
    dst = os.path.join(OUT, tag)
    os.makedirs(dst, exist_ok=True)
    lipflap = os.path.join(os.path.dirname(sys.executable), "lipflap")
    print("clip set " + " ".join(KEYS), flush=True)
    for clip in clips or list(LANG):
        lang, (n, _) = LANG[clip], frames_for(clip)
        src, stem = os.path.join(MEDIA, f"{clip}.mp4"), os.path.join(OUT, f"{clip}.dub")
        mov, js = os.path.join(dst, f"{clip}.mov"), os.path.join(dst, f"{clip}.json")
        script = [] if audio_only else ["--text", TEXT[lang], "--language", lang]
        subprocess.run(["nice", "-n", "10", lipflap, "run", src, "--audio", f"{stem}.wav",
                        *script, "--codec", "prores_4444",
                        "-o", mov, "--start", "0", "--end", str(n - 1), "--progress", "none",
                        "--no-credentials"], check=True)
        subprocess.run(["nice", "-n", "10", sys.executable, os.path.join(EVAL, "lipeval.py"),
                        "measure", mov, "--audio", f"{stem}.wav", "--phones",
                        f"{stem}.phones.json", "--source", src, "--json", js], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        with open(js) as f:
            res = json.load(f)
        flat = {**res.get("phonetics", {}), **res.get("fidelity", {})}
        row = [flat.get(k)[0] if isinstance(flat.get(k), list) else flat.get(k) for k in KEYS]
        print(clip, "tuned" if clip in TUNED else "held-out",
              " ".join("-" if v is None else f"{v:.3g}" for v in row), flush=True)


def track() -> None:
    """lipeval's timing measure on the script-aware track's aperture (true phones, no render)."""
    sys.path.insert(0, EVAL)
    import lipeval
    from lipflap.mouth.build import track_from_phones
    from lipflap.speech.types import Phone
    rs = {}
    for clip in LANG:
        _, rate = frames_for(clip)
        with open(os.path.join(OUT, f"{clip}.dub.phones.json")) as f:
            true = json.load(f)
        n = int(math.ceil((max(p["end"] for p in true) + 0.3) * rate))
        ph = [Phone(p["phone"], p["start"], p["end"]) for p in true]
        ap = track_from_phones(ph, rate, n).column("aperture")
        t = lipeval.timing_scores(ap, ap, float(rate), true)
        rs[clip] = t["timing_r0"]
        print(clip, "tuned" if clip in TUNED else "held-out",
              f"r0 {t['timing_r0']:.3f} lag {t['timing_best_lag']:+d}")
    print(f"mean {np.mean(list(rs.values())):.3f}, tuned {np.mean([rs[c] for c in TUNED]):.3f}, "
          f"held out {np.mean([v for c, v in rs.items() if c not in TUNED]):.3f}")


def planned_gap(clip: str, n: int) -> tuple[np.ndarray, np.ndarray, float]:
    """(gap, exemplar, ap_max): the inner-lip gap / eye distance `lipflap run` plans for each
    frame of the clip's script-aware render (the render sets its lips to it), the source frame
    each is built from, and the actor's widest gap (track aperture 1)."""
    from lipflap.cli import build_parser
    from lipflap.commands.run import job_from_args
    from lipflap.pipeline.analysis import analyse
    from lipflap.pipeline.inputs import resolve_inputs
    from lipflap.pipeline.mouth import mouth_shapes, script_text
    from lipflap.pipeline.plan import plan_shots

    class Quiet:
        def __getattr__(self, name):
            return lambda *a, **k: None

    lang, stem = LANG[clip], os.path.join(OUT, f"{clip}.dub")
    args = build_parser().parse_args([
        "run", os.path.join(MEDIA, f"{clip}.mp4"), "--audio", f"{stem}.wav", "--text",
        TEXT[lang], "--language", lang, "-o", os.path.join(OUT, "unused.mov"), "--start", "0",
        "--end", str(n - 1), "--progress", "none"])
    job, quiet = job_from_args(args), Quiet()
    inputs = resolve_inputs(job)
    an, _ = analyse(job, inputs, quiet)
    mouth = mouth_shapes(job, inputs, script_text(job), quiet)
    plan = plan_shots(job, inputs, an, mouth.params, quiet).plans[0][1]
    return np.asarray(plan.gap, float), np.asarray(plan.exemplar), float(plan.model.ap_max)


def gap(tag: str, clips: list[str]) -> None:
    """Per clip: r of the rendered (re-tracked) and the planned aperture with the phones'
    expected opening and with each other, the rendered/planned ratio by planned opening, and
    the frames where the render is furthest from its plan."""
    sys.path.insert(0, EVAL)
    import lipeval
    from lipflap.face.geometry import mouth_aperture
    for clip in clips or list(LANG):
        n, rate = frames_for(clip)
        plan, ex, ap_max = planned_gap(clip, n)
        lms, _ = lipeval.track(os.path.join(OUT, tag, f"{clip}.mov"))
        out = np.array([mouth_aperture(p) if p is not None else np.nan for p in lms])[:n]
        with open(os.path.join(OUT, f"{clip}.dub.phones.json")) as f:
            true = json.load(f)
        r = {k: lipeval.timing_scores(v, v, float(rate), true)["timing_r0"]
             for k, v in (("out", out), ("plan", plan[:len(out)]))}
        rel = plan[:len(out)] / ap_max
        bins = []
        for lo, hi in ((0.01, 0.25), (0.25, 0.5), (0.5, 0.75), (0.75, 9.0)):
            m = (rel >= lo) & (rel < hi) & np.isfinite(out)
            if m.any():
                bins.append(f"{lo:.2f}-{min(hi, 1.0):.2f}: {out[m].mean() / plan[:len(out)][m].mean():.2f}")
        print(f"{clip} r0 render {r['out']:.3f} plan {r['plan']:.3f}, render~plan "
              f"{lipeval.corr(out, plan[:len(out)]):.3f}; rendered/planned by planned opening "
              f"(of the widest) {'; '.join(bins)}")
        d = out - plan[:len(out)]
        worst = np.argsort(-np.nan_to_num(np.abs(d)))[:6]
        print("  furthest: " + ", ".join(f"f{i} plan {plan[i]:.3f} render {out[i]:.3f} (exemplar "
                                         f"f{ex[i]})" for i in sorted(worst)), flush=True)


if __name__ == "__main__":
    cmd = sys.argv[1] if len(sys.argv) > 1 else ""
    if cmd == "build":
        build()
    elif cmd == "run" and len(sys.argv) > 2:
        run(sys.argv[2], sys.argv[3:])
    elif cmd == "run-audio-only" and len(sys.argv) > 2:
        run(sys.argv[2], sys.argv[3:], audio_only=True)
    elif cmd == "track":
        track()
    elif cmd == "gap" and len(sys.argv) > 2:
        gap(sys.argv[2], sys.argv[3:])
    else:
        sys.exit(__doc__)
