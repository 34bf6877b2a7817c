"""The parts of `lipflap conform --cluster` that need no cluster: path maps, the missing-Ray
error, render names claimed by concurrent conforms, attempts in the job list, the engine never
importing Ray, and the farm example script of docs/conform.md."""
from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from test_conform_fakeengine import engine_cmd
from test_conform_support import make_cut

from lipflap.conform import conform
from lipflap.conform.joblist import load
from lipflap.conform.plan import PlanOptions, plan
from lipflap.conform.ray_runner import PathMap
from lipflap.contract.errors import LipflapError

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_path_map_longest_prefix_and_job_paths():
    pm = PathMap.parse(["/Volumes/SAN=/mnt/san", "/Volumes/SAN/show=/mnt/show"])
    assert pm.remote("/Volumes/SAN/a.mov") == "/mnt/san/a.mov"
    assert pm.remote("/Volumes/SAN/show/b.mov") == "/mnt/show/b.mov"
    assert pm.remote("/Volumes/SANDBOX/c.mov") == "/Volumes/SANDBOX/c.mov"  # a prefix of a name is not a folder
    job = {"video": "/Volumes/SAN/a.mov", "audio": "/Volumes/SAN/d.wav", "report": "/Volumes/SAN/o.json",
           "output": {"path": "/Volumes/SAN/o.mov", "codec": "prores_hq"}}
    out = pm.job(job)
    assert out["video"] == "/mnt/san/a.mov" and out["output"]["path"] == "/mnt/san/o.mov"
    assert job["video"] == "/Volumes/SAN/a.mov"  # the driver's job is untouched
    with pytest.raises(LipflapError, match="give LOCAL=REMOTE"):
        PathMap.parse(["/Volumes/SAN"])


