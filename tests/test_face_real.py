"""Face analysis on the real talking-head clips in ../shared/media (skipped when absent)."""
import importlib.util
from fractions import Fraction

import av
import numpy as np
import pytest

from lipflap.face import geometry as G
from lipflap.face import landmarks as L

CLIPS = ["talk_a.mp4", "talk_b.mp4", "talk_c.mp4"]


def _decode(path):
    with av.open(str(path)) as c:
        vs = c.streams.video[0]
        return [f.to_ndarray(format="rgb24") for f in c.decode(vs)], vs.average_rate


@pytest.mark.parametrize("clip", CLIPS)
def test_real_clip_landmarks_stable_and_usable(shared_media, clip):
    from lipflap.face.analyze import analyze_video
    a = analyze_video(shared_media / clip, use_cache=False)
    n = len(a.frames)
    assert a.cuts == [], "a single talking-head shot has no cut"
    assert sum(f.usable for f in a.frames) >= 0.97 * n
    assert {f.face_id for f in a.frames if f.landmarks is not None} == {a.speaker_id}
    lm, raw = a.landmarks_array(), a.landmarks_array(raw=True)
    assert lm.shape == (n, L.N_LANDMARKS, 2)
    iod = np.nanmedian(np.linalg.norm(lm[:, 33] - lm[:, 263], axis=1))
    # Jitter of the skull points: second differences (acceleration) relative to the face size.
    def accel(x):
        return np.nanmean(np.abs(x[2:, L.RIGID] - 2 * x[1:-1, L.RIGID] + x[:-2, L.RIGID])) / iod
    assert accel(lm) < 0.6 * accel(raw), (accel(lm), accel(raw))
    # Smoothing never drifts far from what Face Mesh saw.
    assert np.nanmax(np.abs(lm - raw)) < 0.08 * iod
    # The mouth keeps moving after smoothing (speech), nearly as much as before.
    ap, ap_raw = G.mouth_apertures(lm), G.mouth_apertures(raw)
    assert np.nanstd(ap) > 0.8 * np.nanstd(ap_raw)
    assert np.corrcoef(ap, ap_raw)[0, 1] > 0.95


def test_aperture_agrees_with_the_yardstick(shared_media, shared_eval):
    spec = importlib.util.spec_from_file_location("lipeval", shared_eval / "lipeval.py")
    lipeval = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(lipeval)
    from lipflap.face.analyze import analyze_video
    clip = shared_media / "talk_b.mp4"
    ours = G.mouth_apertures(analyze_video(clip, use_cache=False).landmarks_array(raw=True))
    lms, _ = lipeval.track(str(clip))
    theirs, _ = lipeval.aperture_series(lms)
    # Same definition on the same picture: on a single frame the two agree to the decimal.
    one = np.asarray(lms[10], np.float32)
    assert abs(G.mouth_aperture(one) - theirs[10]) < 1e-6
    ok = np.isfinite(ours) & np.isfinite(theirs)
    assert ok.mean() > 0.95
    assert np.corrcoef(ours[ok], theirs[ok])[0, 1] > 0.9
    assert np.abs(ours[ok] - theirs[ok]).mean() < 0.02


@pytest.mark.parametrize("clip,talking_side", [("talk_a.mp4", "right"), ("talk_b.mp4", "left")])
def test_auto_speaker_picks_the_talking_face(shared_media, tmp_path, clip, talking_side):
    """The clip beside a still copy of its own first frame, with the clip's audio: `auto` must pick
    the moving mouth, whichever side it is on (both faces are the same size)."""
    from test_face_media import write_clip

    from lipflap.face.analyze import analyze_video
    frames, rate = _decode(shared_media / clip)
    still = frames[0]
    pair = [np.concatenate([f, still] if talking_side == "left" else [still, f], axis=1)
            for f in frames]
    path = write_clip(tmp_path / f"pair_{clip}", pair, fps=Fraction(rate),
                      audio_from=shared_media / clip)
    a = analyze_video(path, use_cache=False)
    ids = {f.face_id for f in a.frames}
    assert len(ids) == 1
    w = frames[0].shape[1]
    talking = [f for f in a.frames if f.landmarks is not None]
    assert len(talking) >= 0.95 * len(a.frames)
    xs = np.array([f.landmarks[:, 0].mean() for f in talking])
    assert (xs < w).all() if talking_side == "left" else (xs > w).all()
    assert "follows the audio" in a.speaker_reason, a.speaker_reason
    assert len(a.faces) == 2


@pytest.mark.parametrize("audio,order", [("talk_b.mp4", "bc"), ("talk_c.mp4", "cb")])
def test_auto_speaker_among_two_talking_faces(shared_media, tmp_path, audio, order):
    """talk_b beside talk_c (both talking), with one of their audio tracks: the face whose own
    speech it is must win."""
    import cv2
    from test_face_media import write_clip

    from lipflap.face.analyze import analyze_video
    b, _ = _decode(shared_media / "talk_b.mp4")
    c, _ = _decode(shared_media / "talk_c.mp4")
    c = [cv2.resize(x, b[0].shape[1::-1], interpolation=cv2.INTER_AREA) for x in c]
    first, second = (b, c) if order == "bc" else (c, b)
    pair = [np.concatenate([x, y], axis=1)[::2, ::2] for x, y in zip(first, second)]
    path = write_clip(tmp_path / "dialogue.mp4", pair, fps=25, audio_from=shared_media / audio)
    a = analyze_video(path, use_cache=False)
    speaker_is_left = (audio == "talk_b.mp4") == (order == "bc")
    half = pair[0].shape[1] / 2
    xs = np.array([f.landmarks[:, 0].mean() for f in a.frames if f.landmarks is not None])
    assert len(xs) >= 0.95 * len(a.frames)
    assert (xs < half).all() if speaker_is_left else (xs > half).all(), a.speaker_reason
    assert "follows the audio" in a.speaker_reason
