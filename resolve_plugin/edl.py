"""An OTIO timeline and a CMX 3600 EDL of the renders, written beside them.

The .otio file is OTIO's own JSON, written here with the standard library (Resolve's Python has
no OpenTimelineIO); the EDL is made from it by the engine environment's `otioconvert` with the
otio-cmx3600-adapter, the same code path as `lipflap conform`, so both tools write the same EDL.
Each event sits at the original clip's record timecode; its source timecode is the render's own;
flagged frames become markers (`* LOC:` lines).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from fractions import Fraction

from .placement import rendered_start
from lipflap_contract.timecode import tc_to_frames


def _rt(value: float, rate: float) -> dict:
    return {"OTIO_SCHEMA": "RationalTime.1", "rate": rate, "value": float(value)}


def _range(start: float, duration: float, rate: float) -> dict:
    return {"OTIO_SCHEMA": "TimeRange.1", "start_time": _rt(start, rate), "duration": _rt(duration, rate)}


def _item(schema: str, name: str, rng: dict, **extra) -> dict:
    d = {"OTIO_SCHEMA": schema, "metadata": {}, "name": name, "source_range": rng, "effects": [],
         "markers": [], "enabled": True, "color": None}
    d.update(extra)
    return d


def render_source_in(outcome, clip_rate: Fraction) -> int:
    """The render's own start timecode, as frames: the engine reports it; older reports leave it
    to the source's start TC plus the first rendered frame."""
    tc = ((outcome.report.get("timecodes") or {}).get("first"))
    if isinstance(tc, str):
        try:
            return tc_to_frames(tc, clip_rate)
        except ValueError:
            pass
    props = outcome.plan.item.GetMediaPoolItem().GetClipProperty("Start TC") or "00:00:00:00"
    try:
        start = tc_to_frames(str(props), clip_rate)
    except ValueError:
        start = 0
    return start + rendered_start(outcome.report, outcome.plan)


def _sync_score(report: dict):
    """r of the output's mouth against the expected track, from the report's QC figures."""
    qc = report.get("qc")
    fig = ((qc or {}).get("figures") or {}).get("sync_r") if isinstance(qc, dict) else None
    return fig.get("value") if isinstance(fig, dict) else None


def build_otio(controller, outcomes) -> dict:
    info = controller.info
    s = controller.settings
    rate = float(info.rate)
    children, cursor = [], info.start_frame
    for o in sorted(outcomes, key=lambda o: o.plan.record_start):
        p = o.plan
        if p.record_start < cursor:
            continue  # two clips cannot share a record position on one track
        if p.record_start > cursor:
            children.append(_item("Gap.1", "", _range(0, p.record_start - cursor, rate)))
        head = p.source_start - rendered_start(o.report, p)
        src_in = render_source_in(o, p.clip_rate) + max(0, head)
        name = os.path.splitext(os.path.basename(o.render))[0]
        markers = []
        for m in o.markers:
            offset = m["frame"] + info.start_frame - p.record_start
            markers.append({"OTIO_SCHEMA": "Marker.2", "metadata": {"lipflap": {"reason": m["reason"]}},
                            "name": f"lipflap: {m['reason']}", "color": "RED", "comment": "",
                            "marked_range": _range(src_in + offset, m["duration"], rate)})
        meta = {"lipflap": {"render": o.render, "source": p.path, "source_range": [p.source_start, p.source_end],
                            "dub": p.dub.path if p.dub else None, "language": s.language or None,
                            "report": os.path.splitext(o.render)[0] + ".json",
                            "sync_score": _sync_score(o.report),
                            "flagged_ranges": o.report.get("flagged_ranges") or [], "placed": o.placed}}
        clip = _item("Clip.2", name, _range(src_in, p.duration, rate),
                     media_references={"DEFAULT_MEDIA": {"OTIO_SCHEMA": "ExternalReference.1", "metadata": {},
                                                         "name": name, "available_range": None,
                                                         "available_image_bounds": None, "target_url": o.render}},
                     active_media_reference_key="DEFAULT_MEDIA")
        clip["metadata"] = meta
        clip["markers"] = markers
        children.append(clip)
        cursor = p.record_end
    # The cmx_3600 writer ignores global_start_time; a track range starting at minus the record
    # start makes its record timecodes start where the timeline does.
    track = _item("Track.1", f"lipflap {s.language or 'dub'}",
                  _range(-info.start_frame, cursor, rate), kind="Video", children=children)
    stack = _item("Stack.1", "tracks", None, children=[track])
    return {"OTIO_SCHEMA": "Timeline.1", "metadata": {"lipflap": {"timeline": info.name}},
            "name": f"{info.name} lipflap {s.language or 'dub'}", "global_start_time": _rt(info.start_frame, rate),
            "tracks": stack}


def otioconvert_command(engine: list[str]) -> list[str]:
    exe = engine[0]
    folder = os.path.dirname(exe)
    if os.path.basename(exe).lower().startswith("lipflap"):
        cand = os.path.join(folder, "otioconvert" + (".exe" if sys.platform == "win32" else ""))
        if os.path.exists(cand):
            return [cand]
        py = os.path.join(folder, "python" + (".exe" if sys.platform == "win32" else ""))
        return [py, "-m", "opentimelineio.console.otioconvert"]
    return [exe, "-m", "opentimelineio.console.otioconvert"]


def write_render_list(controller, outcomes) -> dict:
    s = controller.settings
    hc = controller.hostclient
    base = os.path.splitext(hc.next_version_path(s.output_dir, controller.info.name, s.language or None, "otio"))[0]
    otio_path, edl_path = base + ".otio", base + ".edl"
    with open(otio_path + ".tmp", "w", encoding="utf-8") as f:
        json.dump(build_otio(controller, outcomes), f, indent=2)
    os.replace(otio_path + ".tmp", otio_path)
    out = {"OTIO": otio_path}
    engine = controller.engine or hc.find_engine()
    cmd = otioconvert_command(engine) + ["-i", otio_path, "-o", edl_path]
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired) as e:
        controller.log(f"lipflap: the EDL was not written ({e}); the OTIO file is at {otio_path}.")
        return out
    if r.returncode == 0 and os.path.exists(edl_path):
        out["EDL"] = edl_path
    else:
        last = (r.stderr.strip().splitlines() or ["no message"])[-1]
        controller.log(f"lipflap: the EDL was not written ({last}); the OTIO file is at {otio_path}.")
    return out
