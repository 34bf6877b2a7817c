"""The project's own measurement of a lip-sync result, and its report.

Two entry points:
- `quick_report(output, track, source=None, ...)`: what `lipflap run` puts into its report. Pass in
  what the run already has (the output's per-frame landmarks or its ShotAnalysis, a FidelityMeter
  fed while writing) and nothing is decoded again.
- `measure_video(video, track, source=None, ...)`: what `lipflap qc` does with files: analyse the
  output (and the source), decode both once for fidelity, and keep the frames the contact sheet
  shows.

Both return the same report dict: {"verdict", "figures": {name: {value, verdict, target, ...}},
"flagged_ranges": [{start, end, reason, figure}], "events", "series", ...}. Every figure has a
pass/warn/fail verdict against docs/quality.md so hosts can mark shots for manual work.
"""
from __future__ import annotations

import os
from typing import Sequence

import numpy as np

from ..contract.errors import LipflapError
from . import regions, sync
from .expected import Expected, expected_from_track
from .fidelity import FidelityMeter
from .verdicts import ORDER, figure, overall, verdict

REPORT_VERSION = 1
# Contact-sheet picks per kind of moment.
SHEET_PER_KIND = 4

# A timing r taken on the quick QC's sample is this close to the r on every frame (on the
# yardstick's own landmarks of 20 renders: -0.028..+0.044, docs/quality.md 'The quick QC's timing
# r'); said beside the figure so a pass near the target is read as the close call it is.
SAMPLED_R0_NOTE = ("taken on the frames re-tracked while writing: within about 0.045 of every "
                   "frame's r; for a value near the target, lipflap qc re-tracks every frame")


def landmarks_of(analysis, raw: bool = False) -> tuple[list, list[list[str]]]:
    """(per-frame landmarks or None, per-frame flags) from a ShotAnalysis, an (n, 478, 2) array
    (NaN rows: no face) or a list of arrays / None.

    raw: take Face Mesh's unsmoothed landmarks where the analysis has them. The mouth measured on
    an output must be what its pixels show: the analysis's temporal smoothing (right for
    rendering) rounds off one-frame closures, which is exactly what QC checks (measured on a
    talk_b render here: a closure at 0.01 raw read 0.21 smoothed and failed)."""
    frames = getattr(analysis, "frames", None)
    if frames is not None and frames and hasattr(frames[0], "landmarks"):
        lms, flags = [], []
        for f in frames:
            ok = getattr(f, "usable", True) and f.landmarks is not None
            lm = getattr(f, "raw_landmarks", None) if raw else None
            lm = f.landmarks if lm is None else lm
            lms.append(np.asarray(lm) if ok else None)
            fl = getattr(f, "flags", None) or []
            flags.append([str(x) for x in (fl if isinstance(fl, (list, tuple, set)) else [fl])])
        return lms, flags
    seq = list(analysis)
    lms = [p if regions.valid(p) else None for p in seq]
    return lms, [[] for _ in seq]


def _analyze(path: str, progress=None, *, audio_path: str | None = None, face: str = "auto"):
    from ..face.analyze import analyze_video
    return analyze_video(path, face=face, audio_path=audio_path, progress=progress)


