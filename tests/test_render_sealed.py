"""An exemplar seen shut but tracked parted has its inner lips drawn to the lip line its pixels
show before it is warped (issue 15: the hard set's selfie f54, a "p" built from frame 112, tracked
0.024 eye distances apart and seen 0.006, re-tracked a lower lip thinner than the actor's)."""
from __future__ import annotations

import numpy as np

from lipflap.render import geometry as g
from lipflap.render import sealed

# A synthetic mouth: lips from x 20 to 100, outer contour at y 40 (upper) and 70 (lower), the
# tracked inner lips at 50 and 58 (8 px apart), the pixels' lip line (dark) at y 52.
REGION = np.array(sorted(set(g.LIPS_OUTER) | set(g.LIPS_INNER)), np.int32)
LINE_Y = 52


def _mouth():
    pos = {int(k): i for i, k in enumerate(REGION)}
    pts = np.zeros((len(REGION), 2))
    for k, idx in enumerate(g.LIPS_OUTER):
        a = 2 * np.pi * k / len(g.LIPS_OUTER)
        pts[pos[idx]] = [60 - 40 * np.cos(a), 55 + 15 * np.sin(a)]
    for k, (up, lo) in enumerate(g.INNER_PAIRS):
        x = 28 + 8 * k
        pts[pos[up]], pts[pos[lo]] = [x, 50], [x, 58]
    pts[pos[78]], pts[pos[308]] = [22, 54], [98, 54]
    img = np.full((100, 120, 3), 200, np.uint8)
    img[40:71, 20:101] = (170, 110, 110)          # lips
    img[LINE_Y - 1:LINE_Y + 2, 20:101] = (70, 40, 40)     # where they meet
    return pts, img, pos


def test_a_mouth_seen_shut_has_its_inner_lips_meet_on_the_lip_line():
    pts, img, pos = _mouth()
    out = sealed.seal_points(pts, img, 0, 0, REGION, tracked=0.03, seen=0.0)
    for up, lo in g.INNER_PAIRS:
        assert abs(out[pos[up], 1] - LINE_Y) < 0.6 and abs(out[pos[lo], 1] - LINE_Y) < 0.6
        assert out[pos[up], 0] == pts[pos[up], 0], "the points move across the lips only"
    outer = [pos[k] for k in g.LIPS_OUTER]
    np.testing.assert_array_equal(out[outer], pts[outer], "the lips' outer edge stays")
    # The lower lip, inner to outer edge at the middle, is as thick as its pixels (70 - 52),
    # not as its track (70 - 58).
    assert out[pos[17], 1] - out[pos[14], 1] > 17


def test_a_mouth_seen_just_parted_keeps_that_share_of_its_gap_round_the_line():
    pts, img, pos = _mouth()
    out = sealed.seal_points(pts, img, 0, 0, REGION, tracked=0.02, seen=0.005)
    for up, lo in g.INNER_PAIRS:
        gap = out[pos[lo], 1] - out[pos[up], 1]
        assert abs(gap - 8 * 0.25) < 1e-6
        assert out[pos[up], 1] < LINE_Y < out[pos[lo], 1]


def test_a_mouth_seen_open_or_as_tracked_or_not_looked_at_is_left_as_tracked():
    pts, img, _ = _mouth()
    for tracked, seen in ((0.06, 0.04), (0.02, 0.02), (0.02, 0.03), (0.03, float("nan"))):
        assert sealed.seal_points(pts, img, 0, 0, REGION, tracked, seen) is pts
