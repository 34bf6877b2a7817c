"""The installed Resolve script, run against the fake Resolve and a fake UI, driving an engine."""
import json
import os
import runpy
import sys
import textwrap

import pytest

from lipflap import contract as hostclient
from lipflap.install_resolve import MENUS, SCRIPT_NAME, install, scripts_root
from tests.fakes import fusion_ui as fui
from tests.fakes import resolve as fr

# An engine that honours the CLI contract without rendering pixels: it checks the job, writes
# the render file, a report with one flagged range, and JSON progress. Clips named *C004* fail
# the way the real engine fails (one sentence on stderr, exit 2). `lipflap timeline` (the OTIO
# timeline and EDL of the placed renders) runs the real command.
FAKE_ENGINE = textwrap.dedent('''
    import json, sys
    args = sys.argv[1:]
    if args[0] == "timeline":  # the OTIO timeline and EDL are the real engine's work
        from lipflap.cli import main
        sys.exit(main(args))
    job = json.load(open(args[args.index("--job") + 1], encoding="utf-8"))
    if "C004" in job["video"]:
        print("lipflap: error: " + job["video"] + ": frame 12 has no video; re-export the clip.", file=sys.stderr)
        sys.exit(2)
    n = job["end_frame"] - job["start_frame"] + 1
    h = job.get("handles", 0)
    lo = max(0, job["start_frame"] - h)
    for i in range(0, n + 1, max(1, n // 4)):
        print(json.dumps({"stage": "render", "done": i, "total": n}), flush=True)
    open(job["output"]["path"], "wb").write(b"render")
    report = {"range": {"first": lo, "last": job["end_frame"] + h, "start": job["start_frame"],
                        "end": job["end_frame"], "handles": h},
              "flagged_ranges": [{"start": job["start_frame"] + 2, "end": job["start_frame"] + 4, "reason": "no_face"}],
              "warnings": [], "job": job}
    json.dump(report, open(job["report"], "w"))
    print(json.dumps({"result": {"output": job["output"]["path"]}}), flush=True)
''')


@pytest.fixture()
def world(tmp_path):
    media = tmp_path / "media dir"
    media.mkdir()
    paths = {}
    for name in ("A001_C003.mov", "A001_C004.mov", "dub_es.wav"):
        p = media / name
        p.write_bytes(b"x")
        paths[name] = str(p)
    tl = fr.Timeline(rate="23.976", start_tc="01:00:00:00", start_frame=86400, video_tracks=1, audio_tracks=1)
    a = fr.MediaPoolItem(paths["A001_C003.mov"], fps="23.976")
    b = fr.MediaPoolItem(paths["A001_C004.mov"], fps="23.976")
    tl.add("video", 1, fr.TimelineItem(a, 86400, 86448, left_offset=100))
    tl.add("video", 1, fr.TimelineItem(b, 86448, 86472, left_offset=0))
    tl.add("video", 1, fr.TimelineItem(a, 86472, 86496, left_offset=400))
    tl.add("audio", 1, fr.TimelineItem(fr.MediaPoolItem(paths["dub_es.wav"]), 86400, 86600, left_offset=0))
    project = fr.Project(tl)
    engine_py = tmp_path / "fake_engine.py"
    engine_py.write_text(FAKE_ENGINE)
    return {"tl": tl, "project": project, "resolve": fr.Resolve(project), "paths": paths,
            "engine": [sys.executable, str(engine_py)], "out": str(tmp_path / "renders")}


def _settings(world, **kw):
    from lipflap_resolve.settings import Settings
    base = dict(scope="track", video_track=1, dub_kind="track", dub_track=1, language="es", mode="full",
                codec="prores_hq", handles=4, output_dir=world["out"])
    base.update(kw)
    return Settings(**base)


