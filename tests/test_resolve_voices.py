"""Dialogue in Resolve (issue 18): per-character dub tracks mapped to faces, on the strict fake.

The cut of tests/fakes/resolve_world.py gets two character tracks: A2 "Dub ES ANNA" under the
whole cut and A3 "Dub ES BEN" under the third clip only (Ben is silent in the first two). The
fake engine answers `analyze --thumbnails` with two faces (left, right) and writes a dialogue
report (per face figures under "voices", flagged ranges naming their face) for a voices job.
"""
import json
import os

import pytest

from lipflap import contract as hostclient
from tests.fakes import fusion_ui as fui
from tests.fakes import resolve as fr
from tests.fakes.resolve_world import build

PROFILES = list(fr.PROFILES)
ANNA, BEN = "Dub ES ANNA", "Dub ES BEN"
MAPPING = [{"track": ANNA, "face": "left"}, {"track": BEN, "face": "right"}]


def _dialogue(world):
    tl, s0, p = world["tl"], world["start"], world["profile"]
    for name in (ANNA, BEN):
        assert tl.AddTrack("audio") and tl.SetTrackName("audio", tl.GetTrackCount("audio"), name)
    paths = {}
    for name in ("anna_es.wav", "ben_es.wav"):
        paths[name] = os.path.join(os.path.dirname(world["paths"]["dub_es.wav"]), name)
        open(paths[name], "wb").write(b"x")
    tl.fake_clip("audio", 2, fr.MediaPoolItem(p, paths["anna_es.wav"], fps=p.timeline_rate), s0, s0 + 200, 0)
    tl.fake_clip("audio", 3, fr.MediaPoolItem(p, paths["ben_es.wav"], fps=p.timeline_rate), s0 + 72, s0 + 96, 10)
    return paths


@pytest.fixture(params=PROFILES)
def world(request, tmp_path):
    w = build(request.param, tmp_path)
    w["dubs"] = _dialogue(w)
    return w


def _settings(world, **kw):
    from lipflap_resolve.settings import Settings
    base = dict(scope="track", video_track=1, dub_kind="track", dub_track=1, language="es", mode="full",
                codec="prores_hq", handles=4, output_dir=world["out"], voices=list(MAPPING))
    base.update(kw)
    return Settings(**base)


def _jobs(outcomes):
    return [json.load(open(os.path.splitext(o.render)[0] + ".job.json")) for o in outcomes if o.render]


def test_each_clip_sends_the_voices_of_the_tracks_under_it(world):
    from lipflap_resolve.app import Controller
    c = Controller(world["resolve"], hostclient, engine=world["engine"], log=lambda s: None)
    assert c.start(_settings(world)) == []
    outcomes = c.run_all(0.01)
    first, third = _jobs(outcomes)
    # Ben's track is empty under the first clip: only Anna's voice goes; both under the third.
    assert [v["face"] for v in first["voices"]] == ["left"]
    assert [(v["face"], v["audio"]) for v in third["voices"]] == [("left", world["dubs"]["anna_es.wav"]),
                                                                   ("right", world["dubs"]["ben_es.wav"])]
    rate = float(fr._rate(world["profile"].timeline_rate))
    assert third["voices"][1]["audio_offset_s"] == pytest.approx(10 / rate, abs=1e-5)   # Ben's item starts 10 in
    assert third["voices"][0]["audio_offset_s"] == pytest.approx(72 / rate, abs=1e-5)
    for job in (first, third):
        assert not {"audio", "audio_offset_s", "face", "text"} & set(job)   # dialogue keys only inside voices
        assert all(v["language"] == "es" for v in job["voices"])
    # The result gives every face its own figures (the report's "voices").
    summary = c.summary()
    n1, n3 = (j["end_frame"] - j["start_frame"] + 1 for j in (first, third))
    assert f"face left: {n1} frames redrawn" in summary and f"face right: {n3 - 5} frames redrawn" in summary
    assert "sync r 0.70" in summary and "1 flagged range(s)" in summary
    if "recordFrame" in world["profile"].clipinfo_keys:
        notes = [m["name"] for m in world["tl"].GetMarkers().values()]
        assert notes == ["lipflap: no_face (face left)"]