def sync_figures(output_landmarks: Sequence, expected: Expected,
                 sampled: np.ndarray | None = None,
                 uniform: np.ndarray | None = None,
                 timing_weights: np.ndarray | None = None) -> tuple[dict, dict]:
    """Figures measured from the output's landmarks alone (sync, phonetics, face found), and the
    series/events behind them. `sampled`: (n,) bool of the frames that were tracked at all (the
    run's quick QC re-tracks a subsample); the others are "not measured", not "no face".
    `uniform`: (n,) bool of the sampled frames spread evenly over the clip: the clip's aperture
    range and the correlations are taken on them alone (the judged moments, closures and open
    vowels, are over-represented in the sample and would widen the range and raise r)."""
    n = len(output_landmarks)
    measured = sync.measured_aperture(output_landmarks)
    even = measured if uniform is None else np.where(uniform, measured, np.nan)
    norm = sync.normalize(measured, even)
    exp = expected.aperture[:n]
    if len(exp) < n:
        exp = np.concatenate([exp, np.full(n - len(exp), np.nan)])
    corr = sync.offset_correlation(even, exp)
    phon, results = sync.phonetic_figures(norm, expected)
    if sampled is None:
        found = float(np.mean(np.isfinite(measured))) if n else None
    else:
        found = float(np.mean(np.isfinite(measured[sampled]))) if sampled.any() else None
    valid = measured[np.isfinite(measured)]
    span = float(np.percentile(valid, 95) - np.percentile(valid, 5)) if len(valid) >= 5 else None
    figs = {
        "sync_r": figure("sync_r", corr["best_r"], offset_frames=corr["best_offset_frames"],
                         r_at_0=None if corr["r_at_0"] is None else round(corr["r_at_0"], 4)),
        "sync_offset_frames": figure("sync_offset_frames", corr["best_offset_frames"]),
        "bilabial_closure": figure("bilabial_closure", phon["bilabial_closure"]["value"],
                                   n=phon["bilabial_closure"]["n"],
                                   unmeasured=phon["bilabial_closure"]["unmeasured"],
                                   from_=expected.events_from),
        "open_vowel_opening": figure("open_vowel_opening", phon["open_vowel_opening"]["value"],
                                     n=phon["open_vowel_opening"]["n"],
                                     unmeasured=phon["open_vowel_opening"]["unmeasured"],
                                     from_=expected.events_from),
        "pause_rest": figure("pause_rest", phon["pause_rest"]["value"], n=phon["pause_rest"]["n"],
                             unmeasured=phon["pause_rest"]["unmeasured"],
                             from_=expected.events_from),
        "face_found": figure("face_found", found,
                             frames=n if sampled is None else int(sampled.sum())),
        "mouth_aperture_range": figure("mouth_aperture_range", span),
    }
    # with timing_weights the timing r is taken on every re-tracked frame, each weighted for
    # the frames it stands for (the uniform ones alone varied 0.1 from every frame's r)
    tim = sync.timing_figures(even if timing_weights is None else measured, expected.phones,
                              expected.fps, timing_weights)
    if tim is not None:
        figs["timing_lag_frames"] = _lag_figure(tim)
        figs["timing_r0"] = figure("timing_r0", tim["r0"]) if timing_weights is None else \
            figure("timing_r0", tim["r0"], note=SAMPLED_R0_NOTE)
    rnd = sync.rounding_figures(sync.measured_width(output_landmarks), expected.phones,
                                expected.fps)
    if rnd is not None:
        figs["rounding_width_ratio"] = figure("rounding_width_ratio", rnd["ratio"],
                                              rounded=rnd["rounded"], spread=rnd["spread"])
    for f in figs.values():
        if "from_" in f:
            f["events_from"] = f.pop("from_")
    series = {"measured_aperture": _list(measured), "measured_normalized": _list(norm),
              "expected_aperture": _list(exp)}
    return figs, {"series": series, "events": results}


# Below this r at the best lag the mouth follows no lag of the dub (bench_qc_agree: a render
# checked against the wrong dub 0.42, good renders 0.74-0.85 in both QCs): its best lag is chance
# and cannot pass as "on time".
LAG_MIN_R = 0.5


def _lag_figure(tim: dict) -> dict:
    f = figure("timing_lag_frames", tim["lag"], best_r=round(tim["best_r"], 4),
               r_by_lag=tim["r_by_lag"])
    if tim["best_r"] < LAG_MIN_R:
        f["verdict"] = "fail"
        f["target"] += f" at r >= {LAG_MIN_R} (no lag of the dub fits the mouth)"
    return f


QUICK_SHARPNESS_READ_ON = ("the frames before encoding: the codec's own loss is not in it; "
                           "`lipflap qc` on the written file reads it")
QUICK_SHARPNESS_CODED = ("the frames before encoding, times the codec's own loss on the mouth box "
                         "(codec_factor: the box on {n} frames, coded and decoded in its band of "
                         "the frame's full width as the output's codec codes it, sharpness after "
                         "over before)")


