"""`lipflap run`: one job (DESIGN 4) from source clip and dub to a finished render and its report.

    run_job(job, progress) -> report dict

Stages: probe and range -> picture analysis (decode pass 1, cached) -> mouth-shape track (from the
dub, or an edited track) -> per-shot plan (mouth model, exemplar library, Viterbi path, targets) ->
exemplar crops (decode pass 2, stops at the last exemplar) -> render and write (decode pass 3).
The output is written under a temporary name and renamed at the end (VideoWriter), the report is
written beside it the same way; any failure leaves no finished-looking file.
"""
from __future__ import annotations

import json
import math
import os
import time
from fractions import Fraction

import numpy as np

from .errors import JobError, LipflapError, MediaError, RangeError
from .jobspec import Job
from .memory import release as release_memory
from .render.pipeline import REST, RenderPlan, gather_library, plan_render, render_frame

# Codecs chosen from the output name when --codec is absent.
_EXT_CODEC = {".mov": ("prores_hq", "prores_4444"), ".mp4": ("h264", None),
              ".png": ("png", "png"), ".exr": ("exr", "exr")}
AUDIO_RATE = 48000


# ---- options -> concrete plan --------------------------------------------------------------

def resolve_range(job: Job, info) -> tuple[int, int]:
    """The job's 0-based inclusive range within the file (before handles)."""
    from .media.timecode import tc_to_frames
    n = info.frame_count
    if job.in_tc or job.out_tc:
        def tc(value, what):
            try:
                f = tc_to_frames(value, info.fps, info.drop_frame)
            except Exception:  # noqa: BLE001 - any malformed timecode is the user's to fix
                raise RangeError(f"{info.path}: {what} timecode {value!r} is not a timecode "
                                 f"(HH:MM:SS:FF); give the file's own timecode.") from None
            return f - info.start_tc_frames
        start = tc(job.in_tc, "--in") if job.in_tc else 0
        end = tc(job.out_tc, "--out") if job.out_tc else n - 1
        if start < 0 or end >= n or start > end:
            raise RangeError(f"{info.path}: timecodes {job.in_tc or info.start_timecode}-"
                             f"{job.out_tc or 'end'} fall outside the file, which runs from "
                             f"{info.start_timecode} for {n} frames; give --in/--out within it.")
        return start, end
    start = 0 if job.start_frame is None else job.start_frame
    end = n - 1 if job.end_frame is None else job.end_frame
    if start < 0 or end >= n or start > end:
        raise RangeError(f"{info.path}: frames {start}-{end} are outside the file, which has {n} "
                         f"frames (0-{n - 1}); give --start/--end within that range.")
    return start, end


def resolve_output(job: Job, info, language: str | None) -> tuple[str, str, str]:
    """(path, codec, mode) with the codec defaulted from the name and folders versioned."""
    if job.output is None or not job.output.path:
        raise JobError("no output given; use -o with a file, a folder or a %d pattern.")
    mode = job.output.mode or "full"
    codec = job.output.codec
    path = os.path.abspath(job.output.path)
    from .hostclient import next_version_path
    clip = os.path.splitext(os.path.basename(job.video))[0]
    if os.path.isdir(path) and not ("%" in os.path.basename(path) or "#" in os.path.basename(path)):
        if codec is None:
            codec = "prores_4444" if mode == "patch" else "prores_hq"
        ext = {"png": "", "exr": ""}.get(codec, ".mp4" if codec == "h264" else ".mov")
        # png/exr: a versioned sequence folder, which the writer creates when it finishes.
        return next_version_path(path, clip, language, ext), codec, mode
    base = os.path.basename(path)
    ext = os.path.splitext(base)[1].lower()
    if codec is None:
        if "%" in base or "#" in base:
            codec = "exr" if ext == ".exr" else "png"
        elif ext in _EXT_CODEC:
            codec = _EXT_CODEC[ext][1 if mode == "patch" else 0]
            if codec is None:
                raise JobError(f"{path}: patch mode needs alpha, which .mp4 (H.264) cannot carry; "
                               f"write a .mov (ProRes 4444) or a PNG/EXR sequence.")
        elif ext == "" or path.endswith(os.sep):
            codec = "png"
        else:
            raise JobError(f"{path}: cannot tell the codec from {ext!r}; use .mov, .mp4, a folder or a "
                           f"%d pattern, or give --codec.")
    if mode == "patch" and codec not in ("prores_4444", "png", "exr"):
        raise JobError(f"{path}: patch mode needs alpha; use --codec prores_4444, png or exr.")
    return path, codec, mode


