"""Putting finished renders back on the Resolve timeline, verified from what Resolve reports.

Facts relied on (docs/hosts.md has the sources): AppendToTimeline acts on the CURRENT timeline;
its startFrame/endFrame are frames of the media (not of the timeline); endFrame is inclusive on
19.1 and exclusive on the other versions measured; trackIndex/recordFrame are documented from
the 2024 (19.x) README on; an overlapping placement is dropped without a word. So each placement
makes the run's timeline current for the call, then reads the result back (start, end, track,
media pool item) and removes anything Resolve put elsewhere.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field

from lipflap_contract.errors import LipflapError
from lipflap_contract.report import RunReport

from .timeline import ClipPlan, TimelineInfo, record_tc

# Clip colours are the README's set (Orange ... Chocolate); there is no "Red" for clips.
COLOR_OK = "Green"
COLOR_FLAGGED = "Yellow"
COLOR_FAILED = "Orange"
MARKER_COLOR = "Red"     # a marker colour (the marker set has Red)


@dataclass
class Placement:
    ok: bool
    message: str = ""
    item: object = field(default=None, repr=False)
    markers: list = field(default_factory=list)


@dataclass
class EndConvention:
    """Whether AppendToTimeline reads endFrame as inclusive: 19.1 does (measured); an unknown
    build is learned from the first placement that comes back one frame long or short."""
    inclusive: bool = False
    learned: bool = False

    @classmethod
    def for_version(cls, version) -> "EndConvention":
        try:
            major, minor = int(version[0]), int(version[1])
        except (TypeError, ValueError, IndexError):
            return cls()
        return cls(inclusive=(major, minor) == (19, 1))


def same_timeline(a, b) -> bool:
    """Resolve hands out a new proxy per call, so compare the README's unique ids."""
    if a is None or b is None:
        return False
    if a is b:
        return True
    try:
        return a.GetUniqueId() == b.GetUniqueId()
    except (AttributeError, TypeError):   # older builds: no GetUniqueId
        return a.GetName() == b.GetName()


def find_bin(media_pool, name: str):
    """The media pool bin `name` under the root, created when missing."""
    root = media_pool.GetRootFolder()
    for folder in root.GetSubFolderList() or []:
        if folder.GetName() == name:
            return folder
    return media_pool.AddSubFolder(root, name)


def add_video_track(timeline) -> int:
    """A new empty video track above the others; returns its 1-based index."""
    before = int(timeline.GetTrackCount("video"))
    if not timeline.AddTrack("video"):
        raise RuntimeError("Resolve refused to add a video track; unlock the timeline and try again.")
    after = int(timeline.GetTrackCount("video"))
    if after != before + 1:
        raise RuntimeError("Resolve did not add a video track; unlock the timeline and try again.")
    return after


def run_report(report: dict) -> RunReport:
    """The engine's report through the contract's one reader; an unreadable one reads as empty
    (the render is still placed; it just carries no flags)."""
    try:
        return RunReport.from_dict(report or {})
    except LipflapError:
        return RunReport()


def _flagged_ranges(report: dict) -> list[dict]:
    """The report's flagged ranges; in a dialogue run each names its face, and one range flagged
    on several faces becomes one marker naming them all (a frame takes one marker)."""
    merged: dict = {}
    for r in run_report(report).flagged_ranges:
        entry = merged.setdefault((r.start, r.end, r.reason), [])
        if r.face is not None and r.face not in entry:
            entry.append(r.face)
    return [{"start": a, "end": b, "reason": why, "faces": faces} for (a, b, why), faces in merged.items()]


def rendered_start(report: dict, plan: ClipPlan) -> int:
    """The file frame index of the render's first frame (handles included)."""
    rng = run_report(report).range
    return rng.first if rng is not None else plan.source_start


def _media_path(item) -> str:
    mpi = item.GetMediaPoolItem() if item is not None else None
    path = str(mpi.GetClipProperty("File Path") or "") if mpi else ""
    return os.path.normcase(os.path.normpath(path)) if path else ""


def _where(timeline, item, path):
    """(track, start, end) of `item` as the timeline lists it, or None when it is not on it."""
    start, end = int(item.GetStart()), int(item.GetEnd())
    path = os.path.normcase(os.path.normpath(os.path.abspath(path)))
    for t in range(1, int(timeline.GetTrackCount("video")) + 1):
        for it in timeline.GetItemListInTrack("video", t) or []:
            if int(it.GetStart()) == start and int(it.GetEnd()) == end and _media_path(it) == path:
                return t, start, end
    return None


NO_SWITCH = object()   # _append could not make the run's timeline current


def _append(project, timeline, clip_info):
    """AppendToTimeline on `timeline`, whichever timeline the user has open: make it current for
    the call and give the user theirs back."""
    current = project.GetCurrentTimeline()
    switched = not same_timeline(current, timeline)
    if switched and not project.SetCurrentTimeline(timeline):
        return NO_SWITCH
    try:
        return project.GetMediaPool().AppendToTimeline([clip_info])
    finally:
        if switched and current is not None:
            project.SetCurrentTimeline(current)


