"""Which ProRes profile holds the source's detail, when the job names no codec.

A job (or `lipflap run`, or a `lipflap conform` clip) that names a codec gets exactly that codec.
One that names none and writes a full-frame .mov gets the lowest profile of the ladder 422 HQ ->
4444 -> 4444 XQ whose data cap the source does not reach, measured on a few of its own frames:

- The cap: FFmpeg's ProRes encoder (prores_ks) gives every row of 16x16 macroblocks a fixed bit
  budget (a profile's bits per macroblock, from a table by the frame's macroblock count, times
  the macroblocks in the row) and raises slices' quantisers until the row fits. Raising them
  drops fine detail where there is most of it: in a close-up, the moustache, lips and skin.
  The hard set's noisy 960x960 selfie reads mouth sharpness 0.789 in 422 HQ, 0.884 in 4444 and
  0.963 in 4444 XQ as plain transcodes (docs/cli.md, "ProRes data rates").
- The probe: PROBE_FRAMES frames spread over the range are coded in memory with the quantiser
  forced to 1 (the finest step), once in 4:2:2 and once in 4:4:4; each row's bits, read from
  the packet's slice table, against the row's budget at each profile give the frame's shortfall,
  the share of its finest-step bits the budget cannot hold. A frame is at a profile's cap when
  its shortfall is at least SHORTFALL, a profile is left when most probe frames are.
- Why a step (shortfall of 3 probe frames; mouth sharpness of plain transcodes, lipeval): the
  selfie 0.47 in 422 HQ (0.789), 0.27 in 4444 (0.884), 0 in XQ (0.963); the same clip with 60%
  of its noise 0.38 (0.855), 0.13-0.16 (0.898), 0 (0.960); with 35% of it 0.22-0.31 (0.930),
  0.01-0.06 (0.930), 0 (0.976): on a close-up a few percent short already costs the mouth, as
  the slices the encoder coarsens are the face's. talk_a (1080p frontal) reads 0.003-0.013 in
  422 HQ and the 1080p crying clip 0.004-0.006, so both stay on 422 HQ; talk_b 0.06-0.09 (422
  HQ 1.015, 4444 1.049), talk_d 0.10-0.12 (0.994, 1.000) and the 512x512 head-turn clip
  0.11-0.16 (0.989, 0.993) step to 4444 for little mouth sharpness (talk_d's PSNR outside the
  lower face 48.5 -> 52.2 dB): a threshold of 0.10-0.15 would keep them on 422 HQ but leave the
  35%- and 60%-noise selfies in a profile reading 0.93 and 0.90.
  That step was 0.02 until renders were measured near the cap: the encoder takes more from a
  render than from its source there (the patch's detail is new to it). The side-light hard case
  (bench/hard_set.py sidelight, 4444 shortfall 0.008 / 0.000 / 0.007) read 0.944 as a 4444 render
  against 0.961 as a plain 4444 transcode and 1.005 written losslessly, and 0.954 as an XQ
  render; the two-face shot's right face 0.93 in 4444 against 0.965 plain. At 0.005 that case
  steps to XQ; of the shared talk clips only talk_c (422 HQ shortfall 0.013-0.022) moves, to
  4444; the other hard cases keep their profile (their shortfalls at the profile they got
  0-0.0092 with at most one frame at 0.005 or more). Measured 2026-12-06 (scratch probe of the
  three frames, tuned on sidelight).
- Where it starts: 422 HQ for a chroma-subsampled source (4:2:0, 4:2:2); 4444 for a 4:4:4 or
  RGB source, whose chroma 422 HQ would halve. It stops at 4444 XQ, ProRes's largest rate.
- A ProRes source is not probed: it gets its own profile back (Proxy, LT and 422 -> 422 HQ), as
  a finishing editor expects of a render of a ProRes master; its frames fit that profile's
  budget already, and the probe, which counts the source's own quantisation as detail, would
  overstate what they need (a clean 422 HQ test clip read short of 422 HQ).

Patch output (alpha) and non-ProRes outputs are not probed: prores_ks gives an alpha file twenty
times the budget per macroblock (the 4444 patch is coded at its finest quantiser), and H.264, PNG
and EXR have no per-frame cap. The probe writes nothing to disk. In a run its frames come from the
analysis pass as it decodes them (CodecProbe), so its cost is the coding of each once or twice
(0.13 s of CPU on the selfie, 0.03 s on talk_a); standalone, or after a cached analysis, it
decodes them itself (2.3 s of CPU on the selfie). Its seconds are in the report.
"""
from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass, field
from fractions import Fraction

