"""Who a face is: a signature per tracked face, and faces matched to the characters of a cast.

    sig = signature_of(images, landmarks)            # frames of one face (RGB, (478, 3) Face Mesh)
    d = distance(sig_a, sig_b)                       # 0 = the same look; THRESHOLD = same person
    got = match({"f0": sig0, "f1": sig1}, {"ANNA": a, "BEN": b})   # -> {"f0": Match(...), ...}
    groups = group([sig0, sig1, sig2], apart=[(0, 1)])             # -> [[0, 2], [1]]

A `Signature` has two parts, both averaged (median) over the face's good frames (a usable,
near-frontal view: |yaw| <= 30, |pitch| <= 25 degrees):

- geometry: the 3-D distances between rigid Face Mesh points (eye corners, brows, nose, cheek
  bones, temples, forehead; nothing the jaw or lips move) over their mean, so neither the
  face's size on screen nor its pose changes them;
- appearance: the face aligned on its eyes (a similarity warp, so zoom and roll drop out), then
  the colour (CIE Lab mean and spread) of its skin (forehead and both cheeks) and of its hair
  (a band above the forehead and beside the temples), of which the distance reads mostly the
  spreads and hair against skin (a shot's grade moves the absolute colours), and the texture of its
  upper face (a 4x4 grid of gradient-orientation histograms of eyes, brows and nose).

`distance` is a weighted mean of the parts, each divided by its spread between different people
(scales below, measured with bench/bench_cast.py), so one number compares across parts.
`match` assigns faces to characters one to one (the assignment with the least total distance;
never two faces to one character), and a face whose best character is farther than `threshold`
is unknown (None). `group` clusters faces of several shots into identities (average linkage),
never joining two faces that `apart` says were on screen together.

Plain numpy in and out; nothing here decodes or tracks (lipflap.face.sightings does).
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass

import cv2
import numpy as np

from .landmarks import EYE_OUTER_CORNERS
from .mesh import to_uint8
from .pose import head_pose

# Rigid points for the geometry: outer/inner eye corners, brows, nose bridge/tip/base, cheek
# bones, temples, forehead, face sides at eye height.
GEOMETRY_POINTS = (33, 133, 362, 263, 70, 105, 300, 334, 168, 6, 1, 2, 98, 327, 116, 345,
                   234, 454, 127, 356, 10, 151)
_PAIRS = np.array(list(itertools.combinations(range(len(GEOMETRY_POINTS)), 2)))
MAX_YAW, MAX_PITCH = 30.0, 25.0
ALIGN = 64                     # aligned face: eye outer corners at (16, 24) and (48, 24)
# Skin samples (landmark, box half-size in eye distances) and hair boxes in aligned pixels.
SKIN_POINTS = ((151, 0.12), (50, 0.10), (280, 0.10))
# Per-part scales: the part's distance between the two development speakers (talk_d and
# talk_f: geometry 0.040-0.042, texture 0.095-0.117 between their clips' halves; colour 9.5-13.3
# between their faces in bench/bench_cast.py's scene), so two people are about 1 in each part;
# the same speaker's two halves measured 0.010-0.016 and 0.010-0.015.
GEOMETRY_SCALE = 0.040
COLOUR_SCALE = 10.0
TEXTURE_SCALE = 0.10
WEIGHTS = {"geometry": 0.25, "colour": 0.45, "texture": 0.30}
# Same speaker about 0.2, two speakers about 1 on the development pair: halfway in ratio.
THRESHOLD = 0.5                # distance under which two signatures are one person
CLOSE_CALL = 0.15              # a match whose runner-up is nearer than this more is "unsure"


@dataclass
class Signature:
    """One face's identity features (see the module docstring); `frames` good frames used."""
    geometry: np.ndarray       # (231,) 3-D distance ratios of GEOMETRY_POINTS
    colour: np.ndarray         # (15,) Lab: skin mean (3), skin spread (3), hair mean (3),
    #                            hair spread (3), hair minus skin mean (3)
    texture: np.ndarray        # (128,) unit-length gradient-orientation histograms
    frames: int

    def to_dict(self) -> dict:
        return {"geometry": np.round(self.geometry, 5).tolist(),
                "colour": np.round(self.colour, 3).tolist(),
                "texture": np.round(self.texture, 5).tolist(), "frames": int(self.frames)}

    @classmethod
    def from_dict(cls, d: dict) -> "Signature":
        return cls(np.asarray(d["geometry"], float), np.asarray(d["colour"], float),
                   np.asarray(d["texture"], float), int(d.get("frames", 0)))


