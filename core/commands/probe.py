"""`lipflap probe VIDEO`: what the engine sees in a video file, as JSON on stdout."""
from __future__ import annotations

import json


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "probe", help="print a video's size, exact rate, frame count, timecode, colour tags and "
                      "audio streams as JSON",
        description="Print what lipflap reads from VIDEO (exact frame rate and count, start "
                    "timecode, colour tags, audio streams) as JSON on stdout.")
    p.add_argument("video", metavar="VIDEO", help="the video file to inspect")
    p.set_defaults(func=run)


def run(args, progress) -> int:
    from ..media.probe import probe  # imported here so `lipflap --help` stays fast
    info = probe(args.video)
    print(json.dumps(info.to_dict(), indent=2))
    return 0
