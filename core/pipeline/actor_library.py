"""The actor library (issue 15 item 6): exemplar frames of the same actor from other footage,
offered to a shot for the mouth shapes its own frames lack (a short shot, or an actor who never
closes the lips in it).

Each library file is analysed (the content-keyed analysis cache: a second run reads it) and its
face checked to be the shot's actor (`same_actor`, lipflap.face.identity: the mesh and the
appearance); another person's footage is left out with a warning naming the file. Per shot,
the library frames that could supply a shape are chosen from landmarks alone: those that would
beat the shot's best clean own exemplar for some output frame by more than BORROW_COST. Only their lower-face crops are read (memory bounded as the shot's own
library is), scored like the shot's own frames (frame_score: atypical ones stay out), brought to
the shot's colour (`colour_gain`: one gain per channel from the skin round the mouth, per file and
shot) and offered to the exemplar path at BORROW_COST, so a borrowed frame is chosen only where
the shot has no clean frame of the shape. The renderer then treats a borrowed exemplar as its own:
the per-frame light offset, lip colour match and detail match of render.synth take it to each
target frame, and its lips are held by its own unsmoothed contours (lip_shift) as the shot's are.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

import cv2
import numpy as np

from ..face import identity
from ..face.analyze import analyze_video
from ..media.decode import read_frames
from ..media.probe import probe
from ..render import frame_score, select
from ..render import geometry as g
from ..render.pipeline import LibraryBuilder, RenderPlan, _path, reason_spans, wanted_widths
from ..render.synth import Exemplar, crop_box, retrack_shift
from .raw_lips import frames_raw_lips

# A borrowed exemplar costs this much more than the shot's own (data-cost units, select.SIGMA):
# it must beat the best clean own frame by that much. 30 is a closed target built from an own
# mouth open by about 0.025 eye distances (5 * (gap / 0.01)^2), where squeezing a parted mouth
# shut starts to show its teeth along the seam (issue 15, expr_disgusted frame 71).
BORROW_COST = 30.0
# At most this many candidates per shot are read, over all library files (lower-face crops only).
MAX_CANDIDATES = 48
# A frame "lacks a clean shape" when its target is closed and the exemplar it is built from is
# open by more than this (eye distances), or its target is open (at least OPEN_SHARE of the
# actor's widest, and over OPEN_MIN eye distances) and the exemplar opens less than half as far:
# the report lists those frames (`no_clean_shape_frames`). Relative to the actor's widest, so a
# shot that never opens (its widest is the model's floor) still has its openings flagged.
LACK_CLOSED_GAP = 0.03
OPEN_SHARE = 0.5
OPEN_MIN = 0.02


@dataclass
class Footage:
    """One library file, analysed: its face's landmarks per file frame (None where unusable)."""
    path: str
    landmarks: list
    base: int = 0                   # virtual exemplar id of its frame 0 in a shot's plan
    # per file frame the tracker's unsmoothed lip contours (pipeline.raw_lips; None where none),
    # from which a borrowed exemplar's lip_shift is read as the shot's own exemplars' are
    raw_lips: list | None = None


def load_footage(paths: list[str], video: str, lo: int, hi: int, shot_landmarks: list,
                 progress) -> tuple[list[Footage], list[str]]:
    """Analyse each library file; keep those showing the shot's actor (`same_actor` on a few
    views of each face). Frames lo..hi of the shot's own file (when it is in the library) are
    left out: they are the shot."""
    out, warnings = [], []
    shot = views(video, dict(enumerate(shot_landmarks, start=lo)))
    for path in paths:
        a = analyze_video(path, 0, None, face="largest", progress=progress)
        lms = [ff.landmarks if ff.usable else None for ff in a.frames]
        raw = frames_raw_lips(a.frames)
        del a
        if os.path.exists(video) and os.path.samefile(path, video):
            for f in range(lo, min(hi, len(lms) - 1) + 1):
                lms[f] = raw[f] = None
        if sum(lm is not None for lm in lms) < 3:
            warnings.append(f"{path}: no usable face in the library footage, so it is left out "
                            f"of the actor library; give footage where the actor's face is seen.")
            continue
        ok, why = same_actor(shot, views(path, dict(enumerate(lms))))
        if not ok:
            warnings.append(f"{path}: the face in this library footage is not the actor of "
                            f"{video} ({why}), so it is left out; give footage of the same actor.")
            continue
        out.append(Footage(path, lms, raw_lips=raw))
    return out, warnings


