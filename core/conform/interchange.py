"""The timelines editors exchange (AAF, FCP 7 XML, FCPXML): read, and written back lip-synced.

Reading and writing go through OpenTimelineIO's maintained adapters (otio-aaf-adapter,
otio-fcp-adapter, otio-fcpx-xml-adapter). The conformed cut is written back in the format it came
in; what the adapter cannot carry is found by reading the written file back with the same
adapter and comparing it with the conformed timeline, and is listed in one warning. Measured
with the pinned versions (docs/conform.md, "Interchange"):

- AAF keeps track names, the start timecode, transitions with AAF parameters (a cut read from an
  AAF has them) and clip ranges; its writer writes no markers, and a clip with no AAF mob ID
  (every render) is written only with `use_empty_mob_ids=True`.
- FCP 7 XML keeps the start timecode, transitions and clip markers; every track name reads back "".
- FCPXML keeps clips and markers; it drops transitions and the start timecode, names tracks by
  lane number, and reads and writes only whole-number rates (it takes 23.976 for 23), so an
  FCPXML at 23.976 or 29.97 is refused before anything is planned.
"""
from __future__ import annotations

import contextlib
import io
import os
import re
from dataclasses import dataclass, field

import opentimelineio as otio

from ..contract.errors import LipflapError
from .plan import RENDER_TRACK_KEY, exact_rate, timeline_rate, timeline_start, to_tc


@dataclass(frozen=True)
class Format:
    adapter: str        # OpenTimelineIO adapter name
    label: str          # what editors call the format
    package: str        # the PyPI package that provides the adapter
    write_args: dict = field(default_factory=dict)


FORMATS = {
    # Renders have no AAF mob ID; without empty IDs the writer stops at the first render.
    ".aaf": Format("AAF", "AAF", "otio-aaf-adapter", {"use_empty_mob_ids": True}),
    ".xml": Format("fcp_xml", "FCP 7 XML", "otio-fcp-adapter"),
    ".fcpxml": Format("fcpx_xml", "FCPXML", "otio-fcpx-xml-adapter"),
}


def format_of(path: str) -> Format | None:
    return FORMATS.get(os.path.splitext(path)[1].lower())


_FRAME_DURATION = re.compile(r'frameDuration="(\d+)/(\d+)s"')


def check_readable(path: str, fmt: Format) -> None:
    """Refuse a file the adapter would misread, before anything is planned from it."""
    if fmt.adapter != "fcpx_xml":
        return
    with open(path, encoding="utf-8", errors="replace") as f:
        text = f.read()
    for num, den in _FRAME_DURATION.findall(text):
        if int(den) % int(num):
            raise LipflapError(
                f"{path}: this FCPXML runs at {int(den) / int(num):.3f} fps, which "
                f"{fmt.package} reads as {int(den) // int(num)} fps, misplacing every clip; export "
                f"the timeline as FCP 7 XML (.xml), AAF or OTIO instead.")


def adapter_check(fmt: Format, path: str) -> None:
    """The adapter is installed (it is a dependency of lipflap; a broken install says so)."""
    try:
        otio.adapters.from_name(fmt.adapter)
    except otio.exceptions.NotSupportedError:
        raise LipflapError(f"{path}: reading {fmt.label} needs the {fmt.package} package; install "
                           f"it with `pip install {fmt.package}`.") from None


def write_back(tl: otio.schema.Timeline, path: str, fmt: Format) -> str | None:
    """Write the conformed timeline in `fmt` to `path` (atomically); returns the one warning
    naming what the adapter could not carry, or None when it carried everything that matters."""
    adapter_check(fmt, path)
    folder, name = os.path.split(os.path.abspath(path))
    _remove_dead_temporaries(folder, name)
    tmp = os.path.join(folder, f".{name}.{os.getpid()}.partial{os.path.splitext(name)[1]}")
    said = io.StringIO()
    try:
        # The AAF writer prints what it skips (a transition type) to stdout, which belongs to
        # the progress protocol: collect it for the warning instead.
        with contextlib.redirect_stdout(said):
            otio.adapters.write_to_file(tl, tmp, adapter_name=fmt.adapter, **fmt.write_args)
            back = otio.adapters.read_from_file(tmp, adapter_name=fmt.adapter, media_linker_name=None)
    except Exception as e:  # noqa: BLE001 - adapters raise anything on what they cannot write
        with contextlib.suppress(OSError):
            os.remove(tmp)
        brief = " ".join(f"{type(e).__name__}: {e}".split())[:200]
        return (f"{path}: not written: {fmt.package} cannot write this timeline ({brief}); the "
                f"conformed cut is in the .otio and the EDL.")
    os.replace(tmp, path)
    lost = [f"the adapter said: {line.strip()}" for line in said.getvalue().splitlines() if line.strip()]
    lost += not_carried(tl, back)
    if not lost:
        return None
    return (f"{path}: {fmt.label} ({fmt.package}) could not carry: " + "; ".join(lost)
            + "; all of it is in the .otio (and the flags as * LOC lines in the EDL).")


