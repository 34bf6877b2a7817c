"""A MediaPipe model made on a thread of its own from the moment it is asked for.

The tracking pass's first frame used to make its models one after the other on its one chain:
the detector's graph (~0.14 s at load 12), a deep detection with it (~0.24 s), and only then the
tracker's own Face Mesh (~0.09 s), which the first face found needs (docs/speed.md, sixth and
seventh rounds). Both graphs are C++ that leaves the GIL, so made on threads started as the pass
begins, the detector is made while the first frame is decoded and the mesh while the detector
looks. The models are the same ones, made the same way (their one blank inference included),
only earlier; fd 2 is silenced by their constructors through the one shared redirection
(lipflap.face.mesh.native_stderr_silenced).
"""
from __future__ import annotations

import threading
from concurrent.futures import Future
from typing import Callable


class Warm:
    """`Warm(make)` starts make() on a thread. `take()` waits and gives its model, or raises what
    making it raised, where the caller would have made it in place (so an error is raised at the
    same point as before). `close()` waits for the thread and closes a model nobody took: no
    thread is left running after it, whatever happened."""

    def __init__(self, make: Callable[[], object], name: str = "lipflap-warm-model"):
        self._made: Future = Future()
        self._taken = False
        self._thread = threading.Thread(target=self._run, args=(make,), daemon=True, name=name)
        self._thread.start()

    def _run(self, make) -> None:
        try:
            self._made.set_result(make())
        except BaseException as e:  # noqa: BLE001 - raised again by take()
            self._made.set_exception(e)

    def take(self):
        if self._taken:
            raise RuntimeError("a warm model is taken once")
        self._thread.join()
        self._taken = True
        return self._made.result()

    def close(self) -> None:
        self._thread.join()
        if self._taken:
            return
        self._taken = True
        if self._made.exception() is None:
            self._made.result().close()