# Identity is judged on this many frames of each face, spread over its usable frames.
VIEWS = 8


def views(path: str, landmarks: dict) -> list[tuple[np.ndarray, np.ndarray]]:
    """(face crop, its landmarks in the crop) of up to VIEWS usable frames of `path` (file frame
    -> landmarks or None), evenly spread; the crop holds the face and the hair above it."""
    usable = [f for f, lm in landmarks.items() if lm is not None]
    if not usable:
        return []
    pick = sorted({usable[int(round(k))] for k in np.linspace(0, len(usable) - 1, VIEWS)})
    info, out = probe(path), []
    for f in pick:
        lm = np.asarray(landmarks[f], np.float64)
        (x0, y0), (x1, y1) = lm.min(0), lm.max(0)
        box = np.array([[x0, y0 - 0.5 * (y1 - y0)], [x1, y1]])
        for fr in read_frames(path, f, f, info=info):
            bx, by, bw, bh = crop_box(box, fr.size[0], fr.size[1], pad=int(0.2 * (x1 - x0)))
            out.append((np.array(fr.region(bx, by, bw, bh), copy=True), lm - [bx, by]))
    return out


def _targets(plan: RenderPlan):
    """What the path matches exemplars against, per usable output frame: the model's lips for the
    wanted parameters, the wanted gap, the head turn and the opening's peaks (as plan_render
    computed them), and the widths the track asks for (render.pipeline.wanted_widths)."""
    m, idx = plan.model, plan.usable_idx
    t_shapes = np.array([m.match_lips(plan.want[i]) for i in idx], np.float32)
    t_ap = plan.gap[idx].astype(np.float64)
    turn = np.array([g.head_turn(plan.landmarks[i], plan.poses[i]) for i in idx])
    peaks = None if plan.peaks is None else plan.peaks[idx]
    return t_shapes, t_ap, turn, peaks, wanted_widths(m, plan.want[idx])


def _describe(plan: RenderPlan, fo: Footage, frames: np.ndarray):
    """Normalised region shapes, apertures and head turns of library frames under the shot's
    model (a similarity fit on the rigid points: the same actor's face in another framing)."""
    m = plan.model
    poses = [m.pose(fo.landmarks[f]) for f in frames]
    region = np.array([g.apply(p, fo.landmarks[f][m.region]) for p, f in zip(poses, frames)],
                      np.float32)
    ap = np.array([g.aperture(fo.landmarks[f]) for f in frames])
    turn = np.array([g.head_turn(fo.landmarks[f], p) for p, f in zip(poses, frames)])
    return poses, region, ap, turn


def candidates(plan: RenderPlan, fo: Footage, own_best: np.ndarray,
               targets) -> tuple[np.ndarray, np.ndarray]:
    """File frames of `fo` that could supply a shape the shot lacks, and by how much: a bounded
    library of its shapes (select.choose_library), kept where one beats the shot's best own
    cost for some output frame by more than BORROW_COST; the largest gains first."""
    usable = np.array([f for f, lm in enumerate(fo.landmarks) if lm is not None])
    m = plan.model
    lips = np.array([g.apply(m.pose(fo.landmarks[f]), fo.landmarks[f][m.region[m.lips]])
                     for f in usable], np.float32)
    pick = select.choose_library(usable, lips.reshape(len(usable), -1))
    _, region, ap, turn = _describe(plan, fo, pick)
    t_shapes, t_ap, t_turn, peaks, wanted = targets
    cost = select.data_costs(t_shapes, t_ap, region[:, m.lips], ap, m.lip_weights,
                             np.full(len(t_ap), -1), t_turn, turn, relaxed_width=m.width_rest,
                             peaks=peaks, wanted_widths=wanted) + BORROW_COST
    gain = (own_best[:, None] - cost).max(0)
    keep = np.flatnonzero(gain > 0)
    keep = keep[np.argsort(-gain[keep])][:MAX_CANDIDATES]
    return pick[keep], gain[keep]