def _audio_duration(path: str) -> tuple[float, int]:
    """Seconds of sound and channel count of the dub."""
    import av
    if not os.path.exists(path):
        raise MediaError(f"{path}: dub not found; check the --audio path.")
    try:
        with av.open(path) as c:
            if not c.streams.audio:
                raise MediaError(f"{path} has no audio stream; give the dub as a sound file.")
            a = c.streams.audio[0]
            layout = getattr(a.codec_context, "layout", None)
            ch = getattr(layout, "nb_channels", None) or getattr(a.codec_context, "channels", 1) or 1
            if a.duration is not None and a.time_base:
                return float(a.duration * a.time_base), ch
            if c.duration:
                return c.duration / 1e6, ch
            n = 0
            for fr in c.decode(audio=0):
                n += fr.samples
            return n / float(a.codec_context.sample_rate), ch
    except av.error.FFmpegError as e:
        raise MediaError(f"{path} is not a readable sound file ({e}); give a WAV, AIFF or similar.") from None


def _track_params(track, times: np.ndarray) -> np.ndarray:
    """(n, 4) mouth parameters at dub times `times` (rest outside the track)."""
    out = np.tile(np.array(REST, float), (len(times), 1))
    fps = float(track.fps)
    for k, t in enumerate(times):
        i = int(math.floor(t * fps + 1e-6))
        if 0 <= i < len(track.frames) and t >= 0:
            out[k] = track.frames[i].params()
    return out


def _atomic_json(path: str, data: dict) -> None:
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise MediaError(f"cannot write the report {path}: folder {folder} does not exist.")
    tmp = os.path.join(folder, f".{os.path.basename(path)}.lipflap-tmp")
    try:
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(data, f, indent=1, default=_json_default)
        os.replace(tmp, path)
    except OSError as e:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise MediaError(f"cannot write the report {path} ({e.strerror}); free space or choose a "
                         f"writable folder for --report.") from None


def _json_default(o):
    if isinstance(o, Fraction):
        return f"{o.numerator}/{o.denominator}"
    if isinstance(o, (np.integer,)):
        return int(o)
    if isinstance(o, (np.floating,)):
        return float(o)
    if isinstance(o, np.ndarray):
        return o.tolist()
    return str(o)


def _shots(analysis, lo: int, hi: int) -> list[tuple[int, int]]:
    """File-index spans [a, b] of the shots inside lo..hi (a cut starts a new shot)."""
    starts = sorted({lo, *[c for c in analysis.cuts if lo < c <= hi]})
    return [(a, (starts[k + 1] - 1) if k + 1 < len(starts) else hi) for k, a in enumerate(starts)]


def _ranges(mask: np.ndarray, offset: int) -> list[tuple[int, int]]:
    out, run = [], None
    for i, m in enumerate(mask):
        if m and run is None:
            run = i
        if not m and run is not None:
            out.append((run + offset, i - 1 + offset))
            run = None
    if run is not None:
        out.append((run + offset, len(mask) - 1 + offset))
    return out


# ---- the job ------------------------------------------------------------------------------

