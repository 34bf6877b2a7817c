"""Media I/O throughput on a synthetic 1080p clip.

    python bench/bench_media.py [--frames 48] [--codecs prores_hq,h264,...] [--keep DIR]

Writes a 1080p 25 fps source twice (H.264 4:2:0 8-bit, as from a camera proxy or a delivery, and
ProRes 422 HQ 10-bit, as from a camera or a master), then measures per output codec:
  decode      frames/s of read_frames with RGB images (uint8 / uint16) for each source
  encode      frames/s of VideoWriter.write() from RGB images in memory (encode only)
  transcode   frames/s of plain_transcode (decode -> encode, the floor of DESIGN.md section 7)
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


def timed(fn) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


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
    print(f"sources written in {t:.1f} s and {t2:.1f} s", flush=True)

    print("\ndecode (read_frames)")
    print(f"  {'source':<26}{'av_frame only':>15}{'with RGB image':>16}")
    for label, path in sources.items():
        info = probe(path)
        assert info.frame_count == n
        raw = timed(lambda: [None for _ in read_frames(path, info=info)])
        rgb = timed(lambda: [f.image for f in read_frames(path, info=info)])
        print(f"  {label:<26}{n / raw:>12.1f} fps{n / rgb:>13.1f} fps", flush=True)

    # Encode-only needs frames in memory: keep 12 and cycle them (12 x 1080p x 16-bit = 150 MB).
    rng = np.random.default_rng(2)
    pool = [synthetic(i, rng) for i in range(12)]
    print(f"\nencode and transcode, per output codec (source for transcode/composite: "
          f"the two clips above)")
    head = (f"  {'codec':<13}{'encode RGB':>12}{'transcode h264':>16}{'transcode prores':>18}"
            f"{'composite prores':>18}{'MB/frame':>10}")
    print(head)
    results = {}
    for codec in codecs:
        dst = out_name(folder, codec, "enc")

        def encode():
            with VideoWriter(dst, codec=codec, fps=25, width=W, height=H) as w:
                for i in range(n):
                    w.write(pool[i % len(pool)])
        te = timed(encode)
        mb = size_mb(dst) / n
        tt = {}
        for label, src in sources.items():
            d = out_name(folder, codec, "tr_" + label.split()[0])
            tt[label] = timed(lambda: plain_transcode(src, d, codec))
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
        trp = tt["prores_hq 10-bit 4:2:2"]
        results[codec] = (n / te, n / tt["h264 8-bit 4:2:0"], n / trp, n / tc, mb)
        print(f"  {codec:<13}{n / te:>8.1f} fps{n / tt['h264 8-bit 4:2:0']:>12.1f} fps"
              f"{n / trp:>14.1f} fps{n / tc:>12.1f} fps ({tc / trp:.2f}x){mb:>8.2f}", flush=True)
    print(f"\nload average at the end: {os.getloadavg()[0]:.1f} (machine shared with other jobs)")
    if not args.keep:
        shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
