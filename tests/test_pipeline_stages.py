"""The single-job pipeline's stages on their own (lipflap.pipeline): plain dataclasses in and out,
no video decoded. The whole run is covered by test_run_contracts and test_run_real."""
from __future__ import annotations

import wave
from fractions import Fraction

import numpy as np
import pytest

from lipflap.contract.errors import JobError, MediaError, RangeError
from lipflap.contract.jobspec import parse_job, resolve_range, with_handles
from lipflap.media.probe import VideoInfo
from lipflap.mouth.track import MouthFrame, MouthTrack
from lipflap.pipeline.inputs import Inputs, _place_dub, resolve_output
from lipflap.provenance.disclosure import ranges
from lipflap.pipeline.mouth import track_params
from lipflap.pipeline.plan import shots
from lipflap.render.pipeline import REST


def _info(n=100, fps=Fraction(25)):
    return VideoInfo(path="/v/shot.mov", width=64, height=64, fps=fps, frame_count=n,
                     duration_s=n / float(fps), vfr=False, start_timecode="01:00:00:00",
                     start_tc_frames=90000, drop_frame=False, pixel_aspect=Fraction(1),
                     field_order="progressive", pix_fmt="yuv420p", bit_depth=8,
                     color_primaries="bt709", color_trc="bt709", colorspace="bt709",
                     color_range="tv", rotation=0, codec="h264")


def _job(**kw):
    data = {"video": "/v/shot.mov", "audio": "/v/dub.wav", "output": "/out/o.mov"}
    data.update(kw)
    return parse_job(data)


def test_range_by_frames_and_by_timecode():
    info = _info()
    assert resolve_range(_job(), info) == (0, 99)
    assert resolve_range(_job(start_frame=10, end_frame=20), info) == (10, 20)
    assert resolve_range(_job(in_tc="01:00:00:05", out_tc="01:00:01:00"), info) == (5, 25)
    with pytest.raises(RangeError, match="outside the file"):
        resolve_range(_job(start_frame=10, end_frame=100), info)
    with pytest.raises(RangeError, match="not a timecode"):
        resolve_range(_job(in_tc="soon"), info)
    # Handles widen the range and stop at the file's ends (run and qc read it this one way).
    assert with_handles(_job(handles=8), info, 5, 95) == (0, 99)
    assert with_handles(_job(handles=3), info, 10, 20) == (7, 23)


@pytest.mark.parametrize("name, mode, codec", [
    ("o.mov", "full", "prores_hq"), ("o.mov", "patch", "prores_4444"), ("o.mp4", "full", "h264"),
    ("f.%06d.png", "full", "png"), ("f.%06d.exr", "patch", "exr"), ("seq", "full", "png"),
])
def test_codec_follows_the_output_name(tmp_path, name, mode, codec):
    job = _job(output={"path": str(tmp_path / name), "mode": mode})
    path, got, got_mode = resolve_output(job, _info(), "es")
    assert (got, got_mode) == (codec, mode) and path == str(tmp_path / name)


def test_output_folder_gets_the_next_version(tmp_path):
    (tmp_path / "shot_lipflap_es_v001.mov").write_bytes(b"")
    path, codec, _ = resolve_output(_job(output=str(tmp_path)), _info(), "es")
    assert path == str(tmp_path / "shot_lipflap_es_v002.mov") and codec == "prores_hq"


def test_patches_need_alpha(tmp_path):
    with pytest.raises(JobError, match="alpha"):
        resolve_output(_job(output={"path": str(tmp_path / "o.mp4"), "mode": "patch"}), _info(), None)
    with pytest.raises(JobError, match="alpha"):
        resolve_output(_job(output={"path": str(tmp_path / "o.mov"), "mode": "patch",
                                    "codec": "prores_hq"}), _info(), None)
    # into a folder too (it was let through there, and the patch lost its alpha)
    with pytest.raises(JobError, match="alpha"):
        resolve_output(_job(output={"path": str(tmp_path), "mode": "patch", "codec": "h264"}),
                       _info(), None)
    path, codec, _ = resolve_output(_job(output={"path": str(tmp_path), "mode": "patch"}), _info(), "es")
    assert codec == "prores_4444" and path.endswith("_lipflap_es_v001.mov")


def _wav(path, seconds, rate=16000):
    with wave.open(str(path), "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(np.zeros((int(seconds * rate), 2), np.int16).tobytes())
    return str(path)


def _inputs(lo, hi, start, offset):
    info = _info()
    times = offset + (np.arange(lo, hi + 1) - start) / float(info.fps)
    return Inputs(info=info, start=start, end=hi, lo=lo, hi=hi, out_path="/out/o.mov",
                  codec="prores_hq", mode="full", dub_times=times)


def test_dub_placement_flags_the_frames_it_misses(tmp_path):
    dub = _wav(tmp_path / "dub.wav", 1.0)
    inputs = _inputs(0, 49, 0, 0.5)           # frames 0..49 from 0.5 s of a 1 s dub at 25 fps
    _place_dub(_job(audio=dub), inputs)
    assert inputs.dub_len == pytest.approx(1.0) and inputs.dub_channels == 2
    assert inputs.no_dub == [{"start": 13, "end": 49, "reason": "no_dub"}]
    assert "13-49" in inputs.warnings[0]
    with pytest.raises(RangeError, match="audio-offset"):
        _place_dub(_job(audio=dub), _inputs(0, 49, 0, 5.0))
    with pytest.raises(MediaError, match="dub not found"):
        _place_dub(_job(audio=str(tmp_path / "none.wav")), _inputs(0, 49, 0, 0.0))


def test_ranges_and_shots():
    mask = np.array([0, 1, 1, 0, 1, 0, 0, 1], bool)
    assert ranges(mask, 100) == [(101, 102), (104, 104), (107, 107)]
    assert ranges(np.zeros(3, bool), 0) == []

    class Cuts:
        cuts = [5, 12, 30]
    assert shots(Cuts(), 0, 20) == [(0, 4), (5, 11), (12, 20)]
    assert shots(Cuts(), 5, 11) == [(5, 11)]


def test_an_edited_track_is_read_on_the_dub_clock():
    frames = [MouthFrame(i, i / 10, "aa", "D", 0.1 * i, 0.5, 0.0, 0.2) for i in range(5)]
    track = MouthTrack(Fraction(10), frames)
    got = track_params(track, np.array([-0.05, 0.0, 0.26, 0.49, 0.5]))
    np.testing.assert_allclose(got[0], REST)                      # before the track: rest
    np.testing.assert_allclose(got[1:4, 0], [0.0, 0.2, 0.4])      # the frame a time falls in
    np.testing.assert_allclose(got[4], REST)                      # after the track: rest