def run_job(job: Job, progress) -> dict:
    """Render `job`; returns the report (also written to job.report when given)."""
    from .media.audio_stream import AudioReader
    from .media.decode import read_frames
    from .media.encode import VideoWriter
    from .media.probe import probe
    from .media.timecode import frames_to_tc

    timing: dict[str, float] = {}
    warnings: list[str] = []
    t0 = time.perf_counter()
    if not os.path.exists(job.video):
        raise MediaError(f"{job.video}: video not found; check the path.")
    if job.audio is None and job.shapes is None:
        raise JobError("no dub given; use --audio DUB (or --shapes TRACK.json to render an edited track).")
    info = probe(job.video)
    if job.fps is not None:
        from .media.rates import parse_rate
        if parse_rate(job.fps) != info.fps:
            warnings.append(f"the job says {job.fps} fps but {job.video} is {info.fps} fps; the "
                            f"file's rate is used.")
    if info.vfr:
        warnings.append(f"{job.video} has a variable frame rate: its frames are rendered one after "
                        f"another at a constant {float(info.fps):.3f} fps, so the dub drifts where "
                        f"the recorder dropped frames; convert it to a constant rate first "
                        f"(e.g. ffmpeg -i IN -fps_mode cfr OUT) if it must stay in sync.")
    start, end = resolve_range(job, info)
    if job.handles < 0:
        raise JobError(f"--handles must be 0 or more, not {job.handles}.")
    lo, hi = max(0, start - job.handles), min(info.frame_count - 1, end + job.handles)
    if job.handles and (lo > start - job.handles or hi < end + job.handles):
        warnings.append(f"handles were cut to the file's ends: frames {lo}-{hi} are rendered.")
    n = hi - lo + 1
    fps = info.fps
    language = job.language
    out_path, codec, mode = resolve_output(job, info, language)
    from .media.encode import check_frame_size
    check_frame_size(out_path, codec, info.width, info.height, alpha=(mode == "patch"))
    for other in (job.video, job.audio):
        if other and os.path.exists(out_path) and os.path.samefile(out_path, other):
            raise JobError(f"refusing to write {out_path}: it is an input of this job; choose "
                           f"another output name.")
    if job.report:
        # The report is written last, by rename: over an input or the render it would destroy it.
        rep = os.path.abspath(job.report)
        for other in (job.video, job.audio, job.transcript, job.shapes):
            if other and os.path.exists(rep) and os.path.samefile(rep, other):
                raise JobError(f"refusing to write the report over {rep}: it is an input of this "
                               f"job; choose another --report name.")
        if rep == out_path:
            raise JobError(f"--report {rep} is the output's own name; give the report a .json name "
                           f"of its own.")

    # Where each rendered frame sits in the dub.
    no_dub: list[dict] = []
    dub_times = job.audio_offset_s + (np.arange(lo, hi + 1) - start) / float(fps)
    dub_len, dub_ch = (None, 1)
    if job.audio:
        dub_len, dub_ch = _audio_duration(job.audio)
        if dub_times[-1] + 1.0 / float(fps) <= 0 or dub_times[0] >= dub_len:
            raise RangeError(
                f"{job.audio}: --audio-offset {job.audio_offset_s:g}s puts frame {start} at "
                f"{job.audio_offset_s:g}s of a {dub_len:.2f}s dub, so the dub lies entirely outside "
                f"frames {lo}-{hi}; give the offset of frame {start} within the dub.")
        inside = (dub_times >= 0) & (dub_times < dub_len)
        if not inside.all():
            outs = _ranges(~inside, lo)
            warnings.append("the dub does not cover frames " + ", ".join(
                f"{a}-{b}" for a, b in outs) + "; the mouth rests there and the sound is silent.")
            no_dub = [{"start": a, "end": b, "reason": "no_dub"} for a, b in outs]
    timing["probe"] = time.perf_counter() - t0

    # 1. picture analysis
    t = time.perf_counter()
    from .face.analyze import analyze_video
    analysis = analyze_video(job.video, lo, hi, face=job.face, progress=progress)
    timing["analyze"] = time.perf_counter() - t
    # The render reads the smoothed landmarks only; the raw ones (kept in the cache for QC and
    # `lipflap analyze`) would double what a long shot holds through the render.
    for ff in analysis.frames:
        ff.raw_landmarks = None
    release_memory()
    if str(job.face).strip().isdigit() and int(job.face) not in {int(k) for k in analysis.faces}:
        # A face id that no shot of the range has is a wrong choice, not a faceless shot.
        found = ", ".join(str(k) for k in sorted(int(k) for k in analysis.faces)) or "none"
        raise JobError(f"{job.video}: --face {job.face} is not among the faces found in frames "
                       f"{lo}-{hi} (ids: {found}; see `lipflap analyze`); give one of them or auto.")

    # 2. mouth-shape track
    t = time.perf_counter()
    text = job.text
    if job.transcript:
        try:
            with open(job.transcript, encoding="utf-8") as f:
                text = f.read()
        except OSError as e:
            raise MediaError(f"{job.transcript}: cannot read the transcript ({e.strerror}).") from None
    if job.shapes:
        from .mouth.track import MouthTrack
        track = MouthTrack.load(job.shapes)
        track_source = "edited"
        params = _track_params(track, dub_times)
    else:
        from .mouth.build import mouth_track_for_audio
        progress.start("mouth track", 1)
        track = mouth_track_for_audio(job.audio, fps, text=text, language=language, n_frames=n,
                                      start_s=float(dub_times[0]), progress=progress)
        track_source = track.source or ("script" if text else "audio")
        params = np.array([fr.params() for fr in track.frames[:n]], float)
        if len(params) < n:
            params = np.vstack([params, np.tile(np.array(REST), (n - len(params), 1))])
    warnings.extend(getattr(track, "warnings", []) or [])
    if job.audio:
        params[(dub_times < 0) | (dub_times >= dub_len)] = REST
    timing["mouth_track"] = time.perf_counter() - t

    # 3. plan per shot
    t = time.perf_counter()
    progress.start("plan", 1)
    lms = [ff.landmarks for ff in analysis.frames]
    usable = np.array([ff.usable for ff in analysis.frames])
    plans: list[tuple[int, RenderPlan]] = []
    for a, b in _shots(analysis, lo, hi):
        sl = slice(a - lo, b - lo + 1)
        plans.append((a - lo, plan_render(lms[sl], usable[sl], params[sl], job.strength)))
    progress.set(1)
    release_memory()
    active = np.zeros(n, bool)
    for off, p in plans:
        active[off:off + p.n] = p.active
    timing["plan"] = time.perf_counter() - t

    # Frames the dub does not reach are flagged too, so hosts mark them like any other.
    flagged = [dict(r) for r in analysis.flagged_ranges()] + no_dub
    for r in flagged:
        span = active[r["start"] - lo:r["end"] - lo + 1]
        r["action"] = ("rendered" if span.all() else "passed_through" if not span.any()
                       else "partly_passed_through")
    if not active.any():
        warnings.append(f"no usable face in frames {lo}-{hi} of {job.video}; the output is the "
                        f"input unchanged.")
    else:
        # Frames passed through that the analysis did not flag (too few to learn from).
        flagged_idx = {i for r in flagged for i in range(r["start"], r["end"] + 1)}
        extra = [i + lo for i in np.flatnonzero(~active) if i + lo not in flagged_idx]
        for a, b in _ranges(np.isin(np.arange(lo, hi + 1), extra), lo):
            flagged.append({"start": a, "end": b, "reason": "too_few_face_frames" if job.strength > 0
                            else "strength_0", "action": "passed_through"})

    # 4. exemplar crops (decode pass 2)
    t = time.perf_counter()
    libs = []
    looks = []
    need = [p for _, p in plans if p.active.any()]
    if need:
        last = max(int(p.lib_frames.max()) + off for off, p in plans if p.active.any())
        progress.start("library", last + 1)
        from .render.pipeline import LibraryBuilder
        builders = [LibraryBuilder(p) for _, p in plans]
        for fr in read_frames(job.video, lo, lo + last, info=info):
            progress.advance(1)
            i = fr.index - lo
            k = int(np.searchsorted([off for off, _ in plans], i, side="right") - 1)
            off, p = plans[k]
            if i - off in builders[k].wanted:
                builders[k].feed(i - off, fr)
        for b in builders:
            lib, look = b.finish()
            libs.append(lib)
            looks.append(look)
    else:
        libs = [{} for _ in plans]
        looks = [None for _ in plans]
    timing["library"] = time.perf_counter() - t

    # 5. render and write (decode pass 3)
    t = time.perf_counter()
    audio = None
    if job.audio:
        ch = 2 if dub_ch >= 2 else 1
        # Streamed beside the picture: a 10-minute dub held whole at 48 kHz is 115 MB a channel.
        audio = AudioReader(job.audio, AUDIO_RATE, ch, offset_s=float(dub_times[0]),
                            duration_s=n / float(fps))
    try:
        writer = VideoWriter(out_path, codec=codec, fps=fps, width=info.width, height=info.height,
                             like=info, first_frame_number=lo, alpha=(mode == "patch"),
                             audio=audio, inputs=[p for p in (job.video, job.audio) if p])
    except BaseException:
        if audio is not None:
            audio.close()
        raise
    rendered = 0
    progress.start("render", n)
    which = np.zeros(n, int)
    for k, (off, p) in enumerate(plans):
        which[off:off + p.n] = k

    def synth(fr):
        i = fr.index - lo
        k = which[i]
        off, p = plans[k]
        if active[i] and looks[k] is not None:
            return k, render_frame(p, libs[k], looks[k], i - off, fr)
        return k, None

    def write(fr, k, patch):
        if mode == "patch":
            writer.write(_patch_frame(patch, info.width, info.height, looks[k]))
        elif patch is None:
            writer.write_frame(fr)
        else:
            writer.write_composite(fr, patch.rgb / looks[k].peak, patch.alpha, patch.x0, patch.y0)

    # Synthesis runs one or two frames ahead in a worker thread while this thread decodes and
    # encodes (OpenCV, numpy and the encoders release the GIL), so the stages overlap.
    from collections import deque
    from concurrent.futures import ThreadPoolExecutor
    pending: deque = deque()
    pool = ThreadPoolExecutor(max_workers=1)
    try:
        for fr in read_frames(job.video, lo, hi, info=info):
            pending.append((fr, pool.submit(synth, fr)))
            if len(pending) > 2:
                done_fr, fut = pending.popleft()
                k, patch = fut.result()
                write(done_fr, k, patch)
                rendered += patch is not None
                progress.advance(1)
        while pending:
            done_fr, fut = pending.popleft()
            k, patch = fut.result()
            write(done_fr, k, patch)
            rendered += patch is not None
            progress.advance(1)
        final = writer.close()
    except BaseException:
        for _, fut in pending:
            fut.cancel()
        writer.abort()
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        if audio is not None:
            audio.close()
    timing["render"] = time.perf_counter() - t

    # 6. report
    tc_drop = info.drop_frame
    report = {
        "input": os.path.abspath(job.video),
        "audio": os.path.abspath(job.audio) if job.audio else None,
        "output": final,
        "mode": mode,
        "codec": codec,
        "range": {"start": start, "end": end, "handles": job.handles, "first": lo, "last": hi,
                  "frames": n},
        "timecodes": {"first": frames_to_tc(info.start_tc_frames + lo, fps, tc_drop),
                      "last": frames_to_tc(info.start_tc_frames + hi, fps, tc_drop),
                      "start_frame": frames_to_tc(info.start_tc_frames + start, fps, tc_drop),
                      "file_start": info.start_timecode},
        "fps": f"{fps.numerator}/{fps.denominator}",
        "size": [info.width, info.height],
        "frames_rendered": int(rendered),
        "frames_passed_through": int(n - rendered),
        "flagged_ranges": sorted(flagged, key=lambda r: (r["start"], r["reason"])),
        # Hard cuts found inside the range: each side is planned as its own shot.
        "cuts": [int(c) for c in analysis.cuts if lo < c <= hi],
        "warnings": warnings,
        "mouth_track": {"source": track_source, "language": language,
                        "shapes_file": os.path.abspath(job.shapes) if job.shapes else None},
        "dub": None if not job.audio else {
            "offset_s": job.audio_offset_s, "duration_s": round(dub_len, 4),
            "span_s": [round(float(max(dub_times[0], 0.0)), 4),
                       round(float(min(dub_times[-1] + 1 / float(fps), dub_len)), 4)]},
        "strength": job.strength,
        "sync": _sync_summary(plans, params, n),
        "shots": [_plan_summary(off + lo, p) for off, p in plans],
        "timing_s": {k: round(v, 3) for k, v in timing.items()},
    }
    t = time.perf_counter()
    report["qc"] = _qc(plans, lms, track, n, warnings)
    report["timing_s"]["qc"] = round(time.perf_counter() - t, 3)
    report["timing_s"]["total"] = round(time.perf_counter() - t0, 3)
    if job.report:
        _atomic_json(job.report, report)
        report["report"] = os.path.abspath(job.report)
    return report


