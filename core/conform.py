"""`lipflap conform`: a cut in, lip-synced renders, a new timeline and an EDL out.

Planning (which clips, which frames, which dub span) and assembly (the render track, markers,
the EDL) are OpenTimelineIO work and live in `lipflap_otio`; this module probes media, runs the
jobs as `lipflap run --job JOB.json --progress json` processes, N at a time, with one overall
progress bar, and rewrites the timeline and EDL after every finished clip so that a crash never
loses the renders already done.
"""
from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import threading
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass, field

from .contract.errors import LipflapError
from .contract.progress import Progress

RUN_CMD_ENV = "LIPFLAP_RUN_CMD"


# ---------------------------------------------------------------- media

def probe_media(path: str):
    """A video file's rate, start timecode (as frames, drop-frame aware) and frame count, read
    by lipflap.media.probe, for planning and for placing renders."""
    from lipflap_otio.plan import MediaInfo
    from .media.probe import probe
    info = probe(path)
    return MediaInfo(fps=info.fps, start_tc_frames=int(info.start_tc_frames),
                     frames=int(info.frame_count))


# ---------------------------------------------------------------- running jobs

def run_command() -> list[str]:
    """The engine command: $LIPFLAP_RUN_CMD (split like a shell) or this Python's `lipflap run`."""
    env = os.environ.get(RUN_CMD_ENV)
    if env:
        return shlex.split(env)
    import importlib.util
    if importlib.util.find_spec("lipflap.commands.run") is None:
        raise LipflapError(f"`lipflap run` is not part of this build, so conform has no engine to run; "
                           f"install a build with it or point {RUN_CMD_ENV} at an engine command.")
    return [sys.executable, "-m", "lipflap", "run"]


@dataclass
class _Live:
    frames: int
    done: float = 0.0  # frames' worth of progress, never going backwards
    stage: str = ""
    result: object = None
    messages: list[str] = field(default_factory=list)


def _run_one(cj, job_path: str, log_path: str, cmd: list[str], live: _Live, lock: threading.Lock,
             procs: dict, stop: threading.Event) -> tuple[int, str]:
    """Run one job; returns (exit code, last error line)."""
    with open(log_path, "w", encoding="utf-8") as log:
        if stop.is_set():
            return 130, "conform was interrupted before this clip started."
        try:
            p = subprocess.Popen(cmd + ["--job", job_path, "--progress", "json"],
                                 stdout=subprocess.PIPE, stderr=log, text=True, bufsize=1,
                                 encoding="utf-8", errors="replace")
        except OSError as e:
            return 127, f"cannot start the engine {cmd[0]!r} ({e.strerror}); check {RUN_CMD_ENV}."
        with lock:
            procs[cj.key] = p
        for line in p.stdout:
            line = line.strip()
            if not line:
                continue
            try:
                obj = json.loads(line)
            except ValueError:
                log.write(f"[stdout] {line}\n")
                continue
            if not isinstance(obj, dict):
                continue
            with lock:
                if "stage" in obj and isinstance(obj.get("total"), (int, float)) and obj["total"] > 0:
                    frac = min(max(float(obj.get("done", 0)) / obj["total"], 0.0), 1.0)
                    live.stage = str(obj["stage"])
                    # Stages restart at 0; the overall bar only moves forward.
                    live.done = max(live.done, frac * live.frames * 0.99)
                elif "result" in obj:
                    live.result = obj["result"]
                elif "message" in obj:
                    live.messages.append(str(obj["message"]))
        rc = p.wait()
        with lock:
            procs.pop(cj.key, None)
    err = ""
    if rc != 0:
        try:
            with open(log_path, encoding="utf-8", errors="replace") as f:
                tail = [ln.strip() for ln in f if ln.strip() and not ln.startswith("[stdout]")]
        except OSError:
            tail = []
        err = tail[-1] if tail else f"the engine exited with code {rc} and no message"
        for prefix in ("lipflap: error: ", "lipflap: "):
            if err.startswith(prefix):
                err = err[len(prefix):]
    return rc, err


