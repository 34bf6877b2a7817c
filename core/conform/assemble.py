"""Finished jobs -> a timeline with the renders, and the CMX 3600 EDL of the renders.

The renders go on a new video track above the originals, each at its clip's record range, with
the report's flagged ranges as markers and everything a host needs under the clip's `lipflap`
metadata key. A render's source range is its own timecode, which by the output contract is the
source clip's; we read it from the file rather than assume it. A host's placements
(lipflap.contract.placements, `lipflap timeline`) become a timeline through the same track
builder and EDL writer.
"""
from __future__ import annotations

import copy
import os

import opentimelineio as otio
from opentimelineio import opentime

from ..contract.errors import JobError, LipflapError
from ..contract.files import atomic_write
from ..contract.naming import safe_name
from ..contract.placements import Placements
from ..contract.rates import is_drop_frame_rate, parse_rate
from ..contract.report import RunReport, read_report
from ..provenance.summary import edl_comment, from_report
from .plan import RENDER_TRACK_KEY, ClipJob, ProbeFn, otio_rate, timeline_rate, \
    timeline_start, to_tc

def report_summary(rep: RunReport | None) -> tuple[float | None, list[dict]]:
    """(sync score, flagged ranges) of a run's report already read, for the `lipflap` metadata;
    ranges are file frame indexes as {start_frame, end_frame, reason}. No report: nothing."""
    if rep is None:
        return None, []
    return rep.sync_score, [{"start_frame": r.start, "end_frame": r.end, "reason": r.reason}
                            for r in rep.flagged_ranges]


def flag_marker(reason: str, start: int, frames: int, rate: float) -> otio.schema.Marker:
    """A red marker over frames [start, start + frames) of a clip's source time."""
    return otio.schema.Marker(
        name=reason, color=otio.schema.MarkerColor.RED,
        marked_range=opentime.TimeRange(opentime.RationalTime(start, rate), opentime.RationalTime(frames, rate)),
        metadata={"lipflap": {"flagged": True}})


def _render_clip(cj: ClipJob, probe: ProbeFn, dub_label: str | None) -> otio.schema.Clip:
    """The render as a clip cut to the original's cut range, in the render's own timecode."""
    info = probe(cj.render)
    fps = cj.media_fps or info.fps
    rate = otio_rate(fps)
    cut_tc = cj.media_start_tc + cj.cut_first
    n = cj.cut_last - cj.cut_first + 1
    if not (info.start_tc_frames <= cut_tc and cut_tc + n <= info.start_tc_frames + info.frames):
        raise ValueError(
            f"render {cj.render} has timecode {to_tc(info.start_tc_frames, fps)} for {info.frames} "
            f"frames, which does not cover the clip's source {to_tc(cut_tc, fps)}-"
            f"{to_tc(cut_tc + n - 1, fps)}; the engine broke the output contract.")
    ref = otio.schema.ExternalReference(
        target_url=cj.render,
        available_range=opentime.TimeRange(opentime.RationalTime(info.start_tc_frames, rate),
                                           opentime.RationalTime(info.frames, rate)))
    clip = otio.schema.Clip(name=cj.key, media_reference=ref,
                            source_range=opentime.TimeRange(opentime.RationalTime(cut_tc, rate),
                                                            opentime.RationalTime(n, rate)))
    score, flagged = report_summary(cj.run_report)  # read once when the job finished
    for fl in flagged:
        fl["start_tc"] = to_tc(cj.media_start_tc + fl["start_frame"], fps)
        fl["end_tc"] = to_tc(cj.media_start_tc + fl["end_frame"], fps)
        # Markers live in the clip's source time; only the part inside the cut is visible.
        a = max(fl["start_frame"], cj.cut_first)
        b = min(fl["end_frame"], cj.cut_last)
        if a > b:
            continue
        clip.markers.append(flag_marker(fl["reason"], cj.media_start_tc + a, b - a + 1, rate))
    clip.metadata["lipflap"] = {
        "render_path": cj.render, "version": cj.version, "dub": cj.dub, "dub_source": dub_label,
        "language": (cj.job or {}).get("language"), "report_path": cj.report,
        "sync_score": score, "flagged_ranges": flagged, "source_clip": cj.clip_name,
        "source_media": cj.media, "record_in": cj.record_tc,
        # That the render is lip-synced and where its Content Credential is (lipflap.provenance).
        "disclosure": from_report(cj.run_report),
    }
    return clip


