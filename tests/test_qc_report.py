"""QC reports: the HTML stands alone and names every figure; `lipflap qc` on real pixels."""
from __future__ import annotations

import base64
import json
import re

import cv2
import numpy as np
import pytest

from lipflap.cli import main
from lipflap.contract.errors import LipflapError
from lipflap.qc.expected import expected_from_track
from lipflap.qc.fidelity import FidelityMeter
from lipflap.qc.measure import assemble, pick_sheet_events, sheet_box
from lipflap.qc.report import LABELS, images_for, render_html, write_report

from test_qc_measure import H, W, face_landmarks, make_track, textured_frames

PHONES = [("_", 0.0, 0.4), ("m", 0.4, 0.52), ("ˈa", 0.52, 0.8), ("_", 0.8, 1.6), ("b", 1.6, 1.7),
          ("ɐ", 1.7, 1.9), ("_", 1.9, 2.4)]


def constructed_report():
    ap = np.zeros(60)
    ap[13:20] = 0.9
    ap[43:47] = 0.7
    exp = expected_from_track(make_track(ap, 25, PHONES))
    measured = ap.copy()
    measured[38:44] = 0.5        # open through the "b": a missed closure to flag
    lms = [face_landmarks(0.02 + 0.4 * a) for a in measured]
    frames = textured_frames(60)
    picks = pick_sheet_events(exp, 60)
    keep = {e.mid for e in picks}
    meter, kept = FidelityMeter(), {}
    for i, (f, lm) in enumerate(zip(frames, lms)):
        o = f.copy()
        if i >= 50:
            o[:10] = 0           # damage outside the face on the last frames
        meter.add(o, f, lm)
        if i in keep:
            kept[i] = (f, o)
    report = assemble(exp, lms, meter.result(), meta={"video": "out.mov", "source": "src.mov"})
    extras = {"sheet_frames": kept, "sheet_events": picks, "crop_box": sheet_box(lms, (H, W))}
    return report, extras


def test_constructed_report_flags_what_was_done_wrong():
    report, _ = constructed_report()
    reasons = {(r["reason"], r["start"]) for r in report["flagged_ranges"]}
    assert ("lips not closed on p/b/m", 40) in reasons, reasons
    assert ("picture changed outside the lower face", 50) in reasons
    assert report["figures"]["bilabial_closure"]["value"] == 0.5
    assert report["verdict"] == "fail"


def test_html_is_self_contained_and_names_the_figures(tmp_path):
    report, extras = constructed_report()
    path = write_report(str(tmp_path / "r.html"), report, extras)
    text = open(path, encoding="utf-8").read()
    # nothing fetched from anywhere: no URLs, no external scripts, styles or images
    assert not re.search(r"https?://|<link|<script[^>]*src=|url\(", text)
    srcs = re.findall(r"src='([^']*)'", text)
    assert len(srcs) == 3 and all(s.startswith("data:image/png;base64,") for s in srcs)
    for s in srcs:
        img = cv2.imdecode(np.frombuffer(base64.b64decode(s.split(",", 1)[1]), np.uint8),
                           cv2.IMREAD_COLOR)
        assert img is not None and img.shape[0] > 100 and img.shape[1] > 300
    for name in report["figures"]:
        assert LABELS[name] in text and f"<code>{name}</code>" in text
    embedded = re.search(r'<script type="application/json" id="lipflap-qc-report">(.*?)</script>',
                         text, re.S).group(1)
    assert json.loads(embedded)["verdict"] == "fail"
    assert "lips not closed on p/b/m" in text


def test_json_report_and_bad_extension(tmp_path):
    report, extras = constructed_report()
    path = write_report(str(tmp_path / "r.json"), report)
    data = json.load(open(path))
    assert data["figures"]["frames_dropped"]["value"] == 0
    assert len(data["series"]["measured_aperture"]) == 60
    with pytest.raises(LipflapError):
        write_report(str(tmp_path / "r.txt"), report)
    assert set(images_for(report, extras)) == {"aperture", "psnr", "sheet"}


