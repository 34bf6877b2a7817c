"""`lipflap run`'s quick QC re-tracks the output's pixels (issue 15, item 7): a render that
darkens the lips or leaves the mouth shut is caught from what was written, not from the landmarks
the renderer meant to draw."""
from __future__ import annotations

import numpy as np
import pytest

from lipflap.mouth.track import MouthFrame, MouthTrack
from lipflap.qc.pixels import OutputSampler, quick_report_from_pixels, sample_frames
from lipflap.qc.expected import expected_from_track
from lipflap.render.synth import Patch
from lipflap.speech.types import Phone


@pytest.fixture(scope="module")
def face():
    pytest.importorskip("mediapipe")
    from lipflap.commands import demo_assets
    from lipflap.face.mesh import CROP_SIZE, CropMesh, cut_crop, make_crop
    img = demo_assets.portrait_frame(demo_assets.portrait(), 384)
    # the analysis's landmarks of the still frame
    from lipflap.face.mesh import FaceDetector
    det = FaceDetector().detect(img)[0]
    mesh = CropMesh()
    lm = mesh.process(cut_crop(img, make_crop(det.center, det.size * 1.2, CROP_SIZE)),
                      make_crop(det.center, det.size * 1.2, CROP_SIZE))
    mesh.close()
    assert lm is not None
    return img, lm[:, :2].astype(np.float64)


def _track(n, fps=25):
    phones = [Phone("_", 0.0, 0.3), Phone("m", 0.3, 0.42), Phone("ˈa", 0.42, 0.7),
              Phone("_", 0.7, n / fps)]
    frames = [MouthFrame(i, i / fps, "sil", "X", 0.0, 0.45, 0.0, 0.0) for i in range(n)]
    return MouthTrack(fps=fps, frames=frames, phonemes=phones)


def _dark_lips_patch(img, lm):
    import cv2
    from lipflap.qc.shape import LIPS_OUTER
    pts = lm[list(LIPS_OUTER)]
    x0, y0 = np.floor(pts.min(0)).astype(int) - 4
    x1, y1 = np.ceil(pts.max(0)).astype(int) + 4
    rgb = img[y0:y1, x0:x1].astype(np.float32) * 0.35
    alpha = np.zeros((y1 - y0, x1 - x0), np.float32)
    cv2.fillPoly(alpha, [np.round(pts - [x0, y0]).astype(np.int32)], 1.0)
    return Patch(int(x0), int(y0), rgb, alpha)


def test_subsample_covers_every_judged_moment():
    tr = _track(30)
    s = set(sample_frames(expected_from_track(tr, 30), 30).tolist())
    for e in expected_from_track(tr, 30).events:
        if e.kind == "bilabial":
            assert set(range(max(0, e.start - 1), min(30, e.end + 2))) <= s
        elif e.kind == "open":
            assert set(range(e.start, e.end + 1)) <= s
        else:
            assert set(range(e.start + 3, e.end - 2)) & s
    assert len(s) < 30


def test_quick_qc_sees_dark_lips_and_a_mouth_that_never_opens(face):
    img, lm = face
    n = 30
    tr = _track(n)
    s = OutputSampler(tr, n)
    patch = _dark_lips_patch(img, lm)
    dark = {12, 13, 14}
    for i in range(n):
        s.add(i, img, patch if i in dark else None, 255.0, lm)
    q = quick_report_from_pixels(s, tr, n)
    s.close()
    assert "pixels" in q["measured_on"]
    f = q["figures"]
    assert f["face_found"]["value"] == 1.0
    flagged = {i for r in q["flagged_ranges"] if r["figure"] == "lip_shape_outside"
               for i in range(r["start"], r["end"] + 1)}
    assert dark & set(s.want) <= flagged and "lips darker" in str(q["flagged_ranges"])
    # the still portrait never opens on the "a": measured on its pixels, not on a target
    assert f["open_vowel_opening"]["value"] == 0.0 or f["mouth_aperture_range"]["verdict"] == "fail"


