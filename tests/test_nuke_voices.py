"""The LipSync node's voices (issue 18): one set of knobs per face, one dialogue job, every face's
figures and flagged ranges on the node. Against the strict stub `nuke` and a fake engine that
honours the CLI contract (it validates the job with the engine's own job parser). A job by
character is answered as lipflap.pipeline.characters does: the characters in FAKE_SHOWN are in
the picture (left to right), the others are listed absent; none shown renders nothing."""
import importlib
import json
import os
import sys
import textwrap
import threading

import pytest

from lipflap import contract as hostclient

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NUKE_DIR = os.path.join(REPO, "nuke_nodes")

FAKE_ENGINE = textwrap.dedent('''
    import json, os, sys
    args = sys.argv[1:]
    log = json.load(open(LOG)) if os.path.exists(LOG) else []
    log.append(args)
    json.dump(log, open(LOG, "w"))
    if args[0] == "analyze":
        out, folder = args[args.index("-o") + 1], args[args.index("--thumbnails") + 1]
        os.makedirs(folder, exist_ok=True)
        thumbs = []
        for fid, pos, x in ((2, "left", 300.0), (0, "right", 900.0)):
            png = os.path.join(folder, "face%d.png" % fid)
            open(png, "wb").write(b"PNG (fake)")
            thumbs.append({"id": fid, "file": png, "frame": 3, "box": [x - 80, 200, x + 80, 400],
                           "centre": [x, 300.0], "shot": 0, "frames": 40, "position": pos, "face": pos})
        json.dump({"format": "lipflap-face-analysis", "thumbnails": thumbs}, open(out, "w"))
    elif args[0] == "run":
        from lipflap.contract.jobspec import load_job
        path = args[args.index("--job") + 1]
        job = load_job(path)                      # the engine's own validation of the host's job
        raw = json.load(open(path))
        s = job.start_frame
        flagged = [{"start": s + 3, "end": s + 4, "reason": "occluded"}]
        cast = None
        if "cast_file" in raw:
            shown = os.environ.get("FAKE_SHOWN", "").split()
            mine = [v for v in raw["voices"] if v["character"] in shown]
            cast = {"cast_file": raw["cast_file"], "shown": [v["character"] for v in mine],
                    "not_shown": [v["character"] for v in raw["voices"] if v not in mine],
                    "absent": [{"character": v["character"], "track": os.path.basename(v["audio"]),
                                "speech_s": 2.5} for v in raw["voices"] if v not in mine]}
            if not mine:
                json.dump({"output": None, "frames_rendered": 0, "frames_passed_through": 48,
                           "not_rendered": raw["video"] + ": no character with a voice in this job is shown "
                           "here; nothing was rendered and the clip stays as it is.", "cast": cast},
                          open(raw["report"], "w"))
                print(json.dumps({"result": {"output": None}}), flush=True)
                sys.exit(0)
            raw["voices"] = [dict(v, face="%d,300" % (300 + 600 * k)) for k, v in enumerate(mine)]
        os.makedirs(os.path.dirname(raw["output"]["path"]), exist_ok=True)
        open(raw["output"]["path"], "wb").write(b"render")
        faces = [v["face"] for v in raw["voices"]]
        json.dump({"report_version": 1, "cast": cast,
                   "flagged_ranges": [dict(flagged[0], face=faces[-1])],
                   "voices": [{"face": f, "frames_rendered": 40 - 10 * k, "frames_untouched": 10 * k,
                               "speech_frames": 20, "flagged_ranges": flagged if k == len(faces) - 1 else [],
                               "qc": {"verdict": "pass" if k == 0 else "warn",
                                      "figures": {"sync_r": {"value": 0.9 - 0.2 * k},
                                                  "bilabial_closure": {"value": 0.96},
                                                  "pause_rest": {"value": None}}}}
                              for k, f in enumerate(faces)]}, open(raw["report"], "w"))
    print(json.dumps({"result": {}}), flush=True)
''')


