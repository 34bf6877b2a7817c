"""`lipflap timeline`: a host's placed renders -> an OTIO timeline and a CMX 3600 EDL.

Hosts without OpenTimelineIO (Resolve's Python) describe where their renders sit in a placements
file (lipflap.contract.placements, docs/timeline.md); this writes the timeline and the EDL with the
same code `lipflap conform` writes its own (lipflap.conform.assemble).
"""
from __future__ import annotations

import argparse
import os

from ..cli import add_progress_option
from ..contract.errors import LipflapError


def register(sub) -> None:
    p = sub.add_parser(
        "timeline", help="write an OTIO timeline and a CMX 3600 EDL of placed renders",
        description="Read a placements file (renders at record positions, docs/timeline.md) and write "
                    "an OpenTimelineIO timeline with the renders on one track, their flagged ranges as "
                    "markers, and a CMX 3600 EDL of that track.")
    p.add_argument("placements", metavar="PLACEMENTS.json")
    p.add_argument("-o", "--output", required=True, metavar="CUT.otio", help="the timeline to write")
    p.add_argument("--edl", metavar="CUT.edl", help="the EDL to write (default: beside the timeline)")
    add_progress_option(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace, progress) -> int:
    from ..conform.assemble import placements_timeline, write_timeline
    from ..contract.placements import Placements
    pl = Placements.load(args.placements)
    edl = args.edl or os.path.splitext(args.output)[0] + ".edl"
    for path in (args.output, edl):
        folder = os.path.dirname(os.path.abspath(path))
        if not os.path.isdir(folder):
            raise LipflapError(f"{path}: folder {folder} does not exist; create it or choose another path.")
    try:
        tl = placements_timeline(pl, where=args.placements, warn=progress.message)
        edls = write_timeline(tl, args.output, edl)
    except OSError as e:
        raise LipflapError(f"cannot write {e.filename or args.output} ({e.strerror}); free space or "
                           f"choose a writable folder.") from None
    progress.message(f"timeline {args.output}, EDL {', '.join(edls)}.")
    progress.result({"timeline": os.path.abspath(args.output), "edl": os.path.abspath(edls[0]),
                     "edls": [os.path.abspath(e) for e in edls]})
    return 0
