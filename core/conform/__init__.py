"""lipflap.conform: a whole cut lip-synced, from a timeline in to a timeline and an EDL out.

    plan.py      timeline -> one ClipJob per video clip under the dub (timecode arithmetic on OTIO)
    runner.py    the jobs as `lipflap run --job` processes, through the contract's engine client
    assemble.py  finished jobs (or a host's placements) -> a render track, markers, CMX 3600 EDLs
    joblist.py   the `.lipflap` job list file (a cut and its jobs in one JSON file)
    cut.py       `conform()`: read the cut, plan, run, assemble, rewrite after every clip

The OpenTimelineIO plugin (`lipflap_otio`: adapter, media linker) is built on this package;
nothing here imports it.
"""
__all__ = ["ConformResult", "conform", "probe_media", "read_timeline"]


def __getattr__(name: str):
    # Loaded on first use, not on import: a Ray worker imports lipflap.conform.ray_runner for
    # each conform, and cut.py's imports (OTIO, assembly, provenance) cost it ~1.2 s measured
    # under load, once per worker process.
    if name in __all__:
        from . import cut
        return getattr(cut, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