@pytest.fixture
def nk(tmp_path, monkeypatch):
    from tests.fakes import nuke as stub
    stub.reset()
    monkeypatch.setitem(sys.modules, "nuke", stub)
    monkeypatch.syspath_prepend(NUKE_DIR)
    for m in ("lipflap_nuke_node", "lipflap_nuke_curves", "lipflap_nuke_plate", "lipflap_nuke_engine",
              "lipflap_nuke_voices"):
        sys.modules.pop(m, None)
    log = tmp_path / "engine_log.json"
    script = tmp_path / "engine.py"
    script.write_text(f"LOG = {str(log)!r}\n" + FAKE_ENGINE)
    monkeypatch.setenv("LIPFLAP_ENGINE", json.dumps([sys.executable, str(script)]))
    monkeypatch.delitem(sys.modules, "lipflap_contract", raising=False)
    monkeypatch.setenv("LIPFLAP_CONTRACT", os.path.dirname(hostclient.__file__))
    plate = tmp_path / "two shot.mov"
    plate.write_bytes(b"x")
    stub.media[str(plate)] = (1, 48)
    stub.root()["fps"].setValue(24.0)
    node_mod = importlib.import_module("lipflap_nuke_node")
    read = stub.nodes.Read()
    read["file"].fromUserText(str(plate))
    read["frame_mode"].setValue("start at")
    read["frame"].setValue("1001")
    g = node_mod.create()
    assert g.setInput(0, read)
    g["range_first"].setValue(0)
    g["range_last"].setValue(0)
    g["cache_dir"].setValue(str(tmp_path / "cache"))
    dubs = {}
    for name in ("anna.wav", "ben.wav"):
        dubs[name] = str(tmp_path / name)
        open(dubs[name], "wb").write(b"x")
    errors = []
    monkeypatch.setattr(threading, "excepthook", lambda a: errors.append(a.exc_value))
    return {"stub": stub, "g": g, "log": log, "plate": str(plate), "dubs": dubs, "errors": errors}


def _finish(nk):
    for t in [t for t in threading.enumerate() if t.name.startswith("lipflap")]:
        t.join(60)
        assert not t.is_alive()
    nk["stub"].pump_main_thread()
    assert nk["errors"] == []


def _voice(g, i, dub, face, offset=0, text=""):
    g[f"voice{i}_dub"].setValue(dub)
    g[f"voice{i}_face"].setValue(face)
    g[f"voice{i}_offset"].setValue(offset)
    g[f"voice{i}_text"].setValue(text)


def test_voices_tab_has_a_set_of_knobs_per_voice(nk):
    g = nk["g"]
    for i in range(1, 5):
        for k in ("dub", "offset", "text", "face"):
            assert g.knob(f"voice{i}_{k}") is not None
    assert type(g.knob("voice1_dub")).__name__ == "File_Knob"
    assert type(g.knob("voice1_offset")).__name__ == "Double_Knob"
    assert type(g.knob("voice1_text")).__name__ == "Multiline_Eval_String_Knob"
    assert g.knob("voice5_dub") is None


def test_find_faces_lists_each_face_its_position_and_picture(nk):
    g = nk["g"]
    g["find_faces"].execute()
    _finish(nk)
    call = json.load(open(nk["log"]))[0]
    assert call[:2] == ["analyze", nk["plate"]] and "--thumbnails" in call
    faces = g["faces"].getText().splitlines()
    assert faces[0].startswith("face 2 (left) at 300,300: type left; picture ") and faces[0].endswith("face2.png")
    assert faces[1].startswith("face 0 (right) at 900,300: type right")
    assert g["status"].getText().startswith("found 2 face(s) in frames 1001-1048")


def test_render_with_voices_is_one_dialogue_job_and_every_face_its_figures(nk):
    g = nk["g"]
    g["language"].setValue("es")
    _voice(g, 1, nk["dubs"]["anna.wav"], "left", offset=12, text="[laughs] ¡hola $amigo!")
    _voice(g, 3, nk["dubs"]["ben.wav"], "right")
    g["render"].execute()                 # no curves needed: each face follows its own dub
    _finish(nk)
    call = json.load(open(nk["log"]))[-1]
    assert call[:2] == ["run", "--job"]
    job = json.load(open(call[2]))
    assert job["voices"] == [{"face": "left", "audio": nk["dubs"]["anna.wav"], "audio_offset_s": 0.5,
                              "text": "[laughs] ¡hola $amigo!"},
                             {"face": "right", "audio": nk["dubs"]["ben.wav"], "audio_offset_s": 0.0}]
    assert (job["start_frame"], job["end_frame"], job["language"]) == (0, 47, "es")
    assert not {"audio", "face", "shapes", "text"} & set(job)
    status = g["status"].getText()
    # The flagged range in Nuke frames, naming its face; then each face's own line.
    assert "Untouched: 1004-1005 occluded (right)" in status
    assert ("face left: 40 frames redrawn, 20 with speech, 0 left as shot, QC pass (sync r 0.90, "
            "closure 0.96), 0 flagged range(s)") in status
    assert ("face right: 30 frames redrawn, 20 with speech, 10 left as shot, QC warn (sync r 0.70, "
            "closure 0.96), 1 flagged range(s) (untouched: 1004-1005 occluded)") in status
    assert g.node("lipflap_render")["file"].getText().endswith("two_shot_lipflap_es_v001.mov")


@pytest.mark.parametrize("faces, said", [
    (("left", " LEFT"), "voices 1 and 2 both name face left; give each voice its own face"),
    (("left", "the tall one"), "is not a face; give left, right, centre"),
    (("left", ""), "voice 2 has no face; type left, right, centre"),
])
def test_voices_the_engine_would_refuse_are_one_sentence_before_it_runs(nk, faces, said):
    g, stub = nk["g"], nk["stub"]
    _voice(g, 1, nk["dubs"]["anna.wav"], faces[0])
    _voice(g, 2, nk["dubs"]["ben.wav"], faces[1])
    g["render"].execute()
    assert said in stub.messages[-1]
    assert not os.path.exists(nk["log"])   # the engine never ran


