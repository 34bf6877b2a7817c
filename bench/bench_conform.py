"""Wall time of `lipflap conform` on the test cut with --jobs 1 and --jobs 2, or local vs Ray.

    python bench/bench_conform.py [--engine fake|real] [--kind 23.976|29.97df] [--repeat N]
    python bench/bench_conform.py --cluster HOST:PORT [--jobs N] [--nodes 1,10,20] [--slots 4]
    python bench/bench_conform.py --cluster HOST:PORT --engine real --cut shared [--repeat 2]

With --cluster, the same cut is conformed with `--jobs N` local processes and with `--cluster`
(a running Ray cluster offering N CPUs, `--cpus-per-job 1`), alternately; it prints the Ray
path's overhead as a share of the local wall time, and projects a 45-minute episode (about 700
clips at 23.976, ~93 frames each plus 2 x 8 handles) on the given node counts from the measured
seconds per rendered frame of one slot (engine and conform overhead included).

The cut is tests/test_conform_support.py's (four clips of 64x48 generated media, 84 rendered
frames with handles), or with `--cut shared` a cut of real footage: six 4 s shots (frames 10-109 of
../shared/media/talk_d..talk_i, 512x512 at 25 fps, 696 rendered frames with handles) under one
dub track made of the same shots' own speech, which the real engine lip-syncs without a script
(the work of a real conform rather than process start-up). `fake` is the test engine (tests/test_conform_fakeengine.py: decode, ProRes
encode, report), so the figure is conform's own overhead plus process start-up; `real` runs
`lipflap run`. Run it on an otherwise idle machine (`nice` does not make a loaded one idle); it
prints the load average beside the times because 2 shared cores skew --jobs 2 the most.
"""
from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TESTS = os.path.join(os.path.dirname(HERE), "tests")
sys.path.insert(0, TESTS)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--engine", choices=("fake", "real"), default="fake")
    ap.add_argument("--kind", choices=("23.976", "29.97df"), default="23.976")
    ap.add_argument("--cut", choices=("test", "shared"), default="test",
                    help="the generated test cut, or six shots of ../shared/media (see above)")
    ap.add_argument("--repeat", type=int, default=3, help="runs per setting; the best is reported")
    ap.add_argument("--cluster", metavar="ADDRESS", help="compare local processes with this Ray cluster")
    ap.add_argument("--jobs", type=int, default=2, help="parallel clips, both ways (--cluster)")
    ap.add_argument("--nodes", default="1,5,10,20", help="node counts for the episode projection")
    ap.add_argument("--slots", type=int, default=4, help="clips at once per node in the projection")
    ap.add_argument("--per-frame-ms", type=float, default=376.0,
                    help="a real engine's wall ms per frame for a second projection (376: a 10 s "
                         "1080p run, 94 s for 250 frames, docs/reliability.md)")
    args = ap.parse_args()
    if args.cluster:
        return compare_cluster(args)
    env = _engine_env(args)
    with tempfile.TemporaryDirectory() as tmp:
        cut, lines = _cut_and_lines(tmp, args)
        results = {}
        for jobs in (1, 2):
            times = []
            for k in range(args.repeat):
                out = os.path.join(tmp, f"out_j{jobs}_{k}")
                # A cold analysis cache each run, so no run reuses another's face analysis.
                env["LIPFLAP_CACHE"] = os.path.join(tmp, f"cache_j{jobs}_{k}")
                t0 = time.perf_counter()
                c0 = resource.getrusage(resource.RUSAGE_CHILDREN)
                r = subprocess.run([sys.executable, "-m", "lipflap", "conform", cut.path, "-o", out,
                                    "--dub-track", cut.dub_track, "--language", "es",
                                    "--transcripts", lines,
                                    "--jobs", str(jobs), "--progress", "none"],
                                   capture_output=True, text=True, env=env)
                c1 = resource.getrusage(resource.RUSAGE_CHILDREN)
                # CPU seconds of conform and its engines: what the machine's load cannot inflate.
                cpu = (c1.ru_utime - c0.ru_utime) + (c1.ru_stime - c0.ru_stime)
                times.append((time.perf_counter() - t0, cpu))
                if r.returncode != 0:
                    print(r.stderr, file=sys.stderr)
                    return 1
            results[jobs] = times
    load = os.getloadavg()[0]
    print(f"conform of the test cut ({args.kind}, 4 clips, engine {args.engine}), "
          f"{os.cpu_count()} CPUs, load {load:.1f}")
    best = {}
    for jobs, runs in results.items():
        wall, cpu = min(runs)
        best[jobs] = wall
        print(f"  --jobs {jobs}: best wall {wall:.2f} s, CPU {cpu:.2f} s  "
              f"(wall of each run: {', '.join(f'{w:.2f}' for w, _ in runs)})")
    print(f"  speed-up --jobs 2 vs 1: {best[1] / best[2]:.2f}x")
    return 0


