"""Small test clips with frame numbers that can be read back from the pixels.

Each frame carries its index as a 16-bit binary bar code: a strip of 16 blocks across the top,
white for 1 and black for 0 (big blocks and full contrast survive H.264 at any sane quality and
4:2:0 chroma). Below the strip a gradient moves from frame to frame so encoders see motion and
B-frames carry real prediction. Clips are written with PyAV directly (not lipflap's writer), so
decode tests check lipflap against an independent producer.

    make_clip(path, fps="24000/1001", frames=48, codec="h264", timecode="01:00:00:00",
              audio="clicks", clicks=(3, 17, 40))
    read_index(image) -> int
"""
from __future__ import annotations

import os
from fractions import Fraction

import av
import numpy as np

BITS = 16
STRIP = 16  # bar-code strip height in pixels


def _rate(fps) -> Fraction:
    text = str(fps)
    named = {"23.976": Fraction(24000, 1001), "29.97": Fraction(30000, 1001),
             "59.94": Fraction(60000, 1001)}
    return named.get(text) or Fraction(text)


def frame_image(index: int, width: int, height: int, deep: bool = False) -> np.ndarray:
    """RGB image of frame `index`: bar code on top, a moving diagonal gradient below.
    uint16 (full scale) when `deep`, else uint8."""
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    # A smooth moving pattern in three channels (values 0..1).
    r = 0.5 + 0.4 * np.sin((x + 3 * index) / 17.0)
    g = 0.5 + 0.4 * np.cos((y - 2 * index) / 13.0)
    b = (x + y + 5 * index) % 97 / 97.0 * 0.8 + 0.1
    img = np.stack([r, g, b], axis=2)
    bw = width // BITS
    for bit in range(BITS):
        on = (index >> (BITS - 1 - bit)) & 1
        img[:STRIP, bit * bw:(bit + 1) * bw, :] = 1.0 if on else 0.0
    if deep:
        return np.rint(img * 65535).astype(np.uint16)
    return np.rint(img * 255).astype(np.uint8)


def read_index(image: np.ndarray) -> int:
    """The frame number burnt in by `frame_image`."""
    img = np.asarray(image, np.float32)
    if img.dtype == np.float32 and np.asarray(image).dtype == np.uint16:
        img = img / 257.0
    h, w = img.shape[:2]
    bw = w // BITS
    value = 0
    for bit in range(BITS):
        block = img[3:STRIP - 3, bit * bw + 2:(bit + 1) * bw - 2, :3]
        value = (value << 1) | int(block.mean() > 127.5)
    return value


def gradient_image(width: int, height: int) -> np.ndarray:
    """uint16 RGB with horizontal ramps in 10-bit steps (1024 levels across the width per
    channel): an 8-bit path collapses every 4 neighbouring levels into one."""
    x = np.arange(width, dtype=np.float64)
    level = np.floor(x / max(1, width - 1) * 1023)  # 0..1023 (10-bit codes)
    ramp = np.rint(level / 1023 * 65535).astype(np.uint16)
    img = np.empty((height, width, 3), np.uint16)
    img[:] = ramp[None, :, None]
    # Offset channels a little so the matrix sees colour, not only grey.
    img[:, :, 1] = np.rint(np.clip(level / 1023 * 0.9 + 0.05, 0, 1) * 65535)[None, :]
    return img


CODECS = {
    # name: (encoder, pix_fmt, options, deep)
    "h264": ("libx264", "yuv420p", {"crf": "12", "preset": "ultrafast", "bf": "3", "g": "12",
                                     "x264-params": "keyint=12:min-keyint=12:scenecut=0:b-pyramid=normal"},
             False),
    "h264_opengop": ("libx264", "yuv420p", {"crf": "12", "preset": "ultrafast", "bf": "3",
                                            "x264-params": "keyint=10:min-keyint=10:scenecut=0:open-gop=1"},
                     False),
    "hevc": ("libx265", "yuv420p", {"crf": "14", "preset": "ultrafast",
                                    "x265-params": "keyint=12:min-keyint=12:bframes=3:log-level=error"},
             False),
    "prores": ("prores_ks", "yuv422p10le", {"profile": "3"}, True),
}


