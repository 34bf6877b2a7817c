"""Generated media the hardening tests share: a face clip, a speech dub, and a CLI runner.

The face is scikit-image's astronaut (a real photograph, so Face Mesh finds her) cropped to
320x320 as in tests/test_run_contracts.py and moved a pixel every few frames; the dub is an
eSpeak NG line with its script, so `lipflap run --text` aligns it. Clips are written with PyAV
directly, with whatever codec, pixel format, rate and tags a row needs.
"""
from __future__ import annotations

import contextlib

import functools
import hashlib
import os
import wave
from fractions import Fraction

import av
import numpy as np

FPS = 25
TEXT = "Hello, I am a map."
SIZE = 320


@functools.lru_cache(maxsize=1)
def astronaut(size: int = SIZE) -> np.ndarray:
    import cv2
    import skimage.data
    img = skimage.data.astronaut()[:320, 64:384]
    return img if size == 320 else cv2.resize(img, (size, size), interpolation=cv2.INTER_AREA)


def face_frames(n: int, size: int = SIZE) -> list[np.ndarray]:
    img = astronaut(size)
    return [np.ascontiguousarray(np.roll(img, i // 4, axis=1)) for i in range(n)]


def write_video(path, frames, *, codec: str = "libx264", pix_fmt: str = "yuv420p", fps=FPS,
                options: dict | None = None, rotation: int = 0, field_order: int | None = None,
                gaps=(), timecode: str | None = "01:00:00:00") -> str:
    """RGB uint8 frames to a file. `gaps`: frame indexes after which one frame time is skipped
    (variable frame rate); `field_order` 2 = top field first."""
    path = os.fspath(path)
    if options is None:
        options = {"crf": "16", "preset": "ultrafast"} if codec == "libx264" else {}
    rate = Fraction(fps)
    with av.open(path, "w") as c:
        vs = c.add_stream(codec, rate=rate, options=dict(options))
        vs.width, vs.height, vs.pix_fmt = frames[0].shape[1], frames[0].shape[0], pix_fmt
        tb = 1 / rate
        vs.codec_context.time_base = tb
        if timecode:
            vs.metadata["timecode"] = timecode
        if rotation:
            vs.set_display_rotation(rotation)
        if field_order:
            vs.codec_context.field_order = field_order
        pts = 0
        for i, img in enumerate(frames):
            f = av.VideoFrame.from_ndarray(np.ascontiguousarray(img), format="rgb24").reformat(
                format=pix_fmt)
            f.pts, f.time_base = pts, tb
            for p in vs.encode(f):
                c.mux(p)
            pts += 2 if i in gaps else 1
        for p in vs.encode():
            c.mux(p)
    return path


@functools.lru_cache(maxsize=1)
def speech() -> tuple[np.ndarray, int]:
    """The script spoken by eSpeak NG (float32 mono, its own rate), 0.2 s of silence first."""
    from lipflap.commands.demo_assets import speak
    line = speak(TEXT, "en", lead_s=0.2)
    return line.samples.astype(np.float32), int(line.rate)


def speech_frames() -> int:
    x, sr = speech()
    return int(len(x) / sr * FPS)


def write_dub(path, rate: int = 48000, channels: int = 1, *, pad_s: float = 0.0) -> str:
    """The spoken line resampled to `rate`, in `channels` identical channels, `pad_s` of
    silence after it; 16-bit WAV."""
    x, sr = speech()
    x = x.astype(np.float64)
    if rate != sr:
        n = int(len(x) * rate / sr)
        x = np.interp(np.arange(n) * sr / rate, np.arange(len(x)), x)
    x = np.concatenate([x, np.zeros(int(pad_s * rate))])
    data = (np.repeat(np.clip(x, -1, 1)[:, None], channels, axis=1) * 32767).astype(np.int16)
    with wave.open(os.fspath(path), "wb") as w:
        w.setnchannels(channels), w.setsampwidth(2), w.setframerate(rate)
        w.writeframes(data.tobytes())
    return os.fspath(path)


@contextlib.contextmanager
def face_and_dub(folder):
    """The generated face clip and speech dub the hardening tests share, with the analysis
    cache in `folder` for the duration (the previous LIPFLAP_CACHE is restored after)."""
    old = os.environ.get("LIPFLAP_CACHE")
    os.environ["LIPFLAP_CACHE"] = str(folder / "cache")
    try:
        n = speech_frames()
        yield {"dir": folder, "n": n, "dub": write_dub(folder / "dub.wav", 22050, 1),
               "face": write_video(folder / "face.mp4", face_frames(n))}
    finally:
        if old is None:
            os.environ.pop("LIPFLAP_CACHE", None)
        else:
            os.environ["LIPFLAP_CACHE"] = old


def run_cli(capsys, *argv) -> tuple[int, str]:
    """`lipflap ...` in-process; (exit code, stderr)."""
    from lipflap.cli import main
    capsys.readouterr()
    code = main([str(a) for a in argv])
    return code, capsys.readouterr().err


def run_speech(capsys, video, out, *extra, dub=None, report=None):
    """`lipflap run VIDEO --audio DUB --text TEXT --language en -o OUT --report REPORT`."""
    report = report or os.fspath(out) + ".json"
    return run_cli(capsys, "run", video, "--audio", dub, "--text", TEXT, "--language", "en",
                   "-o", out, "--report", report, "--progress", "none", *extra)


def one_sentence_error(err: str) -> str:
    """The one `lipflap: error:` line of stderr (and nothing that looks like a traceback)."""
    lines = [line for line in err.splitlines() if line.startswith("lipflap: error:")]
    assert len(lines) == 1, err
    assert "Traceback" not in err and "internal error" not in err, err
    return lines[0]


def leftovers(folder) -> list[str]:
    """Files in `folder` (recursively) that are not hidden temporaries."""
    out = []
    for root, _, files in os.walk(folder):
        out += [os.path.join(root, f) for f in files if not f.startswith(".")]
    return sorted(out)


def sha(path) -> str:
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def test_generated_face_clip_has_a_face_and_the_dub_is_speech(tmp_path):
    """The generators the hardening rows rely on: Face Mesh finds the face in every frame, and
    the dub holds the line where it should."""
    from lipflap.face.analyze import analyze_video
    from lipflap.media.audio import load_audio
    clip = write_video(tmp_path / "face.mp4", face_frames(12))
    an = analyze_video(clip, use_cache=False)
    assert all(f.usable for f in an.frames)
    dub = write_dub(tmp_path / "dub.wav", 22050, 2, pad_s=1.0)
    x = load_audio(dub, 16000)
    speech_len = len(speech()[0]) / speech()[1]
    assert len(x) == pytest_approx_len(speech_len + 1.0)
    assert np.abs(x[:int(16000 * speech_len)]).max() > 0.05
    assert np.abs(x[-8000:]).max() < 1e-3


def pytest_approx_len(seconds: float, rate: int = 16000):
    import pytest
    return pytest.approx(seconds * rate, abs=rate * 0.01)
