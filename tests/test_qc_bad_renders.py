"""QC must never pass a clearly bad render (issue 15, item 7; bench/bench_qc_agree.py measures
the same on real renders against the yardstick): a mouth 4 frames after its sound, a blurred
lower face, a mouth that does not round. Constructed frames and landmarks, plus the demo portrait
through run's quick QC sampler (Face Mesh on a few frames)."""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from lipflap.qc import regions
from lipflap.qc.expected import expected_from_track
from lipflap.qc.fidelity import FidelityMeter
from lipflap.qc.measure import assemble, quick_report
from lipflap.qc.sync import measured_width, phone_opening, rounding_figures

from test_qc_measure import face_landmarks, make_track, textured_frames

FPS = 25.0
# Two sentences' worth of phones (3.2 s): closures, open and rounded vowels, pauses.
PHONES = [("_", 0.0, 0.32), ("m", 0.32, 0.4), ("ˈa", 0.4, 0.6), ("t", 0.6, 0.68),
          ("i", 0.68, 0.84), ("b", 0.84, 0.92), ("o", 0.92, 1.1), ("_", 1.1, 1.5),
          ("p", 1.5, 1.58), ("a", 1.58, 1.8), ("l", 1.8, 1.88), ("u", 1.88, 2.04),
          ("m", 2.04, 2.12), ("e", 2.12, 2.28), ("o", 2.28, 2.44), ("_", 2.44, 3.2)]
N = 80


def _mouth(shift: int) -> list[np.ndarray]:
    ap = phone_opening(PHONES, FPS, N)
    if shift:
        ap = np.concatenate([np.full(shift, ap[0]), ap[:-shift]])
    return [face_landmarks(0.02 + 0.3 * a) for a in ap]


def _expected():
    return expected_from_track(make_track(np.zeros(N), int(FPS), PHONES))


@pytest.mark.parametrize("quick", [False, True])
def test_a_mouth_four_frames_late_fails(quick):
    on_time, late = _mouth(0), _mouth(4)
    if quick:
        # run's quick QC: the judged moments and every 4th frame re-tracked, the rest unmeasured
        grid = np.arange(N) % 4 == 0
        rep = {k: quick_report(lms, make_track(np.zeros(N), int(FPS), PHONES),
                               sampled=np.ones(N, bool), uniform=grid)
               for k, lms in (("on_time", on_time), ("late", late))}
    else:
        rep = {k: assemble(_expected(), lms) for k, lms in (("on_time", on_time), ("late", late))}
    assert rep["on_time"]["figures"]["timing_lag_frames"]["verdict"] == "pass"
    f = rep["late"]["figures"]
    assert f["timing_lag_frames"]["value"] == 4
    assert f["timing_lag_frames"]["verdict"] == "fail"
    assert rep["late"]["verdict"] == "fail"


def _blur_lower_face(img: np.ndarray, lm: np.ndarray, sigma: float) -> np.ndarray:
    m = np.zeros(img.shape[:2], np.float32)
    hull = cv2.convexHull(np.round(lm[list(regions.LOWER_FACE)]).astype(np.int32))
    cv2.fillConvexPoly(m, hull, 1.0)
    m = cv2.GaussianBlur(m, (0, 0), 2.0)[:, :, None]
    soft = cv2.GaussianBlur(img, (0, 0), sigma).astype(np.float32)
    return np.clip(img * (1 - m) + soft * m + 0.5, 0, 255).astype(np.uint8)


def test_a_blurred_lower_face_fails_lipflap_qc():
    frames = textured_frames(N)
    lms = _mouth(0)
    for blur, want in ((False, "pass"), (True, "fail")):
        meter = FidelityMeter(regions.clip_mouth_box(lms, frames[0].shape[:2]))
        for img, lm in zip(frames, lms):
            meter.add(_blur_lower_face(img, lm, 2.5) if blur else img, img, lm)
        rep = assemble(_expected(), lms, meter.result())
        f = rep["figures"]["mouth_sharpness_ratio"]
        assert f["verdict"] == want, f
        if blur:
            assert rep["verdict"] == "fail"


