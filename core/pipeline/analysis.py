"""Stage 2, picture analysis: faces, landmarks, flags and cuts over the rendered range.

Decode pass 1 (cached by content: a second run of the same range reads the cache).
"""
from __future__ import annotations

from ..contract.errors import JobError
from ..contract.jobspec import Job
from ..face.analyze import analyze_video
from ..face.result import ShotAnalysis
from ..media.memory import release as release_memory
from ..qc.shape import range_points
from .inputs import Inputs


def analyse(job: Job, inputs: Inputs, progress, keep=None,
            seen=None) -> tuple[ShotAnalysis, list]:
    """The chosen face's smoothed landmarks per frame, and per frame the few unsmoothed points
    the quick QC reads the actor's lip range from (qc.shape.range_points; None where no face);
    a face id the range lacks is refused. `keep`: lipflap.pipeline.kept.LowerFaces, fed the
    pass's frames (nothing on a cache hit); `seen`: the still looks it took, as
    lipflap.face.analyze.analyze_video's."""
    lo, hi = inputs.lo, inputs.hi
    analysis = analyze_video(job.video, lo, hi, face=job.face, progress=progress,
                             info=inputs.info, keep=keep, seen=seen)
    raw_points = drop_raw_landmarks(analysis.frames)
    release_memory()
    if str(job.face).strip().isdigit() and int(job.face) not in {int(k) for k in analysis.faces}:
        # A face id that no shot of the range has is a wrong choice, not a faceless shot.
        found = ", ".join(str(k) for k in sorted(int(k) for k in analysis.faces)) or "none"
        raise JobError(f"{job.video}: --face {job.face} is not among the faces found in frames "
                       f"{lo}-{hi} (ids: {found}; see `lipflap analyze`); give one of them or auto.")
    return analysis, raw_points


def drop_raw_landmarks(frames) -> list:
    """Drop each FrameFace's unsmoothed landmarks and return the few the quick QC reads the
    actor's lip range from (qc.shape.range_points; None where none). The render reads the
    smoothed landmarks only; the raw ones (kept in the cache for QC and `lipflap analyze`) would
    double what a long shot holds through the render."""
    kept = []
    for ff in frames:
        kept.append(range_points(ff.raw_landmarks))
        ff.raw_landmarks = None
    return kept
