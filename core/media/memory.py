"""Giving freed memory back to the system between the stages of a long job.

A long shot's tracking pass allocates hundreds of thousands of small arrays (a few kB of
landmarks and a mouth patch per frame) between big short-lived ones (decoded frames). When the
pass ends and they are freed, glibc keeps the pages: free chunks in the middle of the heap are
not returned, so the process keeps the tracking pass's size through the render (measured on a
10-minute 320x320 shot: ~40 MB of the 3000-frame tracking pass came back only with malloc_trim).
`release()` returns them (about 10 ms); elsewhere it does nothing. It does not run the cycle
collector: the stages' data are freed by reference counting, and a full collection over the
Face Mesh and torch objects costs ~0.15 s a call.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import sys


def _trim():
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        fn = libc.malloc_trim
    except (OSError, AttributeError):
        return None     # musl and others have no malloc_trim
    fn.argtypes = [ctypes.c_size_t]
    fn.restype = ctypes.c_int
    return fn


_MALLOC_TRIM = _trim()


def release() -> None:
    """Hand free heap pages back to the system (between stages)."""
    if _MALLOC_TRIM is not None:
        _MALLOC_TRIM(0)