def gather(plan: RenderPlan, fo: Footage, frames: np.ndarray, base: int, peak: float):
    """The candidates' lower-face crops (in the shot's value scale, exemplar id base + file
    frame) and per id (normalised region, aperture, head turn, pose), in one decode pass that
    stops at the last candidate."""
    m = plan.model
    poses, region, ap, turn = _describe(plan, fo, frames)
    at = {int(f): k for k, f in enumerate(frames)}
    ex, geo = {}, {}
    info = probe(fo.path)
    for fr in read_frames(fo.path, int(frames.min()), int(frames.max()), info=info):
        k = at.get(fr.index)
        if k is None:
            continue
        lm = fo.landmarks[fr.index]
        pts = np.vstack([lm[m.region], m.ring_points(poses[k])])
        wid, hgt = fr.size
        x0, y0, w, h = crop_box(pts, wid, hgt, pad=6)
        crop = _to_scale(np.array(fr.region(x0, y0, w, h), copy=True), peak)
        gap = float(np.mean([np.linalg.norm(lm[a] - lm[b]) for a, b in g.APERTURE_PAIRS]))
        ex[base + fr.index] = Exemplar(base + fr.index, crop, x0, y0, pts, gap)
        geo[base + fr.index] = (region[k], ap[k], turn[k], poses[k])
    return ex, geo


def _to_scale(crop: np.ndarray, peak: float) -> np.ndarray:
    """A library crop in the shot's value scale (8-bit footage beside a 16-bit shot, or back)."""
    if peak > 255 and crop.dtype == np.uint8:
        return crop.astype(np.uint16) * 257
    if peak <= 255 and crop.dtype != np.uint8:
        return np.clip(np.rint(crop / 257.0), 0, 255).astype(np.uint8)
    return crop


def skin_colour(ex: Exemplar, model) -> np.ndarray | None:
    """Mean colour of the skin round the mouth in an exemplar's crop: the lower face's region
    (nose base to chin) less the lips, dilated by a tenth of the mouth's width."""
    pts = ex.points[:len(model.region)] - [ex.x0, ex.y0]
    h, w = ex.image.shape[:2]
    face = np.zeros((h, w), np.uint8)
    cv2.fillConvexPoly(face, np.round(cv2.convexHull(pts.astype(np.float32))[:, 0]).astype(np.int32), 1)
    lips = np.zeros((h, w), np.uint8)
    outer = pts[model.lips[:20]]
    cv2.fillPoly(lips, [np.round(outer).astype(np.int32)], 1)
    k = max(3, int(0.1 * float(np.ptp(outer[:, 0])))) | 1
    skin = (face > 0) & (cv2.dilate(lips, np.ones((k, k), np.uint8)) == 0)
    if skin.sum() < 50:
        return None
    return ex.image[skin].astype(np.float64).mean(0)


# The colour gain is bounded: a library lit very differently (night for day) is not made to match
# by a gain, and the per-frame light offset of the renderer does the rest.
GAIN_RANGE = (0.6, 1.6)


def colour_gain(own: dict, borrowed: dict, model) -> np.ndarray:
    """Per-channel gain taking the library's skin round the mouth to the shot's (medians over
    the exemplars of each): white balance and exposure of the other footage, one value per file
    and shot so borrowed frames do not flicker against each other."""
    a = [c for c in (skin_colour(e, model) for e in own.values()) if c is not None]
    b = [c for c in (skin_colour(e, model) for e in borrowed.values()) if c is not None]
    if not a or not b:
        return np.ones(3)
    return np.clip(np.median(a, 0) / np.maximum(np.median(b, 0), 1e-3), *GAIN_RANGE)


