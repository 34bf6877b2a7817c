"""Finished jobs -> a timeline with the renders, and the CMX 3600 EDL of the renders.

The renders go on a new video track above the originals, each at its clip's record range, with
the report's flagged ranges as markers and everything a host needs under the clip's `lipflap`
metadata key. A render's source range is its own timecode, which by the output contract
(DESIGN.md section 5) is the source clip's; we read it from the file rather than assume it.
"""
from __future__ import annotations

import copy
import json
import os
import re
from fractions import Fraction

import opentimelineio as otio
from opentimelineio import opentime

from .plan import RENDER_TRACK_KEY, ClipJob, ProbeFn, otio_rate, timeline_rate, \
    timeline_start, to_tc

# Report entries whose state means "done as asked"; anything else is flagged.
_OK_STATES = {"ok", "done", "synced", "rendered", "lipsynced", "lip-synced", "processed", "good"}


def read_report(path: str | None) -> tuple[float | None, list[dict]]:
    """(sync score, flagged ranges) from a run's report; ranges are file frame indexes.

    The report lists per frame range what was done and what was not (DESIGN.md section 4); its
    exact keys are the renderer's, so this accepts the usual spellings: a list under
    "flagged_ranges" (what `lipflap run` writes), "flagged", "flags", "ranges" or "segments", each
    with start/end (or start_frame/end_frame, first/last) and a state under "reason", "status",
    "state", "what" or "flag"; the score is "sync_score", "score" or the QC figure "sync_r".
    """
    if not path or not os.path.isfile(path):
        return None, []
    try:
        with open(path, encoding="utf-8") as f:
            rep = json.load(f)
    except (OSError, ValueError):
        return None, []
    if not isinstance(rep, dict):
        return None, []
    score = rep.get("sync_score", rep.get("score"))
    if score is None and isinstance(rep.get("sync"), dict):
        score = rep["sync"].get("score")
    qc = rep.get("qc") if isinstance(rep.get("qc"), dict) else {}
    if score is None:
        score = qc.get("sync_score")
    if score is None and isinstance(qc.get("figures"), dict):
        # lipflap run's report: the QC figure "sync_r" (r of measured vs expected aperture).
        sync_r = qc["figures"].get("sync_r")
        score = sync_r.get("value") if isinstance(sync_r, dict) else None
    score = float(score) if isinstance(score, (int, float)) and not isinstance(score, bool) else None
    flagged = []
    # Top-level ranges are file frame indexes (the job's own addressing); the QC section's are
    # counted from the output's first frame and are not read here.
    for key in ("flagged_ranges", "flagged", "flags", "ranges", "segments"):
        for entry in rep.get(key) or []:
            if not isinstance(entry, dict):
                continue
            start = _first(entry, ("start_frame", "start", "first", "in"))
            end = _first(entry, ("end_frame", "end", "last", "out"))
            state = _first(entry, ("reason", "status", "state", "what", "flag", "kind"))
            if start is None or end is None:
                continue
            state = str(state if state is not None else key)
            if state.lower() in _OK_STATES:
                continue
            flagged.append({"start_frame": int(start), "end_frame": int(end), "reason": state})
    return score, flagged


def _first(d: dict, keys):
    for k in keys:
        if k in d and d[k] is not None:
            return d[k]
    return None


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
    score, flagged = read_report(cj.report)
    for fl in flagged:
        fl["start_tc"] = to_tc(cj.media_start_tc + fl["start_frame"], fps)
        fl["end_tc"] = to_tc(cj.media_start_tc + fl["end_frame"], fps)
        # Markers live in the clip's source time; only the part inside the cut is visible.
        a = max(fl["start_frame"], cj.cut_first)
        b = min(fl["end_frame"], cj.cut_last)
        if a > b:
            continue
        clip.markers.append(otio.schema.Marker(
            name=fl["reason"], color=otio.schema.MarkerColor.RED,
            marked_range=opentime.TimeRange(opentime.RationalTime(cj.media_start_tc + a, rate),
                                            opentime.RationalTime(b - a + 1, rate)),
            metadata={"lipflap": {"flagged": True}}))
    clip.metadata["lipflap"] = {
        "render_path": cj.render, "version": cj.version, "dub": cj.dub, "dub_source": dub_label,
        "language": (cj.job or {}).get("language"), "report_path": cj.report,
        "sync_score": score, "flagged_ranges": flagged, "source_clip": cj.clip_name,
        "source_media": cj.media, "record_in": cj.record_tc,
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
    otio_r = otio_rate(rate)
    several = len(by_track) > 1
    for ti in sorted(by_track):
        items = sorted(by_track[ti], key=lambda p: p[0])
        label = f"lipflap {lang}" + (f" {names[ti]}" if several else "")
        track = otio.schema.Track(name=label, kind=otio.schema.TrackKind.Video,
                                  metadata={"lipflap": {RENDER_TRACK_KEY: True, "language": language,
                                                        "source_track": names.get(ti)}})
        # The track starts at the stack's time 0, which is record frame `start` (EDL-read
        # timelines have no global start: their start is 0 and the leading gap holds the hour).
        pos = start
        prev = None
        for r0, r1, clip, ci in items:
            if r0 < pos:
                raise ValueError(f"renders overlap at record {to_tc(r0, rate)} on one track; this "
                                 f"is a bug in lipflap conform.")
            if r0 > pos:
                track.append(otio.schema.Gap(source_range=opentime.TimeRange(
                    opentime.RationalTime(0, otio_r), opentime.RationalTime(r0 - pos, otio_r))))
            elif prev is not None and (prev, ci) in between:
                # Both sides rendered: keep the editor's transition (the renders hold its frames).
                track.append(copy.deepcopy(between[(prev, ci)]))
            track.append(clip)
            pos, prev = r1, ci
        tl.tracks.insert(at, track)
        at += 1
    return tl, bad


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

    The writer ignores Timeline.global_start_time (DESIGN.md section 8): record timecode would
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
        label = re.sub(r"[^A-Za-z0-9._-]+", "_", str(t.metadata["lipflap"].get("source_track") or
                                                     t.name)).strip("_")
        out.append(f"{stem}_{label}{ext or '.edl'}")
    return out


def write_edl(tl: otio.schema.Timeline, path: str) -> list[str]:
    """Write the render tracks as CMX 3600 EDLs; returns the paths written."""
    rate = timeline_rate(tl)
    # The adapter writes no frame-code mode; without it a reader cannot tell ';' timecode apart.
    fcm = "FCM: DROP FRAME" if rate == Fraction(30000, 1001) or rate == Fraction(60000, 1001) \
        else "FCM: NON-DROP FRAME"
    tracks = render_tracks(tl)
    paths = edl_paths(tl, path)
    for src, out_path in zip(tracks or [otio.schema.Track()], paths):
        edl = edl_timeline(tl, src)
        if not any(isinstance(i, otio.schema.Clip) for i in edl.tracks[0]):
            text = f"TITLE: {tl.name}\n" if tl.name else ""  # the writer cannot write zero events
        else:
            text = otio.adapters.write_to_string(edl, "cmx_3600", rate=otio_rate(rate))
        lines = text.splitlines()
        at = 1 if lines and lines[0].startswith("TITLE:") else 0
        lines.insert(at, fcm)
        atomic_write(out_path, "\n".join(lines) + "\n")
    return paths


def atomic_write(path: str, text: str) -> None:
    """Write beside the target and rename, so a crash never leaves a half-written file."""
    tmp = f"{path}.tmp{os.getpid()}"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)
