"""Speed-only changes give the same results: the tracking pass's early look (cut signatures,
scheduled face detections) in the decoding thread."""
from __future__ import annotations

import threading

import numpy as np

from lipflap.media.prefetch import prefetched


class _Fr:
    def __init__(self, i, img, fps=25):
        self.index, self.image, self.time_s = i, img, i / fps


def test_prepare_runs_in_the_decoding_thread_and_pairs_each_frame():
    names = []

    def prepare(x):
        names.append(threading.current_thread().name)
        return x * 10
    got = list(prefetched(iter(range(6)), rgb=False, prepare=prepare))
    assert got == [(i, i * 10) for i in range(6)]
    assert set(names) == {"lipflap-decode"}


def test_tracking_ahead_gives_the_inline_result():
    """Black frames and a hard cut (the cut's detection is off the early look's schedule), and
    the scheduled looks at 0 and 30: the same landmarks, cuts and detections either way."""
    from test_face_media import moving_frames
    from lipflap.face.analyze import track_frames
    frames, _ = moving_frames()
    inline = track_frames([_Fr(i, f) for i, f in enumerate(frames)], len(frames))
    ahead = track_frames([_Fr(i, f) for i, f in enumerate(frames)], len(frames), ahead=True)
    assert inline.cuts == ahead.cuts and inline.cuts
    assert inline.blank == ahead.blank and any(inline.blank)
    assert inline.detections_run == ahead.detections_run
    assert sorted(inline.obs) == sorted(ahead.obs)
    for tid in inline.obs:
        assert sorted(inline.obs[tid]) == sorted(ahead.obs[tid])
        for i, o in inline.obs[tid].items():
            assert np.array_equal(o.lm, ahead.obs[tid][i].lm), (tid, i)
