"""Face geometry for the renderer: landmark index sets, head-pose alignment and piecewise-affine maps.

Everything here works on MediaPipe Face Mesh's 478 points in pixel coordinates. Head pose is a
similarity transform fitted on rigid points (eye corners, nose bridge, temples, forehead), so mouth
shapes from frames with different head positions can be compared and moved between frames.
"""
from __future__ import annotations

import cv2
import numpy as np

# The face measures (eye distance, aperture, mouth width) and their index pairs are the one
# definition in lipflap.face, under the names the renderer uses.
from ..face.geometry import eye_distance as interocular  # noqa: F401
from ..face.geometry import mouth_aperture as aperture  # noqa: F401
from ..face.geometry import mouth_width  # noqa: F401
from ..face.landmarks import EYE_OUTER_CORNERS as EYE_OUTER  # noqa: F401
from ..face.landmarks import INNER_LIP_PAIRS as APERTURE_PAIRS  # noqa: F401
from ..face.landmarks import MOUTH_CORNERS  # noqa: F401

# Points that do not move when the mouth or jaw moves.
RIGID = (33, 133, 362, 263, 168, 6, 197, 195, 5, 4, 127, 356, 10, 151)
# Inner lip, upper point -> lower point, corner to corner (corners 78, 308 excluded).
INNER_PAIRS = ((191, 95), (80, 88), (81, 178), (82, 87), (13, 14), (312, 317), (311, 402),
               (310, 318), (415, 324))
# Outer lip point that rides on each inner point above (upper lip) and below (lower lip).
OUTER_UPPER = (185, 40, 39, 37, 0, 267, 269, 270, 409)
OUTER_LOWER = (146, 91, 181, 84, 17, 314, 405, 321, 375)
LIPS_OUTER = (61, 146, 91, 181, 84, 17, 314, 405, 321, 375, 291, 409, 270, 269, 267, 0, 37, 39, 40, 185)
LIPS_INNER = (78, 95, 88, 178, 87, 14, 317, 402, 318, 324, 308, 415, 310, 311, 312, 13, 82, 81, 80, 191)
# The two rings of lip points between the outer and inner contours: left out of the warp mesh, so
# each lip is one band of triangles that cannot fold when the gap is set.
LIPS_MID = (76, 77, 90, 180, 85, 16, 315, 404, 320, 307, 306, 408, 304, 303, 302, 11, 72, 73, 74,
            184, 62, 96, 89, 179, 86, 15, 316, 403, 319, 325, 292, 407, 272, 271, 268, 12, 38, 41,
            42, 183)
# Face oval from one cheek to the other through the chin.
JAW = (93, 132, 58, 172, 136, 150, 149, 176, 148, 152, 377, 400, 378, 379, 365, 397, 288, 361, 323)
CHIN = 152
NOSE_BASE = 2
NOSE_TIP = 1


