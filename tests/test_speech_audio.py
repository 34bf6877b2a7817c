"""Loading dialogue from files: multichannel layouts, rates, transcripts."""
from __future__ import annotations

import av
import numpy as np
import pytest

from lipflap.contract.errors import LipflapError
from lipflap.speech.align import align_script
from lipflap.speech.audio import load_speech, pick_dialogue
from lipflap.speech.features import resample
from lipflap.speech.synthdub import make_dub, onset_errors
from lipflap.speech.transcript import read_transcript

TEXT = ["El perro de mi vecino ladra todas las noches.", "Mañana vamos a la playa, si no llueve."]


def _write_wav(path, channels: np.ndarray, rate: int, layout: str):
    c = av.open(str(path), "w")
    s = c.add_stream("pcm_s16le", rate=rate, layout=layout)
    frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(channels, np.float32), format="fltp",
                                       layout=layout)
    frame.sample_rate = rate
    for p in s.encode(frame):
        c.mux(p)
    for p in s.encode(None):
        c.mux(p)
    c.close()


@pytest.fixture(scope="module")
def dub():
    return make_dub(TEXT, "es", snr_db=30, seed=11)


def test_96k_51_takes_the_centre_channel(tmp_path, dub):
    rate = 96000
    speech = resample(dub.samples, dub.rate, rate)
    rng = np.random.default_rng(0)
    n = len(speech)
    music = 0.3 * np.sin(2 * np.pi * 220 * np.arange(n) / rate) * (1 + rng.standard_normal(n) * .1)
    lfe = 0.4 * np.sin(2 * np.pi * 40 * np.arange(n) / rate)
    chans = np.stack([music, music[::-1], speech, lfe,
                      0.05 * rng.standard_normal(n), 0.05 * rng.standard_normal(n)])
    path = tmp_path / "dub51.wav"
    _write_wav(path, chans, rate, "5.1")
    x, r = load_speech(path)
    assert r == 16000 and x.ndim == 1 and x.dtype == np.float32
    want = resample(dub.samples, dub.rate, 16000)
    m = min(len(x), len(want))
    assert np.corrcoef(x[:m], want[:m])[0, 1] > 0.95
    res = align_script(x, r, " ".join(TEXT), "es")
    errors, _ = onset_errors(dub.phones, res.phones)
    assert np.median(errors) <= 0.02
    # A chosen channel, by index or by name; a missing one is a clear error.
    lfe, _ = load_speech(path, channel=3)
    lfe2, _ = load_speech(path, channel="LFE")
    assert np.array_equal(lfe, lfe2) and np.corrcoef(lfe[:m], want[:m])[0, 1] < 0.2
    with pytest.raises(LipflapError, match="has 6 audio channel"):
        load_speech(path, channel=6)
    with pytest.raises(LipflapError, match="no channel 'XX'"):
        load_speech(path, channel="XX")


def test_layout_without_centre_takes_the_speechiest_channel(dub):
    rng = np.random.default_rng(1)
    n = len(dub.samples)
    data = np.stack([0.2 * np.sin(2 * np.pi * 60 * np.arange(n) / dub.rate),
                     0.02 * rng.standard_normal(n), dub.samples, 0.02 * rng.standard_normal(n)], 1)
    out = pick_dialogue(data.astype(np.float32), dub.rate, ["c0", "c1", "c2", "c3"])
    assert np.array_equal(out, dub.samples)


def test_8k_mono_file_loads_at_the_asked_rate(tmp_path, dub):
    x8 = resample(dub.samples, dub.rate, 8000)
    path = tmp_path / "tel.wav"
    _write_wav(path, x8[None, :], 8000, "mono")
    x, r = load_speech(path, rate=8000)
    assert r == 8000 and abs(len(x) - len(x8)) <= 8
    x16, r16 = load_speech(path)
    assert r16 == 16000 and abs(len(x16) - 2 * len(x8)) <= 16


def test_read_transcript(tmp_path):
    good = tmp_path / "ok.txt"
    good.write_bytes("\ufeffHola,\n  ¿cómo estás?\n".encode("utf-8"))
    assert read_transcript(good) == "Hola, ¿cómo estás?"
    bad = tmp_path / "latin1.txt"
    bad.write_bytes("canción".encode("latin-1"))
    with pytest.raises(LipflapError, match=r"latin1\.txt is not UTF-8"):
        read_transcript(bad)
    empty = tmp_path / "empty.txt"
    empty.write_text(" \n\t ")
    with pytest.raises(LipflapError, match=r"empty\.txt is empty"):
        read_transcript(empty)
    with pytest.raises(LipflapError, match="cannot read the transcript .*missing.txt"):
        read_transcript(tmp_path / "missing.txt")


def test_load_speech_opens_the_file_once(tmp_path, monkeypatch):
    import lipflap.media.audio as media_audio
    rate = 16000
    t = np.arange(rate) / rate
    path = tmp_path / "st.wav"
    _write_wav(path, np.stack([np.sin(2 * np.pi * 200 * t), np.sin(2 * np.pi * 300 * t)]) * 0.3,
               rate, "stereo")
    opened = []
    real = media_audio.open_input
    monkeypatch.setattr(media_audio, "open_input", lambda p: opened.append(p) or real(p))
    x, r = load_speech(path)
    assert opened == [str(path)] and r == rate and len(x) == rate
    opened.clear()
    right, _ = load_speech(path, channel=1)
    assert opened == [str(path)] and np.corrcoef(right, 0.3 * np.sin(2 * np.pi * 300 * t))[0, 1] > 0.99


def test_a_file_without_channel_names_asks_for_the_channel_by_number(tmp_path):
    # PyAV writes a stereo WAV without a channel mask: FFmpeg names its channels "NONE".
    rate = 16000
    t = np.arange(rate) / rate
    path = tmp_path / "plain.wav"
    _write_wav(path, np.stack([np.sin(2 * np.pi * 200 * t), np.sin(2 * np.pi * 300 * t)]) * 0.3,
               rate, "stereo")
    with pytest.raises(LipflapError) as e:
        load_speech(path, channel="FR")
    assert str(e.value) == (f"{path} has no channel layout names, so there is no channel 'FR'; "
                            f"give the channel by its number, 0 to 1.")
    right, _ = load_speech(path, channel="1")
    assert np.corrcoef(right, 0.3 * np.sin(2 * np.pi * 300 * t))[0, 1] > 0.99
