"""`lipflap conform`: lip-sync every dialogue clip of a cut and hand back a timeline and an EDL."""
from __future__ import annotations

import argparse
import os

from ..cli import add_progress_option
from ..contract.errors import LipflapError
from .run import add_credential_options


def register(sub) -> None:
    p = sub.add_parser(
        "conform", help="lip-sync every clip of a cut under the dub; write a timeline and an EDL",
        description="Render every video clip under the dub (one `lipflap run` job per clip, with "
                    "handles), then write a timeline with the renders on a track above the originals "
                    "and a CMX 3600 EDL of the renders. TIMELINE is anything OpenTimelineIO reads "
                    "(.otio, .edl, .aaf, FCP 7 .xml, .fcpxml, ...) or a .lipflap job list; an AAF or "
                    "XML cut is also written back in its own format. Set LIPFLAP_RUN_CMD to use "
                    "another engine command.")
    p.add_argument("timeline", metavar="TIMELINE")
    p.add_argument("-o", "--outdir", required=True, metavar="OUTDIR",
                   help="folder for renders, reports, jobs, the new timeline and the EDL")
    dub = p.add_mutually_exclusive_group()
    dub.add_argument("--dub-audio", metavar="FILE",
                     help="one dub file for the whole cut; its first sample is the cut's first frame")
    dub.add_argument("--dub-track", metavar="NAME",
                     help="the cut's audio track holding the dub (default: the one track named *dub*)")
    p.add_argument("--voice-track", action="append", metavar="TRACK=CHARACTER",
                   help="a character's own dub track (repeatable; needs --cast): each clip's face "
                        "of that character gets it as its voice")
    p.add_argument("--cast", metavar="CAST.json",
                   help="the scene's characters (`lipflap cast` makes one): with --voice-track "
                        "each gets their track, with one mixed --dub-track the mix is split "
                        "among the characters each clip shows (docs/conform.md)")
    p.add_argument("--dub-start", metavar="TC",
                   help="record timecode of the --dub-audio file's first sample (default: the "
                        "timeline's start; required for an EDL)")
    p.add_argument("--language", metavar="CODE", help="the dub's language (eSpeak NG code: es, de, ...)")
    p.add_argument("--transcripts", metavar="FILE",
                   help="per-clip texts, keyed by clip name or record-in timecode (docs/conform.md)")
    p.add_argument("--edl", metavar="FILE.edl", help="where to write the EDL (default: in OUTDIR)")
    p.add_argument("--jobs", type=int, default=1, metavar="N", help="clips rendered in parallel (1)")
    p.add_argument("--handles", type=int, default=8, metavar="N",
                   help="extra frames rendered each side of a clip, where the media has them (8)")
    p.add_argument("--mode", choices=("full", "patch"), default="full")
    p.add_argument("--codec", default="auto",
                   choices=("auto", "prores_hq", "prores_4444", "prores_4444xq", "dnxhr_hq", "h264"),
                   help="auto (default): each clip's render picks the ProRes profile that holds "
                        "its detail, as `lipflap run` does; a named codec is used for every clip")
    p.add_argument("--share-library", action="store_true", dest="share_library",
                   help="offer each clip the cut's other clips as its actor library (run "
                        "--library): the files showing the same actor supply the mouth shapes a "
                        "clip lacks; each is analysed once (cached)")
    p.add_argument("--rate", metavar="FPS", help="the frame rate of an EDL (default: its media's)")
    add_credential_options(p, "content credentials (C2PA; docs/provenance.md), for every clip's job",
                           "sign no C2PA Content Credential on the renders; their reports, "
                           "container tags, timeline and EDL still say they are lip-synced")
    farm = p.add_argument_group("on a Ray cluster (pip install 'lipflap[ray]'; docs/conform.md)")
    farm.add_argument("--cluster", metavar="ADDRESS",
                      help="run each clip's job as a task on this existing Ray cluster (host:port "
                           "of its head, or auto); default $RAY_ADDRESS when set, else local processes")
    farm.add_argument("--cpus-per-job", type=float, default=1, metavar="N",
                      help="CPUs Ray reserves for each job (1)")
    farm.add_argument("--path-map", action="append", metavar="LOCAL=REMOTE",
                      help="this machine's path prefix and the nodes' path of the same storage "
                           "(repeatable)")
    farm.add_argument("--retries", type=int, default=2, metavar="N",
                      help="times a job whose worker or node died is run again (2)")
    add_progress_option(p)
    p.set_defaults(func=run)


