"""Dialogue runs: several faces of one shot, each lip-synced to its own voice, in one pass.

    run_dialogue(job, progress, signing) -> report dict      (a job with "voices" or "cast")

The same stages as a one-voice run (see the package docstring), looped per face where a face has
its own data: one decode for the picture analysis (every face tracked once, then one analysis per
voice from that pass), one mouth track per voice, one plan per face, one library pass and one
render pass for all faces, each frame's patches composited together, one encode.

Two ways to say who speaks:
- "voices": one dub per face (character stems), each placed and scripted as a one-voice job's;
- "cast" with one mixed dub: the script's [SPEAKER] turns placed on the dub's speech and sent to
  the cast's faces, or (no turns) each stretch of dub speech sent to the face whose mouth moves
  at that time in the original picture (lipflap.face.activity). Where two original mouths move
  together both faces follow the dub there, and the overlap is flagged.

A face rests where its voice is silent and its original mouth was talking, and is passed through
untouched where neither (a listener keeps their own face).
"""
from __future__ import annotations

import copy
import math
import os
import time
from dataclasses import dataclass, field, replace

import numpy as np

from ..contract.errors import JobError
from ..contract.jobspec import Job
from ..face.activity import TALKING, apertures_of, at_rest, speaking_activity, talking
from ..face import cache as cache_mod
from ..face.analyze import ANALYSIS_VERSION, _code_hash, build_analysis, track_frames
from ..face.smooth import SmoothParams
from ..face.result import ShotAnalysis
from ..media.audio import load_audio
from ..media.audio_stream import AudioReader
from ..media.decode import read_frames
from ..media.memory import release as release_memory
from ..mouth.track import MouthFrame, MouthTrack
from ..provenance import DisclosureWriter, Signing
from ..provenance.identity import JOB_SIGNER
from ..qc.pixels import OutputSampler
from ..render.pipeline import REST, LibraryBuilder, render_frame
from ..render.seen import PassLooks
from ..render.synth import Patch
from ..speech.turns import parse_turns, place_turns, script_of
from ..speech.vad import speech_segments
from .inputs import Inputs, ranges, resolve_inputs, settle_codec
from .library import Libraries
from .raw_lips import raw_lip_contours
from .analysis import drop_raw_landmarks
from .clock import StageClock
from .mouth import MouthShapes, mouth_shapes, script_text
from .plan import ShotPlans, plan_each_shot
from .render import AUDIO_RATE, Written, open_writer, patch_frame, stream_frames
from .report import build_report, quick_qc, quick_qc_sampler, save_job_report

GUARD = 3                 # frames: a face is left untouched only this far from speech and talking
OVERLAP = 0.6             # a second talking mouth moving at 0.6 of the first's activity talks too
MIN_TURN_S = 0.4          # a change of speaker inside a stretch of speech lasts at least this
VAD_RATE = 16000
DETECT_EVERY = 30         # as analyze_video's default (track_frames is called with it)


@dataclass
class FaceVoice:
    """One face of the run and the one-voice job its dub makes."""
    label: str                        # as the job named it: "left", "1", "ANNA (left)"
    job: Job                          # face, audio, offset, script, shapes of this voice
    inputs: Inputs | None = None
    analysis: ShotAnalysis | None = None
    activity: np.ndarray | None = None      # (n,) original mouth's speaking activity
    resting: np.ndarray | None = None       # (n,) original lips near their closed end
    mouth: MouthShapes | None = None
    speech: np.ndarray | None = None        # (n,) bool: this face's voice speaks
    plans: ShotPlans | None = None
    untouched: np.ndarray | None = None     # (n,) bool: left as the source (silent listener)
    overlap: np.ndarray | None = None       # (n,) bool: mixed dub, another face talks too
    sampler: OutputSampler | None = None
    raw_points: list | None = None          # per frame the quick QC's few unsmoothed points
    warnings: list[str] = field(default_factory=list)


def _one_voice_job(job: Job, **kw) -> Job:
    return replace(job, voices=None, cast=None, **kw)


