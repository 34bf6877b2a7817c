"""`lipflap conform --cast`: each clip's faces matched to the scene's characters, their voices sent.

Fast tests give conform a stand-in face finder (each clip's faces with chosen signatures), so
the cut arithmetic, voices, the job list and the errors are checked without Face Mesh; the
shared-media tests run the real finder on a scene of real speakers whose faces swap sides
(tests/cast_scene.py). Both run the fake engine (tests/test_conform_fakeengine.py).
"""
from __future__ import annotations

import json
import os

import numpy as np
import pytest

from cast_scene import scene_cut, make_scene
from mediagen import make_clip, make_wav
from test_conform_fakeengine import engine_cmd

from lipflap.conform import conform
from lipflap.conform.interchange import FORMATS
from lipflap.contract.errors import LipflapError
from lipflap.contract.progress import Progress
from lipflap.face import identity as I
from lipflap.face.sightings import Sighting

N = 20


class Messages(Progress):
    def __init__(self):
        super().__init__("none")
        self.said = []

    def message(self, text):
        self.said.append(text)


@pytest.fixture
def fake_engine(monkeypatch):
    monkeypatch.setenv("LIPFLAP_RUN_CMD", engine_cmd())
    monkeypatch.delenv("FAKE_ENGINE_FAIL", raising=False)
    monkeypatch.delenv("FAKE_ENGINE_CRASH", raising=False)


def _sig(k: float) -> I.Signature:
    tex = np.zeros(128)
    tex[0], tex[1] = 1.0, k
    return I.Signature(np.full(231, 1.0 + k * I.GEOMETRY_SCALE), np.full(15, k * I.COLOUR_SCALE),
                       tex / np.linalg.norm(tex), 8)


LOOKS = {"ANNA": _sig(0.0), "BEN": _sig(3.0), "EXTRA": _sig(7.0)}


def _seen(who: str, x: float, position: str) -> Sighting:
    return Sighting(track=0, center=(x, 24.0), height=20.0, seen=8, signature=LOOKS[who],
                    best_frame=3, best_bbox=(x - 8, 14, x + 8, 34), position=position)


# Each shot's faces, left to right, as the stand-in finder reports them.
SHOTS = {"two_a": ["ANNA", "BEN"], "two_b": ["BEN", "ANNA"], "close_l": ["ANNA"],
         "close_r": ["BEN"], "other": ["EXTRA"]}


def fake_faces(video, first, last):
    who = SHOTS[os.path.splitext(os.path.basename(video))[0]]
    pos = ["only"] if len(who) == 1 else ["left", "right"]
    return [_seen(w, 16.0 + 32 * k, pos[k]) for k, w in enumerate(who)]


def small_scene(root, ext=".otio", adapter=None, **write_args):
    root = os.fspath(root)
    paths = [make_clip(os.path.join(root, f"{k}.mov"), fps="25", frames=N, width=64, height=48,
                       timecode="00:00:00:00", codec="h264") for k in SHOTS]
    stems = {c: make_wav(os.path.join(root, f"{c}.wav"), seconds=N * 5 / 25) for c in ("ANNA", "BEN")}
    mix = make_wav(os.path.join(root, "MIX.wav"), seconds=N * 5 / 25)
    cut = scene_cut(root, paths, stems, mix, N, ext, adapter, **write_args)
    cast = os.path.join(root, "cast.json")
    sig = {c: dict(LOOKS[c].to_dict(), of={"video": "close_l.mov", "face": "only", "frame": 3})
           for c in ("ANNA", "BEN")}
    with open(cast, "w") as f:
        json.dump({"characters": {c: {"video": "close_l.mov", "face": "only", "frame": 3,
                                      "signature": sig[c]} for c in ("ANNA", "BEN")}}, f)
    return cut, cast, stems, mix


def _jobs(res):
    return {cj.clip_name: cj for cj in res.jobs}