def test_the_engine_takes_the_hosts_voices_job(world, tmp_path):
    """The job the script writes passes the engine's own job validation (docs/job.md)."""
    from lipflap.contract.jobspec import load_job
    from lipflap_resolve.app import Controller
    c = Controller(world["resolve"], hostclient, engine=world["engine"], log=lambda s: None)
    assert c.start(_settings(world)) == []
    plan = [p for p in c.queue if not p.error][-1]
    job, _, _ = c.job_for(plan, c.settings)
    path = tmp_path / "job.json"
    path.write_text(json.dumps(job))
    parsed = load_job(str(path))
    assert [v.face for v in parsed.voices] == ["left", "right"] and parsed.audio is None


def test_a_track_name_the_timeline_lacks_is_one_sentence(world):
    from lipflap_resolve.app import Controller
    c = Controller(world["resolve"], hostclient, engine=world["engine"], log=lambda s: None)
    problems = c.start(_settings(world, voices=[{"track": "Dub ES CARLA", "face": "left"}]))
    assert problems == ["audio track 'Dub ES CARLA' (for face left) is not on this timeline (its audio "
                        "tracks: A1 'Audio 1', A2 'Dub ES ANNA', A3 'Dub ES BEN'); choose one of them for "
                        "that face."]


@pytest.mark.parametrize("voices, said", [
    ([{"track": ANNA, "face": "left"}, {"track": BEN, "face": " LEFT"}],
     "tracks 'Dub ES ANNA' and 'Dub ES BEN' are both mapped to face left; give each face one track"),
    ([{"track": ANNA, "face": "left"}, {"track": ANNA, "face": "right"}],
     "track 'Dub ES ANNA' is mapped to faces left and right"),
    ([{"track": ANNA, "face": "the tall one"}], "is not a face; give left, right, centre"),
    ([{"track": ANNA}], "voice 1 must be {\"track\": \"audio track name\", \"face\": \"left\"}"),
])
def test_a_bad_mapping_is_refused_with_what_to_do(world, voices, said):
    from lipflap_resolve.app import Controller
    c = Controller(world["resolve"], hostclient, engine=world["engine"], log=lambda s: None)
    problems = c.start(_settings(world, voices=voices))
    assert any(said in p for p in problems), problems
    assert c.queue == []


def test_script_text_or_a_face_beside_voices_is_refused(world):
    from lipflap_resolve.app import Controller
    c = Controller(world["resolve"], hostclient, engine=world["engine"], log=lambda s: None)
    assert any("leave the script text" in p for p in c.start(_settings(world, scope="current", text="Hola")))
    assert any("set Face back to auto" in p for p in c.start(_settings(world, face="left")))


def test_no_voice_under_a_clip_fails_that_clip_only(world):
    from lipflap_resolve.app import Controller
    c = Controller(world["resolve"], hostclient, engine=world["engine"], log=lambda s: None)
    assert c.start(_settings(world, voices=[{"track": BEN, "face": "right"}])) == []
    outcomes = c.run_all(0.01)
    assert "no dub on the voice tracks 'Dub ES BEN' under clip 'A001_C003.mov'" in outcomes[0].error
    assert [v["face"] for v in _jobs(outcomes)[0]["voices"]] == ["right"]


def test_one_dub_without_voices_is_the_one_voice_job(world):
    from lipflap_resolve.app import Controller
    c = Controller(world["resolve"], hostclient, engine=world["engine"], log=lambda s: None)
    assert c.start(_settings(world, voices=[])) == []
    jobs = _jobs(c.run_all(0.01))
    assert all("voices" not in j and j["audio"] == world["paths"]["dub_es.wav"] and j["face"] == "auto"
               for j in jobs)
    assert "face left" not in c.summary()


