"""Speed-only changes give the same results: the tracking pass's early look (cut signatures,
scheduled face detections) in the decoding thread."""
from __future__ import annotations

import threading

import numpy as np

from lipflap.media.prefetch import prefetched


class _Fr:
    def __init__(self, i, img, fps=25):
        self.index, self.image, self.time_s = i, img, i / fps


def test_prepare_runs_in_the_decoding_thread_and_pairs_each_frame():
    names = []

    def prepare(x):
        names.append(threading.current_thread().name)
        return x * 10
    got = list(prefetched(iter(range(6)), rgb=False, prepare=prepare))
    assert got == [(i, i * 10) for i in range(6)]
    assert set(names) == {"lipflap-decode"}


def test_tracking_ahead_gives_the_inline_result():
    """Black frames and a hard cut (the cut's detection is off the early look's schedule), and
    the scheduled looks at 0 and 30: the same landmarks, cuts and detections either way."""
    from test_face_media import moving_frames
    from lipflap.face.analyze import track_frames
    frames, _ = moving_frames()
    inline = track_frames([_Fr(i, f) for i, f in enumerate(frames)], len(frames))
    ahead = track_frames([_Fr(i, f) for i, f in enumerate(frames)], len(frames), ahead=True)
    assert inline.cuts == ahead.cuts and inline.cuts
    assert inline.blank == ahead.blank and any(inline.blank)
    assert inline.detections_run == ahead.detections_run
    assert sorted(inline.obs) == sorted(ahead.obs)
    for tid in inline.obs:
        assert sorted(inline.obs[tid]) == sorted(ahead.obs[tid])
        for i, o in inline.obs[tid].items():
            assert np.array_equal(o.lm, ahead.obs[tid][i].lm), (tid, i)


def _triangle_maps_before(dst_pts, src_pts, tris, x0, y0, w, h):
    """geometry.triangle_maps as it was before the speed change (int32 raster, float dilation,
    fancy-indexed gathers): the reference the fast one must equal."""
    import cv2
    from lipflap.render.geometry import _affine_from_triangles
    idx = np.full((h, w), -1, np.int32)
    d = dst_pts - np.array([x0, y0])
    areas = np.abs(np.cross(d[tris[:, 1]] - d[tris[:, 0]], d[tris[:, 2]] - d[tris[:, 0]]))
    edges = np.stack([np.linalg.norm(d[tris[:, a]] - d[tris[:, b]], axis=1)
                      for a, b in ((0, 1), (1, 2), (2, 0))], 1).max(1)
    areas = np.where(areas / np.maximum(edges, 1e-6) < 0.6, 0.0, areas)
    polys = np.round(d[tris] * 16).astype(np.int32)
    for k in np.argsort(-areas):
        if areas[k] >= 1e-3:
            cv2.fillConvexPoly(idx, polys[k], int(k), lineType=cv2.LINE_8, shift=4)
    mats = _affine_from_triangles(d[tris], src_pts[tris], areas >= 1e-3)
    for _ in range(2):
        holes = idx < 0
        if not holes.any():
            break
        grown = cv2.dilate(idx.astype(np.float32), np.ones((3, 3), np.uint8)).astype(np.int32)
        idx = np.where(holes, grown, idx)
    covered = idx >= 0
    safe = np.where(covered, idx, 0)
    xx = np.arange(w, dtype=np.float32)[None, :]
    yy = np.arange(h, dtype=np.float32)[:, None]
    c = mats.reshape(len(tris), 6).astype(np.float32).T
    return (c[0][safe] * xx + c[1][safe] * yy + c[2][safe],
            c[3][safe] * xx + c[4][safe] * yy + c[5][safe], covered, safe)