def make_clip(path, *, fps="25", frames: int = 48, width: int = 160, height: int = 90,
              codec: str = "h264", timecode: str | None = "01:00:00:00", audio: str | None = None,
              clicks=(), audio_rate: int = 48000, audio_start_s: float = 0.0,
              faststart: bool = False, colour: bool = True, vfr_gaps=(),
              pattern: str = "moving", sar: Fraction | None = None,
              field_order: int | None = None, rotation: int = 0) -> str:
    """Write a clip; returns its path.

    audio: None, "clicks" (a 1 ms full-scale burst at the start of each frame in `clicks`, silence
    elsewhere) or "tone" (440 Hz). The audio track starts `audio_start_s` after the video.
    vfr_gaps: frame indexes after which one frame duration is skipped (variable frame rate).
    pattern: "moving" (see frame_image) or "gradient" (gradient_image below the bar code).
    sar, field_order: pixel aspect and FFmpeg field order (2 = top first) to tag the stream with.
    rotation: display rotation in degrees (counter-clockwise), as phones write it.
    Extension .mp4 stores AAC audio, .mov PCM, .mkv PCM.
    """
    path = os.fspath(path)
    rate = _rate(fps)
    encoder, pix_fmt, options, deep = CODECS[codec]
    ext = os.path.splitext(path)[1].lower()
    container_opts = {"movflags": "+faststart"} if faststart else {}
    out = av.open(path, "w", options=container_opts)
    vs = out.add_stream(encoder, rate=rate, options=dict(options))
    vs.width, vs.height, vs.pix_fmt = width, height, pix_fmt
    tb = Fraction(rate.denominator, rate.numerator)
    vs.codec_context.time_base = tb
    if colour:
        cc = vs.codec_context
        cc.color_primaries, cc.color_trc, cc.colorspace, cc.color_range = 1, 1, 1, 1
    if timecode:
        vs.metadata["timecode"] = timecode
    if sar:
        vs.codec_context.sample_aspect_ratio = Fraction(sar)
    if field_order:
        vs.codec_context.field_order = field_order
    if rotation:
        vs.set_display_rotation(rotation)
    as_ = None
    if audio:
        acodec = "aac" if ext == ".mp4" else "pcm_s16le"
        as_ = out.add_stream(acodec, rate=audio_rate, layout="mono")
    pts = 0
    gaps = set(vfr_gaps)
    for i in range(frames):
        img = frame_image(i, width, height, deep)
        if pattern == "gradient":
            g = gradient_image(width, height)
            img[STRIP:] = g[STRIP:] if deep else (g[STRIP:] >> 8).astype(np.uint8)
        f = av.VideoFrame.from_ndarray(img, format="rgb48le" if deep else "rgb24")
        f = f.reformat(format=pix_fmt, dst_colorspace="ITU709", dst_color_range="MPEG")
        f.color_range, f.colorspace = 1, 1
        f.pts = pts
        f.time_base = tb
        for p in vs.encode(f):
            out.mux(p)
        pts += 2 if i in gaps else 1
    for p in vs.encode():
        out.mux(p)
    if as_ is not None:
        n = int(round(frames / rate * audio_rate))
        x = audio_samples(audio, n, audio_rate, rate, clicks, audio_start_s)
        data = np.clip(np.rint(x * 32767), -32768, 32767).astype(np.int16)
        start = int(round(audio_start_s * audio_rate))
        if as_.codec_context.name == "aac":
            chunk_fmt, arr = "fltp", x[None, :]
        else:
            chunk_fmt, arr = "s16", data[None, :]
        step = 1024
        for k in range(0, n, step):
            af = av.AudioFrame.from_ndarray(np.ascontiguousarray(arr[:, k:k + step]),
                                            format=chunk_fmt, layout="mono")
            af.sample_rate = audio_rate
            af.pts = start + k
            af.time_base = Fraction(1, audio_rate)
            for p in as_.encode(af):
                out.mux(p)
        for p in as_.encode():
            out.mux(p)
    out.close()
    return path


def audio_samples(kind, n, audio_rate, rate, clicks=(), audio_start_s=0.0) -> np.ndarray:
    """The audio track's samples (float, mono). Sample j sits at time audio_start_s + j/rate on
    the video clock, so a click for frame k starts at k/fps."""
    x = np.zeros(n, np.float32)
    if kind == "tone":
        t = np.arange(n) / audio_rate
        x[:] = 0.5 * np.sin(2 * np.pi * 440 * t)
    elif kind == "clicks":
        width = max(1, audio_rate // 1000)
        for k in clicks:
            s = int(round((k / rate - audio_start_s) * audio_rate))
            if 0 <= s < n:
                x[s:s + width] = 0.9
    return x


def make_wav(path, seconds: float = 1.0, rate: int = 48000) -> str:
    """An audio-only WAV (a tone)."""
    path = os.fspath(path)
    n = int(seconds * rate)
    x = (0.5 * np.sin(2 * np.pi * 440 * np.arange(n) / rate) * 32767).astype(np.int16)
    with av.open(path, "w") as out:
        a = out.add_stream("pcm_s16le", rate=rate, layout="mono")
        f = av.AudioFrame.from_ndarray(x[None, :], format="s16", layout="mono")
        f.sample_rate = rate
        f.pts = 0
        for p in a.encode(f):
            out.mux(p)
        for p in a.encode():
            out.mux(p)
    return path


# The clips most media tests use: (file name, make_clip keyword arguments).
STANDARD = {
    "h264_2398": ("h264_2398.mp4", dict(fps="24000/1001", codec="h264", timecode="01:00:00:00",
                                        audio="clicks", clicks=(3, 17, 40))),
    "h264_25": ("h264_25.mov", dict(fps="25", codec="h264", timecode="01:00:00:00")),
    "prores_2997df": ("prores_2997df.mov", dict(fps="30000/1001", codec="prores",
                                                timecode="00:59:59;29", audio="clicks",
                                                clicks=(5, 29, 44))),
}


def standard_clips(folder, names=None, frames: int = 48, width: int = 320,
                   height: int = 180) -> dict:
    """Write the STANDARD clips (or `names` of them) into `folder`; {name: path}."""
    out = {}
    for name in names or STANDARD:
        fname, kw = STANDARD[name]
        out[name] = make_clip(os.path.join(os.fspath(folder), fname), frames=frames, width=width,
                              height=height, **kw)
    return out
