"""FFmpeg colour tags by name, and the matrix/range used whenever pixels cross YUV <-> RGB.

Probe reports tags as FFmpeg's names (what ffprobe prints); the writer turns them back into the
integer enums. Decode and encode must use the *same* matrix and range for a frame, otherwise a
patch taken from the decoded RGB and written back would shift colour: `effective_matrix` and
`effective_range` are that single choice.
"""
from __future__ import annotations

PRIMARIES = {1: "bt709", 2: "unknown", 4: "bt470m", 5: "bt470bg", 6: "smpte170m", 7: "smpte240m",
             8: "film", 9: "bt2020", 10: "smpte428", 11: "smpte431", 12: "smpte432", 22: "ebu3213"}
TRC = {1: "bt709", 2: "unknown", 4: "gamma22", 5: "gamma28", 6: "smpte170m", 7: "smpte240m",
       8: "linear", 9: "log100", 10: "log316", 11: "iec61966-2-4", 12: "bt1361e",
       13: "iec61966-2-1", 14: "bt2020-10", 15: "bt2020-12", 16: "smpte2084", 17: "smpte428",
       18: "arib-std-b67"}
SPACE = {0: "gbr", 1: "bt709", 2: "unknown", 4: "fcc", 5: "bt470bg", 6: "smpte170m",
         7: "smpte240m", 8: "ycgco", 9: "bt2020nc", 10: "bt2020c", 11: "smpte2085",
         12: "chroma-derived-nc", 13: "chroma-derived-c", 14: "ictcp"}
RANGE = {0: "unknown", 1: "tv", 2: "pc"}
FIELD_ORDER = {0: "unknown", 1: "progressive", 2: "tt", 3: "bb", 4: "tb", 5: "bt"}

_INV = {id(t): {v: k for k, v in t.items()} for t in (PRIMARIES, TRC, SPACE, RANGE, FIELD_ORDER)}


def name(table: dict, value) -> str:
    try:
        return table.get(int(value), "unknown")
    except (TypeError, ValueError):
        return "unknown"


def value(table: dict, tag: str | None) -> int | None:
    """The FFmpeg enum for a tag name; None for unknown/unspecified (leave the default)."""
    if tag is None or tag == "unknown":
        return None
    return _INV[id(table)].get(tag)


# Threads swscale converts a frame with. PyAV's default (0: one per core) makes a new scaler
# with its own worker threads for every frame converted, and every converted box is a new frame:
# on the bench's 1080p render (docs/speed.md) ~550 threads started and stopped, and a 452x452 box
# to RGB took 0.54-0.66 ms of CPU against 0.16 on one thread, a 1080p 4:2:0 frame to 4:2:2
# 10-bit 2.8-3.6 against 2.2 ms. The engine's stages already keep both cores busy; the pixels
# are the same (tests/test_media_sws_threads.py).
SWS_THREADS = 1

# swscale's matrix names (av.video.reformatter.Colorspace) for an AVColorSpace name.
_SWS = {"bt709": "ITU709", "fcc": "FCC", "bt470bg": "ITU601", "smpte170m": "SMPTE170M",
        "smpte240m": "SMPTE240M", "bt2020nc": "BT2020", "bt2020c": "BT2020"}


def effective_matrix(colorspace: str | None, height: int) -> str:
    """The YUV matrix to assume: the tagged one, else BT.709 for HD and up, BT.601 below
    (what players do with untagged files)."""
    if colorspace in _SWS:
        return colorspace
    return "bt709" if height >= 720 else "smpte170m"


def sws_matrix(colorspace: str) -> str:
    return _SWS.get(colorspace, "ITU709")


def effective_range(color_range: str | None, pix_fmt: str | None) -> str:
    """'pc' (full) or 'tv' (limited): the tag, else full for yuvj*/RGB formats, limited for YUV."""
    if color_range in ("tv", "pc"):
        return color_range
    if pix_fmt and (pix_fmt.startswith("yuvj") or not pix_fmt.startswith(("yuv", "nv", "p0", "p2"))):
        return "pc"
    return "tv"


SWS_RANGE = {"tv": "MPEG", "pc": "JPEG"}


# EXR holds scene-linear light (what compositors assume); video code values go through the
# BT.709 transfer curve (Nuke's "rec709") on the way in and back out.
def linear_from_bt709(v):
    import numpy as np
    v = np.asarray(v, np.float32)
    return np.where(v < 0.081, v / 4.5, np.power((np.maximum(v, 0.081) + 0.099) / 1.099,
                                                 1 / 0.45)).astype(np.float32)


def bt709_from_linear(lin):
    import numpy as np
    lin = np.asarray(lin, np.float32)
    return np.where(lin < 0.018, lin * 4.5,
                    1.099 * np.power(np.maximum(lin, 0.018), 0.45) - 0.099).astype(np.float32)


def is_float_rgb(pix_fmt: str | None) -> bool:
    return bool(pix_fmt) and pix_fmt.startswith(("gbrpf", "gbrapf", "rgbf", "rgbaf", "grayf"))
