"""The Resolve script against the strict fake, on every profile (version, edition, rates, XML import)."""
import json
import os
import runpy
import sys

import pytest

from lipflap import contract as hostclient
from lipflap.install.resolve import MENUS, SCRIPT_NAME, install, scripts_root
from tests.fakes import fusion_ui as fui
from tests.fakes import resolve as fr
from tests.fakes.resolve_world import CUT, build, expected_source_range

PROFILES = list(fr.PROFILES)


@pytest.fixture(params=PROFILES)
def world(request, tmp_path):
    return build(request.param, tmp_path)


def _settings(world, **kw):
    from lipflap_resolve.settings import Settings
    base = dict(scope="track", video_track=1, dub_kind="track", dub_track=1, language="es", mode="full",
                codec="prores_hq", handles=4, output_dir=world["out"])
    base.update(kw)
    return Settings(**base)


def _places(world) -> bool:
    """Only READMEs with trackIndex/recordFrame (19.x and later) can place at a record frame."""
    return "recordFrame" in world["profile"].clipinfo_keys


def _track(tl, kind, index):
    return [(it.GetStart(), it.GetEnd(), it.GetMediaPoolItem().GetClipProperty("File Path"))
            for it in tl.GetItemListInTrack(kind, index) or []]


def test_controller_places_renders_and_survives_a_failed_clip(world):
    from lipflap_resolve.app import Controller
    from lipflap_resolve import placement
    s0 = world["start"]
    v1_before = _track(world["tl"], "video", 1)
    c = Controller(world["resolve"], hostclient, engine=world["engine"], log=lambda s: None)
    assert c.start(_settings(world)) == []
    outcomes = c.run_all(0.01)
    assert "frame 12 has no video" in outcomes[1].error
    jobs = [json.load(open(os.path.splitext(o.render)[0] + ".job.json")) for o in outcomes if o.render]
    assert [(j["start_frame"], j["end_frame"]) for j in jobs] == [
        expected_source_range(world, a, b - a, src) for _, a, b, src in (CUT[0], CUT[2])]
    assert jobs[0]["handles"] == 4
    assert [os.path.basename(o.render) for o in outcomes if o.render] == [
        "A001_C003_lipflap_es_v001.mov", "A001_C003_lipflap_es_v002.mov"]
    # The failed clip is coloured with a colour Resolve accepts (SetClipColor returned True).
    failed = world["tl"].GetItemListInTrack("video", 1)[1]
    assert failed.GetClipColor() == placement.COLOR_FAILED and failed.GetClipColor() in fr.CLIP_COLORS
    # Placement is checked from what the timeline reports: start, end, track, media pool item.
    renders = [o.render for o in outcomes if o.render]
    if _places(world):
        assert [o.placed for o in outcomes] == [True, False, True]
        assert _track(world["tl"], "video", 2) == [(s0, s0 + 48, renders[0]), (s0 + 72, s0 + 96, renders[1])]
        placed = world["tl"].GetItemListInTrack("video", 2)
        assert [it.GetClipColor() for it in placed] == [placement.COLOR_FLAGGED, placement.COLOR_OK]
        assert sorted(world["tl"].GetMarkers()) == [2]
        assert all(m["color"] == "Red" for m in world["tl"].GetMarkers().values())
    else:
        # 18.5's clipInfo has no trackIndex/recordFrame: whatever Resolve did is undone and said.
        assert [o.placed for o in outcomes] == [False, False, False]
        assert all("place it by hand" in o.error for o in (outcomes[0], outcomes[2]))
        assert _track(world["tl"], "video", 2) == []
    assert _track(world["tl"], "video", 1) == v1_before
    # An OTIO timeline and a CMX 3600 EDL of the renders are written beside them, at record TC.
    edl = open(c.summary_paths["EDL"]).read()
    assert os.path.isfile(c.summary_paths["OTIO"])
    assert "A001_C003_lipflap_es_v001" in edl and "01:00:00:00 01:00:02:00" in edl
    assert ("* LOC:" in edl) == _places(world)   # flags travel as the markers that were placed
    # running again never overwrites: the next renders are v003 and v004
    c2 = Controller(world["resolve"], hostclient, engine=world["engine"], log=lambda s: None)
    assert c2.start(_settings(world)) == []
    again = c2.run_all(0.01)
    assert os.path.basename(again[0].render) == "A001_C003_lipflap_es_v003.mov"


