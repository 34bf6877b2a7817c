"""`lipflap run` on a short cut of real footage, measured by the independent yardstick.

Skips without ../shared. A synthetic Spanish dub with true phone times (eSpeak NG) drives a
script-aware render of talk_b's first 70 frames; the yardstick (MediaPipe on the output's pixels)
must see closed lips on p/b/m and open mouths on open vowels, and the mouth must be as sharp and as
smooth over time as the source's (loose bounds here; bench figures are in the render report).
"""
from __future__ import annotations

import importlib.util
import json
import os
import wave

import numpy as np
import pytest

from lipflap.cli import main


def _lipeval(shared_eval):
    spec = importlib.util.spec_from_file_location("lipeval", os.path.join(shared_eval, "lipeval.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_real_clip_script_aware(shared_media, shared_eval, tmp_path):
    from lipflap.speech.synthdub import make_dub
    ev = _lipeval(shared_eval)
    d = make_dub(["Mamá y papá.", "Vamos a la playa, Pablo."], "es", out_rate=16000, snr_db=None,
                 hesitation=0.0, seed=1)
    dub = str(tmp_path / "dub.wav")
    with wave.open(dub, "wb") as w:
        w.setnchannels(1), w.setsampwidth(2), w.setframerate(d.rate)
        w.writeframes((np.clip(d.samples, -1, 1) * 32767).astype(np.int16).tobytes())
    src = str(shared_media / "talk_b.mp4")
    out = str(tmp_path / "out.mov")
    rep = str(tmp_path / "out.json")
    assert main(["run", src, "--audio", dub, "--text", d.text, "--language", "es", "--start", "0",
                 "--end", "69", "--codec", "prores_4444", "-o", out, "--report", rep,
                 "--progress", "none"]) == 0
    r = json.load(open(rep))
    assert r["frames_rendered"] == 70 and r["mouth_track"]["source"].startswith("script")

    lms, rate = ev.track(out)
    ap, _ = ev.aperture_series(lms)
    phones = [{"phone": p.phone, "start": p.start, "end": p.end} for p in d.phones]
    ph = ev.phonetic_scores(ap, rate, [p for p in phones if p["end"] < 69 / rate])
    closure, n_closure = ph["bilabial_closure"]
    opening, n_open = ph["open_vowel_opening"]
    assert n_closure >= 3 and closure >= 0.9
    assert n_open >= 2 and opening >= 0.9

    src_lms, _ = ev.track(src, max_frames=70)
    fid = ev.fidelity(out, src, src_lms, max_frames=70)
    assert 0.85 <= fid["mouth_sharpness_ratio_median"] <= 1.2
    assert fid["mouth_roughness_ratio"] <= 1.15
    assert fid["psnr_outside_lower_face_db_median"] >= 40
