"""Festival recorded-voice training data (training/festival_synth.py, make_data.py)."""
from __future__ import annotations

import shutil
import sys
import wave
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "training"))
from lipflap.speech import articulation  # noqa: E402
import festival_synth as fs  # noqa: E402
import make_data  # noqa: E402


def test_every_table_entry_is_a_shape_the_articulation_table_knows():
    for voice, lang, enc, table, package in fs.VOICES:
        for name, ipa in table.items():
            if ipa == "":
                continue
            syms = articulation._symbols(ipa)
            assert syms, f"{voice}: {name} -> {ipa!r} has no articulation entry"


def test_phone_names_map_with_stress_and_length_marks_dropped():
    radio, finnish = fs._RADIO, fs._FINNISH
    assert fs.to_ipa("pau", radio) == "" and fs.to_ipa("#", finnish) == ""
    assert fs.to_ipa("aa1", radio) == "ɑ" and fs.to_ipa("ay", radio) == "aɪ"
    assert fs.to_ipa("a:", finnish) == "ɑ" and fs.to_ipa("@:", finnish) == "æ"
    assert fs.to_ipa("qq", radio) is None            # unknown: the caller drops the utterance
    czech, hindi = fs._CZECH, fs._INDIC
    assert fs.to_ipa("#", czech) == "" and fs.to_ipa("_", czech) == ""
    assert fs.to_ipa("e:", czech) == "ɛ" and fs.to_ipa("r~*", czech) == "r"
    assert fs.to_ipa("s~", czech) == "ʃ" and fs.to_ipa("n*", czech) == "ŋ"
    assert fs.to_ipa("bh", hindi) == "b" and fs.to_ipa("aa", hindi) == "a"


def test_segment_file_becomes_phones_with_starts(tmp_path):
    wav_path, seg_path = tmp_path / "0.wav", tmp_path / "0.txt"
    with wave.open(str(wav_path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes((np.sin(np.arange(8000) / 5.0) * 8000).astype(np.int16).tobytes())
    seg_path.write_text("pau 0.10\nm 0.18\naa 0.40\npau 0.50\n")
    x, rate, phones = fs._read(str(wav_path), str(seg_path), fs._RADIO)
    assert rate == 16000 and len(x) == 8000 and x.dtype == np.float32
    assert phones == [("", 0.0, 0.10), ("m", 0.10, 0.18), ("ɑ", 0.18, 0.40), ("", 0.40, 0.50)]
    seg_path.write_text("pau 0.10\nqq 0.18\n")
    assert fs._read(str(wav_path), str(seg_path), fs._RADIO) is None


def test_missing_voices_stop_data_generation_with_the_install_command(monkeypatch):
    monkeypatch.setattr(fs, "available", lambda: [])
    with pytest.raises(SystemExit, match="apt install festival festvox-kallpc16k"):
        make_data.generate(2, 1, workers=1, festival_share=0.5)
    d = make_data.generate(2, 1, workers=1, festival_share=0.0)   # eSpeak only still works
    assert len(d["lens"]) == 2


@pytest.mark.skipif(shutil.which("festival") is None, reason="Festival is not installed "
                    "(training only: apt install " + " ".join(fs.PACKAGES) + ")")
def test_festival_renders_phones_that_span_the_audio():
    voices = fs.available()
    assert voices, "festival runs but none of the VOICES is installed"
    got = fs.synth_batch(voices[0], ["A bad map, maybe.", "A bad map, maybe."], [1.0, 1.4])
    for item in got:
        assert item is not None
        x, rate, phones = item
        assert abs(phones[-1][2] - len(x) / rate) < 0.05
        assert any(p in ("m", "b", "p") for p, _, _ in phones)
        assert all(b > a for _, a, b in phones)
    # Duration_Stretch reaches the voice: the same text at 1.4 lasts longer
    speech = [sum(b - a for p, a, b in item[2] if p) for item in got]
    assert speech[1] > 1.25 * speech[0]
