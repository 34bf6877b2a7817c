"""A cached face analysis is invisible (issue 15): the same job renders the same frames from the
same exemplars whether its analysis was made in the run or read from the cache. The still looks
(lipflap.render.seen) were taken from the raw track in the analysis pass of a fresh run and from
the smoothed one in the library's decode pass after a cached analysis: talk_b's cached render
differed from the fresh one in 29 of its 107 frames."""
from __future__ import annotations

import hashlib
import os
import json

import pytest

from test_run_contracts import FPS, N, _astronaut_frames


def _shapes(path, n: int, fps) -> str:
    """Closures and openings in turn: the closures are matched by the openings seen."""
    frames = [{"frame": i, "time": i / fps, "viseme": "PP" if i % 6 < 3 else "aa",
               "shape": "A" if i % 6 < 3 else "D", "aperture": 0.0 if i % 6 < 3 else 0.6,
               "width": 0.5, "rounding": 0.0, "jaw": 0.0 if i % 6 < 3 else 0.4}
              for i in range(n)]
    with open(path, "w") as f:
        json.dump({"fps": fps, "frames": frames}, f)
    return str(path)


def _frame_hashes(path) -> list[str]:
    import av
    with av.open(path) as c:
        return [hashlib.md5(fr.to_ndarray(format="rgb48le").tobytes()).hexdigest()
                for fr in c.decode(video=0)]


def _fresh_then_cached(tmp_path, monkeypatch, clip: str, job: dict):
    """The job run twice on one empty cache: per run the openings seen and exemplar path of
    each shot (as rechoose got and left them) and the output's frame hashes."""
    import lipflap.render.pipeline as rp
    from lipflap.contract.jobspec import parse_job
    from lipflap.contract.progress import Progress
    from lipflap.pipeline import run_job
    monkeypatch.setenv("LIPFLAP_CACHE", str(tmp_path / "cache"))
    chosen: list[list] = []
    real = rp.rechoose

    def spy(plan, scores, lib=None, peak=255.0, still=None, textures=None):
        real(plan, scores, lib, peak, still, textures)
        chosen[-1].append((dict(still or {}), plan.exemplar.tolist()))
    monkeypatch.setattr(rp, "rechoose", spy)
    outs = []
    for run in ("fresh", "cached"):
        chosen.append([])
        out = str(tmp_path / f"{run}.mov")
        run_job(parse_job(dict(job, video=clip, output=out, credentials=False)),
                Progress("none"))
        outs.append(_frame_hashes(out))
        assert list((tmp_path / "cache" / "face").glob("*.npz")), "the analysis was cached"
    return chosen, outs


def test_a_cached_analysis_renders_the_frames_and_exemplars_of_a_fresh_one(tmp_path, monkeypatch):
    from lipflap.media.encode import VideoWriter
    from lipflap.render import seen
    monkeypatch.setattr(seen, "LOOK_BELOW", 1.0)       # every frame is looked at
    clip = str(tmp_path / "astro.mov")
    with VideoWriter(clip, codec="h264", fps=FPS, width=320, height=320) as w:
        for img in _astronaut_frames():
            w.write(img)
    (fresh, cached), outs = _fresh_then_cached(
        tmp_path, monkeypatch, clip,
        {"audio": None, "shapes": _shapes(tmp_path / "shapes.json", N, FPS)})
    assert fresh[0][0], "the exemplars were matched by openings seen"
    # Before the looks went into the analysis, 16 of 16 frames read other openings here.
    assert cached[0][0] == fresh[0][0], "the same openings seen, to the bit"
    assert cached[0][1] == fresh[0][1], "the same exemplar for every frame"
    assert outs[1] == outs[0], "the same picture"


@pytest.mark.slow
def test_a_real_talker_renders_the_same_from_a_cached_analysis(tmp_path, monkeypatch,
                                                              shared_media):
    """talk_b frames 0-99 against closures and openings in turn."""
    n = 100
    (fresh, cached), outs = _fresh_then_cached(
        tmp_path, monkeypatch, str(shared_media / "talk_b.mp4"),
        {"audio": None, "shapes": _shapes(tmp_path / "shapes.json", n, 25),
         "start_frame": 0, "end_frame": n - 1})
    assert fresh[0][0]
    assert [c[0] for c in cached] == [f[0] for f in fresh]
    assert [c[1] for c in cached] == [f[1] for f in fresh]
    assert outs[1] == outs[0]


