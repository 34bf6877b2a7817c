"""`lipflap demo [-o DIR]`: the built-in demo, offline, from what the installed packages ship.

1. A source clip: scikit-image's astronaut portrait with subtle head motion, made to speak an
   English line (eSpeak NG) by lipflap's own renderer.
2. A Spanish dub of the same line (eSpeak NG), and the source lip-synced to it with `run_job`, the
   pipeline behind `lipflap run`.
3. A side-by-side preview (source | lip-synced, with the dub's sound) and the QC report (HTML and
   JSON) measured against the dub's true phoneme times.
"""
from __future__ import annotations

import json
import math
import os
import sys
import time

from ..cli import add_progress_option
from ..contract.errors import LipflapError

DEFAULT_DIR = "lipflap_demo"
FPS = 25
SIZE = 512
TAIL_S = 0.6

# What the demo writes (removed first when it runs again, so a stale file never passes for new).
NAMES = {
    "source": "source_en.mp4",
    "dub": "dub_es.wav",
    "output": "lipsync_es.mp4",
    "preview": "side_by_side.mp4",
    "qc_html": "qc_report.html",
    "qc_json": "qc_report.json",
    "run_report": "run_report.json",
    "shapes": "dub_es.shapes.json",
}
WORK = {"still": "work/portrait_still.mp4", "english": "work/line_en.wav",
        "source_report": "work/source_run_report.json"}


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "demo", help="run the built-in demo (astronaut portrait, English -> Spanish) offline",
        description="Make a talking portrait from scikit-image's astronaut photo (English line, "
                    "eSpeak NG), lip-sync it to a Spanish dub, and write a side-by-side preview "
                    "and a QC report. Offline; about a minute on two cores.")
    p.add_argument("-o", "--output", default=DEFAULT_DIR, metavar="DIR",
                   help=f"folder for the demo's files (default ./{DEFAULT_DIR})")
    add_progress_option(p)
    p.set_defaults(func=run)


def run(args, progress) -> int:
    t0 = time.monotonic()
    result = run_demo(args.output, progress)
    result["seconds"] = round(time.monotonic() - t0, 1)
    progress.result(result)
    if progress.mode != "json":
        print(describe(result), file=sys.stdout, flush=True)
    return 0


def _paths(out_dir: str) -> dict[str, str]:
    return {k: os.path.join(out_dir, v) for k, v in {**NAMES, **WORK}.items()}


def run_demo(out_dir: str, progress, *, english: str | None = None, spanish: str | None = None,
             fps: int = FPS, size: int = SIZE) -> dict:
    """Make every demo file in `out_dir`; returns their paths and the QC verdict."""
    from . import demo_assets as assets
    from ..pipeline import run_job
    from ..contract.jobspec import Job, OutputSpec
    from ..mouth.build import track_from_phones
    from ..qc.measure import measure_video
    from ..qc.report import make_readable, write_report
    english = english or assets.ENGLISH
    spanish = spanish or assets.SPANISH
    out_dir = os.path.abspath(out_dir)
    paths = _paths(out_dir)
    try:
        os.makedirs(os.path.dirname(paths["still"]), exist_ok=True)
    except OSError as e:
        raise LipflapError(f"{out_dir}: cannot create the demo folder ({e.strerror}); give -o a "
                           f"writable folder.") from None
    for p in paths.values():
        if os.path.isfile(p):
            os.remove(p)

    timing: dict[str, float] = {}
    clock = [time.monotonic()]

    def lap(name: str) -> None:
        now = time.monotonic()
        timing[name] = round(now - clock[0], 2)
        clock[0] = now

    progress.message("demo: speaking the English line and its Spanish dub (eSpeak NG)")
    en = assets.speak(english, "en")
    es = assets.speak(spanish, "es")
    n = int(math.ceil((max(en.duration, es.duration) + TAIL_S) * fps))
    en, es = assets.pad_to(en, n / fps), assets.pad_to(es, n / fps)
    assets.write_wav(paths["english"], en)
    assets.write_wav(paths["dub"], es)
    lap("speech")

    progress.message(f"demo: a {n}-frame clip of the astronaut portrait with head motion")
    assets.write_still_clip(paths["still"], n, fps, size=size, progress=progress)
    lap("still_clip")

    progress.message("demo: lipflap makes the portrait speak English (the demo's source clip)")
    src_report = run_job(Job(video=paths["still"], audio=paths["english"], text=english,
                             language="en", output=OutputSpec(paths["source"], codec="h264"),
                             report=paths["source_report"]), progress)
    lap("render_source_en")

    progress.message("demo: lipflap lip-syncs the source to the Spanish dub")
    run_report = run_job(Job(video=paths["source"], audio=paths["dub"], text=spanish,
                             language="es", output=OutputSpec(paths["output"], codec="h264"),
                             report=paths["run_report"]), progress)
    lap("render_dub_es")

    progress.message("demo: side-by-side preview")
    side_by_side(paths["source"], paths["output"], es, paths["preview"], progress=progress)
    lap("preview")

    progress.message("demo: QC against the dub's true phoneme times")
    # The yardstick for the demo is what eSpeak actually said when: the dub's true phones.
    truth = track_from_phones(es.phones, fps, n_frames=n, source="script")
    truth.save(paths["shapes"])
    make_readable(paths["shapes"])
    report, extras = measure_video(paths["output"], truth, source=paths["source"],
                                   audio=paths["dub"], progress=progress,
                                   meta={"audio": paths["dub"], "shapes": paths["shapes"],
                                         "text": spanish, "language": "es"})
    write_report(paths["qc_json"], report)
    write_report(paths["qc_html"], report, extras)
    lap("qc")
    _ensure_report(paths["run_report"], run_report)
    _ensure_report(paths["source_report"], src_report)
    return {"folder": out_dir, "frames": n, "fps": fps,
            "files": {k: paths[k] for k in ("source", "dub", "output", "preview", "qc_html",
                                            "qc_json", "run_report")},
            "verdict": report["verdict"], "timing_s": timing,
            "figures": {k: f["value"] for k, f in report["figures"].items()}}