def test_dialog_finds_faces_shows_their_pictures_and_maps_tracks(world, tmp_path):
    """Find faces runs the engine's analysis of the first clip; each face's row gets its picture
    (a ui.Icon on the row's button), its face spec and its position in words; the editor picks a
    track per face, and the run's jobs carry those voices. The mapping is saved."""
    from lipflap_resolve import app
    if not world["profile"].ui_manager:
        return
    seen = {}

    def look(win):
        it = win.GetItems()
        seen.update(icons=[getattr(it[f"FaceIcon{i}"], "Icon", None) for i in (1, 2, 3)],
                    faces=[it[f"VoiceFace{i}"].Text for i in (1, 2, 3)],
                    text=it["FaceText1"].Text, note=it["FacesNote"].Text,
                    tracks=list(it["VoiceTrack1"]._items))
    fui.Dispatcher.script = [fui.set_text("OutputDir", world["out"]), fui.set_text("Language", "es"),
                             fui.click("FindFaces"), fui.WAIT, look,
                             fui.set_index("VoiceTrack1", 2), fui.set_index("VoiceTrack2", 3),
                             fui.click("Run"), fui.WAIT, fui.click("Close")]
    cfg = tmp_path / "cfg"
    c = app.main(world["resolve"], fui.Fusion(fui.UIManager()), fui.Bmd(world["resolve"]), hostclient,
                 engine=world["engine"], config_dir=str(cfg))
    assert seen["tracks"] == ["(no voice: one dub above)", "Audio 1", ANNA, BEN]
    assert [i.File for i in seen["icons"][:2]] == [os.path.join(world["out"], "lipflap_faces", d, f)
                                                  for d, f in ((seen["icons"][0].File.split(os.sep)[-2], "face3.png"),
                                                               (seen["icons"][1].File.split(os.sep)[-2], "face1.png"))]
    assert seen["icons"][2] is None and seen["faces"] == ["left", "right", ""]
    assert "face 3 (left) at 480,430: use \"left\"" in seen["text"] and "face3.png" in seen["text"]
    assert seen["note"].startswith("2 face(s) in clip 'A001_C003.mov' at 01:00:00:00")
    jobs = _jobs(c.outcomes)
    assert [[v["face"] for v in j["voices"]] for j in jobs] == [["left"], ["left", "right"]]
    saved = json.load(open(cfg / "resolve_settings.json"))
    assert saved["voices"] == MAPPING


def test_dialog_says_a_saved_track_this_timeline_lacks(world, tmp_path):
    from lipflap_resolve import app
    if not world["profile"].ui_manager:
        return
    cfg = tmp_path / "cfg"
    cfg.mkdir()
    (cfg / "resolve_settings.json").write_text(json.dumps(
        {"output_dir": world["out"], "voices": [{"track": "Dub FR ANNA", "face": "left"}]}))
    seen = {}
    fui.Dispatcher.script = [lambda win: seen.update(note=win.GetItems()["FacesNote"].Text,
                                                     index=win.GetItems()["VoiceTrack1"].CurrentIndex),
                             fui.click("Close")]
    app.main(world["resolve"], fui.Fusion(fui.UIManager()), fui.Bmd(world["resolve"]), hostclient,
             engine=world["engine"], config_dir=str(cfg))
    assert "Dub FR ANNA are not on this timeline" in seen["note"] and seen["index"] == 0


