"""An OTIO timeline and a CMX 3600 EDL of the renders, written beside them by the engine.

Resolve's Python has no OpenTimelineIO, so the script does not write timelines itself: it lists
where each render sits (a placements file, lipflap_contract.placements, docs/timeline.md) and
runs `lipflap timeline`, which writes both files with the code `lipflap conform` uses. Each
render sits at the original clip's record position; its source range is the render's own
timecode; the flagged frames placed as markers become markers on it.
"""
from __future__ import annotations

import os
import subprocess
from fractions import Fraction

from lipflap_contract.naming import report_path
from lipflap_contract.placements import PlacedMarker, Placement, Placements
from lipflap_contract.rates import rate_string
from lipflap_contract.timecode import tc_to_frames

from .placement import rendered_start, run_report
from .timeline import record_tc


def render_source_in(outcome, clip_rate: Fraction, say) -> int:
    """The render's own start timecode, as frames: the engine reports it; older reports leave it
    to the source's start TC plus the first rendered frame. A timecode that does not parse is
    said through `say` (one sentence) with what is used instead."""
    name = outcome.plan.name
    tc = run_report(outcome.report).first_timecode
    if tc is not None:
        try:
            return tc_to_frames(tc, clip_rate)
        except ValueError:
            say(f"lipflap: {name}: the render report's first timecode {tc!r} is not a timecode at "
                f"{rate_string(clip_rate)} fps, so the EDL's source timecode of {outcome.render} is "
                f"taken from the clip's Start TC instead; check the report beside the render.")
    props = outcome.plan.item.GetMediaPoolItem().GetClipProperty("Start TC") or "00:00:00:00"
    try:
        start = tc_to_frames(str(props), clip_rate)
    except ValueError:
        say(f"lipflap: {name}: the clip's Start TC {props!r} is not a timecode at "
            f"{rate_string(clip_rate)} fps, so the EDL gives {outcome.render} source timecode from "
            f"00:00:00:00; set the clip's Start TC in the Media Pool and run again for true ones.")
        start = 0
    return start + rendered_start(outcome.report, outcome.plan)


def build_placements(controller, outcomes) -> Placements:
    """Where each render sits; a render whose record range overlaps one placed before it is left
    out (one track holds one clip a frame) and said in the console, naming both clips."""
    info = controller.info
    s = controller.settings
    lang = s.language or None
    out = Placements(name=f"{info.name} lipflap {s.language or 'dub'}", rate=rate_string(info.rate),
                     start=info.start_frame, track=f"lipflap {s.language or 'dub'}", language=lang,
                     metadata={"timeline": info.name})
    before = None
    for o in sorted(outcomes, key=lambda o: o.plan.record_start):
        p = o.plan
        if before is not None and p.record_start < before.record_end:
            controller.log(
                f"lipflap: {p.name} at {record_tc(info, p.record_start)} overlaps {before.name} at "
                f"{record_tc(info, before.record_start)} on the record side, so its render "
                f"{o.render} is left out of the EDL and OTIO file (one track holds one clip a "
                f"frame); cut it in by hand from the render.")
            continue
        out.placements.append(_placement(o, info, controller.log, lang))
        before = p
    return out


def _placement(o, info, say, lang) -> Placement:
    p = o.plan
    head = p.source_start - rendered_start(o.report, p)
    report = run_report(o.report)
    return Placement(
        render=o.render, record_in=p.record_start, duration=p.duration,
        source_in=render_source_in(o, p.clip_rate, say) + max(0, head),
        name=os.path.splitext(os.path.basename(o.render))[0],
        # Resolve's markers count from the timeline's first frame.
        markers=[PlacedMarker(m["frame"] + info.start_frame, m["duration"], m["reason"]) for m in o.markers],
        metadata={"render": o.render, "source": p.path, "source_range": [p.source_start, p.source_end],
                  "dub": p.dub.path if p.dub else None, "language": lang,
                  "report": report_path(o.render), "sync_score": report.sync_score,
                  "flagged_ranges": [r.to_dict() for r in report.flagged_ranges], "placed": o.placed})


def write_render_list(controller, outcomes) -> dict:
    """Write `<timeline>_lipflap_<lang>_v<NNN>.otio` and `.edl` through the engine; returns the
    paths written ({"OTIO": ..., "EDL": ...}), or {} after logging why not."""
    s = controller.settings
    hc = controller.hostclient
    base = os.path.splitext(hc.next_version_path(s.output_dir, controller.info.name, s.language or None, "otio"))[0]
    otio_path, edl_path, pl_path = base + ".otio", base + ".edl", base + ".placements.json"
    build_placements(controller, outcomes).save(pl_path)
    try:
        run = hc.EngineRun(["timeline", pl_path, "-o", otio_path, "--edl", edl_path], engine=controller.engine)
    except (OSError, RuntimeError) as e:
        controller.log(f"lipflap: the OTIO file and EDL were not written ({e}); the placements are in {pl_path}.")
        return {}
    try:
        res = run.wait(300)
    except subprocess.TimeoutExpired:
        run.cancel()
        controller.log(f"lipflap: the engine took over 5 minutes to write the OTIO file and EDL; the "
                       f"placements are in {pl_path}.")
        return {}
    if not res.ok:
        controller.log(f"lipflap: the OTIO file and EDL were not written ({res.error}); the placements "
                       f"are in {pl_path}.")
        return {}
    result = res.result if isinstance(res.result, dict) else {}
    return {"OTIO": result.get("timeline", otio_path), "EDL": result.get("edl", edl_path)}