def fidelity_figures(fid: dict | None) -> dict:
    """The figures of a fidelity result: all of them from a FidelityMeter; those it has from the
    run's quick QC (mouth-box sharpness on every frame)."""
    if not fid:
        return {}
    if "psnr_db_median" not in fid:
        # Read on the composited frames before the encoder, then scaled by the codec's own
        # loss on a few of their mouth boxes (lipflap.qc.pixels.CODEC_FRAMES); without that the
        # codec's loss is not in it (held-out ve_hood and ve_sticker, ProRes 4444: 0.991 and
        # 0.978 before it, 0.943 and 0.950 from `lipflap qc` on the written files, 0.938 and
        # 0.913 on the yardstick), and the figure says where it was read.
        if "codec_factor" in fid:
            return {"mouth_sharpness_ratio": figure(
                "mouth_sharpness_ratio", fid["sharpness_ratio"], frames=fid["sharpness_frames"],
                before_codec=_r(fid["sharpness_before_codec"]), codec_factor=_r(fid["codec_factor"]),
                read_on=QUICK_SHARPNESS_CODED.format(n=fid["codec_frames"]))}
        read_on = QUICK_SHARPNESS_READ_ON
        if fid.get("codec_error"):
            read_on += f" (the codec's loss could not be measured: {fid['codec_error']})"
        return {"mouth_sharpness_ratio": figure("mouth_sharpness_ratio", fid["sharpness_ratio"],
                                                frames=fid["sharpness_frames"], read_on=read_on)}
    timing = dict(located=fid.get("timing_located", False))
    return {
        # The value is the median (the yardstick's figure); the verdict also holds the worst
        # tenth of frames to the target, so a render that damages a few seconds cannot hide.
        "psnr_outside_lower_face_db": _psnr_figure(fid),
        "mouth_sharpness_ratio": figure("mouth_sharpness_ratio", fid["sharpness_ratio"],
                                        frames=fid["sharpness_frames"]),
        "mouth_roughness_ratio": figure("mouth_roughness_ratio", fid["roughness_ratio"],
                                        output=_r(fid["roughness_output"]),
                                        source=_r(fid["roughness_source"]),
                                        activity_ratio=_r(fid["activity_ratio"])),
        "lower_face_colour_shift": figure("lower_face_colour_shift", fid.get("colour_shift"),
                                          max=_r(fid.get("colour_shift_max"))),
        **_shape_figure(fid.get("shape")),
        "frames_dropped": figure("frames_dropped", fid["frames_dropped"], at=fid["dropped_at"],
                                 source_frames=fid["frames_source"], **timing),
        "frames_added": figure("frames_added", fid["frames_added"], at=fid["added_at"],
                               output_frames=fid["frames_output"], **timing),
    }


def _shape_figure(shape: dict | None) -> dict:
    if not shape:
        return {}
    return {"lip_shape_outside": figure(
        "lip_shape_outside", shape["fraction"], frames_measured=shape["frames_measured"],
        per_feature={k: round(v, 4) for k, v in shape["per_feature"].items()},
        source_range=shape["range"])}


def _psnr_figure(fid: dict) -> dict:
    per = [p for p in fid.get("psnr_db_per_frame", []) if p is not None]
    p10 = float(np.percentile(per, 10)) if per else None
    f = figure("psnr_outside_lower_face_db", fid["psnr_db_median"], min=_r(fid["psnr_db_min"]),
               p10=_r(p10))
    worse = verdict("psnr_outside_lower_face_db", p10)
    if ORDER[worse] > ORDER[f["verdict"]]:
        f["verdict"] = worse
    f["target"] += " (median and 90% of frames)"
    return f