def _try(project, timeline, info, plan, mpi, path, head, n, track_index, inclusive):
    """One placement; returns (item, problem, record length off by). Anything Resolve put in
    the wrong place is removed again."""
    clip_info = {"mediaPoolItem": mpi, "startFrame": head, "endFrame": head + n - (1 if inclusive else 0),
                 "trackIndex": track_index, "recordFrame": plan.record_start, "mediaType": 1}
    appended = _append(project, timeline, clip_info)
    if appended is NO_SWITCH:
        return None, f"Resolve would not open timeline '{info.name}' to place the render", 0
    if not isinstance(appended, (list, tuple)) or not appended:
        return None, "Resolve dropped the placement (it drops placements that overlap a clip)", 0
    item = appended[0]
    where = _where(timeline, item, path)
    # Rates that differ are converted to timeline frames by Resolve: allow its rounding.
    slack = 0 if plan.clip_rate == info.rate else 1
    off = (where[2] - plan.record_end) if where else 0
    if where and where[0] == track_index and where[1] == plan.record_start and abs(off) <= slack:
        return item, "", 0
    timeline.DeleteClips(list(appended), False)
    if where is None:
        return None, "Resolve put the render somewhere else (this version ignores trackIndex/recordFrame)", 0
    if where[0] != track_index or where[1] != plan.record_start:
        return None, (f"Resolve put the render on V{where[0]} at {record_tc(info, where[1])} instead "
                      f"(this version ignores trackIndex/recordFrame)"), 0
    return None, f"Resolve made the render {where[2] - where[1]} frames long instead of {plan.duration}", off


def place_render(project, timeline, info: TimelineInfo, plan: ClipPlan, render_path: str, report: dict,
                 track_index: int, bin_folder, mode: str, convention: EndConvention) -> Placement:
    media_pool = project.GetMediaPool()
    if bin_folder is not None:
        media_pool.SetCurrentFolder(bin_folder)
    imported = media_pool.ImportMedia([render_path]) or []
    if not imported:
        return Placement(False, f"Resolve could not import {render_path} (or it is already in the media pool); "
                                f"check that the file opens in Resolve.")
    mpi = imported[0]
    if mode == "patch":
        # The patch is transparent outside the lower face; Resolve composites it only when the
        # clip's alpha is interpreted.
        mpi.SetClipProperty("Alpha mode", "Straight")
    # Frames of the render (media frames at the clip's rate): skip the head handles, play the
    # cut's own source frames.
    head = max(0, plan.source_start - rendered_start(report, plan))
    n = plan.source_end - plan.source_start + 1
    item, problem, off = _try(project, timeline, info, plan, mpi, render_path, head, n, track_index,
                              convention.inclusive)
    if item is None and abs(off) == 1 and not convention.learned:
        # One frame long or short: this build reads endFrame the other way round.
        convention.inclusive = not convention.inclusive
        item, problem, off = _try(project, timeline, info, plan, mpi, render_path, head, n, track_index,
                                  convention.inclusive)
    if item is None:
        return Placement(False, f"{problem}: {render_path} belongs at {record_tc(info, plan.record_start)} on "
                                f"V{track_index}; it is in the media pool, place it by hand.")
    convention.learned = True
    flagged = _flagged_ranges(report)
    # A colour or marker Resolve refuses (a locked track, say) is said, not skipped silently.
    notes = []
    color = COLOR_FLAGGED if run_report(report).has_problems else COLOR_OK
    if not item.SetClipColor(color):
        notes.append(f"Resolve would not colour the render {color}")
    markers = []
    for r in flagged:
        lo = max(r["start"], plan.source_start)
        hi = min(r["end"], plan.source_end)
        if hi < lo:
            continue
        # Report frames are media frames; markers sit on timeline frames.
        rec = plan.record_start + int(round((lo - plan.source_start) * info.rate / plan.clip_rate))
        frame_id = rec - info.start_frame  # timeline markers count from the timeline's first frame
        dur = max(1, int(round((hi - lo + 1) * info.rate / plan.clip_rate)))
        whose = f" (face {', '.join(r['faces'])})" if r["faces"] else ""
        name = f"lipflap: {r['reason']}{whose}"
        note = (f"{plan.name}: frames {lo}-{hi} ({record_tc(info, rec)}) were passed through untouched "
                f"({r['reason']}{whose}); check them or fix by hand.")
        if timeline.AddMarker(frame_id, MARKER_COLOR, name, note, dur, "lipflap"):
            markers.append({"frame": frame_id, "duration": dur, "reason": r["reason"] + whose,
                            "record_tc": record_tc(info, rec)})
        else:
            notes.append(f"Resolve refused the marker for frames {lo}-{hi} ({r['reason']}) at "
                         f"{record_tc(info, rec)}; check them by hand")
    return Placement(True, "; ".join(notes), item, markers)
