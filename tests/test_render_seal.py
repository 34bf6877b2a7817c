"""A mouth closed from an exemplar whose lips are apart meets on the exemplar's own gap (issue 15:
a light seam along closed lips when the two lips' rims were butted together)."""
import numpy as np
import pytest

from lipflap.render import geometry as g
from lipflap.render.model import fit_model
from lipflap.render.synth import Exemplar, _sealed_source

SIZE = 320


@pytest.fixture(scope="module")
def astro(astro_face):
    return astro_face      # SIZE x SIZE crop (tests/conftest.py)


def _points(model, lm):
    return np.vstack([lm[model.region], model.ring_points(model.pose(lm))])


def parted(lm, px):
    """Landmarks `lm` with the lower lip and jaw `px` lower: every inner-lip pair `px` apart."""
    mid = np.mean([(lm[a] + lm[b]) / 2 for a, b in g.INNER_PAIRS], 0)
    out = lm.copy()
    out[out[:, 1] > mid[1] + 0.5, 1] += px
    for a, b in g.INNER_PAIRS:
        out[b] = out[a] + [0.0, px]
    return out


def closed(lm):
    """Landmarks `lm` with the lips closed: each inner pair 0.2 px apart about its middle."""
    out = lm.copy()
    for a, b in g.INNER_PAIRS:
        c = (lm[a] + lm[b]) / 2
        out[a], out[b] = c - [0, 0.1], c + [0, 0.1]
    return out


def _exemplar(model, pts, gap_grey):
    """The exemplar's points over a flat lip-grey picture whose inner-lip polygon (the gap) is
    `gap_grey`: dark for a mouth cavity, light for teeth."""
    import cv2
    pos = {int(k): i for i, k in enumerate(model.region)}
    img = np.full((SIZE, SIZE, 3), 128, np.uint8)
    inner = np.array([pts[pos[k]] for k in g.LIPS_INNER], np.float32)
    cv2.fillPoly(img, [np.round(inner).astype(np.int32)], (gap_grey,) * 3)
    return Exemplar(frame=0, image=img, x0=0, y0=0, points=pts, gap=5.0)


def test_closed_lips_from_parted_ones_meet_on_the_gaps_dark_core(astro):
    model = fit_model([astro, astro + 0.5, astro - 0.5])
    # The exemplar: the same face with the lower lip and jaw 5 px lower (lips 5 px apart); the
    # target: the lips closed.
    t_lm, ex_lm = closed(astro), parted(astro, 5.0)
    target, src = _points(model, t_lm), _points(model, ex_lm)

    def jump(source):
        """Per closed pair, how far apart in the exemplar (px) the pixels just above and just
        below the closed line are taken from, and where (gap rows from its top)."""
        mx, my, _ = g.triangle_maps(target, source, model.tris, 0, 0, SIZE, SIZE)
        out = []
        for a, b in g.INNER_PAIRS[2:-2]:
            x, y = np.round((t_lm[a] + t_lm[b]) / 2).astype(int)
            out.append((my[y + 1, x] - my[y - 1, x], my[y - 1, x] - ex_lm[a][1]))
        return np.array(out)

    plain, sealed = jump(src), jump(_sealed_source(_exemplar(model, src, 20), target, model))
    # butted rims: two pixels apart in the output come from 5 px apart, the gap skipped
    assert plain[:, 0].min() > 4.5
    # sealed: the lips meet inside the gap, taken from both sides, a crease of its own pixels
    assert np.all(sealed[:, 0] < 0.8 * plain[:, 0])            # measured 0.67-0.70 (SEAL 0.5)
    assert sealed[:, 1].min() > 0.2 and sealed[:, 1].max() < 4.5       # inside the gap
    # a target that opens wider than the exemplar leaves its points alone
    wide = _exemplar(model, target, 20)
    assert _sealed_source(wide, src, model) is wide.points
    # teeth in the gap (lighter than the lips): the lips are not drawn together over them
    teeth = _exemplar(model, src, 240)
    assert _sealed_source(teeth, target, model) is teeth.points