def test_the_actors_range_is_read_from_the_unsmoothed_points_as_lipflap_qc_reads_it(face):
    # The analysis' smoothing narrows the actor's range (a one-frame thin lip or dropped chin is
    # rounded off) while the re-tracked output is unsmoothed: the quick QC flagged frames the
    # yardstick and `lipflap qc` (which read the source's raw points) keep in range.
    from lipflap.face.geometry import eye_distance
    from lipflap.qc.shape import CHIN, range_points
    img, lm = face
    n = 30
    tr = _track(n)
    iod = eye_distance(lm)
    raws = []
    for i in range(n):
        r = lm.copy()
        r[CHIN, 1] += 0.004 * i * iod        # the raw chin drops up to 0.116 eye distances
        raws.append(range_points(r))                    # the run's few
    raws[5] = None                                      # none: the smoothed ones stand in
    runs = {}
    for name, raw in (("smoothed", None), ("raw", raws)):
        s = OutputSampler(tr, n, source_raw=raw)
        for i in range(n):
            s.add(i, img, None, 255.0, lm)
        runs[name] = quick_report_from_pixels(s, tr, n)["figures"]["lip_shape_outside"]
        s.close()
    lo_s, hi_s = runs["smoothed"]["source_range"]["jaw"]
    lo_r, hi_r = runs["raw"]["source_range"]["jaw"]
    assert hi_s - lo_s < 0.03                 # one still frame: the margins only
    assert hi_r - hi_s > 0.1 and abs(lo_r - lo_s) < 0.005
    # the other features are the same pixels and points
    for k in ("upper_lip", "lower_lip", "width", "lip_L", "lip_chroma"):
        assert runs["raw"]["source_range"][k] == pytest.approx(runs["smoothed"]["source_range"][k])


def test_the_shape_fraction_counts_each_re_tracked_frame_for_the_frames_it_stands_for(face):
    # The sample re-tracks every judged moment (a mouth at its extremes) but one frame in STRIDE
    # between them: counted one each, an outlier at a judged moment weighed as much as one that
    # stands for STRIDE frames, and the figure read off every frame's (the yardstick's, `lipflap
    # qc`'s) by 0.0049 on average over 37 hard-set renders; counted by the frames each stands for,
    # 0.0030 (docs/quality.md, 'The quick QC's actor range').
    from lipflap.qc.pixels import BETWEEN, JUDGED, frame_strata, timing_weights
    from lipflap.qc.shape import range_points
    img, lm = face
    n = 30
    tr = _track(n)
    strata = frame_strata(expected_from_track(tr, n), n)
    want = sample_frames(expected_from_track(tr, n), n)
    patch = _dark_lips_patch(img, lm)

    # the source's points spread as a speaking actor's do (a still frame's range is its margins
    # only, which a re-track's own jitter leaves)
    from lipflap.face.geometry import eye_distance
    rng = np.random.default_rng(7)
    raws = [range_points(lm + rng.normal(0.0, 0.02 * eye_distance(lm), lm.shape))
            for _ in range(n)]

    def measured(dark):
        s = OutputSampler(tr, n, source_raw=raws)
        for i in range(n):
            s.add(i, img, patch if i == dark else None, 255.0, lm)
        out = s.shape_outliers()
        s.close()
        assert out["frames_measured"] == len(want)
        return out
    base = measured(None)
    between = next(int(i) for i in want if strata[i] == BETWEEN and i not in base["frames"])
    judged = next(int(i) for i in want if strata[i] == JUDGED and i not in base["frames"])
    sampled = np.zeros(n, bool)
    sampled[want] = True
    w = timing_weights(strata, sampled)
    rise = {}
    for dark in (between, judged):
        out = measured(dark)
        assert set(out["frames"]) == set(base["frames"]) | {dark}
        rise[dark] = out["fraction"] - base["fraction"]
    assert rise[between] == pytest.approx(w[between] / w[want].sum())
    assert rise[judged] == pytest.approx(1.0 / w[want].sum())
    assert rise[between] > 2 * rise[judged]