def _apply_gain(img: np.ndarray, gain: np.ndarray, peak: float) -> np.ndarray:
    out = np.clip(np.rint(img.astype(np.float32) * gain.astype(np.float32)), 0, peak)
    return out.astype(img.dtype)


def borrow(builder: LibraryBuilder, footage: list[Footage]) -> list[tuple[int, Footage]]:
    """Offer the library's clean frames to one shot's exemplar path: called by
    LibraryBuilder.finish once the shot's own frames are scored and before the path is chosen
    again. Returns (exemplar id of frame 0, footage) per file, for `mark`."""
    plan = builder.plan
    if plan.model is None or plan.costs is None or not footage:
        return []
    m = plan.model
    flag = np.array([0.0 if builder.scores.get(int(f)) is None or builder.scores[int(f)].clean
                     else frame_score.FLAG_COST for f in plan.lib_frames])
    own_best = (plan.costs + flag[None]).min(1)
    targets = _targets(plan)
    sources, base = [], plan.n + 1
    found = []                              # (gain, file number, frame)
    for k, fo in enumerate(footage):
        sources.append((base, fo))
        base += len(fo.landmarks) + 1
        frames, gains = candidates(plan, fo, own_best, targets)
        found += [(float(gn), k, int(f)) for f, gn in zip(frames, gains)]
    # The largest gains over all files: a folder of footage reads no more crops than one file.
    found = sorted(found, reverse=True)[:MAX_CANDIDATES]
    ex_all, geo_all = {}, {}
    for k, (base, fo) in enumerate(sources):
        frames = np.array(sorted(f for _, kk, f in found if kk == k), int)
        if len(frames):
            ex, geo = _clean_crops(builder, fo, frames, base)
            ex_all.update(ex)
            geo_all.update(geo)
    if ex_all:
        _extend(plan, ex_all, geo_all, targets)
        builder.lib.update(ex_all)
    return sources


def _clean_crops(builder: LibraryBuilder, fo: Footage, frames: np.ndarray, base: int):
    """One file's candidate crops in the shot's colour (`colour_gain`), scored like the shot's
    own frames and judged among this file's candidates; the atypical ones are dropped. Adds
    the clean ones' scores to the builder's."""
    m = builder.plan.model
    ex, geo = gather(builder.plan, fo, frames, base, builder.peak)
    gain = colour_gain(builder.lib, ex, m)
    scores = []
    for vid, e in ex.items():
        e.image = _apply_gain(e.image, gain, builder.peak)
        # Read on the crop in the shot's colour, as the render will hold it (after the gain).
        raw = None if fo.raw_lips is None else fo.raw_lips[vid - base]
        if raw is not None:
            e.lip_shift = retrack_shift(e.image, e.x0, e.y0, e.points[:len(m.region)][m.lips], raw,
                                        builder.peak)
        scores.append(frame_score.measure(vid, e.image, e.points[:len(m.region)] - [e.x0, e.y0],
                                          m.region, m.lips, geo[vid][3], m.ap_max, builder.peak))
    frame_score.judge(scores)
    clean = [s.frame for s in scores if s.clean]
    builder.scores.update({s.frame: s for s in scores if s.clean})
    return {v: ex[v] for v in clean}, {v: geo[v] for v in clean}


