"""Timeline -> lip-sync jobs (lipflap.contract.jobspec), one per video clip under the dub.

Everything here is timecode arithmetic on an OpenTimelineIO timeline: where each clip sits on
the record side, which file frames its source range is (via the media's own start timecode, from
a probe of the file), where that record range sits in the dub, and which render name and version
it gets (lipflap.contract.naming). Clips that cannot be rendered get an error message on their
`ClipJob` instead of a job, so one bad clip never stops the others.

Timecode is the contract's one pair (lipflap.contract.timecode). A timeline at 29.97 or 59.94
counts in drop-frame (OTIO writes those rates so, and the EDL says FCM: DROP FRAME), so labels
here are drop-frame there, and a timecode a user types for the timeline (--dub-start,
timeline_start) is read in the timeline's mode whatever its separator, as the Resolve script reads
a typed timecode in its timeline's mode.
"""
from __future__ import annotations

import os
import re
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Callable

import opentimelineio as otio
from opentimelineio import opentime

from ..contract.errors import LipflapError
from ..contract.jobspec import AUTO_CODEC, parse_job
from ..contract.naming import clip_base, next_version, render_stem, report_path, tc_tag
from ..contract.rates import is_drop_frame_rate, parse_rate, rate_string
from ..contract.report import RunReport, read_report
from ..contract.timecode import frames_to_tc, tc_to_frames
from ..contract.transcripts import lookup, unused_keys

# Containers a movie render may have; conform places movie files (not image sequences).
# "auto": each clip's job names no codec, so its run picks the ProRes profile that holds that
# clip's detail (lipflap.media.prores_choice).
MOVIE_CODECS = {"auto": ".mov", "prores_hq": ".mov", "prores_4444": ".mov", "prores_4444xq": ".mov",
                "dnxhr_hq": ".mov", "h264": ".mov"}
RENDER_TRACK_KEY = "render_track"


@dataclass
class MediaInfo:
    """What planning needs from a video file."""
    fps: Fraction
    start_tc_frames: int  # the file's start timecode as a frame count at fps (drop-frame aware)
    frames: int           # number of frames in the file


ProbeFn = Callable[[str], MediaInfo]


@dataclass
class PlanOptions:
    outdir: str
    language: str | None = None
    dub_audio: str | None = None
    dub_track: str | None = None
    handles: int = 8
    codec: str = AUTO_CODEC
    mode: str = "full"
    face: str = "auto"
    transcripts: dict[str, str] = field(default_factory=dict)  # see lipflap.contract.transcripts
    dub_start: str | None = None  # record timecode of the dub file's first sample (--dub-audio)
    # A scene's cast (lipflap.face.castfile.Cast): each clip's faces are matched to its
    # characters, and get their voices (conform.voicing). With voice_tracks (track name ->
    # character) every character has a dub track of its own; without, the one dub is a mix.
    cast: object | None = None
    voice_tracks: dict[str, str] | None = None