def test_a_mesh_made_beforehand_re_tracks_the_same_and_its_failure_is_told(face):
    from lipflap.qc.pixels import WarmMesh
    img, lm = face
    n = 30
    tr = _track(n)
    patch = _dark_lips_patch(img, lm)
    runs = []
    for mesh in (None, WarmMesh()):
        s = OutputSampler(tr, n, mesh=mesh)
        for i in range(n):
            s.add(i, img, patch if i in (12, 13, 14) else None, 255.0, lm)
        q = quick_report_from_pixels(s, tr, n)
        runs.append((s.landmarks(), q["figures"], q["flagged_ranges"]))
        s.close()
        assert s.error is None and s.tracked == len(s.want)
    (lm_a, fig_a, fl_a), (lm_b, fig_b, fl_b) = runs
    assert all((a is None and b is None) or np.array_equal(a, b) for a, b in zip(lm_a, lm_b))
    assert fig_a == fig_b and fl_a == fl_b

    class Broken(WarmMesh):
        def __init__(self):
            from concurrent.futures import Future
            self._made = Future()
            self._made.set_exception(RuntimeError("no graph"))
    s = OutputSampler(tr, n, mesh=Broken())
    for i in range(n):
        s.add(i, img, None, 255.0, lm)
    s.close()
    assert s.error == "RuntimeError: no graph (frame 0)"
    with pytest.raises(RuntimeError, match="no graph"):
        quick_report_from_pixels(s, tr, n)


def test_held_back_re_tracks_give_what_re_tracking_at_once_gives(face):
    """The re-tracks held back to the render's end (DEFER_BYTES) re-track the same crops in the
    same order: the same landmarks, lip features, figures and flags as frame by frame; they run
    on the tail's own thread once released, and never hold more than the budget."""
    import threading
    img, lm = face
    n = 30
    tr = _track(n)
    patch = _dark_lips_patch(img, lm)
    runs, most_held = [], {}
    for budget in (0, 2 << 20, 64 << 20):
        s = OutputSampler(tr, n, defer_bytes=budget)
        tail = []
        s._retrack = (lambda f: lambda held: (tail.append(threading.current_thread().name),
                                              f(held)))(s._retrack)
        held = []
        for i in range(n):
            s.add(i, img, patch if i in (12, 13, 14) else None, 255.0, lm)
            held.append(s._held_bytes)
        most_held[budget] = max(held)
        s.release()
        q = quick_report_from_pixels(s, tr, n)
        runs.append((s.landmarks(), s.out_feat, q["figures"], q["flagged_ranges"], tail))
        assert s.error is None and s.tracked == len(s.want)
        s.close()
    base = runs[0]
    for lms, feat, fig, flagged, _ in runs[1:]:
        assert all((a is None and b is None) or np.array_equal(a, b) for a, b in zip(base[0], lms))
        assert feat.keys() == base[1].keys()
        assert all(np.array_equal(feat[i], base[1][i]) for i in feat)
        assert fig == base[2] and flagged == base[3]
    assert most_held[0] == 0 and 0 < most_held[2 << 20] <= 2 << 20
    assert "lipflap-qc-tail" not in runs[0][4]
    # everything held to the end is re-tracked on the tail's thread
    assert set(runs[2][4]) == {"lipflap-qc-tail"} and len(runs[2][4]) == len(s.want)


