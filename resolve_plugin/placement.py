"""Putting finished renders back on the Resolve timeline, verified.

AppendToTimeline silently drops a placement that overlaps an existing item, so every placement
is checked by counting the items on the target track before and after.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from lipflap_contract.errors import LipflapError
from lipflap_contract.report import RunReport

from .timeline import ClipPlan, TimelineInfo, record_tc

COLOR_OK = "Green"
COLOR_FLAGGED = "Orange"
COLOR_FAILED = "Red"
MARKER_COLOR = "Red"


@dataclass
class Placement:
    ok: bool
    message: str = ""
    item: object = field(default=None, repr=False)
    markers: list = field(default_factory=list)


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
    return [{"start": r.start, "end": r.end, "reason": r.reason} for r in run_report(report).flagged_ranges]


def rendered_start(report: dict, plan: ClipPlan) -> int:
    """The file frame index of the render's first frame (handles included)."""
    rng = run_report(report).range
    return rng.first if rng is not None else plan.source_start


def place_render(media_pool, timeline, info: TimelineInfo, plan: ClipPlan, render_path: str,
                 report: dict, track_index: int, bin_folder, mode: str) -> Placement:
    if bin_folder is not None:
        media_pool.SetCurrentFolder(bin_folder)
    imported = media_pool.ImportMedia([render_path]) or []
    if not imported:
        return Placement(False, f"Resolve could not import {render_path}; check that the file opens in Resolve.")
    mpi = imported[0]
    if mode == "patch":
        # The patch is transparent outside the lower face; Resolve composites it only when the
        # clip's alpha is interpreted.
        mpi.SetClipProperty("Alpha mode", "Straight")
    head = plan.source_start - rendered_start(report, plan)
    head = max(0, head)
    before = len(timeline.GetItemListInTrack("video", track_index) or [])
    appended = media_pool.AppendToTimeline([{
        "mediaPoolItem": mpi, "startFrame": head, "endFrame": head + plan.duration,
        "trackIndex": track_index, "recordFrame": plan.record_start, "mediaType": 1}]) or []
    items = timeline.GetItemListInTrack("video", track_index) or []
    if len(items) != before + 1 or not appended:
        return Placement(False, f"Resolve did not place {render_path} at {record_tc(info, plan.record_start)} "
                                f"on V{track_index} (it drops overlapping placements); place it by hand.")
    placed = appended[0]
    flagged = _flagged_ranges(report)
    placed.SetClipColor(COLOR_FLAGGED if run_report(report).has_problems else COLOR_OK)
    markers = []
    for r in flagged:
        lo = max(r["start"], plan.source_start)
        hi = min(r["end"], plan.source_end)
        if hi < lo:
            continue
        rec = plan.record_start + (lo - plan.source_start)
        frame_id = rec - info.start_frame  # timeline markers count from the timeline's first frame
        dur = hi - lo + 1
        name = f"lipflap: {r['reason']}"
        note = (f"{plan.name}: frames {lo}-{hi} ({record_tc(info, rec)}) were passed through untouched "
                f"({r['reason']}); check them or fix by hand.")
        if timeline.AddMarker(frame_id, MARKER_COLOR, name, note, dur, "lipflap"):
            markers.append({"frame": frame_id, "duration": dur, "reason": r["reason"], "record_tc": record_tc(info, rec)})
    return Placement(True, "", placed, markers)