def test_a_missing_voice_dub_is_named(nk):
    g, stub = nk["g"], nk["stub"]
    _voice(g, 2, str(nk["log"]) + ".nothing.wav", "right")
    g["render"].execute()
    assert "voice 2's dub" in stub.messages[-1] and "set voice 2's dub audio" in stub.messages[-1]


def test_without_voices_the_one_voice_node_is_unchanged(nk):
    """No voice dub set: Render still needs the lipflap tab's dub and Analyze's curves."""
    g, stub = nk["g"], nk["stub"]
    g["dub"].setValue(nk["dubs"]["anna.wav"])
    g["render"].execute()
    assert "press Analyze first" in stub.messages[-1]


# -- by character: a cast file, each voice's face knob a character's name --------------------------

def _cast(nk, tmp_path):
    path = tmp_path / "cast.json"
    path.write_text(json.dumps({"characters": {n: {"video": nk["plate"], "face": f, "frame": 3}
                                               for n, f in (("ANNA", "left"), ("BEN", "right"))}}))
    return str(path)


def test_a_single_by_character_voices_whom_it_shows(nk, tmp_path, monkeypatch):
    """A close-up of Anna with both characters' dubs: Anna is voiced, Ben's lines are said to be
    off screen (by face position this was "the same face")."""
    g = nk["g"]
    monkeypatch.setenv("FAKE_SHOWN", "ANNA")
    g["cast_file"].setValue(_cast(nk, tmp_path))
    _voice(g, 1, nk["dubs"]["anna.wav"], "ANNA", offset=12)
    _voice(g, 2, nk["dubs"]["ben.wav"], "BEN")
    g["render"].execute()
    _finish(nk)
    job = json.load(open(json.load(open(nk["log"]))[-1][2]))
    assert job["cast_file"] == str(tmp_path / "cast.json")
    assert [(v["character"], v["audio"]) for v in job["voices"]] == [("ANNA", nk["dubs"]["anna.wav"]),
                                                                      ("BEN", nk["dubs"]["ben.wav"])]
    assert all("face" not in v for v in job["voices"])
    status = g["status"].getText()
    assert "\nvoiced ANNA" in status and "\nBEN speaks 2.5 s off screen (not lip-synced)" in status
    assert g.node("result")["which"].value() == 1     # the patch render over the plate is shown


def test_no_character_shown_passes_the_plate_through(nk, tmp_path, monkeypatch):
    g = nk["g"]
    monkeypatch.setenv("FAKE_SHOWN", "")
    g["cast_file"].setValue(_cast(nk, tmp_path))
    _voice(g, 1, nk["dubs"]["ben.wav"], "BEN")
    g["render"].execute()
    _finish(nk)
    assert g["status"].getText().startswith("left as it is (the plate passes through): ")
    assert g.node("result")["which"].value() == 0


@pytest.mark.parametrize("names, said", [
    (("ANNA", "CARLA"), "voice 2's character CARLA is not in the cast file (it has ANNA, BEN)"),
    (("ANNA", "ANNA"), "voices 1 and 2 both name character ANNA"),
    (("ANNA", ""), "voice 2's character (empty) is not in the cast file"),
])
def test_characters_the_cast_lacks_are_one_sentence_before_it_runs(nk, tmp_path, names, said):
    g, stub = nk["g"], nk["stub"]
    g["cast_file"].setValue(_cast(nk, tmp_path))
    _voice(g, 1, nk["dubs"]["anna.wav"], names[0])
    _voice(g, 2, nk["dubs"]["ben.wav"], names[1])
    g["render"].execute()
    assert said in stub.messages[-1]
    assert not os.path.exists(nk["log"])


def test_a_missing_cast_file_is_named(nk, tmp_path):
    g, stub = nk["g"], nk["stub"]
    g["cast_file"].setValue(str(tmp_path / "nope.json"))
    _voice(g, 1, nk["dubs"]["anna.wav"], "ANNA")
    g["render"].execute()
    assert "cast file" in stub.messages[-1] and "not found; set the cast file knob" in stub.messages[-1]


def test_a_cast_file_that_is_not_one_is_the_contracts_sentence(nk, tmp_path):
    g, stub = nk["g"], nk["stub"]
    bad = tmp_path / "cast.json"
    bad.write_text('{"characters": {}}')
    g["cast_file"].setValue(str(bad))
    _voice(g, 1, nk["dubs"]["anna.wav"], "ANNA")
    g["render"].execute()
    assert (f'{bad}: no "characters" object naming at least one character; fix the cast file'
            in stub.messages[-1]) and "make it again with lipflap cast" in stub.messages[-1]
    assert not os.path.exists(nk["log"])