import av
import numpy as np

from . import colour
from .decode import read_frame, read_frames
from .encode import CODECS, to_output_format
from .probe import VideoInfo

LADDER = ("prores_hq", "prores_4444", "prores_4444xq")
PROBE_FRAMES = 3
# A frame is at a profile's cap when this share of the bits it takes at the finest quantiser
# does not fit its rows' budgets (see the module docstring for the measurements behind 0.005).
SHORTFALL = 0.005

# prores_ks's row budget, from FFmpeg's libavcodec/proresenc_kostya.c (facts, not its code): bits
# per macroblock by profile for frames of at most 1620, 2700 and 6075 macroblocks, and above.
_MB_TIERS = (1620, 2700, 6075)
_BITS_PER_MB = {"3": (1566, 1216, 1070, 950), "4": (2350, 1828, 1600, 1425),
                "5": (3525, 2742, 2400, 2137)}
_FINEST_QUANT = 1      # 422 HQ, 4444 and XQ code quantisers 1..6 before a slice overflows
# Probe frames further apart than this are each sought; nearer, decoded in one pass.
SEQUENTIAL_SPAN = 250
# QuickTime tags of the ProRes profiles the ladder holds (4444 and XQ keep their own).
_PRORES_TAGS = {"ap4h": "prores_4444", "ap4x": "prores_4444xq"}
_STILL_CODECS = {"png", "tiff", "dpx", "exr", "bmp", "jpeg2000", "webp", "mjpeg"}


@dataclass
class CodecChoice:
    """The output codec and why. `probe`: what the probe measured (None when none ran)."""
    codec: str
    reason: str
    automatic: bool
    probe: dict | None = field(default=None)

    def to_dict(self) -> dict:
        return {"codec": self.codec, "automatic": self.automatic, "reason": self.reason,
                "probe": self.probe}


def codec_line(choice: dict) -> str:
    """The one line the CLI prints about a choice (CodecChoice.to_dict(), as the report has it)."""
    tail = "; name --codec to choose" if choice.get("automatic") else ""
    return f"output codec {choice['codec']}: {choice['reason']}{tail}"


