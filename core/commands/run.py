"""`lipflap run VIDEO --audio DUB -o OUT`: redraw the speaker's lower face to match the dub.

Options as in docs/cli.md; `--job JOB.json` takes the same keys as JSON (docs/job.md) and explicit
command-line options override the job's.
"""
from __future__ import annotations

import argparse
import json
import os

from ..cli import add_progress_option
from ..contract.errors import JobError, LipflapError
from ..contract.jobspec import AUTO_CODEC, CODECS, MODES, Job, OutputSpec, load_job, parse_job


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "run", help="render a lip-synced shot for a dub",
        description="Rebuild the speaker's lower face in VIDEO from their own frames so the lips "
                    "match DUB; writes the range's frames with the dub muxed in, and a report.")
    p.add_argument("video", nargs="?", help="source clip (optional with --job)")
    p.add_argument("--audio", help="the dub (any sound file)")
    p.add_argument("-o", "--output", help="output file (.mov, .mp4), a %%d pattern or folder for a "
                                          "PNG/EXR sequence, or an existing folder for a versioned "
                                          "name <clip>_lipflap_<lang>_vNNN")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--text", help="the dub's script (script-aware alignment)")
    g.add_argument("--transcript", help="file with the dub's script (UTF-8)")
    p.add_argument("--language", help="eSpeak NG language code of the script (es, de, fr, ...)")
    p.add_argument("--mode", choices=MODES, help="full frame (default) or an RGBA lower-face patch")
    p.add_argument("--codec", choices=CODECS + (AUTO_CODEC,),
                   help="auto (default): from the output name, .mov -> the ProRes profile that "
                        "holds the source's detail (prores_hq, stepped up to prores_4444 or "
                        "prores_4444xq where a few probe frames reach the encoder's data cap; "
                        "patch: prores_4444), .mp4 -> h264, folder -> png; a named codec is "
                        "used as named")
    p.add_argument("--start", type=int, help="first frame, 0-based index within the file")
    p.add_argument("--end", type=int, help="last frame (inclusive)")
    p.add_argument("--in", dest="in_tc", help="first frame as the file's timecode")
    p.add_argument("--out", dest="out_tc", help="last frame as the file's timecode (inclusive)")
    p.add_argument("--handles", type=int, help="extra frames rendered each side (within the file)")
    p.add_argument("--audio-offset", type=float, dest="audio_offset",
                   help="seconds into DUB where frame --start sits (default 0)")
    p.add_argument("--face", help="auto (default), largest, a face id, or X,Y in pixels")
    p.add_argument("--strength", type=float, help="0..1: how far the mouth follows the dub (1 = fully)")
    p.add_argument("--shapes", help="render this (edited) mouth-shape track JSON instead of one "
                                    "computed from the dub; it is timed like `lipflap visemes "
                                    "DUB` (its time 0 is the dub's start, --audio-offset applies)")
    p.add_argument("--library", action="append", metavar="FILE",
                   help="other footage of the same actor (a video file, or a folder of them; "
                        "repeat for more): clean exemplar frames for the shapes the shot lacks, "
                        "matched to the shot's light")
    d = p.add_argument_group("dialogue: several faces in one run (docs/job.md)")
    d.add_argument("--voice", action="append", metavar="FACE=AUDIO",
                   help="this face's own dub (repeat per speaking face); FACE is left, right, "
                        "centre, a face id or X,Y")
    d.add_argument("--voice-text", action="append", metavar="FACE=TEXT", dest="voice_text",
                   help="the script of that face's dub")
    d.add_argument("--voice-language", action="append", metavar="FACE=L", dest="voice_language",
                   help="the language of that face's script (default --language)")
    d.add_argument("--voice-offset", action="append", metavar="FACE=S", dest="voice_offset",
                   help="seconds into that face's dub where frame --start sits (default 0)")
    d.add_argument("--cast", help="split one mixed dub (--audio) among faces: NAME=FACE,... for a "
                                  "script with [NAME] turns, FACE,FACE,... or auto to follow who "
                                  "talks in the original picture")
    p.add_argument("--report", help="write the report JSON here (default: beside the output, its "
                                    "name with .json, where `lipflap qc OUT` looks)")
    p.add_argument("--job", help="a job JSON (docs/job.md); options given here override it")
    add_credential_options(p, "content credentials (C2PA; docs/provenance.md)",
                           "sign no C2PA Content Credential; the container tag and the report "
                           "still say the render is lip-synced, and the report records the choice")
    add_progress_option(p)
    p.set_defaults(func=run)