def test_cluster_without_ray_is_one_clear_error(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray -> ImportError
    cut = make_cut(tmp_path, "23.976", transition=False)
    with pytest.raises(LipflapError, match=r"--cluster needs Ray.*pip install 'lipflap\[ray\]'"):
        conform(cut.path, cut.outdir, dub_track=cut.dub_track, cluster="127.0.0.1:6379")
    assert not os.path.exists(cut.outdir)  # refused before anything was written
    with pytest.raises(LipflapError, match="--path-map .* give --cluster"):
        conform(cut.path, cut.outdir, dub_track=cut.dub_track, path_map=["/a=/b"])


def test_two_plans_of_one_cut_never_share_a_render_name(tmp_path):
    from lipflap.conform.cut import probe_media
    cut = make_cut(tmp_path, "23.976", transition=False)
    opts = dict(outdir=cut.outdir, language="es", dub_track=cut.dub_track)
    a, _ = plan(cut.timeline, PlanOptions(**opts), probe_media)
    b, _ = plan(cut.timeline, PlanOptions(**opts), probe_media)
    assert [cj.version for cj in a] == [1] * 4 and [cj.version for cj in b] == [2] * 4
    assert not {cj.render for cj in a} & {cj.render for cj in b}


def test_local_conform_records_attempts_and_drops_claims(tmp_path, monkeypatch):
    monkeypatch.setenv("LIPFLAP_RUN_CMD", engine_cmd())
    cut = make_cut(tmp_path, "23.976", transition=False)
    res = conform(cut.path, cut.outdir, dub_track=cut.dub_track, language="es", n_procs=2)
    jl = load(res.joblist_path)
    assert [len(cj.attempts) for cj in jl.jobs] == [1] * 4
    assert all(a["pid"] > 0 and a["node"] for cj in jl.jobs for a in cj.attempts)
    assert not [n for n in os.listdir(cut.outdir) if n.endswith(".lipflap-claim")]


def test_the_engine_never_imports_ray():
    code = ("import sys, lipflap.cli, lipflap.commands.run, lipflap.commands.conform, "
            "lipflap.conform; assert 'ray' not in sys.modules, 'ray imported'")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    # Only ray_runner names Ray in an import.
    hits = []
    for folder, _, files in os.walk(os.path.join(ROOT, "core")):
        for name in files:
            if name.endswith(".py"):
                text = open(os.path.join(folder, name), encoding="utf-8").read()
                if re.search(r"^\s*(import ray|from ray)", text, re.M):
                    hits.append(name)
    assert hits == ["ray_runner.py"]


def test_farm_array_script(tmp_path, monkeypatch):
    """docs/conform.md's scheduler example runs each job of a job list by its array index."""
    script = os.path.join(ROOT, "docs", "examples", "farm_array.sh")
    assert subprocess.run(["bash", "-n", script]).returncode == 0
    import opentimelineio as otio
    cut = make_cut(tmp_path, "23.976", transition=False)
    jl_path = str(tmp_path / "shots.lipflap")
    # Planned only (the OTIO adapter's writer), as a facility hands a job list to its farm.
    otio.adapters.write_to_file(cut.timeline, jl_path, adapter_name="lipflap",
                                dub_track=cut.dub_track, language="es", outdir=cut.outdir)
    env = dict(os.environ, LIPFLAP_RUN=engine_cmd(), PYTHON=sys.executable)
    # The scheduler starts one task per index; here they run one after another.
    for i in range(4):
        r = subprocess.run(["bash", script, jl_path], env=dict(env, TASK_INDEX=str(i)),
                           capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
    r = subprocess.run(["bash", script, jl_path], env=dict(env, TASK_INDEX="0"),
                       capture_output=True, text=True)
    assert r.returncode == 0 and "exists; nothing to do" in r.stderr
    r = subprocess.run(["bash", script, jl_path], env=dict(env, TASK_INDEX="9"),
                       capture_output=True, text=True)
    assert r.returncode != 0 and "no job 9; it has 4" in r.stderr
    jl = load(jl_path)
    assert [cj.status for cj in jl.jobs] == ["done"] * 4
    # Gathering: conform of the job list renders nothing and writes the timeline and EDL.
    res = conform(jl_path, cut.outdir)
    assert [cj.status for cj in res.jobs] == ["done"] * 4 and os.path.isfile(res.edl_path)


class _NoTracker:
    """Stands in for the Ray actor: run_task only calls `.remote` on its methods."""
    class _M:
        def __init__(self, calls):
            self.calls = calls

        def remote(self, *args):
            self.calls.append(args)

    def __init__(self):
        self.calls = []
        self.started = self._M(self.calls)
        self.progress = self._M([])


def test_task_on_a_node_that_cannot_see_a_path(tmp_path):
    from lipflap.conform.ray_runner import run_task
    (tmp_path / "jobs").mkdir()
    (tmp_path / "logs").mkdir()
    pm = PathMap.parse([f"{tmp_path}=/mnt/nowhere"])
    job = pm.job({"video": str(tmp_path / "a.mov"), "audio": str(tmp_path / "d.wav"),
                  "output": {"path": str(tmp_path / "o.mov")}})
    tracker = _NoTracker()
    rc, err, node, _ = run_task("k", job, str(tmp_path / "jobs" / "k.json"),
                             str(tmp_path / "logs" / "k.log"), ["false"], tracker)
    assert rc == 3 and err.startswith(f"node {node} cannot see the video /mnt/nowhere/a.mov;")
    assert "--path-map" in err and len(tracker.calls) == 1


def test_task_runs_the_engine_and_leaves_no_node_job(tmp_path):
    """The task body as a node runs it (no Ray): the engine through the parent-death launcher."""
    from lipflap.conform.cut import probe_media
    from lipflap.conform.ray_runner import run_task
    cut = make_cut(tmp_path, "23.976", transition=False)
    jobs, _ = plan(cut.timeline, PlanOptions(outdir=cut.outdir, language="es",
                                             dub_track=cut.dub_track), probe_media)
    cj = jobs[0]
    os.makedirs(os.path.join(cut.outdir, "jobs"))
    os.makedirs(os.path.join(cut.outdir, "logs"))
    job_path = os.path.join(cut.outdir, "jobs", cj.key + ".json")
    # An engine that says something first: its messages come back with the result.
    cmd = ["sh", "-c", 'echo \'{"message": "no face in frames 0-2"}\'; exec "$@"', "_",
           *engine_cmd().split()]
    rc, err, node, said = run_task(cj.key, cj.job, job_path, os.path.join(cut.outdir, "logs", "k.log"),
                                   cmd, _NoTracker())
    assert rc == 0, err
    assert said == ["no face in frames 0-2"]
    assert os.path.isfile(cj.render) and os.listdir(os.path.join(cut.outdir, "jobs")) == []
