"""`lipflap analyze --thumbnails DIR` (issue 18, hosts): one PNG per tracked face, listed in the
analysis JSON with its position and the face spec a job uses, so a host can show the editor the
faces a voice can go to."""
from __future__ import annotations

import json
import os
from fractions import Fraction

import numpy as np
import pytest

from lipflap.cli import main
from lipflap.face.result import FrameFace, ShotAnalysis
from lipflap.face.thumbnails import crop, faces_to_show

FPS, N = 25, 6


@pytest.fixture(scope="module")
def two_shot(tmp_path_factory):
    """scikit-image's astronaut beside her mirror image: two real faces, left and right."""
    import skimage.data
    from lipflap.media.encode import VideoWriter
    d = tmp_path_factory.mktemp("thumbs")
    os.environ.setdefault("LIPFLAP_CACHE", str(d / "cache"))
    img = skimage.data.astronaut()[:320, 64:384]
    path = str(d / "two.mov")
    with VideoWriter(path, codec="h264", fps=FPS, width=640, height=320) as w:
        for _ in range(N):
            w.write(np.hstack([img, img[:, ::-1]]))
    return d, path


def test_each_face_gets_a_thumbnail_and_a_job_face_spec(two_shot):
    import cv2
    d, video = two_shot
    out, folder = str(d / "a.json"), str(d / "faces")
    assert main(["analyze", video, "-o", out, "--thumbnails", folder]) == 0
    with open(out) as f:
        thumbs = json.load(f)["thumbnails"]
    assert [t["position"] for t in thumbs] == ["left", "right"]
    assert [t["face"] for t in thumbs] == ["left", "right"]
    assert len({t["id"] for t in thumbs}) == 2
    for t in thumbs:
        png = cv2.imread(t["file"])
        assert png is not None and png.shape[0] == 128
        x0, _, x1, _ = t["box"]
        assert (x1 < 320) if t["position"] == "left" else (x0 > 320)
    # The two pictures are mirror images of one face: the right one flipped is the left one.
    left, right = (cv2.imread(t["file"]).astype(float) for t in thumbs)
    w = min(left.shape[1], right.shape[1])
    assert np.abs(left[:, :w] - right[:, ::-1][:, :w]).mean() < 25


def test_thumbnails_refuse_to_overwrite_the_input(two_shot, capsys):
    d, video = two_shot
    assert main(["analyze", video, "-o", str(d / "b.json"), "--thumbnails", video]) != 0
    assert "refusing to overwrite the input" in capsys.readouterr().err


def _analysis(boxes_per_frame, width=640, height=320):
    frames = [FrameFace(index=i, faces=[(fid, box) for fid, box in boxes]) for i, boxes in
              enumerate(boxes_per_frame)]
    ids = {fid for boxes in boxes_per_frame for fid, _ in boxes}
    return ShotAnalysis(path="x.mov", fps=Fraction(25), width=width, height=height, start=0,
                        end=len(frames) - 1, frames=frames, faces={i: {"shot": 0} for i in ids})


def test_the_best_frame_is_the_largest_box_wholly_inside_the_picture():
    a = _analysis([[(4, (-30, 10, 130, 200))],          # biggest, but cut by the left edge
                   [(4, (10, 10, 110, 130))],
                   [(4, (10, 10, 120, 140))]])          # the largest inside: chosen
    (shot,) = faces_to_show(a)
    assert shot.frame == 2 and shot.position is None
    assert shot.spec == f"{shot.centre[0]:.0f},{shot.centre[1]:.0f}"   # one face: its point


def test_positions_of_three_faces_and_none_for_four():
    three = _analysis([[(7, (400, 0, 500, 100)), (2, (0, 0, 100, 100)), (5, (200, 0, 300, 100))]])
    assert [(s.face_id, s.spec) for s in faces_to_show(three)] == [(2, "left"), (5, "centre"),
                                                                   (7, "right")]
    four = _analysis([[(i, (i * 150, 0, i * 150 + 100, 100)) for i in range(4)]])
    assert all(s.position is None and "," in s.spec for s in faces_to_show(four))


def test_crop_keeps_inside_the_picture_and_scales_to_the_height():
    img = np.zeros((100, 200, 3), np.uint8)
    out = crop(img, (150, 50, 210, 110), height=64)       # the box runs off the right and bottom
    assert out.shape[0] == 64 and out.shape[2] == 3
    with pytest.raises(ValueError):
        crop(img, (300, 300, 310, 310))


@pytest.mark.slow
def test_the_pictures_face_specs_drive_a_dialogue_run_read_back_per_face(two_shot):
    """What a host does: the faces' specs from --thumbnails go into a "voices" job, and the run
    report's per-face figures read back through the contract (RunReport.voices)."""
    from mediagen import make_wav
    from lipflap.contract.report import read_report
    d, video = two_shot
    assert main(["analyze", video, "-o", str(d / "c.json"), "--thumbnails", str(d / "faces")]) == 0
    with open(d / "c.json") as f:
        specs = [t["face"] for t in json.load(f)["thumbnails"]]
    wav = make_wav(str(d / "dub.wav"), seconds=0.4)
    job = {"video": video, "output": str(d / "out.mov"), "report": str(d / "out.json"),
           "voices": [{"face": s, "audio": wav} for s in specs], "credentials": False}
    (d / "job.json").write_text(json.dumps(job))
    assert main(["run", "--job", str(d / "job.json")]) == 0
    faces = read_report(str(d / "out.json")).voices
    assert [v.face for v in faces] == ["left", "right"]
    assert all(v.frames_rendered == N and v.line().startswith(f"face {v.face}: {N} frames redrawn")
               for v in faces)
