"""lipflap.face.identity: signatures, one-to-one matching, unknown faces, grouping."""
from __future__ import annotations

import numpy as np
import pytest

from lipflap.face import identity as I

SKIN = (200, 150, 120)


def _landmarks(seed: int = 0) -> np.ndarray:
    """(478, 3) points of a frontal face in a unit box, the indexes identity reads placed."""
    rng = np.random.default_rng(seed)
    p = np.zeros((478, 3))
    p[:, :2] = rng.uniform(-0.6, 0.6, (478, 2))
    fixed = {33: (-0.5, -0.2), 263: (0.5, -0.2), 133: (-0.2, -0.2), 362: (0.2, -0.2),
             10: (0, -0.9), 151: (0, -0.7), 2: (0, 0.3), 1: (0, 0.2), 127: (-0.8, -0.3),
             356: (0.8, -0.3), 50: (-0.45, 0.25), 280: (0.45, 0.25)}
    for i, xy in fixed.items():
        p[i, :2] = xy
    return p


def _face(lm: np.ndarray, scale: float, cx: float, cy: float, hair, size=(360, 480),
          skin=SKIN) -> tuple[np.ndarray, np.ndarray]:
    """A picture of a face: skin over the face box, `hair` above it; landmarks in pixels."""
    h, w = size
    img = np.full((h, w, 3), 40, np.uint8)
    x0, x1 = int(cx - 0.9 * scale), int(cx + 0.9 * scale)
    img[int(cy - 1.4 * scale):int(cy - 0.75 * scale), x0 - int(0.3 * scale):x1 + int(0.3 * scale)] = hair
    img[int(cy - 0.75 * scale):int(cy - 0.35 * scale), x0 - int(0.3 * scale):x0] = hair
    img[int(cy - 0.75 * scale):int(cy - 0.35 * scale), x1:x1 + int(0.3 * scale)] = hair
    img[int(cy - 0.75 * scale):int(cy + 1.0 * scale), x0:x1] = skin
    # Texture: a few dark strokes (brows, nose) that move with the face.
    img[int(cy - 0.35 * scale):int(cy - 0.3 * scale), int(cx - 0.6 * scale):int(cx - 0.2 * scale)] = 60
    img[int(cy - 0.35 * scale):int(cy - 0.3 * scale), int(cx + 0.2 * scale):int(cx + 0.6 * scale)] = 60
    img[int(cy - 0.2 * scale):int(cy + 0.3 * scale), int(cx - 0.03 * scale):int(cx + 0.03 * scale)] = 90
    pts = lm.copy()
    pts[:, :2] = lm[:, :2] * scale + (cx, cy)
    pts[:, 2] = lm[:, 2] * scale
    return img, pts


def test_signature_ignores_zoom_and_place_but_sees_hair_and_shape():
    lm = _landmarks(0)
    a = I.signature_of(*zip(_face(lm, 60, 150, 200, (30, 20, 10))))
    zoomed = I.signature_of(*zip(_face(lm, 110, 260, 230, (30, 20, 10))))
    blond = I.signature_of(*zip(_face(lm, 60, 150, 200, (230, 200, 90))))
    other = I.signature_of(*zip(_face(_landmarks(5), 60, 150, 200, (30, 20, 10))))
    assert a.frames == 1 and a.geometry.shape == (231,)
    assert I.distance(a, zoomed) < 0.3 * I.THRESHOLD
    assert I.parts(a, blond)["colour"] > 1.0
    assert I.parts(a, other)["geometry"] > 1.0
    assert I.distance(a, blond) > I.distance(a, zoomed)


def test_signature_skips_turned_away_frames_and_none_without_any():
    lm = _landmarks(0)
    img, pts = _face(lm, 60, 150, 200, (30, 20, 10))
    turned = pts.copy()
    turned[263, 2] = turned[33, 2] + 1.5 * (turned[263, 0] - turned[33, 0])   # yaw ~56 degrees
    assert not I.good_view(turned)
    assert I.signature_of([img], [turned]) is None
    assert I.signature_of([img, img], [turned, pts]).frames == 1
    assert I.signature_of([img], [None]) is None


