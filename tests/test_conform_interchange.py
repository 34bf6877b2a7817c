"""`lipflap conform` on AAF, FCP 7 XML and FCPXML cuts, written back in the format they came in.

Each cut is made here through the format's own OpenTimelineIO adapter from the shared generated
cut (tests/test_conform_support.py, at 25 fps: the FCPXML adapter reads only whole-number rates)
plus a second video track: two video tracks, a dissolve, a clip used twice and a dub track. It is
conformed with the fake engine, and the written file, read again by the same adapter, must show
each render at its clip's record frames. What each adapter drops is asserted as measured.
"""
from __future__ import annotations

import os
import subprocess

import opentimelineio as otio
import pytest
from opentimelineio import opentime

from test_conform_fakeengine import engine_cmd
from test_conform_support import make_cut

from lipflap.conform import conform
from lipflap.conform.interchange import FORMATS
from lipflap.contract.errors import LipflapError
from lipflap.contract.progress import Progress

RATE = 25.0


@pytest.fixture
def fake_engine(monkeypatch):
    monkeypatch.setenv("LIPFLAP_RUN_CMD", engine_cmd())
    monkeypatch.delenv("FAKE_ENGINE_FAIL", raising=False)
    monkeypatch.delenv("FAKE_ENGINE_CRASH", raising=False)


def _rt(n):
    return opentime.RationalTime(n, RATE)


def exchange_cut(root, ext):
    """The shared cut plus a cutaway on V2, written as `cut<ext>` through the adapter."""
    cut = make_cut(root, "25")
    tl = cut.timeline
    v1 = tl.video_tracks()[0]
    a002 = [c for c in v1.find_clips() if c.name == "A002_C001"][0]
    cutaway = a002.deepcopy()
    cutaway.name = "A002_C001_cutaway"
    cutaway.source_range = opentime.TimeRange(a002.source_range.start_time + _rt(25), _rt(10))
    v2 = otio.schema.Track(name="V2", kind=otio.schema.TrackKind.Video)
    v2.append(otio.schema.Gap(source_range=opentime.TimeRange(_rt(0), _rt(44))))
    v2.append(cutaway)
    tl.tracks.insert(1, v2)
    dub = tl.audio_tracks()[-1].find_clips()[0]
    dub.media_reference.available_range = opentime.TimeRange(_rt(0), _rt(200))
    # AAF needs a dissolve's parameters as the AAF reader gives them (SMPTE video dissolve).
    dissolve = [i for i in v1 if isinstance(i, otio.schema.Transition)][0]
    dissolve.transition_type = otio.schema.TransitionTypes.SMPTE_Dissolve
    dissolve.metadata["AAF"] = {
        "CutPoint": 4, "PointList": [{"Value": 0, "Time": 0}, {"Value": 1, "Time": 1}],
        "OperationGroup": {"Operation": {
            "Name": "VideoDissolve_2", "Description": "", "DataDefinition": {"Name": "Picture"},
            "Identification": "0c3bea41-fc05-11d2-8a29-0050040ef7d2", "IsTimeWarp": False,
            "Bypass": 1, "NumberInputs": 2, "OperationCategory": "OperationCategory_Effect"}}}
    path = os.path.join(os.fspath(root), "cut" + ext)
    otio.adapters.write_to_file(tl, path, adapter_name=FORMATS[ext].adapter, **FORMATS[ext].write_args)
    return cut, path


def expected_renders(cut_tl):
    """(name, record in relative to the timeline's start, frames) of each video clip's cut range,
    by track: a render is cut to its clip's record range (the handles stay outside it)."""
    out = []
    for track in cut_tl.video_tracks():
        rows = [(c.name, round(c.range_in_parent().start_time.value),
                 round(c.range_in_parent().duration.value)) for c in track.find_clips()]
        out.append(rows)
    return out


def res_tracks(res):
    """The render tracks of the conformed .otio."""
    tl = otio.adapters.read_from_file(res.timeline_path)
    return [t for t in tl.video_tracks() if t.metadata.get("lipflap", {}).get("render_track")]


class Messages(Progress):
    def __init__(self):
        super().__init__("none")
        self.said = []

    def message(self, text):
        self.said.append(text)


