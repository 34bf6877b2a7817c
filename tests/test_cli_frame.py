import json
import subprocess
import sys


def run(*args):
    return subprocess.run([sys.executable, "-m", "lipflap", *args], capture_output=True, text=True)


def test_help_lists_only_built_commands():
    import argparse
    import importlib.util
    from lipflap.cli import COMMANDS, build_parser
    r = run("--help")
    assert r.returncode == 0
    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    built = {n for n in COMMANDS if importlib.util.find_spec(f"lipflap.commands.{n}") is not None}
    assert set(sub.choices) == built
    for name in built:
        assert name in r.stdout


def test_no_command_is_usage_error():
    r = run()
    assert r.returncode == 2


def test_progress_json_lines():
    import io
    from lipflap.contract.progress import Progress
    out = io.StringIO()
    p = Progress("json", out=out)
    p.start("decode", 3)
    for _ in range(3):
        p.advance()
    p.result({"ok": True})
    lines = [json.loads(x) for x in out.getvalue().splitlines()]
    assert lines[0] == {"stage": "decode", "done": 0, "total": 3}
    assert lines[-2]["done"] == 3 and lines[-1] == {"result": {"ok": True}}


def test_analyze_output_folder_that_cannot_be_made_is_one_sentence_before_any_work(tmp_path):
    video = tmp_path / "shot.mov"
    video.write_bytes(b"not decoded: the folder is checked first")
    blocker = tmp_path / "a_file"
    blocker.write_text("")
    r = run("analyze", str(video), "-o", str(blocker / "out" / "a.json"), "--progress", "none")
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert "cannot create its folder" in r.stderr and "choose a writable -o path" in r.stderr


def test_install_keeps_the_progress_json_protocol(tmp_path):
    """--progress json: stdout is JSON objects only, the installer's actions in the result."""
    r = run("install", "nuke", "--home", str(tmp_path), "--os", "linux", "--progress", "json")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.strip().splitlines()
    assert all(isinstance(json.loads(line), dict) for line in lines)
    assert json.loads(lines[-1])["result"]["actions"]