def test_character_tracks_follow_faces_that_swap_sides(tmp_path, fake_engine):
    cut, cast, stems, _ = small_scene(tmp_path)
    msgs = Messages()
    res = conform(cut, str(tmp_path / "out"), cast=cast, language="es", progress=msgs,
                  voice_tracks=["Dub ES ANNA=ANNA", "Dub ES BEN=BEN"], faces=fake_faces)
    jobs = _jobs(res)
    assert [cj.status for cj in res.jobs] == ["done"] * 4, [cj.error for cj in res.jobs]
    assert set(jobs) == {"two_a", "two_b", "close_l", "close_r"}
    a, b = jobs["two_a"].job["voices"], jobs["two_b"].job["voices"]
    assert [(v["face"], v["audio"]) for v in a] == [("16,24", stems["ANNA"]), ("48,24", stems["BEN"])]
    assert [(v["face"], v["audio"]) for v in b] == [("48,24", stems["ANNA"]), ("16,24", stems["BEN"])]
    # The stems lie under the whole cut: each shot reads them from its own record time.
    assert [v["audio_offset_s"] for v in b] == [pytest.approx(N / 25)] * 2
    assert "audio" not in jobs["two_a"].job and "face" not in jobs["two_a"].job
    # One character shown: a one-voice job on that face.
    one = jobs["close_r"].job
    assert (one["audio"], one["face"], one["audio_offset_s"]) == (stems["BEN"], "16,24",
                                                                  pytest.approx(3 * N / 25))
    rows = jobs["two_b"].cast["faces"]
    assert [(r["position"], r["character"], r["voice"], r["sure"]) for r in rows] == [
        ("left", "BEN", "Dub ES BEN", True), ("right", "ANNA", "Dub ES ANNA", True)]
    assert rows[0]["distance"] == pytest.approx(0.0, abs=1e-3)
    # The face of no character: not rendered, listed, said.
    assert [r["clip"] for r in res.cast["not_rendered"]] == ["other"]
    assert res.cast["not_rendered"][0]["faces"][0]["character"] is None
    assert any("'other'" in m and "shows no character of the cast" in m for m in msgs.said)
    assert any("'two_b'" in m and "left face 16,24 is BEN" in m for m in msgs.said)
    saved = json.load(open(res.joblist_path))
    assert saved["cast"]["voice_tracks"] == {"Dub ES ANNA": "ANNA", "Dub ES BEN": "BEN"}
    assert [j["cast"]["faces"][0]["character"] for j in saved["jobs"]] == ["ANNA", "BEN", "ANNA", "BEN"]


def test_mixed_track_with_cast_sends_each_clip_its_characters(tmp_path, fake_engine):
    cut, cast, _, mix = small_scene(tmp_path)
    res = conform(cut, str(tmp_path / "out"), cast=cast, dub_track="Dub ES MIX", faces=fake_faces)
    jobs = _jobs(res)
    assert jobs["two_a"].job["cast"] == {"ANNA": "16,24", "BEN": "48,24"}
    assert jobs["two_b"].job["cast"] == {"BEN": "16,24", "ANNA": "48,24"}
    assert jobs["close_l"].job["cast"] == {"ANNA": "16,24"}
    assert all(cj.job["audio"] == mix for cj in res.jobs) and "other" not in jobs


def test_transcript_turns_go_to_each_characters_voice(tmp_path, fake_engine):
    cut, cast, _, _ = small_scene(tmp_path)
    tr = tmp_path / "lines.txt"
    tr.write_text("[two_a]\n[ANNA] Hola. [BEN] Buenas. [ANNA] Adios.\n"
                  "[close_l]\n[ANNA] Solo yo. [BEN] Y yo, fuera.\n")
    res = conform(cut, str(tmp_path / "out"), cast=cast, transcripts=str(tr), faces=fake_faces,
                  voice_tracks=["Dub ES ANNA=ANNA", "Dub ES BEN=BEN"])
    jobs = _jobs(res)
    assert [v.get("text") for v in jobs["two_a"].job["voices"]] == ["Hola. Adios.", "Buenas."]
    assert jobs["close_l"].job["text"] == "Solo yo."


def test_mixed_track_transcript_naming_an_absent_character_fails_that_clip(tmp_path, fake_engine):
    cut, cast, _, _ = small_scene(tmp_path)
    tr = tmp_path / "lines.txt"
    tr.write_text("[close_r]\n[ANNA] Fuera. [BEN] Dentro.\n")
    res = conform(cut, str(tmp_path / "out"), cast=cast, dub_track="Dub ES MIX",
                  transcripts=str(tr), faces=fake_faces)
    bad = _jobs(res)["close_r"]
    assert bad.status == "failed" and "clip 'close_r' at record 01:00:02:10" in bad.error
    assert "gives lines to ANNA, who the clip does not show" in bad.error
    assert [cj.status for cj in res.jobs].count("done") == 3


