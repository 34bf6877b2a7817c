"""Stage 8, report: what was rendered, from what, with which warnings and flagged ranges, what the
renderer learned per shot, and the quick QC figures (docs/report.md). Written beside the output
under a temporary name and renamed, like the output."""
from __future__ import annotations

import functools
import os
from fractions import Fraction

import numpy as np

from ..contract.errors import MediaError
from ..contract.files import atomic_json
from ..contract.jobspec import Job
from ..contract.rates import rate_string
from ..contract.report import REPORT_VERSION, VERSION_KEY
from ..contract.timecode import frames_to_tc
from ..face.result import ShotAnalysis
from ..media.roundtrip import coded_and_decoded
from ..qc.pixels import OutputSampler, quick_report_from_pixels
from ..qc.regions import clip_mouth_box
from ..render.pipeline import RenderPlan
from .inputs import Inputs
from .mouth import MouthShapes
from .plan import ShotPlans
from .render import Written


def build_report(job: Job, inputs: Inputs, analysis: ShotAnalysis, mouth: MouthShapes,
                 sp: ShotPlans, written: Written, warnings: list[str],
                 timing: dict[str, float]) -> dict:
    info, fps, lo, hi, n, start = inputs.info, inputs.fps, inputs.lo, inputs.hi, inputs.n, inputs.start
    tc_drop = info.drop_frame
    times, dub_len = inputs.dub_times, inputs.dub_len
    return {
        VERSION_KEY: REPORT_VERSION,  # read back by lipflap.contract.report.RunReport
        "input": os.path.abspath(job.video),
        "audio": os.path.abspath(job.audio) if job.audio else None,
        "output": written.output,
        "mode": inputs.mode,
        "codec": inputs.codec,
        "codec_choice": inputs.codec_choice,
        "range": {"start": start, "end": inputs.end, "handles": job.handles, "first": lo, "last": hi,
                  "frames": n},
        "timecodes": {"first": frames_to_tc(info.start_tc_frames + lo, fps, tc_drop),
                      "last": frames_to_tc(info.start_tc_frames + hi, fps, tc_drop),
                      "start_frame": frames_to_tc(info.start_tc_frames + start, fps, tc_drop),
                      "file_start": info.start_timecode},
        "fps": rate_string(fps),
        "size": [info.width, info.height],
        "frames_rendered": int(written.frames_rendered),
        "frames_passed_through": int(n - written.frames_rendered),
        "flagged_ranges": sorted(sp.flagged, key=lambda r: (r["start"], r["reason"])),
        # Hard cuts found inside the range: each side is planned as its own shot.
        "cuts": [int(c) for c in analysis.cuts if lo < c <= hi],
        "warnings": warnings,
        # The script the track was aligned to: `lipflap qc` reads the render against the same
        # phones (computed from the dub alone it judged a Spanish intervocalic b, which the
        # script-aware render leaves open as [β], as a missed closure: talk_c f58, 2026-12-06).
        "mouth_track": {"source": mouth.source, "language": job.language,
                        "text": mouth.text,
                        "shapes_file": os.path.abspath(job.shapes) if job.shapes else None},
        "dub": None if not job.audio else {
            "offset_s": job.audio_offset_s, "duration_s": round(dub_len, 4),
            "span_s": [round(float(max(times[0], 0.0)), 4),
                       round(float(min(times[-1] + 1 / float(fps), dub_len)), 4)]},
        "strength": job.strength,
        "sync": sync_summary(sp.plans, mouth.params, n),
        "shots": [plan_summary(off + lo, p) for off, p in sp.plans],
        "timing_s": {k: round(v, 3) for k, v in timing.items()},
    }


