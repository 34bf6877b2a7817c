"""Conform's jobs as Ray tasks on an existing Ray cluster (`lipflap conform --cluster ADDRESS`).

The only module of lipflap that imports Ray, and only when a conform asks for a cluster: the
engine never does. Each clip's job is one task that runs `lipflap run --job` on whichever node
Ray picks, through the same contract client as a local conform (runner.py), so the job files,
render names, reports, timeline and EDL are the same; only where the process runs differs.

- Storage: media and outputs live on storage every node sees. `--path-map LOCAL=REMOTE` turns
  this machine's paths into the nodes' where they mount it elsewhere; a node that cannot see a
  file fails that clip with one sentence naming the path and the node.
- Faults: a task whose worker process (or node) dies is retried by Ray, `retries` times at most;
  the engine is started so that it dies with its worker (Linux parent-death signal), so a retry
  never races a leftover engine for the same render. Each attempt is recorded (node, pid) in the
  job list. The engine writes to hidden temporaries that its next write removes.
- Progress: tasks report frames done to one small actor; the driver polls it and feeds the one
  progress bar. Ctrl-C cancels the running tasks (force: their workers and engines are killed);
  finished renders stay, and a second conform of the job list resumes.
"""
from __future__ import annotations

import contextlib
import json
import os
import socket
import sys
import threading
import time
from dataclasses import dataclass, field

from ..contract.errors import LipflapError
from ..contract.files import atomic_json
from ..contract.progress import Progress
from .runner import RUN_CMD_ENV, _finish, _Live

RAY_EXTRA = "pip install 'lipflap[ray]'"
# How often a task may report progress; the driver polls at the same pace.
REPORT_EVERY_S = 0.25


def import_ray():
    """Ray, or one clear error saying what to install."""
    try:
        import ray  # noqa: PLC0415 - optional: only --cluster needs it
    except ImportError:
        raise LipflapError(f"--cluster needs Ray, which is not installed here; install it with "
                           f"`{RAY_EXTRA}` on this machine and on every node of the cluster, or "
                           f"conform without --cluster.") from None
    return ray


# ---------------------------------------------------------------- path maps

@dataclass
class PathMap:
    """LOCAL=REMOTE prefixes: this machine's path -> the nodes' path of the same file."""
    pairs: list[tuple[str, str]] = field(default_factory=list)

    @classmethod
    def parse(cls, items: list[str] | None) -> "PathMap":
        pairs = []
        for item in items or []:
            local, sep, remote = item.partition("=")
            if not sep or not local or not remote:
                raise LipflapError(f"--path-map {item!r}: give LOCAL=REMOTE, e.g. "
                                   f"--path-map /Volumes/SAN=/mnt/san.")
            pairs.append((os.path.normpath(local), os.path.normpath(remote)))
        # The longest prefix wins (/mnt/san/show before /mnt/san).
        pairs.sort(key=lambda p: len(p[0]), reverse=True)
        return cls(pairs)

    def remote(self, path: str) -> str:
        p = os.path.normpath(path)
        for local, remote in self.pairs:
            if p == local or p.startswith(local.rstrip(os.sep) + os.sep):
                return remote + p[len(local):]
        return path

    def job(self, job: dict) -> dict:
        """A job with every path in it as the nodes see it."""
        out = json.loads(json.dumps(job))
        for key in ("video", "audio", "report"):
            if out.get(key):
                out[key] = self.remote(out[key])
        if out.get("output", {}).get("path"):
            out["output"]["path"] = self.remote(out["output"]["path"])
        if out.get("library"):
            out["library"] = [self.remote(p) for p in out["library"]]
        return out


# ---------------------------------------------------------------- on the node

class _Tracker:
    """One actor per conform: tasks report attempts and progress, the driver reads both."""

    def __init__(self):
        self.done: dict[str, float] = {}
        self.attempts: dict[str, list[dict]] = {}

    def started(self, key: str, node: str, pid: int) -> None:
        self.attempts.setdefault(key, []).append({"node": node, "pid": pid, "at": time.time()})
        self.done[key] = 0.0

    def progress(self, key: str, fraction: float) -> None:
        self.done[key] = max(self.done.get(key, 0.0), fraction)

    def snapshot(self) -> tuple[dict, dict]:
        return self.done, self.attempts


