import ast
import json
import os
import sys
import textwrap
import time

import pytest

from lipflap import contract as hostclient

FAKE = textwrap.dedent('''
    import json, sys, time
    args = sys.argv[1:]
    if "--fail" in args:
        print("lipflap: error: clip.mov: frame 12 (00:00:00:12) has no video; re-export it.", file=sys.stderr)
        sys.exit(2)
    n = 3 if "--slow" not in args else 1000
    for i in range(n + 1):
        print(json.dumps({"stage": "render", "done": i, "total": n}), flush=True)
        if "--slow" in args:
            time.sleep(0.05)
    print(json.dumps({"message": "2 frames without a face were passed through"}), flush=True)
    print(json.dumps({"result": {"args": args}}), flush=True)
''')


@pytest.fixture()
def engine(tmp_path):
    script = tmp_path / "fake engine.py"
    script.write_text(FAKE)
    return [sys.executable, str(script)]


def test_progress_result_and_messages(engine):
    seen = []
    run = hostclient.EngineRun(["run", "--job", "a b'c\";$(x).json"], engine=engine,
                               on_progress=lambda s, d, t: seen.append((s, d, t)))
    res = run.wait(30)
    assert res.ok and seen[-1] == ("render", 3, 3)
    # arguments reach the engine byte for byte: no shell in between
    assert res.result["args"][:3] == ["run", "--job", "a b'c\";$(x).json"]
    assert res.messages == ["2 frames without a face were passed through"]


def test_error_is_the_engines_sentence(engine):
    res = hostclient.EngineRun(["--fail"], engine=engine).wait(30)
    assert not res.ok and res.error.startswith("clip.mov: frame 12")


def test_cancel(engine):
    run = hostclient.EngineRun(["--slow"], engine=engine)
    time.sleep(0.3)
    run.cancel()
    res = run.wait(30)
    assert not res.ok and res.error == "cancelled"


def test_versions_never_overwrite(tmp_path):
    p1 = hostclient.next_version_path(str(tmp_path), "A001 C003", "es", "mov")
    assert os.path.basename(p1) == "A001_C003_lipflap_es_v001.mov"
    open(p1, "w").close()
    os.mkdir(tmp_path / "A001_C003_lipflap_es_v002")  # an image-sequence render
    p3 = hostclient.next_version_path(str(tmp_path), "A001 C003", "es", "mov")
    assert os.path.basename(p3) == "A001_C003_lipflap_es_v003.mov"
    assert os.path.basename(hostclient.next_version_path(str(tmp_path), "A001 C003", None, "mov")) \
        == "A001_C003_lipflap_und_v001.mov"


def test_engine_lookup_order(tmp_path, monkeypatch):
    """$LIPFLAP_ENGINE (Nuke's init.py block sets it; Resolve's launcher passes the command it was
    installed with), then `lipflap` on PATH; no other file is consulted, so a stale one written
    by something else never starts the wrong engine."""
    import json
    monkeypatch.delenv("LIPFLAP_ENGINE", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "cfg"))
    monkeypatch.setenv("APPDATA", str(tmp_path / "cfg"))
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    cfg = tmp_path / "cfg" / "lipflap"
    cfg.mkdir(parents=True)
    (cfg / "lipflap_engine.json").write_text(json.dumps({"command": [sys.executable, "-m", "lipflap"]}))
    with pytest.raises(RuntimeError, match="lipflap install"):
        hostclient.find_engine()
    (tmp_path / "bin").mkdir()
    exe = tmp_path / "bin" / "lipflap"
    exe.write_text("#!/bin/sh\n")
    exe.chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    assert hostclient.find_engine() == [str(exe)]
    monkeypatch.setenv("LIPFLAP_ENGINE", "/x/lipflap")
    assert hostclient.find_engine() == ["/x/lipflap"]
    monkeypatch.setenv("LIPFLAP_ENGINE", json.dumps([sys.executable, "-m", "lipflap"]))
    assert hostclient.find_engine() == [sys.executable, "-m", "lipflap"]
    assert not hasattr(hostclient, "write_engine_record")


def test_standard_library_only():
    src = open(hostclient.__file__).read()
    mods = set()
    for node in ast.walk(ast.parse(src)):
        if isinstance(node, ast.Import):
            mods |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            mods.add(node.module.split(".")[0])
    assert mods <= set(sys.stdlib_module_names), mods - set(sys.stdlib_module_names)
