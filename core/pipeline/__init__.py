"""The single-job pipeline behind `lipflap run` (docs/job.md): one module per stage.

    run_job(job, progress) -> report dict          (lipflap.pipeline.run)

Stages, in the order the data flows, each taking and returning plain dataclasses:
inputs (probe, range, output, where the dub sits) -> analysis (decode pass 1, cached) ->
mouth (the script and the dub's speech -> a per-frame mouth-shape track, or an edited track) ->
plan (per shot: mouth model, exemplar library, Viterbi path; flagged ranges) -> library (exemplar
crops, decode pass 2) -> render (render and write, decode pass 3) -> report.
"""
from .run import run_job

__all__ = ["run_job"]
