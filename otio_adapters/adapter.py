"""OpenTimelineIO adapter for lipflap job lists (`.lipflap`).

Writing a timeline produces the lip-sync job list for its dialogue clips (every video clip under
the dub); reading a job list whose jobs have run gives the timeline back with the renders on a
video track above the originals, flagged ranges as markers and the `lipflap` metadata key on
each render clip:

    otioconvert -i cut.otio -o shots.lipflap -A dub_audio=dub_es.wav -A language=es
    lipflap conform shots.lipflap -o renders/        # or `lipflap run --job` per job
    otioconvert -i shots.lipflap -o cut_es.otio

Writer arguments (`-A key=value`): dub_audio (with dub_start, the record timecode of its first
sample, default the timeline's start) or dub_track (default: the one audio track named like
"dub"), language, outdir (default: beside the job list), handles (8), codec (prores_hq),
mode (full), transcripts (a file, see lipflap.contract.transcripts), face (auto).
"""
from __future__ import annotations

import logging
import os

import opentimelineio as otio

from lipflap.conform import joblist, probe_media
from lipflap.conform.assemble import assemble
from lipflap.conform.plan import PlanError, PlanOptions, plan
from lipflap.contract.transcripts import load as load_transcripts

log = logging.getLogger("lipflap_otio.adapter")


def write_to_file(input_otio, filepath, dub_audio=None, dub_track=None, dub_start=None, language=None,
                  outdir=None, handles=8, codec="prores_hq", mode="full", transcripts=None,
                  face="auto"):
    """Write the job list for the timeline's clips under the dub."""
    table = load_transcripts(str(transcripts)) if transcripts else {}
    outdir = os.path.abspath(str(outdir) if outdir else os.path.dirname(os.path.abspath(filepath)))
    opts = PlanOptions(outdir=outdir, language=language and str(language),
                       dub_audio=dub_audio and os.path.abspath(str(dub_audio)),
                       dub_track=dub_track and str(dub_track),
                       dub_start=dub_start and str(dub_start), handles=int(handles), codec=str(codec),
                       mode=str(mode), face=str(face), transcripts=table)
    try:
        jobs, _notes = plan(input_otio, opts, probe_media)
    except PlanError as e:
        raise otio.exceptions.OTIOError(f"{filepath}: {e}") from None
    label = opts.dub_audio or (f"track {opts.dub_track}" if opts.dub_track else None)
    joblist.save(filepath, input_otio, jobs, language=opts.language, dub_label=label)


def read_from_file(filepath):
    """The job list's timeline with every finished render placed above its clip."""
    jl = joblist.load(filepath)
    for cj in jl.jobs:
        cj.read_run_report(log.warning)  # once each: markers, scores and the disclosure
    tl, _bad = assemble(jl.timeline, jl.jobs, probe_media, language=jl.language, dub_label=jl.dub_label)
    return tl
