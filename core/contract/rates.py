"""Frame rates as exact rationals.

Hosts and users write rates as "23.976", "29.97", "24000/1001" or 25 (Resolve also as "29.97 DF");
timecode maths needs the exact NTSC rationals, so the common decimal spellings map to them.
"""
from __future__ import annotations

from fractions import Fraction

from .errors import FormatError

_NTSC = {
    "23.976": Fraction(24000, 1001), "23.98": Fraction(24000, 1001),
    "29.97": Fraction(30000, 1001), "47.952": Fraction(48000, 1001), "47.95": Fraction(48000, 1001),
    "59.94": Fraction(60000, 1001), "119.88": Fraction(120000, 1001),
}


def parse_rate(value) -> Fraction:
    """A frame rate from an int, float, Fraction or string ('24', '23.976', '24000/1001')."""
    if isinstance(value, Fraction):
        rate = value
    elif isinstance(value, bool):
        raise FormatError(f"frame rate {value!r} is not a number; give e.g. 24, 23.976 or 24000/1001.")
    elif isinstance(value, int):
        rate = Fraction(value)
    else:
        text = str(value).strip()
        words = text.split()
        # Resolve's project settings spell the timecode mode after the rate ("29.97 DF").
        if len(words) == 2 and words[1].upper() in ("DF", "NDF"):
            text = words[0]
        for key, exact in _NTSC.items():
            if text == key or (text.replace(".", "", 1).isdigit() and _close(text, key)):
                return exact
        try:
            if "/" in text:
                num, den = text.split("/", 1)
                rate = Fraction(int(num), int(den))
            else:
                rate = Fraction(text).limit_denominator(1001)
        except (ValueError, ZeroDivisionError):
            raise FormatError(f"frame rate {_shown(value)} is not a number; give e.g. 24, 23.976 or "
                               f"24000/1001.") from None
    if rate <= 0 or rate > 1000:
        raise FormatError(f"frame rate {_shown(value)} is out of range; give a rate between 1 and 1000 fps.")
    return rate


def _shown(value) -> str:
    # A pasted blob in a rate field must not turn the one-line error into a page.
    text = repr(value)
    return text if len(text) <= 50 else text[:47] + "..."


def _close(text: str, key: str) -> bool:
    # "23.976023976" (what some tools print) is still NTSC film.
    try:
        return abs(float(text) - float(key)) < 0.0015 and len(text) > len(key)
    except ValueError:
        return False


def is_drop_frame_rate(rate: Fraction) -> bool:
    """Drop-frame timecode exists only for the 30000/1001 family."""
    return rate.denominator == 1001 and rate.numerator in (30000, 60000)


def nominal_fps(rate: Fraction) -> int:
    """The integer frames-per-second a timecode counts in (24 for 23.976, 30 for 29.97)."""
    return int(round(float(rate)))


def rate_string(rate: Fraction) -> str:
    """The exact spelling of a rate for a job or a report: "24000/1001", or "25" when whole."""
    return f"{rate.numerator}/{rate.denominator}" if rate.denominator != 1 else str(rate.numerator)


def rate_json(rate) -> int | str:
    """A rate as a JSON value: a whole rate as a number (24), any other as rate_string spells it
    ("24000/1001"); the mouth-shape track's "fps"."""
    rate = Fraction(rate)
    return rate.numerator if rate.denominator == 1 else rate_string(rate)