def _ensure_report(path: str, report) -> None:
    """run_job writes the report when the job names one; keep what it returned if it did not."""
    if not os.path.isfile(path) and isinstance(report, dict):
        from ..mouth.track import atomic_write_text
        atomic_write_text(path, json.dumps(report, indent=1, default=str) + "\n")


def side_by_side(left: str, right: str, dub, path: str, *, progress=None) -> str:
    """left | right with a caption bar, and the dub's sound."""
    import cv2
    import numpy as np

    from ..media.decode import read_frames
    from ..media.encode import VideoWriter
    from ..media.probe import probe
    li, ri = probe(left), probe(right)
    if li.frame_count != ri.frame_count or (li.width, li.height) != (ri.width, ri.height):
        raise LipflapError(f"{right} has {ri.frame_count} frames of {ri.width}x{ri.height} but "
                           f"{left} has {li.frame_count} of {li.width}x{li.height}; the lip-synced "
                           f"clip must match its source.")
    bar, gap = 32, 8
    w, h = li.width, li.height
    W, H = 2 * w + gap, h + bar
    W += W % 2
    H += H % 2
    head = np.full((bar, W, 3), 24, np.uint8)
    for x, text in ((8, "source (English)"), (w + gap + 8, "lipflap: Spanish dub")):
        cv2.putText(head, text, (x, 22), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (235, 235, 235), 1,
                    cv2.LINE_AA)
    canvas = np.zeros((H, W, 3), np.uint8)
    canvas[:bar] = head
    if progress is not None:
        progress.start("preview", li.frame_count)
    with VideoWriter(path, codec="h264", fps=li.fps, width=W, height=H,
                     audio=(dub.samples, dub.rate)) as wr:
        for a, b in zip(read_frames(left, info=li), read_frames(right, info=ri)):
            canvas[bar:bar + h, :w] = _to8(a.image)
            canvas[bar:bar + h, w + gap:2 * w + gap] = _to8(b.image)
            wr.write(canvas)
            if progress is not None:
                progress.advance()
        return wr.close()


def _to8(img):
    import numpy as np
    return (img >> 8).astype(np.uint8) if img.dtype == np.uint16 else img


def describe(result: dict) -> str:
    f = result["files"]
    lines = [f"lipflap demo: done in {result.get('seconds', '?')} s; files in {result['folder']}",
             f"  preview (watch this): {f['preview']}",
             f"  source clip (English): {f['source']}",
             f"  Spanish dub:           {f['dub']}",
             f"  lip-synced clip:       {f['output']}",
             f"  QC report:             {f['qc_html']}  (verdict {result['verdict']})",
             f"  QC figures (JSON):     {f['qc_json']}",
             f"  run report:            {f['run_report']}"]
    figs = result["figures"]
    keys = ("bilabial_closure", "open_vowel_opening", "pause_rest", "sync_r",
            "psnr_outside_lower_face_db", "mouth_sharpness_ratio", "mouth_roughness_ratio")
    lines.append("  " + ", ".join(f"{k}={figs[k]:.2f}" for k in keys if figs.get(k) is not None))
    return "\n".join(lines)