def test_renders_land_on_the_starting_timeline_when_the_user_switches(world):
    """AppendToTimeline acts on the current timeline; the user may open another one mid-run."""
    from lipflap_resolve.app import Controller
    s0 = world["start"]
    c = Controller(world["resolve"], hostclient, engine=world["engine"], log=lambda s: None)
    assert c.start(_settings(world)) == []
    assert world["project"].SetCurrentTimeline(world["other"])  # the user opens another timeline
    outcomes = c.run_all(0.01)
    assert _track(world["other"], "video", 1) == [] and _track(world["other"], "video", 2) == []
    assert world["project"].GetCurrentTimeline() is world["other"]   # left as the user had it
    if _places(world):
        assert [o.placed for o in outcomes] == [True, False, True]
        assert [(a, b) for a, b, _ in _track(world["tl"], "video", 2)] == [(s0, s0 + 48), (s0 + 72, s0 + 96)]


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
        assert '["/opt/lipflap/bin/lipflap"]' in text
    assert any("Workspace > Scripts" in line for line in done)
    install(str(home), os_name, [], uninstall=True)
    assert not any(os.path.exists(os.path.join(root, m, SCRIPT_NAME)) for m in MENUS)


def _run_installed(world, tmp_path, monkeypatch, fusion, bmd=None, resolve_global=True):
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "cfg"))
    install(str(home), "linux", world["engine"])
    script = os.path.join(scripts_root(str(home), "linux"), "Edit", SCRIPT_NAME)
    for mod in [m for m in sys.modules if m.startswith("lipflap_resolve") or m.startswith("lipflap_contract")]:
        monkeypatch.delitem(sys.modules, mod)
    g = {"fusion": fusion, "bmd": bmd or fui.Bmd(world["resolve"])}
    if resolve_global:
        g["resolve"] = world["resolve"]
    runpy.run_path(script, init_globals=g)


def test_installed_script_in_resolve(world, tmp_path, monkeypatch, capsys):
    """The launcher as Resolve runs it. With a UIManager: the dialog, its timer and the engine,
    closed by the user. Without one (free 19.1+): one sentence, then a run from the saved settings."""
    cfg = tmp_path / "cfg" / "lipflap"
    if world["profile"].ui_manager:
        fui.Dispatcher.script = [fui.set_text("OutputDir", world["out"]), fui.set_text("Language", "es"),
                                 fui.set_value("DubTrack", 1), fui.set_value("Handles", 2), fui.click("Run"),
                                 fui.WAIT, fui.click("Close")]
        _run_installed(world, tmp_path, monkeypatch, fui.Fusion(fui.UIManager()))
        saved = json.load(open(cfg / "resolve_settings.json"))
        assert saved["output_dir"] == world["out"] and saved["handles"] == 2
        captured = {}
        fui.Dispatcher.script = [lambda win: captured.update({k: w.Text for k, w in win.GetItems().items()}),
                                 fui.click("Close")]
        _run_installed(world, tmp_path, monkeypatch, fui.Fusion(fui.UIManager()))
        assert captured["OutputDir"] == world["out"] and captured["Language"] == "es"
    else:
        _run_installed(world, tmp_path, monkeypatch, fui.Fusion(None))
        first = capsys.readouterr().out
        lines = [ln for ln in first.splitlines() if ln.strip()]
        assert len(lines) == 1 and "free edition" in lines[0] and "File > Export > Timeline" in lines[0]
        assert "resolve_settings.json" in lines[0]
        cfg.mkdir(parents=True, exist_ok=True)
        (cfg / "resolve_settings.json").write_text(json.dumps(
            {"output_dir": world["out"], "language": "es", "dub_track": 1, "handles": 2}))
        _run_installed(world, tmp_path, monkeypatch, fui.Fusion(None))
        out = capsys.readouterr().out
        assert "A001_C003.mov: render 24/48" in out and "2 of 3 clip(s) lip-synced" in out
    n = 2 if "recordFrame" in world["profile"].clipinfo_keys else 0
    assert len(world["tl"].GetItemListInTrack("video", 2) or []) == n