def assemble(source: otio.schema.Timeline, jobs: list[ClipJob], probe: ProbeFn, *,
             language: str | None = None, dub_label: str | None = None,
             ) -> tuple[otio.schema.Timeline, list[ClipJob]]:
    """A copy of `source` with a render track above its video tracks.

    Returns the timeline and the jobs whose render could not be placed (their status is set to
    failed with the reason); the others are placed. Jobs not done are left out of the track and
    noted on their original clip.
    """
    tl = copy.deepcopy(source)
    rate = timeline_rate(tl)
    start = timeline_start(tl, rate)
    originals = list(tl.find_clips())
    lang = language or "und"
    placed: list[tuple[tuple[int, str], tuple[int, int, otio.schema.Clip]]] = []
    bad: list[ClipJob] = []
    for cj in jobs:
        orig = originals[cj.clip_index] if cj.clip_index < len(originals) else None
        if cj.status == "done":
            try:
                clip = _render_clip(cj, probe, dub_label)
            except Exception as e:  # noqa: BLE001 - an unreadable render fails this clip only
                cj.status, cj.error = "failed", (str(e) if isinstance(e, ValueError) else
                                                 f"{cj.where}: cannot read render {cj.render} ({e}).")
                bad.append(cj)
            else:
                placed.append(((cj.track_index, cj.track_name),
                               (cj.record_in, cj.record_out, clip, cj.clip_index)))
        if orig is not None:
            orig.metadata["lipflap"] = {"status": cj.status, "render_path": cj.render
                                        if cj.status == "done" else None, "error": cj.error}
    # One render track per source video track (a cutaway on V2 over V1 overlaps V1 in record
    # time), each above all the originals, in the originals' order.
    by_track: dict[int, list] = {}
    names: dict[int, str] = {}
    for cj_track, item in placed:
        by_track.setdefault(cj_track[0], []).append(item)
        names[cj_track[0]] = cj_track[1]
    if not by_track:
        by_track[-1] = []  # an empty render track still shows where renders will go
    between = transitions_between(source)
    kinds = [t.kind for t in tl.tracks]
    at = max((i for i, k in enumerate(kinds) if k == otio.schema.TrackKind.Video), default=-1) + 1
    several = len(by_track) > 1
    for ti in sorted(by_track):
        label = f"lipflap {lang}" + (f" {names[ti]}" if several else "")
        track = render_track(by_track[ti], start, rate, label,
                             {"language": language, "source_track": names.get(ti)}, between)
        tl.tracks.insert(at, track)
        at += 1
    return tl, bad


def render_track(items: list, start: int, rate, label: str, metadata: dict,
                 between: dict | None = None) -> otio.schema.Track:
    """A render track from (record_in, record_out, clip, clip index) items, with gaps between.

    The track starts at the stack's time 0, which is record frame `start` (EDL-read timelines
    have no global start: their start is 0 and the leading gap holds the hour). A transition the
    editor put between two clips that both rendered is kept (the renders hold its frames).
    """
    otio_r = otio_rate(rate)
    track = otio.schema.Track(name=label, kind=otio.schema.TrackKind.Video,
                              metadata={"lipflap": {RENDER_TRACK_KEY: True, **metadata}})
    pos, prev = start, None
    for r0, r1, clip, ci in sorted(items, key=lambda p: p[0]):
        if r0 < pos:
            raise ValueError(f"renders overlap at record {to_tc(r0, rate)} on one track; this "
                             f"is a bug in lipflap conform.")
        if r0 > pos:
            track.append(otio.schema.Gap(source_range=opentime.TimeRange(
                opentime.RationalTime(0, otio_r), opentime.RationalTime(r0 - pos, otio_r))))
        elif prev is not None and between and (prev, ci) in between:
            track.append(copy.deepcopy(between[(prev, ci)]))
        track.append(clip)
        pos, prev = r1, ci
    return track


