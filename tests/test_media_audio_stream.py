"""The streamed dub equals the whole-range load, block boundaries included."""
import numpy as np
import pytest

import lipflap.media.audio_stream as stream_mod
from lipflap.media.audio import load_audio
from lipflap.media.audio_stream import AudioReader
from mediagen import make_clip


@pytest.fixture(scope="module")
def clicks_clip(tmp_path_factory):
    d = tmp_path_factory.mktemp("as")
    return make_clip(d / "c.mov", fps=25, frames=150, width=160, height=90, audio="clicks",
                     clicks=(10, 37, 70, 110, 140), audio_rate=44100)


@pytest.mark.parametrize("rate,channels,offset,duration", [
    (48000, 1, 0.0, 6.0), (48000, 2, 2.37, 3.3), (16000, 1, 1.2, 2.0), (44100, 2, -0.5, 4.0),
    (48000, 1, 5.5, 2.0)])   # runs past the audio's end: silence
def test_reads_equal_the_whole_load(clicks_clip, monkeypatch, rate, channels, offset, duration):
    monkeypatch.setattr(stream_mod, "BLOCK_S", 0.07)   # many block boundaries
    ref = load_audio(clicks_clip, rate, channels, offset_s=offset, duration_s=duration)
    ref = ref if ref.ndim == 2 else ref[:, None]
    rng = np.random.default_rng(1)
    with AudioReader(clicks_clip, rate, channels, offset_s=offset, duration_s=duration) as r:
        parts, total = [], 0
        while total < len(ref) + 500:
            k = int(rng.integers(1, 3000))
            parts.append(r.read(k))
            total += k
    got = np.concatenate(parts)
    assert got.shape[1] == channels
    assert np.abs(got[:len(ref)] - ref).max() < 1e-6
    assert not got[len(ref):].any()   # after the range: silence


def test_holds_a_few_blocks_not_the_dub(clicks_clip, monkeypatch):
    monkeypatch.setattr(stream_mod, "BLOCK_S", 0.5)
    with AudioReader(clicks_clip, 48000, 1) as r:
        for _ in range(10):
            r.read(4800)
            held = sum(d.shape[1] for _, d in r._chunks)
            assert held < 2.0 * 44100    # native samples kept: about a block and its margins