def test_missing_resolve_global_falls_back_to_scriptapp(world, tmp_path, monkeypatch, capsys):
    from lipflap_resolve import app
    settings_dir = tmp_path / "cfg2"
    settings_dir.mkdir()
    (settings_dir / "resolve_settings.json").write_text(json.dumps(
        {"output_dir": world["out"], "language": "es", "dub_track": 1, "handles": 0}))
    fui.Dispatcher.script = [fui.click("Run"), fui.WAIT, fui.click("Close")]
    ui = fui.UIManager() if world["profile"].ui_manager else None
    c = app.main(None, fui.Fusion(ui), fui.Bmd(world["resolve"]), hostclient, engine=world["engine"],
                 config_dir=str(settings_dir))
    assert c is not None and len(c.outcomes) == 3


def test_installed_script_without_the_resolve_global(world, tmp_path, monkeypatch, capsys):
    """A Resolve that injects no `resolve` global: the launcher must not stop at a NameError."""
    cfg = tmp_path / "cfg" / "lipflap"
    cfg.mkdir(parents=True)
    (cfg / "resolve_settings.json").write_text(json.dumps(
        {"output_dir": world["out"], "language": "es", "dub_track": 1, "handles": 0}))
    fui.Dispatcher.script = [fui.click("Run"), fui.WAIT, fui.click("Close")]
    ui = fui.UIManager() if world["profile"].ui_manager else None
    _run_installed(world, tmp_path, monkeypatch, fui.Fusion(ui), resolve_global=False)
    n = 2 if "recordFrame" in world["profile"].clipinfo_keys else 0
    assert len(world["tl"].GetItemListInTrack("video", 2) or []) == n


def test_mac_app_store_sandbox_is_named(world, tmp_path, monkeypatch, capsys):
    from lipflap_resolve import app
    monkeypatch.setattr(sys, "platform", "darwin")
    monkeypatch.setenv("HOME", "/Users/ed/Library/Containers/com.blackmagic-design.DaVinciResolveAppStore/Data")
    fui.Dispatcher.script = [fui.click("Close")]
    ui = fui.UIManager() if world["profile"].ui_manager else None
    app.main(world["resolve"], fui.Fusion(ui), fui.Bmd(world["resolve"]), hostclient, engine=world["engine"],
             config_dir=str(tmp_path / "cfg"))
    out = capsys.readouterr().out
    assert "Mac App Store build" in out and "sandboxed" in out


def test_dialog_browse_and_cancel_or_no_dialog_at_all(world, tmp_path):
    """Browse asks Fusion's RequestDir/RequestFile (None when the user cancels); Cancel stops the
    queue. Without a UIManager no dialog is built at all."""
    from lipflap_resolve import app
    if not world["profile"].ui_manager:
        assert not app.has_dialogs(fui.Fusion(None))
        return
    fusion = fui.Fusion(fui.UIManager())
    fusion.answers = [world["out"], None]
    seen = {}
    fui.Dispatcher.script = [fui.click("BrowseOut"), fui.click("BrowseDub"),
                             lambda win: seen.update(out=win.GetItems()["OutputDir"].Text,
                                                     dub=win.GetItems()["DubFile"].Text),
                             fui.set_value("DubTrack", 1), fui.click("Run"), fui.click("Cancel"), fui.WAIT,
                             fui.click("Close")]
    c = app.main(world["resolve"], fusion, fui.Bmd(world["resolve"]), hostclient, engine=world["engine"],
                 config_dir=str(tmp_path / "cfg"))
    assert seen == {"out": world["out"], "dub": ""}
    assert any("cancelled" in o.error for o in c.outcomes)