def test_the_mesh_tiles_the_lower_face_once(astro):
    """No skin triangle reaches over a lip to its inner contour: the mesh's triangles cover the
    hull of its points exactly once (a skin triangle from under the nose to an inner-lip point
    lay over the upper lip's strip, a fold that showed as a pale line along the lip's border)."""
    from lipflap.render.model import _lip_aware_mesh
    model = fit_model([astro, astro + 0.5, astro - 0.5])
    pos = {int(k): i for i, k in enumerate(model.region)}
    pts = _points(model, astro).astype(np.float64)
    for a, b in g.INNER_PAIRS:                    # a little open, as the model triangulates
        pts[pos[a], 1] -= 1.0
        pts[pos[b], 1] += 1.0
    tris = _lip_aware_mesh(pts, pos)
    p = pts[tris]
    area = 0.5 * np.abs((p[:, 1, 0] - p[:, 0, 0]) * (p[:, 2, 1] - p[:, 0, 1])
                        - (p[:, 2, 0] - p[:, 0, 0]) * (p[:, 1, 1] - p[:, 0, 1]))
    import cv2
    hull = cv2.contourArea(cv2.convexHull(pts.astype(np.float32)))
    assert abs(area.sum() - hull) < 1e-3 * hull
    inner = {pos[k] for k in g.LIPS_INNER}
    lips = inner | {pos[k] for k in g.LIPS_OUTER}
    for t in tris:
        if inner & set(t.tolist()):
            assert set(t.tolist()) <= lips


def test_an_open_mouth_that_narrows_is_not_sealed(astro):
    """Sealing is for lips that meet: a target gap of a fifth of the mouth's width taken from a
    slightly wider one keeps the exemplar's inner-lip points (its teeth stay in the opening)."""
    model = fit_model([astro, astro + 0.5, astro - 0.5])
    pos = {int(k): i for i, k in enumerate(model.region)}
    width = float(np.linalg.norm(astro[61] - astro[291]))
    ex, tgt = _points(model, astro).astype(np.float64), _points(model, astro).astype(np.float64)
    for a, b in g.INNER_PAIRS:
        ex[pos[b], 1] = ex[pos[a], 1] + 0.22 * width
        tgt[pos[b], 1] = tgt[pos[a], 1] + 0.2 * width
    seen = _exemplar(model, ex, 20)
    assert _sealed_source(seen, tgt, model) is seen.points


def test_nothing_is_drawn_from_beyond_the_exemplars_picture(astro):
    """An exemplar whose picture ends under its mouth (its chin was at the frame's edge): the
    patch's pixels that would come from below that edge keep the frame's own (alpha 0), where the
    replicated border drew vertical streaks (selfie f57-66)."""
    from lipflap.render.synth import Exemplar, Look, crop_box, synthesize
    model = fit_model([astro, astro + 0.5, astro - 0.5])
    img = np.random.default_rng(1).integers(90, 170, (SIZE, SIZE, 3)).astype(np.uint8)
    pts = _points(model, astro)
    x0, y0, w, h = crop_box(pts, SIZE, SIZE, pad=6)
    cut = int(astro[152, 1]) - 4 - y0               # the exemplar's picture stops above its chin
    ex = Exemplar(0, img[y0:y0 + cut, x0:x0 + w].copy(), x0, y0, pts, 0.0)
    look = Look(peak=255.0, cavity=np.array([20.0, 10, 10], np.float32),
                tongue=np.array([70.0, 30, 30], np.float32))
    patch = synthesize(img, ex, pts.astype(np.float64), pts.astype(np.float64), model, look, 1.0,
                       is_self=False)
    edge = y0 + cut - patch.y0                      # the picture's last row, in the patch
    assert patch.alpha[:edge - 2].max() > 0.9
    assert patch.alpha[edge:].max() == 0.0
    # faded towards that edge, not cut: no row-to-row step of more than a third
    col = patch.alpha[:, int(astro[152, 0]) - patch.x0]
    assert np.abs(np.diff(col[edge - 12:edge + 1])).max() < 0.34
