"""Bad media through `lipflap run`: correct output with the affected frames flagged, or one
clear error naming the file, the frame and what to do; never a traceback, never a half-written
output. Rows of docs/reliability.md ("Bad media").
"""
from __future__ import annotations

import json
import os

import cv2
import numpy as np
import pytest

from test_hardening_support import (FPS, face_and_dub, face_frames, leftovers, one_sentence_error,
                                    run_speech, sha, speech, write_dub, write_video)

from lipflap.media.probe import probe


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    with face_and_dub(tmp_path_factory.mktemp("hard_media")) as media:
        yield media


def _ok(code, err, out):
    assert code == 0, err
    rep = json.load(open(out + ".json"))
    return rep, probe(rep["output"])


def _flagged(rep, reason):
    return {i for r in rep["flagged_ranges"] if r["reason"] == reason
            for i in range(r["start"], r["end"] + 1)}


# ---- damaged files ------------------------------------------------------------------------

def test_truncated_clip_names_the_frame_and_writes_nothing(env, tmp_path, capsys):
    full = write_video(tmp_path / "full.mkv", face_frames(env["n"]))
    data = open(full, "rb").read()
    cut = tmp_path / "cut.mkv"
    cut.write_bytes(data[:int(len(data) * 0.6)])
    outdir = tmp_path / "out"
    outdir.mkdir()
    code, err = run_speech(capsys, cut, outdir / "o.mov", dub=env["dub"])
    line = one_sentence_error(err)
    assert code == 2
    assert str(cut) in line and "frame" in line and "re-export or re-copy" in line
    assert os.listdir(outdir) == []  # neither a render nor a temporary left behind


def test_corrupt_bytes_inside_a_clip_name_the_frame(env, tmp_path, capsys):
    """Damaged packets in the middle: the frame where decoding breaks is named."""
    data = bytearray(open(env["face"], "rb").read())
    rng = np.random.default_rng(1)
    mid = len(data) // 2
    data[mid:mid + 4000] = rng.integers(0, 256, 4000, dtype=np.uint8).tobytes()
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(bytes(data))
    before = sha(bad)
    out = tmp_path / "o.mov"
    code, err = run_speech(capsys, bad, out, dub=env["dub"])
    if code == 0:
        # The decoder concealed the damage: every frame is there and the render is complete.
        rep, info = _ok(code, err, str(out))
        assert info.frame_count == probe(bad).frame_count
    else:
        line = one_sentence_error(err)
        assert code == 2 and str(bad) in line and "frame" in line
        assert not out.exists()
    assert sha(bad) == before


def test_not_a_media_file(env, tmp_path, capsys):
    junk = tmp_path / "junk.mov"
    junk.write_bytes(np.random.default_rng(2).integers(0, 256, 50000, dtype=np.uint8).tobytes())
    code, err = run_speech(capsys, junk, tmp_path / "o.mov", dub=env["dub"])
    line = one_sentence_error(err)
    assert code == 2 and str(junk) in line and ("not a readable" in line or "index" in line)


def test_video_without_picture_and_dub_without_sound(env, tmp_path, capsys):
    code, err = run_speech(capsys, env["dub"], tmp_path / "o.mov", dub=env["dub"])
    line = one_sentence_error(err)
    assert code == 2 and env["dub"] in line and "no video stream" in line
    code, err = run_speech(capsys, env["face"], tmp_path / "o.mov", dub=env["face"])
    line = one_sentence_error(err)
    assert code == 2 and env["face"] in line and "no audio stream" in line
    assert not (tmp_path / "o.mov").exists()


# ---- unusual but valid pictures -----------------------------------------------------------

def test_variable_frame_rate_renders_every_frame_and_warns(env, tmp_path, capsys):
    vfr = write_video(tmp_path / "vfr.mp4", face_frames(env["n"]), gaps=(10, 20))
    assert probe(vfr).vfr
    out = str(tmp_path / "o.mov")
    rep, info = _ok(*run_speech(capsys, vfr, out, dub=env["dub"]), out)
    assert info.frame_count == env["n"] and not info.vfr
    assert rep["frames_rendered"] >= env["n"] - 2
    assert any("variable frame rate" in w and vfr in w for w in rep["warnings"])


