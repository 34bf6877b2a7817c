"""Reading a run's report into markers and the lipflap metadata (lipflap.conform.assemble)."""
import json


def test_report_reader_takes_lipflap_runs_report(tmp_path):
    """Flagged ranges and the sync figure as `lipflap run` writes them (lipflap.pipeline.report)."""
    from lipflap.conform.assemble import report_summary
    from lipflap.contract.report import read_report
    p = tmp_path / "r.json"
    p.write_text(json.dumps({
        "range": {"start": 10, "end": 40, "first": 2, "last": 48},
        "flagged_ranges": [{"start": 12, "end": 15, "reason": "no_face"},
                           {"start": 30, "end": 30, "reason": "occluded"}],
        "qc": {"figures": {"sync_r": {"value": 0.61, "verdict": "pass"}},
               "flagged_ranges": [{"start": 0, "end": 3, "reason": "closure_missed"}]}}))
    score, flagged = report_summary(read_report(str(p)))
    assert score == 0.61
    assert flagged == [{"start_frame": 12, "end_frame": 15, "reason": "no_face"},
                       {"start_frame": 30, "end_frame": 30, "reason": "occluded"}]
    assert report_summary(None) == (None, [])