def test_quick_sharpness_is_read_on_every_frame_not_the_re_tracked_sample(face):
    # A mouth blurred on the frames the sample skips must move the figure: the yardstick and
    # `lipflap qc` take the median over every frame (a smiling speaker's closed mouths, left out
    # of the sample, read 0.96 on it against 0.90 on every frame).
    import cv2
    from lipflap.qc.shape import LIPS_OUTER
    from lipflap.mouth.build import track_from_phones
    img, lm = face
    n = 60
    # a long consonant: between the judged moments only every STRIDE-th frame is re-tracked
    tr = track_from_phones([Phone("_", 0.0, 0.2), Phone("m", 0.2, 0.3), Phone("a", 0.3, 0.5),
                            Phone("t", 0.5, 2.2), Phone("_", 2.2, n / 25)], 25, n)
    s = OutputSampler(tr, n)
    pts = lm[list(LIPS_OUTER)]
    x0, y0 = np.floor(pts.min(0)).astype(int) - 20
    x1, y1 = np.ceil(pts.max(0)).astype(int) + 20
    blurred = cv2.GaussianBlur(img[y0:y1, x0:x1].astype(np.float32), (0, 0), 3.0)
    patch = Patch(int(x0), int(y0), blurred, np.ones((y1 - y0, x1 - x0), np.float32))
    skipped = [i for i in range(n) if i not in s.want]
    assert len(skipped) > n / 2                      # most frames are not re-tracked
    for i in range(n):
        s.add(i, img, patch if i in skipped else None, 255.0, lm)
    fid = s.fidelity()
    s.close()
    assert s.error is None
    assert fid["sharpness_frames"] == n
    assert fid["sharpness_ratio"] < 0.5              # the blurred majority, not the sharp sample


def test_quick_sharpness_is_read_on_the_clips_box_as_lipflap_qc_reads_it(face):
    # With the clip's box (regions.clip_mouth_box, as `lipflap qc` and the yardstick use) the
    # quick QC reads sharpness there, not on a box following the lips: a blur in the clip's box
    # but outside the lips' own box moves the figure only on the clip's box (a held-out clip's
    # output read 0.957 on the following box against 0.941 in `lipflap qc`).
    import cv2
    from lipflap.qc import regions
    from lipflap.qc.fidelity import sharpness_ratio
    img, lm = face
    n = 8
    tr = _track(n)
    shape = img.shape[:2]
    own = regions.mouth_box(lm, regions.mouth_box_size(lm), shape)
    # the lips moving down the frame over the clip: the clip's box is the union, taller
    moved = [lm + [0.0, 3.0 * k] for k in range(n)]
    clip = regions.clip_mouth_box(moved, shape)
    assert clip[3] > own[3] + 10
    # blur only the clip box's rows below the first frame's own box
    y0, y1, x0, x1 = own[3], clip[3], clip[0], clip[2]
    blurred = cv2.GaussianBlur(img[y0:y1, x0:x1].astype(np.float32), (0, 0), 4.0)
    patch = Patch(int(x0), int(y0), blurred, np.ones((y1 - y0, x1 - x0), np.float32))
    out = img.copy()
    out[y0:y1, x0:x1] = np.rint(blurred).astype(np.uint8)
    want = sharpness_ratio(out[clip[1]:clip[3], clip[0]:clip[2]], img[clip[1]:clip[3], clip[0]:clip[2]])
    got = {}
    for name, box in (("following", None), ("clip", clip)):
        s = OutputSampler(tr, n, mouth_box=box, defer_bytes=0)
        for i in range(n):
            s.add(i, img, patch, 255.0, lm)
        got[name] = s.fidelity()["sharpness_ratio"]
        s.close()
    assert got["clip"] == pytest.approx(want, abs=0.01)
    assert got["clip"] < 0.95 < got["following"]


