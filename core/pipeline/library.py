"""Stage 6, exemplar library: the lower-face crops the chosen path uses, copied while the source
streams past (decode pass 2, which stops at the last exemplar), and with `--library` the clean
frames of the actor's other footage that supply the shapes a shot lacks (actor_library)."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass

import cv2
import numpy as np

from ..contract.jobspec import Job
from ..media.decode import read_frames
from ..media.prefetch import prefetched
from ..render.pipeline import LibraryBuilder
from . import actor_library
from .kept import NotKept
from .inputs import Inputs
from .plan import ShotPlans
from .raw_lips import raw_lip_contours

# Threads the kept lower faces are cut and scored on (the machine's two cores; the stage is on
# the run's one chain, between the plan and the render).
FEED_THREADS = 2


@dataclass
class Libraries:
    libs: list[dict]                # per shot: range frame -> exemplar crop
    looks: list                     # per shot: the mouth interior's colours (Look), None if none


def build_libraries(job: Job, inputs: Inputs, sp: ShotPlans, progress, kept=None,
                    seen: np.ndarray | None = None, raw_points: list | None = None) -> Libraries:
    """`kept`: the analysis pass's lower faces (lipflap.pipeline.kept.LowerFaces); when they hold
    every crop the library needs, the shot is not decoded again. `seen`: per range frame the
    opening the pass's still look saw (ShotAnalysis.seen_array, fresh or from the cache alike).
    `raw_points`: per range frame the analysis' few unsmoothed points (qc.shape.range_points,
    as pipeline.analysis gives them), from which each exemplar's lip_shift is read."""
    plans, lo = sp.plans, inputs.lo
    if not any(p.active.any() for _, p in plans):
        return Libraries(libs=[{} for _ in plans], looks=[None for _ in plans])
    # Every library frame is a candidate until its pixels are scored (LibraryBuilder.finish).
    last = max(int(p.lib_frames.max()) + off for off, p in plans if p.active.any())
    progress.start("library", last + 1)
    made = _makers(plans, seen, raw_lip_contours(raw_points))
    builders = _from_kept(made, lo, kept) if kept is not None and kept.usable else None
    if builders is None:
        builders = _decoded(job, inputs, made, last, progress)
    else:
        progress.set(last + 1)
    footage = []
    if inputs.library:
        footage, warnings = actor_library.load_footage(inputs.library, job.video, inputs.lo,
                                                       inputs.hi, sp.landmarks, progress)
        sp.warnings.extend(warnings)
    libs, looks = [], []
    for b in builders:
        sources: list = []
        lib, look = b.finish(lambda bb: sources.extend(actor_library.borrow(bb, footage)))
        actor_library.mark(b.plan, sources)
        libs.append(lib)
        looks.append(look)
    return Libraries(libs=libs, looks=looks)


def _makers(plans, seen, raw_lips=None) -> list:
    """(offset, plan, make) per shot: make() gives a fresh LibraryBuilder with the shot's part
    of the analysis' still looks and unsmoothed lip contours."""
    def maker(off, plan):
        return lambda: LibraryBuilder(plan, None if seen is None else seen[off:off + plan.n],
                                      None if raw_lips is None else raw_lips[off:off + plan.n])
    return [(off, p, maker(off, p)) for off, p in plans]


def _from_kept(made, lo: int, kept) -> list | None:
    """Builders fed from the kept lower faces, each in frame order as the decode pass feeds
    them; None when a crop the library needs was not kept."""
    plans = [(off, p) for off, p, _ in made]
    builders = [make() for _, _, make in made]
    wanted = {lo + off + f for (off, _), b in zip(plans, builders) for f in b.wanted}
    for index in [i for i in kept.boxes if i not in wanted]:
        kept.release(index)

    def feed_one(job):
        b, off, f = job
        b.feed(f, kept.frame(lo + off + f))
        kept.release(lo + off + f)      # copied: its pages go back at once

    jobs = [(b, off, f) for (off, _), b in zip(plans, builders) for f in sorted(b.wanted)]
    # Each frame is cut and scored on its own (frame_score.measure: numpy and OpenCV, which
    # free the GIL), so two threads share them; the builders keep them in frame order.
    pool = ThreadPoolExecutor(max_workers=FEED_THREADS, thread_name_prefix="lipflap-library")
    try:
        with opencv_on_calling_threads(), pool:
            for _ in pool.map(feed_one, jobs):
                pass
    except NotKept:
        return None
    return builders


@contextmanager
def opencv_on_calling_threads():
    """OpenCV's calls made on the threads that call them, not split over its worker pool, for
    the while: the feed's two threads already keep both cores busy, and splitting each crop's
    small calls (colour conversions, Laplacian, blurs, remaps) over the pool as well only adds its
    hand-offs: the bench's feed replayed on two threads took 0.25-0.31 s of process CPU with the
    pool (its worker 0.05-0.07 s of it) against 0.20-0.29 s without (docs/speed.md, eleventh
    round). OpenCV splits by rows, so the pixels are the same either way. The pool's size is
    restored after."""
    n = cv2.getNumThreads()
    cv2.setNumThreads(1)
    try:
        yield
    finally:
        cv2.setNumThreads(n)


def _decoded(job: Job, inputs: Inputs, made, last: int, progress) -> list:
    """Builders fed by decoding the shot again up to its last library frame (decode pass 2)."""
    lo = inputs.lo
    plans = [(off, p) for off, p, _ in made]
    builders = [make() for _, _, make in made]
    offsets = [off for off, _ in plans]
    # Decoded a few frames ahead in a thread while the last one's crops are cut and scored (the
    # pass had the second core half idle); only the crops' boxes are converted to RGB.
    for fr in prefetched(read_frames(job.video, lo, lo + last, info=inputs.info), rgb=False):
        progress.advance(1)
        i = fr.index - lo
        k = int(np.searchsorted(offsets, i, side="right") - 1)
        off = plans[k][0]
        if i - off in builders[k].wanted:
            builders[k].feed(i - off, fr)
    return builders
