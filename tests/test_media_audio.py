from fractions import Fraction

import numpy as np
import pytest

from lipflap.contract.errors import MediaError
from lipflap.media.audio import load_audio
from mediagen import make_clip, make_wav


def onsets(x, rate, threshold=0.45):
    """Sample positions where the signal first rises above threshold (one per click)."""
    above = np.abs(x) > threshold
    idx = np.flatnonzero(above & ~np.concatenate([[False], above[:-1]]))
    keep = []
    for i in idx:
        if not keep or i - keep[-1] > rate // 50:
            keep.append(int(i))
    return keep


CASES = [
    # fps, extension (mp4 = AAC, mov = PCM), clicks (frame numbers), audio start after video
    ("24000/1001", ".mp4", (3, 17, 40), 0.0),
    ("25", ".mov", (1, 24, 47), 0.0),
    ("30000/1001", ".mov", (5, 29, 44), 0.0),
    ("30000/1001", ".mp4", (2, 33), 0.0),
    ("25", ".mov", (20, 30, 45), 0.5),     # audio track starts 0.5 s after the first frame
]


@pytest.mark.parametrize("fps,ext,clicks,audio_start", CASES)
@pytest.mark.parametrize("rate", [16000, 48000])
def test_clicks_land_on_frame_times(tmp_path, fps, ext, clicks, audio_start, rate):
    path = make_clip(tmp_path / f"c{ext}", fps=fps, frames=48, width=160, height=90,
                     audio="clicks", clicks=clicks, audio_start_s=audio_start)
    r = Fraction(fps) if "/" in fps else Fraction(int(fps))
    x = load_audio(path, rate=rate)
    assert x.dtype == np.float32 and x.ndim == 1
    # To the end of the audio track (AAC pads its last frame).
    assert abs(len(x) - (48 / r + Fraction(audio_start)) * rate) <= rate * 0.03
    tol = rate / 1000  # 1 ms
    got = onsets(x, rate)
    want = [float(k / r * rate) for k in clicks]
    assert len(got) == len(want), (got, want)
    for g, w in zip(got, want):
        assert abs(g - w) <= tol, (got, want)
    # With an offset, positions move by exactly that many samples; the tail is zero-padded.
    off = float(clicks[0] / r) + 0.01
    y = load_audio(path, rate=rate, offset_s=off, duration_s=3.0)
    assert len(y) == 3 * rate
    got = onsets(y, rate)
    want = [float((k / r - Fraction(off)) * rate) for k in clicks[1:]]
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert abs(g - w) <= tol
    assert np.all(y[int(2.1 * rate):] == 0)


def test_before_start_is_silence_and_stereo_shape(tmp_path):
    path = make_clip(tmp_path / "a.mov", fps=25, frames=25, width=160, height=90, audio="tone")
    y = load_audio(path, rate=16000, channels=2, offset_s=-0.5, duration_s=1.0)
    assert y.shape == (16000, 2)
    assert np.all(np.abs(y[:7900]) < 1e-3)            # the 0.5 s before the file: silence
    assert np.abs(y[8200:]).max() > 0.4                # then the tone
    assert np.array_equal(y[:, 0], y[:, 1])


def test_audio_only_and_errors(tmp_path):
    wav = make_wav(tmp_path / "t.wav", seconds=1.0, rate=44100)
    x = load_audio(wav, rate=16000)
    assert abs(len(x) - 16000) <= 2 and np.abs(x).max() > 0.4
    silent = make_clip(tmp_path / "s.mov", fps=25, frames=10, width=160, height=90)
    with pytest.raises(MediaError, match="no audio stream"):
        load_audio(silent)
    with pytest.raises(MediaError, match="stream 3 does not exist"):
        load_audio(wav, stream=3)
    with pytest.raises(MediaError, match="not found"):
        load_audio(tmp_path / "none.wav")


@pytest.mark.parametrize("ext", [".mov", ".mp4"])
def test_offset_past_a_second_uses_seek_and_stays_exact(tmp_path, ext):
    clicks = (10, 70, 110, 140)
    path = make_clip(tmp_path / f"long{ext}", fps=25, frames=150, width=160, height=90,
                     audio="clicks", clicks=clicks)
    for off in (2.5, 4.25):
        y = load_audio(path, rate=16000, offset_s=off, duration_s=1.5)
        got = onsets(y, 16000)
        want = [(k / 25 - off) * 16000 for k in clicks if 0 <= k / 25 - off < 1.5]
        assert len(got) == len(want) and all(abs(g - w) <= 16 for g, w in zip(got, want))


def _flac_with_damage(path, bad, rate=48000, seconds=2.0):
    """A FLAC stream in Matroska whose packets `bad` ("all" or indexes) are replaced by noise of
    the same size (FLAC's checksums make each one undecodable)."""
    import av
    c = av.open(str(path), "w")
    s = c.add_stream("flac", rate=rate, layout="mono")
    t = np.arange(int(seconds * rate)) / rate
    fr = av.AudioFrame.from_ndarray((0.3 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)[None],
                                    format="flt", layout="mono")
    fr.sample_rate, fr.pts = rate, 0
    rng = np.random.default_rng(0)
    for i, p in enumerate(list(s.encode(fr)) + list(s.encode(None))):
        if bad == "all" or i in bad:
            q = av.Packet(rng.integers(0, 256, p.size, dtype=np.uint8).tobytes())
            q.pts, q.dts, q.time_base, q.stream, q.duration = p.pts, p.dts, p.time_base, s, p.duration
            p = q
        c.mux(p)
    c.close()
    return str(path)


def test_undecodable_packets_are_told_once_and_a_stream_of_none_is_refused(tmp_path, capsys):
    from lipflap.media.audio_stream import AudioReader
    path = _flac_with_damage(tmp_path / "damaged.mka", bad=(10, 11, 12))
    told = []
    x = load_audio(path, rate=16000, warn=told.append)
    assert len(x) == 32000 and np.abs(x[:8000]).max() > 0.2       # the sound before it is there
    assert told == [f"{path}: 3 audio packets could not be decoded (the first at 0.96 s) and play "
                    f"as silence; re-export or re-copy the file if that sound matters."]
    # A reader without warnings of its own says it on stderr, once.
    load_audio(path, rate=16000)
    assert capsys.readouterr().err.count("3 audio packets could not be decoded") == 1
    # The streaming reader (the render's) tells its own `warn`.
    told.clear()
    r = AudioReader(path, 16000, offset_s=0.0, duration_s=2.0, warn=told.append)
    r.read(32000)
    r.close()
    assert len(told) == 1 and "3 audio packets" in told[0]
    with pytest.raises(MediaError, match="none of its audio from 0.00 s on could be decoded"):
        load_audio(_flac_with_damage(tmp_path / "dead.mka", bad="all"))
