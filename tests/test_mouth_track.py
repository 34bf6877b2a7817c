import json
from fractions import Fraction

import pytest

from lipflap.contract.errors import LipflapError
from lipflap.contract.rates import rate_json
from lipflap.mouth.track import MouthFrame, MouthTrack, Phone
from lipflap.mouth.visemes import VISEME_TARGET


def _track(fps=Fraction(24000, 1001), n=6):
    frames = []
    vis = ["sil", "PP", "PP", "aa", "aa", "sil"]
    for i in range(n):
        v = vis[i % len(vis)]
        frames.append(MouthFrame(i, float(i / fps), v, {"sil": "X", "PP": "A", "aa": "D"}[v],
                                 *VISEME_TARGET[v]))
    return MouthTrack(fps=fps, frames=frames,
                      phonemes=[Phone("_", 0.0, 0.04), Phone("p", 0.04, 0.12, "pa"),
                                Phone("a", 0.12, 0.2, "pa")],
                      cues=[(0.0, 0.0417, "X"), (0.0417, 0.125, "A"), (0.125, 0.25, "D")],
                      source="script", warnings=["a note"])


def test_round_trip_exact_contract_keys():
    t = _track()
    d = json.loads(t.to_json())
    assert d["fps"] == "24000/1001"
    assert set(d["frames"][0]) == {"frame", "time", "viseme", "shape", "aperture", "width",
                                   "rounding", "jaw"}
    assert d["phonemes"][0] == {"phone": "_", "start": 0.0, "end": 0.04}
    assert d["cues"][1] == {"start": 0.0417, "end": 0.125, "shape": "A"}
    back = MouthTrack.from_json(t.to_json())
    assert back.fps == Fraction(24000, 1001)
    assert [f.viseme for f in back.frames] == [f.viseme for f in t.frames]
    assert back.frames[3].aperture == pytest.approx(0.9)
    assert back.frames[5].time == pytest.approx(5 * 1001 / 24000)
    assert back.phonemes[1].word == "pa" and back.cues == t.cues
    assert back.source == "script" and back.warnings == ["a note"]


@pytest.mark.parametrize("fps,written", [(Fraction(24), 24), (Fraction(25), 25),
                                         (Fraction(30000, 1001), "30000/1001")])
def test_fps_written_as_number_or_rational(fps, written):
    assert rate_json(fps) == written
    assert MouthTrack.from_json(_track(fps).to_json()).fps == fps


@pytest.mark.parametrize("raw,expect", [(23.976, Fraction(24000, 1001)), ("25", Fraction(25)),
                                        (24, Fraction(24)), ("24000/1001", Fraction(24000, 1001))])
def test_fps_read_number_or_string(raw, expect):
    d = {"fps": raw, "frames": [{"frame": 0, "aperture": 0.1}]}
    assert MouthTrack.from_json(json.dumps(d)).fps == expect


def test_artist_edited_track_loads(tmp_path):
    # The artist kept only the frames they touched, changed only aperture, dropped names.
    d = {"fps": 25, "frames": [{"frame": 0, "aperture": 0.0},
                               {"frame": 4, "aperture": 0.8},
                               {"frame": 6, "aperture": 0.4, "viseme": "E"}]}
    p = tmp_path / "edited.json"
    p.write_text(json.dumps(d))
    t = MouthTrack.load(str(p))
    assert [f.frame for f in t.frames] == list(range(7))
    assert t.frames[2].aperture == pytest.approx(0.4)        # interpolated between 0 and 0.8
    assert t.frames[4].aperture == pytest.approx(0.8)
    assert t.frames[6].viseme == "E" and t.frames[6].aperture == pytest.approx(0.4)
    assert t.frames[6].width == pytest.approx(VISEME_TARGET["E"][1])
    assert t.frames[0].shape == "X" and t.frames[4].shape in "CDE"
    assert all(f.viseme and f.shape for f in t.frames)
    assert t.cues and t.cues[0][2] == "X"
    assert any("interpolated" in w for w in t.warnings)


def test_full_track_with_only_aperture_changed_keeps_other_values():
    d = json.loads(_track().to_json())
    for f in d["frames"]:
        del f["viseme"], f["shape"]
    d["frames"][3]["aperture"] = 0.33
    t = MouthTrack.from_json(json.dumps(d))
    assert t.frames[3].aperture == pytest.approx(0.33)
    assert t.frames[3].jaw == pytest.approx(VISEME_TARGET["aa"][3])
    assert t.frames[1].viseme == "PP" or t.frames[1].shape == "A"


@pytest.mark.parametrize("frames,needle", [
    (["oops"], "frames[0]"),
    ([{"frame": 0, "aperture": 0.1}, {"frame": 1, "aperture": "wide"}], "frames[1]"),
    ([{"frame": 0, "aperture": 0.1}, {"frame": 0, "aperture": 0.2}], "frames[1] repeats frame 0"),
    ([{"frame": -1, "aperture": 0.1}], "frames[0]"),
    ([{"frame": 0, "viseme": "zz"}], "frames[0]"),
    ([{"frame": 0, "aperture": 3.0}], "frames[0]"),
    ([{"frame": 0}], "frames[0]"),
])
def test_malformed_names_file_and_entry(tmp_path, frames, needle):
    p = tmp_path / "bad.json"
    p.write_text(json.dumps({"fps": 24, "frames": frames}))
    with pytest.raises(LipflapError) as e:
        MouthTrack.load(str(p))
    assert str(p) in str(e.value) and needle in str(e.value)


def test_not_json_and_no_fps(tmp_path):
    p = tmp_path / "x.json"
    p.write_text("{not json")
    with pytest.raises(LipflapError, match="x.json.*not valid JSON"):
        MouthTrack.load(str(p))
    p.write_text(json.dumps({"frames": []}))
    with pytest.raises(LipflapError, match="fps"):
        MouthTrack.load(str(p))
    with pytest.raises(LipflapError, match="cannot read"):
        MouthTrack.load(str(tmp_path / "missing.json"))


def test_save_is_atomic_and_leaves_no_temp(tmp_path):
    p = tmp_path / "t.json"
    _track().save(str(p))
    assert MouthTrack.load(str(p)).frames[1].shape == "A"
    assert [x.name for x in tmp_path.iterdir()] == ["t.json"]


@pytest.mark.parametrize("entry,needle", [({"time": -1.0, "aperture": 0.2}, "frames[0]"),
                                          ({"frame": 10 ** 9, "aperture": 0.2}, "at most")])
def test_out_of_range_frame_positions(entry, needle):
    with pytest.raises(LipflapError, match=needle.replace("[", r"\[").replace("]", r"\]")):
        MouthTrack.from_json(json.dumps({"fps": 24, "frames": [entry]}), name="t.json")
