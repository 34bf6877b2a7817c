"""A stage run in a thread beside another (the dub's mouth track beside the picture analysis:
the analysis pass leaves the second core about half idle, docs/speed.md), with its progress held
back and given to the host in the order the stages had when they ran one after the other."""
from __future__ import annotations

import threading
from typing import Any, Callable


class _Held:
    """Progress calls recorded for later (the host's Progress is one stage at a time)."""

    def __init__(self):
        self.calls: list[tuple[str, tuple]] = []

    def start(self, stage: str, total: int) -> None:
        self.calls.append(("start", (stage, total)))

    def advance(self, n: int = 1) -> None:
        self.calls.append(("advance", (n,)))

    def set(self, done: int) -> None:
        self.calls.append(("set", (done,)))

    def message(self, text: str) -> None:
        self.calls.append(("message", (text,)))


class Beside:
    """`Beside(fn, *args)` starts fn(*args, progress=held) in a thread; `result(progress)` waits,
    replays the held progress on `progress` and returns fn's result or raises its error."""

    def __init__(self, fn: Callable[..., Any], *args):
        self._held = _Held()
        self._value: Any = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, args=(fn, args), daemon=True,
                                        name="lipflap-beside")
        self._thread.start()

    def _run(self, fn, args) -> None:
        try:
            self._value = fn(*args, progress=self._held)
        except BaseException as e:  # noqa: BLE001 - raised again in the caller's thread
            self._error = e

    def result(self, progress) -> Any:
        self._thread.join()
        for name, args in self._held.calls:
            getattr(progress, name)(*args)
        if self._error is not None:
            raise self._error
        return self._value

    def wait(self) -> None:
        """Wait without taking the result (the caller is failing for another reason)."""
        self._thread.join()