# ---- the command, on a real face (MediaPipe on the astronaut portrait) -------------------------

@pytest.fixture(scope="module")
def portrait_clip(tmp_path_factory):
    from lipflap.commands import demo_assets
    d = tmp_path_factory.mktemp("qc_clip")
    line = demo_assets.speak("Hola, mamá.", "es", lead_s=0.4)
    n = int(np.ceil((line.duration + 0.4) * 25))
    line = demo_assets.pad_to(line, n / 25)
    clip = demo_assets.write_still_clip(str(d / "clip.mp4"), n, 25, size=256, audio=line)
    wav = demo_assets.write_wav(str(d / "dub.wav"), line)
    from lipflap.mouth.build import track_from_phones
    track = track_from_phones(line.phones, 25, n_frames=n)
    track.save(str(d / "track.json"))
    return d, clip, wav, str(d / "track.json"), n


def test_qc_command_on_an_untouched_clip(portrait_clip, capsys):
    d, clip, wav, track, n = portrait_clip
    out = str(d / "same.json")
    code = main(["qc", clip, "--audio", wav, "--source", clip, "--shapes", track, "-o", out,
                 "--progress", "none"])
    assert code == 0
    r = json.load(open(out))
    f = r["figures"]
    assert f["face_found"]["value"] == 1.0
    assert f["psnr_outside_lower_face_db"]["value"] == 99.0
    assert f["mouth_sharpness_ratio"]["value"] == 1.0
    assert f["mouth_roughness_ratio"]["value"] == 1.0
    assert f["lower_face_colour_shift"]["value"] == 0.0
    # a still photograph's mouth does not move: the range check sees it
    assert f["mouth_aperture_range"]["verdict"] == "fail"
    assert f["frames_dropped"]["value"] == 0 and f["frames_added"]["value"] == 0
    # the portrait keeps its smile through "mamá": the closures the dub asks for are missing
    assert f["bilabial_closure"]["value"] is not None and f["bilabial_closure"]["value"] < 0.95
    assert "verdict" in capsys.readouterr().out


def test_qc_command_finds_a_dropped_frame(portrait_clip):
    from lipflap.media.decode import read_frames
    from lipflap.media.encode import VideoWriter
    d, clip, wav, track, n = portrait_clip
    short = str(d / "dropped.mp4")
    with VideoWriter(short, codec="h264", fps=25, width=256, height=256) as w:
        for f in read_frames(clip):
            if f.index != 9:
                w.write(f.image)
    out = str(d / "dropped.html")
    assert main(["qc", short, "--audio", wav, "--source", clip, "--shapes", track, "-o", out,
                 "--progress", "none", "--fail-on", "fail"]) == 1
    text = open(out, encoding="utf-8").read()
    r = json.loads(re.search(r'id="lipflap-qc-report">(.*?)</script>', text, re.S).group(1))
    assert r["figures"]["frames_dropped"]["value"] == 1
    assert r["figures"]["frames_dropped"]["at"] == [9]
    assert r["figures"]["frames_dropped"]["verdict"] == "fail"


def test_qc_command_on_a_render_of_part_of_the_source(portrait_clip):
    from lipflap.media.decode import read_frames
    from lipflap.media.encode import VideoWriter
    d, clip, wav, track, n = portrait_clip
    part = str(d / "part.mp4")
    with VideoWriter(part, codec="h264", fps=25, width=256, height=256) as w:
        for f in read_frames(clip, 5, n - 1):
            w.write(f.image)
    out = str(d / "part.json")
    assert main(["qc", part, "--audio", wav, "--audio-offset", "0.2", "--source", clip,
                 "--source-start", "5", "--shapes", track, "-o", out, "--progress", "none"]) == 0
    f = json.load(open(out))["figures"]
    assert f["frames_dropped"]["value"] == 0 and f["frames_added"]["value"] == 0
    assert f["psnr_outside_lower_face_db"]["value"] > 40
    # the render's report beside it says which frames it holds, where it sits in the dub and
    # what its source and dub are: nothing else needs saying
    with open(str(d / "part.json"), "w") as fh:
        json.dump({"input": clip, "output": part, "audio": wav, "fps": "25/1",
                   "range": {"start": 5, "end": n - 1, "handles": 0, "first": 5, "last": n - 1},
                   "dub": {"offset_s": 0.2}, "mouth_track": {"shapes_file": track}}, fh)
    out2 = str(d / "part_qc.json")
    assert main(["qc", part, "-o", out2, "--progress", "none"]) == 0
    r = json.load(open(out2))
    assert r["source_frames"] == [5, n - 1] and r["audio_offset_s"] == pytest.approx(0.2)
    assert r["figures"]["frames_dropped"]["value"] == 0
    assert r["figures"]["frames_added"]["value"] == 0
    assert r["figures"]["psnr_outside_lower_face_db"]["value"] > 40


