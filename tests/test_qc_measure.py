"""QC figures on constructed cases: known answers, no face detector, no files."""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from lipflap.face.geometry import mouth_aperture
from lipflap.face.landmarks import INNER_LIP_PAIRS
from lipflap.mouth.track import MouthFrame, MouthTrack
from lipflap.qc import regions
from lipflap.qc.expected import expected_from_track
from lipflap.qc.fidelity import FidelityMeter, psnr
from lipflap.qc.measure import assemble, quick_report
from lipflap.qc.sync import offset_correlation
from lipflap.speech.types import Phone

H, W = 240, 320
CX, CY = 160, 120


def face_landmarks(aperture: float = 0.0, dx: float = 0.0, dy: float = 0.0) -> np.ndarray:
    """A 478-point face: jaw on a half ellipse, lips on an ellipse, eyes 80 px apart; the inner
    lips `aperture` eye-distances apart."""
    p = np.tile([CX + dx, CY + dy], (478, 1)).astype(np.float64)
    p[33] = [CX - 40 + dx, CY - 50 + dy]
    p[263] = [CX + 40 + dx, CY - 50 + dy]
    for k, idx in enumerate(regions.LOWER_FACE[:-1]):
        a = np.pi * k / (len(regions.LOWER_FACE) - 2)
        p[idx] = [CX + dx - 70 * np.cos(a), CY + dy - 10 + 80 * np.sin(a)]
    p[regions.LOWER_FACE[-1]] = [CX + dx, CY + dy - 15]
    for k, idx in enumerate(regions.MOUTH_OUTER):
        a = 2 * np.pi * k / len(regions.MOUTH_OUTER)
        p[idx] = [CX + dx + 30 * np.cos(a), CY + dy + 30 + 12 * np.sin(a)]
    gap = aperture * 80
    for up, lo in INNER_LIP_PAIRS:
        p[up] = [CX + dx, CY + dy + 30 - gap / 2]
        p[lo] = [CX + dx, CY + dy + 30 + gap / 2]
    return p


def textured_frames(n: int, seed: int = 0) -> list[np.ndarray]:
    """Grainy texture that drifts a pixel a frame: motion everywhere, detail in the mouth box."""
    rng = np.random.default_rng(seed)
    big = rng.integers(0, 256, (H + n + 8, W + n + 8, 3), dtype=np.uint8)
    big = cv2.GaussianBlur(big, (3, 3), 0)
    return [np.ascontiguousarray(big[i:i + H, i:i + W]) for i in range(n)]


def test_output_equal_to_source_measures_perfect():
    frames = textured_frames(12)
    m = FidelityMeter()
    for f in frames:
        m.add(f, f.copy(), face_landmarks())
    r = m.result()
    assert r["psnr_db_median"] == 99.0 and r["psnr_db_min"] == 99.0
    assert r["sharpness_ratio"] == pytest.approx(1.0)
    assert r["roughness_ratio"] == pytest.approx(1.0)
    assert r["colour_shift"] == 0.0
    assert r["frames_dropped"] == 0 and r["frames_added"] == 0


def test_recoloured_lower_face_is_a_colour_shift():
    frames = textured_frames(4)
    lm = face_landmarks()
    skin = regions.lower_face_skin(lm, (H, W))
    m = FidelityMeter()
    for f in frames:
        o = f.copy()
        o[skin] = np.clip(o[skin].astype(int) + [8, 0, 0], 0, 255).astype(np.uint8)
        m.add(o, f, lm)
    r = m.result()
    assert 7.0 < r["colour_shift"] < 8.5
    assert r["psnr_db_min"] == 99.0          # all of it inside the lower face


def test_blurred_mouth_box_lowers_sharpness_only_inside():
    frames = textured_frames(10)
    m = FidelityMeter()
    lm = face_landmarks()
    x0, y0, x1, y1 = regions.mouth_box(lm, regions.mouth_box_size(lm), (H, W))
    for f in frames:
        o = f.copy()
        o[y0:y1, x0:x1] = cv2.GaussianBlur(o[y0:y1, x0:x1], (5, 5), 1.5)
        m.add(o, f, lm)
    r = m.result()
    assert r["sharpness_ratio"] < 0.5
    # the mouth box lies inside the lower face, so the picture outside it is untouched
    assert r["psnr_db_min"] == 99.0


def test_change_outside_lower_face_lowers_psnr():
    f = textured_frames(1)[0]
    o = f.copy()
    o[:20, :20] = 0  # a corner far from the face
    mask = regions.outside_lower_face(face_landmarks(), (H, W))
    assert not mask[CY + 40, CX] and mask[5, 5]
    assert psnr(o, f, mask) < 40
    assert psnr(f, f, mask) == 99.0