@pytest.mark.parametrize("ext", [".aaf", ".xml", ".fcpxml"])
def test_voice_tracks_found_by_name_in_interchange_formats(tmp_path, fake_engine, ext):
    fmt = FORMATS[ext]
    cut, cast, stems, _ = small_scene(tmp_path, ext, fmt.adapter, **fmt.write_args)
    msgs = Messages()
    res = conform(cut, str(tmp_path / "out"), cast=cast, faces=fake_faces, progress=msgs,
                  voice_tracks=["Dub ES ANNA=ANNA", "Dub ES BEN=BEN"])
    jobs = _jobs(res)
    assert [cj.status for cj in res.jobs] == ["done"] * 4, [cj.error for cj in res.jobs]
    assert [v["audio"] for v in jobs["two_b"].job["voices"]] == [stems["ANNA"], stems["BEN"]]
    if ext != ".aaf":      # no track names kept: found by the clip's name, and said so
        assert any("voice track of ANNA" in m and "by the name of its clip" in m for m in msgs.said)


def test_cast_errors_are_one_sentence(tmp_path, fake_engine):
    cut, cast, _, _ = small_scene(tmp_path)
    out = str(tmp_path / "out")
    with pytest.raises(LipflapError, match=r"--voice-track .* needs the scene's cast: give --cast"):
        conform(cut, out, voice_tracks=["Dub ES ANNA=ANNA"])
    with pytest.raises(LipflapError, match=r"CARL is not in the cast file .*cast.json "
                                           r"\(characters: ANNA, BEN\)"):
        conform(cut, out, cast=cast, voice_tracks=["Dub ES CARL=CARL"], faces=fake_faces)
    with pytest.raises(LipflapError, match=r"'Dub ES ANNA' is not TRACK=CHARACTER"):
        conform(cut, out, cast=cast, voice_tracks=["Dub ES ANNA"], faces=fake_faces)
    with pytest.raises(LipflapError, match=r"scene.otio: timeline 'scene' has no audio track named "
                                           r"'Dub FR ANNA'"):
        conform(cut, out, cast=cast, voice_tracks=["Dub FR ANNA=ANNA"], faces=fake_faces)
    with pytest.raises(LipflapError, match=r"nope.json: cast file not found; check --cast"):
        conform(cut, out, cast=str(tmp_path / "nope.json"), dub_track="Dub ES MIX")
    bad = tmp_path / "bad.json"
    for text, want in [("{", "not a readable JSON cast file"),
                       ('{"characters": {}}', 'no "characters" object'),
                       ('{"characters": {"ANNA": {"video": "close_l.mov", "face": "top"}}}',
                        "character ANNA: face 'top' is not one of left, right"),
                       ('{"characters": {"ANNA": {"video": "close_l.mov", "frame": 500}}}',
                        "character ANNA: frame 500 is past the end of .*close_l.mov \\(20 frames\\)"),
                       ('{"characters": {"ANNA": {"video": "gone.mov", "frame": 1}}}',
                        "character ANNA: reference video .*gone.mov is missing")]:
        bad.write_text(text)
        with pytest.raises(LipflapError, match=rf"bad.json: {want}.*; fix the cast file"):
            conform(cut, out, cast=str(bad), dub_track="Dub ES MIX", faces=fake_faces)


def test_reference_without_a_face_names_what_was_found(tmp_path, fake_engine):
    cut, cast, _, _ = small_scene(tmp_path)
    ref = tmp_path / "ref.json"
    ref.write_text('{"characters": {"ANNA": {"video": "two_a.mov", "face": "only", "frame": 4}}}')
    with pytest.raises(LipflapError, match=r"ref.json: character ANNA: no only face with a "
                                           r"near-frontal view in .*two_a.mov frames 0-19 \(faces "
                                           r"found: left at 16,24, right at 48,24\); give another"):
        conform(cut, str(tmp_path / "out"), cast=str(ref), dub_track="Dub ES MIX",
                faces=fake_faces)


# ---------------------------------------------------------------- real faces (shared media)

@pytest.fixture(scope="module")
def real_scene(tmp_path_factory, shared_media):
    return make_scene(tmp_path_factory.mktemp("scene"), shared_media)


