"""Time the Content Credential adds to a `lipflap run` (target: <= 3% of the run).

    python bench/bench_credentials.py [--frames 125] [--codec prores_hq] [--keep DIR]

Builds the same 1920x1080 shot as bench_run.py (../shared/media/talk_b.mp4 scaled up), renders
it once with credentials signed by a throwaway test CA (as a facility signs: --sign-cert/--sign-key)
and prints
- the run's own signing time (report disclosure.credential.sign_seconds: waiting for the inputs'
  SHA-256, which runs beside the render, plus building, hashing and writing the signed file),
- the same signing repeated 3 times on the finished render, alone (median; less noisy),
- both as a share of the run's wall time, and the signing's CPU time as a share of the run's
  (process CPU, all threads: the figure to trust on a machine shared with other jobs).
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from bench_run import SHARED, _cpu, _peak_rss_mb, make_shot  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default_src = os.path.join(SHARED, "media", "talk_b.mp4")
    ap.add_argument("--source", default=default_src if os.path.exists(default_src) else None)
    ap.add_argument("--audio", default=os.path.join(SHARED, "media", "speech_a.wav"))
    ap.add_argument("--frames", type=int, default=125)
    ap.add_argument("--codec", default="prores_hq", choices=("prores_hq", "h264", "png"))
    ap.add_argument("--keep", help="folder to keep the outputs in")
    ap.add_argument("--no-credentials", action="store_true", dest="off",
                    help="render without signing (for the peak memory and time without it)")
    a = ap.parse_args()

    from lipflap.pipeline import run_job
    from lipflap.contract.jobspec import parse_job
    from lipflap.contract.progress import Progress
    from lipflap.provenance import Signing
    from lipflap.provenance.identity import key_pem, make_ca_and_leaf, pem
    from lipflap.provenance.sign import sign_movie, sign_sequence

    work = a.keep or tempfile.mkdtemp(prefix="lipflap_bench_c2pa_")
    os.makedirs(work, exist_ok=True)
    os.environ["LIPFLAP_CACHE"] = os.path.join(work, "cache")
    shutil.rmtree(os.environ["LIPFLAP_CACHE"], ignore_errors=True)  # every stage runs, as bench_run
    shot = os.path.join(work, "shot1080.mp4")
    if not os.path.exists(shot):
        make_shot(a.source, shot, a.frames)
    ca, leaf, key = make_ca_and_leaf("bench CA", "bench facility signer", "lipflap bench", 2)
    cert, keyf = os.path.join(work, "signer.pem"), os.path.join(work, "signer.key")
    open(cert, "wb").write(pem(leaf) + pem(ca))
    open(keyf, "wb").write(key_pem(key))
    signing = Signing.from_options(cert, keyf, enabled=not a.off)

    out = os.path.join(work, {"h264": "out.mp4", "png": "seq"}.get(a.codec, "out.mov"))
    job = parse_job({"video": shot, "audio": a.audio, "language": "es",
                     "output": {"path": out, "codec": a.codec}})
    t, c0 = time.perf_counter(), _cpu()
    report = run_job(job, Progress("none"), signing=signing)
    t_run, c_run = time.perf_counter() - t, _cpu() - c0
    cred = report["disclosure"]["credential"]
    peak = _peak_rss_mb()
    if a.off:
        print(json.dumps({"frames": a.frames, "codec": a.codec, "credentials": "off",
                          "run_s": round(t_run, 2), "run_cpu_s": round(c_run, 2),
                          "peak_rss_mb": round(peak, 1)}, indent=1))
        return 0

    # The signing step alone, on the finished render (the facts as the run had them).
    from lipflap.provenance import Facts
    facts = Facts(engine="lipflap", version="bench", language="es", source=shot, dub=a.audio,
                  shapes=None, mode="full", fps="25/1", first=0, last=a.frames - 1,
                  changed=report["disclosure"]["frames_changed"],
                  passed_through=report["disclosure"]["frames_passed_through"])
    from lipflap.provenance.sign import file_hash
    facts.hashes = {p: file_hash(p) for p in (shot, a.audio)}
    alone, alone_cpu = [], []
    for _ in range(3):
        if a.codec == "png":
            tmpd = os.path.join(work, "seq_copy")
            shutil.rmtree(tmpd, ignore_errors=True)
            shutil.copytree(out, tmpd)
            for n in os.listdir(tmpd):
                if not n.endswith(".png"):
                    os.remove(os.path.join(tmpd, n))
            t, c0 = time.perf_counter(), _cpu()
            sign_sequence(tmpd, os.path.join(tmpd, "seq.%06d.png"), facts, signing.identity)
        else:
            tmp = out + ".benchcopy" + os.path.splitext(out)[1]
            shutil.copyfile(out, tmp)
            t, c0 = time.perf_counter(), _cpu()
            sign_movie(tmp, out, facts, signing.identity)
        alone.append(time.perf_counter() - t)
        alone_cpu.append(_cpu() - c0)
    size = (sum(os.path.getsize(os.path.join(out, n)) for n in os.listdir(out)) if os.path.isdir(out)
            else os.path.getsize(out))
    med = statistics.median(alone)
    print(json.dumps({
        "frames": a.frames, "size": "1920x1080", "codec": a.codec, "render_mb": round(size / 1e6, 1),
        "run_s": round(t_run, 2), "frames_rendered": report["frames_rendered"],
        "sign_in_run_s": cred["sign_seconds"],
        "sign_in_run_pct": round(100 * cred["sign_seconds"] / t_run, 2),
        "sign_alone_s": [round(x, 3) for x in alone],
        "sign_alone_median_pct": round(100 * med / t_run, 2), "target_pct": 3.0,
        # On a machine shared with other jobs wall times swell with the neighbours; CPU does not.
        "run_cpu_s": round(c_run, 2), "sign_alone_cpu_s": [round(x, 3) for x in alone_cpu],
        "sign_cpu_pct_of_run_cpu": round(100 * statistics.median(alone_cpu) / c_run, 2),
        "peak_rss_mb": round(peak, 1),  # of the run, before the repeats below
        "credential": {k: cred.get(k) for k in ("status", "where", "binding", "manifest_bytes")},
        "stages_s": report["timing_s"]}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