def flagged_ranges(events: list[dict], series: dict, fid: dict | None,
                   frame_flags: list[list[str]] | None = None, shape: dict | None = None,
                   sampled: np.ndarray | None = None) -> list[dict]:
    """Frame ranges a host should mark: no face, missed closures/openings/rests, changed picture
    outside the lower face, dropped or added frames. Adjacent frames of one reason merge."""
    marks: list[tuple[int, int, str, str]] = []
    measured = series["measured_aperture"]
    for i, v in enumerate(measured):
        if v is None and (sampled is None or sampled[i]):
            why = ", ".join(frame_flags[i]) if frame_flags and i < len(frame_flags) and \
                frame_flags[i] else ""
            marks.append((i, i, "no usable face in the output" + (f" ({why})" if why else ""),
                          "face_found"))
    texts = {"bilabial": ("lips not closed on p/b/m", "bilabial_closure"),
             "open": ("mouth not open on an open vowel", "open_vowel_opening"),
             "pause": ("mouth not at rest in a pause", "pause_rest")}
    for e in events:
        if e["met"] is False:
            text, fig = texts[e["kind"]]
            marks.append((e["start"], e["end"], text, fig))
    if fid:
        for i in fid.get("psnr_low_frames", []):
            marks.append((i, i, "picture changed outside the lower face", "psnr_outside_lower_face_db"))
        for i in fid.get("dropped_at", []):
            marks.append((i, i, "a source frame is missing before this frame", "frames_dropped"))
        for i in fid.get("added_at", []):
            marks.append((i, i, "this frame repeats the previous source frame", "frames_added"))

    shape = shape if shape is not None else (fid or {}).get("shape")
    for i, words in ((shape or {}).get("frames") or {}).items():
        marks.append((int(i), int(i), "lips outside the actor's own range: " + ", ".join(words),
                      "lip_shape_outside"))
    marks.sort(key=lambda m: (m[2], m[0]))
    merged: list[list] = []
    for a, b, text, fig in marks:
        if merged and merged[-1][2] == text and a <= merged[-1][1] + 1:
            merged[-1][1] = max(merged[-1][1], b)
        else:
            merged.append([a, b, text, fig])
    merged.sort(key=lambda m: (m[0], m[1]))
    return [{"start": a, "end": b, "reason": text, "figure": fig} for a, b, text, fig in merged]


def assemble(expected: Expected, output_landmarks: Sequence, fid: dict | None = None, *,
             frame_flags: list[list[str]] | None = None, meta: dict | None = None,
             shape: dict | None = None, sampled: np.ndarray | None = None,
             uniform: np.ndarray | None = None,
             timing_weights: np.ndarray | None = None) -> dict:
    """The report; `shape`: lip shape/colour outliers measured apart from `fid` (the run's
    quick QC measures them without a fidelity pass)."""
    figs, extra = sync_figures(output_landmarks, expected, sampled, uniform, timing_weights)
    figs.update(fidelity_figures(fid))
    if shape is not None and "lip_shape_outside" not in figs:
        figs.update(_shape_figure(shape))
    report = {"lipflap_qc": REPORT_VERSION, **(meta or {}), "fps": expected.fps,
              "frames": len(output_landmarks), "verdict": overall(figs), "figures": figs,
              "flagged_ranges": flagged_ranges(extra["events"], extra["series"], fid, frame_flags,
                                               shape, sampled),
              "events_from": expected.events_from, "events": extra["events"],
              "series": extra["series"]}
    if fid and "psnr_db_per_frame" in fid:
        report["series"]["psnr_db"] = fid["psnr_db_per_frame"]
        if fid.get("size_mismatch"):
            report["size_mismatch"] = fid["size_mismatch"]
    return report


def quick_report(output, track, source=None, *, fidelity: FidelityMeter | dict | None = None,
                 source_landmarks=None, n_frames: int | None = None, progress=None,
                 series: bool = False, shape: dict | None = None,
                 sampled: np.ndarray | None = None, uniform: np.ndarray | None = None,
                 timing_weights: np.ndarray | None = None) -> dict:
    """The QC figures for `lipflap run`'s report, cheaply.

    output: the output's ShotAnalysis, its per-frame landmarks ((n, 478, 2) array or list with
        None), or the output file's path (then it is analysed: one decode with Face Mesh).
    track: the MouthTrack rendered (or its JSON dict / path).
    fidelity: a FidelityMeter the renderer fed with (output, source, source landmarks) while
        writing, or its result(); when absent and `source` is a path and `output` a path, both are
        decoded once to measure it.
    source_landmarks: the source's ShotAnalysis or landmarks (only needed for that decode).
    n_frames: the frame count the output should have (the source range's), default the output's.
    shape: lip shape/colour outliers already measured (lipflap.qc.pixels.OutputSampler).
    series: keep the per-frame curves (aperture measured/expected, PSNR) in the report; off by
        default so a long job's report stays small (`lipflap qc` keeps them for its plots).
    sampled, uniform, timing_weights: the frames re-tracked, those spread evenly, and each
        re-tracked frame's weight in the timing r (lipflap.qc.pixels); None: every frame.
    """
    if isinstance(output, (str, os.PathLike)):
        out_path = os.fspath(output)
        output = _analyze(out_path, progress)
    else:
        out_path = None
    lms, flags = landmarks_of(output, raw=True)
    expected = expected_from_track(track, n_frames or len(lms))
    fid = None
    if isinstance(fidelity, FidelityMeter):
        fid = fidelity.result()
    elif isinstance(fidelity, dict):
        fid = fidelity
    elif source is not None and out_path is not None:
        src_lms = landmarks_of(source_landmarks)[0] if source_landmarks is not None else \
            landmarks_of(_analyze(os.fspath(source), progress))[0]
        fid = measure_fidelity_files(out_path, os.fspath(source), src_lms, progress=progress)
    report = assemble(expected, lms, fid, frame_flags=flags, shape=shape, sampled=sampled,
                      uniform=uniform, timing_weights=timing_weights)
    if not series:
        report.pop("series", None)
        # the met moments are in the figures; keep only the missed ones, which hosts mark
        report["events"] = [e for e in report["events"] if e["met"] is False]
    return report