def test_an_entry_of_an_older_layout_is_a_miss_and_is_rebuilt(tmp_path, monkeypatch):
    from fractions import Fraction
    from lipflap.face import cache
    from lipflap.face.result import FrameFace, ShotAnalysis
    monkeypatch.setenv("LIPFLAP_CACHE", str(tmp_path / "cache"))
    a = ShotAnalysis("x.mov", Fraction(25), 320, 320, 0, 1,
                     [FrameFace(index=0, face_id=1), FrameFace(index=1, face_id=1)])
    a.add_seen({(1, 1): 0.0035})
    monkeypatch.setattr(cache, "CACHE_FORMAT", 1)       # an entry written before the looks
    cache.store("k", a)
    monkeypatch.setattr(cache, "CACHE_FORMAT", 2)
    assert cache.load("k", "x.mov") is None and not cache.entry_path("k").exists()
    cache.store("k", a)
    back = cache.load("k", "x.mov")
    assert back.seen_array()[1] == 0.0035 and back.frames[0].seen != back.frames[0].seen


def test_an_analysis_without_looks_is_never_handed_to_a_run_that_wants_them(tmp_path,
                                                                           monkeypatch):
    from lipflap.face.analyze import analyze_video
    from lipflap.media.encode import VideoWriter
    monkeypatch.setenv("LIPFLAP_CACHE", str(tmp_path / "cache"))
    clip = str(tmp_path / "astro.mov")
    with VideoWriter(clip, codec="h264", fps=FPS, width=320, height=320) as w:
        for img in _astronaut_frames():
            w.write(img)
    plain = analyze_video(clip)                 # as `lipflap analyze`: no looks taken
    asked = []
    face = plain.frames[0].face_id
    looked = analyze_video(clip, seen=lambda: asked.append(1) or {(0, face): 0.01})
    assert asked == [1], "not the entry without looks: the pass ran and its looks were asked for"
    assert looked.seen_array()[0] == 0.01
    assert len(list((tmp_path / "cache" / "face").glob("*.npz"))) == 2
    again = analyze_video(clip, seen=lambda: asked.append(2) or {})
    assert asked == [1] and again.seen_array()[0] == 0.01, "from the cache, with its looks"


def test_a_dialogue_renders_the_same_from_a_cached_analysis(tmp_path, monkeypatch):
    """Two faces, two voices: each face's exemplars are matched by the looks its own pass took."""
    import numpy as np
    import skimage.data
    from lipflap.media.encode import VideoWriter
    from lipflap.render import seen
    monkeypatch.setattr(seen, "LOOK_BELOW", 1.0)
    img = skimage.data.astronaut()[:320, 64:384]
    clip = str(tmp_path / "two.mov")
    with VideoWriter(clip, codec="h264", fps=FPS, width=640, height=320) as w:
        for i in range(N):
            w.write(np.hstack([np.roll(img, i // 4, axis=1),
                               np.roll(img[:, ::-1], -(i // 4), axis=1)]))
    shapes = _shapes(tmp_path / "shapes.json", N, FPS)
    (fresh, cached), outs = _fresh_then_cached(
        tmp_path, monkeypatch, clip,
        {"voices": [{"face": "left", "shapes": shapes}, {"face": "right", "shapes": shapes}]})
    assert len(fresh) == 2 and all(f[0] for f in fresh), "both faces' exemplars seen"
    assert fresh[0][0] != fresh[1][0], "each face its own looks"
    assert cached == fresh and outs[1] == outs[0]


def test_a_change_to_the_still_looks_code_misses_the_cache(tmp_path):
    # The still looks (render/seen.py) are cached with the analysis; a change to them reused
    # stale looks while the key hashed only face/ (found 2026-12-06).
    import shutil
    import lipflap
    from lipflap.face.analyze import CACHED_RENDER_SOURCES, _code_hash
    pkg = os.path.dirname(lipflap.__file__)
    shutil.copytree(os.path.join(pkg, "face"), tmp_path / "face")
    for name in CACHED_RENDER_SOURCES:
        (tmp_path / name).parent.mkdir(exist_ok=True)
        shutil.copy(os.path.join(pkg, name), tmp_path / name)
    before = _code_hash(str(tmp_path))
    assert before == _code_hash()
    with open(tmp_path / "render" / "seen.py", "a") as fh:
        fh.write("\n# changed\n")
    assert _code_hash(str(tmp_path)) != before
    # and the turn that shows a rotated clip upright, which every cached landmark is in
    changed = _code_hash(str(tmp_path))
    with open(tmp_path / "media" / "orientation.py", "a") as fh:
        fh.write("\n# changed\n")
    assert _code_hash(str(tmp_path)) != changed