def run_jobs(jobs, jobs_dir: str, logs_dir: str, n_procs: int, progress: Progress,
             on_done=None, cmd: list[str] | None = None) -> None:
    """Run every pending job, `n_procs` at a time; sets each job's status and error.

    `on_done(job)` is called in this thread after each job ends (success or not), so the caller
    can rewrite the timeline and EDL of what is finished so far.
    """
    pending = [cj for cj in jobs if cj.status == "pending" and cj.job is not None]
    if not pending:
        return
    cmd = cmd or run_command()
    os.makedirs(jobs_dir, exist_ok=True)
    os.makedirs(logs_dir, exist_ok=True)
    lock = threading.Lock()
    stop = threading.Event()
    procs: dict = {}
    live = {cj.key: _Live(frames=cj.job["end_frame"] - cj.job["start_frame"] + 1) for cj in pending}
    total = sum(lv.frames for lv in live.values())
    progress.start(f"conform {len(pending)} clip{'s' if len(pending) != 1 else ''}", total)
    futures = {}
    with ThreadPoolExecutor(max_workers=max(1, n_procs)) as pool:
        for cj in pending:
            # A job list may put renders anywhere; the engine writes into an existing folder.
            os.makedirs(os.path.dirname(cj.render), exist_ok=True)
            job_path = os.path.join(jobs_dir, cj.key + ".json")
            with open(job_path, "w", encoding="utf-8") as f:
                json.dump(cj.job, f, indent=2)
            log_path = os.path.join(logs_dir, cj.key + ".log")
            futures[pool.submit(_run_one, cj, job_path, log_path, cmd, live[cj.key], lock, procs,
                                stop)] = (cj, log_path)
        try:
            remaining = set(futures)
            while remaining:
                finished, remaining = wait(remaining, timeout=0.25, return_when=FIRST_COMPLETED)
                for fut in finished:
                    cj, log_path = futures[fut]
                    rc, err = fut.result()
                    lv = live[cj.key]
                    for msg in lv.messages:
                        progress.message(f"{cj.key}: {msg}")
                    if rc == 0 and os.path.isfile(cj.render):
                        cj.status, cj.error = "done", None
                    elif rc == 0:
                        cj.status, cj.error = "failed", (
                            f"{cj.where}: the engine exited 0 but wrote no {cj.render}; see {log_path}.")
                    else:
                        cj.status, cj.error = "failed", f"{cj.where}: {err} (log: {log_path})"
                    with lock:
                        lv.done = lv.frames
                    if cj.status == "failed":
                        progress.message(cj.error)
                    if on_done is not None:
                        on_done(cj)
                with lock:
                    progress.set(int(sum(lv.done for lv in live.values())))
        except BaseException:
            # Ctrl-C or a bug: stop the engines; finished renders and outputs stay as written.
            stop.set()
            with lock:
                for p in list(procs.values()):
                    p.terminate()
            for fut in futures:
                fut.cancel()
            raise
    progress.set(total)


# ---------------------------------------------------------------- the whole conform

@dataclass
class ConformResult:
    timeline_path: str
    edl_path: str
    joblist_path: str
    jobs: list
    notes: list[str]
    edl_paths: list[str] = field(default_factory=list)  # one per render track, edl_path first

    @property
    def failed(self):
        return [cj for cj in self.jobs if cj.status != "done"]


