"""What a render was made from: the defaults `lipflap qc` takes from the render's report or job.

A render of frames 200-449 of a long source must be compared with those frames, not with the whole
file (which read as "frames dropped" for every source frame the render never covered). The render's
own report says exactly which frames it holds (range first..last, handles included), where its
frame 0 sits in the dub, the source and the dub; a job file says the same before handles are
clamped to the file. Options given on the command line always win.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, fields

from ..contract.errors import LipflapError
from ..contract.naming import report_path
from ..contract.rates import parse_rate
from ..contract.report import read_report


@dataclass
class RenderContext:
    source: str | None = None
    source_start: int | None = None     # source frame shown by the video's frame 0
    source_end: int | None = None       # last source frame rendered (inclusive)
    audio: str | None = None
    audio_offset_s: float | None = None  # where the video's frame 0 sits in the dub
    text: str | None = None
    language: str | None = None
    shapes: str | None = None
    origin: str | None = None           # the file these came from

    def merged_under(self, other: "RenderContext") -> "RenderContext":
        """This context with its gaps filled from `other`."""
        return RenderContext(**{f.name: getattr(self, f.name) if getattr(self, f.name) is not None
                                else getattr(other, f.name) for f in fields(self)})


def _same(a: str | None, b: str | None) -> bool:
    if not a or not b:
        return False
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.abspath(a) == os.path.abspath(b)


def from_report(path: str, video: str | None = None, *, strict: bool = True) -> RenderContext | None:
    """The context in a `lipflap run` report (read by the contract's one reader). With `video`, a
    report written for another output is an error when `strict` (it was named), else ignored
    (None)."""
    r = read_report(path)
    if not r.from_a_run:
        if strict:
            raise LipflapError(f"{path} is not a `lipflap run` report (no range or input); give the "
                               f"file `lipflap run --report` wrote.")
        return None
    if video is not None and r.output and not _same(r.output, video):
        if strict:
            raise LipflapError(f"{path} is the report of {r.output}, not of {video}; give the "
                               f"report written with this render.")
        return None
    first, last, start = r.range.first, r.range.last, r.range.start
    offset = None
    dub = r.extra.get("dub") if isinstance(r.extra.get("dub"), dict) else {}
    if dub.get("offset_s") is not None:
        fps = parse_rate(r.fps) if r.fps else None
        # the dub offset is that of frame `start`; the video's frame 0 is `first` (handles)
        offset = float(dub["offset_s"]) + ((first - start) / float(fps) if fps else 0.0)
    mt = r.extra.get("mouth_track") if isinstance(r.extra.get("mouth_track"), dict) else {}
    audio = r.extra.get("audio")
    return RenderContext(source=r.input, source_start=first, source_end=last,
                         audio=audio if isinstance(audio, str) else None, audio_offset_s=offset,
                         language=mt.get("language"), shapes=mt.get("shapes_file"),
                         text=mt.get("text") if isinstance(mt.get("text"), str) else None,
                         origin=os.path.abspath(path))


def from_job(path: str) -> RenderContext:
    """The context in a job file (docs/job.md): its range with handles, clamped to the source."""
    from ..contract.jobspec import load_job, resolve_range, with_handles
    job = load_job(path)
    ctx = RenderContext(source=job.video, audio=job.audio, text=job.text, language=job.language,
                        shapes=job.shapes, origin=os.path.abspath(path))
    if job.transcript:
        try:
            with open(job.transcript, encoding="utf-8") as f:
                ctx.text = f.read()
        except (OSError, UnicodeDecodeError) as e:
            raise LipflapError(f"{job.transcript}: cannot read the job's transcript ({e}); give a "
                               f"UTF-8 text file.") from None
    if job.video and os.path.isfile(job.video):
        from ..media.probe import probe
        info = probe(job.video)
        start, end = resolve_range(job, info)
        lo, hi = with_handles(job, info, start, end)
        ctx.source_start, ctx.source_end = lo, hi
        ctx.audio_offset_s = float(job.audio_offset_s) + (lo - start) / float(info.fps)
    return ctx


def report_beside(video: str) -> str | None:
    """A report `lipflap run` may have written beside the video (lipflap.contract.naming.
    report_path: the same name with .json)."""
    cand = report_path(video)
    return cand if os.path.isfile(cand) else None


def render_context(video: str, report: str | None = None, job: str | None = None) -> RenderContext:
    """The render's context from its report (named, or found beside the video and naming it as
    its output) and/or its job; the report wins where both say something."""
    ctx = RenderContext()
    if report:
        ctx = from_report(report, video, strict=True)
    else:
        found = report_beside(video)
        if found:
            try:
                ctx = from_report(found, video, strict=False) or RenderContext()
            except LipflapError:
                ctx = RenderContext()   # an unrelated JSON of the same name is not ours to read
    if job:
        ctx = ctx.merged_under(from_job(job))
    return ctx
