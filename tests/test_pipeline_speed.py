"""Speed-only changes give the same results: the tracking pass's early look in the decoding thread,
and the library cut from the analysis pass's kept lower faces instead of a second decode."""
from __future__ import annotations

import hashlib
import json
import threading

import av
import numpy as np
import pytest

from lipflap.media.prefetch import prefetched
from lipflap.pipeline.kept import KeptFrame, LowerFaces, NotKept, keep_box


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


class _Obs:
    def __init__(self, lm):
        self.lm3 = np.concatenate([lm, np.zeros((len(lm), 1))], 1)


def _face(cx, cy, r):
    a = np.linspace(0, 2 * np.pi, 40)
    return np.stack([cx + r * np.cos(a), cy + r * 1.2 * np.sin(a)], 1)


def test_kept_boxes_serve_contained_regions_and_refuse_others():
    img = np.arange(240 * 320 * 3, dtype=np.uint32).reshape(240, 320, 3).astype(np.uint16)
    keep = LowerFaces()
    keep(_Fr(7, img), {0: _Obs(_face(160, 110, 50))})
    assert keep.usable
    x0, y0, x1, y1 = keep_box(_face(160, 110, 50), 320, 240)
    fr = keep.frame(7)
    assert fr.size == (320, 240)
    assert np.array_equal(fr.region(x0 + 3, y0 + 2, 20, 10), img[y0 + 2:y0 + 12, x0 + 3:x0 + 23])
    with pytest.raises(NotKept):
        fr.region(0, 0, 10, 10)                 # above the lower face
    with pytest.raises(NotKept):
        keep.frame(8).region(x0, y0, 5, 5)      # a frame the pass did not keep


def test_over_budget_keeps_nothing():
    img = np.zeros((240, 320, 3), np.uint8)
    keep = LowerFaces(budget=60_000)
    for i in range(10):
        keep(_Fr(i, img), {0: _Obs(_face(160, 110, 50))})
    assert keep.over and not keep.usable and keep.boxes == {}


def _picture_md5(path):
    h = hashlib.md5()
    with av.open(str(path)) as c:
        for f in c.decode(video=0):
            for p in f.planes:
                h.update(bytes(p))
    return h.hexdigest()


def test_library_from_kept_faces_renders_what_the_second_decode_renders(tmp_path, monkeypatch):
    """The same picture whether the library reads the kept lower faces or decodes again."""
    import lipflap.pipeline.run as run_mod
    from lipflap.contract.jobspec import parse_job
    from lipflap.contract.progress import Progress
    from lipflap.media.encode import VideoWriter
    from lipflap.pipeline import run_job
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


def test_kept_frame_is_what_the_library_builder_reads():
    """LibraryBuilder.feed reads `size` and `region` of what it is given (a media Frame or this)."""
    fr = KeptFrame(3, (64, 48), [(0, 0, np.ones((48, 64, 3), np.uint8))])
    assert fr.size == (64, 48) and fr.region(1, 2, 3, 4).shape == (4, 3, 3)