def test_triangle_maps_equal_the_implementation_before():
    """A jittered grid mesh with a sliver (a closing lip) and a folded triangle, partly outside
    the box: the same maps, coverage and triangle ids, bit for bit."""
    from scipy.spatial import Delaunay
    from lipflap.render.geometry import triangle_maps
    rng = np.random.default_rng(3)
    gx, gy = np.meshgrid(np.linspace(-10, 170, 10), np.linspace(-5, 125, 8))
    dst = np.stack([gx.ravel(), gy.ravel()], 1) + rng.normal(0, 3, (80, 2))
    tris = Delaunay(dst).simplices.astype(np.int32)
    dst[41] = dst[40] + [0.3, 0.2]           # a sliver: left to a neighbour's map
    src = dst * 1.1 + rng.normal(0, 2, dst.shape) + [30, 12]
    for box in ((0, 0, 160, 120), (20, 15, 61, 47)):
        want = _triangle_maps_before(dst, src, tris, *box)
        got = triangle_maps(dst, src, tris, *box, with_index=True)
        for a, b in zip(want, got):
            assert a.dtype == b.dtype and np.array_equal(a, b)
        assert got[2].mean() > 0.5


class _Rec:
    def __init__(self):
        self.calls = []

    def start(self, stage, total):
        self.calls.append(("start", stage, total))

    def set(self, done):
        self.calls.append(("set", done))

    def message(self, text):
        self.calls.append(("message", text))


def test_beside_runs_in_a_thread_and_replays_its_progress_after():
    from lipflap.pipeline.beside import Beside
    seen = {}

    def stage(a, b, progress):
        seen["thread"] = threading.current_thread().name
        progress.start("mouth track", 1)
        progress.message("note")
        progress.set(1)
        return a + b
    rec = _Rec()
    job = Beside(stage, 2, 3)
    rec.start("analyze", 10)              # the stage in front reports while the other runs
    assert job.result(rec) == 5
    assert seen["thread"] == "lipflap-beside"
    assert rec.calls == [("start", "analyze", 10), ("start", "mouth track", 1),
                         ("message", "note"), ("set", 1)]


def test_beside_raises_its_error_in_the_caller():
    import pytest
    from lipflap.contract.errors import LipflapError
    from lipflap.pipeline.beside import Beside

    def stage(progress):
        progress.start("mouth track", 1)
        raise LipflapError("dub.wav: bad.")
    rec = _Rec()
    with pytest.raises(LipflapError, match="bad"):
        Beside(stage).result(rec)
    assert rec.calls == [("start", "mouth track", 1)]


def test_behind_runs_every_call_in_order_in_its_thread_and_bounds_the_queue():
    import time
    from lipflap.pipeline.beside import Behind
    got, names, ahead = [], set(), []

    def slow(i, x):
        time.sleep(0.005)
        names.add(threading.current_thread().name)
        got.append((i, x))
    b = Behind(slow, depth=2, name="lipflap-keep")
    for i in range(12):
        b(i, i * i)
        ahead.append(i + 1 - len(got))     # calls made and not yet run
    b.close()
    assert got == [(i, i * i) for i in range(12)] and names == {"lipflap-keep"}
    assert max(ahead) <= 2 + 1, "the caller waits when it is `depth` calls ahead (one running)"
    b.close()                              # twice is harmless


def test_behind_raises_its_error_in_the_caller_and_stops():
    import pytest
    from lipflap.pipeline.beside import Behind
    ran = []

    def fn(i):
        ran.append(i)
        if i == 1:
            raise ValueError("frame 1 bad")
    b = Behind(fn)
    b(0)
    b(1)
    with pytest.raises(ValueError, match="frame 1"):
        for i in range(2, 50):
            b(i)
        b.close()
    b.close()
    assert ran[:2] == [0, 1] and len(ran) == 2, "nothing runs after the error"
    q = Behind(fn)
    q(1)
    q.close(quiet=True)                    # the caller is failing for another reason


