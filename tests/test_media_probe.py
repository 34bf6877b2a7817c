import json
import subprocess
import sys
from fractions import Fraction

import pytest

from lipflap.contract.errors import MediaError
from lipflap.media.probe import probe
from mediagen import make_clip, make_wav, standard_clips


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    return standard_clips(tmp_path_factory.mktemp("probe"))


def test_h264_2398(clips):
    i = probe(clips["h264_2398"])
    assert i.fps == Fraction(24000, 1001)
    assert i.frame_count == 48 and not i.vfr
    assert (i.width, i.height) == (320, 180)
    assert i.start_timecode == "01:00:00:00" and i.start_tc_frames == 86400 and not i.drop_frame
    assert i.codec == "h264" and i.pix_fmt == "yuv420p" and i.bit_depth == 8
    assert (i.color_primaries, i.color_trc, i.colorspace, i.color_range) == ("bt709",) * 3 + ("tv",)
    assert i.pixel_aspect == 1 and i.field_order == "progressive" and i.rotation == 0
    assert abs(i.duration_s - 48 * 1001 / 24000) < 1e-9
    assert len(i.audio) == 1
    a = i.audio[0]
    assert (a.rate, a.channels, a.codec, a.index) == (48000, 1, "aac", 0)


def test_prores_2997_drop_frame(clips):
    i = probe(clips["prores_2997df"])
    assert i.fps == Fraction(30000, 1001)
    assert i.start_timecode == "00:59:59;29" and i.drop_frame
    assert i.start_tc_frames == 107891
    assert i.pix_fmt == "yuv422p10le" and i.bit_depth == 10
    assert i.audio[0].codec == "pcm_s16le"


def test_to_dict_is_json(clips):
    d = probe(clips["prores_2997df"]).to_dict()
    again = json.loads(json.dumps(d))
    assert again["fps"] == "30000/1001" and again["frame_count"] == 48
    assert again["start_timecode"] == "00:59:59;29"
    assert again["audio"][0]["rate"] == 48000


def test_counts_packets_without_index_and_detects_vfr(tmp_path):
    mkv = probe(make_clip(tmp_path / "a.mkv", fps=25, frames=30, width=160, height=90))
    assert mkv.frame_count == 30 and mkv.fps == 25 and not mkv.vfr
    assert mkv.start_timecode == "01:00:00:00"      # Matroska's TIMECODE tag
    vfr = probe(make_clip(tmp_path / "v.mp4", fps=25, frames=30, width=160, height=90,
                          vfr_gaps=(10, 20)))
    assert vfr.vfr and vfr.frame_count == 30


def test_bad_inputs(tmp_path):
    with pytest.raises(MediaError, match="not found"):
        probe(tmp_path / "missing.mov")
    text = tmp_path / "notes.mov"
    text.write_text("this is not a movie\n" * 20)
    with pytest.raises(MediaError, match="not a readable media file"):
        probe(text)
    with pytest.raises(MediaError, match="no video stream"):
        probe(make_wav(tmp_path / "a.wav"))


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "lipflap", "probe", *args], capture_output=True,
                          text=True, timeout=120)


def test_cli_probe(clips, tmp_path):
    r = _cli(str(clips["h264_25"]))
    assert r.returncode == 0, r.stderr
    d = json.loads(r.stdout)
    assert d["fps"] == "25" and d["frame_count"] == 48 and d["start_timecode"] == "01:00:00:00"
    text = tmp_path / "renamed.mov"
    text.write_text("hello")
    for bad in (str(text), str(tmp_path / "nope.mov"), make_wav(tmp_path / "x.wav")):
        r = _cli(bad)
        assert r.returncode != 0 and r.stdout == ""
        lines = r.stderr.strip().splitlines()
        assert len(lines) == 1 and bad in lines[0] and "Traceback" not in r.stderr
