"""Media I/O throughput on a synthetic 1080p clip.

    python bench/bench_media.py [--frames 48] [--codecs prores_hq,h264,...] [--keep DIR]

(--keep: a folder that keeps the two source clips; outputs are deleted as they are measured.)

Writes a 1080p 25 fps source twice (H.264 4:2:0 8-bit, as from a camera proxy or a delivery, and
ProRes 422 HQ 10-bit, as from a camera or a master), then measures per output codec:
  decode      frames/s of read_frames with RGB images (uint8 / uint16) for each source
  encode      frames/s of VideoWriter.write() from RGB images in memory (encode only)
  transcode   frames/s of plain_transcode (decode -> encode, the floor of docs/speed.md)
  composite   frames/s of decode -> write_composite with a 480x360 mouth-sized patch
Run it under `nice`; numbers are wall-clock and depend on what else the machine runs.
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from fractions import Fraction

import av
import numpy as np

from lipflap.media.decode import read_frames
from lipflap.media.encode import CODECS, VideoWriter, plain_transcode
from lipflap.media.probe import probe

W, H = 1920, 1080


def synthetic(i: int, rng: np.random.Generator) -> np.ndarray:
    """Moving gradients plus grain: smooth areas and fine texture, like a face shot."""
    y, x = np.ogrid[0:H, 0:W]
    r = 0.5 + 0.35 * np.sin((x + 6 * i) / 90.0) * np.cos(y / 140.0)
    g = 0.45 + 0.3 * np.cos((y - 4 * i) / 70.0) + 0.0 * x
    b = 0.4 + 0.3 * np.sin((x + y + 10 * i) / 200.0)
    img = np.stack(np.broadcast_arrays(r, g, b), axis=2)
    img = img + rng.normal(0, 0.02, img.shape)
    return np.rint(np.clip(img, 0, 1) * 65535).astype(np.uint16)


def write_source(path: str, codec: str, frames: int) -> None:
    rng = np.random.default_rng(1)
    # Produced with lipflap's own writer from 16-bit RGB; the clip is only the benchmark input.
    with VideoWriter(path, codec=codec, fps=25, width=W, height=H,
                     start_timecode="01:00:00:00") as w:
        for i in range(frames):
            w.write(synthetic(i, rng))


class Timing:
    """Wall-clock seconds and CPU seconds (all threads of this process). On a shared machine the
    wall clock depends on the neighbours; CPU time per frame much less."""

    def __init__(self, wall: float, cpu: float):
        self.wall, self.cpu = wall, cpu

    def cell(self, n: int) -> str:
        return f"{n / self.wall:6.1f} fps {1000 * self.cpu / n:5.0f} ms"


def timed(fn) -> Timing:
    t, c = time.perf_counter(), time.process_time()
    fn()
    return Timing(time.perf_counter() - t, time.process_time() - c)


def out_name(folder: str, codec: str, tag: str) -> str:
    if CODECS[codec].container is None:
        return os.path.join(folder, f"{tag}_{codec}")
    return os.path.join(folder, f"{tag}_{codec}{'.mp4' if codec == 'h264' else '.mov'}")


def size_mb(path: str) -> float:
    if os.path.isdir(path):
        return sum(os.path.getsize(os.path.join(path, f)) for f in os.listdir(path)) / 1e6
    return os.path.getsize(path) / 1e6


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=48)
    ap.add_argument("--codecs", default=",".join(CODECS))
    ap.add_argument("--keep", default=None, help="folder to keep the outputs in")
    args = ap.parse_args(argv)
    codecs = args.codecs.split(",")
    folder = args.keep or tempfile.mkdtemp(prefix="bench_media_")
    os.makedirs(folder, exist_ok=True)
    n = args.frames
    print(f"lipflap media benchmark: {W}x{H} 25 fps, {n} frames, PyAV {av.__version__} "
          f"(FFmpeg {av.ffmpeg_version_info}), {os.cpu_count()} CPUs, "
          f"nice {os.nice(0)}, load average {os.getloadavg()[0]:.1f}", flush=True)
    sources = {"h264 8-bit 4:2:0": os.path.join(folder, "src_h264.mp4"),
               "prores_hq 10-bit 4:2:2": os.path.join(folder, "src_prores.mov")}
    t = timed(lambda: write_source(sources["h264 8-bit 4:2:0"], "h264", n))
    t2 = timed(lambda: write_source(sources["prores_hq 10-bit 4:2:2"], "prores_hq", n))
    print(f"sources written in {t.wall:.1f} s and {t2.wall:.1f} s", flush=True)
    print("\ncells: wall-clock frames per second, then CPU milliseconds per frame (all threads)")

    print("\ndecode (read_frames)")
    print(f"  {'source':<26}{'av_frame only':>18}{'with RGB image':>20}")
    for label, path in sources.items():
        info = probe(path)
        assert info.frame_count == n
        raw = timed(lambda: [None for _ in read_frames(path, info=info)])
        rgb = timed(lambda: [f.image for f in read_frames(path, info=info)])
        print(f"  {label:<26}{raw.cell(n):>20}{rgb.cell(n):>20}", flush=True)

    # Encode-only needs frames in memory: keep 12 and cycle them (12 x 1080p x 16-bit = 150 MB).
    rng = np.random.default_rng(2)
    pool = [synthetic(i, rng) for i in range(12)]
    print(f"\nencode and transcode, per output codec (source for transcode/composite: "
          f"the two clips above)")
    head = (f"  {'codec':<12}{'encode RGB':>20}{'transcode h264':>20}{'transcode prores':>20}"
            f"{'composite prores':>20}{'comp/trans':>11}{'MB/frame':>9}")
    print(head)
    for codec in codecs:
        dst = out_name(folder, codec, "enc")

        def encode():
            with VideoWriter(dst, codec=codec, fps=25, width=W, height=H) as w:
                for i in range(n):
                    w.write(pool[i % len(pool)])
        te = timed(encode)
        mb = size_mb(dst) / n
        shutil.rmtree(dst) if os.path.isdir(dst) else os.remove(dst)
        tt = {}
        for label, src in sources.items():
            d = out_name(folder, codec, "tr_" + label.split()[0])
            tt[label] = timed(lambda: plain_transcode(src, d, codec))
            shutil.rmtree(d) if os.path.isdir(d) else os.remove(d)
        src = sources["prores_hq 10-bit 4:2:2"]
        info = probe(src)
        patch = np.full((360, 480, 3), 40000, np.uint16)
        yy, xx = np.mgrid[0:360, 0:480]
        alpha = np.clip(1.2 - np.hypot((yy - 180) / 180, (xx - 240) / 240), 0, 1).astype(np.float32)
        dcomp = out_name(folder, codec, "comp")

        def composite():
            with VideoWriter(dcomp, codec=codec, fps=info.fps, width=W, height=H, like=info) as w:
                for f in read_frames(src, info=info):
                    w.write_composite(f, patch, alpha, 720, 600)
        tc = timed(composite)
        shutil.rmtree(dcomp) if os.path.isdir(dcomp) else os.remove(dcomp)
        trp = tt["prores_hq 10-bit 4:2:2"]
        print(f"  {codec:<12}{te.cell(n):>20}{tt['h264 8-bit 4:2:0'].cell(n):>20}"
              f"{trp.cell(n):>20}{tc.cell(n):>20}{tc.cpu / trp.cpu:>10.2f}x{mb:>9.2f}", flush=True)
    print(f"\nload average at the end: {os.getloadavg()[0]:.1f} (machine shared with other jobs)")
    if not args.keep:
        shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
