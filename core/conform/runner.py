"""Running conform's jobs: `lipflap run --job JOB.json` processes, N at a time, one progress bar.

Each job is an engine process driven through the contract's engine client (EngineRun: the
`--progress json` protocol, error lines, cancel), the same client the Resolve and Nuke plugins
use. The engine's stderr goes to one log file per job.
"""
from __future__ import annotations

import importlib.util
import os
import shlex
import socket
import sys
import threading
import time
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass, field

from ..contract.client import EngineRun
from ..contract.errors import LipflapError
from ..contract.files import atomic_json
from ..contract.progress import Progress

RUN_CMD_ENV = "LIPFLAP_RUN_CMD"


def run_command() -> list[str]:
    """The engine command: $LIPFLAP_RUN_CMD (split like a shell) or this Python's `lipflap run`."""
    env = os.environ.get(RUN_CMD_ENV)
    if env:
        return shlex.split(env)
    if importlib.util.find_spec("lipflap.commands.run") is None:
        raise LipflapError(f"`lipflap run` is not part of this build, so conform has no engine to run; "
                           f"install a build with it or point {RUN_CMD_ENV} at an engine command.")
    return [sys.executable, "-m", "lipflap", "run"]


@dataclass
class _Live:
    frames: int
    done: float = 0.0  # frames' worth of progress, never going backwards
    stage: str = ""
    messages: list[str] = field(default_factory=list)


def _run_one(cj, job_path: str, log_path: str, cmd: list[str], live: _Live, lock: threading.Lock,
             runs: dict, stop: threading.Event) -> tuple[int, str]:
    """Run one job; returns (exit code, the engine's last error line)."""
    if stop.is_set():
        return 130, "conform was interrupted before this clip started."

    def on_progress(stage: str, done: int, total: int) -> None:
        if total > 0:
            with lock:
                live.stage = stage
                # Stages restart at 0; the overall bar only moves forward.
                live.done = max(live.done, min(max(done / total, 0.0), 1.0) * live.frames * 0.99)

    def on_message(text: str) -> None:
        with lock:
            live.messages.append(text)

    with open(log_path, "w", encoding="utf-8") as log:
        try:
            run = EngineRun(["--job", job_path], engine=cmd, on_progress=on_progress,
                            on_message=on_message, log=log)
        except OSError as e:
            return 127, f"cannot start the engine {cmd[0]!r} ({e.strerror}); check {RUN_CMD_ENV}."
        with lock:
            runs[cj.key] = run
            cj.attempts.append({"node": socket.gethostname(), "pid": run.proc.pid, "at": time.time()})
        res = run.wait()
        with lock:
            runs.pop(cj.key, None)
    return res.returncode, res.error


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
    runs: dict = {}
    live = {cj.key: _Live(frames=cj.job["end_frame"] - cj.job["start_frame"] + 1) for cj in pending}
    total = sum(lv.frames for lv in live.values())
    progress.start(f"conform {len(pending)} clip{'s' if len(pending) != 1 else ''}", total)
    futures = {}
    with ThreadPoolExecutor(max_workers=max(1, n_procs)) as pool:
        for cj in pending:
            # A job list may put renders anywhere; the engine writes into an existing folder.
            os.makedirs(os.path.dirname(cj.render), exist_ok=True)
            job_path = os.path.join(jobs_dir, cj.key + ".json")
            atomic_json(job_path, cj.job)
            log_path = os.path.join(logs_dir, cj.key + ".log")
            futures[pool.submit(_run_one, cj, job_path, log_path, cmd, live[cj.key], lock, runs,
                                stop)] = (cj, log_path)
        try:
            remaining = set(futures)
            while remaining:
                finished, remaining = wait(remaining, timeout=0.25, return_when=FIRST_COMPLETED)
                for fut in finished:
                    cj, log_path = futures[fut]
                    _finish(cj, log_path, *fut.result(), live[cj.key], lock, progress)
                    if on_done is not None:
                        on_done(cj)
                with lock:
                    progress.set(int(sum(lv.done for lv in live.values())))
        except BaseException:
            # Ctrl-C or a bug: stop the engines; finished renders and outputs stay as written.
            stop.set()
            with lock:
                for run in list(runs.values()):
                    run.cancel()
            for fut in futures:
                fut.cancel()
            raise
    progress.set(total)


def _finish(cj, log_path: str, rc: int, err: str, lv: _Live, lock: threading.Lock,
            progress: Progress) -> None:
    """Set a finished job's status and error, and pass its engine's messages on."""
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