def test_free_edition_maps_voices_from_the_settings_file(tmp_path, capsys):
    """No UIManager: the mapping comes from the settings file, the console says per face."""
    from lipflap_resolve import app
    world = build("19.1 free", tmp_path)
    _dialogue(world)
    cfg = tmp_path / "cfg"
    cfg.mkdir()
    (cfg / "resolve_settings.json").write_text(json.dumps(
        {"output_dir": world["out"], "language": "es", "voices": MAPPING}))
    c = app.main(world["resolve"], fui.Fusion(None), fui.Bmd(world["resolve"]), hostclient,
                 engine=world["engine"], config_dir=str(cfg))
    out = capsys.readouterr().out
    assert [[v["face"] for v in j["voices"]] for j in _jobs(c.outcomes)] == [["left"], ["left", "right"]]
    assert "A001_C003.mov at 01:00:03:00, face right: 19 frames redrawn" in out
    (cfg / "resolve_settings.json").write_text(json.dumps(
        {"output_dir": world["out"], "voices": [{"track": ANNA, "face": "left"}, {"track": BEN, "face": "left"}]}))
    app.main(world["resolve"], fui.Fusion(None), fui.Bmd(world["resolve"]), hostclient,
             engine=world["engine"], config_dir=str(cfg))
    assert "both mapped to face left; give each face one track" in capsys.readouterr().out


def test_fakes_refuse_what_the_documentation_does_not_give():
    ui = fui.UIManager()
    with pytest.raises(TypeError):
        ui.Icon({"Path": "x.png"})                         # FUX: {"File": path}
    with pytest.raises(AttributeError):
        ui.Label({"Text": "x"}).Icon = ui.Icon({"File": "x.png"})   # an Icon belongs to a Button
    with pytest.raises(TypeError):
        ui.HGroup([ui.Icon({"File": "x.png"})])          # not a layout element
    with pytest.raises(AttributeError):
        ui.Image({"File": "x.png"})                      # no such element
    tl = fr.Timeline(fr.PROFILES["20 Studio"], audio_tracks=2)
    assert tl.GetTrackName("audio", 2) == "Audio 2" and tl.GetTrackName("audio", 3) is None
    with pytest.raises(AttributeError):
        tl.GetTrackNames()                               # not in any README


# -- by character: the cast over the chosen clips ------------------------------------------------

BY_CHARACTER = [{"track": ANNA, "character": "PERSON_1"}, {"track": BEN, "character": "PERSON_2"}]


def _find_cast(c, world):
    from lipflap_resolve.settings import Settings
    assert c.start_faces(Settings(output_dir=world["out"]), by_character=True) == []
    while c.faces_tick():
        pass
    return c.cast_file


def test_find_faces_by_character_runs_the_cast_over_the_chosen_clips(world):
    from lipflap_resolve.app import Controller
    c = Controller(world["resolve"], hostclient, engine=world["engine"], log=lambda s: None)
    cast = _find_cast(c, world)
    assert cast == os.path.join(world["out"], "lipflap_cast", "cast_1", "cast.json") and os.path.isfile(cast)
    assert [(f.name, os.path.basename(f.file)) for f in c.faces] == [("PERSON_1", "PERSON_1.png"),
                                                                      ("PERSON_2", "PERSON_2.png")]
    assert c.faces[1].seen_in == ["A001_C003.mov (right)"]
    assert c.faces_note.startswith("2 character(s) in the media of 3 chosen clip(s)")
    # Each media file once (clip A is cut in twice); a second Find faces gets a new folder.
    assert _find_cast(c, world).endswith(os.path.join("cast_2", "cast.json"))


