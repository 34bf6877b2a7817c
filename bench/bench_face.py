"""Face analysis cost per frame at 720p, 1080p and 4K, on one CPU core.

    python bench/bench_face.py [--frames 48] [--cores 1] [--real ../shared/media/talk_b.mp4 ...]

Frames are made in memory (skimage's astronaut as a medium close-up, face about a third of the
frame height, gently moving and rotating, seamless loop), so decode is not counted: what is timed
is exactly stage 1's own work per frame (cut signature, Face Mesh on the crop, detection when it
runs, quality features) plus the after-pass (speaker choice, smoothing, pose, flags). Reported:
wall and CPU milliseconds per frame; the first frame (model start-up and the deep shot-start
detection) is reported apart. The process is pinned to `--cores` CPUs (MediaPipe's threads too),
so "1 core" means one core. CPU time is the steadier figure on a shared machine.
With --real, whole analyze_video runs on real files (decode included) for comparison.

Target (issue 3): <= 15 ms per 1080p frame on one core.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from fractions import Fraction

import cv2
import numpy as np

SIZES = {"720p": (720, 1280), "1080p": (1080, 1920), "4K": (2160, 3840)}


class _Frame:
    __slots__ = ("index", "image", "time_s")

    def __init__(self, index, image, time_s):
        self.index, self.image, self.time_s = index, image, time_s


def make_frames(h: int, w: int, period: int) -> list[np.ndarray]:
    from skimage import data
    a = data.astronaut()
    scale = (h / 3.2) / 150.0          # the astronaut's face is ~150 px tall at scale 1
    out = []
    for t in range(period):
        ph = 2 * np.pi * t / period
        m = cv2.getRotationMatrix2D((256, 256), 6 * np.sin(ph), scale * (1 + 0.05 * np.sin(ph)))
        m[0, 2] += w * (0.5 + 0.06 * np.sin(ph)) - 256
        m[1, 2] += h * 0.62 + 0.02 * h * np.cos(ph) - 256
        f = np.full((h, w, 3), 90, np.uint8)
        cv2.warpAffine(a, m, (w, h), dst=f, borderMode=cv2.BORDER_TRANSPARENT)
        out.append(f)
    return out


def bench_size(name: str, frames: int, period: int) -> dict:
    from lipflap.face.analyze import build_analysis, track_frames
    h, w = SIZES[name]
    pics = make_frames(h, w, period)
    stream = (_Frame(i, pics[i % period], i / 25) for i in range(frames))
    stamps = []

    class Clock:
        """Progress stand-in: records wall and CPU time at each frame."""
        def start(self, stage, n):
            stamps.append((time.perf_counter(), time.process_time()))

        def advance(self, n=1):
            stamps.append((time.perf_counter(), time.process_time()))

    tp = track_frames(stream, frames, progress=Clock())
    t0w, t0c = time.perf_counter(), time.process_time()
    a = build_analysis(tp, path="<memory>", fps=Fraction(25), width=w, height=h, start=0,
                       end=frames - 1)
    post_w = (time.perf_counter() - t0w) / frames
    post_c = (time.process_time() - t0c) / frames
    wall = np.diff([s[0] for s in stamps])
    cpu = np.diff([s[1] for s in stamps])
    usable = sum(f.usable for f in a.frames)
    return {"size": name, "frames": frames, "usable": usable,
            "first_ms": 1000 * wall[0],
            "wall_ms": 1000 * (wall[1:].mean() + post_w),
            "cpu_ms": 1000 * (cpu[1:].mean() + post_c),
            "wall_median_ms": 1000 * np.median(wall[1:]), "post_ms": 1000 * post_w,
            "detections": tp.detections_run}


def bench_real(path: str) -> dict:
    from lipflap.face.analyze import analyze_video
    from lipflap.media.decode import read_frames
    t0w, t0c = time.perf_counter(), time.process_time()
    n = sum(1 for f in read_frames(path) if f.image is not None)
    dec_w = (time.perf_counter() - t0w) / n
    dec_c = (time.process_time() - t0c) / n
    t0w, t0c = time.perf_counter(), time.process_time()
    a = analyze_video(path, use_cache=False)
    return {"file": os.path.basename(path), "frames": n, "size": f"{a.width}x{a.height}",
            "decode_wall_ms": 1000 * dec_w, "decode_cpu_ms": 1000 * dec_c,
            "analyze_wall_ms": 1000 * (time.perf_counter() - t0w) / n,
            "analyze_cpu_ms": 1000 * (time.process_time() - t0c) / n}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--frames", type=int, default=48)
    ap.add_argument("--period", type=int, default=16, help="distinct frames made per size (loop)")
    ap.add_argument("--cores", type=int, default=1)
    ap.add_argument("--sizes", nargs="*", default=list(SIZES))
    ap.add_argument("--real", nargs="*", default=[])
    args = ap.parse_args(argv)
    if hasattr(os, "sched_setaffinity"):
        cpus = sorted(os.sched_getaffinity(0))[: args.cores]
        os.sched_setaffinity(0, set(cpus))
    print(f"pinned to {args.cores} core(s); load average {os.getloadavg()[0]:.1f} "
          f"on {os.cpu_count()} cpus", flush=True)
    print(f"{'size':>6} {'frames':>6} {'usable':>6} {'wall ms':>8} {'cpu ms':>7} {'median':>7} "
          f"{'after':>6} {'first':>7} {'dets':>5}")
    bench_size("720p", 4, 4)   # warm-up: first calls into OpenCV/NumPy/MediaPipe code paths
    for name in args.sizes:
        r = bench_size(name, args.frames, args.period)
        print(f"{r['size']:>6} {r['frames']:>6} {r['usable']:>6} {r['wall_ms']:8.1f} "
              f"{r['cpu_ms']:7.1f} {r['wall_median_ms']:7.1f} {r['post_ms']:6.2f} "
              f"{r['first_ms']:7.0f} {r['detections']:>5}", flush=True)
    for path in args.real:
        r = bench_real(path)
        print(f"{r['file']} {r['size']} {r['frames']} frames: decode {r['decode_wall_ms']:.1f} ms "
              f"wall / {r['decode_cpu_ms']:.1f} cpu; analyze (with decode) "
              f"{r['analyze_wall_ms']:.1f} ms wall / {r['analyze_cpu_ms']:.1f} cpu per frame",
              flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
