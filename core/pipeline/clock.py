"""Seconds per stage of a run, for the report's timing_s (one-voice and dialogue runs alike)."""
from __future__ import annotations

import time
from contextlib import contextmanager


class StageClock:
    """`with clock.stage("render"): ...` records that stage's wall seconds in `seconds`."""

    def __init__(self):
        self.t0 = time.perf_counter()
        self.seconds: dict[str, float] = {}

    @contextmanager
    def stage(self, name: str):
        t = time.perf_counter()
        yield
        self.seconds[name] = time.perf_counter() - t
