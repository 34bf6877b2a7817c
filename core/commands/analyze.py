"""`lipflap analyze VIDEO -o ANALYSIS.json`: face analysis of a shot, as JSON (+ review video)."""
from __future__ import annotations

import json
import os


def register(subparsers) -> None:
    from ..cli import add_progress_option
    p = subparsers.add_parser(
        "analyze", help="track faces: per-frame landmarks, pose, confidence, flags, shot cuts and "
                        "the chosen speaker, as JSON",
        description="Analyse the faces in VIDEO (or frames --start..--end): 478 Face Mesh "
                    "landmarks of the chosen speaker per frame (smoothed and raw), head pose, a "
                    "confidence and flags (no_face, occluded, profile, blur, small, cut, "
                    "low_confidence), every face's id and box, shot cuts, and which face was "
                    "chosen and why. Results are cached by file content ($LIPFLAP_CACHE or "
                    "~/.cache/lipflap).")
    p.add_argument("video", metavar="VIDEO", help="the video file to analyse")
    p.add_argument("-o", "--output", required=True, metavar="ANALYSIS.json",
                   help="where to write the analysis JSON")
    p.add_argument("--preview", metavar="OVERLAY.mp4",
                   help="also write an H.264 review video with the landmarks, ids and flags drawn")
    p.add_argument("--sheet", metavar="SHEET.png",
                   help="also write a contact sheet PNG of 12 frames with the overlay")
    p.add_argument("--start", type=int, default=0, metavar="N",
                   help="first frame (0-based, inclusive; default 0)")
    p.add_argument("--end", type=int, default=None, metavar="M",
                   help="last frame (0-based, inclusive; default the last frame)")
    p.add_argument("--face", default="auto", metavar="auto|largest|INDEX|X,Y",
                   help="whose landmarks to report: auto (the face whose mouth follows the clip's "
                        "audio; the largest when there is no audio), largest, a face id as listed "
                        "in a previous analysis, or the face nearest pixel X,Y (default auto)")
    p.add_argument("--thumbnails", metavar="DIR",
                   help="also write one PNG per tracked face id into DIR (a crop of the frame that "
                        "shows it best), listed under \"thumbnails\" in the analysis JSON with the "
                        "face's position and the face spec a job uses for it")
    p.add_argument("--audio", default=None, metavar="AUDIO",
                   help="the clip's own audio when it is in a separate file (for --face auto)")
    p.add_argument("--no-cache", action="store_true", help="analyse again even if cached")
    add_progress_option(p)
    p.set_defaults(func=run)


def run(args, progress) -> int:
    from ..contract.errors import LipflapError
    from ..contract.files import atomic_write
    from ..face.analyze import analyze_video
    from ..face.overlay import contact_sheet, write_preview
    from ..face.thumbnails import write_thumbnails

    out = os.path.abspath(args.output)
    for extra in (args.preview, args.sheet, args.thumbnails):
        if extra and os.path.abspath(extra) == os.path.abspath(args.video):
            raise LipflapError(f"refusing to overwrite the input {args.video}; choose another "
                               f"output name.")
    if out == os.path.abspath(args.video):
        raise LipflapError(f"refusing to overwrite the input {args.video} with JSON; choose "
                           f"another -o name.")
    # The folder is made before the analysis: one that cannot be made fails in seconds.
    try:
        os.makedirs(os.path.dirname(out) or ".", exist_ok=True)
    except OSError as e:
        raise LipflapError(f"{out}: cannot create its folder ({e.strerror}); choose a writable "
                           f"-o path.") from None
    analysis = analyze_video(args.video, args.start, args.end, face=args.face,
                             audio_path=args.audio, use_cache=not args.no_cache,
                             progress=progress)
    data = analysis.to_dict()
    if args.thumbnails:
        # Written before the JSON, so the JSON never lists a picture that is not there.
        data["thumbnails"] = write_thumbnails(analysis, args.thumbnails)
    try:
        atomic_write(out, json.dumps(data))
    except OSError as e:
        raise LipflapError(f"{out}: cannot write the analysis ({e.strerror}); free space or "
                           f"choose a writable -o path.") from None
    if args.preview:
        write_preview(analysis, args.preview, progress)
    if args.sheet:
        contact_sheet(analysis, args.sheet)
    usable = sum(f.usable for f in analysis.frames)
    summary = {"analysis": out, "frames": len(analysis.frames), "usable": usable,
               "cuts": analysis.cuts, "speaker_id": analysis.speaker_id,
               "speaker_reason": analysis.speaker_reason,
               "flagged": analysis.flagged_ranges()}
    if args.preview:
        summary["preview"] = os.path.abspath(args.preview)
    if args.sheet:
        summary["sheet"] = os.path.abspath(args.sheet)
    if args.thumbnails:
        summary["thumbnails"] = data["thumbnails"]
    progress.result(summary)
    if progress.mode != "json":
        print(f"{out}: {usable}/{len(analysis.frames)} frames usable, speaker "
              f"{analysis.speaker_id} ({analysis.speaker_reason}); "
              f"{len(analysis.cuts)} cut(s), {len(summary['flagged'])} flagged range(s)")
    return 0