@dataclass
class ClipJob:
    """One video clip of the timeline and what conform does with it."""
    clip_index: int          # index in timeline.find_clips(), to find the clip again
    clip_name: str
    track_name: str
    track_index: int         # the clip's top-level track in the stack
    rate: Fraction           # timeline rate
    record_in: int           # cut range on the record side, absolute frames at `rate`
    record_out: int          # exclusive
    key: str = ""            # render base name <clip>_lipflap_<lang>_v<NNN>
    version: int = 0
    media: str | None = None
    media_fps: Fraction | None = None
    media_start_tc: int = 0  # file start timecode in frames at media_fps
    cut_first: int = 0       # file frame indexes (0-based, inclusive) of the cut range
    cut_last: int = 0
    job: dict | None = None  # the job for `lipflap run --job` (lipflap.contract.jobspec)
    status: str = "pending"  # pending | done | failed | refused
    error: str | None = None
    dub: str | None = None
    render: str | None = None
    report: str | None = None
    attempts: list = field(default_factory=list)  # each run of the job: {"node", "pid", "at"}
    # Per character track under the clip: {"audio", "audio_offset_s", "track"} (--voice-track).
    voice_dubs: dict | None = None
    # Who the clip's faces are (lipflap.conform.voicing): faces, characters, distances, absent.
    cast: dict | None = None
    # The finished render's report, read once when the job ends (read_run_report) and used by
    # the timeline, the EDL and the credentials sentence; None: none, or it could not be read.
    # Not saved in the job list: a resumed conform or the OTIO adapter reads it from `report`.
    run_report: RunReport | None = field(default=None, repr=False, compare=False)

    @property
    def record_tc(self) -> str:
        return to_tc(self.record_in, self.rate)

    def read_run_report(self, warn: Callable[[str], None]) -> None:
        """Read a finished job's run report once (the contract's one reader) into `run_report`.
        One that cannot be read (missing, corrupt, from a newer engine) is told to `warn` in one
        sentence naming the file and what to do, never skipped silently: without it the render
        has no flag markers and no LIP-SYNCED disclosure."""
        self.run_report = None
        if self.status != "done" or not self.report:
            return
        try:
            self.run_report = read_report(self.report)
        except LipflapError as e:
            warn(f"{str(e).rstrip('.')}; until then {self.key} has no flag markers and no "
                 f"LIP-SYNCED disclosure in the timeline and EDL.")

    @property
    def where(self) -> str:
        return f"clip {self.clip_name!r} at record {self.record_tc} on track {self.track_name!r}"

    def to_dict(self) -> dict:
        d = {k: getattr(self, k) for k in ("clip_index", "clip_name", "track_name", "track_index",
                                            "record_in",
                                            "record_out", "key", "version", "media", "media_start_tc",
                                            "cut_first", "cut_last", "job", "status", "error", "dub",
                                            "render", "report", "attempts", "voice_dubs",
                                            "cast")}
        d["rate"] = rate_string(self.rate)
        d["media_fps"] = rate_string(self.media_fps) if self.media_fps else None
        d["record_in_tc"] = self.record_tc
        d["record_out_tc"] = to_tc(self.record_out, self.rate)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "ClipJob":
        d = dict(d)
        d.pop("record_in_tc", None)
        d.pop("record_out_tc", None)
        d["rate"] = Fraction(d["rate"])
        d["media_fps"] = Fraction(d["media_fps"]) if d.get("media_fps") else None
        return cls(**d)


class PlanError(Exception):
    """A timeline-level problem (no dub, unknown track): nothing can be planned."""


# ---------------------------------------------------------------- timecode helpers

def otio_rate(rate: Fraction) -> float:
    return float(rate)


def to_tc(frames: int, rate: Fraction) -> str:
    """A record or source label at `rate` (drop-frame at 29.97/59.94), or `frame N @ R fps` where
    there is no SMPTE label (a rate OTIO has no timecode for, a negative count)."""
    if frames < 0 or not opentime.RationalTime.is_valid_timecode_rate(otio_rate(rate)):
        return f"frame {frames} @ {float(rate):g} fps"
    return frames_to_tc(frames, rate, is_drop_frame_rate(rate))


def read_tc(tc: str, rate: Fraction) -> int:
    """A timecode typed for this timeline, as frames: in the timeline's mode (module docstring)."""
    return tc_to_frames(tc, rate, drop=is_drop_frame_rate(rate))


def frames_at(t: opentime.RationalTime, rate: Fraction) -> int:
    """A RationalTime as a whole frame count at `rate` (OTIO stores rates as floats)."""
    return int(round(t.value_rescaled_to(otio_rate(rate))))


def exact_rate(rate_float: float) -> Fraction:
    """OTIO's float rate back to the exact rational (23.976023... -> 24000/1001)."""
    return parse_rate(repr(float(rate_float)))