def fit_similarity(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """2x3 similarity (rotation, uniform scale, translation) mapping src points onto dst.

    Least squares in closed form (points as complex numbers: dst ~ a * src + b); no LAPACK call,
    which matters when it runs for every frame on a loaded machine.
    """
    s = np.asarray(src, np.float64)
    d = np.asarray(dst, np.float64)
    zs = s[:, 0] + 1j * s[:, 1]
    zd = d[:, 0] + 1j * d[:, 1]
    ms, md = zs.mean(), zd.mean()
    cs, cd = zs - ms, zd - md
    a = (np.conj(cs) @ cd) / max(float((np.abs(cs) ** 2).sum()), 1e-12)
    b = md - a * ms
    return np.array([[a.real, -a.imag, b.real], [a.imag, a.real, b.imag]])


def apply(m: np.ndarray, pts: np.ndarray) -> np.ndarray:
    pts = np.asarray(pts, np.float64)
    return pts @ m[:, :2].T + m[:, 2]


def invert(m: np.ndarray) -> np.ndarray:
    (p, q), (r, t) = m[:, :2]
    det = p * t - q * r
    a = np.array([[t, -q], [-r, p]]) / det
    out = np.zeros((2, 3))
    out[:, :2] = a
    out[:, 2] = -a @ m[:, 2]
    return out


FACE_SIDES = (234, 454)
NOSE_TIP = 1


def head_turn(lm: np.ndarray, pose: np.ndarray) -> np.ndarray:
    """(yaw, pitch) measures of a face from its landmarks (pixels) and pose (pixels -> the
    normalised space, IOD 1, roll removed): the nose tip's sideways offset from the middle of the
    face sides, over the face width (about sin(yaw) / 2), and its height under the eye line
    (changes with a nod)."""
    left, right, tip, e0, e1 = apply(pose, lm[[FACE_SIDES[0], FACE_SIDES[1], NOSE_TIP,
                                               EYE_OUTER[0], EYE_OUTER[1]]])
    width = max(float(np.linalg.norm(right - left)), 1e-6)
    yaw = (tip[0] - (left[0] + right[0]) / 2) / width
    return np.array([yaw, tip[1] - (e0[1] + e1[1]) / 2])


def _affine_from_triangles(dst: np.ndarray, src: np.ndarray, ok: np.ndarray) -> np.ndarray:
    """Per triangle, the affine [sx, sy] = M @ [dx, dy, 1] taking dst's corners to src's
    (closed form; degenerate triangles, marked not ok, get the zero map and are never drawn)."""
    # (element by element on the triangles' coordinates: the 2x2 inverses and products as
    # stacked arrays and batched matmuls were 71 against 28 us for ~280 triangles, three to
    # four times a frame)
    x0, y0 = dst[:, 0, 0], dst[:, 0, 1]
    e1x, e1y = dst[:, 1, 0] - x0, dst[:, 1, 1] - y0
    e2x, e2y = dst[:, 2, 0] - x0, dst[:, 2, 1] - y0
    det = e1x * e2y - e1y * e2x
    det = np.where(ok & (np.abs(det) > 1e-12), det, 1.0)
    u0, v0 = src[:, 0, 0], src[:, 0, 1]
    mats = np.empty((len(dst), 2, 3))
    # Linear part L with L @ e1 = f1, L @ e2 = f2 (f the source's edges): L = [f1 f2] @ inv([e1 e2]).
    for r, o in enumerate((u0, v0)):
        f1, f2 = src[:, 1, r] - o, src[:, 2, r] - o
        a = (f1 * e2y - f2 * e1y) / det
        b = (f2 * e1x - f1 * e2x) / det
        mats[:, r, 0], mats[:, r, 1] = a, b
        mats[:, r, 2] = o - (a * x0 + b * y0)
    mats[~ok] = 0.0
    return mats


def triangle_maps(dst_pts: np.ndarray, src_pts: np.ndarray, tris: np.ndarray, x0: int, y0: int,
                  w: int, h: int, with_index: bool = False):
    """Dense piecewise-affine backward map over the box (x0, y0, w, h) of the destination.

    For each destination pixel inside a triangle of `dst_pts`, the position in source coordinates
    given by that triangle's affine map onto `src_pts`. Returns map_x, map_y (float32, source pixel
    coordinates) and a bool mask of covered pixels (and, with_index, the triangle id per pixel).
    One map means one resampling pass later.
    """
    d = dst_pts - np.array([x0, y0])
    p0, p1, p2 = d[tris[:, 0]], d[tris[:, 1]], d[tris[:, 2]]
    areas = np.abs(np.cross(p1 - p0, p2 - p0))
    # A triangle thinner than about a pixel (the mouth opening of closed lips) has an
    # ill-conditioned inverse map; its few pixels take a neighbour's map instead.
    edges = np.sqrt(np.maximum.reduce([((p1 - p0) ** 2).sum(1), ((p2 - p1) ** 2).sum(1),
                                       ((p0 - p2) ** 2).sum(1)]))
    areas = np.where(areas / np.maximum(edges, 1e-6) < 0.6, 0.0, areas)
    ok = areas >= 1e-3
    shift = 4
    # all corners to fixed point at once (per triangle it was 1.5 of 5 ms a 1080p frame)
    polys = np.round(d[tris] * (1 << shift)).astype(np.int32)
    # Triangles wholly two pixels or more outside the box draw nothing there: not drawn (a call
    # each is ~2.5 us; the lips' box of the previous frame's map meets ~1/4 of the mesh).
    # (Their maps stay: an uncovered pixel takes triangle 0's.)
    lo, hi, reach = polys.min(1), polys.max(1), 2 << shift
    meets = ((hi[:, 0] >= -reach) & (hi[:, 1] >= -reach)
             & (lo[:, 0] <= (w << shift) + reach) & (lo[:, 1] <= (h << shift) + reach))
    # Rasterise triangle ids; draw larger triangles first so thin ones (closing lips) stay visible.
    order = np.argsort(-areas)
    order = order[(ok & meets)[order]]
    # Ids are stored plus one in 16 bits (0: not drawn), so the hole filling below dilates the
    # raster itself (no float copy); a mesh of more triangles takes the wider type.
    idx = np.zeros((h, w), np.uint16 if len(tris) < 65535 else np.float32)
    # (positional arguments: OpenCV's keyword parsing was a quarter of the loop, 0.35 -> 0.26 ms
    # for 265 triangles)
    for k, poly in zip((order + 1).tolist(), polys[order]):
        cv2.fillConvexPoly(idx, poly, k, cv2.LINE_8, shift)
    # Affine per triangle: [sx, sy] = A @ [dx, dy, 1]
    n = len(tris)
    mats = _affine_from_triangles(d[tris], src_pts[tris], ok)        # (n, 2, 3)
    # Pixels on shared edges can fall between rasterised triangles: give them a neighbour's map
    # (a hole would otherwise sample an unrelated triangle and show as speckle).
    for _ in range(2):
        holes = idx == 0
        if not holes.any():
            break
        np.copyto(idx, cv2.dilate(idx, np.ones((3, 3), np.uint8)), where=holes)
    covered = idx > 0
    safe = idx.astype(np.int32)
    safe -= 1
    np.maximum(safe, 0, out=safe)
    map_x, map_y = _maps(safe, mats.reshape(n, 6).astype(np.float32).T)
    if with_index:
        return map_x, map_y, covered, safe
    return map_x, map_y, covered


def _maps(ids: np.ndarray, c: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """map_x, map_y of each pixel of the raster `ids` (its triangle) given the triangles' affine
    coefficients c (6, n) in the raster's pixel coordinates."""
    h, w = ids.shape
    xx = np.arange(w, dtype=np.float32)[None, :]
    yy = np.arange(h, dtype=np.float32)[:, None]
    gather = id_gather(ids, c.shape[1])

    def plane(k: int) -> np.ndarray:
        # c[k] x + c[k+1] y + c[k+2] per pixel, in place (the gathers were most of the time)
        m = gather(c[k])
        m *= xx
        t = gather(c[k + 1])
        t *= yy
        m += t
        m += gather(c[k + 2])
        return m

    return plane(0), plane(3)


def id_gather(ids: np.ndarray, n: int):
    """A function giving table[ids] (a float32 table of n >= ids.max() + 1 entries) for the
    raster `ids`. Up to 512 triangles by OpenCV's table lookup of the ids' low byte, the few
    pixels of ids 256 and over put right after (0.056 against 0.099 ms a gather of a bench
    patch's ~100k ids; the warp's mesh has ~280 triangles): the same values; numpy's take
    over more."""
    if n > 512:
        return lambda table: table.take(ids)
    low = ids.astype(np.uint8)                       # the id modulo 256
    flat = ids.reshape(-1)
    high = np.flatnonzero(flat >= 256) if n > 256 else None
    high_ids = flat[high] if high is not None else None

    def gather(table: np.ndarray) -> np.ndarray:
        lut = np.zeros(256, np.float32)
        lut[:min(n, 256)] = table[:256]
        out = cv2.LUT(low, lut)
        if high is not None and len(high):
            out.reshape(-1)[high] = table[high_ids]
        return out
    return gather


def maps_on_raster(ids: np.ndarray, dst_pts: np.ndarray, src_pts: np.ndarray,
                   tris: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """triangle_maps' map_x, map_y onto `src_pts` over a triangle raster already drawn for the
    same destination triangles (triangle_maps(..., with_index=True)'s ids, a box of them, or
    them sampled on a coarser grid), `dst_pts` in that raster's pixel coordinates: no triangle
    is drawn again. Drawing the ~250 triangles was half of each map's time; the previous
    frame's two maps a frame (_blend_previous' lip box, _steady_bands' half resolution) drew
    them again (docs/speed.md, tenth round)."""
    ok = np.ones(len(tris), bool)           # triangles too thin to draw are never read
    mats = _affine_from_triangles(np.asarray(dst_pts, np.float64)[tris], src_pts[tris], ok)
    # (the ids, a box or a strided sample of the raster, made contiguous once for the six
    # gathers' table lookups)
    return _maps(np.ascontiguousarray(ids), mats.reshape(len(tris), 6).astype(np.float32).T)


def unfold(dst: np.ndarray, src: np.ndarray, tris: np.ndarray, movable: np.ndarray,
           check: np.ndarray, keep: float, rounds: int = 40) -> np.ndarray:
    """`dst` with its `movable` points (bool per point) moved so that no triangle of `check`
    (bool per triangle) is turned over against `src`: a triangle whose corners run the other way
    round in dst than in src maps a mirror image of the source, and its neighbours draw over it
    (a lip raised past the skin points above it stretched a row of that skin across the lip:
    expr_disgusted f98). Each such triangle gets at least `keep` of its source area (scaled by
    the two meshes' overall size ratio), its movable corners moved along the area's gradient;
    triangles sharing a moved point are checked again, up to `rounds` times. Where there is not
    that much room (the fixed points above close by) a quarter of it, then a sliver, is tried;
    moves that would turn over a triangle of `check` that was not are never kept. `dst` itself
    when nothing moves."""
    src = np.asarray(src, np.float64)
    base = np.asarray(dst, np.float64)
    s_area = signed_areas(src, tris)
    sgn = np.sign(s_area)
    held = signed_areas(base, tris) * sgn
    scale2 = float(np.abs(held).sum() / max(np.abs(s_area).sum(), 1e-9))
    for share in (keep, keep / 4, 0.02):
        out = _unfold_to(base, tris, movable, check, sgn, share * np.abs(s_area) * scale2, rounds)
        if out is None:
            return dst
        now = signed_areas(out, tris) * sgn
        if not (check & (now <= 0) & (held > 0)).any():
            return out
    return dst


def signed_areas(p: np.ndarray, tris: np.ndarray) -> np.ndarray:
    """(T,) signed area of each triangle of `tris` over points `p`: its sign tells which way round
    the corners run, to be compared with the same triangle's in another mesh."""
    a, b, c = p[tris[:, 0]], p[tris[:, 1]], p[tris[:, 2]]
    return 0.5 * ((b[:, 0] - a[:, 0]) * (c[:, 1] - a[:, 1]) - (b[:, 1] - a[:, 1]) * (c[:, 0] - a[:, 0]))


def _unfold_to(base, tris, movable, check, sgn, want, rounds):
    """unfold's moves for per-triangle areas `want` (signs `sgn`); None when none is short."""
    todo = check & movable[tris].any(1) & (sgn != 0)
    out = None
    for _ in range(rounds):
        cur = base if out is None else out
        short = np.flatnonzero(todo & (signed_areas(cur, tris) * sgn < want - 1e-9))
        if not len(short):
            break
        if out is None:
            out = base.copy()
        moved = np.zeros(len(out), bool)
        for k in short:
            t = tris[k]
            p = out[t]
            need = sgn[k] * want[k] - float(signed_areas(p, np.array([[0, 1, 2]]))[0])
            # d(area) / d(corner i) is half the opposite edge turned a quarter round
            e = p[[2, 0, 1]] - p[[1, 2, 0]]
            grad = 0.5 * np.stack([-e[:, 1], e[:, 0]], 1)
            grad[~movable[t]] = 0.0
            g2 = float((grad * grad).sum())
            if g2 < 1e-12:
                continue
            out[t] += grad * (need / g2)
            moved[t] = True
        todo = check & movable[tris].any(1) & moved[tris].any(1) & (sgn != 0)
    return out