def test_real_scene_voices_by_identity(real_scene, tmp_path, fake_engine):
    sc = real_scene
    msgs = Messages()
    res = conform(sc.cut, str(tmp_path / "out"), cast=sc.cast, progress=msgs,
                  voice_tracks=["Dub ES ANNA=ANNA", "Dub ES BEN=BEN"])
    jobs = _jobs(res)
    assert set(jobs) == {"two_a", "two_b", "close_l", "close_r"}
    assert [cj.status for cj in res.jobs] == ["done"] * 4, [cj.error for cj in res.jobs]
    half = sc.size       # the left face's centre is in the left half of a two-shot

    def side(spec):
        return "left" if float(spec.split(",")[0]) < half else "right"
    assert [(side(v["face"]), v["audio"]) for v in jobs["two_a"].job["voices"]] == [
        ("left", sc.stems["ANNA"]), ("right", sc.stems["BEN"])]
    assert [(side(v["face"]), v["audio"]) for v in jobs["two_b"].job["voices"]] == [
        ("right", sc.stems["ANNA"]), ("left", sc.stems["BEN"])]
    assert jobs["close_l"].job["audio"] == sc.stems["ANNA"]
    assert jobs["close_r"].job["audio"] == sc.stems["BEN"]
    # BEN speaks under the close-up of ANNA: listed and said, not dropped silently.
    absent = jobs["close_l"].cast["absent"]
    assert [a["character"] for a in absent] == ["BEN"] and absent[0]["speech_s"] > 0.5
    assert jobs["close_r"].cast["absent"] == []       # ANNA is silent there
    assert any("'close_l'" in m and "BEN's track 'Dub ES BEN' speaks" in m for m in msgs.said)
    assert all(r["sure"] for cj in res.jobs for r in cj.cast["faces"])
    assert [r["clip"] for r in res.cast["not_rendered"]] == ["other"]


# ---------------------------------------------------------------- lipflap cast

def test_find_cast_groups_faces_across_shots(tmp_path):
    from lipflap.conform.casting import find_cast, shots_of
    cut, _, _, _ = small_scene(tmp_path)
    shots = shots_of([cut])
    assert [(s.label, s.first, s.last) for s in shots][:2] == [
        ("two_a at 01:00:00:00", 0, N - 1), ("two_b at 01:00:00:20", 0, N - 1)]

    def with_thumbs(video, first, last):
        out = fake_faces(video, first, last)
        for s in out:
            s.thumbnail = np.full((16, 12, 3), 99, np.uint8)
        return out
    found = find_cast(shots, faces=with_thumbs)
    assert found.seen_in == {
        "PERSON_1": ["two_a at 01:00:00:00 (left)", "two_b at 01:00:00:20 (right)",
                     "close_l at 01:00:01:15 (only)"],
        "PERSON_2": ["two_a at 01:00:00:00 (right)", "two_b at 01:00:00:20 (left)",
                     "close_r at 01:00:02:10 (only)"],
        "PERSON_3": ["other at 01:00:03:05 (only)"]}
    pngs = found.write(str(tmp_path / "cast.json"), str(tmp_path / "thumbs"))
    assert [os.path.basename(p) for p in pngs] == ["PERSON_1.png", "PERSON_2.png", "PERSON_3.png"]
    data = json.load(open(tmp_path / "cast.json"))
    assert data["characters"]["PERSON_1"]["video"] == "two_a.mov"
    assert data["characters"]["PERSON_1"]["signature"]["of"]["face"] == "left"


def test_cast_command_refuses_to_overwrite(tmp_path, capsys):
    from lipflap.cli import main
    (tmp_path / "cast.json").write_text("{}")
    assert main(["cast", str(tmp_path / "x.mov"), "-o", str(tmp_path / "cast.json"),
                 "--progress", "none"]) != 0
    assert "cast.json exists; lipflap cast never writes over a cast file" in capsys.readouterr().err
    assert main(["cast", str(tmp_path / "x.mov"), "-o", str(tmp_path / "new.json"),
                 "--threshold", "9", "--progress", "none"]) != 0
    assert "--threshold 9: give a distance between 0 and 5" in capsys.readouterr().err
    assert main(["cast", str(tmp_path / "x.mov"), "-o", str(tmp_path / "new.json"),
                 "--progress", "none"]) != 0
    assert "x.mov: file not found; give movie files or a cut" in capsys.readouterr().err


def test_cast_command_then_conform_on_real_faces(real_scene, tmp_path, fake_engine, capsys):
    """The editor's way: `lipflap cast` on the cut, rename, conform with character tracks."""
    from lipflap.cli import main
    sc = real_scene
    cast = tmp_path / "cast.json"
    assert main(["cast", sc.cut, "-o", str(cast), "--thumbnails", str(tmp_path / "th"),
                 "--progress", "none"]) == 0
    data = json.load(open(cast))
    assert sorted(data["characters"]) == ["PERSON_1", "PERSON_2", "PERSON_3"]
    assert sorted(os.listdir(tmp_path / "th")) == ["PERSON_1.png", "PERSON_2.png", "PERSON_3.png"]
    err = capsys.readouterr().err
    assert "PERSON_1: two_a at 01:00:00:00 (left), two_b at 01:00:01:05 (right), close_l" in err
    chars = data["characters"]
    chars["ANNA"], chars["BEN"] = chars.pop("PERSON_1"), chars.pop("PERSON_2")
    cast.write_text(json.dumps(data))
    res = conform(sc.cut, str(tmp_path / "out"), cast=str(cast), voice_tracks=[
        "Dub ES ANNA=ANNA", "Dub ES BEN=BEN"])
    jobs = _jobs(res)
    assert [v["audio"] for v in jobs["two_b"].job["voices"]] == [sc.stems["ANNA"], sc.stems["BEN"]]
    assert float(jobs["two_b"].job["voices"][0]["face"].split(",")[0]) > sc.size   # ANNA: right
    assert jobs["close_l"].job["audio"] == sc.stems["ANNA"]
    # PERSON_3 has no track: the clip showing only them is not rendered.
    assert [r["clip"] for r in res.cast["not_rendered"]] == ["other"]


