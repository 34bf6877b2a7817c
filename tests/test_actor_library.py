"""The actor library (issue 15 item 6): the `library` job key and --library, the library's files,
refusing another person's face, and borrowing only the shapes a shot lacks."""
from __future__ import annotations

import json

import numpy as np
import pytest

from lipflap.cli import build_parser
from lipflap.commands.run import job_from_args
from lipflap.contract.errors import JobError, MediaError
from lipflap.contract.jobspec import load_job, parse_job
from lipflap.pipeline import actor_library as al
from lipflap.pipeline.inputs import library_files
from lipflap.render import geometry as g
from lipflap.render.pipeline import LibraryBuilder, plan_render


# -- the job key and the command line ---------------------------------------------------------

def test_library_key_takes_a_list_of_paths_relative_to_the_job(tmp_path):
    p = tmp_path / "job.json"
    p.write_text(json.dumps({"video": "a.mov", "library": ["other/b.mov", "/abs/folder"]}))
    job = load_job(str(p))
    assert job.library == [str(tmp_path / "other" / "b.mov"), "/abs/folder"]
    assert parse_job({"video": "a.mov"}).library is None
    assert parse_job({"video": "a.mov", "library": ["x.mov"]}).to_dict()["library"] == ["x.mov"]


@pytest.mark.parametrize("data,needle", [
    ({"video": "a.mov", "library": "b.mov"}, '"library" must be a list'),
    ({"video": "a.mov", "library": ["b.mov", 3]}, '"library"[1]'),
    ({"video": "a.mov", "library": [""]}, '"library"[0]'),
    ({"video": "a.mov", "librari": ["b.mov"]}, "unknown key"),
    ({"video": "a.mov", "audio": "m.wav", "cast": "auto", "library": ["b.mov"]}, "dialogue"),
])
def test_bad_library_keys_are_one_sentence(data, needle):
    with pytest.raises(JobError) as e:
        parse_job(data)
    assert needle in str(e.value)


def test_cli_library_is_repeatable_and_overrides_the_job(tmp_path):
    parse = build_parser().parse_args
    job = job_from_args(parse(["run", "/v.mov", "-o", "/o.mov", "--library", "/a.mov",
                               "--library", "/lib"]))
    assert job.library == ["/a.mov", "/lib"]
    p = tmp_path / "job.json"
    p.write_text(json.dumps({"video": "/v.mov", "output": "/o.mov", "library": ["/j.mov"]}))
    assert job_from_args(parse(["run", "--job", str(p)])).library == ["/j.mov"]
    assert job_from_args(parse(["run", "--job", str(p), "--library", "/c.mov"])).library == ["/c.mov"]


def test_library_files_expand_folders_and_refuse_what_is_not_there(tmp_path):
    folder = tmp_path / "actor"
    folder.mkdir()
    for name in ("b.mov", "a.MP4", "notes.txt", ".hidden.mov"):
        (folder / name).write_bytes(b"x")
    one = tmp_path / "c.mxf"
    one.write_bytes(b"x")
    got = library_files([str(folder), str(one), str(folder / "b.mov")])
    assert got == [str(folder / "a.MP4"), str(folder / "b.mov"), str(one)]
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(MediaError, match="no video files"):
        library_files([str(empty)])
    with pytest.raises(MediaError, match="not found"):
        library_files([str(tmp_path / "missing.mov")])


# -- identity, borrowing ----------------------------------------------------------------------

@pytest.fixture(scope="module")
def astro():
    """The astronaut photo's landmarks (an open smile) and the image, its teeth painted over as
    a dark mouth (a speech-like open mouth, which the frame scoring takes as clean)."""
    import cv2
    import mediapipe as mp
    import skimage.data
    img = np.ascontiguousarray(skimage.data.astronaut()[:320, 64:384])
    fm = mp.solutions.face_mesh.FaceMesh(static_image_mode=True, refine_landmarks=True)
    p = fm.process(img).multi_face_landmarks[0].landmark
    lm = np.array([[q.x * 320, q.y * 320] for q in p])
    cv2.fillPoly(img, [np.round(lm[list(g.LIPS_INNER)]).astype(np.int32)], (40, 14, 16))
    return lm, img


def _closed(lm: np.ndarray) -> np.ndarray:
    """The same face with the lips shut: the lower lip raised onto the upper one."""
    out = lm.copy()
    for up, lo in g.INNER_PAIRS + ((78, 78), (308, 308)):
        out[lo] = lm[up]
    lift = g.aperture(lm) * g.interocular(lm)
    for k in g.OUTER_LOWER + (g.CHIN,):
        out[k, 1] -= lift
    return out


