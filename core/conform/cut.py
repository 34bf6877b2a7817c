"""`lipflap conform`: a cut in, lip-synced renders, a new timeline and an EDL out.

Planning (plan.py: which clips, which frames, which dub span) and assembly (assemble.py: the
render track, markers, the EDL) are OpenTimelineIO work; the runner (runner.py) runs the jobs as
`lipflap run --job JOB.json` processes, N at a time, with one overall progress bar. This module
reads the cut, probes media, and rewrites the timeline, EDL and job list after every finished
clip so that a crash never loses the renders already done.
"""
from __future__ import annotations

import contextlib
import os
import sys
from dataclasses import dataclass, field

import opentimelineio as otio

from ..contract import transcripts as tr
from ..contract.errors import LipflapError
from ..contract.naming import output_stem
from ..contract.progress import Progress
from ..contract.rates import parse_rate
from ..contract.report import RunReport, credentials_summary
from . import interchange, joblist
from .assemble import assemble, write_timeline
from .plan import MediaInfo, PlanError, PlanOptions, claim_path, media_path, plan
from .runner import run_jobs


# ---------------------------------------------------------------- media

def probe_media(path: str):
    """A video file's rate, start timecode (as frames, drop-frame aware) and frame count, read
    by lipflap.media.probe, for planning and for placing renders."""
    from ..media.probe import probe  # PyAV: loaded when media is read, not on import
    info = probe(path)
    return MediaInfo(fps=info.fps, start_tc_frames=int(info.start_tc_frames),
                     frames=int(info.frame_count))


# ---------------------------------------------------------------- the whole conform

@dataclass
class ConformResult:
    timeline_path: str
    edl_path: str
    joblist_path: str
    jobs: list
    notes: list[str]
    edl_paths: list[str] = field(default_factory=list)  # one per render track, edl_path first
    interchange_path: str | None = None     # the cut written back as AAF / FCP 7 XML / FCPXML
    interchange_warning: str | None = None  # what that format's adapter could not carry
    cast: dict | None = None                # the cast used and the clips it left unrendered

    @property
    def failed(self):
        return [cj for cj in self.jobs if cj.status != "done"]

    @property
    def credentials(self) -> str:
        return credentials_of(self.jobs)


def credentials_of(jobs) -> str:
    """What Content Credentials the finished renders carry, in one sentence ("" for none); a
    render whose report could not be read counts as one that says nothing."""
    return credentials_summary(cj.run_report or RunReport() for cj in jobs if cj.status == "done")


@dataclass
class _Cut:
    """A cut ready to run: the source timeline, its jobs, and where its outputs go."""
    source: otio.schema.Timeline
    jobs: list
    notes: list[str]
    language: str | None
    dub_label: str | None
    joblist_path: str
    stem: str  # the outputs' base name: <stem>_lipflap_<lang>.otio/.edl/.lipflap
    source_format: str | None = None  # ".aaf", ".xml", ".fcpxml": written back in that format
    cast: dict | None = None          # cast_summary(): the cast file, tracks, unrendered clips


def _resume(timeline_path: str) -> _Cut:
    """A job list written by the OTIO adapter or an earlier conform: its jobs, names and dub are
    already decided, and renders already on disk are never rendered over."""
    try:
        jl = joblist.load(timeline_path)
    except ValueError as e:
        raise LipflapError(str(e)) from None  # already names the file and what to do
    except (OSError, KeyError, TypeError) as e:
        raise LipflapError(f"{timeline_path}: cannot read this job list ({e}); write it again "
                           f"with `otioconvert -i CUT -o JOBS.lipflap`.") from None
    for cj in jl.jobs:
        if cj.status == "pending" and cj.render and os.path.exists(cj.render):
            cj.status = "done"
    # Resuming conform's own job list: its outputs keep their names.
    stem = os.path.splitext(os.path.basename(timeline_path))[0]
    suffix = output_stem("", jl.language)
    if stem.endswith(suffix):
        stem = stem[:-len(suffix)]
    return _Cut(jl.timeline, jl.jobs, [], jl.language, jl.dub_label, timeline_path, stem,
                jl.source_format, jl.cast)