def test_voice_tracks_in_an_edl_by_clip_name_or_channel(tmp_path, fake_engine):
    """A CMX 3600 EDL: video and audio events with FROM FILE lines; audio tracks are A1, A2."""
    cut, cast, stems, _ = small_scene(tmp_path)
    lines = ["TITLE: scene", "FCM: NON-DROP FRAME", ""]
    ev = 1
    for k, name in enumerate(SHOTS):
        rec = f"01:00:{(k * N) // 25:02d}:{(k * N) % 25:02d}"
        end = f"01:00:{((k + 1) * N) // 25:02d}:{((k + 1) * N) % 25:02d}"
        lines += [f"{ev:03d}  {name:8s} V     C        00:00:00:00 00:00:00:{N:02d} {rec} {end}",
                  f"* FROM CLIP NAME: {name}", f"* FROM FILE: {tmp_path / (name + '.mov')}", ""]
        ev += 1
    for ch, c in (("A", "ANNA"), ("A2", "BEN")):
        lines += [f"{ev:03d}  {c:8s} {ch:5s} C        00:00:00:00 00:00:04:00 01:00:00:00 01:00:04:00",
                  f"* FROM CLIP NAME: dub_es_{c.lower()}", f"* FROM FILE: {stems[c]}", ""]
        ev += 1
    edl = tmp_path / "scene.edl"
    edl.write_text("\n".join(lines))
    msgs = Messages()
    res = conform(str(edl), str(tmp_path / "out"), cast=cast, faces=fake_faces, progress=msgs,
                  voice_tracks=["Dub ES ANNA=ANNA", "A2=BEN"])
    jobs = _jobs(res)
    assert [cj.status for cj in res.jobs] == ["done"] * 4, [cj.error for cj in res.jobs]
    assert [v["audio"] for v in jobs["two_b"].job["voices"]] == [stems["ANNA"], stems["BEN"]]
    assert [v["face"] for v in jobs["two_b"].job["voices"]] == ["48,24", "16,24"]
    assert any("voice track of ANNA" in m and "as audio track A1" in m for m in msgs.said)


def test_stored_signature_is_used_until_its_reference_is_edited(tmp_path):
    from lipflap.face.castfile import load_cast, save_cast
    small_scene(tmp_path)
    calls = []

    def counting(video, first, last):
        calls.append((os.path.basename(video), first, last))
        return fake_faces(video, first, last)
    path = str(tmp_path / "cast.json")
    cast = load_cast(path, counting)
    assert calls == [] and I.distance(cast.characters["BEN"].signature, LOOKS["BEN"]) < 1e-3
    data = json.load(open(path))
    data["characters"]["BEN"]["video"] = "close_r.mov"      # the editor points BEN elsewhere
    (tmp_path / "cast.json").write_text(json.dumps(data))
    cast = load_cast(path, counting)
    assert calls == [("close_r.mov", 0, 19)]
    save_cast(path, cast)
    assert load_cast(path, counting) and len(calls) == 1   # stored again, stamped: not seen again


def test_conform_command_line_takes_cast_and_voice_tracks(tmp_path, fake_engine, capsys):
    from lipflap.cli import main
    cut, cast, _, _ = small_scene(tmp_path)
    out = str(tmp_path / "out")
    assert main(["conform", cut, "-o", out, "--voice-track", "Dub ES ANNA=ANNA",
                 "--progress", "none"]) != 0
    assert "--voice-track sends a character's dub" in capsys.readouterr().err
    assert main(["conform", cut, "-o", out, "--cast", cast, "--voice-track", "Dub ES ANNA=ANNA",
                 "--dub-track", "Dub ES MIX", "--progress", "none"]) != 0
    assert "leave out --dub-track/--dub-audio" in capsys.readouterr().err
