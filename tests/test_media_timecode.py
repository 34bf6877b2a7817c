from fractions import Fraction

import pytest

from lipflap.contract.errors import LipflapError
from lipflap.contract.timecode import frames_to_tc, tc_to_frames

NTSC30 = Fraction(30000, 1001)
NTSC60 = Fraction(60000, 1001)


@pytest.mark.parametrize("tc,rate,frames", [
    ("01:00:00:00", 24, 86400),
    ("01:00:00:00", "23.976", 86400),          # timecode counts nominal frames
    ("01:00:00:00", 25, 90000),
    ("00:00:59;29", NTSC30, 1799),
    ("00:01:00;02", NTSC30, 1800),              # ;00 and ;01 do not exist at minute 1
    ("00:10:00;00", NTSC30, 17982),             # every tenth minute keeps them
    ("00:59:59;29", NTSC30, 107891),
    ("01:00:00;00", NTSC30, 107892),
    ("01:00:00;00", NTSC60, 215784),
    ("01:00:00:00", NTSC30, 108000),            # non-drop at 29.97
])
def test_known_values(tc, rate, frames):
    assert tc_to_frames(tc, rate) == frames
    drop = ";" in tc
    assert frames_to_tc(frames, rate, drop) == tc


@pytest.mark.parametrize("rate", [NTSC30, NTSC60])
def test_drop_frame_round_trip_whole_day(rate):
    day = 24 * 3600 * int(round(rate)) - int(round(rate)) // 15 * 9 * 6 * 24
    for n in list(range(0, 40000, 7)) + list(range(day - 5000, day, 3)):
        tc = frames_to_tc(n, rate, True)
        assert tc_to_frames(tc, rate) == n, (n, tc)
    assert frames_to_tc(day, rate, True) == "00:00:00;00"   # wraps at 24 h


def test_drop_frame_labels_skipped():
    labels = {frames_to_tc(n, NTSC30, True) for n in range(1790, 1810)}
    assert "00:01:00;00" not in labels and "00:01:00;01" not in labels
    assert "00:00:59;29" in labels and "00:01:00;02" in labels


def test_errors_are_clear():
    with pytest.raises(LipflapError, match="HH:MM:SS:FF"):
        tc_to_frames("1:00:00", 24)
    with pytest.raises(LipflapError, match="out of range"):
        tc_to_frames("00:00:00:24", 24)
    with pytest.raises(LipflapError, match="does not exist in drop-frame"):
        tc_to_frames("00:01:00;00", NTSC30)
    with pytest.raises(LipflapError, match="no drop-frame"):
        tc_to_frames("00:01:00;05", 25)