def _plan_cut(timeline_path: str, outdir: str, opts: PlanOptions, rate: str | None,
              faces=None) -> _Cut:
    """Any timeline OTIO reads, planned into one job per clip under the dub."""
    source = read_timeline(timeline_path, rate)
    fmt = interchange.format_of(timeline_path)
    notes = []
    if fmt is not None and source.global_start_time is None:
        notes.append(f"{timeline_path}: the {fmt.package} reader gives this timeline no start "
                     f"timecode, so record timecodes count from 00:00:00:00.")
    # As the user gave it (planning fills in a dub track found by its name).
    dub_label = opts.dub_audio or (f"track {opts.dub_track}" if opts.dub_track else None)
    if opts.voice_tracks:
        dub_label = "tracks " + ", ".join(f"{t}={c}" for t, c in opts.voice_tracks.items())
    try:
        jobs, plan_notes = plan(source, opts, probe_media, faces)
    except PlanError as e:
        raise LipflapError(f"{timeline_path}: {e}") from None
    except (otio.exceptions.OTIOError, ValueError, ArithmeticError) as e:
        # A malformed item (a clip without any range, a negative time) fails inside OTIO's
        # own time maths: name the file, not a traceback.
        raise LipflapError(f"{timeline_path}: the timeline cannot be planned ({_brief(e)}); "
                           f"check its clips' source ranges and rates, or export it again.") from None
    stem = os.path.splitext(os.path.basename(timeline_path))[0]
    return _Cut(source, jobs, notes + plan_notes, opts.language, dub_label,
                os.path.join(outdir, output_stem(stem, opts.language) + ".lipflap"), stem,
                os.path.splitext(timeline_path)[1].lower() if fmt is not None else None,
                cast_summary(opts))


def cast_summary(opts: PlanOptions) -> dict | None:
    """What the job list keeps of a conform's cast (each clip's own record is on its job)."""
    if opts.cast is None:
        return None
    return {"file": opts.cast.path, "characters": sorted(opts.cast.characters),
            "threshold": opts.cast.threshold, "voice_tracks": opts.voice_tracks,
            "not_rendered": opts.cast.not_rendered}


def cast_options(cast: str | None, voice_tracks: list[str] | None, dub_audio: str | None,
                 dub_track: str | None, faces=None) -> tuple[object, dict | None]:
    """The loaded cast and the voice tracks (track -> character), checked against each other."""
    if voice_tracks and not cast:
        raise LipflapError("--voice-track sends a character's dub to that character's face, which "
                           "needs the scene's cast: give --cast CAST.json (make one with "
                           "`lipflap cast`).")
    if voice_tracks and (dub_audio or dub_track):
        raise LipflapError("--voice-track gives each character a dub track; leave out "
                           "--dub-track/--dub-audio (or use one mixed --dub-track with --cast).")
    if not cast:
        return None, None
    from ..face.castfile import load_cast
    loaded = load_cast(cast, faces)
    tracks = {}
    for item in voice_tracks or []:
        name, eq, character = item.rpartition("=")
        name, character = name.strip(), character.strip()
        if not eq or not name or not character:
            raise LipflapError(f"--voice-track {item!r} is not TRACK=CHARACTER; write e.g. "
                               f"--voice-track \"Dub ES ANNA\"=ANNA.")
        if character not in loaded.characters:
            raise LipflapError(f"--voice-track {item!r}: {character} is not in the cast file "
                               f"{cast} (characters: {', '.join(loaded.characters)}); add them "
                               f"there or fix the name.")
        if name in tracks:
            raise LipflapError(f"--voice-track {name!r} is given twice; give each track once.")
        tracks[name] = character
    return loaded, tracks or None


def _apply_signing(jobs, signing: dict | None) -> None:
    """The signing keys replace each pending job's own (a resumed job list's included)."""
    if signing is None:
        return
    for cj in jobs:
        if cj.job is not None and cj.status == "pending":
            for k in ("sign_cert", "sign_key", "credentials"):
                cj.job.pop(k, None)
            cj.job.update(signing)


def _share_libraries(jobs, share: bool) -> None:
    """--share-library: each one-voice clip still to render gets the other clips' media as its
    actor library (docs/cli.md); the engine keeps the files showing the same actor and leaves
    out the others with a warning naming the file."""
    if not share:
        return
    media = sorted({os.path.abspath(cj.media) for cj in jobs if cj.media})
    for cj in jobs:
        if cj.job is None or cj.status != "pending" or "voices" in cj.job or "cast" in cj.job:
            continue
        others = [m for m in media if m != os.path.abspath(cj.job["video"])]
        if others:
            cj.job["library"] = others