@pytest.mark.parametrize("drop", [7, 15])
def test_dropped_frame_is_detected_and_located(drop):
    src = textured_frames(24)
    out = src[:drop] + src[drop + 1:]
    m = FidelityMeter()
    for i in range(len(src)):
        m.add(out[i] if i < len(out) else None, src[i], face_landmarks())
    r = m.result()
    assert r["frames_dropped"] == 1 and r["frames_added"] == 0
    assert r["dropped_at"] == [drop]


def test_repeated_frame_is_detected_as_added():
    src = textured_frames(20)
    out = src[:9] + [src[8]] + src[9:19]        # same length, frame 8 held, last one lost
    m = FidelityMeter()
    for o, s in zip(out, src):
        m.add(o, s, face_landmarks())
    r = m.result()
    assert r["frames_added"] == 1 and r["added_at"] == [9]
    assert r["frames_dropped"] == 1


def test_held_frames_raise_roughness():
    src = textured_frames(30)
    held = [src[i - i % 2] for i in range(30)]  # every frame shown twice: a stutter
    m = FidelityMeter()
    for o, s in zip(held, src):
        m.add(o, s, face_landmarks())
    assert m.result()["roughness_ratio"] > 1.3


def test_sixteen_bit_frames_measure_like_eight_bit():
    f8 = textured_frames(3)
    m = FidelityMeter()
    for f in f8:
        f16 = f.astype(np.uint16) * 257
        m.add(f16, f16.copy(), face_landmarks())
    r = m.result()
    assert r["psnr_db_median"] == 99.0 and r["sharpness_ratio"] == pytest.approx(1.0)


def make_track(apertures, fps=25, phones=()):
    frames = [MouthFrame(i, i / fps, "PP" if a <= 0.01 else "aa" if a > 0.6 else "DD",
                         "A" if a <= 0.01 else "D" if a > 0.6 else "B", float(a), 0.45, 0.0,
                         float(a)) for i, a in enumerate(apertures)]
    return MouthTrack(fps=fps, frames=frames, phonemes=[Phone(*p) for p in phones])


def test_offset_correlation_finds_the_lag():
    rng = np.random.default_rng(3)
    e = np.convolve(rng.random(120), np.ones(4) / 4, mode="same")
    late = np.concatenate([np.full(2, e[0]), e[:-2]])   # the mouth 2 frames late
    c = offset_correlation(late, e)
    assert c["best_offset_frames"] == 2 and c["best_r"] > 0.99
    assert offset_correlation(e, e)["best_offset_frames"] == 0


def test_sync_and_phonetics_from_phonemes():
    fps = 25
    # 0.0-0.4 pause, "m" 0.4-0.52, "a" 0.52-0.8, pause 0.8-1.6
    phones = [("_", 0.0, 0.4), ("m", 0.4, 0.52), ("ˈa", 0.52, 0.8), ("_", 0.8, 1.6)]
    ap = np.zeros(40)
    ap[13:20] = 0.9
    track = make_track(ap, fps, phones)
    exp = expected_from_track(track)
    kinds = [e.kind for e in exp.events]
    assert exp.events_from == "phonemes" and kinds == ["pause", "bilabial", "open", "pause"]
    good = [face_landmarks(0.02 + 0.4 * a) for a in ap]
    rep = assemble(exp, good)
    f = rep["figures"]
    assert f["sync_r"]["value"] > 0.99 and f["sync_offset_frames"]["value"] == 0
    assert f["bilabial_closure"]["value"] == 1.0 and f["open_vowel_opening"]["value"] == 1.0
    assert f["pause_rest"]["value"] == 1.0 and rep["flagged_ranges"] == []
    # A mouth that stays open through the "m" and the final pause fails both, and says where.
    bad_ap = ap.copy()
    bad_ap[8:40] = 0.9
    bad_ap[0] = 0.0  # keep a range so normalisation has a bottom
    bad = [face_landmarks(0.02 + 0.4 * a) for a in bad_ap]
    rep = assemble(exp, bad)
    f = rep["figures"]
    assert f["bilabial_closure"]["value"] == 0.0 and f["bilabial_closure"]["verdict"] == "fail"
    assert f["pause_rest"]["value"] < 0.6
    assert rep["verdict"] == "fail"
    reasons = {r["reason"] for r in rep["flagged_ranges"]}
    assert "lips not closed on p/b/m" in reasons and "mouth not at rest in a pause" in reasons


def test_events_from_frames_when_no_phonemes():
    ap = np.array([0.0] * 10 + [0.3, 0.0, 0.3, 0.9, 0.9, 0.9, 0.3] + [0.0] * 10)
    exp = expected_from_track(make_track(ap))
    assert exp.events_from == "frames"
    kinds = sorted(e.kind for e in exp.events)
    assert "bilabial" in kinds and "open" in kinds and "pause" in kinds