def face_voices(job: Job) -> list[FaceVoice]:
    """The faces a job names (a "cast": "auto" job's faces are found by the analysis)."""
    if job.voices is not None:
        return [FaceVoice(v.face, _one_voice_job(
            job, face=v.face, audio=v.audio, audio_offset_s=v.audio_offset_s, text=v.text,
            transcript=v.transcript, language=v.language or job.language, shapes=v.shapes))
            for v in job.voices]
    if isinstance(job.cast, dict):
        return [FaceVoice(f"{name} ({face})", _one_voice_job(job, face=face))
                for name, face in job.cast.items()]
    if isinstance(job.cast, list):
        return [FaceVoice(face, _one_voice_job(job, face=face)) for face in job.cast]
    return []


def run_dialogue(job: Job, progress, signing: Signing | None = None) -> dict:
    clock = StageClock()
    faces = face_voices(job)
    mix = _one_voice_job(job, face="auto")
    with clock.stage("probe"):
        if job.voices is not None:
            for fv in faces:
                fv.inputs = resolve_inputs(fv.job)
            inputs = faces[0].inputs
            _same_output(faces)
        else:
            inputs = resolve_inputs(mix)
            for fv in faces:
                fv.inputs = inputs
        # The job's own keys when the caller gives none, as a one-voice run.
        signing = signing or Signing.from_options(job.sign_cert, job.sign_key,
                                                  enabled=job.credentials, given_by=JOB_SIGNER)
    with clock.stage("analyze"):
        faces = analyse_faces(job, inputs, faces, progress)
    # One ProRes choice for the one output, its frames from the pass (a cached one: decoded beside).
    inputs.codec_probe.start_own()
    with clock.stage("mouth_track"):
        assignment = None
        if job.voices is not None:
            for fv in faces:
                fv.mouth = mouth_shapes(fv.job, fv.inputs, script_text(fv.job), progress)
                fv.speech = voice_speech(fv.job, fv.inputs, fv.mouth.params)
        else:
            assignment = split_mixed_dub(job, mix, inputs, faces, progress)
    with clock.stage("plan"):
        for fv in faces:
            fv.untouched = untouched_frames(fv.speech, fv.activity, fv.resting)
            fv.plans = plan_face(fv, progress)
    with clock.stage("library"):
        libs = build_face_libraries(job, inputs, faces, progress)
    settle_codec(inputs)
    for fv in faces:
        fv.inputs.codec, fv.inputs.codec_choice = inputs.codec, inputs.codec_choice
    track_source = "+".join(sorted({fv.mouth.source for fv in faces}))
    disclosure = DisclosureWriter.for_job(_disclosed_job(job, faces), inputs.info,
                                    out_path=inputs.out_path, codec=inputs.codec, mode=inputs.mode,
                                    lo=inputs.lo, hi=inputs.hi, track_source=track_source,
                                    signing=signing)
    for fv in faces:
        fv.sampler = quick_qc_sampler(fv.mouth.track, inputs, fv.plans.landmarks, fv.raw_points)
    with clock.stage("render"):
        written, per_face = render_faces(job, inputs, faces, libs, progress, disclosure)
    warnings = list(inputs.warnings) + disclosure.warnings
    for fv in faces:
        if fv.inputs is not inputs:
            warnings += [w for w in fv.inputs.warnings if w not in warnings]
        warnings += [f"face {fv.label}: {w}" for w in fv.mouth.warnings + fv.plans.warnings
                     + fv.warnings]
    report = dialogue_report(job, inputs, faces, written, per_face, warnings, clock, assignment)
    report["disclosure"] = disclosure.report()
    report["timing_s"]["total"] = round(time.perf_counter() - clock.t0, 3)
    return save_job_report(job, report)


def _same_output(faces: list[FaceVoice]) -> None:
    a = faces[0].inputs
    for fv in faces[1:]:
        if (fv.inputs.out_path, fv.inputs.lo, fv.inputs.hi) != (a.out_path, a.lo, a.hi):
            raise JobError(f"voices resolve to different outputs or ranges ({a.out_path}, "
                           f"{fv.inputs.out_path}); give one output for the run.")


def _disclosed_job(job: Job, faces: list[FaceVoice]) -> Job:
    """The job as the Content Credential states it: the first dub stands for the run's, the
    report lists every voice."""
    first = faces[0].job
    return replace(job, audio=first.audio, shapes=first.shapes, language=first.language)