def placements_timeline(pl: Placements, where: str = "placements",
                        warn=None) -> otio.schema.Timeline:
    """A host's placed renders as a timeline: one render track from `pl.start`, flagged record
    ranges as markers in each clip's source time, the host's metadata kept. A report a
    placement names is read once for its disclosure; `warn(sentence)` hears of one that cannot be
    read (None: it is an error)."""
    rate = parse_rate(pl.rate)
    otio_r = otio_rate(rate)
    items, ends = [], []
    for i, p in enumerate(sorted(pl.placements, key=lambda p: p.record_in)):
        if p.record_in < pl.start:
            raise JobError(f"{where}: {p.render} is placed at record frame {p.record_in}, before the "
                           f"timeline's start {pl.start}; give record_in in the numbering of start.")
        if ends and p.record_in < ends[-1][0]:
            raise JobError(f"{where}: {p.render} at record {to_tc(p.record_in, rate)} overlaps "
                           f"{ends[-1][1]}; one track holds one clip at a time, so leave one out.")
        name = p.name or os.path.splitext(os.path.basename(p.render))[0]
        clip = otio.schema.Clip(name=name, media_reference=otio.schema.ExternalReference(target_url=p.render),
                                source_range=opentime.TimeRange(opentime.RationalTime(p.source_in, otio_r),
                                                                opentime.RationalTime(p.duration, otio_r)))
        for m in p.markers:
            clip.markers.append(flag_marker(m.reason, p.source_in + m.record_in - p.record_in, m.duration, otio_r))
        clip.metadata["lipflap"] = dict(p.metadata)
        disclosure = p.metadata.get("disclosure") or from_report(_host_report(p.metadata, name, warn))
        if disclosure:
            clip.metadata["lipflap"]["disclosure"] = disclosure
        items.append((p.record_in, p.record_in + p.duration, clip, i))
        ends.append((p.record_in + p.duration, p.render))
    tl = otio.schema.Timeline(name=pl.name, global_start_time=opentime.RationalTime(pl.start, otio_r))
    tl.metadata["lipflap"] = dict(pl.metadata)
    tl.tracks.append(render_track(items, pl.start, rate, pl.track,
                                  {"language": pl.language, "source_track": None}))
    return tl


def transitions_between(tl: otio.schema.Timeline) -> dict[tuple[int, int], otio.schema.Transition]:
    """Transitions of the top-level tracks by the find_clips() indexes of the two clips they join."""
    out = {}
    index = 0
    for track in tl.tracks:
        if not isinstance(track, otio.schema.Track):
            index += len(track.find_clips())
            continue
        last_clip, pending = None, None
        for item in track:
            if isinstance(item, otio.schema.Clip):
                if pending is not None and last_clip is not None:
                    out[(last_clip, index)] = pending
                last_clip, pending = index, None
                index += 1
            elif isinstance(item, otio.schema.Transition):
                pending = item
            else:
                n = len(item.find_clips()) if hasattr(item, "find_clips") else 0
                index += n
                last_clip, pending = None, None
    return out


def render_tracks(tl: otio.schema.Timeline) -> list[otio.schema.Track]:
    return [t for t in tl.video_tracks() if t.metadata.get("lipflap", {}).get(RENDER_TRACK_KEY)]


