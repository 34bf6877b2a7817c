"""lipflap.conform: a whole cut lip-synced, from a timeline in to a timeline and an EDL out.

    plan.py      timeline -> one ClipJob per video clip under the dub (timecode arithmetic on OTIO)
    runner.py    the jobs as `lipflap run --job` processes, through the contract's engine client
    assemble.py  finished jobs (or a host's placements) -> a render track, markers, CMX 3600 EDLs
    joblist.py   the `.lipflap` job list file (a cut and its jobs in one JSON file)
    cut.py       `conform()`: read the cut, plan, run, assemble, rewrite after every clip

The OpenTimelineIO plugin (`lipflap_otio`: adapter, media linker) is built on this package;
nothing here imports it.
"""
from .cut import ConformResult, conform, probe_media, read_timeline

__all__ = ["ConformResult", "conform", "probe_media", "read_timeline"]