def test_same_actor_takes_the_actor_and_refuses_another_face(astro):
    import cv2
    lm, img = astro
    rng = np.random.default_rng(1)
    shot = [(img, lm + rng.normal(0, 0.3, lm.shape)) for _ in range(4)]
    big = cv2.resize(img, (416, 416), interpolation=cv2.INTER_CUBIC)      # another framing
    again = [(big, lm * 1.3 + rng.normal(0, 0.3, lm.shape)) for _ in range(4)]
    assert al.same_actor(shot, again)[0]
    # another face: other skin and hair colour, a longer nose and lower brows
    other_lm = lm.copy()
    other_lm[[1, 2, 4, 5, 98, 327, 195, 197]] += [0, 0.12 * g.interocular(lm)]
    other_lm[[70, 105, 107, 336, 334, 300]] += [0, 0.08 * g.interocular(lm)]
    other = [(np.ascontiguousarray(img[..., ::-1]), other_lm) for _ in range(4)]
    ok, why = al.same_actor(shot, other)
    assert not ok and "identity distance" in why
    assert al.same_actor(shot, [])[0] is False


class _Frame:
    def __init__(self, index, img):
        self.index, self.img = index, img
        self.size = (img.shape[1], img.shape[0])

    def region(self, x0, y0, w, h):
        return self.img[y0:y0 + h, x0:x0 + w]


def _borrowing_plan(lm, img, library_closed: bool, monkeypatch, raw_drop: float | None = None):
    """A 24-frame shot that never closes (its lips part by 0.06-0.11 eye distances), a dub
    asking for closures at frames 6-9 and 16-18, and a 30-frame library of the same face (shut
    lips, or the shot's own open smile). With `raw_drop`, the library's unsmoothed lip contours
    are its lips moved that many pixels down."""
    rng = np.random.default_rng(0)
    shut = _closed(lm)
    shot = [shut + (0.6 + 0.4 * ((k * 7) % 24) / 23) * (lm - shut) + rng.normal(0, 0.15, lm.shape)
            for k in range(24)]
    params = np.tile([0.9, 0.45, 0.0, 0.6], (24, 1))
    params[6:10] = params[16:19] = [0.0, 0.45, 0.0, 0.0]
    plan = plan_render(shot, np.ones(24, bool), params)
    b = LibraryBuilder(plan)
    for i in sorted(b.wanted):
        b.feed(i, img)
    lib_lm = _closed(lm) if library_closed else lm
    lib_lms = [lib_lm + rng.normal(0, 0.15, lm.shape) for _ in range(30)]
    raw = None if raw_drop is None else [q[_LIPS] + [0.0, raw_drop] for q in lib_lms]
    footage = [al.Footage("lib.mov", lib_lms, raw_lips=raw)]
    monkeypatch.setattr(al, "probe", lambda path: None)
    monkeypatch.setattr(al, "read_frames", lambda path, a, z, info=None:
                        (_Frame(k, img) for k in range(a, z + 1)))
    sources: list = []
    lib, _ = b.finish(lambda bb: sources.extend(al.borrow(bb, footage)))
    al.mark(plan, sources)
    return plan, lib


_LIPS = list(g.LIPS_OUTER) + list(g.LIPS_INNER)


def _frames(ranges):
    return sorted({i for r in ranges for i in range(r["start"], r["end"] + 1)})


def test_a_shot_without_closures_borrows_them_and_nothing_else(astro, monkeypatch):
    lm, img = astro
    plan, lib = _borrowing_plan(lm, img, True, monkeypatch)
    borrowed = _frames(plan.borrowed)
    assert set(range(7, 9)) <= set(borrowed) and set(range(16, 19)) & set(borrowed)
    # open frames keep the shot's own mouths
    assert not set(borrowed) & set(range(0, 4)) and not set(borrowed) & set(range(12, 14))
    assert all(r["library"] == "lib.mov" and len(r["library_frames"]) == r["end"] - r["start"] + 1
               for r in plan.borrowed)
    # only the crops the path uses are kept, the borrowed ones among them
    used = {int(f) for f in plan.exemplar if f >= 0}
    assert set(lib) == used and any(f > plan.n for f in lib)
    assert not [r for r in plan.lacking if r["reason"] == "no_clean_closure"]


