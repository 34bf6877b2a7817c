"""Frames decoded ahead in a thread: same frames, errors at the right frame, early stop closes."""
import threading

import pytest

from lipflap.contract.errors import MediaError
from lipflap.media.decode import read_frames
from lipflap.media.prefetch import prefetched
from mediagen import make_clip, read_index


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    return make_clip(tmp_path_factory.mktemp("pf") / "c.mov", fps=25, frames=30)


def test_same_frames_in_order_with_images(clip):
    got = [(f.index, read_index(f.image)) for f in prefetched(read_frames(clip, 3, 20))]
    assert got == [(i, i) for i in range(3, 21)]


def test_an_error_in_the_decoder_reaches_the_caller_after_the_good_frames():
    def frames():
        for i in range(5):
            yield i
        raise MediaError("x.mov is damaged at frame 5")
    seen = []
    with pytest.raises(MediaError, match="frame 5"):
        for f in prefetched(frames(), rgb=False):
            seen.append(f)
    assert seen == [0, 1, 2, 3, 4]


def test_stopping_early_stops_the_decoder_and_closes_the_source():
    closed = threading.Event()

    def frames():
        try:
            for i in range(10 ** 9):
                yield i
        finally:
            closed.set()
    it = prefetched(frames(), depth=2, rgb=False)
    assert [next(it) for _ in range(3)] == [0, 1, 2]
    it.close()
    assert closed.wait(2.0)
    assert not any(t.name == "lipflap-decode" and t.is_alive() for t in threading.enumerate())