def conform(timeline_path: str, outdir: str, *, dub_audio: str | None = None,
            dub_track: str | None = None, dub_start: str | None = None,
            language: str | None = None, share_library: bool = False,
            transcripts: str | None = None, edl_path: str | None = None, n_procs: int = 1,
            handles: int = 8, codec: str = "auto", mode: str = "full", rate: str | None = None,
            progress: Progress | None = None, cmd: list[str] | None = None,
            cluster: str | None = None, cpus_per_job: float = 1, path_map: list[str] | None = None,
            retries: int = 2, signing: dict | None = None, cast: str | None = None,
            voice_tracks: list[str] | None = None, faces=None) -> ConformResult:
    """Conform a cut; `cluster` (a Ray address) runs the jobs as Ray tasks (ray_runner.py) with
    `cpus_per_job`, `path_map` (LOCAL=REMOTE items) and `retries` per task, else `n_procs`
    local processes. `signing`: job keys (sign_cert, sign_key, credentials; docs/job.md) for
    every clip still to render, replacing a resumed job list's; None: as the jobs say, else
    the environment. `cast` (a cast file) with `voice_tracks` (TRACK=CHARACTER items) gives
    each clip the voices of the characters it shows, or with one mixed dub track their cast;
    `faces(video, first, last)` replaces lipflap.face.sightings.faces_in_clip (tests)."""
    progress = progress or Progress("none")
    run_all = _runner(n_procs, cluster, cpus_per_job, path_map, retries, cmd, progress)
    if not os.path.isfile(timeline_path):
        raise LipflapError(f"{timeline_path}: timeline file not found; check the path.")
    os.makedirs(outdir, exist_ok=True)
    if timeline_path.lower().endswith(".lipflap"):
        cut = _resume(timeline_path)
    else:
        loaded, tracks = cast_options(cast, voice_tracks, dub_audio, dub_track, faces)
        # The dub's absolute path: jobs and metadata hold it.
        opts = PlanOptions(outdir=outdir, language=language, cast=loaded, voice_tracks=tracks,
                           dub_audio=os.path.abspath(dub_audio) if dub_audio else None,
                           dub_track=dub_track, dub_start=dub_start, handles=handles, codec=codec, mode=mode,
                           transcripts=tr.load(transcripts) if transcripts else {})
        cut = _plan_cut(timeline_path, outdir, opts, rate, faces)
    _check_planned(timeline_path, cut)
    source, jobs, notes, language = cut.source, cut.jobs, cut.notes, cut.language
    dub_label, joblist_path, stem = cut.dub_label, cut.joblist_path, cut.stem
    source_format = cut.source_format
    _apply_signing(jobs, signing)
    _share_libraries(jobs, share_library)
    _before_running(jobs, notes, progress)
    out_tl = os.path.join(outdir, output_stem(stem, language) + ".otio")
    edl_path = edl_path or os.path.join(outdir, output_stem(stem, language) + ".edl")

    edls: list[str] = []
    probed: dict = {}

    def probe_once(path):
        # The outputs are rewritten after every clip; each render is read once, not once a clip.
        key = (path, os.path.getmtime(path))
        if key not in probed:
            probed[key] = probe_media(path)
        return probed[key]

    def write_outputs(_cj=None):
        if _cj is not None and _cj.status == "done":
            with contextlib.suppress(OSError):
                os.remove(claim_path(_cj.render))  # the render itself holds its name now
            _cj.read_run_report(progress.message)
        tl, bad = assemble(source, jobs, probe_once, language=language, dub_label=dub_label)
        for cj in bad:
            progress.message(cj.error)
        edls[:] = write_timeline(tl, out_tl, edl_path)
        joblist.save(joblist_path, source, jobs, language=language, dub_label=dub_label,
                     source_format=source_format, credentials=credentials_of(jobs),
                     cast=cut.cast)
        return tl

    back_path = (os.path.join(outdir, output_stem(stem, language) + source_format)
                 if source_format else None)
    write_outputs()
    try:
        run_all(jobs, os.path.join(outdir, "jobs"), os.path.join(outdir, "logs"), write_outputs)
    except KeyboardInterrupt:
        done = sum(cj.status == "done" for cj in jobs)
        _write_back(write_outputs(), back_path, progress)
        progress.message(f"interrupted: the {done} finished render(s) are kept in {out_tl} and "
                         f"{edl_path}; resume with `lipflap conform {joblist_path} -o {outdir}"
                         f"{' --cluster ' + cluster if cluster else ''}`.")
        raise
    warning = _write_back(write_outputs(), back_path, progress)
    return ConformResult(out_tl, edl_path, joblist_path, jobs, notes, list(edls),
                         back_path, warning, cut.cast)


def _check_planned(timeline_path: str, cut: _Cut) -> None:
    """A cut with nothing to render is one error saying why."""
    if not cut.jobs and cut.cast and cut.cast["not_rendered"]:
        raise LipflapError(f"{timeline_path}: no clip under the dub shows a character of the cast "
                           f"{cut.cast['file']} with a voice there; check the cast's references "
                           f"(`lipflap cast`) and the --voice-track names.")
    if not cut.jobs:
        raise LipflapError(f"{timeline_path}: no video clip lies under the dub; check --dub-track or "
                           f"--dub-audio and that the timeline has video clips.")


