"""Faults: a `lipflap run` killed at any stage leaves no file that looks finished and a re-run
resumes from the analysis cache; a corrupt cache entry is detected and rebuilt. Rows of
docs/reliability.md ("Faults"); conform's per-clip crash and interrupt rows are
tests/test_conform_cut.py::test_engine_crash_keeps_the_other_renders and
::test_interrupt_keeps_finished_renders_and_resumes.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import pytest

from test_hardening_support import TEXT, face_frames, sha, speech_frames, write_dub, write_video


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    d = tmp_path_factory.mktemp("hard_faults")
    n = 2 * speech_frames()  # a render long enough to be caught in the middle
    return {"dir": d, "n": n, "dub": write_dub(d / "dub.wav", 48000, 2),
            "face": write_video(d / "face.mp4", face_frames(n))}


def _start(env, out, cache):
    cmd = [sys.executable, "-m", "lipflap", "run", env["face"], "--audio", env["dub"], "--text",
           TEXT, "--language", "en", "-o", str(out), "--report", str(out) + ".json",
           "--progress", "json"]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "LIPFLAP_CACHE": str(cache)})


def _run_until(env, out, cache, stage, sig, min_done=0):
    """Start a run and send `sig` once progress reports `stage` with done >= min_done (and not
    yet finished); returns (exit code, stages seen)."""
    p = _start(env, out, cache)
    seen = []
    for line in p.stdout:
        try:
            ev = json.loads(line)
        except ValueError:
            continue
        if "stage" not in ev:
            continue
        seen.append(ev["stage"])
        if ev["stage"] == stage and ev.get("done", 0) >= min_done and \
                ev.get("done", 0) < ev.get("total", 1):
            p.send_signal(sig)
            break
    p.stdout.read()
    p.wait(timeout=120)
    return p.returncode, seen


def _finished_looking(folder):
    """Files a user or host could take for a result: anything not a hidden lipflap temporary."""
    return sorted(f for f in os.listdir(folder) if not (f.startswith(".") and "lipflap-tmp" in f))


def _analysis_decoded(stdout: str) -> bool:
    """Whether decode pass 1 ran: a cache hit reports the analyze stage only as 0 and done."""
    evs = [json.loads(x) for x in stdout.splitlines() if x.startswith("{")]
    return any(ev.get("stage") == "analyze" and 0 < ev["done"] < ev["total"] for ev in evs)


def _entries(cache):
    face = cache / "face"
    return sorted(face.glob("*.npz")) if face.is_dir() else []


@pytest.mark.parametrize("stage,min_done", [("analyze", 5), ("align", 0), ("library", 0),
                                            ("render", 5)])
def test_run_killed_at_a_stage_leaves_nothing_finished(env, tmp_path, stage, min_done):
    out = tmp_path / "out"
    out.mkdir()
    code, seen = _run_until(env, out / "o.mov", tmp_path / "cache", stage, signal.SIGKILL, min_done)
    assert code == -signal.SIGKILL, f"never reached {stage}: {seen}"
    assert _finished_looking(out) == []
    # The analysis is cached as soon as it is complete, never before.
    assert len(_entries(tmp_path / "cache")) == (0 if stage == "analyze" else 1)


def test_rerun_after_a_kill_resumes_from_the_analysis_cache(env, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    cache = tmp_path / "cache"
    code, _ = _run_until(env, out / "o.mov", cache, "render", signal.SIGKILL, 5)
    assert code == -signal.SIGKILL
    (entry,) = _entries(cache)
    stamp, digest = entry.stat().st_mtime_ns, sha(entry)
    p = _start(env, out / "o.mov", cache)
    stdout, stderr = p.communicate(timeout=600)
    assert p.returncode == 0, stderr
    assert not _analysis_decoded(stdout)  # no decode pass 1: the cached analysis was used
    assert entry.stat().st_mtime_ns == stamp and sha(entry) == digest
    assert _finished_looking(out) == ["o.mov", "o.mov.json"]


def test_ctrl_c_during_render_cleans_up(env, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    code, _ = _run_until(env, out / "o.mov", tmp_path / "cache", "render", signal.SIGINT, 5)
    assert code == 130
    assert os.listdir(out) == []  # not even a temporary


def test_corrupt_cache_entry_is_detected_and_rebuilt(env, tmp_path, monkeypatch):
    out = tmp_path / "out"
    out.mkdir()
    cache = tmp_path / "cache"
    p = _start(env, out / "a.mov", cache)
    assert p.wait(timeout=600) == 0, p.stderr.read()
    (entry,) = _entries(cache)
    from lipflap.face import cache as cache_mod
    good = cache_mod.entry_key(entry)
    assert good is not None
    for k, damage in enumerate((lambda b: b[:len(b) // 2],           # cut short
                                lambda b: b[:100] + bytes(x ^ 0xFF for x in b[100:140]) + b[140:],
                                # inside the landmark arrays: only the members' CRCs see this
                                lambda b: b[:len(b) // 2] + bytes(x ^ 0x01 for x in b[len(b) // 2:len(b) // 2 + 4]) + b[len(b) // 2 + 4:])):
        entry.write_bytes(damage(entry.read_bytes()))
        p = _start(env, out / f"b{k}.mov", cache)
        stdout, stderr = p.communicate(timeout=600)
        assert p.returncode == 0, stderr
        assert _analysis_decoded(stdout)  # not trusted: analysed again
        assert cache_mod.entry_key(entry) == good
    # A valid entry whose key does not match its name is not trusted either.
    other = entry.with_name("0" * 64 + ".npz")
    other.write_bytes(entry.read_bytes())
    monkeypatch.setenv("LIPFLAP_CACHE", str(cache))
    assert cache_mod.load("0" * 64, env["face"]) is None and not other.exists()