def timeline_rate(tl: otio.schema.Timeline) -> Fraction:
    if tl.global_start_time is not None:
        return exact_rate(tl.global_start_time.rate)
    for track in tl.video_tracks():
        for item in track:
            if isinstance(item, (otio.schema.Clip, otio.schema.Gap)):
                return exact_rate(item.trimmed_range().duration.rate)
    raise PlanError(f"timeline {tl.name!r} has no global start time and no video clip to take "
                    f"its frame rate from; set its rate in the editor and export again.")


def timeline_start(tl: otio.schema.Timeline, rate: Fraction) -> int:
    """Record frame of the stack's time 0 (0 for EDL-read timelines, whose tracks carry it)."""
    return frames_at(tl.global_start_time, rate) if tl.global_start_time is not None else 0


def record_range(item, tl: otio.schema.Timeline, rate: Fraction) -> tuple[int, int]:
    """Absolute record frames [in, out) of an item's cut range, nested stacks included."""
    r = item.transformed_time_range(item.trimmed_range(), tl.tracks)
    start = timeline_start(tl, rate) + frames_at(r.start_time, rate)
    return start, start + frames_at(r.duration, rate)


def media_path(ref) -> str | None:
    url = getattr(ref, "target_url", None)
    if not url:
        return None
    if url.startswith("file:"):
        return urllib.request.url2pathname(urllib.parse.urlparse(url).path)
    return url


# ---------------------------------------------------------------- dub

@dataclass
class DubSpan:
    path: str
    record_in: int          # absolute record frames [in, out) at timeline rate
    record_out: int
    file_start_s: Fraction  # seconds into the file at record_in


def _squash(text: str) -> str:
    """A name compared loosely: "Dub ES", "dub_es" and "DUB-ES.wav" without extension agree."""
    return "".join(ch for ch in (text or "").lower() if ch.isalnum())


def _track_labels(track) -> list[str]:
    """What a dub track can be known by when its format keeps no track name (FCP 7 XML reads
    every track name as "", FCPXML as lane numbers): its clips' names and media file names."""
    labels = []
    for clip in track.find_clips():
        labels.append(clip.name or "")
        path = media_path(clip.media_reference)
        if path:
            labels.append(os.path.splitext(os.path.basename(path))[0])
    return [x for x in labels if x]


def find_dub_track(tl: otio.schema.Timeline, wanted: str | None) -> tuple[object, str]:
    """The dub's audio track and how it was found (a sentence for the user's notes).

    By name first; where the format dropped track names (or, an EDL, names them by channel), by
    the name of the clips or files on the track (compared without case, spaces or punctuation);
    `A<n>` picks the n-th audio track.
    Without a name, the one track whose name, clips or files say "dub".
    """
    audio = list(tl.audio_tracks())
    names = ", ".join(repr(t.name) for t in audio) or "none"
    # Clip and file names stand in only where the format dropped every track name ("" or lane
    # numbers); a timeline with named tracks is matched by those names alone.
    # An EDL's audio tracks are named by channel (A1, A2): no more a name than a lane number.
    nameless = not any(t.name and not t.name.lstrip("-").isdigit()
                       and not re.fullmatch(r"A\d+", t.name) for t in audio)
    if wanted:
        exact = [t for t in audio if t.name == wanted]
        if exact:
            return exact[0], f"dub track {wanted!r} found by its track name"
        loose = [t for t in audio if _squash(t.name) == _squash(wanted)]
        if len(loose) == 1:
            return loose[0], f"dub track {wanted!r} found by its track name {loose[0].name!r}"
        by_clip = [t for t in audio if nameless
                   and any(_squash(x) == _squash(wanted) for x in _track_labels(t))]
        if len(by_clip) == 1:
            i = audio.index(by_clip[0]) + 1
            return by_clip[0], (f"dub track {wanted!r} found as audio track A{i} by the name of its "
                                f"clip or file (this format keeps no track names)")
        if wanted[:1] in "Aa" and wanted[1:].isdigit() and 1 <= int(wanted[1:]) <= len(audio):
            return audio[int(wanted[1:]) - 1], f"dub track {wanted} taken as audio track {wanted}"
        raise PlanError(f"timeline {tl.name!r} has no audio track named {wanted!r}, and no one audio "
                        f"track whose clip or file has that name; its audio tracks are {names} "
                        f"(give --dub-track A<n> for the n-th audio track).")
    dubs = [t for t in audio if "dub" in (t.name or "").lower()]
    if len(dubs) == 1:
        return dubs[0], f"dub track {dubs[0].name!r} found by its track name"
    if not dubs and nameless:
        dubs = [t for t in audio if any("dub" in x.lower() for x in _track_labels(t))]
        if len(dubs) == 1:
            i = audio.index(dubs[0]) + 1
            return dubs[0], (f"dub track found as audio track A{i}: its clip or file name says "
                             f"\"dub\" (this format keeps no track names)")
    raise PlanError(f"no dub given; pass --dub-audio FILE or --dub-track NAME (audio tracks in "
                    f"this timeline: {names}).")


