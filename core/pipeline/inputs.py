"""Stage 1, resolve inputs: probe the source, fix the range, the output and where the dub sits.

Nothing is decoded here beyond the dub's length; every mistake in the job that can be found
before the long stages is refused here, with one sentence naming the file and what to do. When the
job names no codec for a .mov, the ProRes profile is chosen on a few of the range's frames
(lipflap.media.prores_choice): `codec_probe` takes them from the analysis pass, and
settle_codec(inputs) fixes the codec before the writer opens.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field

import numpy as np

from ..contract.errors import JobError, MediaError, RangeError
from ..contract.jobspec import Job, resolve_range, with_handles
from ..contract.naming import next_version_path
from ..contract.rates import parse_rate
from ..media.audio import audio_duration
from ..media.encode import check_frame_size
from ..media.probe import VideoInfo, probe
from ..media.prores_choice import CodecProbe
from ..provenance.disclosure import ranges

# What a library folder contributes: its files with these extensions (others are not video).
VIDEO_EXTENSIONS = (".mov", ".mp4", ".m4v", ".mxf", ".avi", ".mkv", ".webm", ".mpg", ".mpeg",
                    ".mts", ".m2ts", ".y4m")

# Codecs chosen from the output name when --codec is absent: (full frame, patch with alpha).
_EXT_CODEC = {".mov": ("prores_hq", "prores_4444"), ".mp4": ("h264", None),
              ".png": ("png", "png"), ".exr": ("exr", "exr")}


@dataclass
class Inputs:
    """The job made concrete: what to read, which frames, where they sit in the dub, what to write."""
    info: VideoInfo
    start: int                      # the job's range, 0-based inclusive, before handles
    end: int
    lo: int                         # the rendered range, handles included
    hi: int
    out_path: str
    codec: str
    mode: str                       # "full" or "patch"
    dub_times: np.ndarray           # (n,) seconds into the dub of each rendered frame
    dub_len: float | None = None    # seconds of sound in the dub (None: no dub, an edited track)
    dub_channels: int = 1
    no_dub: list[dict] = field(default_factory=list)    # flagged ranges the dub does not reach
    library: list[str] = field(default_factory=list)    # the actor library's video files
    warnings: list[str] = field(default_factory=list)
    codec_choice: dict | None = None    # why this codec (lipflap.media.prores_choice), once settled
    codec_probe: CodecProbe | None = None   # feed it the analysis pass's frames; settle_codec

    @property
    def n(self) -> int:
        return self.hi - self.lo + 1

    @property
    def fps(self):
        return self.info.fps


def resolve_output(job: Job, info, language: str | None) -> tuple[str, str, str]:
    """(path, codec, mode) with the codec defaulted from the name and folders versioned."""
    if job.output is None or not job.output.path:
        raise JobError("no output given; use -o with a file, a folder or a %d pattern.")
    mode = job.output.mode or "full"
    codec = job.output.codec
    path = os.path.abspath(job.output.path)
    clip = os.path.splitext(os.path.basename(job.video))[0]
    folder = os.path.isdir(path) and not ("%" in os.path.basename(path) or "#" in os.path.basename(path))
    if codec is None:
        codec = (("prores_4444" if mode == "patch" else "prores_hq") if folder else
                 _codec_from_name(path, os.path.basename(path),
                                  os.path.splitext(path)[1].lower(), mode))
    # Checked for a folder too: there a codec without alpha was written without the patch's alpha.
    if mode == "patch" and codec not in ("prores_4444", "prores_4444xq", "png", "exr"):
        raise JobError(f"{path}: patch mode needs alpha; use --codec prores_4444, prores_4444xq, "
                       f"png or exr.")
    if folder:
        ext = {"png": "", "exr": ""}.get(codec, ".mp4" if codec == "h264" else ".mov")
        # png/exr: a versioned sequence folder, which the writer creates when it finishes.
        return next_version_path(path, clip, language, ext), codec, mode
    return path, codec, mode


def _codec_from_name(path: str, base: str, ext: str, mode: str) -> str:
    if "%" in base or "#" in base:
        return "exr" if ext == ".exr" else "png"
    if ext in _EXT_CODEC:
        codec = _EXT_CODEC[ext][1 if mode == "patch" else 0]
        if codec is None:
            raise JobError(f"{path}: patch mode needs alpha, which .mp4 (H.264) cannot carry; "
                           f"write a .mov (ProRes 4444) or a PNG/EXR sequence.")
        return codec
    if ext == "" or path.endswith(os.sep):
        return "png"
    raise JobError(f"{path}: cannot tell the codec from {ext!r}; use .mov, .mp4, a folder or a "
                   f"%d pattern, or give --codec.")


def resolve_inputs(job: Job) -> Inputs:
    """Probe, range, handles, output and dub placement; refuses what cannot work."""
    warnings: list[str] = []
    if not os.path.exists(job.video):
        raise MediaError(f"{job.video}: video not found; check the path.")
    if job.audio is None and job.shapes is None:
        raise JobError("no dub given; use --audio DUB (or --shapes TRACK.json to render an edited track).")
    info = probe(job.video)
    if job.fps is not None and parse_rate(job.fps) != info.fps:
        warnings.append(f"the job says {job.fps} fps but {job.video} is {info.fps} fps; the "
                        f"file's rate is used.")
    if info.vfr:
        warnings.append(f"{job.video} has a variable frame rate: its frames are rendered one after "
                        f"another at a constant {float(info.fps):.3f} fps, so the dub drifts where "
                        f"the recorder dropped frames; convert it to a constant rate first "
                        f"(e.g. ffmpeg -i IN -fps_mode cfr OUT) if it must stay in sync.")
    start, end = resolve_range(job, info)
    if job.handles < 0:
        raise JobError(f"--handles must be 0 or more, not {job.handles}.")
    lo, hi = with_handles(job, info, start, end)
    if job.handles and (lo > start - job.handles or hi < end + job.handles):
        warnings.append(f"handles were cut to the file's ends: frames {lo}-{hi} are rendered.")
    out_path, codec, mode = resolve_output(job, info, job.language)
    check_frame_size(out_path, codec, info.width, info.height, alpha=(mode == "patch"))
    library = library_files(job.library or [])
    _refuse_overwriting_inputs(job, out_path, library)
    inputs = Inputs(info=info, start=start, end=end, lo=lo, hi=hi, out_path=out_path, codec=codec,
                    mode=mode, warnings=warnings, library=library,
                    dub_times=job.audio_offset_s + (np.arange(lo, hi + 1) - start) / float(info.fps))
    if job.audio:
        _place_dub(job, inputs)
    # No codec named: the ProRes profile that holds the source's detail, probed on a few frames
    # as the analysis pass decodes them (the check above was made for the name's default, whose
    # frame-size rule is the strictest of the ladder's: 422 HQ's even width).
    inputs.codec_probe = CodecProbe(job.output.codec, codec, mode, info, lo, hi)
    return inputs


def settle_codec(inputs: Inputs) -> None:
    """The codec the writer takes: the job's, or the probe's choice (waiting for its thread, or
    decoding the probe frames now when no analysis pass fed it: a cached analysis)."""
    choice = inputs.codec_probe.choice()
    inputs.codec, inputs.codec_choice = choice.codec, choice.to_dict()


def library_files(paths: list[str]) -> list[str]:
    """The actor library's video files: each file given, and a folder's video files (sorted);
    a missing path or a folder without video is refused."""
    out: list[str] = []
    for p in paths:
        if os.path.isdir(p):
            found = sorted(os.path.join(p, f) for f in os.listdir(p) if not f.startswith(".")
                           and os.path.splitext(f)[1].lower() in VIDEO_EXTENSIONS
                           and os.path.isfile(os.path.join(p, f)))
            if not found:
                raise MediaError(f"--library {p}: the folder holds no video files "
                                 f"({', '.join(VIDEO_EXTENSIONS)}); give a folder of the actor's "
                                 f"other footage, or the files themselves.")
            out += [os.path.abspath(f) for f in found]
        elif os.path.isfile(p):
            out.append(os.path.abspath(p))
        else:
            raise MediaError(f"--library {p}: not found; give a video file of the same actor, or "
                             f"a folder of them.")
    return list(dict.fromkeys(out))


def _refuse_overwriting_inputs(job: Job, out_path: str, library: list[str] = ()) -> None:
    for other in (job.video, job.audio, *library):
        if other and os.path.exists(out_path) and os.path.samefile(out_path, other):
            raise JobError(f"refusing to write {out_path}: it is an input of this job; choose "
                           f"another output name.")
    if job.report:
        # The report is written last, by rename: over an input or the render it would destroy it.
        rep = os.path.abspath(job.report)
        for other in (job.video, job.audio, job.transcript, job.shapes):
            if other and os.path.exists(rep) and os.path.samefile(rep, other):
                raise JobError(f"refusing to write the report over {rep}: it is an input of this "
                               f"job; choose another --report name.")
        if rep == out_path:
            raise JobError(f"--report {rep} is the output's own name; give the report a .json name "
                           f"of its own.")


def _place_dub(job: Job, inputs: Inputs) -> None:
    """The dub's length, and the frames it does not reach (they rest, flagged `no_dub`)."""
    if not os.path.exists(job.audio):
        raise MediaError(f"{job.audio}: dub not found; check the --audio path.")
    dub_len, inputs.dub_channels = audio_duration(job.audio)
    inputs.dub_len = dub_len
    times, fps, lo, hi, start = inputs.dub_times, inputs.fps, inputs.lo, inputs.hi, inputs.start
    if times[-1] + 1.0 / float(fps) <= 0 or times[0] >= dub_len:
        raise RangeError(
            f"{job.audio}: --audio-offset {job.audio_offset_s:g}s puts frame {start} at "
            f"{job.audio_offset_s:g}s of a {dub_len:.2f}s dub, so the dub lies entirely outside "
            f"frames {lo}-{hi}; give the offset of frame {start} within the dub.")
    inside = (times >= 0) & (times < dub_len)
    if not inside.all():
        outs = ranges(~inside, lo)
        inputs.warnings.append("the dub does not cover frames " + ", ".join(
            f"{a}-{b}" for a, b in outs) + "; the mouth rests there and the sound is silent.")
        inputs.no_dub = [{"start": a, "end": b, "reason": "no_dub"} for a, b in outs]