def _node_name() -> str:
    try:
        import ray  # noqa: PLC0415 - this runs inside a Ray worker
        ip = ray.util.get_node_ip_address()
    except Exception:  # noqa: BLE001 - a name without the address still names the node
        ip = "?"
    return f"{socket.gethostname()} ({ip})"


def _die_with_parent_cmd(cmd: list[str]) -> list[str]:
    """The engine command wrapped so the engine is killed when its Ray worker dies (Linux
    PR_SET_PDEATHSIG survives exec); elsewhere the command as it is."""
    if not sys.platform.startswith("linux"):
        return cmd
    launcher = ("import ctypes,os,signal,sys;"
                "ctypes.CDLL(None,use_errno=True).prctl(1,signal.SIGKILL);"
                "os.getppid()==1 and os._exit(137);"
                "os.execvp(sys.argv[1],sys.argv[1:])")
    return [sys.executable, "-c", launcher, *cmd]


def run_task(key: str, job: dict, job_path: str, log_path: str, cmd: list[str] | None,
             tracker) -> tuple[int, str, str, list[str]]:
    """One clip's job on a node: (exit code, error line, node name, the engine's messages).
    Runs inside Ray."""
    from ..contract.client import EngineRun  # noqa: PLC0415
    from .runner import run_command  # noqa: PLC0415
    node = _node_name()
    tracker.started.remote(key, node, os.getpid())
    needed = [("video", job.get("video")), ("dub audio", job.get("audio")),
              ("render folder", os.path.dirname(job["output"]["path"])),
              ("log folder", os.path.dirname(log_path)), ("job folder", os.path.dirname(job_path))]
    for label, path in needed:
        if path and not os.path.exists(path):
            return 3, (f"node {node} cannot see the {label} {path}; mount the shared storage there "
                       f"at that path, or map it with --path-map LOCAL=REMOTE."), node, []
    # The job as this node sees it; the driver's job file (this machine's paths) stays as a
    # local conform writes it, so the translated copy is a hidden file removed afterwards.
    folder, name = os.path.split(job_path)
    node_job = os.path.join(folder, f".{name}.{socket.gethostname()}.{os.getpid()}.json")
    atomic_json(node_job, job)
    engine = _die_with_parent_cmd(list(cmd) if cmd else run_command())
    last = [0.0]
    messages: list[str] = []

    def on_progress(stage: str, done: int, total: int) -> None:
        now = time.monotonic()
        if total > 0 and now - last[0] >= REPORT_EVERY_S:
            last[0] = now
            tracker.progress.remote(key, min(max(done / total, 0.0), 1.0) * 0.99)

    try:
        with open(log_path, "w", encoding="utf-8") as log:
            log.write(f"[lipflap] node {node}, worker pid {os.getpid()}\n")
            log.flush()
            try:
                run = EngineRun(["--job", node_job], engine=engine, on_progress=on_progress,
                                on_message=messages.append, log=log)
            except OSError as e:
                return 127, (f"cannot start the engine {engine[-1]!r} on node {node} "
                             f"({e.strerror}); check {RUN_CMD_ENV} there."), node, []
            res = run.wait()
    finally:
        try:
            os.remove(node_job)
        except OSError:
            pass
    return res.returncode, res.error, node, messages


# ---------------------------------------------------------------- on the driver

def connect(address: str):
    ray = import_ray()
    if ray.is_initialized():
        return ray
    try:
        # log_to_driver off: the workers' output would mix into --progress json on stdout.
        ray.init(address=address, log_to_driver=False, logging_level="ERROR",
                 configure_logging=False)
    except Exception as e:  # noqa: BLE001 - Ray raises ConnectionError, RuntimeError, ...
        brief = " ".join(str(e).split())[:200]
        raise LipflapError(f"--cluster {address}: cannot connect to the Ray cluster ({brief}); "
                           f"check the head's address (ray start --head prints it) or RAY_ADDRESS."
                           ) from None
    return ray


