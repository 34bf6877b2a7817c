"""The Nuke node against the stub `nuke` module, driving a contract-faithful engine."""
import importlib
import json
import os
import sys
import textwrap
import threading
import time

import pytest

from lipflap import contract as hostclient

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NUKE_DIR = os.path.join(REPO, "nuke_nodes")

FAKE_ENGINE = textwrap.dedent('''
    import json, sys
    args = sys.argv[1:]
    cmd = args[0]
    out = args[args.index("-o") + 1]
    log = json.load(open(LOG)) if __import__("os").path.exists(LOG) else []
    log.append(args)
    json.dump(log, open(LOG, "w"))
    if cmd == "analyze":
        json.dump({"frames": []}, open(out, "w"))
    elif cmd == "visemes":
        if "fail" in args[1]:
            print("lipflap: error: " + args[1] + ": no audio stream; give a file with the dub's audio.", file=sys.stderr)
            sys.exit(2)
        frames = [{"frame": i, "time": i / 24, "aperture": (i % 10) / 10, "width": 0.5, "rounding": 0.2, "jaw": (i % 10) / 20}
                  for i in range(60)]
        json.dump({"fps": 24, "frames": frames, "warnings": []}, open(out, "w"))
    elif cmd == "run":
        print(json.dumps({"stage": "render", "done": 1, "total": 1}), flush=True)
        __import__("os").makedirs(__import__("os").path.dirname(out), exist_ok=True)
        open(out, "wb").write(b"render")
        rep = args[args.index("--report") + 1]
        s = int(args[args.index("--start") + 1])
        newer = "newer" in args[args.index("--audio") + 1]   # an engine newer than the plugin
        json.dump({"report_version": 99 if newer else 1,
                   "flagged_ranges": [{"start": s + 3, "end": s + 4, "reason": "no_face"}]}, open(rep, "w"))
    print(json.dumps({"result": {}}), flush=True)
''')


READS = {
    # name: (first, last, frame_mode, frame) of the plate Read; the file has frames 1-48
    "start at 1001": (1, 48, "start at", "1001"),
    "trimmed, start at 1001": (11, 48, "start at", "1001"),
    "offset 1000": (1, 48, "offset", "1000"),
    "as the file numbers it": (1, 48, "expression", ""),
}


@pytest.fixture(params=list(READS))
def nk(request, tmp_path, monkeypatch):
    from tests.fakes import nuke as stub
    stub.reset()
    monkeypatch.setitem(sys.modules, "nuke", stub)
    monkeypatch.syspath_prepend(NUKE_DIR)
    for m in ("lipflap_nuke_node", "lipflap_nuke_curves", "lipflap_nuke_plate", "lipflap_nuke_engine"):
        sys.modules.pop(m, None)
    log = tmp_path / "engine_log.json"
    script = tmp_path / "engine.py"
    script.write_text(f"LOG = {str(log)!r}\n" + FAKE_ENGINE)
    monkeypatch.setenv("LIPFLAP_ENGINE", json.dumps([sys.executable, str(script)]))
    # The node loads the engine's contract folder by path, as it does in Nuke.
    monkeypatch.delitem(sys.modules, "lipflap_contract", raising=False)
    monkeypatch.setenv("LIPFLAP_CONTRACT", os.path.dirname(hostclient.__file__))
    plate = tmp_path / "plate shot.mov"
    plate.write_bytes(b"x")
    dub = tmp_path / "dub.wav"
    dub.write_bytes(b"x")
    stub.media[str(plate)] = (1, 48)
    stub.root()["fps"].setValue(24.0)
    node_mod = importlib.import_module("lipflap_nuke_node")
    read = stub.nodes.Read()
    read["file"].fromUserText(str(plate))
    first, last, mode, frame = READS[request.param]
    read["first"].setValue(first)
    read["last"].setValue(last)
    read["frame_mode"].setValue(mode)
    read["frame"].setValue(frame)
    g = node_mod.create()
    assert g.setInput(0, read)
    nuke_first, nuke_last = stub.read_range(read)
    g["range_first"].setValue(0)   # 0/0: the node takes the plate's range
    g["range_last"].setValue(0)
    g["dub"].setValue(str(dub))
    g["cache_dir"].setValue(str(tmp_path / "cache"))
    errors = []
    monkeypatch.setattr(threading, "excepthook", lambda a: errors.append(a.exc_value))
    return {"stub": stub, "node": node_mod, "g": g, "log": log, "plate": str(plate), "tmp": tmp_path,
            "read": read, "range": (nuke_first, nuke_last),
            "errors": errors}


def _press(g, button):
    """The artist presses a Python button: it runs in the group's context."""
    g[button].execute()