def dub_spans(tl: otio.schema.Timeline, rate: Fraction, opts: PlanOptions,
              notes: list[str] | None = None) -> list[DubSpan] | None:
    """The dub as spans on the record side; None means one file covering the whole timeline."""
    if opts.dub_audio:
        return None
    track, how = find_dub_track(tl, opts.dub_track)
    if notes is not None and not (opts.dub_track and track.name == opts.dub_track):
        notes.append(how + ".")
    opts.dub_track = opts.dub_track or track.name or f"A{list(tl.audio_tracks()).index(track) + 1}"
    return track_spans(tl, track, rate)


def voice_spans(tl: otio.schema.Timeline, rate: Fraction, opts: PlanOptions,
                notes: list[str]) -> dict[str, tuple[str, list[DubSpan]]]:
    """Per character of --voice-track NAME=CHARACTER: (the track's name, its dub spans), each
    track found by name as --dub-track finds one, in every format conform reads."""
    out = {}
    for name, character in opts.voice_tracks.items():
        track, how = find_dub_track(tl, name)
        if track.name != name:
            notes.append(how.replace("dub track", f"voice track of {character}", 1) + ".")
        out[character] = (name, track_spans(tl, track, rate))
    return out


def track_spans(tl: otio.schema.Timeline, track, rate: Fraction) -> list[DubSpan]:
    """The enabled clips of an audio track as spans on the record side."""
    spans = []
    for clip in track.find_clips():
        if not clip.enabled:
            continue
        path = media_path(clip.media_reference)
        r0, r1 = record_range(clip, tl, rate)
        src = clip.trimmed_range().start_time
        avail = clip.media_reference.available_range if clip.media_reference else None
        # Source time is the media's own time: an audio file whose media reference starts at a
        # timecode (a BWF time reference) has its first sample at that time.
        origin = avail.start_time if avail is not None else opentime.RationalTime(0, src.rate)
        secs = src.to_seconds() - origin.to_seconds()
        spans.append(DubSpan(path or "", r0, r1, Fraction(secs).limit_denominator(1_000_000)))
    return spans


def dub_file_origin(tl: otio.schema.Timeline, rate: Fraction, opts: PlanOptions) -> int:
    """Record frame of a --dub-audio file's first sample: --dub-start, else the timeline's start.

    A timeline read from an EDL has no start of its own (the adapter puts the first event's
    record time in the track), so there the user must say where the dub starts.
    """
    if opts.dub_start:
        try:
            return read_tc(opts.dub_start, rate)
        except ValueError as e:
            raise PlanError(f"dub start: {e}") from None
    if tl.global_start_time is None and any(
            t.source_range is not None and t.source_range.start_time.value < 0 for t in tl.tracks):
        raise PlanError("this timeline (an EDL) has no start timecode, so where the dub file starts "
                        "is unknown; give --dub-start with the record timecode of the dub's first "
                        "sample (e.g. 01:00:00:00).")
    return timeline_start(tl, rate)


