"""Face analysis on generated media: scikit-image's astronaut moved, scaled and rotated, with black
frames, a hard cut, an occluded mouth, motion blur, and two faces side by side.

The clips are written with PyAV (H.264) once per module; `write_clip` and `place` are also used by
test_face_real.py.
"""
import json
import os
import subprocess
import sys
from fractions import Fraction

import av
import cv2
import numpy as np
import pytest

from lipflap.face import landmarks as L

H, W = 480, 854
FPS = 25
# Where the astronaut's nose tip and mouth are in skimage's 512x512 image (measured with Face Mesh).
NOSE_SRC = (223.6, 130.8)
MOUTH_SRC = (225.0, 162.0)


def astronaut():
    from skimage import data
    return data.astronaut()


def place(img, cx, cy, scale, angle_deg, flip=False, size=(H, W), background=90):
    """`img` rotated (counter-clockwise, degrees), scaled and centred at (cx, cy) on a flat canvas;
    returns (frame, 2x3 affine from img to frame)."""
    src = np.ascontiguousarray(img[:, ::-1]) if flip else img
    ih, iw = src.shape[:2]
    m = cv2.getRotationMatrix2D((iw / 2, ih / 2), angle_deg, scale)
    m[0, 2] += cx - iw / 2
    m[1, 2] += cy - ih / 2
    out = np.full((size[0], size[1], 3), background, np.uint8)
    cv2.warpAffine(src, m, (size[1], size[0]), dst=out, flags=cv2.INTER_LINEAR,
                   borderMode=cv2.BORDER_TRANSPARENT)
    return out, m


def write_clip(path, frames, fps=FPS, audio_from=None):
    """H.264 clip of RGB frames; with `audio_from`, that file's first audio stream is copied in."""
    c = av.open(str(path), "w")
    vs = c.add_stream("libx264", rate=Fraction(fps))
    vs.width, vs.height = frames[0].shape[1], frames[0].shape[0]
    vs.pix_fmt = "yuv420p"
    vs.options = {"crf": "16", "preset": "veryfast"}
    src = ast = None
    if audio_from is not None:
        src = av.open(str(audio_from))
        ast = c.add_stream_from_template(src.streams.audio[0])
    for f in frames:
        for p in vs.encode(av.VideoFrame.from_ndarray(np.ascontiguousarray(f), format="rgb24")):
            c.mux(p)
    for p in vs.encode():
        c.mux(p)
    if src is not None:
        for p in src.demux(src.streams.audio[0]):
            if p.dts is None:
                continue
            p.stream = ast
            c.mux(p)
        src.close()
    c.close()
    return str(path)


# -- clips -------------------------------------------------------------------------------------

BLACK = range(18, 21)
CUT = 40
N_MOVING = 52


def moving_frames():
    """Astronaut moving right, growing and rocking; black frames 18-20 (same shot); hard cut at
    40 to a mirrored, larger astronaut elsewhere in the frame."""
    a = astronaut()
    frames, mats = [], []
    for t in range(N_MOVING):
        if t in BLACK:
            frames.append(np.zeros((H, W, 3), np.uint8))
            mats.append(None)
            continue
        if t < CUT:
            f, m = place(a, 300 + 4 * t, 300 + 6 * np.sin(t / 3), 1.0 + 0.005 * t,
                         8 * np.sin(t / 6))
        else:
            f, m = place(a, 560, 330, 1.2, -5, flip=True)
        frames.append(f)
        mats.append(m)
    return frames, mats


OCCLUDED = range(20, 28)
BLURRED = range(34, 38)


def trouble_frames():
    """A slowly moving astronaut with a block over the mouth (20-27) and motion blur (34-37)."""
    a = astronaut()
    frames = []
    kernel = np.full((1, 31), 1 / 31, np.float32)
    for t in range(46):
        f, m = place(a, 400 + 1.5 * t, 330, 1.3, 3 * np.sin(t / 7))
        if t in OCCLUDED:
            x, y = m @ np.array([*MOUTH_SRC, 1.0])
            cv2.rectangle(f, (int(x - 38), int(y - 20)), (int(x + 38), int(y + 20)), (200, 60, 40),
                          -1)
        if t in BLURRED:
            f = cv2.filter2D(f, -1, kernel)
        frames.append(f)
    return frames