def test_a_single_with_both_tracks_speaking_voices_the_character_it_shows(world):
    """The third clip is a single of PERSON_1 with both characters' tracks under it: by position
    this failed ("the same face"); by character the engine voices PERSON_1 and lists PERSON_2's
    lines as off screen."""
    from lipflap_resolve.app import Controller
    c = Controller(world["resolve"], hostclient, engine=world["engine"], log=lambda s: None)
    cast = _find_cast(c, world)
    assert c.start(_settings(world, voices=list(BY_CHARACTER), cast_file=cast)) == []
    outcomes = c.run_all(0.01)
    first, third = _jobs(outcomes)
    assert first["cast_file"] == cast and third["cast_file"] == cast
    assert [v["character"] for v in first["voices"]] == ["PERSON_1"]      # Ben's track is empty there
    assert [(v["character"], v["audio"]) for v in third["voices"]] == [
        ("PERSON_1", world["dubs"]["anna_es.wav"]), ("PERSON_2", world["dubs"]["ben_es.wav"])]
    assert all("face" not in v for j in (first, third) for v in j["voices"])
    assert [bool(o.render) for o in outcomes] == [True, False, True]
    summary = c.summary()
    assert "A001_C003.mov at 01:00:03:00: voiced PERSON_1" in summary
    assert "A001_C003.mov at 01:00:03:00: PERSON_2 speaks 1.0 s off screen (not lip-synced)" in summary


def test_a_clip_showing_no_voiced_character_is_left_as_it_is(world):
    from lipflap_resolve.app import Controller
    said = []
    c = Controller(world["resolve"], hostclient, engine=world["engine"], log=said.append)
    cast = _find_cast(c, world)
    assert c.start(_settings(world, voices=[{"track": BEN, "character": "PERSON_2"}], cast_file=cast)) == []
    outcomes = c.run_all(0.01)
    third = outcomes[-1]
    assert not third.error and not third.render and "nothing was rendered and the clip stays as it is" in third.note
    assert "left as it is:" in c.summary() and c.track_index is None     # no track added for nothing


def test_the_engine_takes_the_hosts_character_job(world, tmp_path):
    from lipflap.contract.jobspec import load_job
    from lipflap_resolve.app import Controller
    c = Controller(world["resolve"], hostclient, engine=world["engine"], log=lambda s: None)
    cast = _find_cast(c, world)
    assert c.start(_settings(world, voices=list(BY_CHARACTER), cast_file=cast)) == []
    plan = [p for p in c.queue if not p.error][-1]
    job, _, _ = c.job_for(plan, c.settings)
    path = tmp_path / "job.json"
    path.write_text(json.dumps(job))
    parsed = load_job(str(path))
    assert parsed.cast_file == cast and [v.character for v in parsed.voices] == ["PERSON_1", "PERSON_2"]


@pytest.mark.parametrize("voices, cast, said", [
    ([{"track": ANNA, "face": "left"}], True, "voice 1 must be {\"track\": \"audio track name\", \"character\""),
    ([{"track": ANNA, "character": "A"}, {"track": BEN, "character": "A"}], True,
     "both mapped to character A"),
    ([{"track": ANNA, "character": "PERSON_1"}], False, "which needs a cast file"),
    ([], True, "choose a track for at least one character"),
])
def test_a_bad_character_mapping_is_refused(world, voices, cast, said):
    from lipflap_resolve.app import Controller
    c = Controller(world["resolve"], hostclient, engine=world["engine"], log=lambda s: None)
    path = _find_cast(c, world) if cast else ""
    problems = c.start(_settings(world, voices=voices, cast_file=path))
    assert any(said in p for p in problems), problems
    assert any("not found" in p for p in c.start(_settings(world, voices=list(BY_CHARACTER),
                                                           cast_file=world["out"] + "/none.json")))