def signing_keys(args: argparse.Namespace) -> dict | None:
    """The job keys (docs/job.md) the signing options give every clip; None without options.
    The certificate and key are checked here, once, so a wrong one fails before any clip."""
    if args.no_credentials:
        if args.sign_cert or args.sign_key:
            raise LipflapError("--no-credentials turns the Content Credential off, so --sign-cert/"
                               "--sign-key would sign nothing; give one or the other.")
        return {"credentials": False}
    if not (args.sign_cert or args.sign_key):
        return None  # each engine process signs as its environment or config file says
    from ..provenance import Signing
    cert, key = (os.path.abspath(p) if p else None for p in (args.sign_cert, args.sign_key))
    Signing.from_options(cert, key,
                         given_by="command line (lipflap conform --sign-cert/--sign-key)")
    return {"sign_cert": cert, "sign_key": key}


def run(args: argparse.Namespace, progress) -> int:
    from ..conform import conform
    if args.jobs < 1:
        raise LipflapError(f"--jobs {args.jobs}: give 1 or more parallel clips.")
    if args.handles < 0:
        raise LipflapError(f"--handles {args.handles}: give 0 or more frames.")
    if args.dub_audio and not os.path.isfile(args.dub_audio):
        raise LipflapError(f"{args.dub_audio}: dub audio not found; check --dub-audio.")
    cluster = args.cluster or os.environ.get("RAY_ADDRESS") or None
    if cluster and not args.cluster:
        progress.message(f"RAY_ADDRESS is set: running the jobs on the Ray cluster at {cluster}.")
    if args.cpus_per_job <= 0:
        raise LipflapError(f"--cpus-per-job {args.cpus_per_job:g}: give more than 0 CPUs.")
    if args.retries < 0:
        raise LipflapError(f"--retries {args.retries}: give 0 or more.")
    res = conform(args.timeline, args.outdir, cluster=cluster, cpus_per_job=args.cpus_per_job,
                  path_map=args.path_map, retries=args.retries, dub_audio=args.dub_audio, dub_track=args.dub_track,
                  dub_start=args.dub_start, language=args.language, transcripts=args.transcripts,
                  edl_path=args.edl,
                  n_procs=args.jobs, handles=args.handles, codec=args.codec, mode=args.mode,
                  rate=args.rate, progress=progress, signing=signing_keys(args),
                  cast=args.cast, voice_tracks=args.voice_track,
                  share_library=args.share_library)
    done = [cj for cj in res.jobs if cj.status == "done"]
    failed = res.failed
    credentials = res.credentials
    back = f", {res.interchange_path}" if res.interchange_path else ""
    progress.message(f"{len(done)} of {len(res.jobs)} clips rendered; timeline {res.timeline_path}"
                     f"{back}, EDL {', '.join(res.edl_paths)}, job list {res.joblist_path}.")
    if credentials:
        progress.message(credentials)
    progress.result({"timeline": res.timeline_path, "edl": res.edl_path, "edls": res.edl_paths,
                     "interchange": res.interchange_path,
                     "interchange_warning": res.interchange_warning,
                     "joblist": res.joblist_path,
                     "renders": [cj.render for cj in done],
                     "credentials": credentials,
                     "cast": None if res.cast is None else {
                         "file": res.cast["file"],
                         "clips": [dict(cj.cast, clip=cj.clip_name, record_in=cj.record_tc,
                                        render=cj.render) for cj in res.jobs if cj.cast],
                         "not_rendered": res.cast["not_rendered"]},
                     "failed": [{"clip": cj.clip_name, "record_in": cj.record_tc, "error": cj.error,
                                 "attempts": len(cj.attempts)} for cj in failed]})
    # Partial success is still a failure for scripts: every clip under the dub must render.
    return 1 if failed else 0