def two_face_frames(n=24):
    """Two astronauts: a smaller one on the left, a larger mirrored one on the right."""
    a = astronaut()
    size = (H, 1280)
    frames = []
    for t in range(n):
        left, _ = place(a, 300 + t, 300, 0.9, 2 * np.sin(t / 4), size=size)
        right, _ = place(a, 930 - t, 320, 1.2, -2 * np.sin(t / 5), flip=True, size=size)
        left[:, 640:] = right[:, 640:]
        frames.append(left)
    return frames


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    d = tmp_path_factory.mktemp("face_media")
    frames, mats = moving_frames()
    return {
        "moving": write_clip(d / "moving.mp4", frames),
        "moving_mats": mats,
        "trouble": write_clip(d / "trouble.mp4", trouble_frames()),
        "two": write_clip(d / "two.mp4", two_face_frames()),
        "dir": d,
    }


@pytest.fixture(scope="module")
def moving(clips):
    from lipflap.face.analyze import analyze_video
    return analyze_video(clips["moving"], use_cache=False)


# -- tests -------------------------------------------------------------------------------------

def test_cut_detected_at_the_right_frame_and_black_frames_are_flagged(moving):
    assert moving.cuts == [CUT]
    assert "cut" in moving.frame(CUT).flags
    for i in BLACK:
        f = moving.frame(i)
        assert f.landmarks is None and "no_face" in f.flags and not f.usable
    ranges = moving.flagged_ranges()
    assert {"start": BLACK[0], "end": BLACK[-1], "reason": "no_face"} in ranges
    assert all(r["reason"] != "no_face" or r["start"] == BLACK[0] for r in ranges)


def test_ids_stable_across_the_gap_and_new_after_the_cut(moving):
    before = {moving.frame(i).face_id for i in range(0, BLACK[0])}
    after_gap = {moving.frame(i).face_id for i in range(BLACK[-1] + 1, CUT)}
    after_cut = {moving.frame(i).face_id for i in range(CUT, N_MOVING)}
    assert len(before) == 1 and before == after_gap
    assert len(after_cut) == 1 and after_cut != before
    # Exactly one face is seen in every non-black frame.
    for f in moving.frames:
        assert len(f.faces) == (0 if f.index in BLACK else 1)


def test_landmarks_follow_the_picture(moving, clips):
    mats = clips["moving_mats"]
    src_nose = []
    for f, m in zip(moving.frames, mats):
        if m is None:
            continue
        assert f.usable and f.landmarks.shape == (L.N_LANDMARKS, 2)
        assert f.raw_landmarks.shape == (L.N_LANDMARKS, 2)
        if f.index < CUT:
            inv = cv2.invertAffineTransform(m)
            src_nose.append(inv @ np.array([*f.landmarks[L.NOSE_TIP], 1.0]))
    src_nose = np.array(src_nose)
    # Mapped back into the still source image the nose tip barely moves, and sits where it is.
    assert src_nose.std(axis=0).max() < 1.5, src_nose.std(axis=0)
    assert np.abs(src_nose.mean(axis=0) - NOSE_SRC).max() < 4


def test_pose_follows_the_rotation(moving, clips):
    mats = clips["moving_mats"]
    rolls, applied = [], []
    for f, m in zip(moving.frames[:CUT], mats[:CUT]):
        if m is None:
            continue
        yaw, pitch, roll = f.pose
        assert abs(yaw) < 10 and abs(pitch) < 10
        rolls.append(roll)
        applied.append(np.degrees(np.arctan2(m[1, 0], m[0, 0])))  # clockwise in the image
    rolls, applied = np.array(rolls), np.array(applied)
    assert np.abs((rolls - rolls.mean()) - (applied - applied.mean())).max() < 2.5


def test_json_round_trip(moving, tmp_path):
    from lipflap.face.result import ShotAnalysis
    text = moving.to_json()
    back = ShotAnalysis.from_json(text)
    assert back.cuts == moving.cuts and back.speaker_id == moving.speaker_id
    assert back.fps == moving.fps and len(back.frames) == len(moving.frames)
    a, b = moving.landmarks_array(), back.landmarks_array()
    assert np.array_equal(np.isnan(a), np.isnan(b))
    assert np.nanmax(np.abs(a - b)) <= 0.0051
    assert [f.flags for f in back.frames] == [f.flags for f in moving.frames]
    assert back.flagged_ranges() == moving.flagged_ranges()
    d = json.loads(text)
    assert len(d["frames"][0]["landmarks"]) == L.N_LANDMARKS
    assert d["frames"][BLACK[0]]["landmarks"] is None


