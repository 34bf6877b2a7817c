import json
import re
from fractions import Fraction

import pytest

from lipflap.contract.errors import LipflapError
from lipflap.exporters import ExportOptions, export, format_for_path, render
from lipflap.mouth.build import track_from_phones
from lipflap.mouth.track import MouthTrack
from lipflap.speech.types import Phone


@pytest.fixture(scope="module")
def track():
    phones = [Phone("_", 0, 0.4), Phone("h", 0.4, 0.46), Phone("ˈo", 0.46, 0.6),
              Phone("l", 0.6, 0.66), Phone("a", 0.66, 0.8), Phone("_", 0.8, 1.3),
              Phone("m", 1.3, 1.38), Phone("ˈa", 1.38, 1.55), Phone("f", 1.55, 1.62),
              Phone("u", 1.62, 1.8), Phone("_", 1.8, 2.2)]
    return track_from_phones(phones, Fraction(24000, 1001))


@pytest.mark.parametrize("path,fmt", [("a.json", "json"), ("a.TSV", "tsv"), ("a.txt", "rhubarb"),
                                      ("a.nk", "nuke"), ("a.otio", "otio")])
def test_format_from_extension(path, fmt):
    assert format_for_path(path) == fmt


def test_unknown_extension_is_clear():
    with pytest.raises(LipflapError, match="out.xyz.*--format"):
        format_for_path("out.xyz")


def test_json_round_trip_through_file(tmp_path, track):
    p = tmp_path / "t.json"
    assert export(track, str(p)) == "json"
    back = MouthTrack.load(str(p))
    assert back.fps == track.fps and len(back.frames) == len(track.frames)
    assert [f.shape for f in back.frames] == [f.shape for f in track.frames]
    assert back.frames[20].aperture == pytest.approx(track.frames[20].aperture, abs=1e-4)
    d = json.loads(p.read_text())
    assert d["fps"] == "24000/1001" and set(d) >= {"fps", "frames", "phonemes", "cues"}
    assert [x.name for x in tmp_path.iterdir()] == ["t.json"]       # no temp file left


def test_tsv_columns(track):
    lines = render(track, "tsv").splitlines()
    assert lines[0].split("\t") == ["frame", "time", "viseme", "shape", "aperture", "width",
                                    "rounding", "jaw"]
    assert len(lines) == len(track.frames) + 1
    row = lines[11].split("\t")
    assert int(row[0]) == 10 and float(row[1]) == pytest.approx(10 * 1001 / 24000, abs=1e-6)
    assert row[3] in "ABCDEFGHX" and 0 <= float(row[4]) <= 1


def test_rhubarb_tsv_form(track):
    text = render(track, "rhubarb")
    assert text.endswith("\n")
    rows = [ln.split("\t") for ln in text.splitlines()]
    assert all(len(r) == 2 and re.fullmatch(r"\d+\.\d\d", r[0]) and r[1] in "ABCDEFGHX"
               for r in rows)
    times = [float(r[0]) for r in rows]
    assert times[0] == 0.0 and times == sorted(times) and len(set(times)) == len(times)
    assert all(a[1] != b[1] for a, b in zip(rows, rows[1:-1]))      # neighbours joined
    assert rows[-1][1] == "X" and times[-1] == pytest.approx(track.cues[-1][1], abs=0.006)
    assert "A" in {r[1] for r in rows} and "X" == rows[0][1]
    # the m at 1.30-1.38 s is a closed-mouth cue starting within a frame of it
    a_starts = [t for t, (_, s) in zip(times, rows) if s == "A"]
    assert any(1.25 <= t <= 1.38 for t in a_starts)


def _balanced(text):
    depth = 0
    for ch in text:
        depth += ch == "{"
        depth -= ch == "}"
        if depth < 0:
            return False
    return depth == 0


def test_nuke_text_grammar(track):
    text = render(track, "nuke", ExportOptions(first_frame=1001, node_name="shot 010/mouth"))
    assert _balanced(text)
    assert re.search(r"^NoOp \{$", text, re.M) and text.rstrip().endswith("}")
    assert re.search(r"^ name shot_010_mouth$", text, re.M)
    n = len(track.frames)
    for knob in ("aperture", "width", "rounding", "jaw"):
        assert re.search(rf"^ addUserKnob \{{7 {knob} R 0 1\}}$", text, re.M)
        m = re.search(rf"^ {knob} \{{\{{curve ((?:x\d+ -?[\d.]+ ?)+)\}}\}}$", text, re.M)
        assert m, knob
        keys = re.findall(r"x(\d+) (-?[\d.]+)", m.group(1))
        assert [int(k) for k, _ in keys] == list(range(1001, 1001 + n))
        values = [float(v) for _, v in keys]
        expect = [getattr(f, knob) for f in track.frames]
        assert values == pytest.approx(expect, abs=1e-4)
    # first frame selectable
    other = render(track, "nuke", ExportOptions(first_frame=1))
    assert "{{curve x1 " in other and f"x{n} " in other


def test_otio_markers_load_back(tmp_path, track):
    otio = pytest.importorskip("opentimelineio")
    p = tmp_path / "t.otio"
    export(track, str(p), options=ExportOptions(audio_path=str(tmp_path / "dub.wav")))
    tl = otio.adapters.read_from_file(str(p))
    clips = tl.find_clips()
    assert len(clips) == 1
    clip = clips[0]
    rate = float(track.fps)
    assert clip.source_range.duration.rate == pytest.approx(rate)
    assert clip.source_range.duration.value == len(track.frames)
    assert clip.media_reference.target_url.endswith("dub.wav")
    markers = clip.markers
    assert len(markers) == len(track.cues)
    for m, (start, end, shape) in zip(markers, track.cues):
        assert m.name == shape and m.metadata["lipflap"]["shape"] == shape
        assert m.marked_range.start_time.value == round(start * rate)
        assert m.marked_range.duration.value >= 1


def test_otio_clip_covers_audio_duration(track):
    otio = pytest.importorskip("opentimelineio")
    text = render(track, "otio", ExportOptions(audio_duration=5.0))
    clip = otio.adapters.read_from_string(text, "otio_json").find_clips()[0]
    assert clip.source_range.duration.value == round(5.0 * float(track.fps))
