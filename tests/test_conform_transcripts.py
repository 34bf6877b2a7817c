"""The per-clip transcripts file of `lipflap conform --transcripts` (lipflap.contract.transcripts)."""
import json

import pytest

from lipflap.contract.errors import LipflapError
from lipflap.contract.transcripts import load, lookup, unused_keys


def test_text_blocks_by_clip_name_and_record_timecode(tmp_path):
    p = tmp_path / "t.txt"
    p.write_text("# Spanish dub, reel 1\n\n[A001_C003]\nHola,\n¿qué tal?\n\n[01:00:12;05]\n"
                 "Nos vemos [mañana].\n", encoding="utf-8")
    table = load(str(p))
    assert table == {"A001_C003": "Hola, ¿qué tal?", "01:00:12:05": "Nos vemos [mañana]."}
    # A record timecode wins over the clip name (a clip used twice gets two texts).
    assert lookup(table, "A001_C003", "01:00:12:05") == ("01:00:12:05", "Nos vemos [mañana].")
    assert lookup(table, "A001_C003", "01:00:00:12") == ("A001_C003", "Hola, ¿qué tal?")
    assert lookup(table, "B002", "01:00:20:00") is None
    assert unused_keys(table, {"A001_C003"}) == ["01:00:12:05"]


def test_json_object_and_list(tmp_path):
    p = tmp_path / "t.json"
    p.write_text(json.dumps({"A001_C003": "Hola.", "1:00:12:05": "Adiós."}))
    assert load(str(p)) == {"A001_C003": "Hola.", "01:00:12:05": "Adiós."}
    p.write_text(json.dumps([{"clip": "A001_C003", "text": "Hola."},
                             {"record_in": "01:00:12:05", "text": "Adiós."}]))
    assert load(str(p)) == {"A001_C003": "Hola.", "01:00:12:05": "Adiós."}


@pytest.mark.parametrize("content,needle", [
    ("Hola\n[A]\nx\n", "line 1 has text before any [CLIP]"),
    ("[A]\nx\n[A]\ny\n", "'A' has two entries"),
    ("[A]\n\n[B]\ny\n", "'A' has no text"),
    ('{"A": 3}', "must map a name to a text"),
    ('[{"clip": "A"}]', "entry 1 must be an object"),
    ('{"A": "x",}', "not valid JSON at line 1"),
])
def test_bad_files_name_the_problem(tmp_path, content, needle):
    p = tmp_path / "t.txt"
    p.write_text(content)
    with pytest.raises(LipflapError) as e:
        load(str(p))
    assert needle in str(e.value) and str(p) in str(e.value)


def test_missing_file(tmp_path):
    with pytest.raises(LipflapError, match="transcripts file not found"):
        load(str(tmp_path / "nope.txt"))