def source_range(source: str, n_output: int, start: int | None = None,
                 end: int | None = None) -> tuple[int, int]:
    """The source frames (inclusive) the output was rendered from: from `start` (default 0), as
    many frames as the output has (or to `end`). Never the whole file by default: a render of
    the first 250 frames of a longer source read as 50 frames dropped."""
    from ..media.decode import check_range
    from ..media.probe import probe
    si = probe(source)
    a = int(start or 0)
    b = int(end) if end is not None else min(si.frame_count - 1, a + n_output - 1)
    return check_range(si, a, b)


def measure_fidelity_files(output: str, source: str, source_landmarks: Sequence, *,
                           progress=None, keep: set[int] | None = None,
                           kept: dict | None = None,
                           source_frames: tuple[int, int] | None = None,
                           output_landmarks: Sequence | None = None,
                           source_shape_landmarks: Sequence | None = None) -> dict:
    """Decode output and source side by side into a FidelityMeter (output frame i against source
    frame source_frames[0] + i). Frames whose index is in `keep` are stored in
    `kept[index] = (source_image, output_image)` for the contact sheet. With the output's own
    landmarks, the lips of every output frame are measured against the actor's range in the
    source (lipflap.qc.shape) into result["shape"]."""
    from .shape import lip_features, outliers
    from ..media.decode import read_frames
    from ..media.probe import probe
    oi, si = probe(output), probe(source)
    if (oi.width, oi.height) != (si.width, si.height):
        raise LipflapError(f"{output} is {oi.width}x{oi.height} but the source {source} is "
                           f"{si.width}x{si.height}; give the source the output was rendered from.")
    s0, s1 = source_frames if source_frames is not None else (0, si.frame_count - 1)
    n_src = s1 - s0 + 1
    meter = FidelityMeter(regions.clip_mouth_box(source_landmarks, (si.height, si.width)))
    n = max(oi.frame_count, n_src)
    if progress is not None:
        progress.start("qc fidelity", n)
    # The output at the source's depth: a 10-bit render of an 8-bit source compared at 16 bits
    # lost the 8-bit rounding the source's texture carries and read softer (mouth sharpness 0.94
    # on a talk_b render the yardstick, comparing 8-bit frames, reads 0.99; 0.99 here at 8 bits).
    it_o = read_frames(output, info=oi, deep=si.bit_depth > 8)
    it_s = read_frames(source, s0, s1, info=si)
    src_feat: list = []
    out_feat: dict = {}
    for i in range(n):
        fo = next(it_o, None) if i < oi.frame_count else None
        fs = next(it_s, None) if i < n_src else None
        io = fo.image if fo is not None else None
        is_ = fs.image if fs is not None else None
        lm = source_landmarks[i] if i < len(source_landmarks) else None
        meter.add(io, is_, lm)
        if output_landmarks is not None:
            slm = lm if source_shape_landmarks is None else (
                source_shape_landmarks[i] if i < len(source_shape_landmarks) else None)
            if is_ is not None and slm is not None:
                src_feat.append(lip_features(slm, is_))
            olm = output_landmarks[i] if i < len(output_landmarks) else None
            if io is not None:
                out_feat[i] = lip_features(olm, io) if olm is not None else None
        if keep and i in keep and kept is not None:
            kept[i] = (is_, io)
        if progress is not None:
            progress.advance()
    res = meter.result()
    if output_landmarks is not None:
        res["shape"] = outliers(out_feat, src_feat)
    return res