def bits_per_macroblock(profile: str, width: int, height: int) -> int:
    """prores_ks's budget per 16x16 macroblock for this ProRes profile (3 HQ, 4 4444, 5 XQ) and
    progressive frame size, without alpha."""
    mbs = -(-width // 16) * -(-height // 16)
    tier = next((i for i, limit in enumerate(_MB_TIERS) if mbs <= limit), len(_MB_TIERS))
    return _BITS_PER_MB[profile][tier]


def row_fill(packet: bytes, width: int, height: int, profile: str) -> tuple[np.ndarray, np.ndarray]:
    """(each macroblock row's coded bits over its budget, each slice's quantiser as rows x
    slices) of one progressive ProRes frame as prores_ks writes it (no alpha)."""
    b = bytes(packet)
    if len(b) < 20 or b[4:8] != b"icpf":
        raise ValueError("the ProRes probe frame is not a ProRes frame (no icpf atom)")
    pic = 8 + int.from_bytes(b[8:10], "big")           # after the frame header
    pic_hdr = b[pic] >> 3
    n_slices = int.from_bytes(b[pic + 5:pic + 7], "big")
    mbs_per_slice = 1 << (b[pic + 7] >> 4)
    sizes = np.frombuffer(b, ">u2", n_slices, pic + pic_hdr).astype(np.int64)
    mb_w, mb_h = -(-width // 16), -(-height // 16)
    per_row = mb_w // mbs_per_slice + bin(mb_w % mbs_per_slice).count("1")
    if per_row * mb_h != n_slices:
        raise ValueError(f"the ProRes probe frame has {n_slices} slices, not the {per_row * mb_h} "
                         f"of a progressive {width}x{height} frame")
    starts = pic + pic_hdr + 2 * n_slices + np.concatenate([[0], np.cumsum(sizes)[:-1]])
    if starts[-1] + sizes[-1] > len(b):
        raise ValueError("the ProRes probe frame is shorter than its slice table says")
    arr = np.frombuffer(b, np.uint8)
    head = arr[starts] >> 3                             # each slice's header bytes
    quant = arr[starts + 1].reshape(mb_h, per_row)
    row_bits = ((sizes - head) * 8).reshape(mb_h, per_row).sum(axis=1)
    return row_bits / (mb_w * bits_per_macroblock(profile, width, height)), quant


def shortfall(finest: bytes, width: int, height: int, profile: str) -> float:
    """Share of a frame's bits at the finest quantiser (`finest`: the frame coded with the
    quantiser forced to 1) that `profile`'s row budgets cannot hold: the detail prores_ks must
    quantise away when it codes the frame at that profile."""
    need, _ = row_fill(finest, width, height, profile)
    return float(np.maximum(need - 1.0, 0.0).sum() / max(need.sum(), 1e-9))


def probe_indices(lo: int, hi: int, k: int = PROBE_FRAMES) -> list[int]:
    """k frames spread over lo..hi (the middles of k equal parts), fewer in a shorter range."""
    n = hi - lo + 1
    k = max(1, min(k, n))
    return sorted({lo + int((2 * i + 1) * n // (2 * k)) for i in range(k)})


def probe_frames(info: VideoInfo, idx: list[int]):
    """The frames idx of the source: one seek each where every frame is a picture of its own
    (intra-only codecs, image sequences), else one pass over their span when it is short (a seek
    into long-GOP H.264 decodes from its keyframe anyway: three seeks into the hard set's selfie
    cost 2.2 s, one pass over frames 0-124 1.7 s)."""
    try:
        intra = av.codec.Codec(info.codec, "r").intra_only
    except (ValueError, TypeError, av.error.FFmpegError):
        intra = False
    if intra or info.codec in _STILL_CODECS or idx[-1] - idx[0] > SEQUENTIAL_SPAN:
        return [read_frame(info.path, i, info=info) for i in idx]
    want = set(idx)
    return [f for f in read_frames(info.path, idx[0], idx[-1], info=info) if f.index in want]


def code_frames(frames, codec: str, width: int, height: int, matrix: str, rng: str,
                finest: bool = False) -> list[bytes]:
    """Each decoded frame coded alone, in memory, as the writer would code it in `codec`, or
    with `finest` at quantiser 1 throughout (what the frame takes to keep all the detail the
    profile's matrix can)."""
    spec = CODECS[codec]
    cc = av.CodecContext.create(spec.encoder, "w")
    cc.width, cc.height, cc.pix_fmt = width, height, spec.pix_fmt
    cc.time_base = Fraction(1, 25)
    cc.options = dict(spec.options)
    if finest:
        cc.global_quality = _FINEST_QUANT      # PyAV scales it to FFmpeg's lambda (ffmpeg -q:v 1)
    out = []
    for i, fr in enumerate(frames):
        f = to_output_format(fr.av_frame, spec.pix_fmt, matrix, rng)
        f.pts, f.pict_type = i, 0
        out += [bytes(p) for p in cc.encode(f)]
    out += [bytes(p) for p in cc.encode(None)]
    return out


def _chroma_subsampled(pix_fmt: str) -> bool:
    """True for 4:2:0, 4:2:2 and the like; False for 4:4:4, RGB and grey."""
    f = av.VideoFormat(pix_fmt, 64, 64)
    return len(f.components) > 1 and not f.is_rgb and f.components[1].width < f.components[0].width


def choose_codec(named: str | None, default: str, mode: str, info: VideoInfo, lo: int,
                 hi: int) -> CodecChoice:
    """The job's codec when it names one; else the output name's default, stepped up the ProRes
    ladder while the probe frames of info.path's frames lo..hi are at the encoder's cap (decoded
    here; CodecProbe takes them from a pass the caller makes anyway)."""
    return CodecProbe(named, default, mode, info, lo, hi).choice()


def _unprobed(named: str | None, default: str, mode: str, info: VideoInfo) -> CodecChoice | None:
    """The choice when no probe is needed: a named codec, a codec without a per-frame cap, a
    patch, a ProRes source; None when the ladder is to be climbed."""
    if named is not None:
        return CodecChoice(named, "named by the job", automatic=False)
    if default not in LADDER:
        return CodecChoice(default, "from the output name", automatic=True)
    if mode == "patch":
        return CodecChoice(default, "patch with alpha: prores_ks gives alpha files 20x the "
                           "4444 budget, far from its cap", automatic=True)
    same = _source_prores(info)
    if same is not None:
        # Its frames were coded within that profile's budget: at the finest step they read
        # short of it (the source's own quantisation is detail to the probe), while coding them
        # again at their own profile loses little. A ProRes master gets its profile back.
        return CodecChoice(same, f"{os.path.basename(info.path)} is ProRes {_name(same)}: the "
                                 f"render keeps its profile (at least 422 HQ)", automatic=True)
    return None


class CodecProbe:
    """choose_codec's choice, with its probe frames taken from a decode pass the caller makes
    anyway (the run's analysis): the separate decode to reach them cost 0.09-2.2 s per hard-set
    clip (2 s of CPU on the selfie, 105 long-GOP frames) before any work began.

    `probe(frame)` for the pass's frames in order (lipflap.media.decode.Frame, from any one
    thread): it keeps the probe frames and, at the last of them, codes and measures them in a
    thread of its own, off the pass's chain. `choice()` waits for that and returns the
    CodecChoice; when no pass fed it (the analysis came from the cache), it probes with a decode
    of its own, which `start_own()` begins early in a thread. The frames and the rule are
    choose_codec's either way, so is the choice."""

    def __init__(self, named: str | None, default: str, mode: str, info: VideoInfo, lo: int,
                 hi: int):
        self.info = info
        self._choice = _unprobed(named, default, mode, info)
        self.frames = [] if self._choice is not None else probe_indices(lo, hi)
        self._got: dict[int, object] = {}
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None

    @property
    def needs_frames(self) -> bool:
        return self._choice is None and self._thread is None

    def probe(self, frame) -> None:
        if frame.index not in self.frames or not self.needs_frames:
            return
        # The picture only: the pass's RGB copy of it (frame.image) is not held.
        self._got[frame.index] = _Picture(frame.index, frame.av_frame)
        if len(self._got) == len(self.frames):
            frames, self._got = [self._got[i] for i in self.frames], {}
            self._start(lambda: _climb(self.info, self.frames, frames, "analysis pass"))

    def start_own(self) -> None:
        """No pass will feed the probe (or not all of it): decode its frames in a thread now."""
        if self.needs_frames:
            self._got = {}
            self._start(lambda: _climb(self.info, self.frames, None, "own decode"))

    def choice(self) -> CodecChoice:
        if self._choice is None:
            if self._thread is None:
                self._choice = _climb(self.info, self.frames, None, "own decode")
            else:
                self._thread.join()
                if self._error is not None:
                    raise self._error
        return self._choice

    def _start(self, measure) -> None:
        def run():
            try:
                self._choice = measure()
            except BaseException as e:  # noqa: BLE001 - raised again by choice()
                self._error = e
        self._thread = threading.Thread(target=run, daemon=True, name="lipflap-prores-probe")
        self._thread.start()


@dataclass
class _Picture:
    index: int
    av_frame: object


def _source_prores(info: VideoInfo) -> str | None:
    """The ladder profile matching a ProRes source's own (Proxy, LT and 422 -> 422 HQ), or None
    for a source in another codec."""
    if info.codec != "prores":
        return None
    try:
        with av.open(info.path) as c:
            tag = c.streams.video[0].codec_tag
    except (av.error.FFmpegError, IndexError, OSError):
        return None
    return _PRORES_TAGS.get(tag, "prores_hq")


def _climb(info: VideoInfo, idx: list[int], frames, source: str) -> CodecChoice:
    """The ladder climbed on the probe frames idx (`frames`, or decoded here when None); the
    probe's wall and CPU seconds are its own (with a pass's frames, the coding only)."""
    t0, c0 = time.perf_counter(), time.thread_time()
    clip = os.path.basename(info.path)
    start = 0 if _chroma_subsampled(info.pix_fmt) else 1
    if frames is None:
        frames = probe_frames(info, idx)

    def spent() -> dict:
        # CPU: this thread's (the decoder's own threads, on an own decode, are not in it).
        return {"seconds": round(time.perf_counter() - t0, 3),
                "cpu_seconds": round(time.thread_time() - c0, 3), "frames_from": source}
    try:
        profiles, why = _measure(frames, info, LADDER[start:], clip)
    except (ValueError, av.error.FFmpegError) as e:
        # Not the source's fault (a decode error has been raised above): keep the default.
        reason = f"the probe could not measure {clip} ({e}), so {_name(LADDER[start])} is kept"
        return CodecChoice(LADDER[start], reason, automatic=True,
                           probe={"frames": idx, "profiles": [], "error": str(e), **spent()})
    chosen = profiles[-1]["codec"]
    if why is None:
        reason = (f"{_name(chosen)} holds {clip}'s detail (its data cap reached on "
                  f"{profiles[-1]['frames_at_cap']} of {len(frames)} probe frames)"
                  + ("" if start == 0 else "; the source is 4:4:4"))
    elif 2 * profiles[-1]["frames_at_cap"] > len(frames):
        reason = f"{why}; 4444 XQ is ProRes's largest data rate"
    else:
        reason = why
    return CodecChoice(chosen, reason, automatic=True,
                       probe={"frames": idx, "profiles": profiles, **spent()})


def _measure(frames, info: VideoInfo, ladder, clip: str) -> tuple[list[dict], str | None]:
    """Each profile of `ladder` tried in turn until most probe frames fit it: what each
    measured, and the sentence naming the last profile left (None when the first fits)."""
    yuv = not av.VideoFormat(info.pix_fmt).is_rgb
    matrix = colour.effective_matrix(info.colorspace if yuv else None, info.height)
    finest: dict[str, list[bytes]] = {}     # by pixel format: 4444 and XQ share one coding
    profiles, why = [], None
    for codec in ladder:
        spec = CODECS[codec]
        if spec.pix_fmt not in finest:
            rng = colour.effective_range(info.color_range if yuv else None, spec.pix_fmt)
            finest[spec.pix_fmt] = code_frames(frames, codec, info.width, info.height, matrix,
                                               rng, finest=True)
        short = [shortfall(p, info.width, info.height, spec.options["profile"])
                 for p in finest[spec.pix_fmt]]
        capped = sum(s >= SHORTFALL for s in short)
        profiles.append({"codec": codec, "frames_at_cap": capped,
                         "shortfall": [round(s, 4) for s in short]})
        if 2 * capped <= len(frames):
            break
        why = (f"{_name(codec)} reached its data cap on {capped} of {len(frames)} probe frames "
               f"of {clip}")
    return profiles, why


def _name(codec: str) -> str:
    return {"prores_hq": "422 HQ", "prores_4444": "4444", "prores_4444xq": "4444 XQ"}[codec]
