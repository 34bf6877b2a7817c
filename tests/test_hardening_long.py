"""Long and many, scaled for CI (docs/reliability.md, "Long and many").

The full measurements (10 s vs 10 min of 1080p, 50 shots through the real engine) are
bench/bench_memory.py; here the same code runs small: peak memory of `lipflap run` must not grow
with the clip's length (2 s vs 12 s: 250 more frames, which would add 75 MB if frames were held),
and a 50-shot conform with --jobs 2 must keep at most two engines alive, not grow with the
number of shots, and write a correct EDL.
"""
from __future__ import annotations

import os
import sys

import pytest

BENCH = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "bench")
sys.path.insert(0, BENCH)

import bench_memory as bm  # noqa: E402


def _run_peak(work, label, seconds, size=(320, 320), fps=25):
    n = int(seconds * fps)
    shot, dub, track = (os.path.join(work, f"{label}{ext}") for ext in (".mp4", ".wav", ".json"))
    bm.make_shot(shot, n, *size, fps)
    bm.make_dub(dub, seconds)
    bm.make_track(track, n, fps)
    out = os.path.join(work, f"{label}_out.mov")
    env = {**os.environ, "LIPFLAP_CACHE": os.path.join(work, f"cache_{label}"), "OMP_NUM_THREADS": "1"}
    # Unsigned: an embedded credential makes the C2PA SDK hold the finished file (~2.4x its size
    # at its peak: 274 -> 376 MiB from 6 to 42 MB of output, 239 -> 272 unsigned; 2026-12-06),
    # which grows with the file up to EMBED_MAX_BYTES, where the sidecar takes over
    # (lipflap.provenance.sign; measured by bench/bench_memory.py). What this checks is that no
    # stage holds frames.
    r = bm.measure_one([sys.executable, "-m", "lipflap", "run", shot, "--audio", dub, "--shapes",
                        track, "-o", out, "--progress", "none", "--no-credentials"], env)
    assert r["rc"] == 0, r["stderr_tail"]
    return r


def test_run_peak_memory_is_flat_in_clip_length(tmp_path):
    short = _run_peak(str(tmp_path), "short", 2)
    long_ = _run_peak(str(tmp_path), "long", 12)
    grow = long_["peak_rss_mib"] - short["peak_rss_mib"]
    assert long_["peak_rss_mib"] <= 1.3 * short["peak_rss_mib"], (short, long_)
    assert grow < 48, f"peak grew {grow:.0f} MiB for 250 more frames: {short} {long_}"


@pytest.fixture
def fake_engine_env(monkeypatch):
    from test_conform_fakeengine import engine_cmd
    env = {**os.environ, "LIPFLAP_RUN_CMD": engine_cmd(), "OMP_NUM_THREADS": "1"}
    for k in ("FAKE_ENGINE_FAIL", "FAKE_ENGINE_CRASH"):
        env.pop(k, None)
    return env


def _conform(work, shots, env):
    os.makedirs(work)
    cut, dub, transcripts, expected = bm.make_conform_cut(work, shots, 64, 48)
    out = os.path.join(work, "out")
    r = bm.measure([sys.executable, "-m", "lipflap", "conform", cut, "-o", out, "--dub-audio", dub,
                    "--language", "en", "--transcripts", transcripts, "--jobs", "2",
                    "--progress", "none"], {**env, "LIPFLAP_CACHE": os.path.join(work, "cache")},
                   tree=True)
    assert r["rc"] == 0, r["stderr_tail"]
    edl = [f for f in os.listdir(out) if f.endswith(".edl")]
    assert len(edl) == 1
    assert bm.check_edl(os.path.join(out, edl[0]), expected) == []
    assert len([f for f in os.listdir(out) if f.endswith(".mov")]) == shots
    return r


def test_conform_of_50_shots_with_two_jobs(tmp_path, fake_engine_env):
    few = _conform(str(tmp_path / "few"), 4, fake_engine_env)
    many = _conform(str(tmp_path / "many"), 50, fake_engine_env)
    # Never more than two engines at a time, and nothing grows with the number of shots
    # beyond conform's own bookkeeping (the timeline and one job per shot, well under 1 MiB a
    # shot). (A child's peak is not compared: a just-forked child briefly counts conform's pages.)
    assert 1 <= many["most_children_alive"] <= 2, many
    assert many["peak_root_mib"] - few["peak_root_mib"] < 46 * 1.0, (few, many)
    assert many["peak_tree_mib"] - few["peak_tree_mib"] < 46 * 1.0 + 32, (few, many)