def test_run_keeps_faces_and_looks_behind_the_tracker_with_the_inline_result(tmp_path, monkeypatch):
    """run_job hands each analysed frame to the kept faces and the still looks in the keep thread;
    they hold what the same hooks hold when called inline in the pass."""
    import lipflap.pipeline.run as run_mod
    from lipflap.contract.jobspec import parse_job
    from lipflap.contract.progress import Progress
    from lipflap.media.encode import VideoWriter
    from lipflap.pipeline import run_job
    from lipflap.pipeline.analysis import analyse
    from lipflap.pipeline.inputs import resolve_inputs
    from lipflap.pipeline.kept import LowerFaces
    from lipflap.render.seen import PassLooks
    from lipflap.render import seen
    from test_run_contracts import FPS, _astronaut_frames
    monkeypatch.setattr(seen, "LOOK_BELOW", 1.0)      # every frame is looked at
    monkeypatch.setenv("LIPFLAP_CACHE", str(tmp_path / "cache"))
    face = str(tmp_path / "astro.mov")
    with VideoWriter(face, codec="h264", fps=FPS, width=320, height=320) as w:
        for k, img in enumerate(_astronaut_frames()):
            w.write(img)
    job = parse_job({"video": face, "audio": None, "output": str(tmp_path / "o.mov"),
                     "shapes": _closed_shapes(tmp_path), "credentials": False})
    kept, looks = LowerFaces(), PassLooks()
    inline, _ = analyse(job, resolve_inputs(job), Progress("none"),
                     keep=lambda fr, obs: (kept(fr, obs), looks(fr, obs)),
                     seen=lambda: looks.openings)
    looks.close()
    threads, held = set(), {}

    class Kept(LowerFaces):
        def __call__(self, fr, obs):
            threads.add(threading.current_thread().name)
            super().__call__(fr, obs)

    def spy(*a, **k):
        held["boxes"] = {i: [np.array(c) for _, _, c in k["kept"].frame(i)._boxes]
                         for i in k["kept"].boxes}
        held["seen"] = k["seen"]
        raise _Stop
    monkeypatch.setattr(run_mod, "LowerFaces", Kept)
    monkeypatch.setattr(run_mod, "build_libraries", spy)
    monkeypatch.setenv("LIPFLAP_CACHE", str(tmp_path / "cache2"))
    import pytest
    with pytest.raises(_Stop):
        run_job(job, Progress("none"))
    assert threads == {"lipflap-keep"}
    assert sorted(held["boxes"]) == sorted(kept.boxes) and held["boxes"]
    for i, boxes in held["boxes"].items():
        assert all(np.array_equal(a, b[2]) for a, b in zip(boxes, kept.boxes[i]))
    assert np.isfinite(held["seen"]).any()
    np.testing.assert_array_equal(held["seen"], inline.seen_array())
    kept.clear()


class _Stop(Exception):
    pass


def _closed_shapes(tmp_path):
    import json
    from test_run_contracts import FPS, N
    path = str(tmp_path / "closed.json")
    frames = [{"frame": i, "time": i / FPS, "viseme": "sil", "shape": "X", "aperture": 0.0,
               "width": 0.5, "rounding": 0.0, "jaw": 0.0} for i in range(N)]
    with open(path, "w") as f:
        json.dump({"fps": FPS, "frames": frames}, f)
    return path


