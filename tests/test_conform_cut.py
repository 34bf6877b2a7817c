"""`lipflap conform` on a generated cut, against the fake engine (tests/test_conform_fakeengine.py).

The cut (tests/test_conform_support.py) starts at 01:00:00:00 and has a gap, a transition, a clip
used twice and a dub track, at 23.976 and at 29.97 drop-frame. Expected frames and timecodes are
worked out here from the cut's definition, not from the planner.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from fractions import Fraction

import opentimelineio as otio
import pytest
from opentimelineio import opentime

from test_conform_fakeengine import engine_cmd
from test_conform_support import make_cut

from lipflap.conform import conform
from lipflap.contract.errors import LipflapError
from lipflap.contract.progress import Progress
from lipflap.contract.rates import rate_string


@pytest.fixture
def fake_engine(monkeypatch):
    monkeypatch.setenv("LIPFLAP_RUN_CMD", engine_cmd())
    monkeypatch.delenv("FAKE_ENGINE_FAIL", raising=False)
    monkeypatch.delenv("FAKE_ENGINE_CRASH", raising=False)
    monkeypatch.delenv("FAKE_ENGINE_REPORT_VERSION", raising=False)


def expected_events(cut):
    """(name, record in TC, record out TC, source in TC, source out TC) for the cut's video
    clips, from range_in_parent on the single video track plus the global start."""
    rate = float(cut.rate)
    start = cut.timeline.global_start_time
    out = []
    for clip in cut.timeline.video_tracks()[0].find_clips():
        rr = clip.range_in_parent()
        sr = clip.source_range
        out.append((clip.name, opentime.to_timecode(start + rr.start_time, rate),
                    opentime.to_timecode(start + rr.end_time_exclusive(), rate),
                    opentime.to_timecode(sr.start_time, rate),
                    opentime.to_timecode(sr.end_time_exclusive(), rate)))
    return out


EVENT = re.compile(r"^(\d{3})\s+(\S+)\s+V\s+C\s+(\S+) (\S+) (\S+) (\S+)$")


def parse_edl_text(text):
    """Events as (number, src in, src out, rec in, rec out, [comment lines])."""
    events = []
    for line in text.splitlines():
        m = EVENT.match(line.strip())
        if m:
            events.append([m.group(3), m.group(4), m.group(5), m.group(6), []])
        elif line.startswith("*") and events:
            events[-1][4].append(line)
    return events


@pytest.mark.parametrize("kind", ["23.976", "29.97df"])
def test_conform_generated_cut(tmp_path, fake_engine, kind):
    cut = make_cut(tmp_path, kind)
    rate = cut.rate
    res = conform(cut.path, cut.outdir, dub_track=cut.dub_track, language="es", n_procs=2)
    assert [cj.status for cj in res.jobs] == ["done"] * 4, [cj.error for cj in res.jobs]
    expected_keys = ["A001_C003_{}_lipflap_es_v001", "A002_C001_lipflap_es_v001",
                     "B001_C007_lipflap_es_v001", "A001_C003_{}_lipflap_es_v001"]
    events = expected_events(cut)
    tags = [re.sub(r"\D", "", e[1]) for e in events]
    expected_keys[0] = expected_keys[0].format(tags[0])
    expected_keys[3] = expected_keys[3].format(tags[3])
    assert [cj.key for cj in res.jobs] == expected_keys

    # Jobs: file frames from the media's start timecode; the transition's 4 frames are rendered
    # on both sides; the dub offset is the record time of the first rendered frame.
    # (first file frame, last file frame, handles, record frame of first rendered frame)
    want = [(20, 20 + 24 - 1 + 4, 8, 12), (10 - 4, 10 + 20 - 1, 6, 12 + 24 - 4),
            (5, 5 + 18 - 1, 5, 12 + 24 + 20 + 6), (60, 73, 8, 12 + 24 + 20 + 6 + 18)]
    for cj, (first, last, handles, rec) in zip(res.jobs, want):
        job = json.load(open(os.path.join(cut.outdir, "jobs", cj.key + ".json")))
        assert (job["start_frame"], job["end_frame"], job["handles"]) == (first, last, handles)
        assert job["audio_offset_s"] == pytest.approx(float(Fraction(rec) / rate), abs=1e-6)
        assert job["fps"] == rate_string(rate) and job["language"] == "es"
        assert job["output"]["path"] == os.path.join(os.path.abspath(cut.outdir), cj.key + ".mov")

    # The new timeline: renders on a track right above V1, at the originals' record times, their
    # source ranges the originals' timecode, flagged ranges as markers, the lipflap metadata.
    tl = otio.adapters.read_from_file(res.timeline_path)
    assert [t.name for t in tl.tracks] == ["V1", "lipflap es", "Original", "Dub ES"]
    # The dissolve between the first two clips is kept between their renders.
    assert [type(i).__name__ for i in tl.tracks[1]] == ["Gap", "Clip", "Transition", "Clip", "Gap",
                                                        "Clip", "Clip"]
    assert tl.tracks[1][2].in_offset.value == 4 and tl.tracks[1][2].out_offset.value == 4
    renders = tl.tracks[1].find_clips()
    assert len(renders) == 4
    start = tl.global_start_time
    for clip, ev, cj in zip(renders, events, res.jobs):
        rr = clip.range_in_parent()
        assert opentime.to_timecode(start + rr.start_time, float(rate)) == ev[1]
        assert opentime.to_timecode(start + rr.end_time_exclusive(), float(rate)) == ev[2]
        assert opentime.to_timecode(clip.source_range.start_time, float(rate)) == ev[3]
        meta = clip.metadata["lipflap"]
        assert meta["render_path"] == cj.render and meta["version"] == 1 and meta["language"] == "es"
        assert meta["dub"] == cut.dub and meta["report_path"] == cj.report
        assert meta["sync_score"] == pytest.approx(0.87)
        assert meta["flagged_ranges"][0]["reason"] == "no_face"
    # The fake engine flags [first - handles, start_frame + 1]: inside the cut for A and B.
    a = renders[0]
    assert [m.name for m in a.markers] == ["no_face"]
    assert opentime.to_timecode(a.markers[0].marked_range.start_time, float(rate)) == events[0][3]
    assert a.markers[0].marked_range.duration.value == 2
    assert len(renders[1].markers) == 0  # flagged frames 0-7 lie before A002's cut at frame 10

    # The EDL, read back by the cmx_3600 adapter: one event per render at the original record
    # timecode (from 01:00:00:00, not 00:00:00:00), source timecode the render's own.
    text = open(res.edl_path).read()
    assert ("FCM: DROP FRAME" if kind.endswith("df") else "FCM: NON-DROP FRAME") in text
    back = otio.adapters.read_from_file(res.edl_path, rate=float(rate))
    clips = back.find_clips()
    assert [c.name for c in clips] == [cj.key for cj in res.jobs]
    for clip, ev in zip(clips, events):
        rr = clip.transformed_time_range(clip.trimmed_range(), back.tracks)
        # The adapter reads the record start into the track's source range (no global start).
        assert back.global_start_time is None
        assert opentime.to_timecode(rr.start_time, float(rate)) == ev[1]
        assert opentime.to_timecode(rr.end_time_exclusive(), float(rate)) == ev[2]
        assert opentime.to_timecode(clip.source_range.start_time, float(rate)) == ev[3]
        assert opentime.to_timecode(clip.source_range.end_time_exclusive(), float(rate)) == ev[4]
    parsed = parse_edl_text(text)
    assert [(p[0], p[1], p[2], p[3]) for p in parsed] == [(e[3], e[4], e[1], e[2]) for e in events]
    for p, cj, clip in zip(parsed, res.jobs, renders):
        assert f"* FROM CLIP NAME:  {cj.key}" in p[4]
        # Locators at the flagged frames' (source) timecode; the adapter's reader drops
        # drop-frame ';' locators, so read them from the text.
        locs = [ln.split()[2] for ln in p[4] if ln.startswith("* LOC:")]
        assert locs == [opentime.to_timecode(m.marked_range.start_time, float(rate))
                        for m in clip.markers]
    assert len(parsed[0][4]) and any(ln.startswith("* LOC:") for ln in parsed[0][4])

    # The renders: the source's timecode at their first frame, frames plus handles.
    from lipflap.media.probe import probe
    info = probe(res.jobs[2].render)
    src = probe(cut.media["B001_C007"])
    assert info.start_tc_frames == src.start_tc_frames + 5 - 5 and info.frame_count == 18 + 5 + 5

    # Conforming again makes v002 and leaves v001 alone.
    before = {cj.render: os.path.getmtime(cj.render) for cj in res.jobs}
    res2 = conform(cut.path, cut.outdir, dub_track=cut.dub_track, language="es", n_procs=1)
    assert [cj.key.endswith("_v002") for cj in res2.jobs] == [True] * 4
    assert all(os.path.getmtime(p) == t for p, t in before.items())


def test_missing_media_and_speed_change_fail_clearly(tmp_path, fake_engine):
    cut = make_cut(tmp_path, "23.976")
    tl = cut.timeline
    v1 = tl.video_tracks()[0]
    b = [c for c in v1.find_clips() if c.name == "A002_C001"][0]
    b.effects.append(otio.schema.LinearTimeWarp(time_scalar=1.5))
    otio.adapters.write_to_file(tl, cut.path)
    os.remove(cut.media["B001_C007"])
    r = subprocess.run([sys.executable, "-m", "lipflap", "conform", cut.path, "-o", cut.outdir,
                        "--dub-track", cut.dub_track, "--language", "es", "--progress", "json",
                        "--jobs", "2"], capture_output=True, text=True)
    assert r.returncode == 1, r.stderr
    lines = [json.loads(x) for x in r.stdout.splitlines()]
    messages = [x["message"] for x in lines if "message" in x]
    missing = [m for m in messages if "B001_C007.mov is missing" in m]
    assert missing and "01:00:02:14" in missing[0] and "relink" in missing[0]
    speed = [m for m in messages if "speed change" in m]
    assert speed and "LinearTimeWarp x1.5" in speed[0] and "A002_C001" in speed[0]
    result = lines[-1]["result"]
    assert len(result["renders"]) == 2 and len(result["failed"]) == 2
    assert {f["clip"] for f in result["failed"]} == {"A002_C001", "B001_C007"}
    # The others rendered, and the EDL and timeline hold them.
    text = open(result["edl"]).read()
    assert len(parse_edl_text(text)) == 2
    out = otio.adapters.read_from_file(result["timeline"])
    assert len(out.tracks[1].find_clips()) == 2
    failed = [c for c in out.tracks[0].find_clips() if c.metadata["lipflap"]["status"] != "done"]
    assert {c.name for c in failed} == {"A002_C001", "B001_C007"}
    # Stage lines are monotonic and end at the total.
    stages = [x for x in lines if "stage" in x]
    assert [s["done"] for s in stages] == sorted(s["done"] for s in stages)
    assert stages[-1]["done"] == stages[-1]["total"]


def test_engine_crash_keeps_the_other_renders(tmp_path, fake_engine, monkeypatch):
    cut = make_cut(tmp_path, "29.97df")
    monkeypatch.setenv("FAKE_ENGINE_CRASH", "A002_C001")
    res = conform(cut.path, cut.outdir, dub_track=cut.dub_track, language="es", n_procs=2)
    status = {cj.key: cj.status for cj in res.jobs}
    assert status["A002_C001_lipflap_es_v001"] == "failed"
    assert sorted(status.values()) == ["done", "done", "done", "failed"]
    crashed = [cj for cj in res.jobs if cj.status == "failed"][0]
    assert "exited with code" in crashed.error and crashed.where in crashed.error
    assert not os.path.exists(crashed.render)
    assert len(parse_edl_text(open(res.edl_path).read())) == 3

    # A failing engine's one-sentence error reaches the user.
    monkeypatch.delenv("FAKE_ENGINE_CRASH")
    monkeypatch.setenv("FAKE_ENGINE_FAIL", "B001_C007")
    res = conform(cut.path, cut.outdir, dub_track=cut.dub_track, language="es")
    bad = [cj for cj in res.jobs if cj.status == "failed"]
    assert len(bad) == 1 and "simulated failure; fix the clip" in bad[0].error


def test_dub_audio_transcripts_and_edl_input(tmp_path, fake_engine):
    cut = make_cut(tmp_path, "23.976", transition=False)
    # The cut's video as a CMX 3600 EDL recorded from 01:00:00:00 (the adapter's trap: its writer
    # ignores the global start, so the track's source range starts at minus the start).
    edl_in = str(tmp_path / "cut.edl")
    only_video = otio.schema.Timeline(name="edl cut")
    v1 = cut.timeline.video_tracks()[0].deepcopy()
    v1.source_range = opentime.TimeRange(-cut.timeline.global_start_time, v1.duration())
    only_video.tracks.append(v1)
    otio.adapters.write_to_file(only_video, edl_in, rate=float(cut.rate))
    trans = tmp_path / "lines.txt"
    trans.write_text("# dub script\n[A002_C001]\nHola, ¿qué tal?\n\n[01:00:03:08]\nOtra\nvez.\n"
                     "[Z999]\nnadie\n", encoding="utf-8")
    # An EDL has no start of its own: where the dub file starts must be given, never guessed.
    with pytest.raises(LipflapError, match="--dub-start"):
        conform(edl_in, cut.outdir, dub_audio=cut.dub, language="es")
    progress_out = open(tmp_path / "progress.jsonl", "w")
    res = conform(edl_in, cut.outdir, dub_audio=cut.dub, dub_start="01:00:00:00", language="es",
                  transcripts=str(trans), progress=Progress("json", out=progress_out))
    progress_out.close()
    assert [cj.status for cj in res.jobs] == ["done"] * 4, [cj.error for cj in res.jobs]
    jobs = {cj.clip_name + "@" + cj.record_tc: cj.job for cj in res.jobs}
    assert sorted(jobs) == ["A001_C003@01:00:00:12", "A001_C003@01:00:03:08",
                            "A002_C001@01:00:01:12", "B001_C007@01:00:02:14"]
    assert jobs["A002_C001@01:00:01:12"]["text"] == "Hola, ¿qué tal?"
    assert jobs["A001_C003@01:00:03:08"]["text"] == "Otra vez."
    assert "text" not in jobs["A001_C003@01:00:00:12"]
    # The dub file's first sample is at 01:00:00:00; B001 starts 62 frames later.
    assert jobs["B001_C007@01:00:02:14"]["audio_offset_s"] == pytest.approx(
        float(Fraction(62) / cut.rate), abs=1e-6)
    assert jobs["B001_C007@01:00:02:14"]["start_frame"] == 5
    notes = [json.loads(x).get("message", "") for x in open(tmp_path / "progress.jsonl")]
    assert any("'Z999' matches no clip" in n for n in notes)
    assert any("'A001_C003' at record 01:00:00:12" in n and "no transcript" in n for n in notes)
    # The rate came from the EDL's media; record times survive EDL in -> EDL out.
    parsed = parse_edl_text(open(res.edl_path).read())
    assert [p[2] for p in parsed] == ["01:00:00:12", "01:00:01:12", "01:00:02:14", "01:00:03:08"]
    assert [p[0] for p in parsed] == [e[3] for e in expected_events(cut)]


def test_no_dub_is_a_clear_error(tmp_path, fake_engine):
    cut = make_cut(tmp_path, "23.976", transition=False)
    cut.timeline.tracks[2].name = "Music"
    otio.adapters.write_to_file(cut.timeline, cut.path)
    r = subprocess.run([sys.executable, "-m", "lipflap", "conform", cut.path, "-o", cut.outdir],
                       capture_output=True, text=True)
    assert r.returncode == 2
    assert "no dub given; pass --dub-audio FILE or --dub-track NAME" in r.stderr
    assert "'Music'" in r.stderr and "Traceback" not in r.stderr


def test_conform_with_the_real_engine(tmp_path, monkeypatch):
    monkeypatch.delenv("LIPFLAP_RUN_CMD", raising=False)
    cut = make_cut(tmp_path, "23.976", transition=False)
    # One clip (after the leading gap) is enough to drive the real engine through conform.
    v1 = cut.timeline.video_tracks()[0]
    while len(v1) > 2:
        v1.pop()
    otio.adapters.write_to_file(cut.timeline, cut.path)
    lines = tmp_path / "lines.txt"
    lines.write_text("[A001_C003]\nHola, ¿qué tal?\n", encoding="utf-8")
    res = conform(cut.path, cut.outdir, dub_track=cut.dub_track, language="es", n_procs=1,
                  handles=2, transcripts=str(lines))
    assert [cj.status for cj in res.jobs] == ["done"], [cj.error for cj in res.jobs]
    from lipflap.media.probe import probe
    cj = res.jobs[0]
    info = probe(cj.render)
    src = probe(cut.media["A001_C003"])
    # Whatever the engine does with handles, the render carries the source timecode and covers
    # the cut; conform placed it (the EDL event has the original record and source timecode).
    assert info.start_tc_frames <= src.start_tc_frames + 20
    assert info.start_tc_frames + info.frame_count >= src.start_tc_frames + 20 + 24
    parsed = parse_edl_text(open(res.edl_path).read())
    assert [(p[0], p[2]) for p in parsed] == [(expected_events(cut)[0][3], "01:00:00:12")]
    # Generated media has no face: the engine flags it, and the flag reaches the timeline and EDL.
    out = otio.adapters.read_from_file(res.timeline_path)
    render = out.tracks[1].find_clips()[0]
    assert render.metadata["lipflap"]["flagged_ranges"]
    assert len(render.markers) >= 1 and any(ln.startswith("* LOC:") for ln in parsed[0][4])


def test_two_video_tracks_get_two_render_tracks_and_edls(tmp_path, fake_engine):
    cut = make_cut(tmp_path, "23.976", transition=False)
    tl = cut.timeline
    a002 = [c for c in tl.video_tracks()[0].find_clips() if c.name == "A002_C001"][0]
    cutaway = a002.deepcopy()
    cutaway.name = "A002_C001_cutaway"
    rate = float(cut.rate)
    cutaway.source_range = opentime.TimeRange(
        a002.source_range.start_time + opentime.RationalTime(25, rate), opentime.RationalTime(10, rate))
    v2 = otio.schema.Track(name="V2", kind=otio.schema.TrackKind.Video)
    v2.append(otio.schema.Gap(source_range=opentime.TimeRange(opentime.RationalTime(0, rate),
                                                              opentime.RationalTime(40, rate))))
    v2.append(cutaway)
    tl.tracks.insert(1, v2)
    otio.adapters.write_to_file(tl, cut.path)
    res = conform(cut.path, cut.outdir, dub_track=cut.dub_track, language="es", n_procs=2)
    assert [cj.status for cj in res.jobs] == ["done"] * 5
    out = otio.adapters.read_from_file(res.timeline_path)
    assert [t.name for t in out.tracks] == ["V1", "V2", "lipflap es V1", "lipflap es V2",
                                            "Original", "Dub ES"]
    assert len(res.edl_paths) == 2 and res.edl_paths[1].endswith("cut_lipflap_es_V2.edl")
    assert len(parse_edl_text(open(res.edl_paths[0]).read())) == 4
    ev = parse_edl_text(open(res.edl_paths[1]).read())
    assert [(e[0], e[2], e[3]) for e in ev] == [("02:00:06:23", "01:00:01:16", "01:00:02:02")]


def test_interrupt_keeps_finished_renders_and_resumes(tmp_path, fake_engine, monkeypatch):
    import signal
    import time
    cut = make_cut(tmp_path, "23.976", transition=False)
    # B001 and the second A001 hang in the engine; the other two finish.
    monkeypatch.setenv("LIPFLAP_RUN_CMD", (
        "bash -c 'case \"$2\" in *B001*|*01000308*) exec sleep 60;; esac; "
        f"exec {engine_cmd()} \"$@\"' _"))
    p = subprocess.Popen([sys.executable, "-m", "lipflap", "conform", cut.path, "-o", cut.outdir,
                          "--dub-track", cut.dub_track, "--language", "es", "--jobs", "4",
                          "--progress", "json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True)
    done = [os.path.join(cut.outdir, n) for n in ("A001_C003_01000012_lipflap_es_v001.mov",
                                                   "A002_C001_lipflap_es_v001.mov")]
    edl = os.path.join(cut.outdir, "cut_lipflap_es.edl")

    def events_written():
        try:
            return len(parse_edl_text(open(edl).read()))
        except OSError:
            return 0
    deadline = time.monotonic() + 120
    # Conform rewrites the EDL after each finished clip: wait until it holds the two.
    while events_written() < 2 and time.monotonic() < deadline:
        time.sleep(0.2)
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=30)
    assert p.returncode == 130
    assert "interrupted: the 2 finished render(s) are kept" in out and "resume with" in out
    assert events_written() == 2 and all(os.path.exists(d) for d in done)
    # Resuming the job list renders the rest under the names it planned, and nothing twice.
    monkeypatch.setenv("LIPFLAP_RUN_CMD", engine_cmd())
    mtimes = [os.path.getmtime(d) for d in done]
    res = conform(os.path.join(cut.outdir, "cut_lipflap_es.lipflap"), cut.outdir)
    assert [cj.status for cj in res.jobs] == ["done"] * 4
    assert [os.path.getmtime(d) for d in done] == mtimes
    assert res.edl_path == os.path.join(cut.outdir, "cut_lipflap_es.edl")
    assert len(parse_edl_text(open(res.edl_path).read())) == 4


def test_bad_inputs_are_one_sentence_errors(tmp_path, fake_engine):
    bad = tmp_path / "bad.lipflap"
    bad.write_text('{"a": 1}')
    with pytest.raises(LipflapError, match="not a lipflap job list"):
        conform(str(bad), str(tmp_path / "o"))
    with pytest.raises(LipflapError, match="timeline file not found"):
        conform(str(tmp_path / "none.otio"), str(tmp_path / "o"))
    edl = tmp_path / "bad.edl"
    edl.write_text("TITLE: x\n001  AX V C 01:00:00:00\n")
    with pytest.raises(LipflapError, match="OpenTimelineIO cannot read this timeline"):
        conform(str(edl), str(tmp_path / "o"), rate="24", dub_audio=str(bad))
    cut = make_cut(tmp_path, "23.976", transition=False)
    with pytest.raises(LipflapError, match="no audio track named 'Dub FR'"):
        conform(cut.path, cut.outdir, dub_track="Dub FR")
    with pytest.raises(LipflapError, match="conform places movie files"):
        conform(cut.path, cut.outdir, dub_track=cut.dub_track, codec="exr")


def test_dub_track_spans_offsets_and_coverage(tmp_path, fake_engine):
    """Dub clips with their own source offsets: each video clip's offset comes from the dub
    clip under it; a clip under two dub clips fails clearly; a clip under none is left alone."""
    cut = make_cut(tmp_path, "29.97df", transition=False)
    rate = float(cut.rate)
    dub = cut.timeline.tracks[2]
    ref = dub[0].media_reference
    while len(dub):
        dub.pop()

    def rt(n):
        return opentime.RationalTime(n, rate)
    # record 0-40 from 1 s into the file; 40-56 from 0; gap 56-80; 80-94 from 2.5 s (75 frames).
    for first, dur in ((30, 40), (0, 16)):
        dub.append(otio.schema.Clip(name="dub", media_reference=ref.deepcopy(),
                                    source_range=opentime.TimeRange(rt(first), rt(dur))))
    dub.append(otio.schema.Gap(source_range=opentime.TimeRange(rt(0), rt(24))))
    dub.append(otio.schema.Clip(name="dub", media_reference=ref.deepcopy(),
                                source_range=opentime.TimeRange(rt(75), rt(14))))
    otio.adapters.write_to_file(cut.timeline, cut.path)
    res = conform(cut.path, cut.outdir, dub_track="Dub ES", language="es")
    by = {cj.clip_name + "@" + cj.record_tc: cj for cj in res.jobs}
    assert sorted(by) == ["A001_C003@01:00:00;12", "A001_C003@01:00:02;20", "A002_C001@01:00:01;06"]
    # A001 at record 12 sits 12 frames into the first dub clip, which starts 30 frames in.
    assert by["A001_C003@01:00:00;12"].job["audio_offset_s"] == pytest.approx((30 + 12) / rate)
    assert by["A001_C003@01:00:02;20"].job["audio_offset_s"] == pytest.approx(75 / rate)
    a002 = by["A002_C001@01:00:01;06"]
    assert a002.status == "failed" and "covered by 2 dub clips" in a002.error
    assert any("'B001_C007'" in n and "no dub under it" in n for n in res.notes)


def test_malformed_clips_fail_clearly(tmp_path, fake_engine):
    cut = make_cut(tmp_path, "23.976", transition=False)
    v1 = cut.timeline.video_tracks()[0]
    rate = float(cut.rate)
    # A zero-length clip: refused alone.
    empty = v1[2].deepcopy()
    empty.name = "empty"
    empty.source_range = opentime.TimeRange(empty.source_range.start_time, opentime.RationalTime(0, rate))
    v1.insert(2, empty)
    # A clip with no range at all on a second video track: OTIO cannot lay out that track, so its
    # clips fail naming the culprit; V1 renders.
    v2 = otio.schema.Track(name="V2", kind=otio.schema.TrackKind.Video)
    v2.append(cut.timeline.video_tracks()[0][1].deepcopy())
    v2.append(otio.schema.Clip(name="norange", media_reference=otio.schema.ExternalReference(
        target_url=cut.media["B001_C007"])))
    cut.timeline.tracks.insert(1, v2)
    otio.adapters.write_to_file(cut.timeline, cut.path)
    res = conform(cut.path, cut.outdir, dub_track=cut.dub_track, language="es")
    status = {(cj.track_name, cj.clip_name, cj.status): cj.error for cj in res.jobs}
    assert "has no frames" in status[("V1", "empty", "refused")]
    assert "time ranges cannot be worked out" in status[("V2", "norange", "failed")]
    assert "because 'norange' on the same track has no duration" in \
        status[("V2", "A001_C003", "failed")]
    assert [cj.track_name for cj in res.jobs if cj.status == "done"] == ["V1"] * 4
    assert len(parse_edl_text(open(res.edl_path).read())) == 4


def test_unreadable_reports_are_read_once_and_said_once(tmp_path, fake_engine, monkeypatch):
    """A report conform cannot read (here: from a newer engine) is read once per clip, and the
    user is told once, naming the report and what to do; good reports still give the markers
    and the EDL's disclosure."""
    import io

    from lipflap.contract.report import RunReport
    reads = []
    real = RunReport.from_json.__func__
    monkeypatch.setattr(RunReport, "from_json",
                        classmethod(lambda cls, text, where="report": (reads.append(where),
                                                                       real(cls, text, where))[1]))
    monkeypatch.setenv("FAKE_ENGINE_REPORT_VERSION", "2")
    cut = make_cut(tmp_path, "23.976", transition=False)
    out = io.StringIO()
    res = conform(cut.path, cut.outdir, dub_track=cut.dub_track, language="es", n_procs=1,
                  progress=Progress("none", out=out, err=out))
    assert [cj.status for cj in res.jobs] == ["done"] * 4
    assert sorted(reads) == sorted(cj.report for cj in res.jobs)  # once each, not once a rewrite
    said = out.getvalue().splitlines()
    for cj in res.jobs:
        about = [ln for ln in said if cj.report in ln]
        assert len(about) == 1, about
        assert "newer than this plugin reads" in about[0] and "lipflap install" in about[0]
        assert "LIP-SYNCED" in about[0] and "markers" in about[0]


def test_job_list_spells_rates_one_way_and_reads_the_old_spelling():
    # The job list is resumed from disk: lists written before rate_string ("25/1") must still read.
    from lipflap.conform.plan import ClipJob
    cj = ClipJob(clip_index=0, clip_name="A", track_name="V1", track_index=0, rate=Fraction(25),
                 record_in=90000, record_out=90010, media_fps=Fraction(24000, 1001))
    d = cj.to_dict()
    assert (d["rate"], d["media_fps"]) == ("25", "24000/1001")
    assert ClipJob.from_dict(json.loads(json.dumps(d))) == cj
    assert ClipJob.from_dict({**d, "rate": "25/1", "media_fps": "24000/1001"}) == cj