def _extend(plan: RenderPlan, ex: dict, geo: dict, targets) -> None:
    """Append the borrowed exemplars to the plan's library: their points, shapes, data costs
    (plus BORROW_COST) and the transitions among all."""
    m = plan.model
    ids = np.array(sorted(ex))
    region = np.array([geo[v][0] for v in ids], np.float32)
    ap = np.array([geo[v][1] for v in ids])
    turn = np.array([geo[v][2] for v in ids])
    t_shapes, t_ap, t_turn, peaks, wanted = targets
    cost = select.data_costs(t_shapes, t_ap, region[:, m.lips], ap, m.lip_weights,
                             np.full(len(t_ap), -1), t_turn, turn, relaxed_width=m.width_rest,
                             peaks=peaks, wanted_widths=wanted) + BORROW_COST
    plan.costs = np.hstack([plan.costs, cost.astype(np.float32)])
    plan.lib_frames = np.concatenate([plan.lib_frames, ids])
    if plan.lib_ap is not None:
        plan.lib_ap = np.concatenate([plan.lib_ap, ap])
    if plan.lib_widths is not None:
        plan.lib_widths = np.concatenate([plan.lib_widths, select.corner_width(region[:, m.lips])])
    plan.lib_shapes = np.concatenate([plan.lib_shapes, region])
    plan.lib_points.update({int(v): ex[v].points for v in ids})
    plan.trans = select.transition_costs(plan.lib_frames, plan.lib_shapes[:, m.lips])
    # The path over the larger library (rechoose chooses it again once the crops are read, with
    # the flagged frames' cost and the texture pops between exemplars).
    plan.lib_pos = _path(plan.n, plan.usable_idx, plan.costs, plan.trans)
    plan.exemplar = np.where(plan.lib_pos >= 0, plan.lib_frames[np.maximum(plan.lib_pos, 0)], -1)


def mark(plan: RenderPlan, sources: list[tuple[int, Footage]]) -> None:
    """After the path is chosen: plan.borrowed, the output frame ranges built from library
    footage (file and its frames), and plan.lacking, the frames still without a clean shape
    (a closure built from an open mouth, an opening from a much less open one)."""
    if plan.model is None:
        return
    borrowed = []
    for i in np.flatnonzero(plan.exemplar > plan.n):
        vid = int(plan.exemplar[i])
        base, fo = max((s for s in sources if s[0] <= vid), key=lambda s: s[0])
        if borrowed and borrowed[-1]["end"] == i - 1 and borrowed[-1]["library"] == fo.path:
            borrowed[-1]["end"] = int(i)
            borrowed[-1]["library_frames"].append(vid - base)
        else:
            borrowed.append({"start": int(i), "end": int(i), "library": fo.path,
                             "library_frames": [vid - base]})
    plan.borrowed = borrowed
    plan.lacking = lacking(plan)


def lacking(plan: RenderPlan) -> list[dict]:
    """Output frame ranges whose exemplar does not have the shape the dub asks for."""
    m = plan.model
    pos = m.pos
    gaps = np.mean([np.linalg.norm(plan.lib_shapes[:, pos[a]] - plan.lib_shapes[:, pos[b]], axis=1)
                    for a, b in g.APERTURE_PAIRS], axis=0)
    open_gap = max(OPEN_SHARE * m.ap_max, OPEN_MIN)
    reasons = []
    for i in np.flatnonzero(plan.lib_pos >= 0):
        want, got = float(plan.gap[i]), float(gaps[plan.lib_pos[i]])
        reasons.append((int(i), "no_clean_closure" if want < select.CLOSED_GAP and got > LACK_CLOSED_GAP
                        else "no_clean_opening" if want >= open_gap and got < 0.5 * want else ""))
    return reason_spans(reasons)


def same_actor(shot: list, library: list) -> tuple[bool, str]:
    """Is the library's face the shot's actor? `shot`, `library`: (face crop, landmarks) views
    of each (`views`), compared by their identity signatures (lipflap.face.identity: the
    mesh's rigid proportions, skin and hair colour, upper-face texture); with the reason in a
    few words when not."""
    a = identity.signature_of([im for im, _ in shot], [lm for _, lm in shot])
    b = identity.signature_of([im for im, _ in library], [lm for _, lm in library])
    if a is None or b is None:
        return False, "no near-frontal view of the face to compare"
    d = identity.distance(a, b)
    if d < identity.THRESHOLD:
        return True, ""
    return False, (f"identity distance {d:.2f} from the mesh and appearance, over "
                   f"{identity.THRESHOLD}")