def plan_summary(first: int, p: RenderPlan) -> dict:
    """What the renderer learned and chose for one shot (for reading a render that looks wrong)."""
    d = {"first": first, "last": first + p.n - 1, "frames_rendered_from_model": int(p.active.sum())}
    if p.model is None:
        d["model"] = None
        return d
    m = p.model
    path = p.exemplar[p.exemplar >= 0]
    step = np.diff(path)
    d["model"] = {"frames_learned_from": m.frames_used, "aperture_widest": round(m.ap_max, 4),
                  "width_relaxed": round(m.width_rest, 4), "shape_modes_98pct": int(len(m.mode_sd)),
                  "library_frames": int(len(p.lib_frames)),
                  "exemplars_used": int(len(set(path.tolist()))),
                  # from one output frame to the next: the next source frame, the same one, or a jump
                  "steps_played_on": int(np.sum(step == 1)), "steps_held": int(np.sum(step == 0)),
                  "steps_jumped": int(np.sum((step != 1) & (step != 0))),
                  # frames built from an exemplar the frame scoring flagged (no clean one of that
                  # shape in the shot), with the reasons
                  "atypical_exemplar_frames": [{**r, "start": r["start"] + first,
                                                "end": r["end"] + first} for r in p.exemplar_flags],
                  # frames whose exemplar lacks the shape asked for (no clean closure or opening),
                  # and frames built from the actor library's footage (docs/report.md)
                  "no_clean_shape_frames": [{**r, "start": r["start"] + first,
                                             "end": r["end"] + first} for r in p.lacking],
                  "borrowed_frames": [{**r, "start": r["start"] + first, "end": r["end"] + first}
                                      for r in p.borrowed]}
    return d


def sync_summary(plans, params, n) -> dict:
    """What the render asked of the mouth: closures, openings and rests, against the track."""
    want = np.full(n, np.nan)
    for off, p in plans:
        if p.want is not None:
            w = p.want[:, 0].copy()
            w[~p.active] = np.nan
            want[off:off + p.n] = w
    track_ap = params[:, 0]
    ok = ~np.isnan(want)
    closed_track = track_ap < 0.05
    return {
        "track_closed_frames": int(closed_track.sum()),
        "rendered_closed_frames": int((ok & closed_track & (want < 0.05)).sum()),
        "track_open_frames": int((track_ap > 0.5).sum()),
        "rendered_open_frames": int((ok & (track_ap > 0.5) & (want > 0.5)).sum()),
        "mean_abs_aperture_error": float(np.mean(np.abs(want[ok] - track_ap[ok]))) if ok.any() else None,
    }


def quick_qc_sampler(track, inputs: Inputs, landmarks, raw_points, mesh=None) -> OutputSampler:
    """The quick QC's sampler for one face the render feeds: its mouth track, the clip's one
    mouth box from the face's landmarks (as `lipflap qc` reads it), the source's unsmoothed
    points for the actor's range, and the run's settled codec (with the source's colour and the
    frame's size) to measure its own loss with."""
    return OutputSampler(track, inputs.n, mesh=mesh, source_raw=raw_points,
                         mouth_box=clip_mouth_box(landmarks, inputs.info.shown_size[::-1]),
                         roundtrip=functools.partial(
                             coded_and_decoded, codec=inputs.codec, like=inputs.info,
                             frame_size=(inputs.info.width, inputs.info.height)))


def quick_qc(sampler, track, n: int, warnings: list[str]) -> dict | None:
    """The quick QC figures, measured on the output's pixels as they were written (the sampler the
    render fed); a check that fails is a warning, since the render is finished, but a missing
    module fails loudly (imports are at the top)."""
    try:
        return quick_report_from_pixels(sampler, track, n)
    except Exception as e:  # noqa: BLE001 - the render is finished; a failed check must not undo it
        warnings.append(f"the quick sync check could not run ({type(e).__name__}: {e}); run "
                        f"`lipflap qc` on the output.")
        return None
    finally:
        sampler.close()


def save_job_report(job, report: dict) -> dict:
    """The run's report, written where the job's `report` says (if it says), and then naming
    that file under "report"."""
    if job.report:
        write_report(job.report, report)
        report["report"] = os.path.abspath(job.report)
    return report


def write_report(path: str, data: dict) -> None:
    """The report, atomically (lipflap.contract.files), or one sentence saying why not."""
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise MediaError(f"cannot write the report {path}: folder {folder} does not exist.")
    try:
        atomic_json(path, data, indent=1, default=_json_default)
    except OSError as e:
        raise MediaError(f"cannot write the report {path} ({e.strerror}); free space or choose a "
                         f"writable folder for --report.") from None


def _json_default(o):
    if isinstance(o, Fraction):
        return rate_string(o)
    if isinstance(o, (np.integer,)):
        return int(o)
    if isinstance(o, (np.floating,)):
        return float(o)
    if isinstance(o, np.ndarray):
        return o.tolist()
    return str(o)