# ---------------------------------------------------------------- planning

def _effects_problem(clip) -> str | None:
    for fx in clip.effects:
        if isinstance(fx, otio.schema.TimeEffect):
            kind = type(fx).__name__
            scalar = getattr(fx, "time_scalar", None)
            detail = f" x{scalar:g}" if isinstance(fx, otio.schema.LinearTimeWarp) else ""
            return (f"has a speed change ({kind}{detail}); lipflap renders clips at normal speed "
                    f"only: render it without the speed change and re-apply it, or remove it from the "
                    f"cut.")
    return None


def video_clips(tl: otio.schema.Timeline):
    """(index in tl.find_clips(), track index in the stack, track, clip) for every enabled clip on
    the enabled video tracks, our own render tracks excluded. find_clips walks the stack's
    tracks in order, so counting track by track gives the same index."""
    index = 0
    for ti, track in enumerate(tl.tracks):
        clips = track.find_clips() if isinstance(track, otio.schema.Track) else []
        usable = (track.kind == otio.schema.TrackKind.Video and track.enabled
                  and not track.metadata.get("lipflap", {}).get(RENDER_TRACK_KEY))
        for clip in clips:
            if usable and clip.enabled:
                yield index, ti, track, clip
            index += 1


def plan(tl: otio.schema.Timeline, opts: PlanOptions, probe: ProbeFn,
         faces=None) -> tuple[list[ClipJob], list[str]]:
    """One ClipJob per video clip under the dub, and notes for the user (skipped clips, unused
    transcript entries). Jobs that cannot run carry status failed/refused and an error. With a
    cast, `faces(video, first, last)` gives a clip's faces (default lipflap.face.sightings)."""
    if opts.codec not in MOVIE_CODECS:
        raise PlanError(f"codec {opts.codec!r} writes image sequences; conform places movie files, so "
                        f"use one of {', '.join(MOVIE_CODECS)} (render sequences with `lipflap run`).")
    probe = _cached(probe)
    rate = timeline_rate(tl)
    if not opentime.RationalTime.is_valid_timecode_rate(otio_rate(rate)):
        raise PlanError(f"timeline {tl.name!r} runs at {float(rate):g} fps, which has no SMPTE "
                        f"timecode; conform needs a timecode rate (23.976, 24, 25, 29.97, 30, 48, 50, "
                        f"59.94, 60) for its EDL and render names.")
    notes: list[str] = []
    if opts.voice_tracks:
        spans = voice_spans(tl, rate, opts, notes)
        dub_origin = 0
    else:
        spans = dub_spans(tl, rate, opts, notes)
        dub_origin = dub_file_origin(tl, rate, opts) if spans is None else 0
    lang = opts.language or "und"
    jobs: list[ClipJob] = []
    for index, ti, track, clip in video_clips(tl):
        try:
            _plan_clip(tl, rate, opts, spans, dub_origin, probe, index, ti, track, clip, jobs, notes)
        except (otio.exceptions.OTIOError, ValueError, ArithmeticError) as e:
            # A malformed clip (no range at all, a range OTIO cannot transform) fails; OTIO needs
            # every item's duration to place any clip of that track, so its track fails with it.
            cj = ClipJob(clip_index=index, clip_name=clip.name or "", track_name=track.name,
                         track_index=ti, rate=rate, record_in=0, record_out=0, status="failed")
            culprit = _undurable_item(track)
            if culprit is not None and culprit != (clip.name or ""):
                cj.error = (f"clip {cj.clip_name!r} on track {track.name!r}: its record time is "
                            f"unknown because {culprit!r} on the same track has no duration (no "
                            f"source range and no media range); fix that clip and conform again.")
            else:
                cj.error = (f"clip {cj.clip_name!r} on track {track.name!r}: its time ranges cannot "
                            f"be worked out ({type(e).__name__}: {str(e)[:100]}...); give it a source "
                            f"range or its media an available range, or export the timeline again.")
            jobs[:] = [j for j in jobs if j.clip_index != index] + [cj]
    if opts.cast is not None:
        from .voicing import cast_clips  # decodes and tracks faces: only when a cast is given
        jobs[:] = cast_clips(jobs, opts, faces, notes)
    _name_jobs(jobs, opts, lang)
    _attach_text(jobs, opts, notes)
    return jobs, notes


