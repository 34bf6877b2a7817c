"""Progress reporting for the CLI contract.

`json` mode prints one JSON object per line on stdout (`{"stage", "done", "total"}`) and a final
`{"result": ...}`, which is what the Resolve, Nuke and conform drivers parse; `bar` draws a bar on
stderr; `none` is silent. Stages report through the same object so the hosts see every stage.
"""
from __future__ import annotations

import json
import sys
import time
from typing import Any, TextIO


class Progress:
    def __init__(self, mode: str = "auto", out: TextIO | None = None, err: TextIO | None = None):
        self.out = out or sys.stdout
        self.err = err or sys.stderr
        if mode == "auto":
            mode = "bar" if getattr(self.err, "isatty", lambda: False)() else "none"
        if mode not in ("bar", "json", "none"):
            raise ValueError(f"unknown progress mode {mode!r}")
        self.mode = mode
        self._stage = ""
        self._total = 0
        self._done = 0
        self._last_emit = 0.0
        self._t0 = time.monotonic()

    def start(self, stage: str, total: int) -> None:
        self._finish_bar()
        self._stage, self._total, self._done = stage, int(total), 0
        self._t0 = time.monotonic()
        self._emit(force=True)

    def advance(self, n: int = 1) -> None:
        self._done += n
        self._emit(force=self._done >= self._total)

    def set(self, done: int) -> None:
        self._done = done
        self._emit(force=self._done >= self._total)

    def message(self, text: str) -> None:
        """A warning or note for the user; in json mode it is an object of its own."""
        if self.mode == "json":
            self._json({"message": text})
        else:
            self._finish_bar()
            print(f"lipflap: {text}", file=self.err, flush=True)

    def result(self, value: Any) -> None:
        self._finish_bar()
        if self.mode == "json":
            self._json({"result": value})

    def _emit(self, force: bool = False) -> None:
        now = time.monotonic()
        # Hosts poll stdout; throttle so a 100k-frame job does not print 100k lines.
        if not force and now - self._last_emit < 0.2:
            return
        self._last_emit = now
        if self.mode == "json":
            self._json({"stage": self._stage, "done": self._done, "total": self._total})
        elif self.mode == "bar":
            total = max(self._total, 1)
            frac = min(self._done / total, 1.0)
            width = 30
            filled = int(frac * width)
            elapsed = now - self._t0
            eta = (elapsed / frac - elapsed) if frac > 0 else 0.0
            self.err.write(f"\r{self._stage:<12} [{'#' * filled}{'.' * (width - filled)}] "
                           f"{self._done}/{self._total} {elapsed:5.1f}s eta {eta:5.1f}s")
            self.err.flush()

    def _finish_bar(self) -> None:
        if self.mode == "bar" and self._stage:
            self.err.write("\n")
            self.err.flush()
            self._stage = ""

    def _json(self, obj: dict) -> None:
        self.out.write(json.dumps(obj, default=str) + "\n")
        self.out.flush()