def test_qc_command_on_the_first_frames_of_a_longer_source(portrait_clip):
    # issue 15: a correct render of frames 0..n-6 of the source read "Frames dropped: 5"
    # (the whole source was the default range), with no report to say otherwise
    from lipflap.media.decode import read_frames
    from lipflap.media.encode import VideoWriter
    d, clip, wav, track, n = portrait_clip
    head = str(d / "head.mp4")
    with VideoWriter(head, codec="h264", fps=25, width=256, height=256) as w:
        for f in read_frames(clip, 0, n - 6):
            w.write(f.image)
    out = str(d / "head.json")
    assert main(["qc", head, "--audio", wav, "--source", clip, "--shapes", track, "-o", out,
                 "--progress", "none"]) == 0
    r = json.load(open(out))
    assert r["source_frames"] == [0, n - 6]
    assert r["figures"]["frames_dropped"]["value"] == 0


def test_qc_command_takes_the_range_from_the_job(portrait_clip):
    from lipflap.media.decode import read_frames
    from lipflap.media.encode import VideoWriter
    d, clip, wav, track, n = portrait_clip
    mid = str(d / "mid.mp4")
    with VideoWriter(mid, codec="h264", fps=25, width=256, height=256) as w:
        for f in read_frames(clip, 2, n - 3):     # frames 4..n-5 with 2 handles each side
            w.write(f.image)
    job = str(d / "mid_job.json")
    with open(job, "w") as fh:
        json.dump({"video": clip, "audio": wav, "start_frame": 4, "end_frame": n - 5,
                   "handles": 2, "audio_offset_s": 0.16, "shapes": track}, fh)
    out = str(d / "mid_qc.json")
    assert main(["qc", mid, "--job", job, "-o", out, "--progress", "none"]) == 0
    r = json.load(open(out))
    assert r["source_frames"] == [2, n - 3]
    assert r["audio_offset_s"] == pytest.approx(0.16 - 2 / 25)
    assert r["figures"]["frames_dropped"]["value"] == 0


def test_qc_command_computes_the_track_from_the_script(portrait_clip):
    d, clip, wav, track, n = portrait_clip
    out = str(d / "script.json")
    assert main(["qc", clip, "--audio", wav, "--text", "Hola, mamá.", "--language", "es", "-o",
                 out, "--progress", "none"]) == 0
    r = json.load(open(out))
    assert r["events_from"] == "phonemes" and r["language"] == "es"
    assert r["figures"]["bilabial_closure"]["n"] >= 2
    assert len(r["series"]["expected_aperture"]) == n
    assert "psnr_outside_lower_face_db" not in r["figures"]   # no --source, no fidelity


def test_qc_reads_a_script_aware_render_against_its_script(portrait_clip):
    """`lipflap run` with a script writes it into the report beside the render, and `lipflap qc`
    given only the render judges it against the same phones (not a track heard from the dub)."""
    d, clip, wav, track, n = portrait_clip
    out = str(d / "synced.mov")
    assert main(["run", clip, "--audio", wav, "--text", "Hola, mamá.", "--language", "es", "-o",
                 out, "--progress", "none", "--no-credentials"]) == 0
    rep = json.load(open(str(d / "synced.json")))
    assert rep["mouth_track"]["source"] == "script"
    assert rep["mouth_track"]["text"] == "Hola, mamá."
    qc = str(d / "synced_qc.json")
    assert main(["qc", out, "-o", qc, "--progress", "none"]) == 0
    r = json.load(open(qc))
    assert r["text"] == "Hola, mamá." and r["language"] == "es"
    assert r["events_from"] == "phonemes"
    assert r["figures"]["bilabial_closure"]["n"] >= 2


