"""Audio-only mouths on real speakers: aperture predicted from each clip's own audio against the
aperture measured on its video, per clip and leave-one-out over the nine speakers.

    python bench/bench_audio_loo.py [--shared ../shared] [--cache DIR] [--cli] [--clips talk_a ...]

The measure is ../shared/eval/audio_side.py's (its `measured` and `shifted`, and lipeval's Face
Mesh aperture): Pearson r between the per-frame aperture of `lipflap visemes` on the clip's own
speech (16 kHz mono int16, as audio_side.py writes it) and the inner-lip aperture on the video.
Printed per clip: r at offset 0 and the best r within +-5 frames with its lag (positive: our
mouth is late). The video apertures are cached in --cache (Face Mesh over ~2000 frames takes a
minute or two); by default the track is made in this process, with --cli by the `lipflap
visemes` command itself (the same numbers, slower).

Clips: the nine real speakers with their own speech (talk_a..talk_i) and three more
(expr_sad, expr_disgusted, expr_surprised) that nothing was tuned on. The summary gives the mean
and the worst clip of the nine, and the means of the groups the issue (21) reports.

The aperture read-out (lipflap.speech.aperture_readout) is fit to these speakers' video, so
the shipped file (fit on all nine) is in-sample for them; the figure that counts is the
leave-one-out one (--loo): for each of the nine speakers the read-out is fit on the other eight,
with its penalty and range (LOO_ALPHAS x LOO_TOPS) chosen by a leave-one-out inside those eight,
and scored on the ninth through the whole audio-only path. The expr_* clips are never fit on.
The baseline (--baseline) is the audio-only path without the read-out, as before issue 21.
expr_disgusted and expr_surprised carry a silent audio track (every sample 0): no speech to
predict from, so they are listed and left out of every mean.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import wave
from fractions import Fraction

import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.environ.get("LIPFLAP_SHARED", os.path.join(os.path.dirname(REPO), "shared"))
SPEAKERS = tuple(f"talk_{c}" for c in "abcdefghi")
EXTRA = ("expr_sad", "expr_disgusted", "expr_surprised")
CLIPS = SPEAKERS + EXTRA
MAX_LAG = 5
# The groups of issue 21's table: tuned-on clips, and the new ones.
GROUPS = {"talk_a/b/c": ("talk_a", "talk_b", "talk_c"),
          "talk_d-i + expr_sad": tuple(f"talk_{c}" for c in "defghi") + ("expr_sad",)}


def _eval_modules(shared: str):
    sys.path.insert(0, os.path.join(shared, "eval"))
    import audio_side  # noqa: E402  (../shared/eval, kept apart from the engine)
    import lipeval  # noqa: E402
    return audio_side, lipeval


def clip_data(clip: str, shared: str, cache: str):
    """(fps as Fraction, measured aperture per frame, 16 kHz int16-valued float samples)."""
    audio_side, lipeval = _eval_modules(shared)
    video = os.path.join(shared, "media", clip + ".mp4")
    if not os.path.isfile(video):
        raise SystemExit(f"{video}: missing; give --shared the folder holding media/ and eval/")
    fps, truth = audio_side.measured(video, cache)
    import av
    with av.open(video) as c:
        rate = Fraction(c.streams.video[0].average_rate)
    if abs(float(rate) - fps) > 1e-6:
        rate = Fraction(fps).limit_denominator(1001)
    wav, sr = lipeval.load_audio(video, 16000)
    # as audio_side.wav16k writes it: int16
    x = (np.clip(wav, -1, 1) * 32767).astype(np.int16).astype(np.float32) / 32768.0
    return rate, truth, x


LOO_ALPHAS = (0.3, 1.0, 3.0)
LOO_TOPS = (0.7, 0.8, 0.9, 1.0)


class Clip:
    """One clip's measured aperture and both audio-only sources' curves on its own speech."""

    def __init__(self, name: str, shared: str, cache: str):
        from lipflap.speech import audio_only, phone_recognition
        self.name = name
        self.fps, self.truth, self.x16 = clip_data(name, shared, cache)
        self.n = len(self.truth)
        self.silent = not np.any(self.x16)
        x16, times = audio_only.prepare(self.x16, 16000)
        self.times = times
        if self.silent:
            return
        self.net = audio_only.network_curves(x16, times)
        self.heard = audio_only.phone_curves(phone_recognition.recognise(x16), times)
        # the read-out is used only where the network is unsure (recorded voices)
        self.certainty = audio_only.network_certainty(self.net)

    def aperture(self, readout) -> np.ndarray:
        """Per-frame aperture of the audio-only track (as `lipflap visemes` makes it) with this
        read-out (None: the path before the read-out)."""
        from lipflap.mouth.build import track_from_curves
        from lipflap.speech.audio_only import combine
        track = track_from_curves(combine(self.net, self.heard, readout), self.fps, n_frames=self.n)
        return np.array([f.aperture for f in track.frames])

    def frame_design(self) -> np.ndarray:
        """The read-out's design matrix at the video frames' instants."""
        from lipflap.speech.aperture_readout import design
        x = design(self.net, self.heard)
        ft = np.arange(self.n) * (self.fps.denominator / self.fps.numerator)
        return np.stack([np.interp(ft, self.times, x[:, j]) for j in range(x.shape[1])], axis=1)

    def target(self) -> np.ndarray:
        """The measured aperture in this speaker's own range (5th percentile 0, 95th 1)."""
        lo, hi = np.nanpercentile(self.truth, (5, 95))
        return (self.truth - lo) / max(hi - lo, 1e-9)


