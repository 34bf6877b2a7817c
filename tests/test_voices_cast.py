"""Voices by character (docs/job.md): a job names a cast file and each voice's character; the
engine matches the clip's faces to the cast with conform's own code and voices those shown.

A stand-in face finder (as tests/test_conform_cast.py's) gives each clip its faces with chosen
signatures, so the match, the job the run gets and the report are checked without Face Mesh."""
from __future__ import annotations

import json
import os

import pytest

from mediagen import make_clip, make_wav
from test_conform_cast import LOOKS, Messages, _seen

import lipflap.pipeline.run as run_mod
from lipflap.contract.errors import JobError
from lipflap.contract.jobspec import load_job, parse_job
from lipflap.pipeline.characters import cast_voices, run_cast

N = 20
SHOTS = {"two": ["ANNA", "BEN"], "anna": ["ANNA"], "extra": ["EXTRA"]}


def fake_faces(video, first, last):
    who = SHOTS[os.path.splitext(os.path.basename(video))[0]]
    pos = ["only"] if len(who) == 1 else ["left", "right"]
    return [_seen(w, 16.0 + 32 * k, pos[k]) for k, w in enumerate(who)]


@pytest.fixture
def scene(tmp_path, monkeypatch):
    # The engine's own finder is the stand-in (cast_voices reads it from the sightings module).
    monkeypatch.setattr("lipflap.face.sightings.faces_in_clip", fake_faces)
    for k in SHOTS:
        make_clip(tmp_path / f"{k}.mov", fps="25", frames=N, width=64, height=48, codec="h264")
    for c in ("ANNA", "BEN"):
        make_wav(tmp_path / f"{c}.wav", seconds=2.0)
    sig = {c: dict(LOOKS[c].to_dict(), of={"video": "anna.mov", "face": "only", "frame": 3})
           for c in ("ANNA", "BEN")}
    with open(tmp_path / "cast.json", "w") as f:
        json.dump({"characters": {c: {"video": "anna.mov", "face": "only", "frame": 3,
                                      "signature": sig[c]} for c in ("ANNA", "BEN")}}, f)
    return tmp_path


def _job(root, shot, **kw):
    data = {"video": f"{shot}.mov", "output": f"out_{shot}.mov", "cast_file": "cast.json",
            "report": f"{shot}.report.json",
            "voices": [{"character": "ANNA", "audio": "ANNA.wav", "text": "hola"},
                       {"character": "BEN", "audio": "BEN.wav", "audio_offset_s": 0.5}], **kw}
    p = root / f"{shot}.job.json"
    p.write_text(json.dumps(data))
    return load_job(str(p))


def test_two_shown_characters_get_their_faces(scene):
    msgs = Messages()
    job, rec = cast_voices(_job(scene, "two"), msgs)
    assert job.cast_file is None
    assert [(v.face, os.path.basename(v.audio), v.character) for v in job.voices] == [
        ("16,24", "ANNA.wav", None), ("48,24", "BEN.wav", None)]
    assert job.voices[1].audio_offset_s == 0.5 and job.voices[0].text == "hola"
    assert rec["shown"] == ["ANNA", "BEN"] and rec["absent"] == [] and rec["not_shown"] == []
    assert [(r["position"], r["character"], r["voice"]) for r in rec["faces"]] == [
        ("left", "ANNA", "ANNA.wav"), ("right", "BEN", "BEN.wav")]
    assert len(msgs.said) == 1 and "left face 16,24 is ANNA" in msgs.said[0]


def test_a_single_gets_only_its_characters_voice(scene, monkeypatch):
    # BEN speaks 1.4 s under ANNA's close-up: left out, listed, said; ANNA's is a one-voice run.
    monkeypatch.setattr("lipflap.speech.vad.speech_seconds",
                        lambda audio, off, dur: 1.4 if audio.endswith("BEN.wav") else 0.0)
    ran = []

    def fake_run(job, progress, signing=None):
        ran.append(job)
        return {"output": job.output.path, "frames_rendered": N, "frames_passed_through": 0,
                "warnings": []}
    msgs = Messages()
    report = run_cast(_job(scene, "anna"), msgs, None, fake_run)
    (one,) = ran
    assert one.voices is None and one.cast_file is None and one.report is None
    assert (one.face, os.path.basename(one.audio), one.text) == ("16,24", "ANNA.wav", "hola")
    assert report["cast"]["absent"] == [{"character": "BEN", "track": "BEN.wav", "speech_s": 1.4}]
    assert "BEN's track 'BEN.wav' speaks 1.4 s here but BEN is not in the picture" in msgs.said[0]
    saved = json.load(open(scene / "anna.report.json"))
    assert saved["cast"]["shown"] == ["ANNA"] and saved["output"].endswith("out_anna.mov")


def test_no_voiced_character_shown_leaves_the_clip_as_it_is(scene):
    # Through the real entry point: nothing decoded past the finder, nothing written but the report.
    msgs = Messages()
    report = run_mod.run_job(_job(scene, "extra"), msgs)
    assert report["output"] is None and report["frames_rendered"] == 0
    assert report["frames_passed_through"] == N
    assert report["cast"]["faces"][0]["character"] is None
    assert report["cast"]["not_shown"] == ["ANNA", "BEN"]
    assert not (scene / "out_extra.mov").exists()
    assert "nothing was rendered and the clip stays as it is" in msgs.said[-1]
    assert json.load(open(scene / "extra.report.json"))["not_rendered"] == msgs.said[-1]


def test_unknown_character_is_one_sentence(scene):
    job = _job(scene, "two", voices=[{"character": "CARLA", "audio": "ANNA.wav"}])
    with pytest.raises(JobError, match="no character CARLA in the cast"):
        cast_voices(job, Messages())


@pytest.mark.parametrize("data, needle", [
    ({"cast_file": "/c.json", "voices": [{"face": "left", "audio": "/a.wav"}]}, "not a \"face\""),
    ({"cast_file": "/c.json", "voices": [{"character": "A", "face": "left", "audio": "/a"}]},
     "not a \"face\""),
    ({"voices": [{"character": "A", "audio": "/a.wav"}]}, "give the job's \"cast_file\""),
    ({"cast_file": "/c.json", "audio": "/a.wav"}, "goes with \"voices\""),
    ({"cast_file": "/c.json", "voices": [{"character": "A", "audio": "/a"},
                                         {"character": "A", "audio": "/b"}]}, "already has"),
    ({"cast_file": 3, "voices": [{"character": "A", "audio": "/a"}]}, "must be a string"),
])
def test_bad_cast_jobs(data, needle):
    with pytest.raises(JobError) as e:
        parse_job({"video": "/v.mov", "output": "/o.mov", **data})
    assert needle in str(e.value) and "\n" not in str(e.value)


def test_cast_job_round_trips_and_resolves_paths(scene):
    job = _job(scene, "two")
    assert job.cast_file == str(scene / "cast.json")
    assert os.path.isabs(job.voices[0].audio)
    again = parse_job(job.to_dict())
    assert again.voices == job.voices and again.cast_file == job.cast_file


def test_the_command_says_it_wrote_nothing(scene, capsys):
    from lipflap.cli import main
    _job(scene, "extra")
    assert main(["run", "--job", str(scene / "extra.job.json"), "--progress", "none"]) == 0
    out = capsys.readouterr()
    assert f"lipflap: wrote nothing ({N} frames left as they are); report " in out.out
    assert out.err.count("nothing was rendered and the clip stays as it is") == 1
