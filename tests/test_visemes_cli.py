"""`python -m lipflap visemes` end to end on a synthetic dub (eSpeak NG) and on silence."""
import json
import math
import subprocess
import sys
import wave

import numpy as np
import pytest

TEXT = "Hola, me llamo Pablo y bebo mucha agua. Buenos días, amigo mío."


def run(*args):
    return subprocess.run([sys.executable, "-m", "lipflap", "visemes", *map(str, args)],
                           capture_output=True, text=True, timeout=300)


def _write_wav(path, x, sr):
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(sr)
        w.writeframes((np.clip(x, -1, 1) * 32767).astype(np.int16).tobytes())


@pytest.fixture(scope="module")
def dub(tmp_path_factory):
    espeak = pytest.importorskip("lipflap.speech.espeak")
    samples, sr, phones = espeak.synthesize(TEXT, "es")
    lead = 0.5
    x = np.r_[np.zeros(int(lead * sr)), samples, np.zeros(int(0.6 * sr))]
    path = tmp_path_factory.mktemp("dub") / "dub_es.wav"
    _write_wav(path, x, sr)
    truth = [(p.phone, p.start + lead, p.end + lead) for p in phones]
    return path, truth, len(x) / sr


def test_script_aware_json_at_ntsc_rate(dub, tmp_path):
    path, truth, duration = dub
    out = tmp_path / "track.json"
    r = run(path, "-o", out, "--text", TEXT, "--language", "es", "--fps", "23.976",
            "--progress", "json")
    assert r.returncode == 0, r.stderr
    lines = [json.loads(ln) for ln in r.stdout.splitlines()]
    assert lines[-1]["result"]["frames"] == math.ceil(duration * 24000 / 1001 - 1e-6)
    d = json.loads(out.read_text())
    assert d["fps"] == "24000/1001" and d["source"].startswith("script")
    ap = np.array([f["aperture"] for f in d["frames"]])
    fps = 24000 / 1001
    # every p/b/m of the true timing has a sealed frame within a frame of it
    for ph, s, e in truth:
        if ph.strip("ˈˌ")[:1] in ("p", "b", "m"):
            a, b = max(0, math.floor(s * fps) - 1), math.ceil(e * fps) + 2
            assert ap[a:b].min() < 0.05, (ph, s, e)
    # the lead silence and the tail rest
    assert ap[: int(0.35 * fps)].max() < 0.02 and ap[-int(0.35 * fps):].max() < 0.05
    assert {f["shape"] for f in d["frames"]} <= set("ABCDEFGHX")
    assert [x.name for x in tmp_path.iterdir()] == ["track.json"]


def test_transcript_file_offset_and_rhubarb(dub, tmp_path):
    path, _truth, duration = dub
    script = tmp_path / "script.txt"
    script.write_text(TEXT + "\n", encoding="utf-8")
    out = tmp_path / "cues.txt"
    r = run(path, "-o", out, "--transcript", script, "--language", "es", "--fps", "25",
            "--audio-offset", "0.5")
    assert r.returncode == 0, r.stderr
    rows = [ln.split("\t") for ln in out.read_text().splitlines()]
    assert rows[0][0] == "0.00" and rows[-1][1] == "X"
    assert float(rows[-1][0]) == pytest.approx(math.ceil((duration - 0.5) * 25) / 25, abs=0.01)
    # speech starts right at frame 0 now: the first cue is not a long rest
    assert float(rows[1][0]) < 0.2


@pytest.mark.parametrize("fmt,ext", [("nuke", ".nk"), ("otio", ".otio"), ("tsv", ".tsv")])
def test_other_formats(dub, tmp_path, fmt, ext):
    path, _truth, _d = dub
    out = tmp_path / f"t{ext}"
    r = run(path, "-o", out, "--text", TEXT, "--language", "es", "--fps", "24000/1001")
    assert r.returncode == 0, r.stderr
    text = out.read_text()
    if fmt == "nuke":
        assert "{{curve x1001 " in text and text.count("{") == text.count("}")
    elif fmt == "otio":
        otio = pytest.importorskip("opentimelineio")
        clip = otio.adapters.read_from_file(str(out)).find_clips()[0]
        assert len(clip.markers) > 5
    else:
        assert text.splitlines()[0].startswith("frame\ttime\tviseme")


def test_silence_is_all_rest(tmp_path):
    path = tmp_path / "silence.wav"
    _write_wav(path, np.zeros(16000 * 2), 16000)
    out = tmp_path / "s.json"
    r = run(path, "-o", out, "--fps", "25")
    assert r.returncode == 0, r.stderr
    d = json.loads(out.read_text())
    assert len(d["frames"]) == 50
    assert {f["shape"] for f in d["frames"]} == {"X"} and max(f["aperture"] for f in d["frames"]) == 0
    # with a script too: still rest, exit 0
    r = run(path, "-o", out, "--fps", "25", "--text", "hola", "--language", "es")
    assert r.returncode == 0, r.stderr
    assert {f["shape"] for f in json.loads(out.read_text())["frames"]} == {"X"}


def test_unknown_language_is_a_clear_error(dub, tmp_path):
    path, _t, _d = dub
    out = tmp_path / "x.json"
    r = run(path, "-o", out, "--text", "hola", "--language", "zz-nope")
    assert r.returncode != 0
    assert "zz-nope" in r.stderr and "--list-languages" in r.stderr
    assert "Traceback" not in r.stderr and not out.exists()


def test_usage_errors(dub, tmp_path):
    path, _t, _d = dub
    r = run(path, "-o", tmp_path / "x.mov")
    assert r.returncode != 0 and "--format" in r.stderr and "Traceback" not in r.stderr
    r = run(tmp_path / "missing.wav", "-o", tmp_path / "x.json")
    assert r.returncode != 0 and "missing.wav" in r.stderr
    r = run(path, "-o", tmp_path / "x.json", "--text", "hola")
    assert r.returncode != 0 and "--language" in r.stderr
    r = run(path, "-o", tmp_path / "x.json", "--fps", "fast")
    assert r.returncode != 0 and "fast" in r.stderr
    r = run(path, "-o", tmp_path / "nope" / "x.json")
    assert r.returncode != 0 and "does not exist" in r.stderr and "Traceback" not in r.stderr


def test_list_languages():
    r = run("--list-languages")
    assert r.returncode == 0
    codes = {ln.split("\t")[0] for ln in r.stdout.splitlines()}
    assert {"es", "de", "fr", "en-us"} <= codes and len(codes) > 90