def conform(timeline_path: str, outdir: str, *, dub_audio: str | None = None,
            dub_track: str | None = None, dub_start: str | None = None,
            language: str | None = None,
            transcripts: str | None = None, edl_path: str | None = None, n_procs: int = 1,
            handles: int = 8, codec: str = "prores_hq", mode: str = "full", rate: str | None = None,
            progress: Progress | None = None, cmd: list[str] | None = None) -> ConformResult:
    import opentimelineio as otio
    from lipflap_otio import joblist
    from lipflap_otio.assemble import assemble, atomic_write, write_edl
    from lipflap_otio.plan import PlanError, PlanOptions, plan
    from .contract import transcripts as tr

    progress = progress or Progress("none")
    dub_audio = os.path.abspath(dub_audio) if dub_audio else None  # jobs and metadata hold it
    if not os.path.isfile(timeline_path):
        raise LipflapError(f"{timeline_path}: timeline file not found; check the path.")
    os.makedirs(outdir, exist_ok=True)
    stem = os.path.splitext(os.path.basename(timeline_path))[0]
    if timeline_path.lower().endswith(".lipflap"):
        # A job list written by the OTIO adapter: its jobs, names and dub are already decided.
        try:
            jl = joblist.load(timeline_path)
        except ValueError as e:
            raise LipflapError(str(e)) from None  # already names the file and what to do
        except (OSError, KeyError, TypeError) as e:
            raise LipflapError(f"{timeline_path}: cannot read this job list ({e}); write it again "
                               f"with `otioconvert -i CUT -o JOBS.lipflap`.") from None
        source, jobs, notes = jl.timeline, jl.jobs, []
        language = jl.language
        dub_label = jl.dub_label
        for cj in jobs:
            if cj.status == "pending" and cj.render and os.path.exists(cj.render):
                cj.status = "done"  # rendered by an earlier run: never render over it
        joblist_path = timeline_path
        # Resuming conform's own job list: its outputs keep their names.
        suffix = f"_lipflap_{language or 'und'}"
        if stem.endswith(suffix):
            stem = stem[:-len(suffix)]
    else:
        source = read_timeline(timeline_path, rate)
        opts = PlanOptions(outdir=outdir, language=language, dub_audio=dub_audio, dub_track=dub_track,
                           dub_start=dub_start,
                           handles=handles, codec=codec, mode=mode,
                           transcripts=tr.load(transcripts) if transcripts else {})
        try:
            jobs, notes = plan(source, opts, probe_media)
        except PlanError as e:
            raise LipflapError(f"{timeline_path}: {e}") from None
        except (otio.exceptions.OTIOError, ValueError, ArithmeticError) as e:
            # A malformed item (a clip without any range, a negative time) fails inside OTIO's
            # own time maths: name the file, not a traceback.
            raise LipflapError(f"{timeline_path}: the timeline cannot be planned ({_brief(e)}); "
                               f"check its clips' source ranges and rates, or export it again.") from None
        dub_label = dub_audio or (f"track {dub_track}" if dub_track else None)
        joblist_path = os.path.join(outdir, f"{stem}_lipflap_{language or 'und'}.lipflap")
    if not jobs:
        raise LipflapError(f"{timeline_path}: no video clip lies under the dub; check --dub-track or "
                           f"--dub-audio and that the timeline has video clips.")
    for n in notes:
        progress.message(n)
    for cj in jobs:
        if cj.status in ("failed", "refused"):
            progress.message(cj.error)
    out_tl = os.path.join(outdir, f"{stem}_lipflap_{language or 'und'}.otio")
    edl_path = edl_path or os.path.join(outdir, f"{stem}_lipflap_{language or 'und'}.edl")

    edls: list[str] = []
    probed: dict = {}

    def probe_once(path):
        # The outputs are rewritten after every clip; each render is read once, not once a clip.
        key = (path, os.path.getmtime(path))
        if key not in probed:
            probed[key] = probe_media(path)
        return probed[key]

    def write_outputs(_cj=None):
        tl, bad = assemble(source, jobs, probe_once, language=language, dub_label=dub_label)
        for cj in bad:
            progress.message(cj.error)
        atomic_write(out_tl, otio.adapters.write_to_string(tl, "otio_json"))
        edls[:] = write_edl(tl, edl_path)
        joblist.save(joblist_path, source, jobs, language=language, dub_label=dub_label)

    write_outputs()
    try:
        run_jobs(jobs, os.path.join(outdir, "jobs"), os.path.join(outdir, "logs"), n_procs, progress,
                 on_done=write_outputs, cmd=cmd)
    except KeyboardInterrupt:
        done = sum(cj.status == "done" for cj in jobs)
        progress.message(f"interrupted: the {done} finished render(s) are kept in {out_tl} and "
                         f"{edl_path}; resume with `lipflap conform {joblist_path} -o {outdir}`.")
        raise
    write_outputs()
    return ConformResult(out_tl, edl_path, joblist_path, jobs, notes, list(edls))


def _brief(e: Exception, limit: int = 160) -> str:
    text = " ".join(f"{type(e).__name__}: {e}".split())
    return text if len(text) <= limit else text[:limit - 3] + "..."


def read_timeline(path: str, rate: str | None = None):
    """Any timeline OpenTimelineIO can read; EDLs get their rate from --rate or their media."""
    import opentimelineio as otio
    if not os.path.isfile(path):
        raise LipflapError(f"{path}: timeline file not found; check the path.")
    kwargs = {}
    if path.lower().endswith(".edl"):
        from .contract.rates import parse_rate
        r = parse_rate(rate) if rate else _edl_rate_from_media(path)
        kwargs["rate"] = float(r)
    try:
        return otio.adapters.read_from_file(path, media_linker_name=None, **kwargs)
    except otio.exceptions.NoKnownAdapterForExtensionError:
        raise LipflapError(f"{path}: OpenTimelineIO has no adapter for this extension; export .otio "
                           f"or a CMX 3600 .edl, or install the adapter for it.") from None
    except Exception as e:  # noqa: BLE001 - adapters raise anything on a malformed file
        raise LipflapError(f"{path}: OpenTimelineIO cannot read this timeline ({type(e).__name__}: "
                           f"{e}); check the file or export it again.") from None


def _edl_rate_from_media(path: str):
    """An EDL carries no rate: take it from the media it names, when they all agree."""
    import opentimelineio as otio
    from .contract.rates import parse_rate
    from lipflap_otio.plan import media_path
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
