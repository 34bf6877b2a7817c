"""Rates and timecode as Resolve reports them, standard library only.

Resolve hands rates over as strings ("23.976", "29.97", "25") and timecode as "01:00:00:00" or
"00:59:59;29"; the engine's job contract wants exact rationals and 0-based frame indexes.
"""
from __future__ import annotations

from fractions import Fraction

_NTSC = {"23.976": Fraction(24000, 1001), "23.98": Fraction(24000, 1001),
         "29.97": Fraction(30000, 1001), "47.952": Fraction(48000, 1001),
         "59.94": Fraction(60000, 1001), "119.88": Fraction(120000, 1001)}


def parse_rate(value) -> Fraction:
    """An exact rate from Resolve's spelling ("23.976", "29.97 DF", 25.0, "24000/1001")."""
    text = str(value).strip().split()[0] if str(value).strip() else ""
    if not text:
        raise ValueError("empty frame rate")
    if "/" in text:
        num, den = text.split("/", 1)
        return Fraction(int(num), int(den))
    for key, exact in _NTSC.items():
        if abs(float(text) - float(key)) < 0.002:
            return exact
    return Fraction(text).limit_denominator(1001)


def rate_string(rate: Fraction) -> str:
    return f"{rate.numerator}/{rate.denominator}" if rate.denominator != 1 else str(rate.numerator)


def nominal(rate: Fraction) -> int:
    return int(round(float(rate)))


def tc_to_frames(tc: str, rate: Fraction, drop: bool | None = None) -> int:
    """Frame count of a timecode; drop-frame when the string uses ';' or drop is True."""
    text = tc.strip()
    if drop is None:
        drop = ";" in text
    parts = text.replace(";", ":").replace(".", ":").split(":")
    if len(parts) != 4:
        raise ValueError(f"not a timecode: {tc!r}")
    h, m, s, f = (int(p) for p in parts)
    fps = nominal(rate)
    frames = ((h * 60 + m) * 60 + s) * fps + f
    if drop:
        dropped = 2 * (fps // 30)
        total_minutes = h * 60 + m
        frames -= dropped * (total_minutes - total_minutes // 10)
    return frames


def frames_to_tc(frames: int, rate: Fraction, drop: bool = False) -> str:
    fps = nominal(rate)
    if drop:
        dropped = 2 * (fps // 30)
        per_10min = fps * 600 - dropped * 9
        per_min = fps * 60 - dropped
        tens, rem = divmod(frames, per_10min)
        if rem > dropped:
            frames += dropped * 9 * tens + dropped * ((rem - dropped) // per_min)
        else:
            frames += dropped * 9 * tens
    f = frames % fps
    s = frames // fps % 60
    m = frames // (fps * 60) % 60
    h = frames // (fps * 3600) % 24
    return f"{h:02d}:{m:02d}:{s:02d}{';' if drop else ':'}{f:02d}"
