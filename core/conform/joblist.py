"""The `.lipflap` job list: a cut's lip-sync jobs, and the cut itself, in one JSON file.

    {"lipflap_joblist": 1, "language": "es", "dub": "dub_es.wav",
     "timeline": {...the source timeline as OTIO JSON...},
     "jobs": [{"key": "A001_C003_lipflap_es_v001", "clip_name": ..., "record_in_tc": ...,
               "job": {...a job (lipflap.contract.jobspec) for `lipflap run --job`...},
               "status": "pending", "error": null, "render": ..., "report": ...}, ...],
     "credentials": "12 renders carry a signed Content Credential (...).",   (once any is done)
     "cast": {"file": "cast.json", "characters": [...], "voice_tracks": {...},
              "not_rendered": [...]}}                     (with --cast; docs/conform.md)

Each entry's "job" is a complete job for `lipflap run --job`; entries whose clip cannot be
rendered (missing media, a speed change) have "job": null and say why in "error". A job is
finished when its render exists on disk, so a job list stays valid however its jobs were run.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass

import opentimelineio as otio

from ..contract.files import atomic_write
from .plan import ClipJob

FORMAT_KEY = "lipflap_joblist"
FORMAT_VERSION = 1


@dataclass
class JobList:
    timeline: otio.schema.Timeline
    jobs: list[ClipJob]
    language: str | None
    dub_label: str | None
    source_format: str | None = None  # ".aaf", ".xml", ".fcpxml": the cut is written back so
    cast: dict | None = None          # the cast file, its voice tracks, clips left unrendered


def to_string(timeline: otio.schema.Timeline, jobs: list[ClipJob], *, language: str | None,
              dub_label: str | None, source_format: str | None = None,
              credentials: str | None = None, cast: dict | None = None) -> str:
    data = {FORMAT_KEY: FORMAT_VERSION, "language": language, "dub": dub_label,
            "source_format": source_format,
            "timeline": json.loads(otio.adapters.write_to_string(timeline, "otio_json")),
            "jobs": [cj.to_dict() for cj in jobs]}
    if cast:
        # The scene's cast (lipflap.conform.voicing); each job's own faces are under its "cast".
        data["cast"] = cast
    if credentials:
        # What Content Credentials the finished renders carry (lipflap.contract.report).
        data["credentials"] = credentials
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def from_string(text: str, where: str = "job list") -> JobList:
    try:
        data = json.loads(text)
    except ValueError as e:
        raise ValueError(f"{where}: not a lipflap job list ({e}).") from None
    if not isinstance(data, dict) or data.get(FORMAT_KEY) != FORMAT_VERSION:
        raise ValueError(f"{where}: not a lipflap job list (no \"{FORMAT_KEY}\": {FORMAT_VERSION}); "
                         f"write one with `otioconvert -i CUT -o JOBS.lipflap`.")
    tl = otio.adapters.read_from_string(json.dumps(data["timeline"]), "otio_json")
    jobs = [ClipJob.from_dict(d) for d in data.get("jobs", [])]
    return JobList(tl, jobs, data.get("language"), data.get("dub"), data.get("source_format"),
                   data.get("cast"))


def load(path: str) -> JobList:
    with open(path, encoding="utf-8") as f:
        jl = from_string(f.read(), path)
    for cj in jl.jobs:
        # Finished means rendered, however the job was run (conform, a farm, by hand).
        if cj.status == "pending" and cj.render and os.path.isfile(cj.render):
            cj.status = "done"
    return jl


def save(path: str, timeline: otio.schema.Timeline, jobs: list[ClipJob], *, language: str | None,
         dub_label: str | None, source_format: str | None = None,
         credentials: str | None = None, cast: dict | None = None) -> None:
    atomic_write(path, to_string(timeline, jobs, language=language, dub_label=dub_label,
                                 source_format=source_format, credentials=credentials, cast=cast))