def _finish(nk):
    stub = nk["stub"]
    for t in [t for t in threading.enumerate() if t.name.startswith("lipflap")]:
        t.join(60)
        assert not t.is_alive()
    stub.pump_main_thread()
    assert nk["errors"] == []   # nothing raised in the worker thread (no Nuke calls there)


def test_menu_and_init_are_render_safe(monkeypatch, tmp_path):
    from tests.fakes import nuke as stub
    stub.reset()
    monkeypatch.setitem(sys.modules, "nuke", stub)
    monkeypatch.syspath_prepend(NUKE_DIR)
    stub.GUI = False
    exec(compile(open(os.path.join(NUKE_DIR, "init.py")).read(), "init.py", "exec"), {"__file__": os.path.join(NUKE_DIR, "init.py")})
    assert stub._menus == {}  # nothing GUI in render mode
    stub.GUI = True
    exec(compile(open(os.path.join(NUKE_DIR, "menu.py")).read(), "menu.py", "exec"), {})
    assert stub.menu("Nodes").findItem("lipflap").findItem("LipSync") == "lipflap_nuke_node.create()"


def test_node_layout(nk):
    g = nk["g"]
    for k in ("dub", "audio_offset", "script_text", "language", "face", "output", "cache_codec", "strength",
              "mask_grow", "mask_feather", "analyze", "render", "aperture", "width", "rounding", "jaw"):
        assert g.knob(k) is not None, k
    names = {n.name(): n for n in g.nodes()}
    assert names["grow"]["size"].expression == "-parent.mask_grow"
    assert names["feather"]["size"].expression == "parent.mask_feather"
    assert names["over"].input(0) is names["plate"] and names["result"]["which"].value() == 0


def test_analyze_and_render_from_the_buttons_on_every_kind_of_read(nk):
    """Frames follow the Read: its first/last are file frames, frame_mode/frame place them."""
    stub, g, node = nk["stub"], nk["g"], nk["node"]
    first, last = nk["range"]
    index = nk["read"]["first"].value() - 1          # 0-based file index of the Read's first frame
    n = last - first + 1
    g["audio_offset"].setValue(12)
    g["language"].setValue("es")
    # Script text with TCL's special characters goes to the engine exactly as typed.
    g["script_text"].setValue("[laughs] ¡hola $amigo! \\o/")
    _press(g, "analyze")
    _finish(nk)
    assert (g["range_first"].value(), g["range_last"].value()) == (first, last)
    calls = json.load(open(nk["log"]))
    assert calls[0][:2] == ["analyze", nk["plate"]]
    assert (calls[0][calls[0].index("--start") + 1], calls[0][calls[0].index("--end") + 1]) == (
        str(index), str(index + n - 1))
    v = calls[1]
    assert v[0] == "visemes" and v[v.index("--audio-offset") + 1] == repr(0.5)
    assert v[v.index("--text") + 1] == "[laughs] ¡hola $amigo! \\o/" and v[v.index("--language") + 1] == "es"
    keys = g["aperture"].animation(0).keys()
    assert len(keys) == n and keys[0].x == first and keys[7].y == pytest.approx(0.7)
    # the artist closes the mouth on the tenth frame and renders
    g["aperture"].setValueAt(0.0, first + 9)
    g["output"].setValue("patch over plate")
    _press(g, "render")
    _finish(nk)
    run = json.load(open(nk["log"]))[2]
    assert run[0] == "run" and run[run.index("--mode") + 1] == "patch"
    assert (run[run.index("--start") + 1], run[run.index("--end") + 1]) == (str(index), str(index + n - 1))
    shapes = json.load(open(run[run.index("--shapes") + 1]))
    assert shapes["frames"][9]["aperture"] == 0.0 and shapes["frames"][8]["aperture"] == pytest.approx(0.8)
    read = g.node("lipflap_render")
    assert read["file"].getText().endswith("plate_shot_lipflap_es_v001.mov")
    # The render's own frames 1..n sit on the plate's Nuke frames; black outside, not held.
    assert stub.read_range(read) == (first, last)
    assert stub.read_shows(read, first) == 1 and stub.read_shows(read, last) == n
    assert stub.read_shows(read, first - 1) is None and stub.read_shows(read, last + 1) is None
    assert g.node("result")["which"].value() == node.PATCH
    assert f"{first + 3}-{first + 4} no_face" in g["status"].getText()


