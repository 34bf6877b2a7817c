"""Conform's planning helpers (lipflap.conform.plan): user timecodes, render names and versions."""
from fractions import Fraction

from lipflap.conform.plan import read_tc as parse_tc
from lipflap.conform.plan import to_tc
from lipflap.contract.naming import clip_base, next_version, tc_tag

DF = Fraction(30000, 1001)
FILM = Fraction(24000, 1001)


def test_user_timecodes_at_2997_are_drop_frame_labels():
    # 01:00:00;00 drop-frame is 107892 frames; read as non-drop it would be 108000 (3.6 s off).
    assert parse_tc("01:00:00:00", DF) == parse_tc("01:00:00;00", DF) == 107892
    assert to_tc(107892, DF) == "01:00:00;00"
    assert parse_tc("01:00:00:00", FILM) == 86400
    assert tc_tag(to_tc(parse_tc("01:00:03;08", DF), DF)) == "01000308"


def test_render_names_and_versions(tmp_path):
    assert clip_base("A001_C003.mov") == "A001_C003"
    assert clip_base("Interview: take 2 (alt)") == "Interview_take_2_alt"
    assert clip_base("../..") == "clip"
    assert next_version(str(tmp_path), "A001", "es") == 1
    for name in ("A001_lipflap_es_v001.mov", "A001_lipflap_es_v007.json",
                 "A001_lipflap_es_v003.mov.partial.mov", "A001_lipflap_de_v009.mov",
                 "A001_X_lipflap_es_v020.mov"):
        (tmp_path / name).write_text("")
    # Any file of the series counts (a report, a crashed partial), other languages and clips not.
    assert next_version(str(tmp_path), "A001", "es") == 8
    assert next_version(str(tmp_path), "A001", "de") == 10
    assert next_version(str(tmp_path / "absent"), "A001", "es") == 1


def test_rates_without_timecode_are_refused(tmp_path):
    import opentimelineio as otio
    import pytest
    from opentimelineio import opentime
    from lipflap.conform.plan import PlanError, PlanOptions, plan
    tl = otio.schema.Timeline(name="odd", global_start_time=opentime.RationalTime(0, 1000.0))
    with pytest.raises(PlanError, match="1000 fps, which has no SMPTE timecode"):
        plan(tl, PlanOptions(outdir=str(tmp_path), dub_audio="x.wav"), probe=None)
    assert to_tc(5, Fraction(1000)) == "frame 5 @ 1000 fps"
