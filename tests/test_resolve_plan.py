"""The Resolve script's planning and placement against the fake object model."""
from fractions import Fraction

import pytest

import lipflap_resolve  # noqa: F401 - loads the engine's contract package by path as lipflap_contract
from lipflap_contract.rates import parse_rate
from lipflap_contract.timecode import frames_to_tc, tc_to_frames
from lipflap_resolve import placement
from lipflap_resolve.timeline import (PlanError, dub_from_audio_track, dub_from_file, plan_clip, record_tc,
                                      select_items, timeline_info)
from tests.fakes import resolve as fr


@pytest.fixture()
def cut(tmp_path):
    paths = []
    for name in ("A001_C003.mov", "A001_C004.mov", "dub es.wav"):
        p = tmp_path / name
        p.write_bytes(b"x")
        paths.append(str(p))
    tl = fr.Timeline(rate="23.976", start_tc="01:00:00:00", start_frame=86400, video_tracks=1, audio_tracks=2)
    a = fr.MediaPoolItem(paths[0], fps="23.976", frames=2000)
    b = fr.MediaPoolItem(paths[1], fps="23.976", frames=2000)
    tl.add("video", 1, fr.TimelineItem(a, 86400, 86520, left_offset=1200))          # 120 frames
    tl.add("video", 1, fr.TimelineItem(b, 86530, 86578, left_offset=10))            # after a 10-frame gap
    tl.add("video", 1, fr.TimelineItem(a, 86578, 86600, left_offset=1500))          # clip used twice
    dub = fr.MediaPoolItem(paths[2], fps="23.976", frames=10 ** 6)
    tl.add("audio", 2, fr.TimelineItem(dub, 86380, 86700, left_offset=48))         # starts 20 frames early
    return tl, paths


def test_rates_and_timecode():
    assert parse_rate("23.976") == Fraction(24000, 1001)
    assert parse_rate("29.97 DF") == Fraction(30000, 1001)
    assert parse_rate(25.0) == 25
    r = Fraction(30000, 1001)
    for n in (0, 1799, 1800, 17982, 107892, 107892 + 1800):
        assert tc_to_frames(frames_to_tc(n, r, True), r) == n
    assert frames_to_tc(1800, r, True) == "00:01:00;02"


def test_source_ranges_from_left_offset(cut):
    tl, paths = cut
    info = timeline_info(tl)
    picked = select_items(tl, "track", 1)
    plans = [plan_clip(info, t, it) for t, it in picked]
    assert [(p.source_start, p.source_end) for p in plans] == [(1200, 1319), (10, 57), (1500, 1521)]
    assert [record_tc(info, p.record_start) for p in plans] == ["01:00:00:00", "01:00:05:10", "01:00:07:10"]
    assert all(not p.error for p in plans)


def test_dub_offset_from_audio_track_and_file(cut):
    tl, paths = cut
    info = timeline_info(tl)
    p = plan_clip(info, 1, select_items(tl, "track", 1)[1][1])
    dub = dub_from_audio_track(info, tl, 2, p)
    # the dub item starts 20 frames before the timeline and is trimmed 48 frames in
    assert dub.path == paths[2]
    assert dub.offset_s == pytest.approx((48 + 86530 - 86380) * 1001 / 24000)
    dub2 = dub_from_file(info, paths[2], "00:59:59:00", p)
    assert dub2.offset_s == pytest.approx((24 + 130) * 1001 / 24000)
    with pytest.raises(PlanError, match="A1"):
        dub_from_audio_track(info, tl, 1, p)


def test_offline_media_and_speed_change_are_refused(cut, tmp_path):
    tl, paths = cut
    info = timeline_info(tl)
    gone = fr.MediaPoolItem(str(tmp_path / "missing.mov"))
    p = plan_clip(info, 1, fr.TimelineItem(gone, 86600, 86650, 0))
    assert "offline" in p.error and "01:00:08:08" in p.error
    fast = fr.TimelineItem(fr.MediaPoolItem(paths[0]), 86600, 86650, 0, source_span=100)
    assert "speed change" in plan_clip(info, 1, fast).error


def test_in_out_and_current_scopes(cut):
    tl, _ = cut
    tl.mark_in_out = {"video": {"in": 125, "out": 170}}
    names = [it.GetStart() for _, it in select_items(tl, "inout", 1)]
    assert names == [86530]
    tl.current_item = tl.tracks["video"][0][2]
    assert select_items(tl, "current", 1)[0][1] is tl.current_item
    with pytest.raises(PlanError, match="video track 3"):
        select_items(tl, "track", 3)


def test_placement_is_verified_and_markers_follow_flags(cut, tmp_path):
    tl, paths = cut
    project = fr.Project(tl)
    info = timeline_info(tl)
    p = plan_clip(info, 1, select_items(tl, "track", 1)[0][1])
    render = tmp_path / "A001_C003_lipflap_es_v001.mov"
    render.write_bytes(b"x")
    track = placement.add_video_track(tl)
    assert track == 2
    report = {"range": {"first": 1192, "last": 1327, "start": 1200, "end": 1319},
              "flagged_ranges": [{"start": 1250, "end": 1259, "reason": "no_face"}]}
    bin_ = placement.find_bin(project.pool, "lipflap es")
    res = placement.place_render(project.pool, tl, info, p, str(render), report, track, bin_, "full")
    assert res.ok
    item = tl.GetItemListInTrack("video", 2)[0]
    assert (item.GetStart(), item.GetEnd(), item.GetLeftOffset()) == (86400, 86520, 8)
    assert item.GetClipColor() == placement.COLOR_FLAGGED
    assert tl.GetMarkers()[50]["duration"] == 10 and "no_face" in tl.GetMarkers()[50]["name"]
    # the same placement again overlaps: Resolve drops it silently, the script must notice
    again = placement.place_render(project.pool, tl, info, p, str(render), report, track, bin_, "full")
    assert not again.ok and "place it by hand" in again.message


def test_transcripts_share_conforms_format(tmp_path):
    """The script reads transcripts with the contract's one reader, loaded from the engine's folder."""
    import lipflap_contract
    from lipflap.contract import transcripts as conform_tr
    from lipflap_resolve import app
    from lipflap_resolve.app import load_transcripts, text_for_clip
    assert load_transcripts is lipflap_contract.transcripts.load
    assert lipflap_contract.__file__ == conform_tr.__file__.replace("transcripts.py", "__init__.py")
    assert app.TranscriptError is lipflap_contract.errors.LipflapError
    cases = {
        "t.json": '{"A001_C003": "Hola.", "01:00:12;05": "Adiós."}',
        "l.json": '[{"clip": "A001_C003", "text": "Hola."}, {"record_in": "01:00:12:05", "text": "Adiós."}]',
        "t.txt": "# dub es\n[A001_C003]\nHola.\n\n[01:00:12:05]\nAdiós.\n",
    }
    for name, text in cases.items():
        p = tmp_path / name
        p.write_text(text, encoding="utf-8")
        ours = load_transcripts(str(p))
        theirs = conform_tr.load(str(p))
        assert ours == theirs
        assert text_for_clip(ours, "A001_C003.mov", "01:00:00:00") == "Hola."
        assert text_for_clip(ours, "A001_C003.mov", "01:00:12:05") == "Adiós."