def test_dialog_finds_the_cast_and_maps_tracks_to_characters(world, tmp_path):
    from lipflap_resolve import app
    if not world["profile"].ui_manager:
        return
    seen = {}

    def look(win):
        it = win.GetItems()
        seen.update(icons=[getattr(it[f"FaceIcon{i}"], "Icon", None) for i in (1, 2, 3)],
                    names=[it[f"VoiceFace{i}"].Text for i in (1, 2, 3)], cast=it["CastFile"].Text,
                    text=it["FaceText2"].Text)
    fui.Dispatcher.script = [fui.set_text("OutputDir", world["out"]), fui.set_text("Language", "es"),
                             fui.set_index("VoiceBy", 1), fui.click("FindFaces"), fui.WAIT, look,
                             fui.set_index("VoiceTrack1", 2), fui.set_index("VoiceTrack2", 3),
                             fui.click("Run"), fui.WAIT, fui.click("Close")]
    cfg = tmp_path / "cfg"
    c = app.main(world["resolve"], fui.Fusion(fui.UIManager()), fui.Bmd(world["resolve"]), hostclient,
                 engine=world["engine"], config_dir=str(cfg))
    assert [os.path.basename(i.File) for i in seen["icons"][:2]] == ["PERSON_1.png", "PERSON_2.png"]
    assert seen["icons"][2] is None and seen["names"] == ["PERSON_1", "PERSON_2", ""]
    assert seen["cast"].endswith(os.path.join("cast_1", "cast.json"))
    assert seen["text"].startswith("PERSON_2: seen in A001_C003.mov (right)")
    jobs = _jobs(c.outcomes)
    assert [[v["character"] for v in j["voices"]] for j in jobs] == [["PERSON_1"], ["PERSON_1", "PERSON_2"]]
    assert [bool(o.render) for o in c.outcomes] == [True, False, True]
    saved = json.load(open(cfg / "resolve_settings.json"))
    assert saved["voices"] == BY_CHARACTER and saved["cast_file"] == seen["cast"]


def test_free_edition_maps_characters_from_the_settings_file(tmp_path, capsys):
    from lipflap_resolve import app
    from lipflap_resolve.app import Controller
    world = build("19.1 free", tmp_path)
    _dialogue(world)
    cast = _find_cast(Controller(world["resolve"], hostclient, engine=world["engine"], log=lambda s: None), world)
    cfg = tmp_path / "cfg"
    cfg.mkdir()
    (cfg / "resolve_settings.json").write_text(json.dumps(
        {"output_dir": world["out"], "language": "es", "voices": BY_CHARACTER, "cast_file": cast}))
    c = app.main(world["resolve"], fui.Fusion(None), fui.Bmd(world["resolve"]), hostclient,
                 engine=world["engine"], config_dir=str(cfg))
    out = capsys.readouterr().out
    assert [[v["character"] for v in j["voices"]] for j in _jobs(c.outcomes)] == [["PERSON_1"],
                                                                                 ["PERSON_1", "PERSON_2"]]
    assert "PERSON_2 speaks 1.0 s off screen (not lip-synced)" in out


def test_a_cast_file_lipflap_cast_left_broken_is_one_sentence(tmp_path):
    from lipflap_resolve.timeline import PlanError
    from lipflap_resolve.voices import read_cast
    bad = tmp_path / "cast.json"
    bad.write_text("{not json")
    with pytest.raises(PlanError, match=r"cast.json: not a readable JSON cast file .*Then press Find faces again\."):
        read_cast({}, str(bad))
    bad.write_text(json.dumps({"characters": {"ANNA": {}, "BEN": {}}}))
    assert [c.name for c in read_cast({}, str(bad))] == ["ANNA", "BEN"]


def test_malformed_face_pictures_are_left_out_in_one_sentence(tmp_path):
    from lipflap_resolve.voices import read_faces
    path = tmp_path / "analysis.json"
    good = {"face": "left", "id": 0, "file": "f0.png", "centre": [100, 80]}
    path.write_text(json.dumps({"thumbnails": [good, {"face": "right", "id": 1}, "f2.png"]}))
    told = []
    faces = read_faces(str(path), told.append)
    assert [f.face for f in faces] == ["left"]
    assert told == [f"{path}: face picture entries 2, 3 (of 3) under \"thumbnails\" are not a face "
                    f"(face, id, file, centre) and are not shown; press Find faces again, and update "
                    f"the engine (`lipflap install resolve`) if it repeats."]
    path.write_text(json.dumps({"thumbnails": [good]}))
    told.clear()
    assert len(read_faces(str(path), told.append)) == 1 and told == []
