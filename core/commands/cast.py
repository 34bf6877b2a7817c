"""`lipflap cast`: the faces of a scene's shots grouped into identities, for a dubbing editor to name."""
from __future__ import annotations

import argparse
import os

from ..cli import add_progress_option
from ..contract.errors import LipflapError


def register(sub) -> None:
    p = sub.add_parser(
        "cast", help="group the faces of a scene's shots into characters; write a cast file and "
                     "one thumbnail per character",
        description="Find every face in SHOTS (movie files, whole, or the video clips of a cut: "
                    ".otio, .edl, .aaf, .xml, .fcpxml), group them across shots into identities "
                    "by face geometry and appearance, and write a cast file naming them PERSON_1, "
                    "PERSON_2, ... with one thumbnail each. Rename the characters in the file (the "
                    "thumbnails show who is who) and give it to `lipflap conform --cast`.")
    p.add_argument("shots", nargs="+", metavar="SHOT")
    p.add_argument("-o", "--output", required=True, metavar="CAST.json",
                   help="the cast file to write (not over an existing one)")
    p.add_argument("--thumbnails", metavar="DIR",
                   help="write DIR/PERSON_1.png ... (the face, from its best view)")
    p.add_argument("--threshold", type=float, default=None, metavar="D",
                   help="faces closer than this are one person (default 0.5; docs/conform.md)")
    p.add_argument("--rate", metavar="FPS", help="the frame rate of an EDL (default: its media's)")
    add_progress_option(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace, progress) -> int:
    from ..conform.casting import find_cast, shots_of
    from ..face.identity import THRESHOLD
    if os.path.exists(args.output):
        raise LipflapError(f"{args.output} exists; lipflap cast never writes over a cast file "
                           f"(its names are the editor's work): give another -o or remove it.")
    threshold = THRESHOLD if args.threshold is None else args.threshold
    if not 0 < threshold < 5:
        raise LipflapError(f"--threshold {threshold:g}: give a distance between 0 and 5 "
                           f"(default {THRESHOLD:g}).")
    shots = shots_of(args.shots, args.rate)
    found = find_cast(shots, threshold=threshold, progress=progress)
    if not found.cast.characters:
        raise LipflapError(f"no face with a near-frontal view in {len(shots)} shot(s) "
                           f"({', '.join(args.shots)}); give shots where the characters face the "
                           f"camera.")
    thumbs = found.write(args.output, args.thumbnails)
    for name, where in found.seen_in.items():
        progress.message(f"{name}: {', '.join(where)}")
    for label in found.faceless:
        progress.message(f"{label}: no face with a near-frontal view.")
    progress.message(f"{len(found.cast.characters)} character(s) in {args.output}; rename them "
                     f"there (the thumbnails show who is who), then `lipflap conform CUT --cast "
                     f"{args.output} --voice-track TRACK=NAME ...`.")
    progress.result({"cast": os.path.abspath(args.output), "thumbnails": thumbs,
                     "characters": found.seen_in, "faceless": found.faceless})
    return 0
