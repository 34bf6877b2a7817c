"""The OpenTimelineIO plugin (lipflap_otio) as OTIO's own tools see it: found through the
`opentimelineio.plugins` entry point, the `.lipflap` adapter through otioconvert both ways, and
the lipflap_relink media linker."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import opentimelineio as otio
import pytest
from opentimelineio import opentime

from test_conform_fakeengine import engine_cmd
from test_conform_support import make_cut

BIN = os.path.dirname(sys.executable)


def tool(name, *args, env=None):
    exe = shutil.which(name, path=BIN) or shutil.which(name)
    assert exe, f"{name} not installed"
    return subprocess.run([exe, *args], capture_output=True, text=True, env=env)


@pytest.fixture
def engine_env(monkeypatch):
    monkeypatch.setenv("LIPFLAP_RUN_CMD", engine_cmd())
    for k in ("FAKE_ENGINE_FAIL", "FAKE_ENGINE_CRASH", "LIPFLAP_RENDERS", "LIPFLAP_LANGUAGE",
              "LIPFLAP_TIMELINE_START", "OTIO_DEFAULT_MEDIA_LINKER"):
        monkeypatch.delenv(k, raising=False)
    return dict(os.environ)


def test_otiopluginfo_lists_the_plugin():
    r = tool("otiopluginfo")
    assert r.returncode == 0
    assert "could not load plugin" not in r.stderr
    out = r.stdout
    assert "otio_adapters/plugin_manifest.json" in out or "lipflap_otio/plugin_manifest.json" in out
    adapters = out.split("media_linkers:")[0]
    assert "  lipflap\n" in adapters and "write_to_file args: ['input_otio', 'filepath'" in adapters
    assert "lipflap_relink" in out.split("media_linkers:")[1]
    manifest = otio.plugins.ActiveManifest()
    assert manifest.from_filepath("lipflap").name == "lipflap"
    assert "lipflap_relink" in otio.media_linker.available_media_linker_names()


def test_otioconvert_round_trip(tmp_path, engine_env):
    cut = make_cut(tmp_path, "23.976")
    shots = str(tmp_path / "shots.lipflap")
    renders = str(tmp_path / "renders")
    r = tool("otioconvert", "-i", cut.path, "-o", shots, "-A", "dub_track=Dub ES", "-A",
             "language=es", "-A", f"outdir={renders}", "-A", "handles=4", env=engine_env)
    assert r.returncode == 0, r.stderr
    data = json.load(open(shots))
    assert data["lipflap_joblist"] == 1 and data["language"] == "es"
    entries = data["jobs"]
    assert [e["key"] for e in entries][1:3] == ["A002_C001_lipflap_es_v001", "B001_C007_lipflap_es_v001"]
    from lipflap.contract.jobspec import parse_job
    for e in entries:
        job = parse_job(e["job"])  # every job is a valid docs/job.md job as written
        assert job.output.path.startswith(renders) and job.handles <= 4
        assert e["status"] == "pending"

    # Read back before anything ran: the cut, an empty render track, originals marked pending.
    tl = otio.adapters.read_from_file(shots)
    assert [t.name for t in tl.tracks] == ["V1", "lipflap es", "Original", "Dub ES"]
    assert len(tl.tracks[1].find_clips()) == 0
    assert {c.metadata["lipflap"]["status"] for c in tl.tracks[0].find_clips()} == {"pending"}

    # Run the job list, then turn it back into a timeline with otioconvert.
    r = subprocess.run([sys.executable, "-m", "lipflap", "conform", shots, "-o", str(tmp_path / "c"),
                        "--progress", "none"], capture_output=True, text=True, env=engine_env)
    assert r.returncode == 0, r.stderr
    out = str(tmp_path / "cut_es.otio")
    r = tool("otioconvert", "-i", shots, "-o", out, env=engine_env)
    assert r.returncode == 0, r.stderr
    tl = otio.adapters.read_from_file(out)
    renders_track = tl.tracks[1]
    assert [c.name for c in renders_track.find_clips()] == [e["key"] for e in entries]
    assert all(os.path.isfile(c.media_reference.target_url) for c in renders_track.find_clips())
    orig = tl.tracks[0].find_clips()
    for o, rc in zip(orig, renders_track.find_clips()):
        assert o.range_in_parent() == rc.range_in_parent()  # same record time
        assert o.source_range == rc.source_range            # same (source) timecode
        assert rc.metadata["lipflap"]["version"] == 1
    # Running the job list again renders nothing new and overwrites nothing.
    mtimes = [os.path.getmtime(c.media_reference.target_url) for c in renders_track.find_clips()]
    r = subprocess.run([sys.executable, "-m", "lipflap", "conform", shots, "-o", str(tmp_path / "c")],
                       capture_output=True, text=True, env=engine_env)
    assert r.returncode == 0, r.stderr
    assert mtimes == [os.path.getmtime(c.media_reference.target_url)
                      for c in renders_track.find_clips()]


def test_media_linker_relinks_to_the_newest_render(tmp_path, engine_env):
    from lipflap.conform import conform
    cut = make_cut(tmp_path, "29.97df")
    conform(cut.path, cut.outdir, dub_track=cut.dub_track, language="es")
    res2 = conform(cut.path, cut.outdir, dub_track=cut.dub_track, language="es")
    newest = {(cj.clip_name, cj.record_tc): cj.render for cj in res2.jobs}
    assert all(p.endswith("_v002.mov") for p in newest.values())
    args = {"renders": cut.outdir, "language": "es", "timeline_start": "01:00:00:00"}  # DF label
    tl = otio.adapters.read_from_file(cut.path, media_linker_name="lipflap_relink",
                                      media_linker_argument_map=args)
    start = tl.global_start_time
    rate = float(cut.rate)
    for clip in tl.video_tracks()[0].find_clips():
        rec = opentime.to_timecode(start + clip.range_in_parent().start_time, rate)
        assert clip.media_reference.target_url == newest[(clip.name, rec)]
        meta = clip.metadata["lipflap"]
        assert meta["version"] == 2 and meta["language"] == "es" and meta["sync_score"] == 0.87
        assert meta["report_path"].endswith("_v002.json") and meta["flagged_ranges"]
        # The render's timecode holds the clip's source range, which stays as it was.
        avail = clip.media_reference.available_range
        assert avail.start_time <= clip.source_range.start_time
        assert clip.source_range.end_time_exclusive() <= avail.end_time_exclusive()
    # The dub clip has no render and keeps its media.
    assert tl.audio_tracks()[1].find_clips()[0].media_reference.target_url == cut.dub

    # Without the cut's start, the clip used twice cannot be told apart: it keeps its media;
    # the others relink. Same through otioconvert with -m/-M.
    out = str(tmp_path / "linked.otio")
    r = tool("otioconvert", "-i", cut.path, "-o", out, "-m", "lipflap_relink", "-M",
             f"renders={cut.outdir}", "-M", "language=es", env=engine_env)
    assert r.returncode == 0, r.stderr
    tl = otio.adapters.read_from_file(out)
    urls = {c.name: c.media_reference.target_url for c in tl.video_tracks()[0].find_clips()}
    assert urls["A001_C003"] == cut.media["A001_C003"]
    assert urls["A002_C001"].endswith("A002_C001_lipflap_es_v002.mov")
    assert urls["B001_C007"].endswith("B001_C007_lipflap_es_v002.mov")


def test_media_linker_skips_renders_that_do_not_cover_the_clip(tmp_path, engine_env):
    from lipflap.conform import conform
    cut = make_cut(tmp_path, "23.976", transition=False)
    res = conform(cut.path, cut.outdir, dub_track=cut.dub_track, language="de", handles=0)
    b = [cj for cj in res.jobs if cj.clip_name == "B001_C007"][0]
    # Lengthen B in the cut beyond its render (a trim after the renders were made).
    tl = otio.adapters.read_from_file(cut.path)
    clip = [c for c in tl.video_tracks()[0].find_clips() if c.name == "B001_C007"][0]
    clip.source_range = opentime.TimeRange(clip.source_range.start_time,
                                           clip.source_range.duration + opentime.RationalTime(3, float(cut.rate)))
    from lipflap_otio.linker import link_media_reference
    ref = link_media_reference(clip, {"renders": cut.outdir})
    assert ref.target_url == cut.media["B001_C007"] and "lipflap" not in clip.metadata
    clip.source_range = opentime.TimeRange(clip.source_range.start_time,
                                           clip.source_range.duration - opentime.RationalTime(3, float(cut.rate)))
    assert link_media_reference(clip, {"renders": cut.outdir}).target_url == b.render


def test_job_list_writer_refuses_a_timeline_without_dub(tmp_path, engine_env):
    cut = make_cut(tmp_path, "23.976", transition=False)
    cut.timeline.tracks[2].name = "Music"
    with pytest.raises(otio.exceptions.OTIOError, match="no dub given"):
        otio.adapters.write_to_file(cut.timeline, str(tmp_path / "x.lipflap"))
    assert not os.path.exists(tmp_path / "x.lipflap")
