"""`lipflap qc VIDEO --audio DUB [--source SRC] -o REPORT.(json|html)`: measure a lip-sync result.

The mouth on VIDEO's pixels is measured against the mouth the dub asks for (from --shapes, or
computed from DUB and the script as `lipflap visemes` does); with --source, the picture is
compared with the source for fidelity. Writes JSON, or a self-contained HTML page with plots and a
contact sheet. The exit code is 0 when the report is written, whatever its verdict, unless
--fail-on asks otherwise.
"""
from __future__ import annotations

import os
import sys

from ..cli import add_progress_option
from ..contract.errors import LipflapError


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "qc", help="measure a lip-sync result: sync, phonetics and fidelity, as JSON or HTML",
        description="Measure a lip-sync result against its dub (and its source): sync, bilabial "
                    "closures, open vowels, pauses, PSNR outside the lower face, mouth sharpness "
                    "and roughness, dropped frames; each with a pass/warn/fail verdict.")
    p.add_argument("video", metavar="VIDEO", help="the lip-synced video to check")
    p.add_argument("--audio", metavar="DUB", help="the dub the video should match (default: "
                   "the render report's or job's dub)")
    p.add_argument("--source", metavar="SRC", help="the source video it was rendered from "
                   "(enables fidelity figures and the before/after contact sheet; default: the "
                   "render report's or job's video)")
    p.add_argument("--source-start", type=int, metavar="FRAME",
                   help="the source frame the video's frame 0 shows (a render of --start/--end "
                        "of a longer file); default: the render report's or job's first frame, "
                        "else 0")
    p.add_argument("--source-end", type=int, metavar="FRAME",
                   help="the last source frame rendered (inclusive); default: the render "
                        "report's or job's last frame, else as many frames as the video has "
                        "from --source-start")
    p.add_argument("--render-report", metavar="REPORT.json",
                   help="the report `lipflap run --report` wrote for VIDEO: source, frame range, "
                        "dub and offset default to what it says (default: VIDEO's name with "
                        ".json, when that report names VIDEO as its output)")
    p.add_argument("--job", metavar="JOB.json",
                   help="the job VIDEO was rendered from: source, range (with handles), dub, "
                        "offset, script and language default to it")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--text", help="the dub's script, for script-aware timing")
    g.add_argument("--transcript", metavar="FILE", help="the dub's script as a UTF-8 text file")
    p.add_argument("--language", metavar="CODE", help="the dub's eSpeak NG language code (es, de, ...)")
    p.add_argument("--shapes", metavar="TRACK.json",
                   help="the mouth-shape track the video was rendered from (skips computing one)")
    p.add_argument("--audio-offset", type=float, metavar="SECONDS",
                   help="where the video's frame 0 sits in DUB (default: from the render report "
                        "or job, else 0)")
    p.add_argument("--face", default="auto", help="auto, largest, a face index or X,Y")
    p.add_argument("-o", "--output", required=True, metavar="REPORT",
                   help="report path: .json, or .html (self-contained, with plots)")
    p.add_argument("--fail-on", choices=("never", "warn", "fail"), default="never",
                   help="exit 1 when the verdict is this bad or worse (default never)")
    add_progress_option(p)
    p.set_defaults(func=run)


def _exists(path: str | None, what: str) -> None:
    if path is not None and not os.path.isfile(path):
        raise LipflapError(f"{path}: {what} not found; check the path.")


def _has_alpha(pix_fmt: str) -> bool:
    f = (pix_fmt or "").lower()
    return f.startswith(("yuva", "rgba", "bgra", "argb", "abgr", "gbrap", "ya")) or f in ("pal8",)


def expected_track(args, fps, n_frames):
    """The mouth-shape track the video should follow: --shapes, or computed from the dub."""
    if args.shapes:
        from ..mouth.track import MouthTrack
        return MouthTrack.load(args.shapes)
    from ..mouth.build import mouth_track_for_audio
    text = args.text
    if args.transcript:
        try:
            with open(args.transcript, encoding="utf-8") as fh:
                text = fh.read()
        except (OSError, UnicodeDecodeError) as e:
            raise LipflapError(f"{args.transcript}: cannot read the transcript ({e}); give a UTF-8 "
                               f"text file.") from None
    return mouth_track_for_audio(args.audio, fps, text=text, language=args.language,
                                 n_frames=n_frames, start_s=args.audio_offset)


