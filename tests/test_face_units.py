"""Face-analysis pieces without MediaPipe: results, flags, quality rules, pose, cuts, speaker."""
from fractions import Fraction

import numpy as np
import pytest

from lipflap.face import geometry as G
from lipflap.face import landmarks as L
from lipflap.face.result import FrameFace, ShotAnalysis


def _analysis(flag_lists):
    frames = []
    for i, flags in enumerate(flag_lists):
        lm = None if "no_face" in flags else np.zeros((L.N_LANDMARKS, 2), np.float32) + i
        frames.append(FrameFace(index=10 + i, landmarks=lm, raw_landmarks=lm, flags=list(flags),
                                confidence=0.0 if lm is None else 0.9,
                                pose=None if lm is None else (1.0, 2.0, 3.0)))
    return ShotAnalysis(path="x.mov", fps=Fraction(24000, 1001), width=64, height=64, start=10,
                        end=10 + len(frames) - 1, frames=frames)


def test_usable_flagged_ranges_and_landmarks_array():
    a = _analysis([[], ["no_face"], ["no_face"], ["blur"], ["occluded", "low_confidence"],
                   ["occluded"], ["cut"], ["profile"], ["small"]])
    assert [f.usable for f in a.frames] == [True, False, False, True, False, False, True, False,
                                             True]
    assert a.flagged_ranges() == [
        {"start": 11, "end": 12, "reason": "no_face"},
        {"start": 13, "end": 13, "reason": "blur"},
        {"start": 14, "end": 15, "reason": "occluded"},
        {"start": 14, "end": 14, "reason": "low_confidence"},
        {"start": 17, "end": 17, "reason": "profile"},
        {"start": 18, "end": 18, "reason": "small"},
    ]
    arr = a.landmarks_array()
    assert arr.shape == (9, L.N_LANDMARKS, 2) and arr.dtype == np.float32
    assert np.isnan(arr[1]).all() and not np.isnan(arr[0]).any()
    assert a.frame(13).index == 13
    back = ShotAnalysis.from_json(a.to_json())
    assert back.fps == Fraction(24000, 1001) and back.flagged_ranges() == a.flagged_ranges()
    with pytest.raises(ValueError):
        ShotAnalysis.from_json('{"format": "something else"}')


def test_mouth_aperture_definition():
    p = np.zeros((L.N_LANDMARKS, 2))
    p[33], p[263] = (0, 0), (100, 0)
    for a, b in L.INNER_LIP_PAIRS:
        p[a], p[b] = (50, 100), (50, 130)
    assert G.mouth_aperture(p) == pytest.approx(0.3)
    assert G.mouth_apertures(p[None])[0] == pytest.approx(0.3)
    assert np.isnan(G.mouth_aperture(None))
    assert set(L.UPPER_INNER_LIP) >= {78, 191, 80, 81, 82, 13, 312, 311, 310, 415, 308}
    assert {61, 291, 33, 263, 1} <= set(L.LIPS) | set(L.RIGID) | {33, 263}


def test_quality_rules():
    from lipflap.face.quality import assess
    from lipflap.face.track import PATCH_H, PATCH_W
    n = 12
    rng = np.random.default_rng(0)
    patches = np.clip(rng.normal(120, 3, (n, PATCH_H, PATCH_W, 3)), 0, 255).astype(np.uint8)
    heights = np.full(n, 300.0)
    heights[3] = 60                       # too small
    poses = [(0.0, 0.0, 0.0)] * n
    poses[5] = (70.0, 0.0, 0.0)           # profile
    poses[6] = (0.0, -50.0, 0.0)          # looking far down
    sharp = np.full(n, 100.0)
    sharp[8] = 10.0                       # blurred
    residual = np.full(n, 0.005)
    q = assess(heights, poses, sharp, patches, residual)
    flags = [x.flags for x in q]
    assert "small" in flags[3] and "profile" in flags[5] and "profile" in flags[6]
    assert "blur" in flags[8]
    assert flags[0] == [] and q[0].confidence > 0.95
    assert q[5].confidence < 0.5 and "low_confidence" in flags[5]


def test_head_pose_of_a_rotated_face():
    from lipflap.face.pose import head_pose
    rng = np.random.default_rng(1)
    p = rng.normal(0, 20, (L.N_LANDMARKS, 3))
    p[33], p[263] = (-50, 0, 0), (50, 0, 0)
    p[10], p[2] = (0, -80, 10), (0, 40, -20)
    yaw, pitch, roll = head_pose(p)
    assert abs(yaw) < 1e-6 and abs(roll) < 1e-6 and abs(pitch) < 20
    th = np.radians(30)
    # Turning toward image right: the face's normal (toward the camera, -z) gains +x.
    ry = np.array([[np.cos(th), 0, -np.sin(th)], [0, 1, 0], [np.sin(th), 0, np.cos(th)]])
    assert np.allclose(ry @ [0, 0, -1], [np.sin(th), 0, -np.cos(th)])
    y2, p2, r2 = head_pose(p @ ry.T)
    assert y2 == pytest.approx(30, abs=0.5) and abs(r2) < 0.5
    rz = np.array([[np.cos(th), -np.sin(th), 0], [np.sin(th), np.cos(th), 0], [0, 0, 1]])
    # Tilting clockwise in the image (x right, y down) is roll +30.
    assert head_pose(p @ rz.T)[2] == pytest.approx(30, abs=0.5)