def fit_readout(clips: list, alpha: float, top: float):
    from lipflap.speech import aperture_readout
    return aperture_readout.fit([c.frame_design() for c in clips], [c.target() for c in clips],
                                alpha, top)


def choose(clips: list, shifted) -> tuple[tuple, dict]:
    """(alpha, top) with the best mean r at offset 0 over `clips`, each scored by a read-out fit
    on the others (leave-one-out inside `clips`), and that mean for every pair."""
    means = {}
    for alpha in LOO_ALPHAS:
        fits = {c.name: fit_readout([o for o in clips if o is not c], alpha, 1.0) for c in clips}
        for top in LOO_TOPS:
            rs = []
            for c in clips:
                f = fits[c.name]
                f.top = top
                rs.append(shifted(c.truth, c.aperture(f), 0))
            means[(alpha, top)] = float(np.mean(rs))
    return max(means, key=means.get), means


def leave_one_out(clips: dict, shifted) -> tuple[dict, dict]:
    """Per clip scores with the read-out fit without it: for each speaker, on the other eight
    (penalty and range chosen inside them); for the other clips, on all nine. Also returns the
    choice made in each fold."""
    speakers = [clips[c] for c in SPEAKERS if c in clips]
    table, picks = {}, {}
    for held in clips.values():
        if held.silent:
            continue
        train = [c for c in speakers if c is not held]
        (alpha, top), _ = choose(train, shifted)
        picks[held.name] = (alpha, top)
        table[held.name] = scores(held.truth, held.aperture(fit_readout(train, alpha, top)), shifted)
    return table, picks


def predict_aperture(x16: np.ndarray, fps: Fraction, n: int) -> np.ndarray:
    """Per-frame aperture of `lipflap visemes` on these samples, run as the command."""
    from lipflap.contract.rates import rate_string
    with tempfile.TemporaryDirectory() as td:
        wav, out = os.path.join(td, "a.wav"), os.path.join(td, "v.json")
        with wave.open(wav, "wb") as w:
            w.setnchannels(1); w.setsampwidth(2); w.setframerate(16000)
            w.writeframes(np.round(x16 * 32768).clip(-32768, 32767).astype(np.int16).tobytes())
        subprocess.run([sys.executable, "-m", "lipflap", "visemes", wav, "-o", out, "--fps",
                        rate_string(fps)], check=True, capture_output=True)
        ap = {f["frame"]: f["aperture"] for f in json.load(open(out))["frames"]}
    return np.array([ap.get(i, 0.0) for i in range(n)])