def test_an_image_sequence_render_is_read_back_on_the_plate_frames(nk):
    """EXR renders are numbered with the source file's frame indexes: an "offset" Read puts them
    back on the plate's Nuke frames, black outside."""
    stub, g = nk["stub"], nk["g"]
    first, last = nk["range"]
    index = nk["read"]["first"].value() - 1
    _press(g, "analyze")
    _finish(nk)
    g["cache_codec"].setValue("exr")
    g["output"].setValue("full frame")
    _press(g, "render")
    _finish(nk)
    read = g.node("lipflap_render")
    assert read["file"].getText().endswith(".######.exr") and read["frame_mode"].value() == "offset"
    assert stub.read_range(read) == (first, last)
    assert stub.read_shows(read, first) == index and stub.read_shows(read, last) == index + last - first
    assert stub.read_shows(read, first - 1) is None and stub.read_shows(read, last + 1) is None


def test_engine_error_reaches_the_artist_without_blocking(nk):
    stub, g, node = nk["stub"], nk["g"], nk["node"]
    bad = nk["tmp"] / "fail.wav"
    bad.write_bytes(b"x")
    g["dub"].setValue(str(bad))
    t0 = time.monotonic()
    _press(g, "analyze")
    assert time.monotonic() - t0 < 2.0  # the UI call returns at once; the engine runs behind it
    _finish(nk)
    assert any("no audio stream" in m for m in stub.messages)
    assert g["status"].getText().startswith("error:")


def test_missing_dub_and_render_before_analyze(nk):
    stub, g, node = nk["stub"], nk["g"], nk["node"]
    _press(g, "render")
    assert "Analyze first" in stub.messages[-1]
    g["dub"].setValue("")
    _press(g, "analyze")
    assert "dub audio" in stub.messages[-1]


def test_other_upstream_graph_is_rendered_to_a_plate_first(nk):
    """From the Python button (the group's context) the plate's Write must sit at the root,
    where it can reach the node's input; ProRes 4444 is Nuke 13+'s appr + profile."""
    stub, g, node = nk["stub"], nk["g"], nk["node"]
    grade = stub.nodes.Grade()
    assert grade.setInput(0, g.input(0))
    assert g.setInput(0, grade)
    rendered = []

    def hook(write, first, last):
        assert write._parent is None and write.input(0) is grade
        rendered.append((write["file"].getText(), first, last, write["mov64_codec"].value(),
                         write["mov_prores_codec_profile"].value()))
        open(write["file"].getText(), "wb").write(b"mov")
    stub.render_hook = hook
    try:
        _press(g, "analyze")
        _finish(nk)
    finally:
        stub.render_hook = None
    first, last = nk["range"]
    assert rendered and rendered[0][1:] == (first, last, "appr", "ProRes 4:4:4:4 12-bit")
    call = json.load(open(nk["log"]))[0]
    assert call[1] == rendered[0][0] and call[call.index("--start") + 1] == "0"
    assert stub.allNodes("Write") == []   # the temporary Write is gone again


def test_installer_block(tmp_path):
    from lipflap.install.nuke import BEGIN, install
    home = tmp_path / "home"
    (home / ".nuke").mkdir(parents=True)
    (home / ".nuke" / "init.py").write_text("import nuke\nnuke.pluginAddPath('./gizmos')\n")
    done = install(str(home), "linux", ["/opt/lipflap/bin/lipflap"])
    install(str(home), "linux", ["/opt/lipflap/bin/lipflap"])  # idempotent
    # The studio line names all three variables the plugin reads (NUKE_PATH, engine, contract).
    assert f"LIPFLAP_CONTRACT={os.path.dirname(hostclient.__file__)}" in done[-1] and "NUKE_PATH=" in done[-1]
    text = (home / ".nuke" / "init.py").read_text()
    assert text.count(BEGIN) == 1 and "nuke.pluginAddPath('./gizmos')" in text
    assert "LIPFLAP_ENGINE', '/opt/lipflap/bin/lipflap'" in text and NUKE_DIR in text
    compile(text, "init.py", "exec")
    install(str(home), "linux", [], uninstall=True)
    assert (home / ".nuke" / "init.py").read_text() == "import nuke\nnuke.pluginAddPath('./gizmos')\n"


def test_a_report_the_node_cannot_read_is_said_on_the_node(nk):
    """A report from a newer engine: the render is still read in, and the status says why its
    flagged ranges are unknown (the contract's sentence), instead of showing none."""
    g = nk["g"]
    newer = nk["tmp"] / "newer dub.wav"
    newer.write_bytes(b"x")
    g["dub"].setValue(str(newer))
    _press(g, "analyze")
    _finish(nk)
    _press(g, "render")
    _finish(nk)
    status = g["status"].getText()
    assert status.startswith("rendered ") and "update the plugin" in status
    assert "no_face" not in status