def test_controller_places_renders_and_survives_a_failed_clip(world):
    from lipflap_resolve.app import Controller
    fr._Recorder.calls = []
    c = Controller(world["resolve"], hostclient, engine=world["engine"], log=lambda s: None)
    assert c.start(_settings(world)) == []
    outcomes = c.run_all(0.01)
    assert [o.placed for o in outcomes] == [True, False, True]
    assert "frame 12 has no video" in outcomes[1].error
    jobs = [json.load(open(os.path.splitext(o.render)[0] + ".job.json")) for o in outcomes if o.render]
    assert [(j["start_frame"], j["end_frame"]) for j in jobs] == [(100, 147), (400, 423)]
    assert jobs[0]["fps"] == "24000/1001" and jobs[0]["handles"] == 4
    assert jobs[0]["audio_offset_s"] == 0 and jobs[1]["audio_offset_s"] == pytest.approx(72 * 1001 / 24000)
    assert [os.path.basename(o.render) for o in outcomes if o.render] == [
        "A001_C003_lipflap_es_v001.mov", "A001_C003_lipflap_es_v002.mov"]
    placed = world["tl"].GetItemListInTrack("video", 2)
    assert [(it.GetStart(), it.GetEnd(), it.GetLeftOffset()) for it in placed] == [(86400, 86448, 4), (86472, 86496, 4)]
    assert world["tl"].tracks["video"][0][1].GetClipColor() == "Red"
    assert sorted(world["tl"].GetMarkers()) == [2, 74]
    edl = open(c.summary_paths["EDL"]).read()
    assert "A001_C003_lipflap_es_v001" in edl and "01:00:00:00 01:00:02:00" in edl
    assert "* LOC:" in edl
    # running again never overwrites: the next renders are v003 and v004
    c2 = Controller(world["resolve"], hostclient, engine=world["engine"], log=lambda s: None)
    assert c2.start(_settings(world)) == []
    again = c2.run_all(0.01)
    assert os.path.basename(again[0].render) == "A001_C003_lipflap_es_v003.mov"


def test_bad_settings_are_reported_not_raised(world):
    from lipflap_resolve.app import Controller
    c = Controller(world["resolve"], hostclient, engine=world["engine"], log=lambda s: None)
    problems = c.start(_settings(world, mode="patch", codec="h264", output_dir=""))
    assert any("cannot carry a patch" in p for p in problems) and any("output folder" in p for p in problems)
    assert c.start(_settings(world, dub_track=5)) == []
    outcomes = c.run_all(0.01)
    assert all("A5 does not exist" in o.error for o in outcomes)


@pytest.mark.parametrize("os_name", ["linux", "macos", "windows"])
def test_installer_layouts(tmp_path, os_name):
    home = tmp_path / "home"
    home.mkdir()
    done = install(str(home), os_name, ["/opt/lipflap/bin/lipflap"])
    root = scripts_root(str(home), os_name)
    expected = {"linux": ".local/share/DaVinciResolve/Fusion/Scripts",
                "macos": "Library/Application Support/Blackmagic Design/DaVinci Resolve/Fusion/Scripts",
                "windows": "AppData/Roaming/Blackmagic Design/DaVinci Resolve/Support/Fusion/Scripts"}[os_name]
    assert root == os.path.join(str(home), *expected.split("/"))
    for menu in MENUS:
        text = open(os.path.join(root, menu, SCRIPT_NAME), encoding="utf-8").read()
        compile(text, SCRIPT_NAME, "exec")
        assert '["/opt/lipflap/bin/lipflap"]' in text and "@" not in text.split('"""')[2].split("def ")[0]
    assert any("Workspace > Scripts" in line for line in done)
    install(str(home), os_name, [], uninstall=True)
    assert not any(os.path.exists(os.path.join(root, m, SCRIPT_NAME)) for m in MENUS)


def test_installed_script_runs_the_dialog_in_resolve(world, tmp_path, monkeypatch):
    """The launcher as Resolve runs it: Resolve's globals, the dialog, the timer, the engine."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "cfg"))
    install(str(home), "linux", world["engine"])
    script = os.path.join(scripts_root(str(home), "linux"), "Edit", SCRIPT_NAME)
    ui = fui.UIManager()
    fui.Dispatcher.script = [fui.set_text("OutputDir", world["out"]), fui.set_text("Language", "es"),
                             fui.set_value("DubTrack", 1), fui.set_value("Handles", 2), fui.click("Run")]
    for mod in [m for m in sys.modules if m.startswith("lipflap_resolve") or m.startswith("lipflap_contract")]:
        monkeypatch.delitem(sys.modules, mod)
    runpy.run_path(script, init_globals={"resolve": world["resolve"], "fusion": fui.Fusion(ui), "bmd": fui.Bmd()})
    placed = world["tl"].GetItemListInTrack("video", 2)
    assert len(placed) == 2
    saved = json.load(open(tmp_path / "cfg" / "lipflap" / "resolve_settings.json"))
    assert saved["output_dir"] == world["out"] and saved["handles"] == 2
    # the next run opens with the remembered settings
    fui.Dispatcher.script = [lambda win: captured.update({k: w.Text for k, w in win.GetItems().items()})]
    captured = {}
    runpy.run_path(script, init_globals={"resolve": world["resolve"], "fusion": fui.Fusion(fui.UIManager()),
                                         "bmd": fui.Bmd()})
    assert captured["OutputDir"] == world["out"] and captured["Language"] == "es"
