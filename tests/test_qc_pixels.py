"""QC on the output's pixels: lip shape and colour against the actor's own range, timing against
the phones (issue 15, item 7). Constructed frames, no face detector."""
from __future__ import annotations

import cv2
import numpy as np

from lipflap.qc import shape
from lipflap.qc.expected import expected_from_track
from lipflap.qc.measure import assemble
from lipflap.qc.sync import phone_opening, timing_figures

from test_qc_measure import face_landmarks, make_track

H, W = 240, 320


def lips_frame(lm: np.ndarray, lip_rgb=(170, 90, 90)) -> np.ndarray:
    img = np.full((H, W, 3), (200, 160, 140), np.uint8)
    cv2.fillPoly(img, [np.round(lm[list(shape.LIPS_OUTER)]).astype(np.int32)], lip_rgb)
    return img


def _face(aperture=0.05):
    lm = face_landmarks(aperture)
    # an inner contour inside the outer one, so the lips have pixels between them
    c = lm[list(shape.LIPS_OUTER)].mean(0)
    lm[list(shape.LIPS_INNER)] = c + 0.6 * (lm[list(shape.LIPS_OUTER)] - c)
    return lm


def test_lips_darker_than_the_actor_are_flagged_and_equal_ones_are_not():
    rng = np.random.default_rng(0)
    src = []
    for k in range(30):
        lm = _face(0.05) + rng.normal(0, 0.3, (478, 2))
        v = 160 + int(rng.integers(-6, 7))
        src.append(shape.lip_features(lm, lips_frame(lm, (v, 85, 85))))
    same = {i: shape.lip_features(_face(0.05), lips_frame(_face(0.05), (160, 85, 85)))
            for i in range(20)}
    r = shape.outliers(same, src)
    assert r["fraction"] == 0.0 and not r["frames"]
    dark = dict(same)
    for i in (4, 5, 6):
        dark[i] = shape.lip_features(_face(0.05), lips_frame(_face(0.05), (70, 30, 35)))
    r = shape.outliers(dark, src)
    assert sorted(r["frames"]) == [4, 5, 6]
    assert all("lips darker" in w for w in r["frames"].values())
    assert r["fraction"] == 3 / 20


def test_a_jaw_pulled_past_the_actor_is_flagged():
    src = [shape.lip_features(_face(0.05), lips_frame(_face(0.05))) for _ in range(10)]
    lm = _face(0.05)
    lm[152] += [0, 40]                        # chin half an eye distance lower
    out = {0: shape.lip_features(lm, lips_frame(lm))}
    out.update({i: src[0] for i in range(1, 10)})
    r = shape.outliers(out, src)
    assert r["frames"] == {0: ["jaw lower"]}


def test_outlier_frames_become_a_figure_and_flagged_ranges():
    ap = np.zeros(30)
    exp = expected_from_track(make_track(ap, 25))
    lms = [face_landmarks(0.02) for _ in ap]
    fid = {"frames_dropped": 0, "frames_added": 0, "dropped_at": [], "added_at": [],
           "frames_source": 30, "frames_output": 30, "psnr_db_median": 99.0, "psnr_db_min": 99.0,
           "psnr_db_per_frame": [99.0] * 30, "sharpness_ratio": 1.0, "sharpness_frames": 30,
           "roughness_ratio": 1.0, "roughness_output": 1.4, "roughness_source": 1.4,
           "activity_ratio": 1.0, "colour_shift": 0.0,
           "shape": {"fraction": 0.1, "per_feature": {"lip_L": 0.1}, "frames_measured": 30,
                     "frames": {7: ["lips darker"], 8: ["lips darker"], 20: ["jaw lower"]},
                     "range": {}}}
    rep = assemble(exp, lms, fid)
    assert rep["figures"]["lip_shape_outside"]["verdict"] == "fail"
    flags = [(f["start"], f["end"], f["reason"]) for f in rep["flagged_ranges"]
             if f["figure"] == "lip_shape_outside"]
    assert flags == [(7, 8, "lips outside the actor's own range: lips darker"),
                     (20, 20, "lips outside the actor's own range: jaw lower")]


PHONES = [("_", 0.0, 0.3), ("m", 0.3, 0.38), ("ˈa", 0.38, 0.6), ("t", 0.6, 0.68), ("i", 0.68, 0.84),
          ("b", 0.84, 0.92), ("o", 0.92, 1.1), ("_", 1.1, 1.6)]


def test_timing_against_the_phones_finds_a_late_mouth():
    fps, n = 25.0, 40
    on_time = phone_opening(PHONES, fps, n)
    t = timing_figures(on_time, PHONES, fps)
    assert t["lag"] == 0 and t["r0"] > 0.99
    late = np.concatenate([np.full(1, on_time[0]), on_time[:-1]])    # a frame after the sound
    t = timing_figures(late, PHONES, fps)
    assert t["lag"] == 1 and t["r0"] < 0.95
    # frames QC did not re-track (NaN) are left out, not read as closed
    sparse = late.copy()
    sparse[::3] = np.nan
    assert timing_figures(sparse, PHONES, fps)["lag"] == 1
    rep = assemble(expected_from_track(make_track(np.zeros(n), 25, PHONES)),
                   [face_landmarks(0.02 + 0.3 * a) for a in late])
    assert rep["figures"]["timing_lag_frames"]["value"] == 1
    assert rep["figures"]["timing_lag_frames"]["verdict"] == "warn"


def test_quick_qc_times_and_ranges_on_the_even_frames_only():
    # the sample over-represents the judged moments: timing and the aperture range are read on
    # the evenly spread frames, so frames off the grid cannot move them
    fps, n = 25.0, 40
    on_time = phone_opening(PHONES, fps, n)
    ap = on_time.copy()
    grid = np.arange(n) % 4 == 0
    ap[~grid] = np.where(np.arange(n)[~grid] % 2, 1.0, 0.0)   # wild values off the grid
    lms = [face_landmarks(0.02 + 0.3 * a) for a in ap]
    exp = expected_from_track(make_track(np.zeros(n), 25, PHONES))
    rep = assemble(exp, lms, sampled=np.ones(n, bool), uniform=grid)
    assert rep["figures"]["timing_lag_frames"]["value"] == 0
    assert rep["figures"]["timing_r0"]["value"] > 0.99
    loose = assemble(exp, lms, sampled=np.ones(n, bool))
    assert loose["figures"]["timing_r0"]["value"] < 0.9
