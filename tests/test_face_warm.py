"""The tracking pass's models made on threads ahead (lipflap.face.warm): the same result as made
in place, their errors raised where they were, an input's error first, and no thread left."""
from __future__ import annotations

import threading

import numpy as np
import pytest

from lipflap.contract.errors import LipflapError, MediaError
from lipflap.face import analyze
from lipflap.face.warm import Warm


class _Fr:
    def __init__(self, i, img, fps=25):
        self.index, self.image, self.time_s = i, img, i / fps


class _Model:
    made: list = []

    def __init__(self, *a, **k):
        self.closed = False
        _Model.made.append(self)

    def close(self):
        self.closed = True


class _InPlace:
    """Makes the model when taken, in the taker's thread: the pass as it was before."""

    def __init__(self, make, name=""):
        self._make, self._taken = make, False

    def take(self):
        self._taken = True
        return self._make()

    def close(self):
        pass


def _warm_threads():
    return [t for t in threading.enumerate() if t.name.startswith("lipflap-warm-")]


def test_warm_gives_the_model_or_its_error_and_closes_an_untaken_one():
    w = Warm(_Model, name="lipflap-warm-test")
    m = w.take()
    assert isinstance(m, _Model) and not m.closed
    w.close()
    assert not m.closed, "a taken model is its taker's to close"

    _Model.made.clear()
    w = Warm(_Model, name="lipflap-warm-test")
    w.close()
    assert len(_Model.made) == 1 and _Model.made[0].closed
    assert not _warm_threads()

    def bad():
        raise LipflapError("Face Mesh could not start; reinstall lipflap.")
    w = Warm(bad, name="lipflap-warm-test")
    with pytest.raises(LipflapError, match="reinstall lipflap"):
        w.take()
    w.close()
    w = Warm(bad, name="lipflap-warm-test")
    w.close()   # an error nobody asked for is not raised by close
    assert not _warm_threads()


def test_models_made_ahead_give_the_landmarks_made_in_place(monkeypatch):
    from test_face_media import moving_frames
    frames, _ = moving_frames()
    frames = frames[:35]    # the first look, the tracker's first mesh, the look at 30
    ahead = analyze.track_frames([_Fr(i, f) for i, f in enumerate(frames)], len(frames),
                                 ahead=True)
    monkeypatch.setattr(analyze, "Warm", _InPlace)
    in_place = analyze.track_frames([_Fr(i, f) for i, f in enumerate(frames)], len(frames),
                                    ahead=True)
    assert ahead.obs and sorted(ahead.obs) == sorted(in_place.obs)
    assert ahead.seen == in_place.seen and ahead.detections_run == in_place.detections_run
    for tid in ahead.obs:
        assert sorted(ahead.obs[tid]) == sorted(in_place.obs[tid])
        for i, o in ahead.obs[tid].items():
            assert np.array_equal(o.lm, in_place.obs[tid][i].lm), (tid, i)
            assert np.array_equal(o.mouth_patch, in_place.obs[tid][i].mouth_patch), (tid, i)
    assert not _warm_threads()


def _failing_frames(n_good: int):
    img = np.full((120, 160, 3), 90, np.uint8)
    for i in range(n_good):
        yield _Fr(i, img)
    raise MediaError("clip.mov: frame 0 could not be decoded; re-export the file.")


@pytest.mark.parametrize("ahead", [True, False])
def test_an_input_error_comes_before_a_model_error_and_no_thread_is_left(monkeypatch, ahead):
    def no_detector(*a, **k):
        raise LipflapError("the face detector could not start; reinstall lipflap.")
    _Model.made.clear()
    monkeypatch.setattr(analyze, "FaceDetector", no_detector)
    monkeypatch.setattr(analyze, "CropMesh", _Model)
    with pytest.raises(MediaError, match="could not be decoded"):
        analyze.track_frames(_failing_frames(0), 5, ahead=ahead)
    assert not _warm_threads()
    assert len(_Model.made) == 1 and _Model.made[0].closed, "the unused mesh is closed"


def test_a_model_error_is_raised_at_the_first_frame_that_needs_it(monkeypatch):
    def no_mesh(*a, **k):
        raise LipflapError("Face Mesh could not start; reinstall lipflap.")
    monkeypatch.setattr(analyze, "CropMesh", no_mesh)
    from test_face_media import moving_frames
    frames, _ = moving_frames()
    with pytest.raises(LipflapError, match="Face Mesh could not start"):
        analyze.track_frames([_Fr(i, f) for i, f in enumerate(frames[:3])], 3, ahead=True)
    assert not _warm_threads()