def _conform(cut, out, env, extra, lines) -> float:
    script = ["--transcripts", lines] if os.path.getsize(lines) else []
    t0 = time.perf_counter()
    r = subprocess.run([sys.executable, "-m", "lipflap", "conform", cut.path, "-o", out,
                        "--dub-track", cut.dub_track, "--language", getattr(cut, "language", "es"),
                        *script, "--progress", "none", *extra], capture_output=True, text=True,
                       env=env)
    wall = time.perf_counter() - t0
    if r.returncode != 0:
        raise SystemExit(f"conform {' '.join(extra)} failed:\n{r.stderr}")
    return wall


def _engine_env(args) -> dict:
    """The environment the conforms run in: the fake engine, or the real `lipflap run`."""
    from test_conform_fakeengine import engine_cmd
    env = dict(os.environ)
    if args.engine == "fake":
        env["LIPFLAP_RUN_CMD"] = engine_cmd()
    else:
        env.pop("LIPFLAP_RUN_CMD", None)
    return env


def _cut_and_lines(tmp: str, args) -> tuple[str, str]:
    """The test cut, and script text for every clip, so the real engine aligns the script
    rather than listening; or the cut of shared footage (no script: its dub is real speech)."""
    if args.cut == "shared":
        return _shared_cut(tmp), os.path.join(tmp, "lines.txt")
    from test_conform_support import make_cut
    cut = make_cut(tmp, args.kind)
    lines = os.path.join(tmp, "lines.txt")
    with open(lines, "w", encoding="utf-8") as f:
        f.write("[A001_C003]\nHola, ¿qué tal?\n[A002_C001]\nMuy bien.\n[B001_C007]\nVamos.\n")
    return cut, lines


SHARED_SHOTS = ("talk_d", "talk_e", "talk_f", "talk_g", "talk_h", "talk_i")


