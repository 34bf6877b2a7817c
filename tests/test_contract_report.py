"""The run report's one reader (lipflap.contract.report) and the one atomic write (files)."""
import json
import os

import pytest

from lipflap.contract.errors import LipflapError
from lipflap.contract.files import atomic_json, atomic_write, temp_path
from lipflap.contract.report import REPORT_VERSION, Flagged, FrameRange, RunReport, read_report

RUN = {"input": "/m/a.mov", "output": "/r/a_lipflap_es_v001.mov", "fps": "24000/1001",
       "range": {"start": 10, "end": 40, "handles": 8, "first": 2, "last": 48, "frames": 47},
       "timecodes": {"first": "01:00:00:02", "last": "01:00:02:00"},
       "flagged_ranges": [{"start": 12, "end": 15, "reason": "no_face", "action": "passed_through"}],
       "warnings": ["w"],
       "qc": {"figures": {"sync_r": {"value": 0.61}}}, "shots": [{"first": 2}], "timing_s": {"total": 1.5}}


def test_reads_what_the_engine_writes_and_round_trips():
    rep = RunReport.from_dict(RUN)
    assert rep.version == 1 and rep.range == FrameRange(10, 40, 2, 48, 8, 47)
    assert rep.flagged_ranges == [Flagged(12, 15, "no_face", "passed_through")] and rep.sync_score == 0.61
    assert rep.first_timecode == "01:00:00:02" and rep.has_problems
    assert rep.extra == {"shots": [{"first": 2}], "timing_s": {"total": 1.5}}
    again = RunReport.from_json(rep.to_json())
    assert again == rep
    assert {k: v for k, v in again.to_dict().items() if k != "report_version"} == RUN
    assert json.loads(rep.to_json())["report_version"] == REPORT_VERSION


def test_a_newer_report_is_refused_in_one_sentence(tmp_path):
    p = tmp_path / "r.json"
    p.write_text(json.dumps({**RUN, "report_version": REPORT_VERSION + 1}))
    with pytest.raises(LipflapError, match=r"newer than this plugin reads .*lipflap install") as e:
        read_report(str(p))
    assert str(p) in str(e.value)
    with pytest.raises(LipflapError, match="cannot read the run report"):
        read_report(str(tmp_path / "absent.json"))


def test_odd_entries_are_skipped_not_guessed():
    rep = RunReport.from_dict({"flagged_ranges": [{"start": 1}, "x", {"start": 2, "end": 3, "reason": "r"}],
                               "range": {"start": True, "end": 4}, "qc": {"figures": {"sync_r": {"value": "0.5"}}}})
    assert rep.flagged_ranges == [Flagged(2, 3, "r")] and rep.range is None and rep.sync_score is None


def test_atomic_write_leaves_no_temporary(tmp_path):
    p = str(tmp_path / "out.json")
    atomic_json(p, {"clip": "Café"})
    assert json.loads(open(p, encoding="utf-8").read()) == {"clip": "Café"}
    assert os.path.basename(temp_path(p)).startswith(".out.json.") and os.path.dirname(temp_path(p)) == str(tmp_path)
    atomic_write(p, b"\x00\x01")
    assert open(p, "rb").read() == b"\x00\x01"
    assert sorted(os.listdir(tmp_path)) == ["out.json"]
    with pytest.raises(TypeError):
        atomic_write(p, 5)  # a failed write keeps the old file and removes its temporary
    assert open(p, "rb").read() == b"\x00\x01" and sorted(os.listdir(tmp_path)) == ["out.json"]
