"""A stage run in a thread beside another (the dub's mouth track beside the picture analysis:
the analysis pass leaves the second core about half idle, docs/speed.md), with its progress held
back and given to the host in the order the stages had when they ran one after the other; and
work on each frame that the pass's next frame does not wait for, run in a thread behind it
(Behind)."""
from __future__ import annotations

import queue
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


class Behind:
    """`Behind(fn)` is called as fn would be, `behind(*args)`, and runs fn(*args) in a thread of
    its own, in the order called, up to `depth` calls behind the caller (who waits when it is that
    far ahead; each call's arguments are held, not copied, until it has run). `close()` waits for
    the calls made and raises the first error of fn in the caller's thread; after an error the
    calls left are not run and the next call raises it at once."""

    def __init__(self, fn: Callable[..., Any], depth: int = 3, name: str = "lipflap-behind"):
        self._fn = fn
        self._name = name
        self._queue: queue.Queue = queue.Queue(maxsize=max(1, depth))
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None
        self._told = False

    def __call__(self, *args) -> None:
        self._raise()
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, daemon=True, name=self._name)
            self._thread.start()
        self._queue.put(args)

    def _run(self) -> None:
        while (args := self._queue.get()) is not None:
            if self._error is None:
                try:
                    self._fn(*args)
                except BaseException as e:  # noqa: BLE001 - raised again in the caller's thread
                    self._error = e

    def _raise(self) -> None:
        if self._error is not None and not self._told:
            self._told = True
            raise self._error

    def close(self, quiet: bool = False) -> None:
        """Wait for the calls made; raise fn's error (once) unless `quiet` (the caller is
        failing for another reason)."""
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join()
            self._thread = None
        if quiet:
            self._told = True
        self._raise()