def add_credential_options(p: argparse.ArgumentParser, title: str, off_help: str) -> None:
    """--sign-cert, --sign-key, --no-credentials (docs/provenance.md), as `run` and `conform`
    take them; `off_help` says what --no-credentials leaves in place for that command."""
    c = p.add_argument_group(title)
    c.add_argument("--sign-cert", dest="sign_cert", metavar="CERT.pem",
                   help="the facility's signing certificate, PEM, its chain after it (default: "
                        "$LIPFLAP_SIGN_CERT, then the user config's lipflap/signing.json, then a "
                        "throwaway certificate labelled UNVERIFIED)")
    c.add_argument("--sign-key", dest="sign_key", metavar="KEY.pem",
                   help="the certificate's private key, PEM")
    c.add_argument("--no-credentials", dest="no_credentials", action="store_true", help=off_help)


def job_from_args(args: argparse.Namespace) -> Job:
    """Merge --job (if any) with the explicit options, the options winning; validate."""
    data: dict = {}
    base_job = None
    if args.job:
        base_job = load_job(args.job)
        data = base_job.to_dict()
        if base_job.output is not None:
            data["output"] = {k: v for k, v in vars(base_job.output).items() if v is not None}
    explicit = {
        "video": args.video, "audio": args.audio, "text": args.text, "transcript": args.transcript,
        "language": args.language, "start_frame": args.start, "end_frame": args.end,
        "in_tc": args.in_tc, "out_tc": args.out_tc, "handles": args.handles,
        "audio_offset_s": args.audio_offset, "face": args.face, "strength": args.strength,
        "shapes": args.shapes, "report": args.report, "library": args.library,
    }
    # The signing options replace the job's signing as a whole (pair, and on or off).
    if args.sign_cert or args.sign_key or args.no_credentials:
        for k in ("sign_cert", "sign_key", "credentials"):
            data.pop(k, None)
        explicit.update(sign_cert=args.sign_cert, sign_key=args.sign_key,
                        credentials=False if args.no_credentials else None)
    for k, v in explicit.items():
        if v is not None:
            data[k] = v
    # A range given on the command line replaces the job's range of the other kind.
    if args.start is not None or args.end is not None:
        data.pop("in_tc", None), data.pop("out_tc", None)
    if args.in_tc is not None or args.out_tc is not None:
        data.pop("start_frame", None), data.pop("end_frame", None)
    if args.text is not None:
        data.pop("transcript", None)
    if args.transcript is not None:
        data.pop("text", None)
    out = dict(data.get("output") or {})
    if args.output is not None:
        out["path"] = args.output
    if args.mode is not None:
        out["mode"] = args.mode
    if args.codec is not None:
        out["codec"] = args.codec
    if out:
        data["output"] = out
    voices = voices_from_args(args)
    if voices is not None:
        data["voices"] = voices
        for k in ("audio", "face", "text", "transcript", "shapes", "audio_offset_s", "cast"):
            data.pop(k, None)
    if args.cast is not None:
        data["cast"] = cast_from_arg(args.cast)
    if not data.get("video"):
        raise JobError("no source video given; name it (lipflap run VIDEO ...) or use --job.")
    if not out.get("path"):
        raise JobError("no output given; use -o OUT (a .mov/.mp4 file, a folder or a %d pattern).")
    return parse_job(data, where=args.job or "command line")


def _pairs(values, option: str) -> dict[str, str]:
    """FACE=VALUE options as {face: value} in the order given; one sentence when malformed."""
    from ..contract.jobspec import check_face
    out: dict[str, str] = {}
    for item in values or []:
        face, sep, value = item.partition("=")
        if not sep or not face.strip() or not value:
            raise JobError(f"{option} {item!r} is not FACE=VALUE; write e.g. {option} left=dub.wav.")
        face = check_face("command line", face.strip(), option)
        if face in out:
            raise JobError(f"{option} names face {face} twice; give each face one value.")
        out[face] = value
    return out