def test_occlusion_and_blur_flagged_where_they_are(clips):
    from lipflap.face.analyze import analyze_video
    a = analyze_video(clips["trouble"], use_cache=False)
    occ = {f.index for f in a.frames if "occluded" in f.flags}
    blur = {f.index for f in a.frames if "blur" in f.flags}
    assert occ == set(OCCLUDED), sorted(occ)
    assert blur == set(BLURRED), sorted(blur)
    for f in a.frames:
        if f.index in OCCLUDED:
            assert not f.usable and f.confidence < 0.5
        elif f.index not in BLURRED:
            assert f.usable and f.confidence > 0.8, (f.index, f.confidence, f.flags)
    assert {"start": OCCLUDED[0], "end": OCCLUDED[-1], "reason": "occluded"} in a.flagged_ranges()


def test_two_faces_ids_and_speaker_choices(clips):
    from lipflap.face.analyze import ShotAnalysis, analyze_video
    a = analyze_video(clips["two"], use_cache=False)
    assert isinstance(a, ShotAnalysis) and a.cuts == []
    for f in a.frames:
        ids = [i for i, _ in f.faces]
        assert ids == [0, 1], (f.index, f.faces)
        (_, left), (_, right) = f.faces
        assert left[2] < 640 < right[0]
    # No audio: auto falls back to the largest face (the right one) and says why.
    assert a.speaker_id == 1 and "largest" in a.speaker_reason and "audio" in a.speaker_reason
    assert all(f.landmarks[:, 0].min() > 640 for f in a.frames)
    by_id = analyze_video(clips["two"], face="0", use_cache=False)
    assert by_id.speaker_id == 0 and all(f.landmarks[:, 0].max() < 640 for f in by_id.frames)
    by_point = analyze_video(clips["two"], face="300,250", use_cache=False)
    assert by_point.speaker_id == 0
    missing = analyze_video(clips["two"], face="7", use_cache=False)
    assert missing.speaker_id is None and "not in this shot" in missing.speaker_reason
    assert all("no_face" in f.flags for f in missing.frames)


def test_cache_hit_and_corrupt_entry_rebuilt(clips, monkeypatch, tmp_path):
    from lipflap.face import cache
    from lipflap.face.analyze import analyze_video
    monkeypatch.setenv("LIPFLAP_CACHE", str(tmp_path / "cache"))
    first = analyze_video(clips["two"], start=2, end=9)
    entries = list((tmp_path / "cache" / "face").glob("*.npz"))
    assert len(entries) == 1
    assert not list((tmp_path / "cache" / "face").glob(".tmp-*"))
    # A hit must not decode: make decoding impossible and ask again.
    import lipflap.media.decode as dec

    def no_decode(*a, **k):
        raise AssertionError("decoded although cached")
    monkeypatch.setattr(dec, "read_frames", no_decode)
    hit = analyze_video(clips["two"], start=2, end=9)
    assert np.allclose(hit.landmarks_array(), first.landmarks_array(), atol=0.006)
    monkeypatch.undo()
    monkeypatch.setenv("LIPFLAP_CACHE", str(tmp_path / "cache"))
    # Other parameters are another entry.
    analyze_video(clips["two"], start=2, end=9, face="largest")
    assert len(list((tmp_path / "cache" / "face").glob("*.npz"))) == 2
    # Corrupt the first entry: it is detected, rebuilt, and valid again.
    entries[0].write_bytes(entries[0].read_bytes()[:200])
    key_path = entries[0]
    again = analyze_video(clips["two"], start=2, end=9)
    assert np.allclose(again.landmarks_array(), first.landmarks_array(), atol=0.006)
    assert cache.load(key_path.name.split(".")[0], clips["two"]) is not None


def test_cache_key_follows_content(tmp_path):
    from lipflap.face.cache import fingerprint, make_key
    p = tmp_path / "x.bin"
    p.write_bytes(b"a" * 3_000_000)
    k1 = make_key(p, {"start": 0})
    assert make_key(p, {"start": 0}) == k1 and make_key(p, {"start": 1}) != k1
    f1 = fingerprint(p)
    data = bytearray(p.read_bytes())
    data[-10] = ord("b")                      # a change in the tail
    st = os.stat(p)
    p.write_bytes(bytes(data))
    os.utime(p, ns=(st.st_atime_ns, st.st_mtime_ns))   # even with the same size and mtime
    assert fingerprint(p) != f1


