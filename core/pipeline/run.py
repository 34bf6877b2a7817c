"""`lipflap run`: one job (docs/job.md) from source clip and dub to a finished render and its
report (docs/report.md), as a short line of stages (see the package's docstring)."""
from __future__ import annotations

import importlib
import threading
import time

import cv2
import numpy as np

from ..contract.jobspec import Job
from ..face.mesh import WarmMesh, _quiet_import
from ..provenance import DisclosureWriter, Signing
from ..provenance.identity import JOB_SIGNER
from ..render.seen import PassLooks
from .analysis import analyse
from .beside import Beside, Behind
from .characters import run_cast
from .clock import StageClock as _Clock
from .inputs import resolve_inputs, settle_codec
from .kept import LowerFaces
from .library import build_libraries
from .mouth import mouth_shapes, script_text
from .plan import plan_shots
from .render import render_and_write
from .report import build_report, quick_qc, quick_qc_sampler, save_job_report
from .voices import run_dialogue


# Imported beside the analysis, off the one chain: the plan's mesh triangulation
# (scipy.spatial.Delaunay) costs 0.18 s of CPU to import on first use.
PLAN_IMPORTS = ("scipy.spatial",)


def _mouth_then_imports(job: Job, inputs, text, warm: threading.Thread, progress):
    # After the MediaPipe import (`warm`): both are mostly Python under one GIL, and the
    # analysis' first frame waits for MediaPipe, not for the dub (the mouth track is done long
    # before the analysis: its stage reads 0.0 s on the bench). Started together, the import
    # ended 0.30-0.34 s into the bench run; started after it, 0.20-0.23 s (two pairs, scratch
    # head2.py, 2026-12-06 07:25 UTC).
    warm.join()
    mouth = mouth_shapes(job, inputs, text, progress)
    for name in PLAN_IMPORTS:
        importlib.import_module(name)
    return mouth


def _warm_up() -> None:
    """Import MediaPipe (lipflap.face.lean_import, 0.14 s of CPU) while the inputs are probed:
    the analysis' first frame waits for it otherwise. A failure is left to the analysis, which
    imports it again and says what is wrong. Then OpenCV's 8-bit CIE Lab tables, which OpenCV
    builds on first use (89 ms of CPU, measured on a 1x1 image): their first use was the
    analysis' face quality scores (lipflap.face.quality), on the pass's serial end."""
    try:
        _quiet_import()
    except Exception:  # noqa: BLE001 - reported by the analysis' own import
        pass
    cv2.cvtColor(np.zeros((1, 1, 3), np.uint8), cv2.COLOR_RGB2LAB)


def _signing(job: Job, progress) -> Signing:
    """The job's signer: its own keys, or as the environment or config file says (a bad key
    raises here). Made in a thread while the inputs are probed (its keys read or a throwaway
    made, the C2PA SDK imported and a few bytes signed: ~0.15 s of CPU on the run's one chain
    before any frame is analysed); still before any frame is, and an input's error is still
    raised first, a bad key's right after it."""
    return Signing.from_options(job.sign_cert, job.sign_key, enabled=job.credentials,
                                given_by=JOB_SIGNER)


def run_job(job: Job, progress, signing: Signing | None = None) -> dict:
    """Render `job`; returns the report (also written to job.report when given).
    `signing`: who signs the render's Content Credential (the run command's --sign-cert,
    --no-credentials); None: as the environment or config file says (docs/provenance.md)."""
    if job.cast_file:
        # Voices by character: the clip's faces matched to the cast first (.characters).
        return run_cast(job, progress, signing, run_job)
    if job.dialogue:
        # Several faces, each with its own voice (lipflap.pipeline.voices).
        return run_dialogue(job, progress, signing)
    clock = _Clock()
    warm = threading.Thread(target=_warm_up, daemon=True, name="lipflap-warm")
    warm.start()
    with clock.stage("probe"):
        # A bad key fails here, before any work; the job's own keys when the caller gives none.
        # The signer is made while the inputs are probed (_signing).
        signer = None if signing else Beside(_signing, job)
        inputs = resolve_inputs(job)
        signing = signing or signer.result(progress)
    # The dub's mouth track runs beside the picture analysis (its stage time is what is left of
    # it once the analysis is done), and then imports what the plan will need. (The audio-only
    # recogniser cuts a long dub the same from a thread: lipflap.speech.phone_recognition.)
    beside = Beside(_mouth_then_imports, job, inputs, script_text(job), warm)
    kept, looks, codec = LowerFaces(), PassLooks(), inputs.codec_probe
    # The lower faces are copied, the near-closed mouths looked at and the ProRes probe's frames
    # taken in a thread behind the tracker, in frame order: the tracker's next frame waits for
    # none of them, and the second core is otherwise half idle in the pass (on the bench they
    # were ~0.6 s of CPU on its one chain; the probe's own decode was 2 s more on the selfie).
    behind = Behind(lambda fr, obs: (kept(fr, obs), looks(fr, obs), codec.probe(fr)),
                    name="lipflap-keep")

    def looks_taken() -> dict:
        """The looks go into the analysis (and its cache entry) once the last are taken."""
        behind.close()
        return looks.openings

    with clock.stage("analyze"):
        try:
            analysis, raw_points = analyse(job, inputs, progress, keep=behind, seen=looks_taken)
            behind.close()      # the last frames' copies and looks; their error, if any
        except BaseException:
            behind.close(quiet=True)
            beside.wait()
            raise
        finally:
            looks.close()       # the openings seen are kept; the still Face Mesh goes
    # A cached analysis decoded nothing: the probe decodes its frames beside the stages below.
    codec.start_own()
    # The quick QC's Face Mesh starts beside the plan and the library (lipflap.face.mesh.WarmMesh).
    qc_mesh = WarmMesh()
    try:
        with clock.stage("mouth_track"):
            mouth = beside.result(progress)
        with clock.stage("plan"):
            shots = plan_shots(job, inputs, analysis, mouth.params, progress)
        with clock.stage("library"):
            libraries = build_libraries(job, inputs, shots, progress, kept=kept,
                                        seen=analysis.seen_array(), raw_points=raw_points)
        kept.clear()    # the library holds the crops it uses; the block goes before the render
        settle_codec(inputs)
        disclosure = DisclosureWriter.for_job(job, inputs.info, out_path=inputs.out_path,
                                              codec=inputs.codec, mode=inputs.mode, lo=inputs.lo,
                                              hi=inputs.hi, track_source=mouth.source,
                                              signing=signing)
        sampler = quick_qc_sampler(mouth.track, inputs, shots.landmarks, raw_points, mesh=qc_mesh)
        with clock.stage("render"):
            written = render_and_write(job, inputs, shots, libraries, progress, disclosure,
                                       qc_sampler=sampler)
    except BaseException:
        qc_mesh.close()
        raise
    warnings = inputs.warnings + mouth.warnings + shots.warnings + disclosure.warnings
    report = build_report(job, inputs, analysis, mouth, shots, written, warnings, clock.seconds)
    report["disclosure"] = disclosure.report()
    t = time.perf_counter()
    report["qc"] = quick_qc(sampler, mouth.track, inputs.n, warnings)
    report["timing_s"]["qc"] = round(time.perf_counter() - t, 3)
    report["timing_s"]["total"] = round(time.perf_counter() - clock.t0, 3)
    return save_job_report(job, report)