@dataclass
class Match:
    """A face's character (None: unknown) and how sure: its distance, the runner-up's."""
    character: str | None
    distance: float            # to the character (or, unknown, to the nearest one)
    nearest: str | None        # the nearest character, whatever the assignment
    runner_up: float | None    # distance to the second-nearest character (None: only one)

    @property
    def sure(self) -> bool:
        return (self.character is not None and
                (self.runner_up is None or self.runner_up - self.distance >= CLOSE_CALL))

    def to_dict(self, threshold: float = THRESHOLD) -> dict:
        finite = np.isfinite(self.distance)
        return {"character": self.character,
                "distance": round(self.distance, 3) if finite else None,
                "threshold": threshold, "nearest": self.nearest,
                "runner_up": None if self.runner_up is None else round(self.runner_up, 3),
                "sure": self.sure}


# ---------------------------------------------------------------- features of one frame

def geometry_of(lm3: np.ndarray) -> np.ndarray:
    """3-D distances between GEOMETRY_POINTS over their mean (2-D when z is missing)."""
    p = np.asarray(lm3, np.float64)[list(GEOMETRY_POINTS)]
    d = np.linalg.norm(p[_PAIRS[:, 0]] - p[_PAIRS[:, 1]], axis=1)
    return d / max(float(d.mean()), 1e-9)