def _shared_cut(tmp: str):
    """Six shots of real footage back to back at 25 fps, frames 10-109 of each (so 8-frame
    handles exist), and a dub track whose audio is those same frames' own speech."""
    import wave
    from types import SimpleNamespace

    import numpy as np
    import opentimelineio as otio
    from opentimelineio.opentime import RationalTime, TimeRange

    from lipflap.media.audio import load_audio
    media = os.path.join(os.path.dirname(os.path.dirname(HERE)), "shared", "media")
    if not os.path.isdir(media):
        raise SystemExit(f"--cut shared needs the shared clips in {media}; they are not there.")
    first, n, rate, sr = 10, 100, 25, 48000
    tl = otio.schema.Timeline(name="shared cut", global_start_time=RationalTime(90000, rate))
    v1 = otio.schema.Track(name="V1", kind=otio.schema.TrackKind.Video)
    speech = []
    for name in SHARED_SHOTS:
        path = os.path.join(media, name + ".mp4")
        ref = otio.schema.ExternalReference(target_url=path,
                                            available_range=TimeRange(RationalTime(0, rate),
                                                                      RationalTime(200, rate)))
        v1.append(otio.schema.Clip(name=name, media_reference=ref,
                                   source_range=TimeRange(RationalTime(first, rate),
                                                          RationalTime(n, rate))))
        speech.append(load_audio(path, rate=sr, offset_s=first / rate)[: n * sr // rate])
    dub = os.path.abspath(os.path.join(tmp, "dub_shots.wav"))
    pcm = np.clip(np.concatenate(speech) * 32767, -32768, 32767).astype("<i2")
    with wave.open(dub, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(sr)
        w.writeframes(pcm.tobytes())
    total = RationalTime(n * len(SHARED_SHOTS), rate)
    a1 = otio.schema.Track(name="Dub EN", kind=otio.schema.TrackKind.Audio)
    a1.append(otio.schema.Clip(name="dub", media_reference=otio.schema.ExternalReference(
        target_url=dub), source_range=TimeRange(RationalTime(0, rate), total)))
    tl.tracks.extend([v1, a1])
    path = os.path.join(tmp, "shared_cut.otio")
    otio.adapters.write_to_file(tl, path)
    open(os.path.join(tmp, "lines.txt"), "w").close()
    return SimpleNamespace(path=path, dub_track="Dub EN", language="en")


def compare_cluster(args) -> int:
    import json
    env = _engine_env(args)
    with tempfile.TemporaryDirectory() as tmp:
        cut, lines = _cut_and_lines(tmp, args)
        walls = {"local": [], "ray": []}
        for k in range(args.repeat):
            # Alternate, so a change in the machine's load hits both ways alike.
            for way, extra in (("local", ["--jobs", str(args.jobs)]),
                               ("ray", ["--cluster", args.cluster, "--cpus-per-job", "1"])):
                env["LIPFLAP_CACHE"] = os.path.join(tmp, f"cache_{way}_{k}")
                walls[way].append(_conform(cut, os.path.join(tmp, f"out_{way}_{k}"), env, extra,
                                           lines))
        jl_path = [f for f in os.listdir(os.path.join(tmp, "out_local_0")) if f.endswith(".lipflap")]
        jl = json.load(open(os.path.join(tmp, "out_local_0", jl_path[0])))
        frames = sum(j["job"]["end_frame"] - j["job"]["start_frame"] + 1 + 2 * j["job"]["handles"]
                     for j in jl["jobs"] if j["job"])
        clips = sum(1 for j in jl["jobs"] if j["job"])
    local, ray = min(walls["local"]), min(walls["ray"])
    print(f"conform of the {args.cut} cut ({args.kind if args.cut == 'test' else '25'}, {clips} clips, {frames} frames with handles, "
          f"engine {args.engine}), {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}")
    print(f"  local --jobs {args.jobs}: best {local:.2f} s  (runs {', '.join(f'{w:.2f}' for w in walls['local'])})")
    print(f"  --cluster ({args.jobs} CPUs): best {ray:.2f} s  (runs {', '.join(f'{w:.2f}' for w in walls['ray'])})")
    print(f"  Ray overhead: {ray - local:+.2f} s = {100 * (ray - local) / local:+.1f}% of the local wall time")
    # One slot's seconds per rendered frame, from the Ray run (its overhead included).
    per_frame = ray * args.jobs / frames
    ep_clips, ep_frames = 700, round(45 * 60 * 24000 / 1001) + 700 * 16
    print(f"  measured {per_frame * 1000:.1f} ms per rendered frame per slot; a 45-minute episode "
          f"({ep_clips} clips, {ep_frames} frames with handles) at {args.slots} slots per node:")
    # Ray's cost is per conform, not per clip: importing Ray, connecting, and starting the job's
    # worker processes (Ray starts workers per driver); a task on a warm worker costs a few ms.
    fixed = max(ray - local, 0.0)
    for label, pf in ((f"this run's {per_frame * 1000:.0f} ms/frame", per_frame),
                      (f"1080p at {args.per_frame_ms:.0f} ms/frame", args.per_frame_ms / 1000)):
        print(f"    with {label}, plus this run's Ray overhead {fixed:.1f} s once:")
        for n in (int(x) for x in args.nodes.split(",")):
            slots = n * args.slots
            # Whole clips per slot: the last wave of clips sets the end.
            waves = -(-ep_clips // slots)
            est = waves * (ep_frames / ep_clips) * pf + fixed
            print(f"      {n:3d} node(s) x {args.slots} slots: {est / 60:7.1f} min "
                  f"(Ray overhead {100 * fixed / est:.2f}%)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
