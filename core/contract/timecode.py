"""SMPTE timecode <-> frame counts, drop-frame correct.

Timecode counts in the nominal integer rate (24 for 23.976, 30 for 29.97). Drop-frame (only for
the 30000/1001 family) skips frame *labels* 00 and 01 (04 at 59.94: 00-03) at the start of every
minute except every tenth, so the label stays within a frame of wall-clock time; no picture is
dropped. The separator before the frames is ';' (or ',' / '.') for drop-frame, ':' otherwise.

This is the project's one timecode pair: the engine, conform, the OTIO plugin and the Resolve and
Nuke plugins all label and read timecode here. It agrees with OpenTimelineIO's
`opentime.to_timecode`/`from_timecode` on every valid label (tests/test_contract_timecode.py),
and differs where OTIO is lenient, on purpose:
- a drop-frame label that does not exist (`00:01:00;00` at 29.97) is refused with one sentence;
  OTIO reads it as the next frame;
- labels wrap at midnight: frame 24 h is `00:00:00:00` (as OTIO), a negative count is labelled
  from the day before (OTIO refuses it); reading accepts hours up to 99 without wrapping (as OTIO:
  `24:00:00:00` is frame 24 h), so a label read back gives the frame count modulo one day;
- at 29.97 and 59.94 non-drop, OTIO 0.18's `to_timecode` wraps at the drop-frame day (the frame
  after 23:58:33:17 at 29.97 is labelled 00:00:00:00); here a non-drop clock runs to 23:59:59:29.
"""
from __future__ import annotations

import re
from fractions import Fraction

from .errors import FormatError
from .rates import is_drop_frame_rate, nominal_fps, parse_rate

_TC = re.compile(r"^\s*(-)?(\d{1,2})[:;.,](\d{2})[:;.,](\d{2})([:;.,])(\d{2,3})\s*$")


def _drop_per_minute(rate: Fraction) -> int:
    # 2 labels per minute at 29.97, 4 at 59.94 (nominal/15).
    return nominal_fps(rate) // 15


def tc_to_frames(tc: str, rate, drop: bool | None = None) -> int:
    """Frames since 00:00:00:00 for timecode `tc` at `rate`.

    `drop` None infers drop-frame from the separator (';' ',' or '.' before the frames).
    """
    rate = parse_rate(rate)
    m = _TC.match(str(tc))
    if not m:
        raise FormatError(f"timecode {tc!r} is not HH:MM:SS:FF; write e.g. 01:00:00:00 "
                           f"(or 00:59:59;29 for drop-frame).")
    neg, hh, mm, ss, sep, ff = m.groups()
    hh, mm, ss, ff = int(hh), int(mm), int(ss), int(ff)
    if drop is None:
        drop = sep in ";,."
    fps = nominal_fps(rate)
    if mm > 59 or ss > 59 or ff >= fps:
        raise FormatError(f"timecode {tc!r} is out of range at {fps} frames per second "
                           f"(minutes and seconds 0-59, frames 0-{fps - 1}).")
    if drop and not is_drop_frame_rate(rate):
        raise FormatError(f"timecode {tc!r} is drop-frame but the rate {rate} has no drop-frame "
                           f"timecode; use ':' before the frames.")
    total_minutes = 60 * hh + mm
    n = (total_minutes * 60 + ss) * fps + ff
    if drop:
        d = _drop_per_minute(rate)
        if ss == 0 and ff < d and mm % 10 != 0:
            raise FormatError(f"timecode {tc!r} does not exist in drop-frame (frames 00-{d - 1:02d} "
                               f"are skipped at the start of each minute not divisible by 10).")
        n -= d * (total_minutes - total_minutes // 10)
    return -n if neg else n


def frames_to_tc(n: int, rate, drop: bool = False) -> str:
    """Timecode label for frame count `n` (frames since 00:00:00:00), wrapping at 24 hours."""
    rate = parse_rate(rate)
    fps = nominal_fps(rate)
    n = int(n)
    if drop:
        if not is_drop_frame_rate(rate):
            raise FormatError(f"rate {rate} has no drop-frame timecode.")
        d = _drop_per_minute(rate)
        per_10min = fps * 600 - d * 9
        per_min = fps * 60 - d
        day = per_10min * 6 * 24
        n %= day
        tens, rem = divmod(n, per_10min)
        # The first minute of each ten keeps all its labels; the others lose d each.
        if rem >= d:
            n += d * 9 * tens + d * ((rem - d) // per_min)
        else:
            n += d * 9 * tens
    else:
        n %= fps * 86400
    ff = n % fps
    s = n // fps
    sep = ";" if drop else ":"
    return f"{s // 3600 % 24:02d}:{s // 60 % 60:02d}:{s % 60:02d}{sep}{ff:02d}"
