"""Driving the engine from a host (Resolve, Nuke, conform's runner): standard library only.

Hosts embed their own Python and must never import torch or mediapipe, so this module imports
nothing outside the standard library; Resolve's and Nuke's plugins load the contract package it
belongs to by path from the engine's installation (recorded by `lipflap install`). The engine
always runs as a separate process through the CLI contract, so a crash or a heavy dependency
never takes the host down.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from typing import Callable, TextIO

from .files import atomic_json



def user_config_dir() -> str:
    if sys.platform == "win32":
        base = os.environ.get("APPDATA") or os.path.expanduser("~\\AppData\\Roaming")
        return os.path.join(base, "lipflap")
    if sys.platform == "darwin":
        return os.path.expanduser("~/Library/Application Support/lipflap")
    return os.path.join(os.environ.get("XDG_CONFIG_HOME") or os.path.expanduser("~/.config"), "lipflap")


def find_engine() -> list[str]:
    """The command that starts the engine, e.g. ['/opt/lipflap/.venv/bin/lipflap'].

    $LIPFLAP_ENGINE (a path, or a JSON list for an engine started through its interpreter), then
    `lipflap` on PATH. `lipflap install nuke` sets $LIPFLAP_ENGINE in the user's init.py and
    `lipflap install resolve` writes the command into the launcher script, which passes it as
    `engine=`; no separate engine record is read, so there is one place the command lives per
    host. Raises RuntimeError saying what to do.
    """
    env = os.environ.get("LIPFLAP_ENGINE")
    if env:
        # A JSON list spells an engine started through its interpreter ([python, -m, lipflap]).
        if env.lstrip().startswith("["):
            try:
                cmd = json.loads(env)
            except ValueError:
                cmd = None
            if isinstance(cmd, list) and cmd and all(isinstance(c, str) for c in cmd):
                return cmd
        return [env]
    found = shutil.which("lipflap")
    if found:
        return [found]
    raise RuntimeError("the lipflap engine was not found; run `lipflap install resolve` or "
                       "`lipflap install nuke` from the engine's environment, or set LIPFLAP_ENGINE "
                       "to the path of its `lipflap` command.")


@dataclass
class EngineResult:
    returncode: int
    result: object = None
    error: str = ""
    messages: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.returncode == 0


class EngineRun:
    """One engine process started with `--progress json`, read line by line.

    on_progress(stage, done, total) and on_message(text) are called from a reader thread; hosts
    marshal them to their UI thread themselves (nuke.executeInMainThread, Resolve's dispatcher).
    `log`, when given, receives the engine's stderr lines and any stdout line that is not JSON
    (prefixed `[stdout] `) as they arrive. Popen's OSError (no such engine) reaches the caller.
    """

    def __init__(self, args: list[str], engine: list[str] | None = None,
                 on_progress: Callable[[str, int, int], None] | None = None,
                 on_message: Callable[[str], None] | None = None, cwd: str | None = None,
                 log: TextIO | None = None):
        self.cmd = list(engine or find_engine()) + list(args)
        if "--progress" not in args:
            self.cmd += ["--progress", "json"]
        self.on_progress = on_progress
        self.on_message = on_message
        self.log = log
        self._log_lock = threading.Lock()
        kwargs: dict = {}
        if sys.platform == "win32":
            kwargs["creationflags"] = getattr(subprocess, "CREATE_NEW_PROCESS_GROUP", 0)
        else:
            kwargs["start_new_session"] = True  # so cancel reaches the engine's own children
        # No shell, ever: paths with spaces, quotes or metacharacters pass through untouched.
        self.proc = subprocess.Popen(self.cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     stdin=subprocess.DEVNULL, cwd=cwd, text=True,
                                     encoding="utf-8", errors="replace", **kwargs)
        self._result: object = None
        self._messages: list[str] = []
        self._stderr: list[str] = []
        self._threads = [threading.Thread(target=self._read_stdout, daemon=True),
                         threading.Thread(target=self._read_stderr, daemon=True)]
        for t in self._threads:
            t.start()
        self.cancelled = False

    def _read_stdout(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            line = line.strip()
            if not line:
                continue
            try:
                obj = json.loads(line)
            except ValueError:
                self._messages.append(line)
                self._log(f"[stdout] {line}")
                continue
            if not isinstance(obj, dict):
                continue
            if "result" in obj:
                self._result = obj["result"]
            elif "message" in obj:
                self._messages.append(str(obj["message"]))
                if self.on_message:
                    self.on_message(str(obj["message"]))
            elif "stage" in obj and self.on_progress:
                self.on_progress(str(obj["stage"]), int(obj.get("done", 0)), int(obj.get("total", 0)))

    def _read_stderr(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self._stderr.append(line.rstrip("\n"))
            self._log(line.rstrip("\n"))

    def _log(self, line: str) -> None:
        if self.log is not None:
            with self._log_lock:
                self.log.write(line + "\n")
                self.log.flush()

    def cancel(self) -> None:
        self.cancelled = True
        if self.proc.poll() is None:
            try:
                if sys.platform == "win32":
                    self.proc.terminate()
                else:
                    os.killpg(self.proc.pid, signal.SIGTERM)
            except (ProcessLookupError, PermissionError):
                pass

    def poll(self) -> int | None:
        return self.proc.poll()

    def wait(self, timeout: float | None = None) -> EngineResult:
        code = self.proc.wait(timeout)
        for t in self._threads:
            t.join(5)
        errors = [_unprefixed(ln.strip()) for ln in self._stderr if ln.strip()]
        error = ""
        if code != 0:
            error = ("cancelled" if self.cancelled else
                     (errors[-1] if errors else f"the engine exited with code {code} and no message"))
        return EngineResult(code, self._result, error, self._messages)


def _unprefixed(line: str) -> str:
    """An engine error line without the CLI's `lipflap: error: ` (or `lipflap: `) prefix."""
    for prefix in ("lipflap: error: ", "lipflap: "):
        if line.startswith(prefix):
            return line[len(prefix):]
    return line


def run_job(job: dict, job_path: str, engine: list[str] | None = None,
            on_progress: Callable[[str, int, int], None] | None = None) -> EngineRun:
    """Write `job` (the job contract, lipflap.contract.jobspec) to job_path and start
    `lipflap run --job`."""
    os.makedirs(os.path.dirname(os.path.abspath(job_path)), exist_ok=True)
    atomic_json(job_path, job)
    return EngineRun(["run", "--job", job_path], engine=engine, on_progress=on_progress)