@pytest.mark.parametrize("ext", [".aaf", ".xml", ".fcpxml"])
def test_exchange_format_conformed_and_written_back(tmp_path, fake_engine, ext):
    cut, path = exchange_cut(tmp_path, ext)
    fmt = FORMATS[ext]
    source = otio.adapters.read_from_file(path, adapter_name=fmt.adapter, media_linker_name=None)
    want = expected_renders(source)
    assert [len(rows) for rows in want] == [4, 1]
    msgs = Messages()
    # The dub track is asked for by the name it had; FCP 7 XML and FCPXML keep no track names,
    # so it is found by its clip's name ("dub_es").
    res = conform(path, str(tmp_path / "out"), dub_track="Dub ES", language="es", n_procs=2,
                  progress=msgs)
    assert [cj.status for cj in res.jobs] == ["done"] * 5, [cj.error for cj in res.jobs]
    assert res.interchange_path == str(tmp_path / "out" / ("cut_lipflap_es" + ext))
    assert os.path.isfile(res.timeline_path) and os.path.isfile(res.edl_path)

    back = otio.adapters.read_from_file(res.interchange_path, adapter_name=fmt.adapter,
                                        media_linker_name=None)
    vt = back.video_tracks()
    renders = [i for i, t in enumerate(vt)
               if any("_lipflap_" in (c.media_reference.target_url or "") for c in t.find_clips())]
    assert renders == [2, 3]  # V1, V2, then the render track of each, above the originals
    for src_rows, render_track in zip(want, vt[2:4]):
        got = [(round(c.range_in_parent().start_time.value), round(c.range_in_parent().duration.value))
               for c in render_track.find_clips()]
        assert got == [(r0, n) for _, r0, n in src_rows], (ext, render_track.name)
        for c in render_track.find_clips():
            url = c.media_reference.target_url
            assert "_lipflap_es_v001.mov" in url
    # The clip used twice got two renders, told apart by record timecode.
    names = [os.path.basename(c.media_reference.target_url) for c in vt[2].find_clips()]
    assert len(set(names)) == 4 and sum(n.startswith("A001_C003_") for n in names) == 2

    warn = res.interchange_warning
    assert warn is not None and warn.count(" could not carry: ") == 1
    assert [m for m in msgs.said if m == warn] == [warn]  # said once
    assert "lipflap metadata" in warn
    if ext == ".aaf":
        # The AAF writer writes no markers: every flag of both render tracks, in one phrase.
        flags = sum(len(c.markers) for t in res_tracks(res) for c in t.find_clips())
        assert f"{flags} of {flags} flag marker(s)" in warn and warn.count("flag marker") == 1
        assert back.global_start_time.value == 25 * 3600
        assert [t.name for t in back.audio_tracks()][-1] == "Dub ES"
    if ext == ".xml":
        assert "track names" in warn and "flag marker" not in warn
        assert sum(len(c.markers) for c in vt[2].find_clips()) >= 1
        assert any(isinstance(i, otio.schema.Transition) for i in vt[2])
        assert any("found as audio track" in m for m in msgs.said)
    if ext == ".fcpxml":
        # Measured: the adapter names tracks by lane and keeps markers; it drops the dissolve and
        # the start timecode already when the test writes the cut, so record counts from zero.
        assert "track names" in warn and "flag marker" not in warn
        assert sum(len(c.markers) for c in vt[2].find_clips()) >= 1
        assert back.global_start_time is None
        assert any("no start timecode" in m for m in msgs.said)


def test_resumed_job_list_writes_back_the_same_format(tmp_path, fake_engine):
    cut, path = exchange_cut(tmp_path, ".xml")
    out = tmp_path / "out"
    res = conform(path, str(out), dub_track="Dub ES", language="es")
    os.remove(res.interchange_path)
    # A conform killed while writing it left its hidden temporary; the next write removes it.
    dead = _dead_pid()
    stale = out / f".cut_lipflap_es.xml.{dead}.partial.xml"
    stale.write_text("<half")
    res2 = conform(res.joblist_path, str(out))
    assert res2.interchange_path == res.interchange_path and os.path.isfile(res2.interchange_path)
    assert not stale.exists()


def _dead_pid() -> int:
    """The pid of a process that has ended."""
    p = subprocess.Popen(["true"])
    p.wait()
    return p.pid


def test_fcpxml_at_ntsc_rate_is_refused(tmp_path, fake_engine):
    p = tmp_path / "cut.fcpxml"
    p.write_text('<?xml version="1.0"?><fcpxml version="1.8"><resources>'
                 '<format id="r1" frameDuration="1001/24000s"/></resources></fcpxml>')
    with pytest.raises(LipflapError, match=r"23\.976 fps, which otio-fcpx-xml-adapter reads as 23"):
        conform(str(p), str(tmp_path / "out"), dub_track="Dub ES")


def test_dub_track_by_index_and_unknown_name(tmp_path, fake_engine):
    cut, path = exchange_cut(tmp_path, ".xml")
    res = conform(path, str(tmp_path / "out"), dub_track="A2", language="es")
    assert all(cj.status == "done" for cj in res.jobs)
    with pytest.raises(LipflapError, match="no audio track named 'Dub FR'"):
        conform(path, str(tmp_path / "out2"), dub_track="Dub FR")
