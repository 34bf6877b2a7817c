"""Stage 7, render and write: every frame of the range decoded again (pass 3), the lower face
synthesised where the plan says so, and the result encoded with the dub muxed beside it.

The output is written under a temporary name and renamed when complete (VideoWriter); any failure
aborts the writer and leaves no finished-looking file.
"""
from __future__ import annotations

from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from ..contract.jobspec import Job
from ..media.audio import told_elsewhere
from ..media.audio_stream import AudioReader
from ..media.decode import read_frames
from ..media.encode import VideoWriter
from ..render.pipeline import render_frame
from .inputs import Inputs
from .library import Libraries
from .plan import ShotPlans

AUDIO_RATE = 48000


@dataclass
class Written:
    output: str                     # the finished file or sequence folder
    frames_rendered: int


def render_and_write(job: Job, inputs: Inputs, sp: ShotPlans, lib: Libraries, progress,
                     disclosure=None, qc_sampler=None) -> Written:
    """`disclosure` (lipflap.provenance.DisclosureWriter): the container tag it gives is written, and
    its Content Credential is signed into the finished output before the rename. `qc_sampler`:
    the quick QC's lipflap.qc.pixels.OutputSampler, fed each frame's source and patch as it is
    synthesised (it re-tracks the output's pixels of a subsample)."""
    info, lo, n, mode = inputs.info, inputs.lo, inputs.n, inputs.mode
    plans, active, libs, looks = sp.plans, sp.active, lib.libs, lib.looks
    audio = None
    if job.audio:
        ch = 2 if inputs.dub_channels >= 2 else 1
        # Streamed beside the picture: a 10-minute dub held whole at 48 kHz is 115 MB a channel.
        # Damage in the dub is told once: by the mouth track, which reads all of it, unless the
        # track was given (--shapes) and this is the dub's one reading.
        audio = AudioReader(job.audio, AUDIO_RATE, ch, offset_s=float(inputs.dub_times[0]),
                            duration_s=n / float(inputs.fps),
                            warn=inputs.warnings.append if job.shapes else told_elsewhere)
    writer = open_writer(inputs, audio, [p for p in (job.video, job.audio) if p], disclosure)
    progress.start("render", n)
    which = np.zeros(n, int)
    for k, (off, p) in enumerate(plans):
        which[off:off + p.n] = k

    def synth(fr):
        i = fr.index - lo
        k = which[i]
        off, p = plans[k]
        patch = None
        if active[i] and looks[k] is not None:
            patch = render_frame(p, libs[k], looks[k], i - off, fr)
        if qc_sampler is not None:
            qc_sampler.add(i, fr, patch, looks[k].peak if looks[k] is not None else None,
                           sp.landmarks[i])
        return k, patch

    changed = np.zeros(n, bool)  # frames whose face was redrawn: the disclosure and the count

    def write(fr, k, patch):
        changed[fr.index - lo] = patch is not None
        if mode == "patch":
            writer.write(patch_frame(patch, *info.shown_size, looks[k]))
        elif patch is None:
            writer.write_frame(fr)
        else:
            writer.write_composite(fr, patch.rgb / looks[k].peak, patch.alpha, patch.x0, patch.y0)

    try:
        # The quick QC's held-back re-tracks run while the output is signed (OutputSampler).
        tail = qc_sampler.release if qc_sampler is not None else None
        final = stream_frames(read_frames(job.video, lo, inputs.hi, info=info), synth,
                              lambda fr, got: write(fr, *got), writer, progress,
                              lambda: disclosure.close(writer, changed, signing_starts=tail)
                              if disclosure else _closed(writer, tail))
    finally:
        if audio is not None:
            audio.close()
    return Written(output=final, frames_rendered=int(changed.sum()))


def _closed(writer: VideoWriter, tail) -> str:
    """Finish `writer` (no credential to sign), `tail()` first when given."""
    if tail is not None:
        tail()
    return writer.close()


def open_writer(inputs: Inputs, audio, sources: list[str], disclosure) -> VideoWriter:
    """The output's writer, the dub streamed beside the picture and the disclosure's container
    tags written; `sources` are hashed for the credential. The audio is closed if it fails."""
    info = inputs.info
    try:
        return VideoWriter(inputs.out_path, codec=inputs.codec, fps=inputs.fps, width=info.width,
                           height=info.height, like=info, first_frame_number=inputs.lo,
                           alpha=(inputs.mode == "patch"), audio=audio, inputs=sources,
                           metadata=disclosure.container_tags if disclosure else None)
    except BaseException:
        if audio is not None:
            audio.close()
        raise


def stream_frames(frames, synth, write, writer, progress, close):
    """Decode, synthesise and encode at once: `synth(frame)` runs one or two frames ahead in a
    worker thread while this thread decodes and encodes (OpenCV, numpy and the encoders release
    the GIL, so the stages overlap); `write(frame, synth's result)` takes each frame in order.
    Returns `close()`; on any failure the writer is aborted (no file that looks finished)."""
    pending: deque = deque()
    pool = ThreadPoolExecutor(max_workers=1)

    def finish_one():
        fr, fut = pending.popleft()
        write(fr, fut.result())
        progress.advance(1)

    try:
        for fr in frames:
            pending.append((fr, pool.submit(synth, fr)))
            while len(pending) > 2:
                finish_one()
        while pending:
            finish_one()
        return close()
    except BaseException:
        for _, fut in pending:
            fut.cancel()
        writer.abort()
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def patch_frame(patch, width: int, height: int, look) -> np.ndarray:
    """Full-size RGBA, transparent except the lower-face patch."""
    img = np.zeros((height, width, 4), np.uint16)
    if patch is None:
        return img
    h, w = patch.alpha.shape
    rgb = np.clip(np.rint(patch.rgb / look.peak * 65535.0), 0, 65535).astype(np.uint16)
    img[patch.y0:patch.y0 + h, patch.x0:patch.x0 + w, :3] = rgb
    img[patch.y0:patch.y0 + h, patch.x0:patch.x0 + w, 3] = np.rint(
        np.clip(patch.alpha, 0, 1) * 65535.0).astype(np.uint16)
    return img
