"""Stage 5, plan: per shot (a hard cut starts a new one) the mouth model, the exemplar library and
the path through it; then which frames are rendered, and the flagged ranges with what was done.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..contract.jobspec import Job
from ..face.result import ShotAnalysis
from ..media.memory import release as release_memory
from ..render.pipeline import RenderPlan, plan_render
from ..provenance.disclosure import ranges
from .inputs import Inputs


@dataclass
class ShotPlans:
    plans: list[tuple[int, RenderPlan]]     # (offset of the shot's first frame in the range, plan)
    landmarks: list                         # per rendered frame: the analysis's (478, 2) or None
    active: np.ndarray                      # (n,) bool: the frame gets a synthesised lower face
    flagged: list[dict] = field(default_factory=list)   # the report's flagged_ranges, unsorted
    warnings: list[str] = field(default_factory=list)


def shots(analysis: ShotAnalysis, lo: int, hi: int) -> list[tuple[int, int]]:
    """File-index spans [a, b] of the shots inside lo..hi (a cut starts a new shot)."""
    starts = sorted({lo, *[c for c in analysis.cuts if lo < c <= hi]})
    return [(a, (starts[k + 1] - 1) if k + 1 < len(starts) else hi) for k, a in enumerate(starts)]


def plan_each_shot(analysis: ShotAnalysis, lms: list, usable: np.ndarray, params: np.ndarray,
                   lo: int, hi: int, strength) -> ShotPlans:
    """One render plan per shot in lo..hi, and which frames they redraw."""
    plans: list[tuple[int, RenderPlan]] = []
    for a, b in shots(analysis, lo, hi):
        sl = slice(a - lo, b - lo + 1)
        plans.append((a - lo, plan_render(lms[sl], usable[sl], params[sl], strength)))
    release_memory()
    active = np.zeros(hi - lo + 1, bool)
    for off, p in plans:
        active[off:off + p.n] = p.active
    return ShotPlans(plans=plans, landmarks=lms, active=active)


def plan_shots(job: Job, inputs: Inputs, analysis: ShotAnalysis, params: np.ndarray,
               progress) -> ShotPlans:
    lo, hi = inputs.lo, inputs.hi
    progress.start("plan", 1)
    lms = [ff.landmarks for ff in analysis.frames]
    usable = np.array([ff.usable for ff in analysis.frames])
    out = plan_each_shot(analysis, lms, usable, params, lo, hi, job.strength)
    progress.set(1)
    _flag(job, inputs, analysis, out)
    return out


def _flag(job: Job, inputs: Inputs, analysis: ShotAnalysis, sp: ShotPlans) -> None:
    """The flagged ranges, each with what the render did there; frames the dub does not reach
    are flagged too, so hosts mark them like any other."""
    lo, hi, active = inputs.lo, inputs.hi, sp.active
    flagged = [dict(r) for r in analysis.flagged_ranges()] + inputs.no_dub
    for r in flagged:
        span = active[r["start"] - lo:r["end"] - lo + 1]
        r["action"] = ("rendered" if span.all() else "passed_through" if not span.any()
                       else "partly_passed_through")
    if not active.any():
        sp.warnings.append(f"no usable face in frames {lo}-{hi} of {job.video}; the output is the "
                           f"input unchanged.")
    else:
        # Frames passed through that the analysis did not flag (too few to learn from).
        unflagged = ~active
        for r in flagged:
            unflagged[r["start"] - lo:r["end"] - lo + 1] = False
        for a, b in ranges(unflagged, lo):
            flagged.append({"start": a, "end": b, "reason": "too_few_face_frames" if job.strength > 0
                            else "strength_0", "action": "passed_through"})
    sp.flagged = flagged
