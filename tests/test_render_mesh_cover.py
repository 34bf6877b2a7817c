"""The renderer's lip-aware mesh covers the whole lower face on every frame: a region point that
lies inside the outer lips on the shot's shape is left out of the skin's triangles
(lipflap.render.model._lip_aware_mesh). Held-out ve_sticker's Face Mesh 313 sat just inside her
full lower lip; its triangle across the lip was dropped as lip, and on closed frames the skin
between it and the lip had no triangle: a hole the warp filled from the lip's edge (grey and red
spikes under the lower lip)."""
from __future__ import annotations

import cv2
import numpy as np

from lipflap.render import geometry as g
from lipflap.render.model import _lip_aware_mesh

# skin points round the mouth (Face Mesh ids of no lip contour), and 313 under the lower lip
SKIN = (18, 200, 199, 175, 421, 418, 262, 369, 395, 394, 364, 367, 410, 322, 436, 426, 2, 164,
        186, 92, 216, 206, 135, 169)


def _shape(p313: tuple[float, float]) -> tuple[np.ndarray, dict]:
    pts, pos = [], {}

    def add(k, xy):
        pos[k] = len(pts)
        pts.append(xy)
    # the outer contour from the left corner along the lower lip to the right corner, then back
    # along the upper lip (LIPS_OUTER's order); the inner one inside it (LIPS_INNER's)
    for ring, (rx, ry) in ((g.LIPS_OUTER, (1.0, 0.5)), (g.LIPS_INNER, (0.8, 0.15))):
        n = len(ring)
        for j, k in enumerate(ring):
            th = np.pi - 2 * np.pi * j / n          # pi .. 0 under the mouth, 0 .. -pi over it
            add(k, (rx * np.cos(th), ry * np.sin(th)))
    for j, k in enumerate(SKIN):
        th = 2 * np.pi * j / len(SKIN)
        add(k, (1.7 * np.cos(th), 1.3 * np.sin(th)))
    add(313, p313)
    return np.array(pts, float), pos


def _uncovered(pts: np.ndarray, tris: np.ndarray, s: float = 200.0) -> float:
    """Area (in the shape's units squared) of the points' convex hull no triangle covers."""
    q = pts * s
    o = np.floor(q.min(0)) - 2
    w, h = (np.ceil(q.max(0)) - o + 4).astype(int)
    cov = np.zeros((h, w), np.uint8)
    for t in tris:
        cv2.fillConvexPoly(cov, np.round(q[t] - o).astype(np.int32), 1)
    hull = np.zeros_like(cov)
    cv2.fillConvexPoly(hull, np.round(cv2.convexHull(q.astype(np.float32))[:, 0] - o).astype(np.int32), 1)
    return float((hull & (1 - cov)).sum()) / s / s


def test_a_point_inside_the_lips_leaves_no_hole_when_it_moves_out():
    # on the shot's shape 313 lies inside the lower lip (the lip's edge is at y 0.49 there); the
    # skin's Delaunay joined it to the lip's edge and the point under it (313-314-418, 313-418-17)
    mean, pos = _shape((0.2, 0.46))
    tris = _lip_aware_mesh(mean, pos)
    assert _uncovered(mean, tris) < 1e-3
    assert not np.isin(pos[313], tris)
    # on a frame where the lip is thinner and 313 lies in the skin under it, still no hole (0.0195
    # of the shape's area uncovered with 313 in the skin's triangles)
    frame = mean.copy()
    frame[pos[313]] = (0.2, 0.62)
    assert _uncovered(frame, tris) < 1e-3


def test_a_point_outside_the_lips_stays_a_vertex():
    mean, pos = _shape((0.2, 0.75))
    tris = _lip_aware_mesh(mean, pos)
    assert np.isin(pos[313], tris)
    assert _uncovered(mean, tris) < 1e-3
