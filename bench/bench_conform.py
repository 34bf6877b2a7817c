"""Wall time of `lipflap conform` on the test cut with --jobs 1 and --jobs 2.

    python bench/bench_conform.py [--engine fake|real] [--kind 23.976|29.97df] [--repeat N]

The cut is tests/test_conform_support.py's (four clips of 64x48 generated media, 84 rendered
frames with handles). `fake` is the test engine (tests/test_conform_fakeengine.py: decode, ProRes
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
    ap.add_argument("--repeat", type=int, default=3, help="runs per setting; the best is reported")
    args = ap.parse_args()
    from test_conform_fakeengine import engine_cmd
    from test_conform_support import make_cut

    env = dict(os.environ)
    if args.engine == "fake":
        env["LIPFLAP_RUN_CMD"] = engine_cmd()
    else:
        env.pop("LIPFLAP_RUN_CMD", None)
    with tempfile.TemporaryDirectory() as tmp:
        cut = make_cut(tmp, args.kind)
        # Script text for every clip, so the real engine aligns the script rather than listening.
        lines = os.path.join(tmp, "lines.txt")
        with open(lines, "w", encoding="utf-8") as f:
            f.write("[A001_C003]\nHola, ¿qué tal?\n[A002_C001]\nMuy bien.\n[B001_C007]\nVamos.\n")
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


if __name__ == "__main__":
    sys.exit(main())