def _aligned(image: np.ndarray, lm: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The face warped so its outer eye corners sit at (16, 24), (48, 24) of an ALIGN square
    (extended 24 px above for hair), and the landmarks in that frame."""
    a = lm[EYE_OUTER_CORNERS[0], :2].astype(np.float64)
    b = lm[EYE_OUTER_CORNERS[1], :2].astype(np.float64)
    if a[0] > b[0]:
        a, b = b, a
    src = np.array([a, b, a + np.array([-(b - a)[1], (b - a)[0]])], np.float32)
    top = 24
    dst = np.array([[16, 24 + top], [48, 24 + top], [16, 24 + top + 32]], np.float32)
    m = cv2.getAffineTransform(src, dst)
    img = cv2.warpAffine(to_uint8(image), m, (ALIGN, ALIGN + top), flags=cv2.INTER_AREA,
                         borderMode=cv2.BORDER_REPLICATE)
    pts = lm[:, :2].astype(np.float64) @ m[:, :2].T + m[:, 2]
    return img, pts


def _box(lab: np.ndarray, cx: float, cy: float, hw: float, hh: float) -> np.ndarray:
    h, w = lab.shape[:2]
    x0, x1 = int(max(0, cx - hw)), int(min(w, cx + hw + 1))
    y0, y1 = int(max(0, cy - hh)), int(min(h, cy + hh + 1))
    return lab[y0:y1, x0:x1].reshape(-1, 3)


def colour_of(img: np.ndarray, pts: np.ndarray) -> np.ndarray:
    """Lab statistics of skin and hair in an aligned face (eye distance = 32 px)."""
    lab = cv2.cvtColor(img.astype(np.float32) / 255.0, cv2.COLOR_RGB2LAB)
    skin = np.concatenate([_box(lab, *pts[i], r * 32, r * 32) for i, r in SKIN_POINTS])
    fy = pts[10, 1]
    hair = np.concatenate([
        _box(lab, pts[10, 0], fy - 12, 14, 6),                    # above the forehead
        _box(lab, pts[127, 0] - 5, pts[127, 1] - 8, 3, 8),       # beside each temple
        _box(lab, pts[356, 0] + 5, pts[356, 1] - 8, 3, 8)])
    sm, ss = skin.mean(axis=0), skin.std(axis=0)
    hm, hs = hair.mean(axis=0), hair.std(axis=0)
    return np.concatenate([sm, ss, hm, hs, hm - sm])


def texture_of(img: np.ndarray) -> np.ndarray:
    """Gradient-orientation histograms (8 bins) on a 4x4 grid over brows, eyes and nose of an
    aligned face, unit length (lighting's level and contrast drop out)."""
    g = cv2.cvtColor(img, cv2.COLOR_RGB2GRAY).astype(np.float32)
    # Rows 34..66 hold brows (about 10 px above the eyes at y 48) to the nose base.
    g = g[34:66, 8:56]
    gx = cv2.Sobel(g, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(g, cv2.CV_32F, 0, 1, ksize=3)
    mag = np.hypot(gx, gy)
    ang = (np.arctan2(gy, gx) % np.pi) / np.pi * 8
    bins = np.minimum(ang.astype(int), 7)
    h, w = g.shape
    out = np.zeros((4, 4, 8))
    for r in range(4):
        for c in range(4):
            sl = (slice(r * h // 4, (r + 1) * h // 4), slice(c * w // 4, (c + 1) * w // 4))
            out[r, c] = np.bincount(bins[sl].ravel(), mag[sl].ravel(), minlength=8)
    v = np.sqrt(out.ravel())       # square root: one strong edge does not dominate a cell
    return v / max(float(np.linalg.norm(v)), 1e-9)


def good_view(lm3: np.ndarray) -> bool:
    """Near-frontal enough for the signature (|yaw| <= MAX_YAW, |pitch| <= MAX_PITCH)."""
    lm3 = np.asarray(lm3)
    if lm3.ndim != 2 or lm3.shape[1] < 3:
        return True                 # no depth: pose unknown, the frame is taken
    pose = head_pose(lm3)
    return pose is not None and abs(pose[0]) <= MAX_YAW and abs(pose[1]) <= MAX_PITCH


# ---------------------------------------------------------------- signatures

def signature_of(images, landmarks) -> Signature | None:
    """A face's signature from its frames: `images` RGB (uint8 or uint16) frames and
    `landmarks` the face's (478, 3) Face Mesh points in those frames' pixels ((478, 2) works
    too: the geometry is then 2-D). None when no frame is a good view."""
    geo, col, tex = [], [], []
    for image, lm in zip(images, landmarks):
        if lm is None or not good_view(lm):
            continue
        lm = np.asarray(lm, np.float64)
        if not np.isfinite(lm).all():
            continue
        img, pts = _aligned(image, lm)
        geo.append(geometry_of(lm))
        col.append(colour_of(img, pts))
        tex.append(texture_of(img))
    if not geo:
        return None
    t = np.median(tex, axis=0)
    return Signature(np.median(geo, axis=0), np.median(col, axis=0),
                     t / max(float(np.linalg.norm(t)), 1e-9), len(geo))


def mean_signature(sigs: list[Signature]) -> Signature:
    """One signature standing for several of one person (each weighted by its frames)."""
    w = np.array([max(s.frames, 1) for s in sigs], float)
    t = np.average([s.texture for s in sigs], axis=0, weights=w)
    return Signature(np.average([s.geometry for s in sigs], axis=0, weights=w),
                     np.average([s.colour for s in sigs], axis=0, weights=w),
                     t / max(float(np.linalg.norm(t)), 1e-9), int(w.sum()))


# Colour weights per component (skin mean, skin spread, hair mean, hair spread, hair minus
# skin; each L, a, b). A shot's grade and light move the absolute means of skin and hair (same
# person in differently graded shots up to 1.04 of the scale, bench_cast.py accuracy --grade,
# against 0.40 ungraded): their lightness counts not at all and their hue (a, b) a quarter,
# enough to tell skin or hair of another hue (a face with red and blue swapped: 0.48 -> 0.64
# overall) while a grade moves a person by at most 0.42; spreads and hair against skin count
# fully, their lightness half.
_COLOUR_W = np.array([0, 0.25, 0.25, 0.5, 1, 1, 0, 0.25, 0.25, 0.5, 1, 1, 0.5, 1, 1], float)


def parts(a: Signature, b: Signature) -> dict[str, float]:
    """Each part's distance over its scale (about 1 between two different people)."""
    g = float(np.sqrt(np.mean((a.geometry - b.geometry) ** 2))) / GEOMETRY_SCALE
    c = float(np.sqrt(np.sum((_COLOUR_W * (a.colour - b.colour)) ** 2) / np.sum(_COLOUR_W ** 2))
              ) / COLOUR_SCALE
    t = float(1.0 - np.dot(a.texture, b.texture)) / TEXTURE_SCALE
    return {"geometry": g, "colour": c, "texture": t}


def distance(a: Signature, b: Signature) -> float:
    """Weighted mean of the parts' scaled distances: 0 the same look, about 1 two people."""
    p = parts(a, b)
    return float(sum(WEIGHTS[k] * v for k, v in p.items()))


# ---------------------------------------------------------------- faces -> characters

def match(faces: dict, cast: dict[str, Signature], threshold: float = THRESHOLD) -> dict:
    """{face key: Match}: each face its character, one to one, least total distance; a face
    with no character under `threshold` (or whose character went to a nearer face) is unknown.
    A face key with a None signature (no good view) is unknown too."""
    keys = [k for k, s in faces.items() if s is not None]
    names = list(cast)
    d = np.array([[distance(faces[k], cast[n]) for n in names] for k in keys]).reshape(
        len(keys), len(names))
    pairs = _assign(d, threshold)
    out = {}
    for k, s in faces.items():
        if s is None:
            out[k] = Match(None, float("inf"), None, None)
    for i, k in enumerate(keys):
        order = np.argsort(d[i]) if names else []
        nearest = names[order[0]] if names else None
        runner = float(d[i, order[1]]) if len(names) > 1 else None
        j = pairs.get(i)
        if j is None:
            best = float(d[i, order[0]]) if names else float("inf")
            out[k] = Match(None, best, nearest, runner)
        else:
            others = [float(d[i, q]) for q in range(len(names)) if q != j]
            out[k] = Match(names[j], float(d[i, j]), nearest, min(others) if others else None)
    return out


def _assign(d: np.ndarray, threshold: float) -> dict[int, int]:
    """Rows to columns one to one, only pairs under threshold, most pairs then least total."""
    from scipy.optimize import linear_sum_assignment
    if d.size == 0:
        return {}
    # Pairs over the threshold cost more than any set of allowed pairs, so the assignment takes
    # as many allowed pairs as it can, then the cheapest; they are dropped afterwards.
    big = 1e3 + d.size * float(np.nanmax(np.where(np.isfinite(d), d, 0)) + 1)
    cost = np.where(d < threshold, d, big)
    rows, cols = linear_sum_assignment(cost)
    return {int(r): int(c) for r, c in zip(rows, cols) if d[r, c] < threshold}


def group(sigs: list[Signature], apart=(), threshold: float = THRESHOLD) -> list[list[int]]:
    """Indexes of `sigs` clustered into identities (average linkage, joined while under
    `threshold`); two faces named together in `apart` (seen in one shot) never share one."""
    clusters = [[i] for i in range(len(sigs))]
    d = np.array([[distance(a, b) for b in sigs] for a in sigs]).reshape(len(sigs), len(sigs))
    never = {frozenset(p) for p in apart}
    while len(clusters) > 1:
        best = None
        for x, y in itertools.combinations(range(len(clusters)), 2):
            if any(frozenset((i, j)) in never for i in clusters[x] for j in clusters[y]):
                continue
            link = float(np.mean([d[i, j] for i in clusters[x] for j in clusters[y]]))
            if link < threshold and (best is None or link < best[0]):
                best = (link, x, y)
        if best is None:
            break
        _, x, y = best
        clusters[x] = sorted(clusters[x] + clusters[y])
        del clusters[y]
    return sorted(clusters, key=lambda c: c[0])
