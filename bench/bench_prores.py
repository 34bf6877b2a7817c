"""ProRes profiles and prores_ks options on one clip: plain transcodes, measured as a render is.

    python bench/bench_prores.py scratch/hard/selfie.mp4
    python bench/bench_prores.py CLIP --variant NAME=CODEC[,OPTION=VALUE...] ...

Each variant is a plain transcode written by lipflap.media.encode.VideoWriter with the named
codec's spec and the given prores_ks options on top (quant_mat, bits_per_mb, mbs_per_slice);
`bits_per_mb=apple` asks for Apple's nominal 4444 rate at this frame size, `qscale=N` forces the
quantiser (ffmpeg's -q:v). Printed per variant: bytes per frame (mean and largest), that rate
against Apple's nominal 4444 and 4444 XQ rates (330 and 500 Mb/s at 1920x1080 29.97p, scaled by
pixel rate), and lipeval's mouth sharpness ratio and PSNR outside the lower face against the
source, and the shortfall of the automatic choice's three probe frames at that profile (the
share of their finest-quantiser bits the profile's row budgets cannot hold; lipflap.media.
prores_choice steps past a profile where most of them are 0.02 or more). The default variants
are the ones docs/cli.md ("ProRes data rates") quotes.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
from dataclasses import replace

import av
import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EVAL = os.environ.get("LIPFLAP_EVAL", os.path.join(REPO, "..", "shared", "eval"))

APPLE_MBPS_1080P30 = {"4444": 330e6, "xq": 500e6}
DEFAULT_VARIANTS = ("4444=prores_4444", "4444_hq_matrix=prores_4444,quant_mat=hq",
                    "4444_apple_rate=prores_4444,bits_per_mb=apple",
                    "xq=prores_4444xq", "hq=prores_hq")


def apple_rate(kind: str, width: int, height: int) -> float:
    """Apple's nominal data rate in bits per frame, scaled from 1920x1080 29.97p by pixels (the
    white paper's rates scale with the frame rate, so the size of a frame does not)."""
    return APPLE_MBPS_1080P30[kind] / (30000 / 1001) * (width * height) / (1920 * 1080)


def transcode(src: str, dst: str, codec: str, opts: dict) -> np.ndarray:
    """Plain transcode of `src` with `opts` over the codec's own options; packet sizes."""
    from lipflap.media import encode
    from lipflap.media.decode import read_frames
    from lipflap.media.probe import probe
    info = probe(src)
    opts = dict(opts)
    qscale = opts.pop("qscale", None)
    if opts.get("bits_per_mb") == "apple":
        mbs = -(-info.width // 16) * -(-info.height // 16)
        opts["bits_per_mb"] = str(int(apple_rate("4444", info.width, info.height) / mbs))
    saved = encode.CODECS[codec]
    encode.CODECS[codec] = replace(saved, options={**saved.options, **opts})
    try:
        w = encode.VideoWriter(dst, codec=codec, fps=info.fps, width=info.width,
                               height=info.height, like=info)
        if qscale is not None:
            w._vs.codec_context.global_quality = int(qscale)   # PyAV scales by FF_QP2LAMBDA
        with w:
            for f in read_frames(src, info=info):
                w.write_frame(f)
    finally:
        encode.CODECS[codec] = saved
    with av.open(dst) as c:
        return np.array([p.size for p in c.demux(video=0) if p.size])


def probe_shortfall(info, codec: str) -> str:
    """The automatic choice's measure for `codec` on this clip: the shortfall of its three probe
    frames (lipflap.media.prores_choice), "-" for a codec it does not probe."""
    from lipflap.media import colour, prores_choice as pc
    from lipflap.media.encode import CODECS
    if codec not in pc.LADDER:
        return "-"
    spec = CODECS[codec]
    frames = pc.probe_frames(info, pc.probe_indices(0, info.frame_count - 1))
    packets = pc.code_frames(frames, codec, info.width, info.height,
                             colour.effective_matrix(info.colorspace, info.height),
                             colour.effective_range(info.color_range, spec.pix_fmt), finest=True)
    return "/".join(f"{pc.shortfall(p, info.width, info.height, spec.options['profile']):.3f}"
                    for p in packets)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("clip")
    p.add_argument("--variant", action="append", help="NAME=CODEC[,OPTION=VALUE...]")
    a = p.parse_args()
    sys.path.insert(0, EVAL)
    import lipeval
    from lipflap.media.probe import probe
    info = probe(a.clip)
    lms, _ = lipeval.track(a.clip)
    print("variant bytes_per_frame max vs_apple_4444 vs_apple_xq sharpness psnr_outside_db "
          "probe_shortfall")
    with tempfile.TemporaryDirectory(dir=os.path.dirname(os.path.abspath(a.clip))) as tmp:
        for v in a.variant or DEFAULT_VARIANTS:
            name, _, spec = v.partition("=")
            codec, *pairs = spec.split(",")
            opts = dict(kv.split("=", 1) for kv in pairs)
            dst = os.path.join(tmp, f"{name}.mov")
            sizes = transcode(a.clip, dst, codec, opts)
            fid = lipeval.fidelity(dst, a.clip, lms)
            bits = sizes.mean() * 8
            print(f"{name} {sizes.mean():.0f} {sizes.max()} "
                  f"{bits / apple_rate('4444', info.width, info.height):.3f} "
                  f"{bits / apple_rate('xq', info.width, info.height):.3f} "
                  f"{fid['mouth_sharpness_ratio_median']:.4f} "
                  f"{fid['psnr_outside_lower_face_db_median']:.2f} {probe_shortfall(info, codec)}",
                  flush=True)
            os.remove(dst)


if __name__ == "__main__":
    main()