def test_mediapipe_imported_without_its_unused_modules_which_still_work_when_used():
    """In a fresh process (this one may have imported MediaPipe already): after the lean import
    neither matplotlib nor sounddevice was loaded, Face Mesh is there, and MediaPipe's drawing
    helper still reaches the real pyplot on first use."""
    import subprocess
    import sys
    code = ("import sys\n"
            "from lipflap.face.lean_import import import_mediapipe\n"
            "mp = import_mediapipe()\n"
            "assert mp.solutions.face_mesh.FaceMesh and mp.solutions.face_detection\n"
            "assert not any(m.split('.')[0] in ('matplotlib', 'sounddevice')\n"
            "               for m in sys.modules)\n"
            "from mediapipe.python.solutions import drawing_utils as du\n"
            "assert du.plt.figure.__module__ == 'matplotlib.pyplot'\n"
            "import matplotlib.pyplot, matplotlib\n"
            "assert matplotlib.pyplot.plot is du.plt.plot\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]


def test_blur_over_the_masks_support_equals_the_whole_blur():
    """Masks touching the border or not, empty, nearly full, and sigmas either side of the
    reduced-image threshold: under it the same values as one Gaussian (synth._gauss) over the whole image;
    over it (worked out on a reduced image, tenth round) within 0.05 of a mask's step, at the
    image's edges too (0.038 seen, at sigma 2.5)."""
    import cv2
    from lipflap.render.mask import REDUCED_SIGMA
    from lipflap.render.synth import _blur, _gauss
    rng = np.random.default_rng(5)
    cases = []
    for k in range(80):
        h, w = (int(v) for v in rng.integers(60, 260, 2))
        m = np.zeros((h, w), np.float32)
        y0, x0 = int(rng.integers(0, h - 10)), int(rng.integers(0, w - 10))
        y1, x1 = y0 + int(rng.integers(3, h - y0)), x0 + int(rng.integers(3, w - x0))
        m[y0:y1, x0:x1] = (rng.random((y1 - y0, x1 - x0)) > 0.4) if k % 2 else 1.0
        cases.append((m, float(rng.uniform(0.5, 12.0))))
    cases += [(np.zeros((50, 70), np.float32), 2.0), (np.ones((50, 70), np.float32), 3.0),
              (np.zeros((51, 71), np.float32), 6.0), (np.ones((51, 71), np.float32), 6.0)]
    for m, sigma in cases:
        want = _gauss(m, sigma, cv2.BORDER_REFLECT)
        got = _blur(m, sigma)
        assert got.dtype == want.dtype and got.shape == want.shape
        if sigma < REDUCED_SIGMA:
            assert np.array_equal(got, want)
        else:
            assert np.abs(got - want).max() < 0.05, (sigma, np.abs(got - want).max())
            assert got.flags.c_contiguous


class _Obs:
    def __init__(self, lm):
        self.lm3 = np.concatenate([lm, np.zeros((len(lm), 1))], 1)


def _face(cx, cy, r):
    a = np.linspace(0, 2 * np.pi, 40)
    return np.stack([cx + r * np.cos(a), cy + r * 1.2 * np.sin(a)], 1)


def test_kept_boxes_serve_contained_regions_and_refuse_others():
    import pytest
    from lipflap.pipeline.kept import LowerFaces, NotKept, keep_box
    img = np.arange(240 * 320 * 3, dtype=np.uint32).reshape(240, 320, 3).astype(np.uint16)
    keep = LowerFaces()
    keep(_Fr(7, img), {0: _Obs(_face(160, 110, 50))})
    keep(_Fr(8, img[::-1].copy()), {0: _Obs(_face(150, 100, 40)), 1: _Obs(_face(60, 60, 20))})
    assert keep.usable and keep.held
    x0, y0, x1, y1 = keep_box(_face(160, 110, 50), 320, 240)
    fr = keep.frame(7)
    assert fr.size == (320, 240)
    assert np.array_equal(fr.region(x0 + 3, y0 + 2, 20, 10), img[y0 + 2:y0 + 12, x0 + 3:x0 + 23])
    a0, b0, _, _ = keep_box(_face(60, 60, 20), 320, 240)
    assert np.array_equal(keep.frame(8).region(a0, b0, 4, 4), img[::-1][b0:b0 + 4, a0:a0 + 4])
    with pytest.raises(NotKept):
        fr.region(0, 0, 10, 10)                 # above the lower face
    with pytest.raises(NotKept):
        keep.frame(9).region(x0, y0, 5, 5)      # a frame the pass did not keep
    keep.release(7)
    with pytest.raises(NotKept):
        keep.frame(7).region(x0 + 3, y0 + 2, 20, 10)
    keep.clear()
    assert not keep.held and keep.boxes == {}


def test_over_budget_gives_the_block_back_and_keeps_nothing():
    from lipflap.pipeline.kept import LowerFaces
    img = np.zeros((240, 320, 3), np.uint8)
    keep = LowerFaces(budget=60_000)
    for i in range(10):
        keep(_Fr(i, img), {0: _Obs(_face(160, 110, 50))})
    assert keep.over and not keep.usable and keep.boxes == {} and not keep.held


def _picture_md5(path):
    import hashlib
    import av
    h = hashlib.md5()
    with av.open(str(path)) as c:
        for f in c.decode(video=0):
            for p in f.planes:
                h.update(bytes(p))
    return h.hexdigest()


def test_library_from_kept_faces_renders_what_the_second_decode_renders(tmp_path, monkeypatch):
    """The same picture whether the library reads the kept lower faces or decodes again."""
    import json
    import lipflap.pipeline.run as run_mod
    from lipflap.contract.jobspec import parse_job
    from lipflap.contract.progress import Progress
    from lipflap.media.encode import VideoWriter
    from lipflap.pipeline import run_job
    from lipflap.pipeline.kept import LowerFaces
    from test_run_contracts import FPS, N, _astronaut_frames
    monkeypatch.setenv("LIPFLAP_CACHE", str(tmp_path / "cache"))
    face = str(tmp_path / "astro.mov")
    with VideoWriter(face, codec="h264", fps=FPS, width=320, height=320) as w:
        for img in _astronaut_frames():
            w.write(img)
    shapes = str(tmp_path / "open.json")
    frames = [{"frame": i, "time": i / FPS, "viseme": "aa", "shape": "D",
               "aperture": 0.8 * (i % 4 < 2), "width": 0.5, "rounding": 0.0, "jaw": 0.3}
              for i in range(N)]
    with open(shapes, "w") as f:
        json.dump({"fps": FPS, "frames": frames}, f)
    fed = {}
    real = run_mod.build_libraries

    def spy(*a, **k):
        fed["usable"] = k["kept"].usable
        return real(*a, **k)
    monkeypatch.setattr(run_mod, "build_libraries", spy)
    outs = {}
    for name, budget in (("kept", None), ("decoded", 0)):
        if budget is not None:
            monkeypatch.setattr(run_mod, "LowerFaces", lambda: LowerFaces(budget=budget))
        out = tmp_path / f"{name}.mov"
        job = parse_job({"video": face, "shapes": shapes, "output": str(out),
                         "credentials": False})
        rep = run_job(job, Progress("none"))
        assert rep["frames_rendered"] > 0
        outs[name] = (_picture_md5(out), fed["usable"])
        monkeypatch.setenv("LIPFLAP_CACHE", str(tmp_path / f"cache_{name}"))
    assert outs["kept"][1] is True and outs["decoded"][1] is False
    assert outs["kept"][0] == outs["decoded"][0]



def test_stderr_silenced_from_overlapping_threads_comes_back():
    """The still looks run behind the tracker, and both may start a Face Mesh (fd 2 silenced)
    at once: interleaved as A in, B in, A out, B out, fd 2 is silenced throughout and is the
    original file again at the end (each saving and restoring its own, B restored A's
    /dev/null for good and the hosts' error sentences were lost)."""
    import os
    from lipflap.face.mesh import native_stderr_silenced
    before = os.fstat(2)
    a_in, b_in, a_out = threading.Event(), threading.Event(), threading.Event()
    seen = {}

    def a():
        with native_stderr_silenced():
            a_in.set()
            b_in.wait(5)
        a_out.set()

    def b():
        a_in.wait(5)
        with native_stderr_silenced():
            b_in.set()
            a_out.wait(5)
            seen["null_after_a"] = os.fstat(2).st_rdev == os.stat(os.devnull).st_rdev
    ts = [threading.Thread(target=a), threading.Thread(target=b)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    after = os.fstat(2)
    assert seen["null_after_a"], "still silenced while B runs"
    assert (after.st_dev, after.st_ino, after.st_rdev) == (before.st_dev, before.st_ino, before.st_rdev)


def test_signer_made_beside_the_probe_still_fails_before_the_analysis(tmp_path, monkeypatch):
    """The job's signer is made in a thread while the inputs are probed: a bad key still stops
    the run before any frame is analysed, an input's error is still the one told first, and a
    good job signs with what that thread made."""
    import pytest
    import lipflap.pipeline.run as run_mod
    from lipflap.contract.errors import LipflapError
    from lipflap.contract.jobspec import parse_job
    from lipflap.contract.progress import Progress
    from lipflap.media.encode import VideoWriter
    from lipflap.pipeline import run_job
    from lipflap.provenance.identity import CredentialError
    from test_run_contracts import FPS, _astronaut_frames
    monkeypatch.setenv("LIPFLAP_CACHE", str(tmp_path / "cache"))
    face = str(tmp_path / "astro.mov")
    with VideoWriter(face, codec="h264", fps=FPS, width=320, height=320) as w:
        for img in _astronaut_frames():
            w.write(img)
    made = []

    def analysed(*a, **k):
        made.append(threading.current_thread().name)
        raise _Stop
    monkeypatch.setattr(run_mod, "analyse", analysed)
    real = run_mod._signing

    def signing(job, progress):
        made.append(threading.current_thread().name)
        return real(job, progress)
    monkeypatch.setattr(run_mod, "_signing", signing)
    half = {"video": face, "output": str(tmp_path / "o.mov"), "shapes": _closed_shapes(tmp_path),
            "sign_cert": str(tmp_path / "no.pem"), "sign_key": str(tmp_path / "no.key")}
    with pytest.raises(CredentialError, match="no.pem"):
        run_job(parse_job(half), Progress("none"))
    assert made == ["lipflap-beside"]           # made beside; the analysis never started
    with pytest.raises(LipflapError) as e:
        run_job(parse_job(dict(half, video=str(tmp_path / "missing.mov"))), Progress("none"))
    assert not isinstance(e.value, CredentialError) and "missing.mov" in str(e.value)
    made.clear()
    with pytest.raises(_Stop):
        run_job(parse_job({k: v for k, v in half.items() if not k.startswith("sign_")}),
                Progress("none"))
    assert made == ["lipflap-beside", "MainThread"]


def test_the_dub_waits_for_the_mediapipe_import_to_finish(monkeypatch):
    # Both are mostly Python under one GIL; the analysis' first frame waits for MediaPipe's.
    import time
    from lipflap.pipeline import run as run_mod
    done = threading.Event()

    def warm():
        time.sleep(0.2)
        done.set()
    seen = []
    monkeypatch.setattr(run_mod, "mouth_shapes", lambda *a, **k: seen.append(done.is_set()) or "m")
    monkeypatch.setattr(run_mod, "PLAN_IMPORTS", ())
    t = threading.Thread(target=warm)
    t.start()
    assert run_mod._mouth_then_imports(None, None, None, t, progress=None) == "m"
    assert seen == [True]


_FIRST_LAB = r"""
import sys, time
import numpy as np, cv2
if sys.argv[1] == "warm":
    from lipflap.pipeline.run import _warm_up
    _warm_up()
else:
    import lipflap.pipeline.run
t = time.perf_counter()
cv2.cvtColor(np.zeros((8, 8, 3), np.uint8), cv2.COLOR_RGB2LAB)
print(time.perf_counter() - t)
"""


def test_warm_up_builds_opencvs_lab_tables_off_the_analysis():
    # OpenCV builds its 8-bit Lab tables on first use (~89 ms here); the run's warm thread does
    # it while the inputs are probed, so the analysis' quality scores find them made.
    import subprocess
    import sys

    def first_lab(mode):
        out = subprocess.run([sys.executable, "-c", _FIRST_LAB, mode], capture_output=True,
                             text=True, timeout=120, check=True)
        return float(out.stdout.strip().splitlines()[-1])
    cold, warm = first_lab("cold"), first_lab("warm")
    assert warm * 4 < cold, (warm, cold)


def test_the_first_face_mesh_made_ahead_tracks_as_one_made_in_place(monkeypatch):
    from test_face_media import moving_frames
    from lipflap.face import mesh as mesh_mod
    from lipflap.face import track as track_mod
    frames, _ = moving_frames()
    made_on, closed = [], []
    real_init, real_close = mesh_mod.CropMesh.__init__, mesh_mod.CropMesh.close

    def init(self, *a, **k):
        made_on.append(threading.current_thread().name)
        real_init(self, *a, **k)

    def close(self):
        closed.append(threading.current_thread().name)
        real_close(self)
    monkeypatch.setattr(mesh_mod.CropMesh, "__init__", init)
    monkeypatch.setattr(mesh_mod.CropMesh, "close", close)

    def landmarks(ahead):
        tr = track_mod.FaceTracker(mesh_ahead=ahead)
        out = [{k: o.lm3.copy() for k, o in tr.step(i, f, force_detect=i == 0).items()}
               for i, f in enumerate(frames[:12])]
        tr.close()
        return out
    inplace = landmarks(False)
    assert "lipflap-mesh-ahead" not in made_on
    made_on.clear()
    ahead = landmarks(True)
    assert made_on[0] == "lipflap-mesh-ahead" and made_on.count("lipflap-mesh-ahead") == 1
    assert [sorted(a) for a in inplace] == [sorted(b) for b in ahead] and any(inplace)
    for a, b in zip(inplace, ahead):
        for k in a:
            assert np.array_equal(a[k], b[k])
    # a tracker that never sees a face closes the mesh it made ahead
    closed.clear()
    tr = track_mod.FaceTracker(mesh_ahead=True)
    tr.close()
    assert len(closed) == 1