def test_qc_command_errors_are_one_sentence(tmp_path, capsys):
    code = main(["qc", str(tmp_path / "nope.mov"), "--audio", "x.wav", "-o", "r.json"])
    err = capsys.readouterr().err
    assert code == 2 and "nope.mov" in err and "not found" in err and "Traceback" not in err
    (tmp_path / "v.mov").write_bytes(b"x")
    (tmp_path / "a.wav").write_bytes(b"x")
    code = main(["qc", str(tmp_path / "v.mov"), "--audio", str(tmp_path / "a.wav"), "-o",
                 str(tmp_path / "r.pdf")])
    assert code == 2 and ".json or .html" in capsys.readouterr().err
    from lipflap.media.encode import VideoWriter
    patch = str(tmp_path / "patch.mov")
    with VideoWriter(patch, codec="prores_4444", fps=25, width=64, height=64, alpha=True) as w:
        for _ in range(3):
            w.write(np.zeros((64, 64, 4), np.uint16))
    code = main(["qc", patch, "--audio", str(tmp_path / "a.wav"), "-o", str(tmp_path / "r.json")])
    assert code == 2 and "patch render" in capsys.readouterr().err


def test_qc_says_when_the_shapes_track_its_job_names_is_missing(tmp_path):
    """A job whose "shapes" file is gone: QC computes the track from the dub, and says so (it
    once switched silently)."""
    import argparse
    from lipflap.commands.qc import apply_context
    job = tmp_path / "job.json"
    job.write_text(json.dumps({"video": "gone.mov", "audio": "dub.wav", "shapes": "track.json"}))
    args = argparse.Namespace(video=str(tmp_path / "render.mov"), render_report=None, job=str(job),
                              audio=None, source=None, source_start=None, source_end=None,
                              audio_offset=None, language=None, text=None, transcript=None,
                              shapes=None)
    got = apply_context(args)
    assert args.shapes is None and args.audio == str(tmp_path / "dub.wav")
    [said] = got["warnings"]
    assert said.startswith(f"{tmp_path / 'track.json'}: the mouth-shape track {job} names is missing")


def test_qc_reads_the_render_report_through_the_contracts_reader(tmp_path):
    from lipflap.contract.errors import LipflapError
    from lipflap.qc.context import from_report
    rep = tmp_path / "r.json"
    rep.write_text(json.dumps({"input": "/m/src.mov", "output": str(tmp_path / "out.mov"),
                               "fps": "25", "audio": "/m/dub.wav", "dub": {"offset_s": 1.0},
                               "range": {"start": 10, "end": 40, "first": 6, "last": 44},
                               "mouth_track": {"shapes_file": "/m/t.json", "language": "es",
                                               "text": "Hola, mamá."}}))
    ctx = from_report(str(rep), str(tmp_path / "out.mov"))
    assert ctx.text == "Hola, mamá." and ctx.language == "es"
    assert (ctx.source, ctx.source_start, ctx.source_end, ctx.audio) == ("/m/src.mov", 6, 44, "/m/dub.wav")
    assert ctx.audio_offset_s == pytest.approx(1.0 - 4 / 25) and ctx.shapes == "/m/t.json"
    with pytest.raises(LipflapError, match="is the report of"):
        from_report(str(rep), str(tmp_path / "other.mov"))
    assert from_report(str(rep), str(tmp_path / "other.mov"), strict=False) is None
    rep.write_text(json.dumps({"report_version": 99}))
    with pytest.raises(LipflapError, match="newer than"):
        from_report(str(rep))
    rep.write_text(json.dumps({"output": "x.mov"}))
    with pytest.raises(LipflapError, match="not a `lipflap run` report"):
        from_report(str(rep))
