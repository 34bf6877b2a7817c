"""What to lip-sync on a Resolve timeline: clips, their exact source ranges, and the dub under them.

Everything here reads Resolve's object model and returns plain dataclasses, so it can be tested
against a fake of that model. Facts of the API relied on (DaVinci Resolve scripting README):
track indexes are 1-based; GetStart/GetEnd are timeline frame numbers (GetEnd exclusive);
GetLeftOffset counts timeline frames (measured), so the in-point in media frames is it scaled by
the clip's rate over the timeline's; rates come as strings such as "23.976". docs/hosts.md lists
every call with its source and version.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from fractions import Fraction

from lipflap_contract.rates import parse_rate
from lipflap_contract.timecode import frames_to_tc, tc_to_frames


SOURCE_SLACK = 2   # frames: one for the 19.x start, one for the end's inclusive/exclusive swing


class PlanError(Exception):
    """A clip that cannot be handed to the engine; the message says which clip and what to do."""


@dataclass
class TimelineInfo:
    name: str
    rate: Fraction
    drop: bool
    start_frame: int          # timeline frame number of the timeline's first frame
    start_tc: str


@dataclass
class DubSource:
    path: str
    offset_s: float           # where the clip's first frame (without handles) sits in `path`
    note: str = ""


@dataclass
class ClipPlan:
    item: object = field(repr=False)
    name: str = ""
    track: int = 1
    path: str = ""
    clip_rate: Fraction = Fraction(24)
    record_start: int = 0     # timeline frame number, inclusive
    record_end: int = 0       # timeline frame number, exclusive
    source_start: int = 0     # 0-based frame index within the file, inclusive
    source_end: int = 0       # inclusive
    dub: DubSource | None = None
    voices: list = field(default_factory=list)   # dialogue: [(face, DubSource)], instead of `dub`
    text: str = ""            # the dub's script for this clip, when known
    error: str = ""
    notes: list = field(default_factory=list)    # what was assumed, one sentence each (logged)

    @property
    def duration(self) -> int:
        return self.record_end - self.record_start


def timeline_info(timeline) -> TimelineInfo:
    rate = parse_rate(timeline.GetSetting("timelineFrameRate"))
    drop = str(timeline.GetSetting("timelineDropFrameTimecode")) in ("1", "true", "True")
    return TimelineInfo(name=timeline.GetName(), rate=rate, drop=drop,
                        start_frame=int(timeline.GetStartFrame()),
                        start_tc=timeline.GetStartTimecode())


def record_tc(info: TimelineInfo, frame: int) -> str:
    """Timecode of a timeline frame number (GetStartFrame counts from 00:00:00:00)."""
    offset = frame - info.start_frame
    return frames_to_tc(tc_to_frames(info.start_tc, info.rate, info.drop) + offset, info.rate, info.drop)


def _video_items(timeline, track: int) -> list:
    return [it for it in (timeline.GetItemListInTrack("video", track) or []) if it is not None]


def in_out_range(timeline) -> tuple[int | None, int | None]:
    """The timeline's In and Out as frame numbers; (None, None) when unset. GetMarkInOut is in
    the README from 19.x on: older builds get a PlanError saying so."""
    getter = getattr(timeline, "GetMarkInOut", None)
    if getter is None:
        raise PlanError("this Resolve gives scripts no In and Out (that came with Resolve 19); choose "
                        "'every clip on the track' or 'the clip under the playhead'.")
    marks = getter() or {}
    video = marks.get("video") or {}
    start, end = video.get("in"), video.get("out")
    if start is None or end is None:
        return None, None
    return int(start) + int(timeline.GetStartFrame()), int(end) + int(timeline.GetStartFrame()) + 1


def select_items(timeline, scope: str, track: int) -> list[tuple[int, object]]:
    """The clips to process: 'current' (the clip under the playhead), 'track' (every clip on
    `track`), or 'inout' (clips on `track` overlapping In..Out). Resolve's API exposes no
    timeline selection, so these are the honest choices."""
    if scope == "current":
        item = timeline.GetCurrentVideoItem()
        if not item:
            raise PlanError("no clip under the playhead; move the playhead onto a clip or choose a track.")
        for t in range(1, int(timeline.GetTrackCount("video")) + 1):
            for it in _video_items(timeline, t):
                if it is item or (it.GetStart() == item.GetStart() and it.GetName() == item.GetName()):
                    return [(t, it)]
        return [(1, item)]
    count = int(timeline.GetTrackCount("video"))
    if not 1 <= track <= count:
        raise PlanError(f"video track {track} does not exist; this timeline has {count} video track(s).")
    items = _video_items(timeline, track)
    if scope == "inout":
        lo, hi = in_out_range(timeline)
        if lo is None:
            raise PlanError("the timeline has no In and Out marks; set them, or choose 'every clip on the track'.")
        items = [it for it in items if it.GetEnd() > lo and it.GetStart() < hi]
    return [(track, it) for it in items]


def plan_clip(info: TimelineInfo, track: int, item) -> ClipPlan:
    """The exact source range of a timeline clip, or a ClipPlan with `error` set."""
    name = item.GetName()
    plan = ClipPlan(item=item, name=name, track=track, record_start=int(item.GetStart()),
                    record_end=int(item.GetEnd()))
    where = f"clip '{name}' at {record_tc(info, plan.record_start)} on V{track}"
    mpi = item.GetMediaPoolItem()
    if not mpi:
        plan.error = f"{where} is a generator, title or compound clip without a media file; lip-sync its source clip instead."
        return plan
    path = mpi.GetClipProperty("File Path") or ""
    if not path:
        plan.error = f"{where} has no file path in the media pool; relink it."
        return plan
    plan.path = path
    if not os.path.exists(path):
        plan.error = f"{where}: media file {path} is offline; relink it and run again."
        return plan
    fps = mpi.GetClipProperty("FPS") or info.rate
    try:
        plan.clip_rate = parse_rate(fps)
    except (ValueError, ZeroDivisionError):
        plan.clip_rate = info.rate
        plan.notes.append(f"{where}: its media pool FPS {fps!r} is not a frame rate, so its source "
                          f"frames are counted at the timeline's {float(info.rate):.3f} fps; set the "
                          f"clip's frame rate in Clip Attributes if the file runs at another.")
    duration = plan.duration
    left = int(item.GetLeftOffset())
    # A clip at another rate than the timeline is conformed by Resolve frame for frame only
    # when rates match; otherwise source frames = timeline frames scaled by the rate ratio.
    scale = plan.clip_rate / info.rate
    plan.source_start = int(round(left * scale)) if scale != 1 else left
    src_len = int(round(duration * scale)) if scale != 1 else duration
    plan.source_end = plan.source_start + src_len - 1
    # GetSourceStartFrame/EndFrame (README 19.0.2+) only serve to spot speed changes, since they
    # are measured unreliable: 0/0 on timelines imported from FCP 7 XML, the start one low on
    # 19.x items at another rate, the end inclusive or exclusive depending on the rates. So: no
    # check without them or with 0/0, and two frames of slack for those measured errors.
    getter_s = getattr(item, "GetSourceStartFrame", None)
    getter_e = getattr(item, "GetSourceEndFrame", None)
    if getter_s is not None and getter_e is not None:
        try:
            s_start, s_end = int(getter_s()), int(getter_e())
        except (TypeError, ValueError):
            s_start = s_end = 0
        span = s_end - s_start + 1
        if (s_start, s_end) != (0, 0) and abs(span - src_len) > SOURCE_SLACK:
            plan.error = (f"{where} has a speed change ({span} source frames over {duration} record "
                          f"frames); lip-sync the clip at 100% speed and retime the render instead.")
    return plan


def dub_from_audio_track(info: TimelineInfo, timeline, track: int, plan: ClipPlan) -> DubSource:
    """The dub under a clip on audio track `track`: the audio item covering most of the clip."""
    count = int(timeline.GetTrackCount("audio"))
    if not 1 <= track <= count:
        raise PlanError(f"audio track A{track} does not exist; this timeline has {count} audio track(s).")
    best, overlap = None, 0
    for it in timeline.GetItemListInTrack("audio", track) or []:
        o = min(it.GetEnd(), plan.record_end) - max(it.GetStart(), plan.record_start)
        if o > overlap:
            best, overlap = it, o
    if best is None:
        raise PlanError(f"no dub on A{track} under clip '{plan.name}' at {record_tc(info, plan.record_start)}; "
                        f"put the dub there or choose a dub file.")
    mpi = best.GetMediaPoolItem()
    path = mpi.GetClipProperty("File Path") if mpi else ""
    if not path:
        raise PlanError(f"the audio item '{best.GetName()}' on A{track} has no media file; relink it.")
    # Audio items' offsets count timeline frames, like their record positions.
    offset = (int(best.GetLeftOffset()) + plan.record_start - int(best.GetStart())) / info.rate
    note = "" if overlap >= plan.duration else (
        f"the dub item covers {overlap} of {plan.duration} frames of this clip; the rest renders at rest")
    return DubSource(path=path, offset_s=float(offset), note=note)


def dub_from_file(info: TimelineInfo, path: str, start_tc: str, plan: ClipPlan) -> DubSource:
    """A dub file that starts at record timecode `start_tc` (e.g. the timeline's start)."""
    dub_start = tc_to_frames(start_tc, info.rate, info.drop or ";" in start_tc)
    clip_tc_frames = tc_to_frames(record_tc(info, plan.record_start), info.rate, info.drop)
    offset = (clip_tc_frames - dub_start) / info.rate
    if offset < 0:
        raise PlanError(f"the dub {os.path.basename(path)} starts at {start_tc}, after clip '{plan.name}' "
                        f"at {record_tc(info, plan.record_start)}; check the dub's start timecode.")
    return DubSource(path=path, offset_s=float(offset))