def measure_video(video: str, track, *, source: str | None = None, output_analysis=None,
                  source_analysis=None, audio: str | None = None, face: str = "auto",
                  source_start: int | None = None, source_end: int | None = None,
                  track_start_s: float = 0.0, progress=None,
                  meta: dict | None = None) -> tuple[dict, dict]:
    """Full QC of files: returns (report, extras) where extras carries the contact-sheet frames
    ({"sheet_frames": {index: (source_image or None, output_image)}, "crop_box": box}).
    source_start/source_end: the source frames the output was rendered from (a `lipflap run
    --start/--end` render of a longer file); default the whole source.
    track_start_s: read the track on the dub's clock from this time (an edited --shapes track
    with --audio-offset); 0 when the track's frame 0 is the video's frame 0."""
    from ..media.decode import read_frames
    from ..media.probe import probe
    info = probe(video)
    if output_analysis is None:
        output_analysis = _analyze(video, progress, audio_path=audio, face=face)
    lms, flags = landmarks_of(output_analysis, raw=True)
    expected = expected_from_track(track, len(lms), fps=info.fps, start_s=track_start_s)
    # Which frames the contact sheet shows: a few of each kind of moment, spread over the clip.
    picks = pick_sheet_events(expected, len(lms))
    keep = {e.mid for e in picks}
    kept: dict[int, tuple] = {}
    fid = None
    src_lms = None
    if source is not None:
        s0, s1 = source_range(source, len(lms), source_start, source_end)
        if source_analysis is None:
            from ..face.analyze import analyze_video
            source_analysis = analyze_video(source, s0, s1, face=face, progress=progress)
        src_lms = landmarks_of(source_analysis)[0]
        fid = measure_fidelity_files(video, source, src_lms, progress=progress, keep=keep,
                                     kept=kept, source_frames=(s0, s1), output_landmarks=lms,
                                     # unsmoothed, as the output's are: smoothing narrows the
                                     # actor's range and would flag frames that are in it
                                     source_shape_landmarks=landmarks_of(source_analysis, raw=True)[0])
        meta = {"source_frames": [s0, s1], **(meta or {})}
    elif keep:
        for f in read_frames(video, info=info):
            if f.index in keep:
                kept[f.index] = (None, f.image)
            if len(kept) == len(keep):
                break
    meta = {"video": video, "source": source, "width": info.width, "height": info.height,
            **(meta or {})}
    report = assemble(expected, lms, fid, frame_flags=flags, meta=meta)
    box = sheet_box(src_lms if src_lms is not None else lms, info.shown_size[::-1])
    return report, {"sheet_frames": kept, "sheet_events": picks, "crop_box": box}


def pick_sheet_events(expected: Expected, n: int, per_kind: int = SHEET_PER_KIND):
    picks = []
    for kind in ("bilabial", "open", "pause"):
        evs = [e for e in expected.events if e.kind == kind and e.mid < n]
        if len(evs) > per_kind:
            idx = np.linspace(0, len(evs) - 1, per_kind).round().astype(int)
            evs = [evs[i] for i in sorted(set(idx))]
        picks += evs
    return picks


def sheet_box(landmarks: Sequence, shape: tuple[int, int]) -> tuple[int, int, int, int] | None:
    """One lower-face crop box for the whole clip (union over frames), so rows line up."""
    boxes = [regions.lower_face_box(p, shape) for p in landmarks if regions.valid(p)]
    if not boxes:
        return None
    b = np.array(boxes)
    return int(b[:, 0].min()), int(b[:, 1].min()), int(b[:, 2].max()), int(b[:, 3].max())


def _r(x):
    return None if x is None else round(float(x), 4)


def _list(a: np.ndarray) -> list:
    return [None if not np.isfinite(x) else round(float(x), 5) for x in a]
