"""The skin's warp map is smoothed, the lips' is not (lipflap.render.synth._smooth_skin_map).

Held-out ve_sticker: the wanted shape spaced three chin points under her lower lip at 45% and 65%
of their span where the exemplar had them evenly; the thin triangles between them squeezed and
stretched the soft shadow under her lip by turns (3x and 0.3x), a grey saw with sharp teeth
(f55, f68, f126-141). These tests build such a mesh and check the warped shadow keeps its own
softness, the lips keep the mesh's exact map, and a map that is affine is left as it is.
"""
from __future__ import annotations

import cv2
import numpy as np
from scipy.spatial import Delaunay

from lipflap.render import geometry as g
from lipflap.render.synth import _smooth_skin_map

SIZE = 80.0                     # the mouth's width in pixels
W, H = 200, 160


def _lattice() -> np.ndarray:
    xs, ys = np.meshgrid(np.linspace(0, W - 1, 17), np.linspace(0, H - 1, 14))
    return np.stack([xs.ravel(), ys.ravel()], 1)


def _lips() -> np.ndarray:
    t = np.linspace(0, 2 * np.pi, 20, endpoint=False)
    return np.stack([100 + 40 * np.cos(t), 45 + 12 * np.sin(t)], 1)


def _zigzag_mesh():
    """(dst, src, tris): a lattice whose points under the mouth move up and down by turns in the
    wanted shape (dst) against the exemplar's even spacing (src): slivers squeezed and stretched."""
    src = _lattice()
    dst = src.copy()
    under = (src[:, 1] > 70) & (src[:, 1] < 140) & (src[:, 0] > 40) & (src[:, 0] < 160)
    k = np.round(src[:, 0] / 12.5).astype(int)                # the lattice's columns
    dst[under, 1] += np.where(k[under] % 2 == 0, 3.0, -3.0)
    return dst, src, Delaunay(src).simplices


def _shadow() -> np.ndarray:
    """The exemplar: flat skin with a soft dark blob under the lips (sigma 9 px)."""
    yy, xx = np.mgrid[0:H, 0:W].astype(np.float32)
    blob = np.exp(-((xx - 100) ** 2 / (2 * 30 ** 2) + (yy - 95) ** 2 / (2 * 9 ** 2)))
    img = 180.0 - 60.0 * blob
    return np.repeat(img[..., None], 3, 2).astype(np.float32)


def _across(img: np.ndarray, box) -> float:
    """The steepest step between neighbouring columns: the shadow is soft across (sigma 30 px),
    a saw's teeth are steps across."""
    return float(np.abs(np.diff(img[..., 0], axis=1))[box].max())


def test_the_skin_map_is_smooth_where_the_mesh_zigzags():
    dst, src, tris = _zigzag_mesh()
    mx, my, cov = g.triangle_maps(dst, src, tris, 0, 0, W, H)
    ex = _shadow()
    box = (slice(75, 130), slice(50, 150))          # under the lips, inside the zigzag
    own = _across(ex, box)
    before = cv2.remap(ex, mx, my, cv2.INTER_CUBIC, borderMode=cv2.BORDER_REFLECT)
    _smooth_skin_map(mx, my, cov, dst, src, _lips(), 0, 0, SIZE)
    after = cv2.remap(ex, mx, my, cv2.INTER_CUBIC, borderMode=cv2.BORDER_REFLECT)
    # the mesh's own map cuts the shadow into teeth; smoothed, it stays near the exemplar's own
    # softness (measured: own 1.21 levels a column, mesh 3.90, smoothed 1.54)
    assert _across(before, box) > 2.5 * own
    assert _across(after, box) < 1.4 * own
    # the map's slope (source rows per output row) no longer jumps between neighbouring columns
    # (measured 0.56 -> 0.007)
    dy = np.diff(my, axis=0)[box]
    assert np.abs(np.diff(dy, axis=1)).max() < 0.05


def test_the_lips_keep_the_mesh_map():
    dst, src, tris = _zigzag_mesh()
    mx, my, cov = g.triangle_maps(dst, src, tris, 0, 0, W, H)
    mx0, my0 = mx.copy(), my.copy()
    _smooth_skin_map(mx, my, cov, dst, src, _lips(), 0, 0, SIZE)
    inside = np.zeros((H, W), np.uint8)
    cv2.fillPoly(inside, [np.round(_lips()).astype(np.int32)], 1)
    inside = inside.astype(bool)
    assert np.array_equal(mx[inside], mx0[inside]) and np.array_equal(my[inside], my0[inside])
    assert np.abs(my - my0)[~inside].max() > 1.0          # the skin's did change


def test_an_affine_map_is_left_as_it_is():
    src = _lattice()
    dst = src @ np.array([[1.08, 0.05], [-0.04, 0.93]]) + [6.0, -4.0]
    tris = Delaunay(src).simplices
    mx, my, cov = g.triangle_maps(dst, src, tris, 0, 0, W, H)
    mx0, my0 = mx.copy(), my.copy()
    _smooth_skin_map(mx, my, cov, dst, src, _lips(), 0, 0, SIZE)
    # the blur takes the mesh's overall affine out first: the box's border does not bend it
    assert np.abs(mx - mx0)[cov].max() < 1e-3 and np.abs(my - my0)[cov].max() < 1e-3