def _plan_clip(tl, rate, opts, spans, dub_origin, probe, index, ti, track, clip, jobs, notes) -> None:
    """Plan one clip: append its ClipJob to `jobs` (or a note when no dub lies under it)."""
    r0, r1 = record_range(clip, tl, rate)
    cj = ClipJob(clip_index=index, clip_name=clip.name or "", track_name=track.name,
                 track_index=ti, rate=rate, record_in=r0, record_out=r1)
    if r1 <= r0:
        cj.status, cj.error = "refused", (f"{cj.where} has no frames (duration {r1 - r0}); fix or "
                                          f"remove it in the cut.")
        jobs.append(cj)
        return
    trimmed, visible = clip.trimmed_range(), clip.visible_range()
    # Frames a transition shows beyond the cut are part of what the render must cover.
    pre = frames_at(trimmed.start_time - visible.start_time, rate)
    post = frames_at(visible.end_time_exclusive() - trimmed.end_time_exclusive(), rate)
    v0, v1 = r0 - pre, r1 + post
    if opts.voice_tracks:
        cj.voice_dubs = {}
        for character, (name, sp) in spans.items():
            got = _span_under(cj, sp, name, v0, v1, rate)
            if cj.error:
                jobs.append(cj)
                return
            if got is not None:
                cj.voice_dubs[character] = {"audio": os.path.abspath(got[0]) if got[0] else "",
                                            "audio_offset_s": float(got[1]), "track": name}
        if not cj.voice_dubs:
            notes.append(f"{cj.where} has no dub under it on any voice track "
                         f"({', '.join(repr(t) for t in opts.voice_tracks)}); not rendered.")
            return
        cj.dub = "; ".join(f"{c}={v['audio']}" for c, v in cj.voice_dubs.items())
        offset = Fraction(0)
    elif spans is not None:
        got = _span_under(cj, spans, opts.dub_track, v0, v1, rate)
        if cj.error:
            jobs.append(cj)
            return
        if got is None:
            notes.append(f"{cj.where} has no dub under it on track {opts.dub_track!r}; not rendered.")
            return
        cj.dub, offset = got
    else:
        cj.dub = opts.dub_audio
        offset = Fraction(v0 - dub_origin) / rate
    jobs.append(cj)
    problem = _effects_problem(clip)
    if problem:
        cj.status, cj.error = "refused", f"{cj.where} {problem}"
        return
    _locate_media(cj, clip, visible, probe)
    if cj.error:
        return
    if cj.media_fps != rate:
        cj.status, cj.error = "refused", (
            f"{cj.where}: its media {cj.media} runs at {float(cj.media_fps):.3f} fps in a "
            f"{float(rate):.3f} fps timeline; conform the media to the timeline rate first.")
        return
    for path in ([v["audio"] for v in cj.voice_dubs.values()] if cj.voice_dubs else [cj.dub]):
        if not path or not os.path.isfile(path):
            cj.status, cj.error = "failed", (f"{cj.where}: dub audio {path or '(no path)'} is "
                                             f"missing; restore the file or relink the dub clip.")
            return
    cj.job = {"video": os.path.abspath(cj.media), "audio": os.path.abspath(cj.dub),
              "audio_offset_s": float(offset),
              "fps": rate_string(rate),
              "start_frame": cj.cut_first - pre, "end_frame": cj.cut_last + post,
              "face": opts.face, "handles": 0}
    if cj.voice_dubs:
        # The voices go in when the clip's faces are known (lipflap.conform.voicing).
        del cj.job["audio"], cj.job["audio_offset_s"]
    if opts.language:
        cj.job["language"] = opts.language
    first, last = cj.job["start_frame"], cj.job["end_frame"]
    cj.job["handles"] = max(0, min(opts.handles, first, _frames_of(cj, probe) - 1 - last))