# -- analysis ---------------------------------------------------------------------------------

def analyse_faces(job: Job, inputs: Inputs, faces: list[FaceVoice], progress) -> list[FaceVoice]:
    """One decode and one tracking pass; then each voice's face chosen and smoothed from it.
    A face the range does not show, or two voices landing on one face, is refused."""
    info, lo, hi = inputs.info, inputs.lo, inputs.hi
    keys = _cache_keys(job, inputs, faces)
    cached = [cache_mod.load(k, job.video) for k in keys] if keys else []
    if keys and all(a is not None for a in cached):
        progress.start("analyze", inputs.n)
        progress.set(inputs.n)
        for fv, a in zip(faces, cached):
            fv.analysis = a
    else:
        # Every face's near-closed mouths looked at in the pass, as one voice's run does
        # (lipflap.render.seen: one rule for the looks, cached with each face's analysis).
        looks = PassLooks()
        try:
            tp = track_frames(read_frames(job.video, lo, hi, info=info), inputs.n,
                              detect_every=DETECT_EVERY,
                              max_gap=max(10, int(round(2 * float(info.fps)))),
                              progress=progress, ahead=True,
                              keep=lambda fr, obs: (looks(fr, obs), inputs.codec_probe.probe(fr)))
        finally:
            looks.close()
        if job.cast == "auto":
            faces = _all_faces(job, tp, inputs)
        for k, fv in enumerate(faces):
            # The fill consumes the pass's records of the face it fills: each voice reads its
            # own shallow copy, so the choice of every voice sees every face.
            mine = copy.copy(tp)
            mine.obs = {tid: dict(by) for tid, by in tp.obs.items()}
            fv.analysis = build_analysis(mine, path=job.video, fps=info.fps,
                                         width=info.shown_size[0], height=info.shown_size[1],
                                         start=lo, end=hi, face=fv.job.face)
            fv.analysis.add_seen(looks.openings)
            if keys:
                cache_mod.store(keys[k], fv.analysis)
        del tp
    for fv in faces:
        a = fv.analysis
        _check_face_found(job, fv, a, lo, hi)
        ap = apertures_of([f.raw_landmarks for f in a.frames])
        fv.activity = speaking_activity(ap, float(info.fps))
        fv.resting = at_rest(ap)
        fv.raw_points = drop_raw_landmarks(a.frames)
    _check_distinct(job, faces)
    release_memory()
    return faces


def _cache_keys(job: Job, inputs: Inputs, faces: list[FaceVoice]) -> list[str]:
    """Per face the analysis cache's key (the faces of the whole run in it: one voice's face
    choice reads the others'); none for "cast": "auto", whose faces the pass itself finds."""
    if job.cast == "auto":
        return []
    specs = [fv.job.face for fv in faces]
    return [cache_mod.make_key(job.video, {
        "version": ANALYSIS_VERSION, "code": _code_hash(), "start": inputs.lo, "end": inputs.hi,
        "face": spec, "dialogue": specs, "detect_every": DETECT_EVERY,
        "max_gap": max(10, int(round(2 * float(inputs.fps)))),
        "smooth": vars(SmoothParams()), "seen": True}) for spec in specs]