def edl_timeline(tl: otio.schema.Timeline, src: otio.schema.Track) -> otio.schema.Timeline:
    """A one-video-track timeline of one render track, for the cmx_3600 writer.

    The writer ignores Timeline.global_start_time (docs/conform.md, adapter traps): record timecode would
    start at 00:00:00:00. Starting the track's source range at minus the record start puts the
    first frame at the timeline's start timecode.
    """
    rate = timeline_rate(tl)
    start = timeline_start(tl, rate)
    track = otio.schema.Track(name=src.name, kind=otio.schema.TrackKind.Video)
    for item in src:
        if isinstance(item, (otio.schema.Clip, otio.schema.Gap)):
            track.append(copy.deepcopy(item))
    otio_r = otio_rate(rate)
    dur = track.duration() if len(track) else opentime.RationalTime(0, otio_r)
    track.source_range = opentime.TimeRange(opentime.RationalTime(-start, otio_r), dur)
    out = otio.schema.Timeline(name=tl.name)
    out.tracks.append(track)
    return out


def edl_paths(tl: otio.schema.Timeline, path: str) -> list[str]:
    """Where write_edl puts each render track's EDL: `path` for the first, then
    `<path stem>_<source track>.edl` (CMX 3600 holds one video track)."""
    tracks = render_tracks(tl)
    stem, ext = os.path.splitext(path)
    out = [path]
    for t in tracks[1:]:
        label = safe_name(str(t.metadata["lipflap"].get("source_track") or t.name))
        out.append(f"{stem}_{label}{ext or '.edl'}")
    return out


def write_edl(tl: otio.schema.Timeline, path: str) -> list[str]:
    """Write the render tracks as CMX 3600 EDLs; returns the paths written."""
    rate = timeline_rate(tl)
    # The adapter writes no frame-code mode; without it a reader cannot tell ';' timecode apart.
    fcm = "FCM: DROP FRAME" if is_drop_frame_rate(rate) else "FCM: NON-DROP FRAME"
    tracks = render_tracks(tl)
    paths = edl_paths(tl, path)
    for src, out_path in zip(tracks or [otio.schema.Track()], paths):
        edl = edl_timeline(tl, src)
        if not any(isinstance(i, otio.schema.Clip) for i in edl.tracks[0]):
            text = f"TITLE: {tl.name}\n" if tl.name else ""  # the writer cannot write zero events
        else:
            text = otio.adapters.write_to_string(edl, "cmx_3600", rate=otio_rate(rate))
        lines = _with_disclosure(text.splitlines(), src)
        at = 1 if lines and lines[0].startswith("TITLE:") else 0
        lines.insert(at, fcm)
        atomic_write(out_path, "\n".join(lines) + "\n")
    return paths


def _host_report(md: dict, name: str, warn) -> RunReport | None:
    """The run report a host's placement names (`report`, or conform's `report_path`), read once."""
    path = md.get("report") or md.get("report_path")
    if not path:
        return None
    try:
        return read_report(path)
    except LipflapError as e:
        if warn is None:
            raise
        warn(f"{str(e).rstrip('.')}; until then {name} has no LIP-SYNCED disclosure in the "
             f"timeline and EDL.")
        return None


def _with_disclosure(lines: list[str], track: otio.schema.Track) -> list[str]:
    """After each event's clip-name comment, a `* LIPFLAP: LIP-SYNCED ...` line for renders whose
    `lipflap` metadata carries a disclosure (put there from the report, read once, by
    _render_clip or placements_timeline)."""
    said = {}
    for clip in track.find_clips():
        s = (clip.metadata.get("lipflap") or {}).get("disclosure")
        if s:
            said[clip.name] = edl_comment(s)
    if not said:
        return lines
    out = []
    for ln in lines:
        out.append(ln)
        for tag in ("* FROM CLIP NAME:", "* TO CLIP NAME:"):
            if ln.startswith(tag) and ln[len(tag):].strip() in said:
                out.append(said[ln[len(tag):].strip()])
    return out


def write_timeline(tl: otio.schema.Timeline, otio_path: str, edl_path: str) -> list[str]:
    """The timeline as OTIO JSON and its render tracks as CMX 3600 EDLs; returns the EDL paths."""
    atomic_write(otio_path, otio.adapters.write_to_string(tl, "otio_json"))
    return write_edl(tl, edl_path)