def test_cli_analyze_writes_json_and_preview(clips, tmp_path):
    out = tmp_path / "a.json"
    prev = tmp_path / "overlay.mp4"
    env = dict(os.environ, LIPFLAP_CACHE=str(tmp_path / "cache"))
    r = subprocess.run([sys.executable, "-m", "lipflap", "analyze", clips["moving"], "-o", str(out),
                        "--start", "36", "--end", "45", "--preview", str(prev),
                        "--progress", "json"],
                       capture_output=True, text=True, env=env)
    assert r.returncode == 0, r.stderr
    lines = [json.loads(x) for x in r.stdout.splitlines()]
    assert lines[-1]["result"]["cuts"] == [CUT]
    assert any(x.get("stage") == "analyze" for x in lines)
    d = json.loads(out.read_text())
    assert [f["index"] for f in d["frames"]] == list(range(36, 46))
    assert d["cuts"] == [CUT] and d["frames"][CUT - 36]["flags"] == ["cut"]
    from lipflap.media.probe import probe
    assert probe(prev).frame_count == 10
    bad = subprocess.run([sys.executable, "-m", "lipflap", "analyze", clips["moving"], "-o",
                          str(tmp_path / "b.json"), "--start", "40", "--end", "400"],
                         capture_output=True, text=True, env=env)
    assert bad.returncode != 0 and "Traceback" not in bad.stderr
    assert len(bad.stderr.strip().splitlines()) == 1 and "400" in bad.stderr
    worse = subprocess.run([sys.executable, "-m", "lipflap", "analyze", clips["moving"], "-o",
                            str(tmp_path / "c.json"), "--face", "upper"],
                           capture_output=True, text=True, env=env)
    assert worse.returncode != 0 and "--face" in worse.stderr and "Traceback" not in worse.stderr


def test_small_face_found_in_a_wide_frame_and_flagged(tmp_path):
    """A 60 px face beside a large one in a 720p frame: found by the tiled detection at the shot
    start, tracked with its own id, and flagged `small` when it is the one asked for."""
    from lipflap.face.analyze import analyze_video
    a = astronaut()
    frames = []
    for t in range(16):
        big, _ = place(a, 330 + t, 420, 1.6, 0, size=(720, 1280))
        small, _ = place(a, 1000, 300 - t, 0.45, 0, size=(720, 1280))
        big[:, 800:] = small[:, 800:]
        frames.append(big)
    path = write_clip(tmp_path / "wide.mp4", frames)
    res = analyze_video(path, face="1", use_cache=False)
    assert res.speaker_id == 1
    for f in res.frames:
        assert [i for i, _ in f.faces] == [0, 1]
        x0, y0, x1, y1 = dict(f.faces)[1]
        assert 40 < y1 - y0 < 90 and x0 > 800
        assert f.landmarks is not None and "small" in f.flags and f.usable


def test_deep_frames_give_the_same_landmarks_as_8_bit():
    """uint16 frames (10-bit and deeper sources) give the landmarks 8-bit frames give: the crop is
    shrunk at 16 bits and then cut to 8, so pixels differ by a level here and there and Face Mesh
    moves by its own noise (about a pixel), no more."""
    from lipflap.face.analyze import track_frames

    class Fr:
        def __init__(self, i, img):
            self.index, self.image, self.time_s = i, img, i / FPS

    frames, _ = moving_frames()
    frames = frames[:8]
    r8 = track_frames([Fr(i, f) for i, f in enumerate(frames)], 8)
    r16 = track_frames([Fr(i, f.astype(np.uint16) * 257) for i, f in enumerate(frames)], 8)
    assert sorted(r8.obs) == sorted(r16.obs) == [0]
    for i in range(8):
        d = np.abs(r8.obs[0][i].lm - r16.obs[0][i].lm)
        assert np.median(d) < 0.5 and np.percentile(d, 99) < 2, (i, np.median(d), d.max())


def test_face_entering_mid_shot_gets_a_new_id_without_a_cut(tmp_path):
    """A second face slides in from the right: the periodic detection (every 30 frames) picks it
    up with a new id; the first face keeps its id; sliding in is not a cut."""
    from lipflap.face.analyze import analyze_video
    a = astronaut()
    frames = []
    for t in range(40):
        f, _ = place(a, 260, 300, 1.0, 0)
        x = 1200 - 14 * min(t, 34)           # enters from beyond the right edge, stops at 724
        g, _ = place(a, x, 290, 0.9, 0, flip=True)
        f[:, 480:] = g[:, 480:]
        frames.append(f)
    res = analyze_video(write_clip(tmp_path / "enter.mp4", frames), face="0", use_cache=False)
    assert res.cuts == []
    assert all(f.face_id == 0 and f.usable for f in res.frames)
    first_seen = min(f.index for f in res.frames if 1 in dict(f.faces))
    assert first_seen <= 31
    assert all(1 in dict(f.faces) for f in res.frames[first_seen:])
    assert sorted(res.faces) == [0, 1]