def test_a_mouth_that_does_not_round_fails():
    n = N
    lms = _mouth(0)
    wide = measured_width(lms)
    # the constructed face never changes its width: rounded vowels as wide as spread ones
    r = rounding_figures(wide, PHONES, FPS)
    assert r["rounded"] == 3 and r["ratio"] == pytest.approx(1.0)
    rep = assemble(_expected(), lms)
    assert rep["figures"]["rounding_width_ratio"]["verdict"] == "fail"
    # narrowed by a fifth on the rounded vowels: passes
    t = (np.arange(n) + 0.5) / FPS
    narrow = [p.copy() for p in lms]
    for ph, t0, t1 in PHONES:
        if ph in ("o", "u"):
            for i in np.flatnonzero((t >= t0 - 1 / FPS) & (t < t1 + 1 / FPS)):
                c = narrow[i][regions.MOUTH_OUTER, 0].mean()
                narrow[i][:, 0] = np.where(np.isin(np.arange(478), (61, 291)),
                                           c + (narrow[i][:, 0] - c) * 0.8, narrow[i][:, 0])
    rep = assemble(_expected(), narrow)
    assert rep["figures"]["rounding_width_ratio"]["value"] < 0.9
    assert rep["figures"]["rounding_width_ratio"]["verdict"] == "pass"


@pytest.fixture(scope="module")
def portrait():
    pytest.importorskip("mediapipe")
    from lipflap.commands import demo_assets
    from lipflap.face.mesh import CROP_SIZE, CropMesh, FaceDetector, cut_crop, make_crop
    img = demo_assets.portrait_frame(demo_assets.portrait(), 384)
    det = FaceDetector().detect(img)[0]
    crop = make_crop(det.center, det.size * 1.2, CROP_SIZE)
    mesh = CropMesh()
    lm = mesh.process(cut_crop(img, crop), crop)
    mesh.close()
    assert lm is not None
    return img, lm[:, :2].astype(np.float64)


def test_run_quick_qc_fails_a_blurred_lower_face(portrait):
    from lipflap.qc.pixels import OutputSampler, quick_report_from_pixels
    from lipflap.render.synth import Patch
    img, lm = portrait
    n = 20
    tr = make_track(np.zeros(n), int(FPS), PHONES[:5])
    x0, y0, x1, y1 = regions.lower_face_box(lm, img.shape[:2], margin=0.2)
    soft = _blur_lower_face(img, lm, lm_sigma(lm))[y0:y1, x0:x1].astype(np.float32)
    patch = Patch(x0, y0, soft, np.ones(soft.shape[:2], np.float32))
    verdicts = {}
    for name, p in (("clean", None), ("blurred", patch)):
        s = OutputSampler(tr, n)
        for i in range(n):
            s.add(i, img, p, 255.0, lm)
        q = quick_report_from_pixels(s, tr, n)
        s.close()
        verdicts[name] = q["figures"]["mouth_sharpness_ratio"]
    assert verdicts["clean"]["value"] == pytest.approx(1.0)
    assert verdicts["clean"]["verdict"] == "pass"
    assert verdicts["blurred"]["verdict"] == "fail", verdicts["blurred"]


def lm_sigma(lm: np.ndarray) -> float:
    """A blur a viewer sees at once: a thirtieth of the eye distance (bench_qc_agree's)."""
    return regions.eye_distance(lm) / 30


def test_a_mouth_that_follows_no_lag_of_the_dub_fails_timing():
    # the render checked against another dub: whatever lag correlates best is chance
    rng = np.random.default_rng(5)
    ap = np.convolve(rng.random(N), np.ones(3) / 3, mode="same")
    rep = assemble(_expected(), [face_landmarks(0.02 + 0.3 * a) for a in ap])
    f = rep["figures"]["timing_lag_frames"]
    assert f["best_r"] < 0.5 and f["verdict"] == "fail"
