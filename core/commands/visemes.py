"""`lipflap visemes AUDIO -o OUT`: the mouth-shape track of a dub, as JSON, TSV, Rhubarb TSV,
Nuke curves or OTIO markers (docs/cli.md)."""
from __future__ import annotations

import os

from ..contract.errors import LipflapError


def register(subparsers) -> None:
    from ..cli import add_progress_option
    from ..exporters import EXPORTERS

    p = subparsers.add_parser(
        "visemes", help="write the mouth-shape track of a dub (JSON, TSV, Rhubarb, Nuke, OTIO)",
        description="Compute the per-frame mouth shape (viseme, Rhubarb shape, aperture, width, "
                    "rounding, jaw) for a dub: script-aware with --text/--transcript, from the "
                    "audio alone otherwise.")
    p.add_argument("audio", nargs="?", metavar="AUDIO", help="the dub (any audio or video file)")
    p.add_argument("-o", "--output", metavar="OUT",
                   help="output file; the format follows its extension (.json, .tsv, .txt for "
                        "Rhubarb, .nk, .otio) unless --format is given")
    src = p.add_mutually_exclusive_group()
    src.add_argument("--text", help="the dub's script")
    src.add_argument("--transcript", metavar="FILE", help="a text file with the dub's script")
    p.add_argument("--language", metavar="CODE",
                   help="eSpeak NG language code of the script (es, de, fr, ...)")
    p.add_argument("--fps", default="24",
                   help="frame rate of the track: 24, 25, 23.976, 29.97, 24000/1001 ... "
                        "(default 24)")
    p.add_argument("--format", choices=tuple(EXPORTERS), default=None,
                   help="output format (default: from OUT's extension)")
    p.add_argument("--audio-offset", type=float, default=0.0, metavar="SECONDS",
                   help="where the track's frame 0 sits in AUDIO (default 0)")
    p.add_argument("--frames", type=int, default=None, metavar="N",
                   help="number of frames (default: to the end of the audio)")
    p.add_argument("--first-frame", type=int, default=1001, metavar="N",
                   help="Nuke: the frame number the track's frame 0 gets (default 1001)")
    p.add_argument("--list-languages", action="store_true",
                   help="list the eSpeak NG language codes and exit")
    add_progress_option(p)
    p.set_defaults(func=run)


def run(args, progress) -> int:
    if args.list_languages:
        from ..speech.espeak import list_languages
        for code, name in list_languages():
            print(f"{code}\t{name}")
        return 0
    if not args.audio:
        raise LipflapError("give the dub: `lipflap visemes AUDIO -o OUT`.")
    if not args.output:
        raise LipflapError(f"{args.audio}: give the output file with -o OUT (.json, .tsv, .txt, "
                           f".nk or .otio).")
    from ..exporters import ExportOptions, export, format_for_path
    from ..contract.rates import parse_rate, rate_json
    from ..mouth.build import mouth_track_for_audio

    audio, out = args.audio, args.output
    fmt = args.format or format_for_path(out)
    fps = parse_rate(args.fps)
    if not os.path.isfile(audio):
        raise LipflapError(f"{audio}: no such file; check the path to the dub.")
    folder = os.path.dirname(os.path.abspath(out))
    if not os.path.isdir(folder):
        raise LipflapError(f"{out}: the folder {folder} does not exist; create it or choose "
                           f"another output path.")
    if os.path.isdir(out):
        raise LipflapError(f"{out} is a folder; give a file name such as {os.path.join(out, 'track.json')}.")
    if os.path.exists(out) and os.path.samefile(audio, out):
        raise LipflapError(f"{out} is the input audio; choose another output name.")
    if args.frames is not None and args.frames < 0:
        raise LipflapError(f"--frames {args.frames}: give a frame count of 0 or more.")
    text = args.text
    if args.transcript:
        from ..speech.transcript import read_transcript
        text = read_transcript(args.transcript)
    if text is not None and not args.language:
        raise LipflapError(f"{audio}: a script needs its language; add --language with an eSpeak "
                           f"NG code (see `lipflap visemes --list-languages`).")

    track = mouth_track_for_audio(audio, fps, text=text, language=args.language,
                                  n_frames=args.frames, start_s=args.audio_offset,
                                  progress=progress)
    for w in track.warnings:
        progress.message(w)
    opts = ExportOptions(first_frame=args.first_frame, audio_path=audio,
                         node_name="lipflap_" + os.path.splitext(os.path.basename(out))[0])
    export(track, out, fmt, opts)
    progress.result({"output": os.path.abspath(out), "format": fmt, "frames": len(track.frames),
                     "fps": rate_json(fps), "source": track.source,
                     "warnings": track.warnings})
    return 0