def test_free_edition_reads_the_settings_file_next_to_the_script(tmp_path, monkeypatch, capsys):
    """Free 19.1 (no UIManager): lipflap_settings.json beside the menu script comes before the
    dialog's saved settings, and the console names the file it used, or the file to write."""
    world = build("19.1 free", tmp_path)
    script_dir = os.path.join(scripts_root(str(tmp_path / "home"), "linux"), "Edit")
    beside = os.path.join(script_dir, "lipflap_settings.json")
    _run_installed(world, tmp_path, monkeypatch, fui.Fusion(None))      # nothing written yet
    lines = [ln for ln in capsys.readouterr().out.splitlines() if ln.strip()]
    assert len(lines) == 1 and "there is none yet" in lines[0] and f"write {beside} with the dialog's keys" in lines[0]
    saved_out = str(tmp_path / "saved renders")
    cfg = tmp_path / "cfg" / "lipflap"
    cfg.mkdir(parents=True)
    (cfg / "resolve_settings.json").write_text(json.dumps(
        {"output_dir": saved_out, "language": "fr", "dub_track": 1, "handles": 2}))
    with open(beside, "w", encoding="utf-8") as f:
        json.dump({"output_dir": world["out"], "language": "es", "dub_track": 1, "handles": 2}, f)
    _run_installed(world, tmp_path, monkeypatch, fui.Fusion(None))
    out = capsys.readouterr().out
    assert f"from the settings in {beside}," in out
    assert "A001_C003.mov: render 24/48" in out and "2 of 3 clip(s) lip-synced" in out
    assert any("_es_" in n for n in os.listdir(world["out"])) and not os.path.exists(saved_out)
    assert len(world["tl"].GetItemListInTrack("video", 2) or []) == 2
    with open(beside, "w", encoding="utf-8") as f:   # a typo is named, not silently dropped
        json.dump({"ouput_dir": world["out"], "language": "es", "dub_track": 1}, f)
    _run_installed(world, tmp_path, monkeypatch, fui.Fusion(None))
    out = capsys.readouterr().out
    assert f"cannot start with {beside}: unknown key 'ouput_dir'" in out and "choose an output folder" in out
    os.remove(beside)                                 # without it: the dialog's saved settings
    _run_installed(world, tmp_path, monkeypatch, fui.Fusion(None))
    assert f"from the settings in {cfg / 'resolve_settings.json'}," in capsys.readouterr().out
    assert os.path.isdir(saved_out)


def test_launcher_knows_its_folder_with_or_without___file__(tmp_path, capsys):
    """Where Resolve names the script in __file__ (a copy moved elsewhere included) that folder
    is the one searched for lipflap_settings.json; without __file__, the folder it was installed to."""
    install(str(tmp_path / "home"), "linux", ["lipflap"])
    script = os.path.join(scripts_root(str(tmp_path / "home"), "linux"), "Utility", SCRIPT_NAME)
    text = open(script, encoding="utf-8").read()
    g = {"resolve": None, "fusion": None, "bmd": None}
    exec(compile(text, "<Resolve script>", "exec"), g)  # noqa: S102 - as a host that sets no __file__
    assert g["SCRIPT_DIR"] == os.path.dirname(script)
    moved = tmp_path / "elsewhere" / SCRIPT_NAME
    moved.parent.mkdir()
    moved.write_text(text, encoding="utf-8")
    moved_globals = runpy.run_path(str(moved), init_globals={"resolve": None, "fusion": None, "bmd": None})
    assert moved_globals["SCRIPT_DIR"] == str(moved.parent)
    assert "Resolve's scripting object is not available" in capsys.readouterr().out