def apply_context(args) -> dict:
    """Fill the options left out from the render's report or job (the command line wins);
    returns what was taken from where, for the report, and a sentence under "warnings" for what
    was named there but could not be taken."""
    from ..qc.context import render_context
    _exists(args.render_report, "the render report")
    _exists(args.job, "the job file")
    ctx = render_context(args.video, args.render_report, args.job)
    taken = {}
    for opt, val in (("audio", ctx.audio), ("source", ctx.source),
                     ("source_start", ctx.source_start), ("source_end", ctx.source_end),
                     ("audio_offset", ctx.audio_offset_s), ("language", ctx.language)):
        if getattr(args, opt) is None and val is not None:
            setattr(args, opt, val)
            taken[opt] = val
    said = []
    if args.text is None and args.transcript is None and args.shapes is None:
        if ctx.text is not None:
            args.text = taken["text"] = ctx.text
        elif ctx.shapes and os.path.isfile(ctx.shapes):
            args.shapes = taken["shapes"] = ctx.shapes
        elif ctx.shapes:
            said.append(f"{ctx.shapes}: the mouth-shape track {ctx.origin} names is missing, so "
                        f"the track the video should follow is computed from the dub instead; "
                        f"give --shapes with the track it was rendered from to check against it.")
    if args.audio_offset is None:
        args.audio_offset = 0.0
    if args.audio is None:
        raise LipflapError(f"{args.video}: no dub to check against; give --audio DUB (or "
                           f"--render-report/--job of the render).")
    out = {"from": ctx.origin, "taken": taken} if taken else {}
    return dict(out, warnings=said) if said else out


def run(args, progress) -> int:
    from ..media.probe import probe
    from ..qc.measure import measure_video
    from ..qc.report import write_report
    _exists(args.video, "the video to check")
    defaults = apply_context(args)
    for sentence in defaults.get("warnings", ()):
        progress.message(sentence)
    _exists(args.audio, "the dub audio")
    _exists(args.source, "the source video")
    _exists(args.shapes, "the mouth-shape track")
    _exists(args.transcript, "the transcript")
    if (args.source_start is not None or args.source_end is not None) and not args.source:
        raise LipflapError("--source-start/--source-end need --source, the video the output was "
                           "rendered from.")
    ext = os.path.splitext(args.output)[1].lower()
    if ext not in (".json", ".html", ".htm"):
        raise LipflapError(f"{args.output}: a QC report is written as .json or .html; give -o with "
                           f"one of those extensions.")
    info = probe(args.video)
    if _has_alpha(info.pix_fmt):
        raise LipflapError(f"{args.video} is a patch render (it has alpha, {info.pix_fmt}); QC "
                           f"measures full-frame renders: check the full-mode render of the shot, "
                           f"or composite the patch over its source first.")
    track = expected_track(args, info.fps, info.frame_count)
    report, extras = measure_video(
        args.video, track, source=args.source, audio=args.audio, face=args.face,
        source_start=args.source_start, source_end=args.source_end,
        # an edited track is on the dub's clock (as `run --shapes` reads it); a computed one
        # already starts at the video's frame 0
        track_start_s=args.audio_offset if args.shapes else 0.0,
        progress=progress, meta={"audio": args.audio, "shapes": args.shapes, "text": args.text,
                                 "language": args.language, "audio_offset_s": args.audio_offset,
                                 **({"defaults": defaults} if defaults else {})})
    write_report(args.output, report, extras)
    summary = {"report": os.path.abspath(args.output), "verdict": report["verdict"],
               "figures": {k: {"value": f["value"], "verdict": f["verdict"]}
                           for k, f in report["figures"].items()},
               "flagged_ranges": len(report["flagged_ranges"])}
    progress.result(summary)
    if progress.mode != "json":
        print(format_summary(report, args.output), file=sys.stdout, flush=True)
    bad = {"never": (), "warn": ("warn", "fail"), "fail": ("fail",)}[args.fail_on]
    return 1 if report["verdict"] in bad else 0


def format_summary(report: dict, path: str) -> str:
    from ..qc.report import LABELS
    lines = [f"{path}: verdict {report['verdict']}"]
    for name, f in report["figures"].items():
        v = f["value"]
        vs = "-" if v is None else (f"{v:.3f}" if isinstance(v, float) else str(v))
        lines.append(f"  {f['verdict']:<5} {LABELS.get(name, name)}: {vs}")
    if report["flagged_ranges"]:
        lines.append(f"  {len(report['flagged_ranges'])} flagged range(s), first: "
                     + "; ".join(f"{r['start']}-{r['end']} {r['reason']}"
                                 for r in report["flagged_ranges"][:3]))
    return "\n".join(lines)