def _span_under(cj: ClipJob, spans: list[DubSpan], track: str, v0: int, v1: int,
                rate: Fraction) -> tuple[str, Fraction] | None:
    """(file, seconds into it at v0) of the one dub clip under record frames v0..v1 on a track;
    None when none; two or more fail the clip (cj.error)."""
    under = [s for s in spans if s.record_in < v1 and s.record_out > v0]
    if not under:
        return None
    if len(under) > 1:
        cj.status, cj.error = "failed", (
            f"{cj.where} is covered by {len(under)} dub clips on track {track!r}; "
            f"mix the dub for this range into one file and pass it with --dub-audio.")
        return None
    span = under[0]
    return span.path, span.file_start_s + Fraction(v0 - span.record_in) / rate


def _undurable_item(track) -> str | None:
    """Name of the first item of a track whose duration OTIO cannot compute, if any."""
    for item in track:
        try:
            item.duration()
        except (otio.exceptions.OTIOError, ValueError, ArithmeticError):
            return item.name or ""
    return None


def _frames_of(cj: ClipJob, probe: ProbeFn) -> int:
    return probe(cj.media).frames


def _cached(probe: ProbeFn) -> ProbeFn:
    """A clip used twice is probed once."""
    memo: dict[str, MediaInfo] = {}

    def cached(path: str) -> MediaInfo:
        if path not in memo:
            memo[path] = probe(path)
        return memo[path]
    return cached


def _locate_media(cj: ClipJob, clip, visible: opentime.TimeRange, probe: ProbeFn) -> None:
    """Set the clip's file and the file frame indexes of its cut range, or an error."""
    ref = clip.media_reference
    path = media_path(ref)
    if isinstance(ref, otio.schema.ImageSequenceReference):
        cj.status, cj.error = "refused", (f"{cj.where} is an image sequence, which conform does not "
                                          f"render yet; render it with `lipflap run` on the sequence.")
        return
    if not path:
        cj.status, cj.error = "failed", (f"{cj.where} has no media file in the timeline "
                                         f"({type(ref).__name__}); relink it to its source media.")
        return
    cj.media = path
    if not os.path.isfile(path):
        cj.status, cj.error = "failed", (f"{cj.where}: media file {path} is missing; restore it or "
                                         f"relink the clip, then conform again.")
        return
    try:
        info = probe(path)
    except Exception as e:  # noqa: BLE001 - any probe failure is this clip's problem only
        cj.status, cj.error = "failed", f"{cj.where}: cannot read media {path} ({e})."
        return
    cj.media_fps, cj.media_start_tc = info.fps, info.start_tc_frames
    trimmed = clip.trimmed_range()
    # The source range is in the media's own time (its timecode): the file's first frame is its
    # start timecode.
    first = frames_at(trimmed.start_time, info.fps) - info.start_tc_frames
    last = first + frames_at(trimmed.duration, info.fps) - 1
    vis_first = frames_at(visible.start_time, info.fps) - info.start_tc_frames
    vis_last = vis_first + frames_at(visible.duration, info.fps) - 1
    cj.cut_first, cj.cut_last = first, last
    if vis_first < 0 or vis_last >= info.frames:
        have = (f"{to_tc(info.start_tc_frames, info.fps)}-"
                f"{to_tc(info.start_tc_frames + info.frames - 1, info.fps)}")
        want = (f"{to_tc(vis_first + info.start_tc_frames, info.fps)}-"
                f"{to_tc(vis_last + info.start_tc_frames, info.fps)}")
        hint = ""
        avail = getattr(ref, "available_range", None)
        if avail is not None and frames_at(avail.start_time, info.fps) != info.start_tc_frames:
            hint = (f" (the timeline says the media starts at "
                    f"{to_tc(frames_at(avail.start_time, info.fps), info.fps)}, the file's "
                    f"timecode says {to_tc(info.start_tc_frames, info.fps)})")
        cj.status, cj.error = "failed", (f"{cj.where} uses source {want} but {path} holds only "
                                         f"{have}{hint}; relink the clip to the right media.")


