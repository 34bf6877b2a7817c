"""The planned lip thickness is held a re-track's error inside the actor's own range (issue 15:
talk_e f13-14 planned at 0.145 and 0.140 eye distances, under the actor's 98th percentile 0.152,
re-tracked at 0.157 and 0.159, past the yardstick's bound 0.157)."""
from __future__ import annotations

import numpy as np
import pytest

from lipflap.render import geometry as g
from lipflap.render.model import LIP_RETRACK_MARGIN, _actor_ranges, _held_in


def test_range_is_pulled_in_by_the_retrack_margin():
    t = np.linspace(0.06, 0.16, 101)
    lo, hi = _held_in(t)
    assert lo == pytest.approx(np.percentile(t, 2) + LIP_RETRACK_MARGIN)
    assert hi == pytest.approx(np.percentile(t, 98) - LIP_RETRACK_MARGIN)


def test_narrow_range_keeps_its_middle_third():
    t = np.linspace(0.100, 0.112, 50)      # an actor whose lip barely changes
    lo, hi = _held_in(t)
    p2, p98 = np.percentile(t, [2, 98])
    assert lo < hi
    assert hi - lo == pytest.approx((p98 - p2) / 3)
    assert lo == pytest.approx(p2 + (p98 - p2) / 3)


def _face(lower: float, upper: float) -> np.ndarray:
    """478 points with the eye corners 100 px apart and the lips' mid points at the given
    thicknesses (eye distances); the rest spread so no measure divides by zero."""
    rng = np.random.default_rng(0)
    p = rng.uniform(0, 200, (478, 2))
    a, b = g.EYE_OUTER
    p[a], p[b] = (50.0, 50.0), (150.0, 50.0)
    p[13], p[14] = (100.0, 150.0), (100.0, 152.0)
    p[0] = (100.0, 150.0 - 100 * upper)
    p[17] = (100.0, 152.0 + 100 * lower)
    return p


def test_actor_ranges_hold_thickness_inside_the_shot_percentiles():
    lows = np.linspace(0.07, 0.15, 40)
    ups = np.linspace(0.04, 0.10, 40)
    lms = [_face(lo, up) for lo, up in zip(lows, ups)]
    norm = np.stack(lms)
    r = _actor_ranges(lms, norm)
    iod = np.array([g.interocular(p) for p in lms])
    low = np.array([np.linalg.norm(p[14] - p[17]) for p in lms]) / iod
    up = np.array([np.linalg.norm(p[0] - p[13]) for p in lms]) / iod
    assert r.lower_lip_range[1] <= np.percentile(low, 98) - LIP_RETRACK_MARGIN + 1e-9
    assert r.lower_lip_range[0] >= np.percentile(low, 2) + LIP_RETRACK_MARGIN - 1e-9
    assert r.upper_lip_range[1] <= np.percentile(up, 98) - LIP_RETRACK_MARGIN + 1e-9
