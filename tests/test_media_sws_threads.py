"""swscale on one thread (lipflap.media.colour.SWS_THREADS): the same pixels as PyAV's default
(a thread per core), and no threads started and stopped for every converted frame or box."""
from __future__ import annotations

import os
import sys
import threading

import av
import numpy as np
import pytest

from lipflap.media import colour
from lipflap.media.decode import read_frames
from lipflap.media.encode import VideoWriter, to_output_format
from lipflap.media.probe import probe
from mediagen import make_clip


@pytest.fixture(scope="module", params=["h264", "prores"])
def clip(request, tmp_path_factory):
    path = str(tmp_path_factory.mktemp("sws") / f"c_{request.param}.mov")
    return make_clip(path, frames=4, width=320, height=180, codec=request.param)


def test_one_thread_converts_as_the_default_does(clip):
    info = probe(clip)
    for fr in read_frames(clip, 0, 3, info=info):
        box = fr.region(37, 21, 151, 97)
        whole = fr.image
        assert np.array_equal(box, whole[21:118, 37:188])
        fmt = "rgb48le" if info.bit_depth > 8 else "rgb24"
        matrix = colour.sws_matrix(colour.effective_matrix(info.colorspace, info.height))
        rng = colour.SWS_RANGE[colour.effective_range(info.color_range, info.pix_fmt)]
        assert np.array_equal(whole, fr.av_frame.to_ndarray(format=fmt, src_colorspace=matrix,
                                                            src_color_range=rng,
                                                            dst_color_range="JPEG", threads=0))
        for pix in ("yuv422p10le", "yuv444p10le"):
            one = to_output_format(fr.av_frame, pix, "bt709", "tv")
            dflt = fr.av_frame.reformat(format=pix, threads=0)
            assert all(np.array_equal(np.frombuffer(a, np.uint8), np.frombuffer(b, np.uint8))
                       for a, b in zip(one.planes, dflt.planes))


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/task")
def test_converting_boxes_and_writing_composites_starts_no_threads(clip, tmp_path):
    """PyAV's default made a scaler with a worker per core for every frame converted: 40 threads
    came and went over 20 boxes of a 1080p frame."""
    info = probe(clip)
    frames = list(read_frames(clip, 0, 3, info=info))
    seen, done = set(), threading.Event()

    def watch():
        while not done.is_set():
            seen.update(os.listdir("/proc/self/task"))
    w = VideoWriter(str(tmp_path / "o.mov"), codec="prores_hq", fps=info.fps, width=info.width,
                    height=info.height, like=info)
    w.write_frame(frames[0])            # the encoder's own threads start with its first frame
    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    while len(seen) < 2:
        pass
    before = set(seen)
    patch = np.full((40, 60, 3), 0.5, np.float32)
    alpha = np.ones((40, 60), np.float32)
    for k in range(20):
        fr = frames[1 + k % 3]
        fr.image = None
        fr.region(10 + k, 12, 100, 80)
        w.write_composite(fr, patch, alpha, 30 + k, 40)
    done.set()
    watcher.join()
    w.abort()
    assert seen - before <= set(), sorted(seen - before)