def _name_jobs(jobs: list[ClipJob], opts: PlanOptions, lang: str) -> None:
    """<clip>_lipflap_<lang>_v<NNN>; a clip name used twice gets its record timecode appended so
    each use keeps its own version series (its dub differs)."""
    counts: dict[str, int] = {}
    for cj in jobs:
        b = clip_base(cj.clip_name)
        counts[b] = counts.get(b, 0) + 1
    ext = MOVIE_CODECS[opts.codec]
    for cj in jobs:
        base = clip_base(cj.clip_name)
        if counts[base] > 1:
            base = f"{base}_{tc_tag(cj.record_tc)}"
        version = next_version(opts.outdir, base, lang)
        # Two conforms of one cut into one folder at once: each render name is claimed by an
        # exclusive create, so the second takes the next version instead of the same name.
        while not _claim(opts.outdir, render_stem(base, lang, version) + ext):
            version += 1
        cj.version = version
        cj.key = render_stem(base, lang, cj.version)
        cj.render = os.path.join(os.path.abspath(opts.outdir), cj.key + ext)
        cj.report = report_path(cj.render)
        if cj.job is not None:
            cj.job["output"] = {"path": cj.render, "mode": opts.mode,
                                "codec": None if opts.codec == AUTO_CODEC else opts.codec}
            cj.job["report"] = cj.report
            # The engine rejects a job that breaks the contract; catch our own mistakes here.
            try:
                parse_job(cj.job, where=f"job for {cj.where}")
            except LipflapError as e:
                cj.status, cj.error, cj.job = "failed", str(e), None


CLAIM_SUFFIX = ".lipflap-claim"


def claim_path(render: str) -> str:
    """The hidden file that holds a planned render's name until the render exists."""
    folder, name = os.path.split(render)
    return os.path.join(folder, f".{name}{CLAIM_SUFFIX}")


def _claim(outdir: str, name: str) -> bool:
    """Claim a render name in `outdir` (False when another plan has it). A folder that cannot
    be written is left to fail at the render, with the engine's own message."""
    try:
        os.makedirs(outdir, exist_ok=True)
        fd = os.open(claim_path(os.path.join(os.path.abspath(outdir), name)),
                     os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
    except FileExistsError:
        return False
    except OSError:
        return True
    os.close(fd)
    return True


def _attach_text(jobs: list[ClipJob], opts: PlanOptions, notes: list[str]) -> None:
    if not opts.transcripts:
        return
    used: set[str] = set()
    for cj in jobs:
        hit = lookup(opts.transcripts, cj.clip_name, cj.record_tc)
        if hit is None:
            notes.append(f"{cj.where} has no transcript entry; aligned from the audio alone.")
            continue
        key, text = hit
        used.add(key)
        if cj.job is not None and cj.cast is not None:
            from .voicing import text_to_voices
            text_to_voices(cj, text, notes)
        elif cj.job is not None:
            cj.job["text"] = text
    for key in unused_keys(opts.transcripts, used):
        notes.append(f"transcript entry {key!r} matches no clip under the dub (keys are clip names or "
                     f"record-in timecodes).")
