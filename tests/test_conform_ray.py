"""`lipflap conform --cluster` on a real local Ray cluster, with the fake engine.

The cluster is started by the test on 127.0.0.1 inside a fresh network namespace with only
loopback up (and its own PID namespace, so every Ray process ends with it and no other Ray on
the machine is touched): `ray start --head` otherwise binds to the machine's interface address
(DESIGN.md section 8). The scenario runs inside the namespace as this file's `__main__`; the test
reads the result it writes. It checks, on the shared 4-clip cut (tests/test_conform_support.py):

1. a conform through Ray gives the same job files, names, versions, EDL and timeline as a local
   conform, and frame-identical renders (hashes of the decoded frames); with a path map the
   nodes get their paths and the job files keep the driver's; a node that cannot see a mapped
   path fails every clip with a sentence naming the path and the node;
2. the Ray worker running one job is killed (SIGKILL) mid-job: the task is retried, every render
   lands, and the job list records two attempts for that clip;
3. Ctrl-C (SIGINT) during a conform: rc 130, finished renders kept, no engine left running, and
   a second conform of the job list renders only what is missing.

Skips when Ray is not installed or namespaces cannot be made (not root, no unshare).
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
PORT = 6391


def _can_unshare() -> str | None:
    if not shutil.which("unshare") or not shutil.which("ip"):
        return "unshare or ip is not installed"
    r = subprocess.run(["unshare", "-n", "-p", "-f", "--mount-proc", "sh", "-c", "ip link set lo up"],
                       capture_output=True, text=True)
    if r.returncode != 0:
        return f"cannot make a network namespace here ({r.stderr.strip()[:120]}); needs root"
    return None


def test_conform_on_a_local_ray_cluster(tmp_path):
    pytest.importorskip("ray", reason="ray is not installed (pip install 'lipflap[ray]')")
    why = _can_unshare()
    if why:
        pytest.skip(why)
    result = tmp_path / "result.json"
    env = dict(os.environ, RAY_USAGE_STATS_ENABLED="0", PYTHONPATH=HERE)
    r = subprocess.run(["unshare", "-n", "-p", "-f", "--mount-proc", "sh", "-c",
                        'ip link set lo up && exec "$0" "$1" scenario "$2"',
                        sys.executable, os.path.abspath(__file__), str(tmp_path)],
                       capture_output=True, text=True, env=env, timeout=600)
    print(r.stderr[-6000:])
    assert r.returncode == 0 and result.exists(), (r.stdout[-3000:], r.stderr[-3000:])
    res = json.loads(result.read_text())
    # Everything stayed on loopback.
    assert res["node_ip"] == "127.0.0.1" and res["interfaces"] == ["lo"]
    # 1. same as local
    assert res["local_status"] == ["done"] * 4 and res["ray_status"] == ["done"] * 4
    assert res["ray_keys"] == res["local_keys"]
    assert res["ray_jobs"] == res["local_jobs"]          # job files, outdir made relative
    assert res["ray_edl"] == res["local_edl"]
    assert res["ray_frames"] == res["local_frames"] and len(res["local_frames"]) == 4
    # path maps: the driver's job files keep its own paths; a blind node is named
    assert res["mapped_status"] == ["done"] * 4
    assert res["mapped_jobs"] == res["local_jobs"]
    assert all("node " in ln for ln in res["mapped_logs"])
    assert all(e and "cannot see the video /nowhere/cut/" in e and "127.0.0.1" in e
               and "--path-map" in e for e in res["blind_errors"]), res["blind_errors"]
    # 2. a killed worker
    assert res["kill_rc"] == 0, res["kill_err"]
    assert res["kill_status"] == ["done"] * 4 and res["kill_stdout_other"] == []
    assert res["killed_attempts"] == 2 and res["killed_pid"] in res["killed_attempt_pids"]
    assert res["kill_frames"] == res["local_frames"]
    # 3. Ctrl-C and resume
    assert res["int_rc"] == 130 and "interrupted: the" in res["int_out"], res["int_out"]
    assert 1 <= res["int_done"] < 4
    assert res["engines_left"] == 0
    assert res["resume_status"] == ["done"] * 4 and res["resume_untouched"]


# ---------------------------------------------------------------- inside the namespace

def _frames_hash(path: str) -> str:
    import av
    h = hashlib.sha256()
    with av.open(path) as c:
        for f in c.decode(video=0):
            h.update(f.to_ndarray(format="rgb24").tobytes())
    return h.hexdigest()


def _jobs_relative(outdir: str) -> dict:
    out = {}
    for name in sorted(os.listdir(os.path.join(outdir, "jobs"))):
        if name.startswith("."):
            continue
        text = open(os.path.join(outdir, "jobs", name)).read()
        out[name] = json.loads(text.replace(os.path.abspath(outdir), "OUT"))
    return out


def _edl_relative(outdir: str) -> str:
    return open(os.path.join(outdir, "cut_lipflap_es.edl")).read().replace(
        os.path.abspath(outdir), "OUT")


def _is_json(line: str) -> bool:
    try:
        json.loads(line)
    except ValueError:
        return False
    return True


def _engines_running() -> int:
    n = 0
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                cmd = open(f"/proc/{pid}/cmdline", "rb").read()
            except OSError:
                continue
            if b"test_conform_fakeengine.py" in cmd:
                n += 1
    return n


def _wait_for(pred, timeout: float) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(0.1)
    return False


def scenario(root: str) -> None:
    from test_conform_fakeengine import engine_cmd
    from test_conform_support import make_cut

    from lipflap.conform import conform
    from lipflap.conform.joblist import load

    # /sys still shows the machine's interfaces (it is not remounted); ask the namespace itself.
    links = subprocess.run(["ip", "-o", "link", "show"], capture_output=True, text=True).stdout
    res: dict = {"interfaces": sorted(ln.split(":")[1].strip() for ln in links.splitlines())}
    t0 = time.monotonic()

    def lap(what):
        print(f"[{time.monotonic() - t0:6.1f}s] {what}", file=sys.stderr, flush=True)
    ray_bin = os.path.join(os.path.dirname(sys.executable), "ray")
    temp = f"/tmp/lfr{os.getpid()}_{os.getppid()}"  # short: Ray's socket paths have a length limit
    os.environ["LIPFLAP_RUN_CMD"] = engine_cmd()
    subprocess.run([ray_bin, "start", "--head", "--node-ip-address=127.0.0.1", f"--port={PORT}",
                    "--num-cpus=3", "--include-dashboard=false", "--disable-usage-stats",
                    f"--temp-dir={temp}"], check=True, capture_output=True)
    address = f"127.0.0.1:{PORT}"
    import ray
    ray.init(address=address, log_to_driver=False)
    res["node_ip"] = ray.nodes()[0]["NodeManagerAddress"]
    ray.shutdown()

    lap("cluster up")
    cut = make_cut(os.path.join(root, "cut"), "23.976", transition=True)
    # 1. local vs Ray
    local = conform(cut.path, os.path.join(root, "local"), dub_track=cut.dub_track, language="es",
                    n_procs=2)
    on_ray = conform(cut.path, os.path.join(root, "ray"), dub_track=cut.dub_track, language="es",
                     cluster=address)
    lap("local and Ray conforms")
    res["local_status"] = [cj.status for cj in local.jobs]
    res["ray_status"] = [cj.status for cj in on_ray.jobs]
    res["local_keys"] = [cj.key for cj in local.jobs]
    res["ray_keys"] = [cj.key for cj in on_ray.jobs]
    res["local_jobs"] = _jobs_relative(os.path.join(root, "local"))
    res["ray_jobs"] = _jobs_relative(os.path.join(root, "ray"))
    res["local_edl"] = _edl_relative(os.path.join(root, "local"))
    res["ray_edl"] = _edl_relative(os.path.join(root, "ray"))
    res["local_frames"] = [_frames_hash(cj.render) for cj in local.jobs]
    res["ray_frames"] = [_frames_hash(cj.render) for cj in on_ray.jobs]

    # 1b. path maps: the nodes see the storage under another name (a symlink here); then a map
    # to a folder no node has: every clip fails, naming the path and the node.
    alias = os.path.join(root, "alias")
    os.symlink(root, alias)
    mapped = conform(cut.path, os.path.join(root, "mapped"), dub_track=cut.dub_track,
                     language="es", cluster=address, path_map=[f"{root}={alias}"])
    res["mapped_status"] = [cj.status for cj in mapped.jobs]
    res["mapped_jobs"] = _jobs_relative(os.path.join(root, "mapped"))
    res["mapped_logs"] = [open(os.path.join(root, "mapped", "logs", cj.key + ".log")).readline()
                          for cj in mapped.jobs]
    blind = conform(cut.path, os.path.join(root, "blind"), dub_track=cut.dub_track,
                    language="es", cluster=address, path_map=[f"{root}=/nowhere"])
    res["blind_errors"] = [cj.error for cj in blind.jobs]
    lap("path maps")

    # 2. kill the worker running B001's job once it has rendered a few frames
    out = os.path.join(root, "kill")
    # Tasks run in the nodes' environment, not the driver's: the delay travels in the command.
    env = dict(os.environ, LIPFLAP_RUN_CMD=f"env FAKE_ENGINE_DELAY=0.1 {engine_cmd()}")
    p = subprocess.Popen([sys.executable, "-m", "lipflap", "conform", cut.path, "-o", out,
                          "--dub-track", cut.dub_track, "--language", "es", "--cluster", address,
                          "--progress", "json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True, env=env)
    log = os.path.join(out, "logs", "B001_C007_lipflap_es_v001.log")

    partial = os.path.join(out, "B001_C007_lipflap_es_v001.mov.partial.mov")

    def worker_pid():
        # Mid-job: the engine has its output open (the fake engine's temporary) and the log's
        # first line names the worker.
        try:
            first = open(log).readline()
        except OSError:
            return None
        if not os.path.exists(partial) or "worker pid" not in first:
            return None
        return int(first.rsplit(" ", 1)[1])
    _wait_for(lambda: worker_pid() is not None, 120)
    time.sleep(0.3)
    res["killed_pid"] = pid = worker_pid()
    os.kill(pid, signal.SIGKILL)
    o, e = p.communicate(timeout=240)
    res["kill_rc"], res["kill_err"] = p.returncode, e[-2000:] + o[-2000:]
    # --progress json: stdout holds protocol lines only (no Ray or worker output mixed in).
    res["kill_stdout_other"] = [ln for ln in o.splitlines() if ln.strip() and not _is_json(ln)]
    jl = load(os.path.join(out, "cut_lipflap_es.lipflap"))
    res["kill_status"] = [cj.status for cj in jl.jobs]
    killed = [cj for cj in jl.jobs if cj.key.startswith("B001")][0]
    res["killed_attempts"] = len(killed.attempts)
    res["killed_attempt_pids"] = [a["pid"] for a in killed.attempts]
    res["kill_frames"] = [_frames_hash(cj.render) if os.path.exists(cj.render) else None
                          for cj in jl.jobs]

    lap("killed-worker conform")
    # 3. Ctrl-C once one or two renders have landed, then resume
    out = os.path.join(root, "int")
    p = subprocess.Popen([sys.executable, "-m", "lipflap", "conform", cut.path, "-o", out,
                          "--dub-track", cut.dub_track, "--language", "es", "--cluster", address,
                          "--progress", "json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True, env=dict(os.environ, LIPFLAP_RUN_CMD=f"env FAKE_ENGINE_DELAY=0.15 {engine_cmd()}"))

    def renders():
        try:
            return [n for n in os.listdir(out) if n.endswith("_v001.mov")]
        except OSError:
            return []
    _wait_for(lambda: len(renders()) >= 1, 120)
    time.sleep(0.5)
    p.send_signal(signal.SIGINT)
    o, e = p.communicate(timeout=60)
    res["int_rc"], res["int_out"] = p.returncode, o[-3000:] + e[-2000:]
    done = sorted(os.path.join(out, n) for n in renders())
    res["int_done"] = len(done)
    _wait_for(lambda: _engines_running() == 0, 10)
    res["engines_left"] = _engines_running()
    mtimes = [os.path.getmtime(d) for d in done]
    resumed = conform(os.path.join(out, "cut_lipflap_es.lipflap"), out, cluster=address)
    res["resume_status"] = [cj.status for cj in resumed.jobs]
    res["resume_untouched"] = [os.path.getmtime(d) for d in done] == mtimes
    lap("interrupt and resume")
    with open(os.path.join(root, "result.json"), "w") as f:
        json.dump(res, f)


if __name__ == "__main__" and len(sys.argv) == 3 and sys.argv[1] == "scenario":
    sys.path.insert(0, HERE)
    scenario(sys.argv[2])
