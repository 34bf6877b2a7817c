"""The one timecode pair (lipflap.contract.timecode) against OpenTimelineIO's opentime.

Agreed behaviour (module docstring of lipflap.contract.timecode): every label agrees with
`opentime.to_timecode` / `from_timecode`; labels wrap at midnight as OTIO's do (frame 24 h is
00:00:00:00); reading accepts hours past 23 without wrapping, as OTIO does; a negative count is
labelled from the day before (OTIO refuses it); a drop-frame label that does not exist is refused
with one sentence (OTIO reads it as the next frame). One OTIO 0.18 quirk is not followed: at 29.97
and 59.94 non-drop, `to_timecode` wraps at the drop-frame day (the frame after 23:58:33:17 at
29.97 is labelled 00:00:00:00); here a non-drop clock runs to 23:59:59:29 and wraps at 24 hours.
"""
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from opentimelineio import opentime

from lipflap.contract.errors import FormatError, LipflapError
from lipflap.contract.rates import parse_rate
from lipflap.contract.timecode import frames_to_tc, tc_to_frames

# (rate as users write it, drop-frame)
RATES = [("23.976", False), ("24", False), ("25", False), ("29.97", True), ("29.97", False),
         ("30", False), ("50", False), ("59.94", True), ("59.94", False), ("60", False)]
IDS = [f"{r}{' DF' if d else ''}" for r, d in RATES]


def _day(rate: Fraction, drop: bool) -> int:
    fps = round(rate)
    return (fps * 86400 - (fps // 15) * 9 * 6 * 24) if drop else fps * 86400


def _otio_label(n: int, rate: Fraction, drop: bool) -> str:
    return opentime.to_timecode(opentime.RationalTime(n, float(rate)), float(rate), drop)


def _frames_near_midnight(rate, drop):
    day = _day(rate, drop)
    return st.one_of(st.integers(0, 3 * day), st.integers(day - 300, day + 300),
                     st.integers(2 * day - 300, 2 * day + 300))


@pytest.mark.parametrize("spelling,drop", RATES, ids=IDS)
@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_labels_agree_with_otio_including_across_midnight(spelling, drop, data):
    rate = parse_rate(spelling)
    n = data.draw(_frames_near_midnight(rate, drop))
    label = frames_to_tc(n, rate, drop)
    day = _day(rate, drop)
    assert label == frames_to_tc(n % day, rate, drop)
    if rate in (Fraction(30000, 1001), Fraction(60000, 1001)) and not drop:
        # OTIO's early wrap (module docstring): its label is ours of the count modulo the
        # drop-frame day; the two agree before 23:58:33.
        dfday = _day(rate, True)
        assert _otio_label(n, rate, drop) == frames_to_tc(n % dfday, rate, drop)
        if n < dfday:
            assert label == _otio_label(n, rate, drop)
    else:
        assert label == _otio_label(n, rate, drop)
    # Read back: the count modulo one day, as OTIO reads the same label.
    assert tc_to_frames(label, rate) == n % _day(rate, drop)
    assert tc_to_frames(label, rate) == int(opentime.from_timecode(label, float(rate)).value)


@pytest.mark.parametrize("spelling,drop", RATES, ids=IDS)
@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_reading_valid_labels_agrees_with_otio(spelling, drop, data):
    rate = parse_rate(spelling)
    fps = round(rate)
    hh = data.draw(st.integers(0, 39))  # past midnight too: neither side wraps when reading
    mm, ss, ff = data.draw(st.integers(0, 59)), data.draw(st.integers(0, 59)), data.draw(st.integers(0, fps - 1))
    if drop and ss == 0 and ff < fps // 15 and mm % 10:
        ff = fps // 15  # skipped label; refusals are tested below
    label = f"{hh:02d}:{mm:02d}:{ss:02d}{';' if drop else ':'}{ff:02d}"
    assert tc_to_frames(label, rate) == int(opentime.from_timecode(label, float(rate)).value)


@pytest.mark.parametrize("spelling", ["29.97", "59.94"])
@settings(max_examples=100, deadline=None)
@given(data=st.data())
def test_labels_drop_frame_skips_are_refused_in_one_sentence(spelling, data):
    rate = parse_rate(spelling)
    skipped = round(rate) // 15
    mm = data.draw(st.integers(0, 59).filter(lambda m: m % 10))
    label = f"{data.draw(st.integers(0, 23)):02d}:{mm:02d}:00;{data.draw(st.integers(0, skipped - 1)):02d}"
    with pytest.raises(FormatError) as e:
        tc_to_frames(label, rate)
    msg = str(e.value)
    assert label in msg and msg.count(". ") == 0 and msg.endswith(").")


def test_known_drop_frame_labels():
    r = Fraction(30000, 1001)
    with pytest.raises(LipflapError, match="does not exist in drop-frame"):
        tc_to_frames("00:01:00;00", r)
    assert isinstance(FormatError("x"), ValueError)  # hosts catch ValueError around a parse
    assert tc_to_frames("00:01:00;02", r) == 1800
    assert tc_to_frames("01:00:00;00", r) == 107892
    assert tc_to_frames("01:00:00:00", r) == 108000          # ':' is non-drop, as in OTIO
    assert frames_to_tc(-1, r, True) == "23:59:59;29"          # the day before; OTIO refuses
    with pytest.raises(ValueError):
        _otio_label(-1, r, True)