def _warm_up() -> int:
    """A task that does nothing: it makes Ray start one of this conform's worker processes."""
    return os.getpid()


# Worker processes started ahead, at most: a worker costs ~0.5-1 s of start-up (Python, Ray,
# this module) that would otherwise come after planning; more than a first wave of clips would
# start workers a small conform never uses.
WARM_WORKERS_MAX = 16


class Connection:
    """Ray imported and connected in a background thread while conform reads and plans the cut,
    and the first wave of this conform's worker processes started by no-op tasks meanwhile
    (Ray starts workers per driver, so each conform pays their start-up once). Measured on this
    2-core machine with a loopback head: import + connect + the first workers take 1-3 s, about
    what planning a cut takes, so they overlap instead of adding up. `get()` returns Ray, or
    raises the connection's one-sentence error."""

    def __init__(self, address: str, cpus_per_job: float):
        self.address = address
        self._ray = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._connect, args=(cpus_per_job,),
                                        name="lipflap-ray-connect", daemon=True)
        self._thread.start()

    def _connect(self, cpus_per_job: float) -> None:
        try:
            # Ray says at connect that it cannot set its SIGTERM handler from this thread; the
            # driver keeps Python's own, which is what a conform wants (Ctrl-C is handled there).
            with _quiet_ray_logger():
                ray = connect(self.address)
            slots = int(ray.cluster_resources().get("CPU", 0) // max(cpus_per_job, 1e-3))
            warm = ray.remote(_warm_up).options(num_cpus=cpus_per_job, max_retries=0)
            self._warm = [warm.remote() for _ in range(max(0, min(slots, WARM_WORKERS_MAX)))]
            self._ray = ray
        except BaseException as e:  # noqa: BLE001 - handed to the caller by get()
            self._error = e

    def get(self):
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._ray

    def close(self) -> None:
        self._thread.join()
        if self._ray is not None:
            self._ray.shutdown()


@contextlib.contextmanager
def _quiet_ray_logger():
    import logging  # noqa: PLC0415
    log = logging.getLogger("ray")
    level = log.level
    log.setLevel(logging.ERROR)
    try:
        yield
    finally:
        log.setLevel(level)


def run_jobs_ray(jobs, jobs_dir: str, logs_dir: str, progress: Progress, **kwargs) -> None:
    """Run every pending job as a Ray task; sets each job's status, error and attempts.
    `on_done(job)` is called in this thread after each job ends, as in runner.run_jobs.

    Ray's driver prints the raylet's messages (a worker died, a task is retried) to whatever
    sys.stdout is when they arrive; stdout belongs to the progress protocol (Progress holds its
    own stream), so for the Ray session sys.stdout is stderr, where those messages belong.
    """
    with contextlib.redirect_stdout(sys.stderr):
        _run_jobs_ray(jobs, jobs_dir, logs_dir, progress, **kwargs)


def _run_jobs_ray(jobs, jobs_dir: str, logs_dir: str, progress: Progress, *, address: str,
                  cpus_per_job: float = 1, path_map: PathMap | None = None, retries: int = 2,
                  on_done=None, cmd: list[str] | None = None,
                  connection: Connection | None = None) -> None:
    pending = [cj for cj in jobs if cj.status == "pending" and cj.job is not None]
    if not pending:
        if connection is not None:
            connection.close()  # a resumed list with nothing left: no Ray session stays open
        return
    ray = connection.get() if connection is not None else connect(address)
    path_map = path_map or PathMap()
    if cmd is None and os.environ.get(RUN_CMD_ENV):
        from .runner import run_command  # noqa: PLC0415
        cmd = run_command()  # the facility's wrapper, passed to every node
    os.makedirs(jobs_dir, exist_ok=True)
    os.makedirs(logs_dir, exist_ok=True)
    tracker = ray.remote(_Tracker).options(num_cpus=0).remote()
    task = ray.remote(run_task).options(num_cpus=cpus_per_job, max_retries=retries,
                                        retry_exceptions=False)
    live = {cj.key: _Live(frames=cj.job["end_frame"] - cj.job["start_frame"] + 1) for cj in pending}
    total = sum(lv.frames for lv in live.values())
    lock = threading.Lock()
    progress.start(f"conform {len(pending)} clip{'s' if len(pending) != 1 else ''} on {address}",
                   total)
    refs = {}
    earlier = {cj.key: list(cj.attempts) for cj in pending}  # a resumed job keeps its history
    for cj in pending:
        os.makedirs(os.path.dirname(cj.render), exist_ok=True)
        job_path = os.path.join(jobs_dir, cj.key + ".json")
        atomic_json(job_path, cj.job)  # the same job file a local conform writes
        log_path = os.path.join(logs_dir, cj.key + ".log")
        ref = task.remote(cj.key, path_map.job(cj.job), path_map.remote(job_path),
                          path_map.remote(log_path), cmd, tracker)
        refs[ref] = (cj, log_path)
    remaining = list(refs)
    try:
        while remaining:
            ready, remaining = ray.wait(remaining, num_returns=1, timeout=REPORT_EVERY_S)
            # Whatever else finished meanwhile is picked up on the next turn without waiting.
            if ready and remaining:
                more, remaining = ray.wait(remaining, num_returns=len(remaining), timeout=0)
                ready += more
            done, attempts = ray.get(tracker.snapshot.remote())
            for ref in ready:
                cj, log_path = refs[ref]
                cj.attempts = earlier[cj.key] + attempts.get(cj.key, [])
                rc, err = _outcome(ray, ref, cj, retries, live[cj.key].messages)
                _finish(cj, log_path, rc, err, live[cj.key], lock, progress)
                if on_done is not None:
                    on_done(cj)
            for key, frac in done.items():
                if key in live:
                    live[key].done = max(live[key].done, frac * live[key].frames)
            progress.set(int(sum(lv.done for lv in live.values())))
    except BaseException:
        # Ctrl-C or a bug: kill the running tasks (their engines die with their workers);
        # finished renders and the outputs written so far stay.
        for ref in remaining:
            try:
                ray.cancel(ref, force=True)
            except Exception:  # noqa: BLE001 - a task that just ended cannot be cancelled
                pass
        for cj, _ in refs.values():
            if cj.status == "pending":
                try:
                    cj.attempts = earlier[cj.key] + ray.get(tracker.snapshot.remote(),
                                                            timeout=5)[1].get(cj.key, [])
                except Exception:  # noqa: BLE001
                    pass
        raise
    finally:
        try:
            ray.kill(tracker)
        except Exception:  # noqa: BLE001
            pass
        ray.shutdown()
    progress.set(total)


def _outcome(ray, ref, cj, retries: int, messages: list[str]) -> tuple[int, str]:
    """A finished task's (exit code, error line), its engine's messages added to `messages`;
    Ray's own failures as one sentence."""
    try:
        rc, err, node, said = ray.get(ref)
    except ray.exceptions.TaskCancelledError:
        return 130, "conform was interrupted while this clip rendered."
    except (ray.exceptions.WorkerCrashedError, ray.exceptions.NodeDiedError,
            ray.exceptions.LocalRayletDiedError) as e:
        last = cj.attempts[-1]["node"] if cj.attempts else "an unknown node"
        return 137, (f"the Ray worker running it died {retries + 1} time(s), "
                     f"last on node {last} ({type(e).__name__}); rerun the conform to retry it")
    except ray.exceptions.RayError as e:
        brief = " ".join(str(e).split())[:200]
        return 1, f"Ray could not run it ({type(e).__name__}: {brief})"
    messages.extend(said)
    if rc != 0 and node and node not in err:
        err = f"{err} [node {node}]"
    return rc, err