def test_cut_detector_on_signatures():
    import cv2
    from lipflap.face.cuts import CutDetector, signature
    from skimage import data
    a = data.astronaut()
    b = data.chelsea()
    shot1 = [np.roll(a, 3 * t, axis=1) for t in range(10)]
    black = [np.zeros_like(a)] * 3
    shot2 = [cv2.resize(b, (512, 512))] * 5
    back = [np.roll(a, 40, axis=1)] * 3    # back to shot 1 framing after black
    flash = [np.clip(back[0].astype(int) + 120, 0, 255).astype(np.uint8)]
    frames = shot1 + black + back + flash + back + shot2 + black + shot2
    sigs = [signature(f) for f in frames]
    det = CutDetector()
    cuts = [i for i in range(len(sigs))
            if det.decide(sigs[i], sigs[i + 1] if i + 1 < len(sigs) else None)]
    # Black frames are never cuts, the same framing after black is no cut, nor is a one-frame
    # flash; a new picture is, even when black frames hide the change... and shot2 -> black ->
    # shot2 is one shot.
    assert cuts == [20]
    assert all(s.blank for s in sigs[10:13])


def test_speaker_choice_rules():
    from lipflap.face.speaker import Candidate, choose, parse_face
    rng = np.random.default_rng(4)
    n = 100
    env = rng.normal(0, 1, n)
    talk = 0.1 + 0.05 * np.clip(env, 0, None) + rng.normal(0, 0.002, n)
    still = 0.05 + rng.normal(0, 0.0005, n)
    c0 = Candidate(0, still, np.full(n, 900.0), np.tile([10.0, 10.0], (n, 1)))
    c1 = Candidate(1, talk, np.full(n, 400.0), np.tile([100.0, 10.0], (n, 1)))
    sid, why, scores = choose([c0, c1], "auto", env, 25.0)
    assert sid == 1 and "follows the audio" in why and scores[1] > scores[0]
    sid, why, _ = choose([c0, c1], "auto", None, 25.0)
    assert sid == 0 and "largest" in why and "no audio" in why
    assert choose([c0, c1], "largest", env, 25.0)[0] == 0
    assert choose([c0, c1], "1", env, 25.0)[0] == 1
    assert choose([c0, c1], "90,12", env, 25.0)[0] == 1
    # Two silent faces: nobody follows the audio, the largest wins and the reason says so.
    c1s = Candidate(1, 0.05 + rng.normal(0, 0.0005, n), c1.areas, c1.centers)
    sid, why, _ = choose([c0, c1s], "auto", env, 25.0)
    assert sid == 0 and "no mouth follows the audio" in why
    # By position (issue 18): left/right by mean centre, centre the one nearest the faces' mean.
    assert choose([c0, c1], "left", env, 25.0)[0] == 0
    assert choose([c0, c1], "right", env, 25.0)[0] == 1
    c2 = Candidate(2, still, c0.areas, np.tile([60.0, 10.0], (n, 1)))
    assert choose([c0, c1, c2], "centre", env, 25.0)[0] == 2
    assert choose([c1, c2, c0], "center", env, 25.0)[0] == 2
    for bad in ("top", "1,2,x", ""):
        with pytest.raises(ValueError):
            parse_face(bad)


def test_mouth_patch_of_a_face_at_the_frames_edge_has_no_padding():
    """A close-up whose chin leaves the frame: the crop round it is padded black below the frame;
    the mouth patch the occlusion score compares is sampled from the in-frame part only (its
    edge repeated), so no black enters it (selfie f96: 94 black pixels read as an occlusion)."""
    from lipflap.face.mesh import Crop, cut_crop
    from lipflap.face.track import PATCH_H, PATCH_W, _in_frame, _mouth_patch
    img = np.full((400, 400, 3), (200, 150, 130), np.uint8)
    crop = Crop(100.0, 200.0, 300.0, 192)         # the lower third of the window is past the frame
    crop_img = cut_crop(img, crop)
    assert (crop_img.sum(2) == 0).any()
    lm = np.zeros((L.N_LANDMARKS, 3))
    # mouth corners low in the crop, so the patch below them reaches the padding
    lm[L.MOUTH_CORNERS[0], :2] = (70, 120)
    lm[L.MOUTH_CORNERS[1], :2] = (122, 120)
    plain = _mouth_patch(crop_img, lm)
    assert plain.shape == (PATCH_H, PATCH_W, 3) and (plain.sum(2) < 60).sum() > 20
    patch = _mouth_patch(crop_img, lm, _in_frame(img, crop))
    assert np.abs(patch.astype(int) - (200, 150, 130)).max() <= 2


def test_occlusion_scores_are_each_patch_against_the_shots_median_look(monkeypatch):
    """(robust z, mean Lab difference over the ring round the mouth) per patch, against the
    median Lab patch; a shot over REF_PATCHES takes its reference from that many, spread."""
    import cv2
    from lipflap.face import quality
    rng = np.random.default_rng(3)
    patches = rng.integers(60, 200, (40,) + quality._MASK.shape + (3,), dtype=np.uint8)
    patches[17] = 250           # one bright patch: a hand over the mouth
    lab = np.stack([cv2.cvtColor(p, cv2.COLOR_RGB2LAB) for p in patches]).astype(np.float32)

    def expected(ref):
        diff = np.abs(lab - ref)[:, quality._MASK].mean(axis=(1, 2))
        med = np.median(diff)
        return (diff - med) / (1.4826 * np.median(np.abs(diff - med)) + 1.0), diff

    for limit, pick in ((2000, np.arange(40)), (10, np.round(np.linspace(0, 39, 10)).astype(int))):
        monkeypatch.setattr(quality, "REF_PATCHES", limit)
        z, diff = quality.occlusion_scores(patches)
        ez, ediff = expected(np.median(lab[pick], axis=0).astype(np.float32))
        np.testing.assert_allclose(diff, ediff, rtol=1e-6)
        np.testing.assert_allclose(z, ez, rtol=1e-5, atol=1e-5)
        assert int(np.argmax(z)) == 17
