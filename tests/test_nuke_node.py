"""The Nuke node against the stub `nuke` module, driving a contract-faithful engine."""
import importlib
import json
import os
import sys
import textwrap
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
        open(out, "wb").write(b"render")
        rep = args[args.index("--report") + 1]
        s = int(args[args.index("--start") + 1])
        json.dump({"flagged_ranges": [{"start": s + 3, "end": s + 4, "reason": "no_face"}]}, open(rep, "w"))
    print(json.dumps({"result": {}}), flush=True)
''')


@pytest.fixture()
def nk(tmp_path, monkeypatch):
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
    stub.root()["fps"].setValue(24.0)
    node_mod = importlib.import_module("lipflap_nuke_node")
    read = stub.nodes.Read(file=str(plate), first=1001, last=1048)
    g = node_mod.create()
    g.setInput(0, read)
    g["range_first"].setValue(1001)
    g["range_last"].setValue(1048)
    g["dub"].setValue(str(dub))
    g["cache_dir"].setValue(str(tmp_path / "cache"))
    return {"stub": stub, "node": node_mod, "g": g, "log": log, "plate": str(plate), "tmp": tmp_path}


def _finish(stub, thread):
    assert thread is not None
    thread.join(60)
    assert not thread.is_alive()
    stub.pump_main_thread()


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


def test_analyze_fills_curves_and_render_uses_edited_curves(nk):
    stub, g, node = nk["stub"], nk["g"], nk["node"]
    g["audio_offset"].setValue(12)
    g["language"].setValue("es")
    g["script_text"].setValue("hola mundo")
    t = node.analyze(g)
    _finish(stub, t)
    calls = json.load(open(nk["log"]))
    assert calls[0][:2] == ["analyze", nk["plate"]] and calls[0][calls[0].index("--start") + 1] == "0"
    v = calls[1]
    assert v[0] == "visemes" and v[v.index("--audio-offset") + 1] == repr(0.5)
    assert v[v.index("--text") + 1] == "hola mundo" and v[v.index("--language") + 1] == "es"
    keys = g["aperture"].animation(0).keys()
    assert len(keys) == 48 and keys[0].x == 1001 and keys[7].y == pytest.approx(0.7)
    # the artist closes the mouth on frame 1010 and renders
    g["aperture"].setValueAt(0.0, 1010)
    g["output"].setValue("patch over plate")
    t = node.render(g)
    _finish(stub, t)
    run = json.load(open(nk["log"]))[2]
    assert run[0] == "run" and run[run.index("--mode") + 1] == "patch"
    assert (run[run.index("--start") + 1], run[run.index("--end") + 1]) == ("0", "47")
    shapes = json.load(open(run[run.index("--shapes") + 1]))
    assert shapes["frames"][9]["aperture"] == 0.0 and shapes["frames"][8]["aperture"] == pytest.approx(0.8)
    read = g.node("lipflap_render")
    assert read["file"].value().endswith("plate_shot_lipflap_es_v001.mov")
    assert (read["first"].value(), read["last"].value(), read["frame"].value()) == (1, 48, "1001")
    assert g.node("result")["which"].value() == node.PATCH
    assert "1004-1005 no_face" in g["status"].value()


def test_engine_error_reaches_the_artist_without_blocking(nk):
    stub, g, node = nk["stub"], nk["g"], nk["node"]
    bad = nk["tmp"] / "fail.wav"
    bad.write_bytes(b"x")
    g["dub"].setValue(str(bad))
    t0 = time.monotonic()
    t = node.analyze(g)
    assert time.monotonic() - t0 < 2.0  # the UI call returns at once; the engine runs behind it
    _finish(stub, t)
    assert any("no audio stream" in m for m in stub.messages)
    assert g["status"].value().startswith("error:")


def test_missing_dub_and_render_before_analyze(nk):
    stub, g, node = nk["stub"], nk["g"], nk["node"]
    assert node.render(g) is None and "Analyze first" in stub.messages[-1]
    g["dub"].setValue("")
    assert node.analyze(g) is None and "dub audio" in stub.messages[-1]


def test_other_upstream_graph_is_rendered_to_a_plate_first(nk):
    stub, g, node = nk["stub"], nk["g"], nk["node"]
    grade = stub.nodes.Grade()
    grade.setInput(0, g.input(0))
    g.setInput(0, grade)
    rendered = []

    def hook(write, first, last):
        rendered.append((write["file"].value(), first, last, write["mov64_codec"].value()))
        open(write["file"].value(), "wb").write(b"mov")
    stub.render_hook = hook
    try:
        _finish(stub, node.analyze(g))
    finally:
        stub.render_hook = None
    assert rendered and rendered[0][1:] == (1001, 1048, "ap4h")
    call = json.load(open(nk["log"]))[0]
    assert call[1] == rendered[0][0] and call[call.index("--start") + 1] == "0"


def test_installer_block(tmp_path):
    from lipflap.install_nuke import BEGIN, install
    home = tmp_path / "home"
    (home / ".nuke").mkdir(parents=True)
    (home / ".nuke" / "init.py").write_text("import nuke\nnuke.pluginAddPath('./gizmos')\n")
    install(str(home), "linux", ["/opt/lipflap/bin/lipflap"])
    install(str(home), "linux", ["/opt/lipflap/bin/lipflap"])  # idempotent
    text = (home / ".nuke" / "init.py").read_text()
    assert text.count(BEGIN) == 1 and "nuke.pluginAddPath('./gizmos')" in text
    assert "LIPFLAP_ENGINE', '/opt/lipflap/bin/lipflap'" in text and NUKE_DIR in text
    compile(text, "init.py", "exec")
    install(str(home), "linux", [], uninstall=True)
    assert (home / ".nuke" / "init.py").read_text() == "import nuke\nnuke.pluginAddPath('./gizmos')\n"
