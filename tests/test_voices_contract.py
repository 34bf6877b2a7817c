"""Dialogue jobs (issue 18): the "voices" and "cast" keys, and their command-line form."""
from __future__ import annotations

import json

import pytest

from lipflap.cli import build_parser
from lipflap.commands.run import job_from_args
from lipflap.contract.errors import JobError
from lipflap.contract.jobspec import load_job, parse_job


def _job(**kw):
    return {"video": "/v.mov", "output": "/o.mov", **kw}


def test_voices_parse():
    j = parse_job(_job(language="es", voices=[
        {"face": "left", "audio": "/a.wav", "text": "hola"},
        {"face": 2, "audio": "/b.wav", "audio_offset_s": 1, "language": "fr"},
        {"face": "640, 300", "shapes": "/c.json"}]))
    assert j.dialogue
    assert [v.face for v in j.voices] == ["left", "2", "640,300"]
    assert j.voices[1].audio_offset_s == 1.0 and isinstance(j.voices[1].audio_offset_s, float)
    assert j.voices[0].language is None and j.language == "es"
    assert parse_job(j.to_dict()).voices == j.voices
    assert not parse_job(_job(audio="/a.wav")).dialogue


@pytest.mark.parametrize("voices, needle", [
    ([], "is empty"),
    ([{"face": "left"}], "no dub for face"),
    ([{"audio": "/a.wav"}], "\"face\" is missing"),
    ([{"face": "top", "audio": "/a.wav"}], "is not a face"),
    ([{"face": "left", "audio": "/a.wav"}, {"face": "Left ", "audio": "/b.wav"}], "already has"),
    ([{"face": "center", "audio": "/a.wav"}, {"face": "centre", "audio": "/b.wav"}], "already has"),
    ([{"face": "left", "audio": "/a.wav", "gain": 2}], "unknown key"),
    ([{"face": "left", "audio": 3}], "must be a string"),
    ([{"face": "left", "audio": "/a", "text": "x", "transcript": "/t"}], "not both"),
    (["left"], "must be an object"),
])
def test_bad_voices_are_one_sentence(voices, needle):
    with pytest.raises(JobError) as e:
        parse_job(_job(voices=voices))
    msg = str(e.value)
    assert needle in msg
    assert msg.count(". ") == 0 and "\n" not in msg


def test_voices_refuse_top_level_dub():
    with pytest.raises(JobError, match="belongs inside each"):
        parse_job(_job(audio="/a.wav", voices=[{"face": "left", "audio": "/b.wav"}]))
    with pytest.raises(JobError, match="belongs inside each"):
        parse_job(_job(face="1", voices=[{"face": "left", "audio": "/b.wav"}]))


def test_cast_forms():
    assert parse_job(_job(audio="/m.wav", cast="auto")).cast == "auto"
    assert parse_job(_job(audio="/m.wav", cast=["Left", "right"])).cast == ["left", "right"]
    assert parse_job(_job(audio="/m.wav", cast={"ANNA": "left", "BEN": 1})).cast == \
        {"ANNA": "left", "BEN": "1"}
    for bad, needle in [("all", "not \"auto\""), ({"A": "left", "B": "left"}, "twice"),
                        ([], "empty"), ({"[A]": "left"}, "plain name")]:
        with pytest.raises(JobError, match=needle):
            parse_job(_job(audio="/m.wav", cast=bad))
    with pytest.raises(JobError, match="mixed dialogue dub"):
        parse_job(_job(cast="auto"))


def test_voice_paths_relative_to_job_file(tmp_path):
    p = tmp_path / "job.json"
    p.write_text(json.dumps(_job(voices=[{"face": "left", "audio": "a.wav", "transcript": "t.txt"}])))
    v = load_job(str(p)).voices[0]
    assert v.audio == str(tmp_path / "a.wav") and v.transcript == str(tmp_path / "t.txt")


def _args(*argv):
    return job_from_args(build_parser().parse_args(["run", "/v.mov", "-o", "/o.mov", *argv]))


def test_cli_voices():
    j = _args("--voice", "left=/a.wav", "--voice", "right=/b.wav", "--voice-text", "left=hola",
              "--voice-language", "right=fr", "--language", "es", "--voice-offset", "right=2.5")
    assert [(v.face, v.audio, v.text, v.language, v.audio_offset_s) for v in j.voices] == [
        ("left", "/a.wav", "hola", "es", 0.0), ("right", "/b.wav", None, "fr", 2.5)]
    assert j.audio is None


@pytest.mark.parametrize("argv, needle", [
    (["--voice", "left"], "not FACE=VALUE"),
    (["--voice", "left=/a", "--voice", "left=/b"], "twice"),
    (["--voice", "up=/a"], "is not a face"),
    (["--voice-text", "left=hola"], "needs --voice"),
    (["--voice", "left=/a", "--voice-text", "right=x"], "has no --voice"),
    (["--voice", "left=/a", "--audio", "/m.wav"], "leave out --audio"),
    (["--voice", "left=/a", "--voice-offset", "left=soon"], "not a number"),
    (["--cast", "ANNA=left,BEN"], "not NAME=FACE"),
])
def test_cli_voice_errors(argv, needle):
    with pytest.raises(JobError, match=needle):
        _args(*argv)


def test_cli_cast():
    assert _args("--audio", "/m.wav", "--cast", "auto").cast == "auto"
    assert _args("--audio", "/m.wav", "--cast", "left,right").cast == ["left", "right"]
    j = _args("--audio", "/m.wav", "--cast", "ANNA=left, BEN=right", "--text", "[ANNA] a [BEN] b",
              "--language", "es")
    assert j.cast == {"ANNA": "left", "BEN": "right"} and j.text.startswith("[ANNA]")
