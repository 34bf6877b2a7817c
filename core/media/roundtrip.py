"""Pictures coded and decoded as the output's writer codes them: the codec's own loss, measured
on a few bands of the output (lipflap.qc.pixels reads the run's mouth-box sharpness on the frames
before encoding and scales it by this loss).

Coded at the full frame's data budget where the codec's budget depends on the frame's size
(ProRes: prores_ks's bits per macroblock by size tier, lipflap.media.prores_choice). A band of
the frame's full width over whole macroblock rows then codes bit for bit as those rows do in the
whole frame (prores_ks shares each row's budget among its slices; tests/test_codec_roundtrip.py)."""
from __future__ import annotations

from fractions import Fraction

import av
import numpy as np

from . import colour
from .encode import CODECS, output_colour
from .prores_choice import bits_per_macroblock

# Coded without loss, or all but (half-float EXR): their pictures come back as they went in.
LOSSLESS = {"png", "exr"}
# Each encoder's decoder.
_DECODER = {"prores_ks": "prores", "dnxhd": "dnxhd", "libx264": "h264"}
# DNxHR codes frames of at least 256x120: a smaller picture is coded inside its reflection.
_MIN_SIZE = {"dnxhd": (256, 120)}


def coded_and_decoded(images: list[np.ndarray], codec: str, like, frame_size: tuple[int, int]
                      ) -> list[np.ndarray]:
    """The RGB images (h x w x 3, uint8 or uint16, all of one size) coded in `codec` with the
    writer's pixel format, options, matrix and range (`like`: the source's VideoInfo, or None)
    and the budget of a `frame_size` (width, height) frame, as one short stream, then decoded
    back to RGB of their own depth. A side of odd length loses its last pixel (4:2:x chroma
    codes pairs). Lossless codecs give the images back as they are."""
    if codec in LOSSLESS or not images:
        return [np.array(im) for im in images]
    spec = CODECS[codec]
    matrix, rng = output_colour(like, codec, spec.pix_fmt, int(frame_size[1]))
    options = dict(spec.options)
    if spec.encoder == "prores_ks":
        options["bits_per_mb"] = str(bits_per_macroblock(options["profile"], *frame_size))
    h, w = (images[0].shape[0] // 2) * 2, (images[0].shape[1] // 2) * 2
    mw, mh = _MIN_SIZE.get(spec.encoder, (0, 0))
    ph, pw = max(mh - h, 0), max(mw - w, 0)
    ph, pw = ph + ph % 2, pw + pw % 2
    enc = av.CodecContext.create(spec.encoder, "w")
    enc.width, enc.height, enc.pix_fmt = w + pw, h + ph, spec.pix_fmt
    enc.time_base = Fraction(1, 25)
    enc.options = options
    packets = []
    for i, im in enumerate(images):
        rgb = im[:h, :w, :3].astype(np.uint16) * (1 if im.dtype == np.uint16 else 257)
        if pw or ph:
            rgb = np.pad(rgb, ((0, ph), (0, pw), (0, 0)), mode="reflect")
        f = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb48le")
        f.color_range = 2
        f = f.reformat(format=spec.pix_fmt, dst_colorspace=colour.sws_matrix(matrix),
                       dst_color_range=colour.SWS_RANGE[rng], src_color_range="JPEG")
        f.pts, f.pict_type = i, 0
        packets += list(enc.encode(f))
    packets += list(enc.encode(None))
    dec = av.CodecContext.create(_DECODER[spec.encoder], "r")
    got = [fr for p in packets for fr in dec.decode(p)] + list(dec.decode(None))
    if len(got) != len(images):
        raise ValueError(f"{spec.encoder} gave {len(got)} pictures back for {len(images)} coded")
    deep = images[0].dtype == np.uint16
    return [np.ascontiguousarray(fr.to_ndarray(
        format="rgb48le" if deep else "rgb24", src_colorspace=colour.sws_matrix(matrix),
        src_color_range=colour.SWS_RANGE[rng], dst_color_range="JPEG")[:h, :w]) for fr in got]