def test_quick_sharpness_takes_the_codecs_own_loss_from_its_bands(face):
    # The figure is read before encoding; with a roundtrip it is scaled by the codec's loss on
    # CODEC_FRAMES of the frames, each coded as a band of the frame's full width over whole
    # macroblock rows round the box (held-out ve_hood, ve_sticker: 0.991 and 0.978 before the
    # codec, 0.943 and 0.950 in `lipflap qc`; with the band's loss the run read 0.947 on ve_sticker)
    import cv2
    from lipflap.qc import pixels
    img, lm = face
    n = 12
    tr = _track(n)
    seen = []

    def soften(bands):
        seen.append([b.shape for b in bands])
        return [cv2.GaussianBlur(b, (0, 0), 0.8) for b in bands]
    base = OutputSampler(tr, n, defer_bytes=0)
    coded = OutputSampler(tr, n, defer_bytes=0, roundtrip=soften)
    for s in (base, coded):
        for i in range(n):
            s.add(i, img, None, 255.0, lm)
    before, after = base.fidelity(), coded.fidelity()
    for s in (base, coded):
        s.close()
    assert before["sharpness_ratio"] == pytest.approx(1.0) and "codec_factor" not in before
    assert len(seen) == 1 and len(seen[0]) == pixels.CODEC_FRAMES
    h, w = img.shape[:2]
    for bh, bw, _ in seen[0]:                      # the frame's full width, whole rows
        assert bw == w and bh % pixels.CODEC_ROWS == 0
    assert after["sharpness_before_codec"] == pytest.approx(1.0)
    assert 0.2 < after["codec_factor"] < 0.9
    assert after["sharpness_ratio"] == pytest.approx(after["codec_factor"])
    assert after["codec_frames"] == pixels.CODEC_FRAMES


def test_the_codecs_loss_is_read_inside_the_shot_not_at_its_ends(face):
    # held-out ve_hood and vy_glasses: the shot's first and last frames (the last in the rest
    # after the dub) lost 0.013-0.026 to the codec, the redrawn frames between 0.02-0.05; two of
    # five at the ends read the figure 0.948 / 0.949 against `lipflap qc`'s 0.943 / 0.933
    from lipflap.qc import pixels
    assert pixels.codec_frames(150) == [15, 45, 75, 105, 135]
    img, lm = face
    n = 20
    coded = []

    def keep(bands):
        coded.extend(bands)
        return bands
    s = OutputSampler(_track(n), n, defer_bytes=0, roundtrip=keep)
    for i in range(n):
        tagged = img.copy()
        tagged[:, 0] = i            # each frame told apart by its first column (bands are full width)
        s.add(i, tagged, None, 255.0, lm)
    s.fidelity()
    s.close()
    levels = sorted(int(b[0, 0, 0]) for b in coded)
    assert levels == pixels.codec_frames(n) and 0 not in levels and n - 1 not in levels


def test_quick_sharpness_keeps_its_figure_when_the_codec_cannot_be_measured(face):
    from lipflap.qc.measure import QUICK_SHARPNESS_READ_ON, fidelity_figures
    img, lm = face
    n = 6

    def broken(bands):
        raise ValueError("no encoder")
    s = OutputSampler(_track(n), n, defer_bytes=0, roundtrip=broken)
    for i in range(n):
        s.add(i, img, None, 255.0, lm)
    fid = s.fidelity()
    s.close()
    assert fid["sharpness_ratio"] == pytest.approx(1.0) and "no encoder" in fid["codec_error"]
    fig = fidelity_figures(fid)["mouth_sharpness_ratio"]
    assert fig["read_on"].startswith(QUICK_SHARPNESS_READ_ON) and "no encoder" in fig["read_on"]


def test_the_codecs_loss_is_measured_on_the_tail_thread_beside_the_signing(face):
    # ~0.13 s of wall on the bench's 1080p frames: run beside the output's signing, where one
    # core is idle, not after it on the run's own path
    import threading
    img, lm = face
    n = 6
    names = []

    def keep(bands):
        names.append(threading.current_thread().name)
        return bands
    s = OutputSampler(_track(n), n, roundtrip=keep)
    for i in range(n):
        s.add(i, img, None, 255.0, lm)
    s.release()
    fid = s.fidelity()
    s.close()
    assert names == ["lipflap-qc-tail"]
    assert fid["codec_factor"] == pytest.approx(1.0)