def _remove_dead_temporaries(folder: str, name: str) -> None:
    """Hidden temporaries of this file left by a conform killed mid-write (its pid is gone)."""
    pat = re.compile(rf"^\.{re.escape(name)}\.(\d+)\.partial")
    try:
        names = os.listdir(folder)
    except OSError:
        return
    for other in names:
        m = pat.match(other)
        if m and not _alive(int(m.group(1))):
            with contextlib.suppress(OSError):
                os.remove(os.path.join(folder, other))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # someone else's process: alive
    return True


def _render_rows(tl: otio.schema.Timeline, track) -> list[tuple[int, int]]:
    """(record in relative to the timeline's start, frames) of each clip on a track."""
    rate = float(timeline_rate(tl))
    return [(round(c.range_in_parent().start_time.value_rescaled_to(rate)),
             round(c.range_in_parent().duration.value_rescaled_to(rate))) for c in track.find_clips()]


def not_carried(tl: otio.schema.Timeline, back: otio.schema.Timeline) -> list[str]:
    """What `back` (the written file read again) lacks of `tl`, as short phrases."""
    out = []
    rate = timeline_rate(tl)
    vt, bvt = list(tl.video_tracks()), list(back.video_tracks())
    ours = [i for i, t in enumerate(vt) if t.metadata.get("lipflap", {}).get(RENDER_TRACK_KEY)]
    markers = back_markers = 0
    for i in ours:
        want = _render_rows(tl, vt[i])
        got = _render_rows(back, bvt[i]) if i < len(bvt) else []
        if want != got:
            out.append(f"the renders of track {vt[i].name!r} at their record frames (written back "
                       f"as {len(got)} clip(s), expected {len(want)})")
        markers += sum(len(c.markers) for c in vt[i].find_clips())
        back_markers += sum(len(c.markers) for c in bvt[i].find_clips()) if i < len(bvt) else 0
    if markers > back_markers:
        out.append(f"{markers - back_markers} of {markers} flag marker(s)")
    names = [t.name for t in tl.tracks]
    kept = {t.name for t in back.tracks}
    dropped = [n for n in names if n and n not in kept]
    if dropped:
        out.append("track names " + ", ".join(repr(n) for n in dropped))
    if len(back.tracks) < len(tl.tracks):
        out.append(f"{len(tl.tracks) - len(back.tracks)} empty track(s)")
    trans = sum(1 for _ in tl.find_children(descended_from_type=otio.schema.Transition))
    back_trans = sum(1 for _ in back.find_children(descended_from_type=otio.schema.Transition))
    if trans > back_trans:
        out.append(f"{trans - back_trans} of {trans} transition(s)")
    if tl.global_start_time is not None and (
            back.global_start_time is None
            or round(back.global_start_time.value_rescaled_to(float(rate)))
            != timeline_start(tl, rate)):
        got = (to_tc(round(back.global_start_time.value_rescaled_to(float(rate))), rate)
               if back.global_start_time is not None else "none")
        out.append(f"the start timecode {to_tc(timeline_start(tl, rate), rate)} (written: {got})")
    if back.global_start_time is not None and exact_rate(back.global_start_time.rate) != rate:
        out.append(f"the rate {float(rate):.3f} fps")
    if not any("lipflap" in c.metadata for c in back.find_clips()):
        out.append("the clips' lipflap metadata (render paths, versions, sync scores, flagged ranges)")
    return out