def _rotated(env, tmp_path, rotation=90, **kw):
    """Stored sideways, shown upright: what a phone held upright writes. The display rotation
    turns the stored picture counter-clockwise by `rotation` degrees as it is shown (PyAV's
    VideoFrame.rotation and set_display_rotation; FFmpeg's players and OpenCV's reader turn it
    the same way), so the stored picture is the upright one turned the other way."""
    frames = [np.ascontiguousarray(np.rot90(f, -rotation // 90)) for f in face_frames(env["n"])]
    return write_video(tmp_path / f"phone{rotation}.mp4", frames, rotation=rotation, **kw)


def test_rotation_metadata_kept_and_the_face_rendered(env, tmp_path, capsys):
    clip = _rotated(env, tmp_path)
    out = str(tmp_path / "o.mov")
    rep, info = _ok(*run_speech(capsys, clip, out, dub=env["dub"]), out)
    assert info.rotation == 90 and (info.width, info.height) == (320, 320)
    assert info.frame_count == env["n"]
    assert rep["frames_rendered"] >= env["n"] - 2


LOSSLESS = {"codec": "libx264", "pix_fmt": "yuv444p", "options": {"qp": "0", "preset": "ultrafast"}}


@pytest.mark.parametrize("rotation", [90, -90, 180])
def test_a_rotated_phone_clip_renders_as_the_upright_one(env, tmp_path, capsys, rotation):
    """The face is found and drawn upright whatever the display rotation: the stored output,
    turned as it is shown, is the render of the same frames stored upright (both sources coded
    losslessly; only the output codec's rounding of the turned picture differs). Before the
    frames were shown upright to the stages, a face stored on its side was tracked on its side
    (real footage: frames without a face, and torn open mouths)."""
    import av
    up = write_video(tmp_path / "up.mp4", face_frames(env["n"]), **LOSSLESS)
    side = _rotated(env, tmp_path, rotation, **LOSSLESS)
    outs = {}
    for name, clip in (("up", up), ("side", side)):
        out = str(tmp_path / f"{name}.mov")
        rep, info = _ok(*run_speech(capsys, clip, out, "--codec", "prores_4444", dub=env["dub"]),
                        out)
        assert rep["frames_rendered"] >= env["n"] - 2
        with av.open(out) as c:
            outs[name] = [f.to_ndarray(format="rgb24").astype(np.int16) for f in c.decode(video=0)]
    assert probe(str(tmp_path / "side.mov")).rotation == (rotation + 180) % 360 - 180
    assert len(outs["side"]) == len(outs["up"]) == env["n"]
    diff = np.array([np.abs(np.rot90(s, rotation // 90) - u) for s, u in zip(outs["side"], outs["up"])])
    # ProRes rounds a turned picture a little differently: about half a level on average, the
    # worst pixels a few levels; a face drawn on its side differs by tens of levels at the mouth.
    # (measured: mean 0.43-0.52, 99.99th percentile 4-5 levels; before, 0-5 of 40 frames drawn)
    assert diff.mean() < 1.0 and np.percentile(diff, 99.99) < 8, (diff.mean(), diff.max())


def test_odd_dimensions(env, tmp_path, capsys):
    frames = [f[:251, :253] for f in face_frames(env["n"])]
    clip = write_video(tmp_path / "odd.mkv", frames, codec="ffv1", pix_fmt="yuv444p", options={})
    out = str(tmp_path / "o4444.mov")
    rep, info = _ok(*run_speech(capsys, clip, out, "--codec", "prores_4444", dub=env["dub"]), out)
    assert (info.width, info.height) == (253, 251) and info.frame_count == env["n"]
    assert rep["frames_rendered"] >= env["n"] - 2
    # 4:2:2 / 4:2:0 codecs cannot hold an odd width: one sentence saying what to use instead,
    # before the analysis pass (a wrong codec must not cost the minutes of a long shot's analysis).
    import lipflap.face.analyze as analyze_mod

    def no_analysis(*a, **k):
        raise AssertionError("analysed before checking the output size")
    real = analyze_mod.analyze_video
    analyze_mod.analyze_video = no_analysis
    try:
        code, err = run_speech(capsys, clip, tmp_path / "o422.mov", dub=env["dub"])
    finally:
        analyze_mod.analyze_video = real
    line = one_sentence_error(err)
    assert code == 2 and "253x251" in line and "prores_4444" in line
    assert not (tmp_path / "o422.mov").exists()


def test_interlaced_10bit_422_prores(env, tmp_path, capsys):
    clip = write_video(tmp_path / "int.mov", face_frames(env["n"]), codec="prores_ks",
                       pix_fmt="yuv422p10le", options={"profile": "3"}, field_order=2)
    src = probe(clip)
    assert (src.field_order, src.pix_fmt) == ("tt", "yuv422p10le")
    out = str(tmp_path / "o.mov")
    rep, info = _ok(*run_speech(capsys, clip, out, dub=env["dub"]), out)
    assert info.field_order == "tt" and info.bit_depth == 10 and info.pix_fmt == "yuv422p10le"
    assert info.frame_count == env["n"] and rep["frames_rendered"] >= env["n"] - 2


def test_12bit_444_prores(env, tmp_path, capsys):
    clip = write_video(tmp_path / "p4444.mov", face_frames(env["n"]), codec="prores_ks",
                       pix_fmt="yuv444p10le", options={"profile": "4"})
    src = probe(clip)
    assert src.pix_fmt == "yuv444p12le" and src.bit_depth == 12  # ProRes 4444 decodes at 12 bits
    out = str(tmp_path / "o.mov")
    rep, info = _ok(*run_speech(capsys, clip, out, "--codec", "prores_4444", dub=env["dub"]), out)
    assert info.pix_fmt == "yuv444p12le" and info.frame_count == env["n"]
    assert rep["frames_rendered"] >= env["n"] - 2


@pytest.mark.parametrize("width,height,frames", [(3840, 2160, 3), (7680, 4320, 3)])
def test_4k_and_8k_frames(env, tmp_path, capsys, width, height, frames):
    face = cv2.resize(face_frames(1)[0], (height // 2, height // 2), interpolation=cv2.INTER_CUBIC)
    imgs = []
    for i in range(frames):
        canvas = np.full((height, width, 3), 90, np.uint8)
        y0, x0 = height // 4, (width - face.shape[1]) // 2 + i * 4
        canvas[y0:y0 + face.shape[0], x0:x0 + face.shape[1]] = face
        imgs.append(canvas)
    clip = write_video(tmp_path / "big.mp4", imgs)
    out = str(tmp_path / "o.mov")
    rep, info = _ok(*run_speech(capsys, clip, out, dub=env["dub"]), out)
    assert (info.width, info.height, info.frame_count) == (width, height, frames)
    assert rep["frames_rendered"] == frames


# ---- dubs ---------------------------------------------------------------------------------

@pytest.mark.parametrize("rate,channels", [(8000, 1), (22050, 2), (44100, 6), (96000, 8)])
def test_dub_sample_rates_and_channel_counts_load(tmp_path, rate, channels):
    from lipflap.media.audio import load_audio
    dub = write_dub(tmp_path / "d.wav", rate, channels)
    x = load_audio(dub, 16000)
    ref_s, ref_sr = speech()
    ref = np.interp(np.arange(len(x)) * ref_sr / 16000, np.arange(len(ref_s)), ref_s)
    assert abs(len(x) / 16000 - len(ref_s) / ref_sr) < 0.01
    band = min(rate, 16000) / 2 * 0.8  # compare below the lower Nyquist frequency
    k = cv2.getGaussianKernel(9, 16000 / (2 * np.pi * band)).ravel()
    r = np.corrcoef(np.convolve(x, k, "same"), np.convolve(ref, k, "same"))[0, 1]
    assert r > 0.9
    st = load_audio(dub, 48000, 2)
    assert st.shape[1] == 2 and np.allclose(st[:, 0], st[:, 1], atol=1e-4)


@pytest.mark.parametrize("rate,channels", [(8000, 1), (96000, 8)])
def test_dub_sample_rates_and_channel_counts_render(env, tmp_path, capsys, rate, channels):
    dub = write_dub(tmp_path / "d.wav", rate, channels)
    out = str(tmp_path / "o.mov")
    rep, info = _ok(*run_speech(capsys, env["face"], out, dub=dub), out)
    assert rep["mouth_track"]["source"] == "script" and rep["frames_rendered"] >= env["n"] - 2
    assert info.audio and info.audio[0].channels == (1 if channels == 1 else 2)


def test_dub_far_shorter_than_the_shot_flags_the_uncovered_frames(env, tmp_path, capsys):
    n = 4 * env["n"]
    clip = write_video(tmp_path / "long_shot.mp4", face_frames(n))
    out = str(tmp_path / "o.mov")
    rep, info = _ok(*run_speech(capsys, clip, out, dub=env["dub"]), out)
    assert info.frame_count == n
    dub_frames = int(len(speech()[0]) / speech()[1] * FPS)
    uncovered = _flagged(rep, "no_dub")
    assert uncovered == set(range(dub_frames + 1, n)) or uncovered == set(range(dub_frames, n))
    assert any("does not cover" in w for w in rep["warnings"])
    assert info.audio and abs(info.audio[0].duration_s - n / FPS) < 0.05  # silence after the dub


def test_dub_far_longer_than_the_shot_is_cut_to_the_shot(env, tmp_path, capsys):
    dub = write_dub(tmp_path / "long.wav", 48000, 2, pad_s=60.0)
    out = str(tmp_path / "o.mov")
    rep, info = _ok(*run_speech(capsys, env["face"], out, dub=dub), out)
    assert not _flagged(rep, "no_dub") and rep["dub"]["duration_s"] > 60
    assert abs(info.audio[0].duration_s - env["n"] / FPS) < 0.05


# ---- what the picture shows ---------------------------------------------------------------

def test_black_and_flash_frames_pass_through_flagged(env, tmp_path, capsys):
    frames = face_frames(env["n"])
    for i in (12, 13):
        frames[i] = np.zeros_like(frames[i])
    frames[25] = np.full_like(frames[25], 255)
    clip = write_video(tmp_path / "black.mp4", frames)
    out = str(tmp_path / "o.mov")
    rep, info = _ok(*run_speech(capsys, clip, out, dub=env["dub"]), out)
    assert {12, 13, 25} <= _flagged(rep, "no_face")
    assert rep["cuts"] == []  # a black or white frame is not a cut
    assert rep["frames_passed_through"] == 3 and info.frame_count == env["n"]


def test_hard_cut_inside_a_shot_is_reported_and_both_sides_rendered(env, tmp_path, capsys):
    n = env["n"]
    frames = face_frames(n)
    other = np.ascontiguousarray(cv2.resize(frames[0][40:, ::-1], (320, 320)))
    frames[n // 2:] = [np.roll(other, i // 4, axis=0) for i in range(n - n // 2)]
    clip = write_video(tmp_path / "cut.mp4", frames)
    out = str(tmp_path / "o.mov")
    rep, info = _ok(*run_speech(capsys, clip, out, dub=env["dub"]), out)
    assert rep["cuts"] == [n // 2]
    assert rep["frames_rendered"] >= n - 4 and info.frame_count == n


def test_two_faces_one_is_chosen_and_a_bad_choice_is_a_clear_error(env, tmp_path, capsys):
    left = face_frames(env["n"])
    frames = [np.ascontiguousarray(np.hstack([f, np.roll(f[:, ::-1], 7, axis=0)])) for f in left]
    clip = write_video(tmp_path / "two.mp4", frames)
    out = str(tmp_path / "o.mov")
    rep, info = _ok(*run_speech(capsys, clip, out, dub=env["dub"]), out)
    assert rep["frames_rendered"] >= env["n"] - 2 and info.width == 640
    code, err = run_speech(capsys, clip, tmp_path / "o9.mov", "--face", "9", dub=env["dub"])
    line = one_sentence_error(err)
    assert code == 2 and "9" in line and not (tmp_path / "o9.mov").exists()


def _yawed(img, amount):
    """The face turned away: the right half squeezed in perspective (a rough yaw)."""
    h, w = img.shape[:2]
    src = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    dst = np.float32([[0, 0], [w * (1 - amount), h * 0.15], [w * (1 - amount), h * 0.85], [0, h]])
    return cv2.warpPerspective(img, cv2.getPerspectiveTransform(src, dst), (w, h),
                               borderMode=cv2.BORDER_REPLICATE)


def test_profile_faces_are_flagged_and_passed_through(env, tmp_path, capsys):
    frames = face_frames(env["n"])
    turned = range(15, 30)
    for i in turned:
        frames[i] = _yawed(frames[i], 0.75)
    clip = write_video(tmp_path / "profile.mp4", frames)
    out = str(tmp_path / "o.mov")
    rep, info = _ok(*run_speech(capsys, clip, out, dub=env["dub"]), out)
    bad = _flagged(rep, "profile") | _flagged(rep, "no_face") | _flagged(rep, "low_confidence")
    assert set(turned) <= bad
    assert info.frame_count == env["n"] and rep["frames_rendered"] >= env["n"] - len(turned) - 4


def test_hand_over_the_mouth_is_flagged_occluded_and_passed_through(env, tmp_path, capsys):
    frames = face_frames(env["n"])
    covered = range(14, 24)
    for i in covered:
        # A skin-coloured hand across mouth and chin.
        cv2.ellipse(frames[i], (163 + i // 4, 150), (58, 30), 8, 0, 360, (224, 172, 140), -1)
    clip = write_video(tmp_path / "hand.mp4", frames)
    out = str(tmp_path / "o.mov")
    rep, info = _ok(*run_speech(capsys, clip, out, dub=env["dub"]), out)
    occluded = _flagged(rep, "occluded")
    assert len(occluded & set(covered)) >= len(covered) - 2 and occluded <= set(covered)
    assert rep["frames_passed_through"] >= len(covered) - 2
    assert leftovers(tmp_path) == sorted([clip, out, out + ".json"])


def test_a_rotated_phone_clips_patch_lies_where_its_face_is_stored(env, tmp_path, capsys):
    """--mode patch on a clip stored sideways: the RGBA patch is written as the file stores the
    picture (its display rotation kept), so it lies over the stored face: turned as shown, its
    alpha covers what the upright clip's patch covers."""
    import av
    up = write_video(tmp_path / "up.mp4", face_frames(env["n"]), **LOSSLESS)
    side = _rotated(env, tmp_path, 90, **LOSSLESS)
    alphas = {}
    for name, clip in (("up", up), ("side", side)):
        out = str(tmp_path / f"{name}.patch.mov")
        _ok(*run_speech(capsys, clip, out, "--mode", "patch", "--codec", "prores_4444",
                        dub=env["dub"]), out)
        with av.open(out) as c:
            alphas[name] = [f.to_ndarray(format="rgba64le")[..., 3] > 32768 for f in c.decode(video=0)]
    assert probe(str(tmp_path / "side.patch.mov")).rotation == 90
    for s, u in zip(alphas["side"], alphas["up"]):
        shown = np.rot90(s, 1)
        assert shown.shape == u.shape
        if u.any():
            assert (shown & u).sum() / (shown | u).sum() > 0.95