def _patch_frame(patch, width: int, height: int, look) -> np.ndarray:
    """Full-size RGBA, transparent except the lower-face patch."""
    img = np.zeros((height, width, 4), np.uint16)
    if patch is None:
        return img
    h, w = patch.alpha.shape
    rgb = np.clip(np.rint(patch.rgb / look.peak * 65535.0), 0, 65535).astype(np.uint16)
    img[patch.y0:patch.y0 + h, patch.x0:patch.x0 + w, :3] = rgb
    img[patch.y0:patch.y0 + h, patch.x0:patch.x0 + w, 3] = np.rint(
        np.clip(patch.alpha, 0, 1) * 65535.0).astype(np.uint16)
    return img


def _plan_summary(first: int, p: RenderPlan) -> dict:
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
                  "atypical_exemplar_frames": [{**r, "start": r["start"] + first, "end": r["end"] + first}
                                               for r in p.exemplar_flags]}
    return d


def _sync_summary(plans, params, n) -> dict:
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


def _qc(plans, lms, track, n, warnings) -> dict | None:
    """The QC helper's quick report on the rendered geometry, when lipflap.qc is installed."""
    try:
        from .qc.measure import quick_report
    except ImportError:
        return None
    rendered = list(lms)
    for off, p in plans:
        for i in range(p.n):
            lm = lms[off + i]
            if lm is None or not p.active[i]:
                continue
            t = p.targets(i)
            if t is None:
                continue
            # The analysis's own arrays take the rendered points: this is their last use, and a
            # copy of every frame's landmarks would grow with the shot's length.
            lm[p.model.region] = t[:len(p.model.region)]
    try:
        q = quick_report(rendered, track, n_frames=n)
    except Exception as e:  # noqa: BLE001 - the render is finished; a failed check must not undo it
        warnings.append(f"the quick sync check could not run ({type(e).__name__}: {e}); run "
                        f"`lipflap qc` on the output.")
        return None
    if isinstance(q, dict):
        q.setdefault("measured_on", "rendered target landmarks (run `lipflap qc` for the output's pixels)")
    return q
