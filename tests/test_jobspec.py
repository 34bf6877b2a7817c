import json

import pytest

from lipflap.contract.errors import JobError
from lipflap.contract.jobspec import load_job, parse_job
from lipflap.contract.rates import parse_rate
from fractions import Fraction


def test_contract_example_parses(tmp_path):
    job = {"video": "/path/A001_C003.mov", "start_frame": 1200, "end_frame": 1319, "fps": "24000/1001",
           "audio": "/path/dub_es.wav", "audio_offset_s": 12.48, "text": "hola", "language": "es",
           "output": {"path": "/renders/A001_C003_lipflap_es_v001.mov", "mode": "full", "codec": "prores_hq"},
           "face": "auto", "handles": 8, "report": "/renders/A001_C003_lipflap_es_v001.json"}
    p = tmp_path / "job.json"
    p.write_text(json.dumps(job))
    j = load_job(str(p))
    assert j.start_frame == 1200 and j.end_frame == 1319 and j.output.codec == "prores_hq"
    assert j.audio_offset_s == pytest.approx(12.48)


@pytest.mark.parametrize("data,needle", [
    ({"video": "a.mov", "colour": 1}, "unknown key"),
    ({"video": "a.mov", "start_frame": "10"}, "start_frame"),
    ({"video": "a.mov", "start_frame": True}, "start_frame"),
    ({"video": "a.mov", "start_frame": 10, "end_frame": 5}, "before"),
    ({"video": "a.mov", "output": {"path": "o.mov", "mode": "half"}}, "mode"),
    ({"video": "a.mov", "output": {"path": "o.mov", "alpha": True}}, "unknown key"),
    ({"video": "a.mov", "strength": 2}, "strength"),
    ({"audio": "a.wav"}, "video"),
    ([1, 2], "object"),
])
def test_bad_jobs_are_clear_errors(data, needle):
    with pytest.raises(JobError) as e:
        parse_job(data)
    assert needle in str(e.value)


def test_bad_json_names_line(tmp_path):
    p = tmp_path / "job.json"
    p.write_text('{"video": "a.mov",\n "start_frame": }')
    with pytest.raises(JobError) as e:
        load_job(str(p))
    assert "line 2" in str(e.value) and str(p) in str(e.value)


def test_relative_paths_resolve_against_job_file(tmp_path):
    p = tmp_path / "job.json"
    p.write_text(json.dumps({"video": "clip.mov", "output": "out/r.mov"}))
    j = load_job(str(p))
    assert j.video == str(tmp_path / "clip.mov") and j.output.path == str(tmp_path / "out" / "r.mov")


@pytest.mark.parametrize("text,want", [("24", Fraction(24)), ("23.976", Fraction(24000, 1001)),
                                       ("29.97", Fraction(30000, 1001)), ("24000/1001", Fraction(24000, 1001)),
                                       ("22.131", Fraction(22131, 1000)), (25, Fraction(25)),
                                       ("59.94", Fraction(60000, 1001))])
def test_rates(text, want):
    assert parse_rate(text) == want


@pytest.mark.parametrize("bad", ["abc", "0", "-24", "1/0", True])
def test_bad_rates(bad):
    from lipflap.contract.errors import LipflapError
    with pytest.raises(LipflapError):
        parse_rate(bad)
