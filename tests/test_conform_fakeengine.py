"""A small stand-in for `lipflap run --job JOB.json --progress json`, honouring the CLI contract.

Conform's orchestration is tested against this script (LIPFLAP_RUN_CMD) so it does not depend
on the renderer: it validates the job with lipflap.contract.jobspec, writes the job's frames plus handles
(clamped to the file) as a ProRes .mov via PyAV with the source's timecode at its first frame,
a report with one flagged range, JSON progress lines and a final {"result": ...}; it writes to a
temporary name and renames. FAKE_ENGINE_FAIL=<text> makes a job whose video or output path
contains <text> fail with a one-sentence error; FAKE_ENGINE_CRASH=<text> kills the process
mid-render (no message, a half-written temporary file left behind); FAKE_ENGINE_DELAY=<seconds>
sleeps that long after each frame (a job slow enough to kill or interrupt);
FAKE_ENGINE_REPORT_VERSION=<n> writes that report_version (a report from a newer engine).
Run as a script it is the engine; collected by pytest it tests itself.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from fractions import Fraction


def _fail(msg: str, code: int = 2) -> None:
    print(f"lipflap: error: {msg}", file=sys.stderr, flush=True)
    sys.exit(code)


def main(argv: list[str]) -> int:
    import av
    from opentimelineio import opentime

    from lipflap.contract.errors import LipflapError
    from lipflap.contract.jobspec import load_job

    if len(argv) != 4 or argv[0] != "--job" or argv[2:] != ["--progress", "json"]:
        _fail(f"fake engine expects --job JOB.json --progress json, got {argv}")
    try:
        job = load_job(argv[1])
    except LipflapError as e:
        _fail(str(e))
    for key in ("FAKE_ENGINE_FAIL", "FAKE_ENGINE_CRASH"):
        needle = os.environ.get(key)
        if needle and (needle in job.video or needle in job.output.path):
            if key == "FAKE_ENGINE_FAIL":
                _fail(f"{job.video}: frame {job.start_frame}: simulated failure; fix the clip.")
    audio = job.audio or (job.voices[0].audio if job.voices else None)   # a dialogue job: its first
    if not os.path.isfile(audio or ""):
        _fail(f"{audio}: dub audio not found.")
    with av.open(audio) as a:
        dub_s = float(a.duration / av.time_base) if a.duration else 0.0
    with av.open(job.video) as c:
        vs = c.streams.video[0]
        fps = Fraction(vs.average_rate)
        tc = vs.metadata.get("timecode", "00:00:00:00")
        frames = [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]
    if job.start_frame is None or job.end_frame is None or job.end_frame >= len(frames):
        _fail(f"{job.video}: frames {job.start_frame}-{job.end_frame} are outside the file's "
              f"{len(frames)} frames.")
    h = job.handles
    first, last = max(0, job.start_frame - h), min(len(frames) - 1, job.end_frame + h)
    start_tc = int(opentime.from_timecode(tc, float(fps)).value) + first
    out_tc = opentime.to_timecode(opentime.RationalTime(start_tc, float(fps)), float(fps))
    out = job.output.path
    delay = float(os.environ.get("FAKE_ENGINE_DELAY", "0") or 0)
    tmp = out + ".partial.mov"
    n = last - first + 1
    print(json.dumps({"stage": "render", "done": 0, "total": n}), flush=True)
    oc = av.open(tmp, "w")
    oc.metadata["timecode"] = out_tc
    s = oc.add_stream("prores_ks", rate=fps, options={"profile": "3"})
    s.width, s.height, s.pix_fmt = frames[0].shape[1], frames[0].shape[0], "yuv422p10le"
    for k, i in enumerate(range(first, last + 1)):
        vf = av.VideoFrame.from_ndarray(frames[i], format="rgb24")
        vf.pts = k
        for p in s.encode(vf):
            oc.mux(p)
        print(json.dumps({"stage": "render", "done": k + 1, "total": n}), flush=True)
        if delay:
            time.sleep(delay)
        if k == n // 2 and os.environ.get("FAKE_ENGINE_CRASH") and (
                os.environ["FAKE_ENGINE_CRASH"] in job.video or os.environ["FAKE_ENGINE_CRASH"] in out):
            os._exit(9)
    for p in s.encode():
        oc.mux(p)
    oc.close()
    # The run report as `lipflap run` writes it (lipflap.contract.report), trimmed to what hosts read.
    version = int(os.environ.get("FAKE_ENGINE_REPORT_VERSION", "1") or 1)
    report = {"report_version": version, "input": job.video, "output": out, "fps": f"{fps.numerator}/{fps.denominator}",
              "range": {"start": job.start_frame, "end": job.end_frame, "handles": h, "first": first,
                        "last": last, "frames": n},
              "timecodes": {"first": out_tc}, "warnings": [],
              "flagged_ranges": [{"start": first, "end": job.start_frame + 1, "reason": "no_face"}],
              "qc": {"figures": {"sync_r": {"value": 0.87}}},
              "audio_offset_s": job.audio_offset_s, "dub_duration_s": dub_s, "text": job.text,
              "language": job.language}
    if job.report:
        with open(job.report, "w") as f:
            json.dump(report, f)
    os.replace(tmp, out)
    print(json.dumps({"result": {"output": out, "report": job.report}}), flush=True)
    return 0


ENGINE = os.path.abspath(__file__)


def engine_cmd() -> str:
    return f"{sys.executable} {ENGINE}"


def test_fake_engine_honours_contract(tmp_path):
    import av
    from mediagen import make_clip, make_wav
    src = make_clip(tmp_path / "src.mov", fps="24000/1001", frames=20, timecode="01:00:00:00")
    dub = make_wav(tmp_path / "dub.wav", seconds=2)
    job = {"video": src, "audio": dub, "audio_offset_s": 0.5, "start_frame": 5, "end_frame": 9,
           "handles": 3, "fps": "24000/1001",
           "output": {"path": str(tmp_path / "out.mov"), "mode": "full", "codec": "prores_hq"},
           "report": str(tmp_path / "out.json")}
    (tmp_path / "job.json").write_text(json.dumps(job))
    r = subprocess.run([sys.executable, ENGINE, "--job", str(tmp_path / "job.json"), "--progress",
                        "json"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    lines = [json.loads(x) for x in r.stdout.splitlines()]
    assert lines[-1]["result"]["output"] == str(tmp_path / "out.mov")
    assert lines[-2] == {"stage": "render", "done": 11, "total": 11}
    with av.open(str(tmp_path / "out.mov")) as c:
        assert c.streams.video[0].metadata["timecode"] == "01:00:00:02"
        assert sum(1 for _ in c.decode(video=0)) == 11
    from lipflap.contract.report import read_report
    rep = read_report(str(tmp_path / "out.json"))
    assert (rep.flagged_ranges[0].start, rep.flagged_ranges[0].end, rep.flagged_ranges[0].reason) == (2, 6, "no_face")
    assert rep.sync_score == 0.87 and rep.range.first == 2
    job["colour"] = 1
    (tmp_path / "job.json").write_text(json.dumps(job))
    r = subprocess.run([sys.executable, ENGINE, "--job", str(tmp_path / "job.json"), "--progress",
                        "json"], capture_output=True, text=True)
    assert r.returncode == 2 and "unknown key" in r.stderr


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