def _sig(g: float, c: float, t: float) -> I.Signature:
    """A signature at a chosen place: geometry, colour and texture moved by g, c, t scales."""
    tex = np.zeros(128)
    tex[0] = 1.0
    tex[1] = t
    return I.Signature(np.full(231, 1.0 + g * I.GEOMETRY_SCALE),
                       np.full(15, c * I.COLOUR_SCALE), tex / np.linalg.norm(tex), 5)


def test_match_one_to_one_with_unknown():
    cast = {"ANNA": _sig(0, 0, 0), "BEN": _sig(2, 2, 2)}
    faces = {"left": _sig(2, 2.1, 2), "right": _sig(0.1, 0, 0), "extra": _sig(6, 6, 6)}
    got = I.match(faces, cast)
    assert got["left"].character == "BEN" and got["right"].character == "ANNA"
    assert got["extra"].character is None and got["extra"].nearest in cast
    assert got["right"].sure and got["right"].distance < 0.1
    d = got["left"].to_dict()
    assert d["character"] == "BEN" and d["threshold"] == I.THRESHOLD and d["sure"] is True


def test_match_never_gives_one_character_two_faces():
    cast = {"ANNA": _sig(0, 0, 0), "BEN": _sig(5, 5, 5)}
    faces = {"a": _sig(0.05, 0, 0), "b": _sig(0.1, 0.1, 0)}      # both look like ANNA
    got = I.match(faces, cast)
    names = [m.character for m in got.values()]
    assert names.count("ANNA") == 1 and names.count(None) == 1
    assert got["a"].character == "ANNA"        # the nearer one keeps her
    assert got["b"].nearest == "ANNA"


def test_match_prefers_the_assignment_with_least_total_distance():
    # Greedy would give ANNA to x (0.2 < 0.25) and leave y unknown; one to one takes both.
    cast = {"ANNA": _sig(0, 0, 0), "BEN": _sig(0, 0, 0.9)}
    faces = {"x": _sig(0, 0, 0.5), "y": _sig(0, 0, 0.1)}
    got = I.match(faces, cast, threshold=0.45)
    assert {k: m.character for k, m in got.items()} == {"x": "BEN", "y": "ANNA"}


def test_match_faces_without_signature_and_empty_cast():
    got = I.match({"a": None, "b": _sig(0, 0, 0)}, {})
    assert got["a"].character is None and got["b"].character is None
    assert got["b"].nearest is None


def test_group_joins_one_person_and_keeps_co_stars_apart():
    sigs = [_sig(0, 0, 0), _sig(3, 3, 3), _sig(0.1, 0, 0), _sig(3, 3.1, 3), _sig(0.05, 0, 0)]
    assert I.group(sigs) == [[0, 2, 4], [1, 3]]
    # 0 and 2 were on screen together: never one identity.
    assert I.group(sigs, apart=[(0, 2)]) == [[0, 4], [1, 3], [2]]


def test_signature_round_trips_through_json():
    s = _sig(0.3, 0.2, 0.1)
    back = I.Signature.from_dict(s.to_dict())
    assert I.distance(s, back) < 1e-3 and back.frames == 5


def test_real_speakers_match_across_halves(shared_media):
    from lipflap.face.sightings import faces_in_clip
    halves = {}
    for name in ("talk_g", "talk_i"):
        path = str(shared_media / f"{name}.mp4")
        first = faces_in_clip(path, 0, 79, samples=6)
        second = faces_in_clip(path, 120, 199, samples=6)
        assert len(first) == 1 and len(second) == 1
        halves[name] = (first[0].signature, second[0].signature)
    cast = {k: v[0] for k, v in halves.items()}
    got = I.match({"x": halves["talk_i"][1], "y": halves["talk_g"][1]}, cast)
    assert got["x"].character == "talk_i" and got["y"].character == "talk_g"
