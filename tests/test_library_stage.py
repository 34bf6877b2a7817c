"""The library stage's feed from the kept lower faces (lipflap.pipeline.library)."""
from __future__ import annotations

import threading

import cv2
import pytest

from lipflap.pipeline import library


class _Kept:
    def __init__(self, frames):
        self.boxes = {i: [] for i in frames}
        self.released = []

    def frame(self, index):
        return ("frame", index)

    def release(self, index):
        self.released.append(index)
        self.boxes.pop(index, None)


class _Builder:
    def __init__(self, wanted):
        self.wanted = set(wanted)
        self.fed = {}

    def feed(self, i, img):
        # what OpenCV may split a call over, and on which thread, as each frame is scored
        self.fed[i] = (img, cv2.getNumThreads(), threading.current_thread().name)


def test_feed_runs_opencv_on_its_own_two_threads_and_restores_the_pool():
    before = cv2.getNumThreads()
    made = [(0, None, lambda: _Builder({1, 3, 4})), (10, None, lambda: _Builder({0, 2}))]
    kept = _Kept(range(100, 120))
    builders = library._from_kept(made, 100, kept)
    assert cv2.getNumThreads() == before
    assert [sorted(b.fed) for b in builders] == [[1, 3, 4], [0, 2]]
    assert builders[1].fed[2][0] == ("frame", 112)
    assert {n for b in builders for _, n, _ in b.fed.values()} == {1}
    assert all(t.startswith("lipflap-library") for b in builders for _, _, t in b.fed.values())
    # every kept frame goes back: the unwanted at once, the wanted once copied
    assert sorted(kept.released) == list(range(100, 120)) and kept.boxes == {}


def test_opencv_pool_comes_back_after_an_error():
    before = cv2.getNumThreads()
    with pytest.raises(RuntimeError):
        with library.opencv_on_calling_threads():
            assert cv2.getNumThreads() == 1
            raise RuntimeError("stop")
    assert cv2.getNumThreads() == before