def test_a_report_the_plugin_cannot_read_is_said_in_the_console(tmp_path):
    """A missing or newer-version report loses the render's flagged ranges: the console says
    so with the contract's sentence (e.g. update the plugin), the render is still placed."""
    from types import SimpleNamespace
    from lipflap_resolve.app import Controller
    said = []
    ctl = Controller.__new__(Controller)
    ctl.log = said.append
    plan = SimpleNamespace(name="A001_C003")
    newer = tmp_path / "newer.json"
    newer.write_text(json.dumps({"report_version": 99, "flagged_ranges": []}))
    assert ctl._read_report(plan, str(newer)) == {}
    assert "update the plugin" in said[-1] and "A001_C003" in said[-1]
    assert ctl._read_report(plan, str(tmp_path / "absent.json")) == {}
    assert "cannot read the run report" in said[-1]
    good = tmp_path / "good.json"
    good.write_text(json.dumps({"flagged_ranges": [{"start": 2, "end": 4, "reason": "no_face"}]}))
    assert ctl._read_report(plan, str(good))["flagged_ranges"][0]["reason"] == "no_face"


def test_the_edition_is_read_from_the_product_name_and_other_errors_surface():
    from lipflap_resolve.app import is_studio

    class Old:                      # a build without GetProductName: the free edition's wording
        pass

    class Broken:
        def GetProductName(self):
            raise RuntimeError("scripting bridge lost")

    assert is_studio(Old()) is False
    with pytest.raises(RuntimeError):
        is_studio(Broken())


def _edl_controller(logged):
    from fractions import Fraction
    from types import SimpleNamespace
    from lipflap_resolve.timeline import TimelineInfo
    info = TimelineInfo("Reel 1", Fraction(24), False, 86400, "01:00:00:00")
    return SimpleNamespace(info=info, settings=SimpleNamespace(language="es"), log=logged.append)


def _edl_outcome(name, record_start, record_end, start_tc="01:00:00:00", first=None):
    from fractions import Fraction
    from types import SimpleNamespace
    from lipflap_resolve.app import ClipOutcome
    from lipflap_resolve.timeline import ClipPlan
    pool = SimpleNamespace(GetClipProperty=lambda key: start_tc if key == "Start TC" else "")
    plan = ClipPlan(item=SimpleNamespace(GetMediaPoolItem=lambda: pool), name=name,
                    path=f"/m/{name}.mov", clip_rate=Fraction(24), record_start=record_start,
                    record_end=record_end, source_start=10, source_end=10 + record_end - record_start - 1)
    report = {"range": {"first": 10, "last": plan.source_end}} if first is None else \
        {"range": {"first": 10, "last": plan.source_end}, "timecodes": {"first": first}}
    return ClipOutcome(plan, render=f"/r/{name}_lipflap_es_v001.mov", report=report, placed=True)


def test_render_list_says_which_render_it_leaves_out_and_which_timecode_it_could_not_read():
    from lipflap_resolve.edl import build_placements
    logged = []
    a = _edl_outcome("A001", 86400, 86448)
    b = _edl_outcome("B002", 86440, 86500, start_tc="junk")           # overlaps A001
    c = _edl_outcome("C003", 86500, 86548, start_tc="junk", first="nonsense")
    out = build_placements(_edl_controller(logged), [c, b, a])
    assert [p.name for p in out.placements] == ["A001_lipflap_es_v001", "C003_lipflap_es_v001"]
    assert out.placements[0].source_in == 86400 + 10                  # Start TC + first frame
    assert out.placements[1].source_in == 10                          # nothing readable: 0 + 10
    overlap = [m for m in logged if "B002" in m]
    assert len(overlap) == 1 and "01:00:01:16" in overlap[0] and "A001 at 01:00:00:00" in overlap[0]
    assert "left out of the EDL" in overlap[0]
    c_said = [m for m in logged if "C003" in m]
    assert any("'nonsense'" in m for m in c_said) and any("'junk'" in m for m in c_said)
