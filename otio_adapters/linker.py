"""OpenTimelineIO media linker: relink clips to their newest lip-synced render, when one exists.

Renders are named `<clip>_lipflap_<lang>_v<NNN>.<ext>` by the one naming rule
(lipflap.contract.naming, which Resolve, Nuke and conform name by); a clip used more than once
in a cut has its record-in timecode after its name (`<clip>_<HHMMSSFF>_lipflap_...`).
A render replaces the clip's media only when its own timecode covers the clip's source range,
so the clip's source range stays valid. Arguments (`otioconvert -m lipflap_relink -M key=value`)
or environment variables:

    renders         folder(s) to search, os.pathsep-separated   LIPFLAP_RENDERS
                    (default: the folder of the clip's media)
    language        only renders for this language code          LIPFLAP_LANGUAGE
    timeline_start  the cut's record start timecode, needed      LIPFLAP_TIMELINE_START
                    only to tell two uses of one clip apart

A relinked clip gets the `lipflap` metadata key (render path, version, language, report path,
sync score, flagged ranges, the media it replaced). A clip without a render keeps its media.
"""
from __future__ import annotations

import logging
import os

import opentimelineio as otio
from opentimelineio import opentime

from lipflap.conform import probe_media
from lipflap.conform.assemble import report_summary
from lipflap.conform.plan import exact_rate, frames_at, media_path, read_tc, to_tc
from lipflap.contract.errors import LipflapError
from lipflap.contract.naming import clip_base, movie_render_re, report_path, tc_tag
from lipflap.contract.report import read_report

log = logging.getLogger("lipflap_otio.linker")


def _arg(args: dict, key: str, env: str):
    v = args.get(key)
    return str(v) if v not in (None, "") else os.environ.get(env) or None


def _record_tag(clip, start_tc: str | None) -> str | None:
    """HHMMSSFF of the clip's record-in, when the cut's start timecode is known."""
    if not start_tc:
        return None
    root = clip
    while root.parent() is not None:
        root = root.parent()
    if root is clip:
        return None
    rate = exact_rate(clip.trimmed_range().duration.rate)
    start = read_tc(start_tc, rate)  # in the timeline's mode: drop-frame at 29.97, as render names are
    rr = clip.transformed_time_range(clip.trimmed_range(), root)
    return tc_tag(to_tc(start + frames_at(rr.start_time, rate), rate))


def _covers(path: str, clip) -> tuple[bool, object]:
    """Whether the render's timecode range holds the clip's source range (and its probe)."""
    try:
        info = probe_media(path)
    except Exception as e:  # noqa: BLE001 - an unreadable render is never linked
        log.warning("lipflap_relink: cannot read %s (%s); not linked", path, e)
        return False, None
    sr = clip.trimmed_range()
    a = frames_at(sr.start_time, info.fps)
    n = frames_at(sr.duration, info.fps)
    return info.start_tc_frames <= a and a + n <= info.start_tc_frames + info.frames, info


def find_renders(clip, dirs: list[str], language: str | None, tag: str | None) -> list[tuple]:
    """Candidate renders for a clip, best first: (path, version, language, tag)."""
    bases = []
    for name in (clip.name, os.path.splitext(os.path.basename(media_path(clip.media_reference) or ""))[0]):
        if name and clip_base(name) not in bases:
            bases.append(clip_base(name))
    found = []
    for d in dirs:
        try:
            names = os.listdir(d)
        except OSError:
            continue
        for base in bases:
            pat = movie_render_re(base, language)
            for name in names:
                m = pat.match(name)
                if m:
                    path = os.path.join(d, name)
                    found.append((path, int(m.group("ver")), m.group("lang"), m.group("tag"),
                                  os.path.getmtime(path)))
    if tag is not None and any(f[3] == tag for f in found):
        found = [f for f in found if f[3] == tag]
    elif tag is not None:
        found = [f for f in found if f[3] is None]
    # Newest: highest version, then the latest written (versions count per language).
    found.sort(key=lambda f: (f[1], f[4]), reverse=True)
    return [f[:4] for f in found]


def link_media_reference(in_clip, media_linker_argument_map=None):
    """Relink a clip to its newest lip-synced render (<clip>_lipflap_<lang>_v<NNN>) whose
    timecode covers the clip's source range; keep its media when there is none."""
    args = media_linker_argument_map or {}
    ref = in_clip.media_reference
    src = media_path(ref)
    dirs_arg = _arg(args, "renders", "LIPFLAP_RENDERS")
    dirs = dirs_arg.split(os.pathsep) if dirs_arg else ([os.path.dirname(src)] if src else [])
    language = _arg(args, "language", "LIPFLAP_LANGUAGE")
    try:
        in_clip.trimmed_range()
    except otio.exceptions.OTIOError:
        return ref  # no source range and no media range: nothing to match a render against
    tag = _record_tag(in_clip, _arg(args, "timeline_start", "LIPFLAP_TIMELINE_START"))
    candidates = find_renders(in_clip, dirs, language, tag)
    if tag is None and len({c[3] for c in candidates}) > 1:
        # Two uses of this clip have renders; without the cut's start we cannot tell whose is whose.
        log.warning("lipflap_relink: clip %r has renders for several record times; pass "
                    "timeline_start to relink it", in_clip.name)
        return ref
    if language is None and len({c[2] for c in candidates}) > 1:
        log.warning("lipflap_relink: clip %r has renders in several languages (%s); pass language to "
                    "choose", in_clip.name, ", ".join(sorted({c[2] for c in candidates})))
        return ref
    for path, version, lang, _tag in candidates:
        ok, info = _covers(path, in_clip)
        if not ok:
            continue
        rate = float(info.fps)
        new = otio.schema.ExternalReference(
            target_url=os.path.abspath(path),
            available_range=opentime.TimeRange(opentime.RationalTime(info.start_tc_frames, rate),
                                               opentime.RationalTime(info.frames, rate)))
        report = report_path(path)
        rep = None
        if os.path.isfile(report):
            try:
                rep = read_report(report)
            except LipflapError as e:  # relinked all the same; said, never silently empty
                log.warning("lipflap_relink: %s; clip %r is relinked without its sync score and "
                            "flagged ranges", str(e).rstrip("."), in_clip.name)
        score, flagged = report_summary(rep)
        in_clip.metadata["lipflap"] = {
            "render_path": os.path.abspath(path), "version": version, "language": lang,
            "report_path": report if os.path.isfile(report) else None, "sync_score": score,
            "flagged_ranges": flagged, "source_media": src,
        }
        return new
    return ref
