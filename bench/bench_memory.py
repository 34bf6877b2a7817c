"""Peak memory and time of `lipflap run` on a short and a long shot, and of a 50-shot conform.

    python bench/bench_memory.py run [--short 10] [--long 600] [--size 1920x1080] [--fps 25]
    python bench/bench_memory.py conform [--shots 50] [--jobs 2] [--size 320x320]

`run`: builds two H.264 shots of the astronaut portrait (scikit-image) with a slow sway, the
same picture at two lengths, a dub of the same length and a mouth-shape track covering it, then
runs `lipflap run SHOT --audio DUB --shapes TRACK -o OUT.mov` on each as a child process (under
`nice`, empty analysis cache) and reads the child's peak resident memory (ru_maxrss from wait4)
and CPU time. Memory must be flat in clip length (docs/speed.md): the issue's bound is the long
shot's peak within 1.3x of the short shot's. The track is given with --shapes so the figure is
the picture pipeline's (decode, analysis, plan, library, render, encode) plus the dub's muxing;
the dub-to-mouth stage is measured separately by `lipflap visemes` on the long dub.

`conform`: a cut of N shots (each its own 40-frame range of one generated clip, so no analysis
is shared) over one dub with script text per clip, `lipflap conform --jobs J`; the peak of the
whole process tree's resident memory is sampled from /proc every 0.2 s, and the EDL is checked
(one event per shot at the cut's record timecodes).

Prints one JSON object. The long run takes long on a loaded machine; --keep keeps the media.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
import wave

import numpy as np

FACE_TEXT = "Hello, I am a map."


# ---- media -----------------------------------------------------------------------------------

def portrait_frames(width: int, height: int, period: int = 50):
    """`period` distinct frames of the astronaut centred on grey with a slow sideways sway."""
    import cv2
    import skimage.data
    img = skimage.data.astronaut()[:400, 56:456]
    side = min(height, width)
    face = cv2.resize(img, (side, side), interpolation=cv2.INTER_AREA)
    frames = []
    for k in range(period):
        canvas = np.full((height, width, 3), 96, np.uint8)
        dx = int(round(0.01 * side * np.sin(2 * np.pi * k / period)))
        x0 = (width - side) // 2 + dx
        lo, hi = max(0, x0), min(width, x0 + side)
        canvas[:, lo:hi] = face[:height, lo - x0:hi - x0]
        frames.append(canvas)
    return frames


def make_shot(path: str, frames: int, width: int, height: int, fps: int) -> None:
    import av
    cycle = portrait_frames(width, height)
    with av.open(path, "w") as out:
        vs = out.add_stream("libx264", rate=fps, options={"crf": "20", "preset": "ultrafast"})
        vs.width, vs.height, vs.pix_fmt = width, height, "yuv420p"
        vs.metadata["timecode"] = "01:00:00:00"
        encoded = [av.VideoFrame.from_ndarray(f, format="rgb24").reformat(format="yuv420p")
                   for f in cycle]
        for i in range(frames):
            f = encoded[i % len(encoded)]
            f.pts = i
            for p in vs.encode(f):
                out.mux(p)
        for p in vs.encode():
            out.mux(p)


def make_dub(path: str, seconds: float, rate: int = 16000) -> None:
    """Syllable-rate bursts of a voiced tone, written in chunks (a 10-minute dub stays small)."""
    with wave.open(path, "wb") as w:
        w.setnchannels(1), w.setsampwidth(2), w.setframerate(rate)
        n, step = int(seconds * rate), rate * 10
        for a in range(0, n, step):
            t = np.arange(a, min(n, a + step)) / rate
            x = 0.3 * np.sin(2 * np.pi * 160 * t) * (np.sin(2 * np.pi * 3 * t) > 0)
            w.writeframes((x * 32767).astype(np.int16).tobytes())


def make_track(path: str, frames: int, fps: int) -> None:
    """A mouth-shape track opening and closing about three times a second."""
    out = []
    for i in range(frames):
        ap = float(np.clip(0.5 + 0.5 * np.sin(2 * np.pi * 3 * i / fps), 0, 1))
        out.append({"frame": i, "aperture": round(ap, 3), "width": 0.5, "rounding": 0.1,
                    "jaw": round(0.8 * ap, 3)})
    with open(path, "w") as f:
        json.dump({"fps": fps, "frames": out}, f)


# ---- measuring a child -----------------------------------------------------------------------

def _tree_rss_kb(root: int) -> tuple[int, int, int, int]:
    """Resident memory (kB) of `root` and all its live descendants, from /proc: (total, root's,
    the largest descendant's, number of live direct children)."""
    children: dict[int, list[int]] = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as f:
                stat = f.read()
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(name))
    total = own = largest = alive = 0
    todo = [root]
    while todo:
        pid = todo.pop()
        todo.extend(children.get(pid, []))
        try:
            with open(f"/proc/{pid}/status") as f:
                m = re.search(r"^VmRSS:\s+(\d+)", f.read(), re.M)
        except OSError:
            continue
        if not m:
            continue  # a zombie holds no memory
        kb = int(m.group(1))
        total += kb
        if pid == root:
            own = kb
        else:
            largest = max(largest, kb)
            alive += pid in children.get(root, ())
    return total, own, largest, alive