def _all_faces(job: Job, tp, inputs: Inputs) -> list[FaceVoice]:
    """"cast": "auto": every face seen on at least a tenth of the range, left to right."""
    need = max(3, inputs.n // 10)
    ids = [tid for tid, by in tp.obs.items() if len(by) >= need]
    if len(ids) < 2:
        raise JobError(f"{job.video}: frames {inputs.lo}-{inputs.hi} show {len(ids)} face(s) long "
                       f"enough to speak; a mixed dialogue dub needs two or more (use a one-voice "
                       f"run).")
    x = {tid: float(np.mean([(s.bbox[0] + s.bbox[2]) / 2 for s in tp.obs[tid].values()]))
         for tid in ids}
    return [FaceVoice(str(tid), _one_voice_job(job, face=str(tid)), inputs=inputs)
            for tid in sorted(ids, key=lambda t: x[t])]


def _check_face_found(job: Job, fv: FaceVoice, a: ShotAnalysis, lo: int, hi: int) -> None:
    if not any(s["speaker_id"] is not None for s in a.shots):
        found = ", ".join(str(k) for k in sorted(a.faces)) or "none"
        raise JobError(f"{job.video}: face {fv.label} is not in frames {lo}-{hi} (faces found: "
                       f"{found}; see `lipflap analyze`); give one of them, or left/right/centre.")


def _check_distinct(job: Job, faces: list[FaceVoice]) -> None:
    for i, a in enumerate(faces):
        for b in faces[i + 1:]:
            for sa, sb in zip(a.analysis.shots, b.analysis.shots):
                if sa["speaker_id"] is not None and sa["speaker_id"] == sb["speaker_id"]:
                    shown = sum(1 for f in a.analysis.faces.values()
                                if f["first"] <= sa["end"] and f["last"] >= sa["start"])
                    raise JobError(
                        f"{job.video}: faces {a.label} and {b.label} are the same face "
                        f"({sa['speaker_id']}) in frames {sa['start']}-{sa['end']}, which shows "
                        f"{shown} face(s); give each voice a different face.")


# -- speech and mouth -------------------------------------------------------------------------

def _speech_mask(audio: str, times: np.ndarray, fps: float) -> np.ndarray:
    """(n,) bool: the dub has speech at each rendered frame's time (voice activity)."""
    wav = np.asarray(load_audio(audio, rate=VAD_RATE), np.float32).reshape(-1)
    segs = speech_segments(wav, VAD_RATE)
    return _mask_of(segs, times, fps)


def _mask_of(segs, times: np.ndarray, fps: float) -> np.ndarray:
    half = 0.5 / fps
    m = np.zeros(len(times), bool)
    for a, b in segs:
        m |= (times + half > a) & (times - half < b)
    return m


def voice_speech(job: Job, inputs: Inputs, params: np.ndarray) -> np.ndarray:
    """Where this voice speaks: voice activity of its dub, or (an edited track) an open mouth."""
    if job.audio:
        return _speech_mask(job.audio, inputs.dub_times, float(inputs.fps))
    return params[:, 0] > 0.05


def split_mixed_dub(job: Job, mix: Job, inputs: Inputs, faces: list[FaceVoice],
                    progress) -> list[dict]:
    """One mouth track for the mixed dub, its speech sent to faces by the script's turns and the
    cast, or by who talks in the original picture; returns the assignment for the report."""
    fps, n, times = float(inputs.fps), inputs.n, inputs.dub_times
    text = script_text(mix)
    turns = parse_turns(text, job.transcript or "--text") if text else None
    if turns is not None and not isinstance(job.cast, dict):
        raise JobError("the script names speakers ([NAME] ...): give --cast NAME=FACE,... for "
                       "each of them.")
    if turns is not None:
        missing = sorted({t.speaker for t in turns} - set(job.cast))
        if missing:
            raise JobError(f"the script's speaker(s) {', '.join(missing)} have no face in --cast "
                           f"({', '.join(job.cast)}); add NAME=FACE for each.")
        text = script_of(turns)
    whole = mouth_shapes(replace(mix, text=text, transcript=None), inputs, text, progress)
    wav = np.asarray(load_audio(job.audio, rate=VAD_RATE), np.float32).reshape(-1)
    segs = speech_segments(wav, VAD_RATE)
    speech = _mask_of(segs, times, fps)
    owners = np.zeros((len(faces), n), bool)
    if turns is not None:
        index = {name: k for k, name in enumerate(job.cast)}
        for t, (a, b) in zip(turns, place_turns(turns, segs)):
            owners[index[t.speaker]] |= _mask_of([(a, b)], times, fps) & speech
        how = "script turns and cast"
    else:
        owners = owners_by_activity(speech, np.array([fv.activity for fv in faces]), fps)
        how = "visual speaking activity"
    overlap = owners.sum(axis=0) > 1
    for k, fv in enumerate(faces):
        fv.speech = owners[k]
        fv.overlap = overlap & owners[k]
        fv.mouth = masked_shapes(whole, owners[k])
    return assignment_table(faces, owners, speech, inputs, how)


def owners_by_activity(speech: np.ndarray, activity: np.ndarray, fps: float) -> np.ndarray:
    """(faces, n) bool: per speech frame the face whose original mouth moves most there (and a
    second face too where it moves nearly as much and is talking); a change of owner shorter
    than MIN_TURN_S inside a stretch is absorbed by its neighbour."""
    k, n = activity.shape
    act = np.nan_to_num(activity, nan=0.0)
    best = act.argmax(axis=0)
    min_len = max(1, int(round(MIN_TURN_S * fps)))
    for a, b in ranges(speech, 0):
        # A stretch opens with the face that moves most over it and MIN_TURN_S either side (a
        # dub line starts near, not on, the original's); where no original mouth is talking
        # (the actor paused while the dub goes on) the speech stays with whoever had it, so a
        # listener's head motion does not take the line.
        prev = int(act[:, max(0, a - min_len):b + min_len + 1].mean(axis=1).argmax())
        for i in range(a, b + 1):
            if act[best[i], i] < TALKING:
                best[i] = prev
            prev = best[i]
        seg = best[a:b + 1]
        bounds = list(np.flatnonzero(np.r_[True, seg[1:] != seg[:-1]])) + [len(seg)]
        pieces = [[bounds[j], bounds[j + 1], int(seg[bounds[j]])] for j in range(len(bounds) - 1)]
        changed = True
        while changed and len(pieces) > 1:
            changed = False
            j = min(range(len(pieces)), key=lambda q: pieces[q][1] - pieces[q][0])
            if pieces[j][1] - pieces[j][0] < min_len:
                # Absorbed by the neighbour whose own activity over it is higher.
                nb = [q for q in (j - 1, j + 1) if 0 <= q < len(pieces)]
                q = max(nb, key=lambda q: act[pieces[q][2], a + pieces[j][0]:a + pieces[j][1]].mean())
                lo_, hi_ = min(pieces[q][0], pieces[j][0]), max(pieces[q][1], pieces[j][1])
                pieces[q][0], pieces[q][1] = lo_, hi_
                del pieces[j]
                merged = [pieces[0]]
                for p in pieces[1:]:
                    if p[2] == merged[-1][2]:
                        merged[-1][1] = p[1]
                    else:
                        merged.append(p)
                pieces = merged
                changed = True
        for s, e, w in pieces:
            best[a + s:a + e] = w
    owners = np.zeros((k, n), bool)
    owners[best, np.arange(n)] = True
    owners &= speech[None, :]
    # Overlap: another face talking at OVERLAP of the owner's activity, held for MIN_TURN_S.
    top = act[best, np.arange(n)]
    for f in range(k):
        both = speech & ~owners[f] & talking(activity[f]) & (act[f] >= OVERLAP * top)
        runs = ranges(both, 0)
        merged: list[list[int]] = []
        for a, b in runs:       # dips shorter than MIN_TURN_S inside an overlap are bridged
            if merged and a - merged[-1][1] - 1 < min_len and speech[merged[-1][1]:a].all():
                merged[-1][1] = b
            else:
                merged.append([a, b])
        for a, b in merged:
            if b - a + 1 >= min_len:
                owners[f, a:b + 1] = True
    return owners


def masked_shapes(whole: MouthShapes, owner: np.ndarray) -> MouthShapes:
    """The mixed dub's mouth track with every frame another face speaks at rest."""
    params = whole.params.copy()
    params[~owner] = REST
    tr = whole.track
    frames = []
    for i, f in enumerate(tr.frames):
        if i < len(owner) and not owner[i]:
            f = MouthFrame(f.frame, f.time, "sil", "X", *REST)
        frames.append(f)
    fps = float(tr.fps)
    mine = {i for i in np.flatnonzero(owner)}
    phones = [p for p in tr.phonemes if int(math.floor(getattr(p, "start", 0.0) * fps)) in mine]
    track = MouthTrack(fps=tr.fps, frames=frames, phonemes=phones, cues=[], source=tr.source,
                       warnings=list(tr.warnings))
    return MouthShapes(track=track, source=whole.source, params=params,
                       warnings=list(whole.warnings), text=whole.text)


def assignment_table(faces, owners, speech, inputs: Inputs, how: str) -> dict:
    """Per stretch of one owner: frames, dub seconds, the face(s), overlap."""
    lo, fps, times = inputs.lo, float(inputs.fps), inputs.dub_times
    label = np.array([sum(1 << k for k in range(len(faces)) if owners[k, i])
                      for i in range(inputs.n)])
    rows = []
    for a, b in ranges(speech, 0):
        j = a
        while j <= b:
            e = j
            while e + 1 <= b and label[e + 1] == label[j]:
                e += 1
            who = [faces[k].label for k in range(len(faces)) if owners[k, j]]
            rows.append({"first": j + lo, "last": e + lo,
                         "dub_s": [round(float(times[j]), 3), round(float(times[e]) + 1 / fps, 3)],
                         "faces": who, "overlap": len(who) > 1})
            j = e + 1
    return {"by": how, "stretches": rows,
            "speech_frames": int(speech.sum()),
            "overlap_frames": int((owners.sum(axis=0) > 1).sum())}


# -- plan -------------------------------------------------------------------------------------

def untouched_frames(speech: np.ndarray, activity: np.ndarray,
                     resting: np.ndarray | None = None) -> np.ndarray:
    """Frames a face keeps as the source: its voice is silent and its original mouth is not
    talking, GUARD frames clear of both, and (given `resting`) its lips already at rest: a
    still but open mouth while the other face speaks is closed, not kept (measured on
    bench/two_faces.py: keeping open still lips cost the left face 4% of its pause rest)."""
    keep = ~_dilate(speech | talking(activity), GUARD)
    if resting is not None:
        keep &= resting
        # A kept stretch shorter than the render's fade would only flicker between the two.
        for a, b in ranges(keep, 0):
            if b - a + 1 < 2 * GUARD + 2:
                keep[a:b + 1] = False
    return keep


def _dilate(mask: np.ndarray, r: int) -> np.ndarray:
    out = mask.copy()
    for s in range(1, r + 1):
        out[s:] |= mask[:-s]
        out[:-s] |= mask[s:]
    return out


def plan_face(fv: FaceVoice, progress) -> ShotPlans:
    """One face's plans per shot (as lipflap.pipeline.plan), its untouched frames taken out."""
    inputs, analysis, job = fv.inputs, fv.analysis, fv.job
    lo, hi, n = inputs.lo, inputs.hi, inputs.n
    progress.start("plan", 1)
    lms = [ff.landmarks for ff in analysis.frames]
    usable = np.array([ff.usable for ff in analysis.frames]) & ~fv.untouched
    sp = plan_each_shot(analysis, lms, usable, fv.mouth.params, lo, hi, job.strength)
    progress.set(1)
    active = sp.active
    flagged = [dict(r) for r in analysis.flagged_ranges()] + list(inputs.no_dub)
    talks = fv.speech | talking(fv.activity)
    if not (active & talks).any() and talks.any():
        sp.warnings.append(f"no usable frame of face {fv.label} in frames {lo}-{hi}; it is left "
                           f"as the source.")
    known = {i for r in flagged for i in range(r["start"], r["end"] + 1)}
    lost = ~active & ~fv.untouched & np.array([i + lo not in known for i in range(n)])
    for a, b in ranges(lost, lo):
        flagged.append({"start": a, "end": b, "reason": "too_few_face_frames"
                        if job.strength > 0 else "strength_0"})
    if fv.overlap is not None:
        flagged += [{"start": a, "end": b, "reason": "overlapping_voices"}
                    for a, b in ranges(fv.overlap, lo)]
    for r in flagged:
        span = active[r["start"] - lo:r["end"] - lo + 1]
        r["action"] = ("rendered" if span.all() else "passed_through" if not span.any()
                       else "partly_passed_through")
    sp.flagged = flagged
    return sp


# -- library and render -----------------------------------------------------------------------

def build_face_libraries(job: Job, inputs: Inputs, faces: list[FaceVoice],
                         progress) -> list[Libraries]:
    """Every face's exemplar crops in one decode pass (stopping at the last exemplar of any)."""
    lo = inputs.lo
    wanted = []
    for fv in faces:
        raw = raw_lip_contours(fv.raw_points)
        wanted.append((fv, [LibraryBuilder(p, fv.analysis.seen_array()[off:off + p.n],
                                           None if raw is None else raw[off:off + p.n])
                            for off, p in fv.plans.plans],
                       [off for off, _ in fv.plans.plans]))
    # As lipflap.pipeline.library: every library frame is a candidate until its pixels are scored.
    lasts = [int(p.lib_frames.max()) + off for fv in faces for off, p in fv.plans.plans
             if p.active.any()]
    if lasts:
        progress.start("library", max(lasts) + 1)
        for fr in read_frames(job.video, lo, lo + max(lasts), info=inputs.info):
            progress.advance(1)
            i = fr.index - lo
            for fv, builders, offsets in wanted:
                k = int(np.searchsorted(offsets, i, side="right") - 1)
                off = fv.plans.plans[k][0]
                if i - off in builders[k].wanted:
                    builders[k].feed(i - off, fr)
    out = []
    for fv, builders, _ in wanted:
        if not fv.plans.active.any():
            out.append(Libraries(libs=[{} for _ in builders], looks=[None for _ in builders]))
            continue
        libs, looks = [], []
        for b in builders:
            lib, look = b.finish()
            libs.append(lib)
            looks.append(look)
        out.append(Libraries(libs=libs, looks=looks))
    return out


def merge_patches(patches: list[tuple[Patch, float]]) -> Patch | None:
    """Several faces' patches (each with its look's peak) as one, in 0..1: alpha over, in order."""
    patches = [(p, peak) for p, peak in patches if p is not None]
    if not patches:
        return None
    x0 = min(p.x0 for p, _ in patches)
    y0 = min(p.y0 for p, _ in patches)
    x1 = max(p.x0 + p.alpha.shape[1] for p, _ in patches)
    y1 = max(p.y0 + p.alpha.shape[0] for p, _ in patches)
    rgb = np.zeros((y1 - y0, x1 - x0, 3), np.float32)
    alpha = np.zeros((y1 - y0, x1 - x0), np.float32)
    for p, peak in patches:
        h, w = p.alpha.shape
        sl = (slice(p.y0 - y0, p.y0 - y0 + h), slice(p.x0 - x0, p.x0 - x0 + w))
        a = np.clip(p.alpha, 0, 1)
        out_a = a + alpha[sl] * (1 - a)
        num = p.rgb / peak * a[..., None] + rgb[sl] * (alpha[sl] * (1 - a))[..., None]
        rgb[sl] = np.where(out_a[..., None] > 0, num / np.maximum(out_a, 1e-12)[..., None], 0)
        alpha[sl] = out_a
    return Patch(x0=x0, y0=y0, rgb=rgb, alpha=alpha)


class MixedAudio:
    """Several dubs streamed and summed on the frame clock (the render's sound: every voice)."""

    def __init__(self, readers: list[AudioReader]):
        self.readers = readers
        self.rate, self.channels = readers[0].rate, readers[0].channels

    def read(self, n: int) -> np.ndarray:
        parts = [r.read(n) for r in self.readers]
        m = max(len(p) for p in parts)
        out = np.zeros((m, self.channels), np.float32)
        for p in parts:
            out[:len(p)] += p.reshape(len(p), -1)
        return out

    def close(self) -> None:
        for r in self.readers:
            r.close()


def _audio(inputs: Inputs, faces: list[FaceVoice]):
    dubs = {}
    for fv in faces:
        if fv.job.audio and fv.job.audio not in dubs:
            dubs[fv.job.audio] = fv.inputs
    if not dubs:
        return None
    ch = 2 if any(i.dub_channels >= 2 for i in dubs.values()) else 1
    readers = []
    try:
        for path, inp in dubs.items():
            readers.append(AudioReader(path, AUDIO_RATE, ch, offset_s=float(inp.dub_times[0]),
                                       duration_s=inputs.n / float(inputs.fps)))
    except BaseException:
        for r in readers:
            r.close()
        raise
    return readers[0] if len(readers) == 1 else MixedAudio(readers)


def render_faces(job: Job, inputs: Inputs, faces: list[FaceVoice], libs: list[Libraries],
                 progress, disclosure) -> tuple[Written, list[int]]:
    """Decode pass 3: every face's patch per frame, composited together, encoded once."""
    info, lo, n, mode = inputs.info, inputs.lo, inputs.n, inputs.mode
    audio = _audio(inputs, faces)
    dubs = [fv.job.audio for fv in faces if fv.job.audio]
    writer = open_writer(inputs, audio, [job.video] + list(dict.fromkeys(dubs)), disclosure)
    progress.start("render", n)
    which = []
    for fv in faces:
        w = np.zeros(n, int)
        for k, (off, p) in enumerate(fv.plans.plans):
            w[off:off + p.n] = k
        which.append(w)
    per_face = [0] * len(faces)

    def synth(fr):
        i = fr.index - lo
        got = []
        for f, fv in enumerate(faces):
            k = which[f][i]
            off, p = fv.plans.plans[k]
            look = libs[f].looks[k]
            patch = None
            if fv.plans.active[i] and look is not None:
                patch = render_frame(p, libs[f].libs[k], look, i - off, fr)
            fv.sampler.add(i, fr, patch, look.peak if look is not None else None,
                           fv.plans.landmarks[i])
            if patch is not None:
                per_face[f] += 1
                got.append((patch, look.peak))
        return merge_patches(got)

    changed = np.zeros(n, bool)

    def write(fr, patch):
        changed[fr.index - lo] = patch is not None
        if mode == "patch":
            writer.write(patch_frame(patch, *info.shown_size, _UNIT))
        elif patch is None:
            writer.write_frame(fr)
        else:
            writer.write_composite(fr, patch.rgb, patch.alpha, patch.x0, patch.y0)

    try:
        final = stream_frames(read_frames(job.video, lo, inputs.hi, info=info), synth, write,
                              writer, progress,
                              lambda: disclosure.close(writer, changed) if disclosure else writer.close())
    finally:
        if audio is not None:
            audio.close()
    return Written(output=final, frames_rendered=int(changed.sum())), per_face


class _Unit:
    peak = 1.0


_UNIT = _Unit()     # merged patches are already in 0..1


# -- report -----------------------------------------------------------------------------------

def dialogue_report(job: Job, inputs: Inputs, faces: list[FaceVoice], written: Written,
                    per_face: list[int], warnings: list[str], clock, assignment) -> dict:
    """The one-voice report of the run (its first face standing for the shot), with every face's
    own figures under "voices" and every flagged range naming its face."""
    first = faces[0]
    report = build_report(first.job, inputs, first.analysis, first.mouth, first.plans, written,
                          warnings, clock.seconds)
    t = time.perf_counter()
    voices, flagged = [], []
    for f, fv in enumerate(faces):
        sub = build_report(fv.job, fv.inputs, fv.analysis, fv.mouth, fv.plans, written, [],
                           clock.seconds)
        qc = quick_qc(fv.sampler, fv.mouth.track, inputs.n, warnings)
        for r in sub["flagged_ranges"]:
            flagged.append(dict(r, face=fv.label))
        voices.append({
            "face": fv.label, "face_ids": sorted({s["speaker_id"] for s in fv.analysis.shots
                                                  if s["speaker_id"] is not None}),
            "chosen": [s["reason"] for s in fv.analysis.shots],
            "audio": sub["audio"], "dub": sub["dub"], "mouth_track": sub["mouth_track"],
            "frames_rendered": int(per_face[f]),
            "frames_untouched": int((fv.untouched & ~fv.plans.active).sum()),
            "untouched_ranges": [list(r) for r in ranges(fv.untouched & ~fv.plans.active,
                                                         inputs.lo)],
            "speech_frames": int(fv.speech.sum()),
            "flagged_ranges": sub["flagged_ranges"], "sync": sub["sync"], "shots": sub["shots"],
            "qc": qc})
    report["timing_s"]["qc"] = round(time.perf_counter() - t, 3)
    report["flagged_ranges"] = sorted(flagged, key=lambda r: (r["start"], r["reason"], r["face"]))
    report["voices"] = voices
    report["qc"] = voices[0]["qc"]
    report["sync"] = voices[0]["sync"]
    if assignment is not None:
        report["assignment"] = assignment
    if job.voices is None:
        report["audio"] = os.path.abspath(job.audio)
    return report