def scores(truth: np.ndarray, pred: np.ndarray, shifted) -> dict:
    lags = range(-MAX_LAG, MAX_LAG + 1)
    rs = {s: shifted(truth, pred, s) for s in lags}
    best = max(lags, key=lambda s: np.nan_to_num(rs[s], nan=-1))
    return {"r0": rs[0], "best_r": rs[best], "lag": best}


def summary(table: dict) -> dict:
    out = {}
    sp = [table[c]["r0"] for c in SPEAKERS if c in table]
    if sp:
        worst = min((c for c in SPEAKERS if c in table), key=lambda c: table[c]["r0"])
        out["nine speakers"] = {"mean_r0": float(np.mean(sp)), "sd_r0": float(np.std(sp)),
                                "worst": worst, "worst_r0": table[worst]["r0"],
                                "mean_best_r": float(np.mean([table[c]["best_r"] for c in SPEAKERS
                                                              if c in table]))}
    for name, clips in GROUPS.items():
        if all(c in table for c in clips):
            out[name] = {"mean_r0": float(np.mean([table[c]["r0"] for c in clips])),
                         "mean_best_r": float(np.mean([table[c]["best_r"] for c in clips]))}
    return out


def print_table(table: dict, title: str, notes: dict | None = None) -> None:
    print(f"\n{title}")
    print(f"{'clip':16s} {'r0':>7s} {'best r':>7s} {'lag':>4s}")
    for c, s in table.items():
        note = f"  {notes[c]}" if notes and c in notes else ""
        print(f"{c:16s} {s['r0']:7.3f} {s['best_r']:7.3f} {s['lag']:4d}{note}")
    for name, s in summary(table).items():
        print(f"{name:20s} " + " ".join(f"{k} {v:.3f}" if isinstance(v, float) else f"{k} {v}"
                                       for k, v in s.items()))


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--shared", default=SHARED)
    p.add_argument("--cache", default=os.path.join(tempfile.gettempdir(), "lipflap_audio_loo"))
    p.add_argument("--clips", nargs="*", default=list(CLIPS))
    p.add_argument("--baseline", action="store_true", help="also score the path without the read-out")
    p.add_argument("--loo", action="store_true", help="also score the read-out leave-one-out")
    p.add_argument("--cli", action="store_true",
                   help="score the shipped path by running `lipflap visemes` per clip")
    p.add_argument("--json", help="write the tables here")
    a = p.parse_args()
    os.makedirs(a.cache, exist_ok=True)
    audio_side, _ = _eval_modules(a.shared)
    shifted = audio_side.shifted
    clips = {name: Clip(name, a.shared, a.cache) for name in a.clips}
    for c in clips.values():
        if c.silent:
            print(f"{c.name}: the audio track is digital silence; left out")
    live = {k: c for k, c in clips.items() if not c.silent}
    lag_note = f"(r at offset 0; best within +-{MAX_LAG} frames, lag > 0: ours late)"
    out = {}
    if a.baseline:
        out["baseline"] = {k: scores(c.truth, c.aperture(None), shifted) for k, c in live.items()}
        print_table(out["baseline"], f"baseline, the curves without the read-out {lag_note}")
    from lipflap.speech.aperture_readout import load
    shipped = load()
    out["shipped"] = {k: scores(c.truth, predict_aperture(c.x16, c.fps, c.n) if a.cli else
                                c.aperture(shipped), shifted) for k, c in live.items()}
    print_table(out["shipped"], f"shipped read-out (fit on all nine: in-sample for talk_a-i) "
                                f"{'by `lipflap visemes` ' if a.cli else ''}{lag_note}",
                {k: f"network certainty {c.certainty:.2f}" for k, c in live.items()})
    if a.loo:
        out["loo"], picks = leave_one_out(live, shifted)
        print_table(out["loo"], f"leave-one-out: the read-out fit without the clip {lag_note}",
                    {k: f"alpha {al:g}, top {t:g}" for k, (al, t) in picks.items()})
        out["loo_picks"] = {k: list(v) for k, v in picks.items()}
    out["summary"] = {k: summary(v) for k, v in out.items() if k in ("baseline", "shipped", "loo")}
    if a.json:
        with open(a.json, "w") as f:
            json.dump(out, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