def test_a_borrowed_exemplar_is_held_by_its_own_unsmoothed_lips(astro, monkeypatch):
    """A borrowed frame's lip band is read at the library's unsmoothed contours as the shot's own
    frames' are (synth.retrack_shift): 2 pixels down on the astronaut's shut lips take in the
    dark mouth painted under them, so its lips are held lighter; without the contours, not."""
    from lipflap.render.synth import retrack_shift
    lm, img = astro
    for drop, shifted in ((None, False), (2.0, True)):
        plan, lib = _borrowing_plan(lm, img, True, monkeypatch, raw_drop=drop)
        borrowed = [e for f, e in lib.items() if f > plan.n]
        assert borrowed
        m = plan.model
        for e in borrowed:
            if not shifted:
                assert e.lip_shift == 0.0
                continue
            lips = e.points[:len(m.region)][m.lips]
            want = retrack_shift(e.image, e.x0, e.y0, lips, lips + [0.0, drop], 255.0)
            assert e.lip_shift == pytest.approx(want, abs=0.05)
        if shifted:
            assert max(e.lip_shift for e in borrowed) > 0.5


def test_without_a_closure_anywhere_the_frames_are_flagged(astro, monkeypatch):
    lm, img = astro
    plan, _ = _borrowing_plan(lm, img, False, monkeypatch)
    assert plan.borrowed == []
    assert {7, 8, 17} <= set(_frames(r for r in plan.lacking if r["reason"] == "no_clean_closure"))


def test_conform_shares_the_other_clips_as_each_ones_library():
    from fractions import Fraction
    from lipflap.conform.cut import _share_libraries
    from lipflap.conform.plan import ClipJob
    from lipflap.conform.ray_runner import PathMap

    def clip(k, media, **job):
        cj = ClipJob(k, f"c{k}", "V1", 0, Fraction(25), 100 * k, 100 * k + 50, media=media)
        cj.job = {"video": media, **job}
        return cj
    jobs = [clip(0, "/m/a.mov"), clip(1, "/m/b.mov"), clip(2, "/m/a.mov"),
            clip(3, "/m/c.mov", voices=[{"face": "left"}]), clip(4, "/m/d.mov")]
    jobs[4].status = "done"
    _share_libraries(jobs, False)
    assert not any("library" in cj.job for cj in jobs)
    _share_libraries(jobs, True)
    assert jobs[0].job["library"] == ["/m/b.mov", "/m/c.mov", "/m/d.mov"]
    assert jobs[2].job["library"] == jobs[0].job["library"]
    assert jobs[1].job["library"] == ["/m/a.mov", "/m/c.mov", "/m/d.mov"]
    assert "library" not in jobs[3].job and "library" not in jobs[4].job    # dialogue, done
    parse_job(jobs[0].job)
    # on a Ray cluster the library's paths are mapped as the video's are
    mapped = PathMap.parse(["/m=/net/m"]).job(jobs[0].job)
    assert mapped["library"] == ["/net/m/b.mov", "/net/m/c.mov", "/net/m/d.mov"]


def test_library_footage_of_another_face_is_left_out_with_one_sentence(astro, monkeypatch):
    from types import SimpleNamespace as NS
    lm, _ = astro
    faces = {"/lib/same.mov": [lm] * 5, "/lib/other.mov": [lm * 1.1] * 5, "/lib/empty.mov": [None] * 5}
    monkeypatch.setattr(al, "analyze_video", lambda path, a, z, face, progress: NS(frames=[
        NS(landmarks=x, raw_landmarks=x, usable=x is not None) for x in faces[path]]))
    monkeypatch.setattr(al, "views", lambda path, lms: [(path, x) for x in lms.values() if x is not None])
    monkeypatch.setattr(al, "same_actor", lambda shot, lib: (lib[0][0] != "/lib/other.mov", "not alike"))
    kept, warnings = al.load_footage(list(faces), "/shot.mov", 10, 20, [lm] * 11, None)
    assert [f.path for f in kept] == ["/lib/same.mov"]
    assert np.allclose(kept[0].raw_lips[0], lm[list(g.LIPS_OUTER) + list(g.LIPS_INNER)])
    assert len(warnings) == 2
    assert warnings[0].startswith("/lib/other.mov: the face in this library footage is not the actor of "
                                  "/shot.mov (not alike)")
    assert warnings[1].startswith("/lib/empty.mov: no usable face")
    assert all(w.count(". ") == 0 and w.endswith(".") for w in warnings)


def test_a_shot_that_never_opens_has_its_openings_flagged(astro):
    lm, _ = astro
    rng = np.random.default_rng(2)
    shot = [_closed(lm) + rng.normal(0, 0.15, lm.shape) for _ in range(20)]
    params = np.tile([0.0, 0.45, 0.0, 0.0], (20, 1))
    params[8:12] = [1.0, 0.5, 0.0, 0.8]
    plan = plan_render(shot, np.ones(20, bool), params)
    got = al.lacking(plan)
    assert {9, 10} <= set(_frames(r for r in got if r["reason"] == "no_clean_opening"))
    assert not set(_frames(got)) & (set(range(0, 6)) | set(range(14, 20)))   # closures are clean
