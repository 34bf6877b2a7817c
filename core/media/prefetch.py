"""Decoding (and RGB conversion) a few frames ahead in a thread, beside the stage that uses them.

FFmpeg's decoders, swscale and the stages after them (Face Mesh, OpenCV, numpy) release the GIL,
so a pass that decodes in its own thread runs decode and analysis at once instead of one after
the other. The queue is short (a few frames), so memory stays a few frames' worth; errors in the
decoding thread (a damaged file) are raised in the caller's thread at the frame they happened,
and a caller that stops early stops the decoder and closes the file.
"""
from __future__ import annotations

import queue
import threading
from typing import Callable, Iterable, Iterator

_END = object()


class _Failure:
    def __init__(self, exc: BaseException):
        self.exc = exc


def prefetched(frames: Iterable, depth: int = 3, rgb: bool = True,
               prepare: Callable | None = None) -> Iterator:
    """The items of `frames` (media Frames), produced in a thread up to `depth` ahead; with
    `rgb`, each frame's `image` is converted there too. With `prepare`, the items are
    (frame, prepare(frame)) pairs, prepare running in that thread (work on a frame that does not
    wait for the caller's result on the frame before)."""
    q: queue.Queue = queue.Queue(maxsize=max(1, depth))
    stop = threading.Event()

    def put(item) -> bool:
        while not stop.is_set():
            try:
                q.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce():
        it = iter(frames)
        try:
            for fr in it:
                if rgb:
                    fr.image  # noqa: B018 - converted here, off the caller's thread
                if prepare is not None:
                    fr = (fr, prepare(fr))
                if not put(fr):
                    break
            else:
                put(_END)
        except BaseException as e:  # noqa: BLE001 - handed to the caller's thread
            put(_Failure(e))
        finally:
            close = getattr(it, "close", None)
            if close is not None:
                close()

    worker = threading.Thread(target=produce, name="lipflap-decode", daemon=True)
    worker.start()
    try:
        while True:
            item = q.get()
            if item is _END:
                return
            if isinstance(item, _Failure):
                raise item.exc
            yield item
    finally:
        stop.set()
        # Drain so a producer blocked on a full queue sees the stop at once.
        while True:
            try:
                q.get_nowait()
            except queue.Empty:
                break
        worker.join()