def measure(cmd: list[str], env: dict, *, tree: bool = False) -> dict:
    """Run `cmd` under nice; wall seconds and, with `tree`, the process tree sampled every
    0.1 s: peak total, the root's own peak, the largest child's peak, most children alive."""
    t0 = time.perf_counter()
    p = subprocess.Popen(["nice", "-n", "10", *cmd], env=env, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    peak = [0, 0, 0, 0]
    done = threading.Event()

    def sample():
        while not done.wait(0.1):
            # nice execs the command in place, so p.pid is the command itself.
            for k, v in enumerate(_tree_rss_kb(p.pid)):
                peak[k] = max(peak[k], v)
    th = threading.Thread(target=sample, daemon=True) if tree else None
    if th:
        th.start()
    out, err = p.communicate()
    done.set()
    if th:
        th.join()
    wall = time.perf_counter() - t0
    res = {"rc": p.returncode, "wall_s": round(wall, 1), "stderr_tail": err.strip()[-400:],
           "stdout_tail": out.strip()[-400:]}
    if tree:
        res.update(peak_tree_mib=round(peak[0] / 1024, 1), peak_root_mib=round(peak[1] / 1024, 1),
                   peak_child_mib=round(peak[2] / 1024, 1), most_children_alive=peak[3])
    return res


def measure_one(cmd: list[str], env: dict, trace: str | None = None) -> dict:
    """Run one command and read its own peak RSS and CPU time with wait4 (not the tree's);
    with `trace`, its resident memory is also logged there every 10 s (growth shows early)."""
    t0 = time.perf_counter()
    p = subprocess.Popen(["nice", "-n", "10", *cmd], env=env, stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE)
    err_chunks = []
    th = threading.Thread(target=lambda: err_chunks.append(p.stderr.read()), daemon=True)
    th.start()
    done = threading.Event()

    def log_rss():
        with open(trace, "w") as f:
            while not done.wait(10):
                f.write(f"{time.perf_counter() - t0:.0f}s {_tree_rss_kb(p.pid)[0] / 1024:.0f} MiB\n")
                f.flush()
    tr = threading.Thread(target=log_rss, daemon=True) if trace else None
    if tr:
        tr.start()
    _, status, ru = os.wait4(p.pid, 0)
    done.set()
    th.join()
    p.returncode = os.waitstatus_to_exitcode(status)
    err = b"".join(err_chunks).decode("utf-8", "replace")
    return {"rc": p.returncode, "wall_s": round(time.perf_counter() - t0, 1),
            "cpu_s": round(ru.ru_utime + ru.ru_stime, 1),
            "peak_rss_mib": round(ru.ru_maxrss / 1024, 1),  # Linux: kilobytes
            "stderr_tail": "\n".join(l for l in err.splitlines() if "lipflap" in l)[-400:]}


# ---- the two benches -------------------------------------------------------------------------

def bench_run(a, work: str) -> dict:
    w, h = (int(v) for v in a.size.split("x"))
    env = dict(os.environ)
    env.setdefault("OMP_NUM_THREADS", "1")
    res = {"size": a.size, "fps": a.fps, "shots": {}}
    for label, seconds in (("short", a.short), ("long", a.long)):
        if label == "short" and a.skip_short:
            continue
        n = int(round(seconds * a.fps))
        shot = os.path.join(work, f"{label}.mp4")
        dub = os.path.join(work, f"{label}.wav")
        track = os.path.join(work, f"{label}.shapes.json")
        t = time.perf_counter()
        if not os.path.exists(shot):
            make_shot(shot, n, w, h, a.fps)
            make_dub(dub, seconds)
            make_track(track, n, a.fps)
        gen_s = time.perf_counter() - t
        env["LIPFLAP_CACHE"] = os.path.join(work, f"cache_{label}_{time.time_ns()}")
        out = os.path.join(work, f"{label}_out.mov")
        if os.path.exists(out):
            os.unlink(out)
        r = measure_one([sys.executable, "-m", "lipflap", "run", shot, "--audio", dub, "--shapes",
                         track, "-o", out, "--report", out + ".json", "--progress", "none"], env,
                        trace=os.path.join(work, f"{label}.rss.log"))
        r.update(seconds=seconds, frames=n, generate_s=round(gen_s, 1))
        if r["rc"] == 0:
            rep = json.load(open(out + ".json"))
            r["frames_rendered"] = rep["frames_rendered"]
            r["stages_s"] = rep["timing_s"]
            r["ms_per_frame_wall"] = round(1000 * r["wall_s"] / n, 1)
            r["ms_per_frame_cpu"] = round(1000 * r["cpu_s"] / n, 1)
        res["shots"][label] = r
        print(json.dumps({label: r}), file=sys.stderr, flush=True)
    if a.visemes:
        env["LIPFLAP_CACHE"] = os.path.join(work, "cache_visemes")
        r = measure_one([sys.executable, "-m", "lipflap", "visemes", os.path.join(work, "long.wav"),
                         "-o", os.path.join(work, "long_visemes.json"), "--fps", str(a.fps)], env)
        res["visemes_long_dub"] = r
    s, l_ = res["shots"].get("short"), res["shots"]["long"]
    if s and s["rc"] == 0 and l_["rc"] == 0:
        res["peak_ratio_long_over_short"] = round(l_["peak_rss_mib"] / s["peak_rss_mib"], 3)
        res["target_ratio"] = 1.3
    return res


def make_conform_cut(work: str, shots: int, width: int, height: int, fps: int = 25):
    """N 40-frame shots, each its own range of one clip, over one dub of N repeated lines."""
    import opentimelineio as otio
    from opentimelineio import opentime

    from lipflap.commands.demo_assets import speak
    line = speak(FACE_TEXT, "en", lead_s=0.1)
    per = 40
    seg = np.zeros(int(round(per / fps * line.rate)), np.float32)
    seg[:min(len(seg), len(line.samples))] = line.samples[:len(seg)]
    dub = os.path.join(work, "dub.wav")
    with wave.open(dub, "wb") as wv:
        wv.setnchannels(1), wv.setsampwidth(2), wv.setframerate(line.rate)
        wv.writeframes((np.clip(np.tile(seg, shots), -1, 1) * 32767).astype(np.int16).tobytes())
    media = os.path.join(work, "A001.mp4")
    make_shot(media, shots * per + 16, width, height, fps)
    rate = float(fps)
    start_tc = int(opentime.from_timecode("01:00:00:00", rate).value)
    tl = otio.schema.Timeline(name="fifty", global_start_time=opentime.RationalTime(start_tc, rate))
    v1 = otio.schema.Track(name="V1", kind=otio.schema.TrackKind.Video)
    lines = []
    for k in range(shots):
        ref = otio.schema.ExternalReference(target_url=media, available_range=opentime.TimeRange(
            opentime.RationalTime(start_tc, rate), opentime.RationalTime(shots * per + 16, rate)))
        name = f"S{k + 1:03d}"
        v1.append(otio.schema.Clip(name=name, media_reference=ref, source_range=opentime.TimeRange(
            opentime.RationalTime(start_tc + 8 + k * per, rate), opentime.RationalTime(per, rate))))
        lines.append(f"[{name}]\n{FACE_TEXT}\n")
    tl.tracks.append(v1)
    cut = os.path.join(work, "fifty.otio")
    otio.adapters.write_to_file(tl, cut)
    transcripts = os.path.join(work, "lines.txt")
    with open(transcripts, "w", encoding="utf-8") as f:
        f.write("".join(lines))
    expected = [(f"S{k + 1:03d}", opentime.to_timecode(opentime.RationalTime(start_tc + k * per, rate), rate))
                for k in range(shots)]
    return cut, dub, transcripts, expected


def check_edl(path: str, expected: list[tuple[str, str]]) -> list[str]:
    """Problems with the EDL: one event per shot, at the cut's record-in, naming its render."""
    text = open(path, encoding="utf-8").read()
    events = []
    for line in text.splitlines():
        m = re.match(r"^(\d{3,})\s+\S+\s+V\s+C\s+\S+ \S+ (\S+) \S+$", line.strip())
        if m:
            events.append([m.group(2), None])
        elif line.startswith("* FROM CLIP NAME:") and events:
            events[-1][1] = line.split(":", 1)[1].strip()
    problems = []
    if len(events) != len(expected):
        problems.append(f"{len(events)} events for {len(expected)} shots")
    for (rec, name), (want_name, want_rec) in zip(events, expected):
        if rec != want_rec or not (name or "").startswith(f"{want_name}_lipflap_"):
            problems.append(f"event {name} at {rec}, expected {want_name}_lipflap_* at {want_rec}")
    return problems


def bench_conform(a, work: str) -> dict:
    w, h = (int(v) for v in a.size.split("x"))
    cut, dub, transcripts, expected = make_conform_cut(work, a.shots, w, h)
    env = dict(os.environ)
    env.pop("LIPFLAP_RUN_CMD", None)
    env.setdefault("OMP_NUM_THREADS", "1")
    env["LIPFLAP_CACHE"] = os.path.join(work, f"cache_conform_{time.time_ns()}")
    out = os.path.join(work, "conform_out")
    r = measure([sys.executable, "-m", "lipflap", "conform", cut, "-o", out, "--dub-audio", dub,
                 "--language", "en", "--transcripts", transcripts, "--jobs", str(a.jobs),
                 "--progress", "none"], env, tree=True)
    ru = __import__("resource").getrusage(__import__("resource").RUSAGE_CHILDREN)
    r["cpu_s_all_children"] = round(ru.ru_utime + ru.ru_stime, 1)
    edls = [os.path.join(out, f) for f in os.listdir(out) if f.endswith(".edl")] if os.path.isdir(out) else []
    r["edl"] = edls[0] if edls else None
    r["edl_problems"] = check_edl(edls[0], expected) if edls else ["no EDL written"]
    renders = [f for f in os.listdir(out) if f.endswith(".mov")] if os.path.isdir(out) else []
    r["renders"] = len(renders)
    r.update(shots=a.shots, jobs=a.jobs, size=a.size)
    return r


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="what", required=True)
    r = sub.add_parser("run")
    r.add_argument("--short", type=float, default=10.0, help="seconds")
    r.add_argument("--long", type=float, default=600.0, help="seconds")
    r.add_argument("--size", default="1920x1080")
    r.add_argument("--fps", type=int, default=25)
    r.add_argument("--skip-short", action="store_true",
                   help="measure the long shot only (compare with an earlier run's short figure)")
    r.add_argument("--visemes", action="store_true", help="also measure `lipflap visemes` on the long dub")
    c = sub.add_parser("conform")
    c.add_argument("--shots", type=int, default=50)
    c.add_argument("--jobs", type=int, default=2)
    c.add_argument("--size", default="320x320")
    for p in (r, c):
        p.add_argument("--keep", help="folder for media and outputs (kept; reused when present)")
        p.add_argument("--json", help="also write the result here")
    a = ap.parse_args()
    work = a.keep or tempfile.mkdtemp(prefix="lipflap_mem_")
    os.makedirs(work, exist_ok=True)
    res = bench_run(a, work) if a.what == "run" else bench_conform(a, work)
    res["load_average"] = os.getloadavg()
    text = json.dumps(res, indent=1)
    print(text)
    if a.json:
        with open(a.json, "w") as f:
            f.write(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
