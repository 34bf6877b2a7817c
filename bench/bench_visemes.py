"""Speed of `lipflap visemes` on a 60 s synthetic dub (eSpeak NG), as a multiple of real time.

    python bench/bench_visemes.py [--seconds 60] [--language es] [--fps 24000/1001] [--cli]
                                  [--real] [--repeat 3]

Reports, each as seconds and x real time: the mouth stage alone (timed phones -> track), the
script-aware path (alignment + mouth), the audio-only path (curves + mouth) and, with --cli, the
whole command cold in a subprocess (interpreter start, imports and file I/O included), which is
what issue 21's target is about: `lipflap visemes` >= 20x real time on a 60 s dub on 2 cores,
cold.

The network is sure of eSpeak NG speech, so on the synthetic dub the audio-only path keeps its
own aperture; --real also times it on recorded speech, where the aperture read-out runs: the
nine real speakers' own audio from ../shared/media joined and looped to --seconds, in this
process and (with --cli) as a cold `lipflap visemes` command.

Each --cli figure is --repeat runs: wall seconds and CPU seconds (user + sys of the command and
its children: the phone decoder forks a worker), each as x real time (min / median / max), with
the load average before and after and the cores this process may use. On a machine shared with
other jobs the CPU figure is the steadier one; the target is judged on the wall figure of an
idle 2-core machine. The summary lines at the end are the figures to quote.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import wave

import numpy as np

SENTENCES = {
    "es": ["Hola, me llamo Pablo y bebo mucha agua.", "Buenos días, amigo mío, ¿cómo estás hoy?",
           "Mañana vamos a la playa con mi madre y mi hermano pequeño.",
           "El tiempo pasa muy rápido cuando trabajamos juntos.",
           "Por favor, abre la ventana, hace mucho calor aquí dentro."],
    "en": ["Bob made a map of my small boat.", "Good morning, my friend, how are you today?",
           "Tomorrow we will go to the beach with my mother and my little brother.",
           "Time passes quickly when we work together.",
           "Please open the window, it is very warm in here."],
}


def make_dub(seconds: float, language: str, path: str) -> str:
    from lipflap.speech.espeak import synthesize

    parts, texts, total, sr = [], [], 0.0, 22050
    k = 0
    sentences = SENTENCES.get(language, SENTENCES["en"])
    while total < seconds:
        text = sentences[k % len(sentences)]
        x, sr, _ = synthesize(text, language)
        gap = np.zeros(int((0.25 + 0.35 * (k % 3)) * sr), np.float32)
        parts += [x, gap]
        texts.append(text)
        total += (len(x) + len(gap)) / sr
        k += 1
    y = np.concatenate(parts)   # whole sentences: the script must match the audio
    with wave.open(path, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(sr)
        w.writeframes((np.clip(y, -1, 1) * 32767).astype(np.int16).tobytes())
    return " ".join(texts)


def real_dub(seconds: float, path: str) -> None:
    """The real speakers' own speech (talk_a..talk_i), joined and looped to `seconds`."""
    import av
    shared = os.environ.get("LIPFLAP_SHARED", os.path.join(os.path.dirname(os.path.dirname(
        os.path.abspath(__file__))), "..", "shared"))
    parts = []
    for c in "abcdefghi":
        with av.open(os.path.join(shared, "media", f"talk_{c}.mp4")) as f:
            res = av.AudioResampler(format="flt", layout="mono", rate=16000)
            for fr in f.decode(audio=0):
                parts += [r.to_ndarray().reshape(-1) for r in res.resample(fr)]
    y = np.concatenate(parts)
    y = np.tile(y, int(np.ceil(seconds * 16000 / len(y))))[:int(seconds * 16000)]
    with wave.open(path, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes((np.clip(y, -1, 1) * 32767).astype(np.int16).tobytes())


def cpu_s() -> float:
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def timed(fn, repeat=1):
    best = np.inf
    out = None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def cold_runs(cmd: list, seconds: float, repeat: int) -> dict:
    """`cmd` run `repeat` times in fresh processes: wall and CPU (user + sys of it and every
    descendant it waited for) per run, as x real time of `seconds` of audio."""
    walls, cpus, codes = [], [], []
    load_before = os.getloadavg()[0]
    for _ in range(repeat):
        r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        r = subprocess.run(cmd, capture_output=True, text=True)
        walls.append(time.perf_counter() - t0)
        r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(r1.ru_utime - r0.ru_utime + r1.ru_stime - r0.ru_stime)
        codes.append(r.returncode)
        if r.returncode:
            print(r.stderr, file=sys.stderr)
    return {"runs": repeat, "rc": codes, "wall_s": [round(w, 3) for w in walls],
            "cpu_s": [round(c, 3) for c in cpus],
            "x_realtime": sorted(round(seconds / w, 1) for w in walls),
            "x_realtime_cpu": sorted(round(seconds / c, 1) for c in cpus),
            "load_before": round(load_before, 2), "load_after": round(os.getloadavg()[0], 2),
            "cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
            else os.cpu_count()}


def fmt3(xs: list) -> str:
    """min / median / max of a sorted list."""
    return f"{xs[0]:g} / {xs[len(xs) // 2]:g} / {xs[-1]:g}"


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seconds", type=float, default=60.0)
    p.add_argument("--language", default="es")
    p.add_argument("--fps", default="24000/1001")
    p.add_argument("--cli", action="store_true", help="also time the command in a subprocess")
    p.add_argument("--real", action="store_true",
                   help="also time audio-only on recorded speech (the read-out path)")
    p.add_argument("--repeat", type=int, default=3, help="cold runs per --cli figure (default 3)")
    a = p.parse_args()

    from lipflap.contract.rates import parse_rate, rate_string
    from lipflap.mouth.build import mouth_track_for_audio, track_from_phones
    from lipflap.speech.audio import load_speech

    fps = parse_rate(a.fps)
    results = {"seconds": a.seconds, "fps": rate_string(fps)}
    with tempfile.TemporaryDirectory() as td:
        wav = os.path.join(td, "dub.wav")
        text = make_dub(a.seconds, a.language, wav)
        samples, rate = load_speech(wav)
        dur = len(samples) / rate

        from lipflap.speech.align import align_script
        t_align, res = timed(lambda: align_script(samples, rate, text, a.language))
        t_mouth, track = timed(lambda: track_from_phones(res.phones, fps, n_frames=None), 3)
        results["mouth_only"] = {"s": round(t_mouth, 3), "x_realtime": round(dur / t_mouth, 1),
                                 "frames": len(track.frames)}
        t_script, _ = timed(lambda: mouth_track_for_audio(samples, fps, rate=rate, text=text,
                                                          language=a.language))
        results["script_aware"] = {"s": round(t_script, 3), "x_realtime": round(dur / t_script, 1),
                                   "align_s": round(t_align, 3), "method": res.method}
        try:
            t_audio, _ = timed(lambda: mouth_track_for_audio(samples, fps, rate=rate))
            results["audio_only"] = {"s": round(t_audio, 3), "x_realtime": round(dur / t_audio, 1)}
        except (ImportError, FileNotFoundError, OSError) as e:
            results["audio_only"] = {"error": f"{type(e).__name__}: {e}"}
        if a.cli:
            base = [sys.executable, "-m", "lipflap", "visemes", wav, "-o",
                    os.path.join(td, "t.json"), "--fps", a.fps, "--progress", "none"]
            results["cli_audio_only"] = cold_runs(base, dur, a.repeat)
            results["cli_script_aware"] = cold_runs(
                base + ["--text", text, "--language", a.language], dur, a.repeat)
        if a.real:
            from lipflap.speech.audio_only import network_certainty, network_curves, prepare
            rwav = os.path.join(td, "real.wav")
            real_dub(a.seconds, rwav)
            x, sr = load_speech(rwav)
            rdur = len(x) / sr
            c0 = cpu_s()
            t_real, _ = timed(lambda: mouth_track_for_audio(x, fps, rate=sr))
            c_real = cpu_s() - c0
            results["audio_only_real"] = {
                "s": round(t_real, 3), "x_realtime": round(rdur / t_real, 1),
                "cpu_s": round(c_real, 3), "x_realtime_cpu": round(rdur / c_real, 1),
                "network_certainty": round(network_certainty(network_curves(*prepare(x, sr))), 3)}
            if a.cli:
                cmd = [sys.executable, "-m", "lipflap", "visemes", rwav, "-o",
                       os.path.join(td, "r.json"), "--fps", a.fps, "--progress", "none"]
                results["cli_audio_only_real"] = cold_runs(cmd, rdur, a.repeat)
    print(json.dumps(results, indent=1))
    for key, what in (("cli_audio_only", "audio-only, eSpeak NG dub"),
                      ("cli_script_aware", "script-aware, eSpeak NG dub"),
                      ("cli_audio_only_real", "audio-only, recorded speech")):
        r = results.get(key)
        if r:
            met = "met" if r["x_realtime"][0] >= 20 else "NOT met"
            print(f"cold `lipflap visemes`, {what}, {a.seconds:g} s, {r['runs']} runs: wall "
                  f"{fmt3(r['x_realtime'])}x real time, CPU {fmt3(r['x_realtime_cpu'])}x "
                  f"(min / median / max); target 20x wall: {met} by the slowest run; load "
                  f"average {r['load_before']} -> {r['load_after']}, {r['cores']} cores")
    return 0


if __name__ == "__main__":
    sys.exit(main())
