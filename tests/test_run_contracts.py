"""`lipflap run` against the output contract (docs/cli.md, docs/job.md, docs/output.md), on small generated clips.

The face clip is scikit-image's astronaut (a real photograph, so Face Mesh finds her), moved a
little from frame to frame; her mouth is open in the photo, so an edited track with aperture 0
must close it in the output's pixels.
"""
from __future__ import annotations

import glob
import json
import os
import wave

import cv2
import numpy as np
import pytest

from lipflap.cli import main

FPS = 25
N = 16


def _astronaut_frames():
    import skimage.data
    img = skimage.data.astronaut()[:320, 64:384]
    for i in range(N):
        yield np.roll(img, i // 4, axis=1)


@pytest.fixture(scope="module")
def media(tmp_path_factory):
    from lipflap.media.encode import VideoWriter
    d = tmp_path_factory.mktemp("runmedia")
    os.environ.setdefault("LIPFLAP_CACHE", str(d / "cache"))
    face = str(d / "astro.mov")
    with VideoWriter(face, codec="h264", fps=FPS, width=320, height=320,
                     start_timecode="01:00:00:00") as w:
        for img in _astronaut_frames():
            w.write(img)
    noface = str(d / "noise.mov")
    rng = np.random.default_rng(0)
    base = cv2.GaussianBlur(rng.integers(0, 255, (160, 160, 3), dtype=np.uint8), (0, 0), 5)
    with VideoWriter(noface, codec="h264", fps=FPS, width=160, height=160) as w:
        for i in range(8):
            w.write(np.roll(base, i, axis=0))
    closed = str(d / "closed.json")
    frames = [{"frame": i, "time": i / FPS, "viseme": "sil", "shape": "X", "aperture": 0.0,
               "width": 0.45, "rounding": 0.0, "jaw": 0.0} for i in range(N + 10)]
    with open(closed, "w") as f:
        json.dump({"fps": FPS, "frames": frames}, f)
    dub = str(d / "dub.wav")
    t = np.arange(int(0.3 * 16000)) / 16000
    x = (0.3 * np.sin(2 * np.pi * 220 * t) * 32767).astype(np.int16)
    with wave.open(dub, "wb") as w:
        w.setnchannels(1), w.setsampwidth(2), w.setframerate(16000)
        w.writeframes(x.tobytes())
    return {"dir": d, "face": face, "noface": noface, "closed": closed, "dub": dub}


def _apertures(path):
    from lipflap.face.analyze import analyze_video
    from lipflap.face.geometry import mouth_aperture
    an = analyze_video(path, use_cache=False)
    return np.array([np.nan if f.landmarks is None else mouth_aperture(f.landmarks) for f in an.frames])


def test_full_mode_contract_and_closed_track(media, tmp_path):
    from lipflap.media.probe import probe
    out = str(tmp_path / "out.mov")
    rep = str(tmp_path / "out.json")
    code = main(["run", media["face"], "--shapes", media["closed"], "--start", "2", "--end", "13",
                 "-o", out, "--report", rep, "--progress", "none"])
    assert code == 0
    src, info = probe(media["face"]), probe(out)
    assert info.frame_count == 12
    assert (info.width, info.height) == (src.width, src.height)
    assert info.fps == src.fps
    assert info.start_timecode == "01:00:00:02"
    assert info.codec.startswith("prores")
    r = json.load(open(rep))
    assert r["range"] == {"start": 2, "end": 13, "handles": 0, "first": 2, "last": 13, "frames": 12}
    assert r["frames_rendered"] + r["frames_passed_through"] == 12
    assert r["frames_rendered"] >= 10
    assert r["timecodes"]["first"] == "01:00:00:02"
    assert r["mouth_track"]["source"] == "edited"
    # The photo's open mouth is closed in the output's pixels.
    a_src = np.nanmedian(_apertures(media["face"]))
    a_out = np.nanmedian(_apertures(out))
    assert a_src > 0.06
    assert a_out < 0.3 * a_src


def test_png_untouched_pixels_bit_exact(media, tmp_path):
    from lipflap.media.encode import plain_transcode
    out = str(tmp_path / "seq" / "f.%04d.png")
    os.makedirs(os.path.dirname(out))
    ref = str(tmp_path / "ref" / "f.%04d.png")
    os.makedirs(os.path.dirname(ref))
    assert main(["run", media["face"], "--shapes", media["closed"], "--start", "4", "--end", "9",
                 "-o", out, "--progress", "none"]) == 0
    plain_transcode(media["face"], ref, "png", 4, 9)
    got = sorted(glob.glob(str(tmp_path / "seq" / "*.png")))
    want = sorted(glob.glob(str(tmp_path / "ref" / "*.png")))
    assert [os.path.basename(p) for p in got] == [f"f.{i:04d}.png" for i in range(4, 10)]
    assert len(got) == len(want) == 6
    changed = 0
    for a, b in zip(got, want):
        x = cv2.imread(a, cv2.IMREAD_UNCHANGED)
        y = cv2.imread(b, cv2.IMREAD_UNCHANGED)
        assert x.dtype == np.uint16 and x.shape == y.shape
        diff = np.abs(x.astype(int) - y.astype(int)).max(axis=2) > 0
        # Above the nose (hair, eyes), the suit below and the sides: untouched, bit-exact.
        assert not diff[:95].any() and not diff[205:].any()
        assert not diff[:, :80].any() and not diff[:, 240:].any()
        changed += int(diff[120:190].sum())
    assert changed > 500  # the mouth really was redrawn


def test_patch_mode_alpha(media, tmp_path):
    out = str(tmp_path / "patch" / "p.%04d.png")
    os.makedirs(os.path.dirname(out))
    assert main(["run", media["face"], "--shapes", media["closed"], "--start", "0", "--end", "5",
                 "--mode", "patch", "-o", out, "--progress", "none"]) == 0
    files = sorted(glob.glob(str(tmp_path / "patch" / "*.png")))
    assert len(files) == 6
    for p in files:
        x = cv2.imread(p, cv2.IMREAD_UNCHANGED)
        assert x.shape == (320, 320, 4)
        alpha = x[:, :, 3]
        assert alpha[:95].max() == 0 and alpha[:, :80].max() == 0 and alpha[205:].max() == 0
        assert alpha.max() > 60000  # opaque over the mouth
        assert 0 < (alpha > 0).mean() < 0.25


def test_patch_mode_refuses_mp4(media, tmp_path, capsys):
    code = main(["run", media["face"], "--shapes", media["closed"], "--mode", "patch",
                 "-o", str(tmp_path / "x.mp4"), "--progress", "none"])
    assert code == 2
    assert "alpha" in capsys.readouterr().err


def test_no_face_passes_through(media, tmp_path, capsys):
    from lipflap.media.encode import plain_transcode
    out = str(tmp_path / "nf" / "n.%04d.png")
    ref = str(tmp_path / "nfref" / "n.%04d.png")
    os.makedirs(os.path.dirname(out)), os.makedirs(os.path.dirname(ref))
    rep = str(tmp_path / "nf.json")
    code = main(["run", media["noface"], "--audio", media["dub"], "--shapes", media["closed"],
                 "-o", out, "--report", rep, "--progress", "none"])
    assert code == 0
    assert "no usable face" in capsys.readouterr().err
    plain_transcode(media["noface"], ref, "png")
    got = sorted(glob.glob(str(tmp_path / "nf" / "*.png")))
    want = sorted(glob.glob(str(tmp_path / "nfref" / "*.png")))
    assert len(got) == len(want) == 8
    for a, b in zip(got, want):
        assert np.array_equal(cv2.imread(a, cv2.IMREAD_UNCHANGED), cv2.imread(b, cv2.IMREAD_UNCHANGED))
    r = json.load(open(rep))
    assert r["frames_rendered"] == 0 and r["frames_passed_through"] == 8
    assert any(x["reason"] == "no_face" for x in r["flagged_ranges"])


def test_versioned_names_never_overwrite(media, tmp_path):
    folder = tmp_path / "renders"
    folder.mkdir()
    for _ in range(2):
        assert main(["run", media["face"], "--shapes", media["closed"], "--start", "0", "--end", "3",
                     "-o", str(folder), "--language", "es", "--progress", "none"]) == 0
    names = sorted(os.listdir(folder))
    # each render with its report beside it (lipflap.contract.naming.report_path)
    assert names == ["astro_lipflap_es_v001.json", "astro_lipflap_es_v001.mov",
                     "astro_lipflap_es_v002.json", "astro_lipflap_es_v002.mov"]
    assert main(["run", media["face"], "--shapes", media["closed"], "--start", "0", "--end", "3",
                 "-o", str(folder), "--progress", "none"]) == 0
    # Unknown language: the shared naming rule's placeholder (hostclient.next_version_path).
    import re
    assert any(re.fullmatch(r"astro_lipflap_(xx|und)_v001\.mov", n) for n in os.listdir(folder))


def test_the_report_is_written_beside_the_render_and_qc_finds_it(media, tmp_path, capsys):
    """No --report: the run's report goes beside the render (its name with .json), where
    `lipflap qc OUT` reads the source, the range and the dub; never over a file that is not a
    lipflap report, and a job file says for itself."""
    out = str(tmp_path / "out.mov")
    assert main(["run", media["face"], "--audio", media["dub"], "--shapes", media["closed"],
                 "--start", "2", "--end", "9", "-o", out, "--progress", "none",
                 "--no-credentials"]) == 0
    assert "; report " + str(tmp_path / "out.json") in capsys.readouterr().out
    r = json.load(open(tmp_path / "out.json"))
    assert r["output"] == out and r["range"]["start"] == 2 and r["range"]["end"] == 9
    qc = str(tmp_path / "qc.json")
    # no --audio, --source, its range or --shapes: all from the report beside the render
    assert main(["qc", out, "-o", qc, "--progress", "none"]) == 0
    q = json.load(open(qc))
    assert q["source"] == os.path.abspath(media["face"]) and q["audio"] == media["dub"]
    assert q["source_frames"] == [2, 9] and q["shapes"] == media["closed"]
    assert q["figures"]["frames_dropped"]["value"] == 0

    # a file of that name that is not a lipflap report is left alone, and said so
    other = str(tmp_path / "notes.mov")
    with open(tmp_path / "notes.json", "w") as fh:
        fh.write('{"mine": true}')
    assert main(["run", media["face"], "--shapes", media["closed"], "--start", "0", "--end", "3",
                 "-o", other, "--progress", "none", "--no-credentials"]) == 0
    said = capsys.readouterr()
    assert json.load(open(tmp_path / "notes.json")) == {"mine": True}
    assert "notes.json exists and is not a lipflap report" in said.err + said.out

    # a report of an earlier render of that name is replaced
    assert main(["run", media["face"], "--shapes", media["closed"], "--start", "0", "--end", "5",
                 "-o", out, "--progress", "none", "--no-credentials"]) == 0
    assert json.load(open(tmp_path / "out.json"))["range"]["end"] == 5

    # a job file without "report" writes none (a host that wants one names it)
    job = str(tmp_path / "job.json")
    out2 = str(tmp_path / "byjob.mov")
    with open(job, "w") as fh:
        json.dump({"video": media["face"], "shapes": media["closed"], "start_frame": 0, "end_frame": 3,
                   "output": {"path": out2}, "credentials": False}, fh)
    assert main(["run", "--job", job, "--progress", "none"]) == 0
    assert os.path.exists(out2) and not os.path.exists(tmp_path / "byjob.json")


def test_atomic_output_on_failure(media, tmp_path, monkeypatch):
    import lipflap.pipeline.render as render_stage
    from lipflap.contract.jobspec import parse_job
    from lipflap.pipeline import run_job
    from lipflap.contract.progress import Progress
    calls = {"n": 0}
    real = render_stage.render_frame

    def failing(*a, **k):
        calls["n"] += 1
        if calls["n"] == 4:
            raise RuntimeError("disk on fire")
        return real(*a, **k)
    monkeypatch.setattr(render_stage, "render_frame", failing)
    out = tmp_path / "o" / "fail.mov"
    out.parent.mkdir()
    job = parse_job({"video": media["face"], "shapes": media["closed"], "output": str(out),
                     "report": str(tmp_path / "o" / "fail.json")})
    with pytest.raises(RuntimeError):
        run_job(job, Progress("none"))
    assert os.listdir(out.parent) == []


def test_audio_offset_outside_dub_is_an_error(media, tmp_path, capsys):
    code = main(["run", media["face"], "--audio", media["dub"], "--audio-offset", "30",
                 "--shapes", media["closed"], "-o", str(tmp_path / "o.mov"), "--progress", "none"])
    assert code == 2
    err = capsys.readouterr().err
    assert "audio-offset" in err and "outside" in err
    assert not os.path.exists(tmp_path / "o.mov")


def test_short_dub_is_reported_and_muxed(media, tmp_path):
    from lipflap.media.probe import probe
    out = str(tmp_path / "short.mov")
    rep = str(tmp_path / "short.json")
    assert main(["run", media["face"], "--audio", media["dub"], "--shapes", media["closed"],
                 "-o", out, "--report", rep, "--progress", "none"]) == 0
    r = json.load(open(rep))
    assert any("does not cover" in w for w in r["warnings"])
    assert r["dub"]["duration_s"] == pytest.approx(0.3, abs=0.01)
    assert probe(out).audio, "the dub is muxed into the render"


def test_range_errors_and_input_protection(media, tmp_path, capsys):
    assert main(["run", media["face"], "--shapes", media["closed"], "--start", "10", "--end", "99",
                 "-o", str(tmp_path / "r.mov"), "--progress", "none"]) == 2
    assert "outside the file" in capsys.readouterr().err
    assert main(["run", media["face"], "--shapes", media["closed"], "-o", media["face"],
                 "--progress", "none"]) == 2
    assert "input" in capsys.readouterr().err


def test_job_file_with_cli_override(media, tmp_path):
    from lipflap.media.probe import probe
    job = {"video": media["face"], "shapes": media["closed"], "start_frame": 1, "end_frame": 12,
           "output": {"path": str(tmp_path / "j.mov"), "mode": "full"}, "handles": 2}
    jp = tmp_path / "job.json"
    jp.write_text(json.dumps(job))
    rep = str(tmp_path / "j.json")
    assert main(["run", "--job", str(jp), "--end", "6", "--report", rep, "--progress", "none"]) == 0
    r = json.load(open(rep))
    # handles: 2 each side, clipped at the file's start
    assert (r["range"]["first"], r["range"]["last"]) == (0, 8)
    assert probe(str(tmp_path / "j.mov")).frame_count == 9
    assert probe(str(tmp_path / "j.mov")).start_timecode == "01:00:00:00"


def test_strength_zero_is_the_source(media, tmp_path):
    from lipflap.media.encode import plain_transcode
    out = str(tmp_path / "s0" / "s.%04d.png")
    ref = str(tmp_path / "s0ref" / "s.%04d.png")
    os.makedirs(os.path.dirname(out)), os.makedirs(os.path.dirname(ref))
    assert main(["run", media["face"], "--shapes", media["closed"], "--start", "0", "--end", "4",
                 "--strength", "0", "-o", out, "--progress", "none"]) == 0
    plain_transcode(media["face"], ref, "png", 0, 4)
    for a, b in zip(sorted(glob.glob(str(tmp_path / "s0" / "*.png"))),
                    sorted(glob.glob(str(tmp_path / "s0ref" / "*.png")))):
        assert np.array_equal(cv2.imread(a, cv2.IMREAD_UNCHANGED), cv2.imread(b, cv2.IMREAD_UNCHANGED))


def test_timecode_range_and_deep_source(media, tmp_path):
    """--in/--out in the file's timecode; a 10-bit source renders on the 16-bit path."""
    from lipflap.media.encode import VideoWriter
    from lipflap.media.probe import probe
    deep = str(tmp_path / "deep.mov")
    with VideoWriter(deep, codec="prores_hq", fps=FPS, width=320, height=320,
                     start_timecode="10:00:00:00") as w:
        for img in _astronaut_frames():
            w.write(img.astype(np.uint16) * 257)
    assert probe(deep).bit_depth > 8
    out = str(tmp_path / "deep_out.mov")
    rep = str(tmp_path / "deep.json")
    assert main(["run", deep, "--shapes", media["closed"], "--in", "10:00:00:03", "--out",
                 "10:00:00:09", "-o", out, "--report", rep, "--progress", "none"]) == 0
    info = probe(out)
    assert info.frame_count == 7 and info.start_timecode == "10:00:00:03"
    assert info.bit_depth > 8
    r = json.load(open(rep))
    assert (r["range"]["start"], r["range"]["end"]) == (3, 9)
    assert r["frames_rendered"] >= 5


@pytest.mark.parametrize("edited", [True, False])
def test_a_damaged_dub_is_one_warning_in_the_report(media, tmp_path, edited):
    # Read twice in a run (the mouth track, the muxed sound); told once, by the reading of all of it.
    from test_media_audio import _flac_with_damage
    dub = _flac_with_damage(tmp_path / "dub.mka", bad=(3, 4), seconds=1.0)
    rep = str(tmp_path / "d.json")
    args = ["run", media["face"], "--audio", dub, "-o", str(tmp_path / "d.mov"), "--report", rep,
            "--progress", "none"]
    assert main(args + (["--shapes", media["closed"]] if edited else [])) == 0
    said = [w for w in json.load(open(rep))["warnings"] if "could not be decoded" in w]
    assert said == [f"{dub}: 2 audio packets could not be decoded (the first at 0.29 s) and play as "
                    f"silence; re-export or re-copy the file if that sound matters."]