def _before_running(jobs, notes: list[str], progress: Progress) -> None:
    """Say the planning notes and the jobs that already failed, and read the reports of renders
    an earlier run of this job list finished (once each, said when unreadable)."""
    for n in notes:
        progress.message(n)
    for cj in jobs:
        if cj.status in ("failed", "refused"):
            progress.message(cj.error)
        cj.read_run_report(progress.message)


def _runner(n_procs: int, cluster: str | None, cpus_per_job: float, path_map: list[str] | None,
            retries: int, cmd: list[str] | None, progress: Progress):
    """run(jobs, jobs_dir, logs_dir, on_done): local processes, or Ray tasks on `cluster`. A
    missing Ray or a bad path map is one error here, before anything is planned or written."""
    if not cluster:
        if path_map:
            raise LipflapError("--path-map translates paths for the nodes of a cluster; give "
                               "--cluster ADDRESS with it, or leave it out for a local conform.")
        return lambda jobs, jdir, ldir, on_done: run_jobs(jobs, jdir, ldir, n_procs, progress,
                                                          on_done=on_done, cmd=cmd)
    from .ray_runner import Connection, PathMap, import_ray, run_jobs_ray  # noqa: PLC0415
    import_ray()
    maps = PathMap.parse(path_map)
    # Connected while the cut is planned (see Connection).
    connection = Connection(cluster, cpus_per_job)
    return lambda jobs, jdir, ldir, on_done: run_jobs_ray(
        jobs, jdir, ldir, progress, address=cluster, cpus_per_job=cpus_per_job, path_map=maps,
        retries=retries, on_done=on_done, cmd=cmd, connection=connection)


def _write_back(tl, path: str | None, progress: Progress) -> str | None:
    """The cut in the format it came in (AAF, FCP 7 XML, FCPXML); returns the one warning. Written
    at the end and on Ctrl-C, not after every clip: an AAF of a long cut takes seconds."""
    fmt = interchange.format_of(path) if path else None
    if fmt is None:
        return None
    warning = interchange.write_back(tl, path, fmt)
    if warning:
        progress.message(warning)
    return warning


def _brief(e: Exception, limit: int = 160) -> str:
    text = " ".join(f"{type(e).__name__}: {e}".split())
    return text if len(text) <= limit else text[:limit - 3] + "..."


def read_timeline(path: str, rate: str | None = None):
    """Any timeline OpenTimelineIO can read; EDLs get their rate from --rate or their media."""
    if not os.path.isfile(path):
        raise LipflapError(f"{path}: timeline file not found; check the path.")
    kwargs = {}
    fmt = interchange.format_of(path)
    if fmt is not None:
        interchange.adapter_check(fmt, path)
        interchange.check_readable(path, fmt)
    if path.lower().endswith(".edl"):
        r = parse_rate(rate) if rate else _edl_rate_from_media(path)
        kwargs["rate"] = float(r)
    try:
        # The AAF reader prints what it skips to stdout, which belongs to the progress protocol.
        with contextlib.redirect_stdout(sys.stderr):
            return otio.adapters.read_from_file(path, media_linker_name=None, **kwargs)
    except otio.exceptions.NoKnownAdapterForExtensionError:
        raise LipflapError(f"{path}: OpenTimelineIO has no adapter for this extension; export .otio "
                           f"or a CMX 3600 .edl, or install the adapter for it.") from None
    except Exception as e:  # noqa: BLE001 - adapters raise anything on a malformed file
        raise LipflapError(f"{path}: OpenTimelineIO cannot read this timeline ({type(e).__name__}: "
                           f"{e}); check the file or export it again.") from None


def _edl_rate_from_media(path: str):
    """An EDL carries no rate: take it from the media it names, when they all agree."""
    try:
        # Only the media paths matter here; any rate that parses the timecodes will do.
        tl = otio.adapters.read_from_file(path, rate=30000 / 1001, media_linker_name=None,
                                          ignore_timecode_mismatch=True)
    except Exception:  # noqa: BLE001
        raise LipflapError(f"{path}: an EDL carries no frame rate; give --rate (e.g. 23.976).") from None
    rates = set()
    for clip in tl.find_clips():
        p = media_path(clip.media_reference)
        if p and os.path.isfile(p):
            try:
                rates.add(probe_media(p).fps)
            except LipflapError:
                continue
    if len(rates) != 1:
        raise LipflapError(f"{path}: an EDL carries no frame rate and its media "
                           f"{'disagree' if rates else 'cannot be read'}; give --rate (e.g. 23.976).")
    return parse_rate(rates.pop())