def test_quick_report_from_landmarks_and_meter():
    ap = np.array([0.0] * 10 + [0.8] * 5 + [0.0] * 10)
    track = make_track(ap)
    frames = textured_frames(len(ap))
    meter = FidelityMeter()
    lms = []
    for f, a in zip(frames, ap):
        lm = face_landmarks(0.02 + 0.4 * a)
        meter.add(f, f, lm)
        lms.append(lm)
    lms[3] = None  # one frame without a face in the output
    rep = quick_report(np.array([l if l is not None else np.full((478, 2), np.nan) for l in lms]),
                       track.to_dict(), fidelity=meter)
    f = rep["figures"]
    assert f["psnr_outside_lower_face_db"]["verdict"] == "pass"
    assert f["mouth_sharpness_ratio"]["value"] == 1.0 and f["frames_dropped"]["value"] == 0
    assert f["face_found"]["value"] == pytest.approx(24 / 25)
    assert {"start": 3, "end": 3, "reason": "no usable face in the output",
            "figure": "face_found"} in rep["flagged_ranges"]
    assert mouth_aperture(lms[12]) == pytest.approx(0.34)
    assert "series" not in rep                      # kept small for run's report
    assert "series" in quick_report(lms, track, fidelity=meter, series=True)


def test_add_composite_measures_the_patch_as_blended():
    frames = textured_frames(6)
    lm = face_landmarks()
    x0, y0, x1, y1 = regions.mouth_box(lm, regions.mouth_box_size(lm), (H, W))
    m_same, m_blur = FidelityMeter(), FidelityMeter()
    for f in frames:
        crop = f[y0:y1, x0:x1].astype(np.float32) / 255
        alpha = np.ones(crop.shape[:2], np.float32)
        m_same.add_composite(f, crop, alpha, x0, y0, lm)
        m_blur.add_composite(f, cv2.GaussianBlur(crop, (5, 5), 1.5), alpha, x0, y0, lm)
    assert m_same.result()["sharpness_ratio"] == pytest.approx(1.0)
    assert m_same.result()["psnr_db_min"] == 99.0
    assert m_blur.result()["sharpness_ratio"] < 0.5


def test_track_read_on_the_dub_clock():
    ap = np.zeros(50)
    ap[20:25] = 0.9
    track = make_track(ap, 25, [("_", 0.0, 0.8), ("ˈa", 0.8, 1.0), ("_", 1.0, 2.0)])
    # the video starts 0.4 s into the dub and runs at 50 fps: the vowel is at video frames 20-29
    exp = expected_from_track(track, 60, fps=50, start_s=0.4)
    assert exp.fps == 50 and list(np.flatnonzero(exp.aperture > 0.5)) == list(range(20, 30))
    assert [e.start for e in exp.events if e.kind == "open"] == [20]
    assert exp.aperture[-1] == 0.0                 # beyond the track: rest


def test_a_timing_r_taken_on_the_sample_says_so():
    """run's quick QC (timing_weights given) notes that its r0 is a sample's; lipflap qc's, taken
    on every frame, carries no such note (docs/quality.md 'The quick QC's timing r')."""
    from lipflap.qc.measure import SAMPLED_R0_NOTE
    phones = [("_", 0.0, 0.4), ("m", 0.4, 0.52), ("ˈa", 0.52, 0.8), ("_", 0.8, 1.6)]
    ap = np.zeros(40)
    ap[13:20] = 0.9
    track = make_track(ap, 25, phones)
    lms = np.array([face_landmarks(0.02 + 0.4 * a) for a in ap])
    every = quick_report(lms, track)["figures"]["timing_r0"]
    sampled = np.zeros(40, bool)
    sampled[::2] = True
    sampled[10:22] = True
    weights = sampled.astype(float)                 # the note does not depend on the weights
    on_sample = quick_report(np.where(sampled[:, None, None], lms, np.nan), track, sampled=sampled,
                             timing_weights=weights)["figures"]["timing_r0"]
    assert "note" not in every
    assert on_sample["note"] == SAMPLED_R0_NOTE and "lipflap qc" in on_sample["note"]
    assert on_sample["value"] is not None and every["value"] is not None


def test_the_quick_sharpness_says_it_is_read_before_the_codec():
    # the run's quick QC composites the frames it renders and never sees them encoded; its
    # figure says so, and the written file's (lipflap qc) carries no such note
    from lipflap.qc.measure import QUICK_SHARPNESS_READ_ON, fidelity_figures
    quick = fidelity_figures({"sharpness_ratio": 0.99, "sharpness_frames": 150})
    assert quick["mouth_sharpness_ratio"]["read_on"] == QUICK_SHARPNESS_READ_ON
    assert "before encoding" in QUICK_SHARPNESS_READ_ON and "lipflap qc" in QUICK_SHARPNESS_READ_ON
    meter = FidelityMeter()
    for f in textured_frames(5):
        meter.add(f, f, face_landmarks(0.2))
    full = fidelity_figures(meter.result())
    assert "read_on" not in full["mouth_sharpness_ratio"]