def voices_from_args(args: argparse.Namespace) -> list[dict] | None:
    """--voice FACE=AUDIO (with --voice-text/-language/-offset FACE=...) as the job's "voices";
    None when no --voice is given."""
    audio = _pairs(args.voice, "--voice")
    extra = {"text": _pairs(args.voice_text, "--voice-text"),
             "language": _pairs(args.voice_language, "--voice-language"),
             "audio_offset_s": _pairs(args.voice_offset, "--voice-offset")}
    if not audio:
        given = [k for k, v in (("--voice-text", args.voice_text), ("--voice-language",
                 args.voice_language), ("--voice-offset", args.voice_offset)) if v]
        if given:
            raise JobError(f"{given[0]} needs --voice FACE=AUDIO for the same face.")
        return None
    if args.audio or args.cast or args.shapes:
        raise JobError("--voice gives each face its own dub; leave out --audio, --shapes and "
                       "--cast (or use --audio MIX with --cast instead of --voice).")
    voices = []
    for face, path in audio.items():
        v: dict = {"face": face, "audio": path}
        if face in extra["text"]:
            v["text"] = extra["text"][face]
        lang = extra["language"].get(face) or args.language
        if lang:
            v["language"] = lang
        if face in extra["audio_offset_s"]:
            try:
                v["audio_offset_s"] = float(extra["audio_offset_s"][face])
            except ValueError:
                raise JobError(f"--voice-offset {face}={extra['audio_offset_s'][face]!r} is not "
                               f"a number of seconds.") from None
        voices.append(v)
    for key, opt in (("text", "--voice-text"), ("language", "--voice-language"),
                     ("audio_offset_s", "--voice-offset")):
        stray = sorted(set(extra[key]) - set(audio))
        if stray:
            raise JobError(f"{opt} names face {stray[0]}, which has no --voice; give "
                           f"--voice {stray[0]}=AUDIO or drop it.")
    return voices


def cast_from_arg(value: str):
    """--cast: "auto", "left,right" (faces), or "ANNA=left,BEN=right" (script speakers)."""
    v = value.strip()
    if v.lower() == "auto":
        return "auto"
    items = [p.strip() for p in v.split(",") if p.strip()]
    if any("=" in p for p in items):
        cast: dict[str, str] = {}
        for p in items:
            name, sep, face = p.partition("=")
            if not sep or not name.strip() or not face.strip():
                raise JobError(f"--cast {value!r}: {p!r} is not NAME=FACE; write e.g. --cast "
                               f"ANNA=left,BEN=right.")
            cast[name.strip()] = face.strip()
        return cast
    return items


def run(args: argparse.Namespace, progress) -> int:
    from ..media.prores_choice import LADDER, codec_line
    from ..pipeline import run_job
    from ..provenance import Signing
    from ..provenance.identity import GIVEN_ON_COMMAND_LINE, JOB_SIGNER
    job = job_from_args(args)
    # Checked before the render: a wrong certificate or key costs seconds, not a render.
    given_by = GIVEN_ON_COMMAND_LINE if args.sign_cert or args.sign_key else JOB_SIGNER
    signing = Signing.from_options(job.sign_cert, job.sign_key, enabled=job.credentials,
                                   given_by=given_by)
    report = run_job(job, progress, signing=signing)
    if not job.report and not args.job and report.get("output"):
        _report_beside(job, report, progress)
    choice = report.get("codec_choice")
    if choice and choice.get("automatic") and report.get("mode") == "full" \
            and choice.get("codec") in LADDER:
        progress.message(codec_line(choice))    # the ProRes profile lipflap picked, and why
    for w in report.get("warnings", []):
        progress.message(f"warning: {w}")
    progress.result({"output": report["output"], "report": report.get("report"),
                     "frames_rendered": report["frames_rendered"],
                     "frames_passed_through": report["frames_passed_through"],
                     "warnings": report.get("warnings", [])})
    if progress.mode != "json" and report["output"] is None:
        # A cast job showing none of its voiced characters (the reason went out as a message).
        print(f"lipflap: wrote nothing ({report['frames_passed_through']} frames left as they are)"
              + (f"; report {report['report']}" if report.get("report") else ""))
    elif progress.mode != "json":
        print(f"lipflap: wrote {report['output']} ({report['frames_rendered']} frames rendered, "
              f"{report['frames_passed_through']} passed through)"
              + (f"; report {report['report']}" if report.get("report") else ""))
    return 0


def _report_beside(job, report: dict, progress) -> None:
    """The run's report beside the render when none was named (--report; a job file says for
    itself): `lipflap qc OUT` finds the source, its range and the dub there (lipflap.contract.
    naming.report_path). Never over an input or a file that is not a lipflap report; a report that
    cannot be written is a warning, the render stands."""
    from ..contract.naming import report_path
    from ..contract.report import read_report
    from ..pipeline.report import write_report
    path = os.path.abspath(report_path(report["output"]))
    inputs = [job.video, job.audio, job.transcript, job.shapes, *(job.library or [])]
    if os.path.exists(path) and any(p and os.path.exists(p) and os.path.samefile(p, path)
                                    for p in inputs):
        progress.message(f"warning: no report written: {path} is an input of this run; give "
                         f"--report a name of its own.")
        return
    if os.path.exists(path):
        try:
            ours = read_report(path).from_a_run
        except LipflapError:
            ours = False
        if not ours:
            progress.message(f"warning: no report written: {path} exists and is not a lipflap "
                             f"report; give --report another name.")
            return
    try:
        write_report(path, report)
    except LipflapError as e:
        progress.message(f"warning: no report written: {e}")
        return
    report["report"] = path
