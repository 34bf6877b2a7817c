"""A two-face render (issue 18): each face follows its own voice in one run.

Two copies of scikit-image's astronaut side by side (a real photograph, so Face Mesh finds both;
her mouth is open in the photo). The left face gets an edited track that almost closes the mouth,
the right one a wide-open track: in the output's pixels the left mouth closes and the right one
stays open (the widest its own frames have), each against its own source.
"""
from __future__ import annotations

import json
import os

import numpy as np
import pytest

from lipflap.cli import main

FPS, N = 25, 14


def _track(path, aperture, width=0.45):
    frames = [{"frame": i, "time": i / FPS, "viseme": "aa", "shape": "D", "aperture": aperture,
               "width": width, "rounding": 0.0, "jaw": aperture / 2} for i in range(N + 5)]
    with open(path, "w") as f:
        json.dump({"fps": FPS, "frames": frames}, f)
    return path


@pytest.fixture(scope="module")
def two(tmp_path_factory):
    import skimage.data
    from lipflap.media.encode import VideoWriter
    d = tmp_path_factory.mktemp("two")
    os.environ.setdefault("LIPFLAP_CACHE", str(d / "cache"))
    img = skimage.data.astronaut()[:320, 64:384]
    path = str(d / "two.mov")
    with VideoWriter(path, codec="h264", fps=FPS, width=640, height=320) as w:
        for i in range(N):
            w.write(np.hstack([np.roll(img, i // 4, axis=1), np.roll(img[:, ::-1], -(i // 4),
                                                                     axis=1)]))
    from mediagen import make_wav
    return {"dir": d, "video": path, "wav": make_wav(str(d / "dub.wav"), seconds=0.6), "shut": _track(str(d / "shut.json"), 0.06),
            "wide": _track(str(d / "wide.json"), 0.95, 0.5)}


def _aperture(path, face):
    from lipflap.face.analyze import analyze_video
    from lipflap.face.geometry import mouth_aperture
    an = analyze_video(path, face=face, use_cache=False)
    return float(np.nanmedian([np.nan if f.landmarks is None else mouth_aperture(f.landmarks)
                               for f in an.frames]))


def test_each_face_follows_its_own_voice(two, tmp_path):
    out, rep = str(tmp_path / "out.mov"), str(tmp_path / "out.json")
    job = {"video": two["video"], "output": out, "report": rep,
           "voices": [{"face": "left", "shapes": two["shut"]},
                      {"face": "right", "shapes": two["wide"]}]}
    jp = tmp_path / "job.json"
    jp.write_text(json.dumps(job))
    assert main(["run", "--job", str(jp), "--progress", "none", "--no-credentials"]) == 0
    r = json.load(open(rep))
    assert [v["face"] for v in r["voices"]] == ["left", "right"]
    ids = [v["face_ids"] for v in r["voices"]]
    assert len(ids[0]) == len(ids[1]) == 1 and ids[0] != ids[1]
    for v in r["voices"]:
        assert v["frames_rendered"] >= N - 2
        assert v["qc"] is not None and "sync" in v
    assert r["frames_rendered"] >= N - 2
    src_l, src_r = _aperture(two["video"], "left"), _aperture(two["video"], "right")
    out_l, out_r = _aperture(out, "left"), _aperture(out, "right")
    assert src_l > 0.06 and src_r > 0.06
    assert out_l < 0.5 * src_l          # the left mouth closes
    # The right one stays open (a photo has no wider exemplar): the left face's voice did not
    # reach it.
    assert out_r > 0.85 * src_r


def test_voice_on_missing_face_is_refused(two, tmp_path, capsys):
    code = main(["run", two["video"], "--voice", f"7={two['wav']}", "-o",
                 str(tmp_path / "o.mov"), "--progress", "none", "--no-credentials"])
    assert code == 2
    err = capsys.readouterr().err
    assert "face 7 is not in frames" in err


def test_two_voices_on_one_face_are_refused(two, tmp_path, capsys):
    job = {"video": two["video"], "output": str(tmp_path / "o.mov"),
           "voices": [{"face": "left", "shapes": two["shut"]},
                      {"face": "0,160", "shapes": two["wide"]}]}
    jp = tmp_path / "job.json"
    jp.write_text(json.dumps(job))
    assert main(["run", "--job", str(jp), "--progress", "none", "--no-credentials"]) == 2
    assert "are the same face" in capsys.readouterr().err


def test_rerun_reads_every_face_from_the_cache(two, tmp_path, monkeypatch):
    import lipflap.pipeline.voices as voices
    monkeypatch.setenv("LIPFLAP_CACHE", str(tmp_path / "cache"))
    job = {"video": two["video"], "end_frame": 5,
           "voices": [{"face": "left", "shapes": two["shut"]},
                      {"face": "right", "shapes": two["wide"]}]}
    jp = tmp_path / "job.json"
    for k in range(2):
        jp.write_text(json.dumps(dict(job, output=str(tmp_path / f"o{k}.mov"))))
        assert main(["run", "--job", str(jp), "--progress", "none", "--no-credentials"]) == 0
        if k == 0:
            def no_decode(*a, **kw):
                raise AssertionError("the second run decoded the shot again")
            monkeypatch.setattr(voices, "track_frames", no_decode)
    assert os.path.exists(tmp_path / "o1.mov")
