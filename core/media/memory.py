"""Giving freed memory back to the system between the stages of a long job.

A long shot's tracking pass allocates hundreds of thousands of small arrays (a few kB of
landmarks and a mouth patch per frame) between big short-lived ones (decoded frames). When the
pass ends and they are freed, glibc keeps the pages: free chunks in the middle of the heap are
not returned, so the process keeps the tracking pass's size through the render (measured on a
10-minute 320x320 shot: ~40 MB of the 3000-frame tracking pass came back only with malloc_trim).
`release()` returns them (about 10 ms); elsewhere it does nothing. It does not run the cycle
collector: the stages' data are freed by reference counting, and a full collection over the
Face Mesh and torch objects costs ~0.15 s a call.

Within a stage the opposite holds: `reuse_freed_pages()` (the `lipflap` command calls it at its
start) has glibc serve big blocks from its heap and keep their pages when they are freed.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import sys


# glibc's malloc gives a block over its mmap threshold pages of its own, fresh from the system and
# handed back when freed, and trims the heap's top once more than twice that threshold is free.
# The threshold starts at 128 kB and rises only to each larger block freed, so a render that
# makes a frame-sized block per frame (decoded boxes, converted frames, the synthesis' working
# arrays: 0.5-9 MB at 1080p) faulted fresh pages over and over: on the bench run (scratch
# timelines of bench/bench_run.py's job, 2026-12-06) 240k-300k minor faults, ~1.2-1.5 s of system
# time. Fixed thresholds of 64 MB (a UHD 4:2:2 10-bit frame is 33 MB) and 128 MB: 210k-216k
# faults and ~0.17 s less wall time on the run (six alternated idle pairs, median 13.80 -> 13.63 s).
# The heap keeps at most TRIM_THRESHOLD of free pages beyond what `release()` hands back: bounded,
# flat in the clip's length.
MMAP_THRESHOLD = 64 << 20
TRIM_THRESHOLD = 128 << 20
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3       # glibc's malloc.h


def _libc_fn(name: str):
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return getattr(libc, name)
    except (OSError, AttributeError):
        return None     # musl and others have neither malloc_trim nor these mallopt options


def reuse_freed_pages() -> bool:
    """Set this process's malloc to keep freed blocks up to MMAP_THRESHOLD in its heap (True
    when set; False where the C library has no such setting). A process-wide setting: the
    `lipflap` command's own process makes it, a host never does."""
    fn = _libc_fn("mallopt")
    if fn is None:
        return False
    fn.argtypes = [ctypes.c_int, ctypes.c_int]
    fn.restype = ctypes.c_int
    # mallopt returns 1 on success (either setting turns the rising threshold off)
    return bool(fn(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(fn(_M_TRIM_THRESHOLD, TRIM_THRESHOLD))


def _trim():
    fn = _libc_fn("malloc_trim")
    if fn is None:
        return None
    fn.argtypes = [ctypes.c_size_t]
    fn.restype = ctypes.c_int
    return fn


_MALLOC_TRIM = _trim()


def release() -> None:
    """Hand free heap pages back to the system (between stages)."""
    if _MALLOC_TRIM is not None:
        _MALLOC_TRIM(0)

