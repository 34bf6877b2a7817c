import os

import numpy as np
import pytest

from lipflap.contract.errors import MediaError, RangeError
from lipflap.media.decode import read_frame, read_frames
from lipflap.media.probe import probe
from mediagen import frame_image, make_clip, read_index, standard_clips


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    d = tmp_path_factory.mktemp("decode")
    out = standard_clips(d)
    out["opengop"] = make_clip(d / "opengop.mp4", fps=25, codec="h264_opengop", frames=48,
                               width=320, height=180)
    out["hevc"] = make_clip(d / "hevc.mp4", fps=25, codec="hevc", frames=48, width=320,
                            height=180)
    out["mkv"] = make_clip(d / "a.mkv", fps=25, frames=48, width=320, height=180)
    out["vfr"] = make_clip(d / "vfr.mp4", fps=25, frames=40, width=320, height=180,
                           vfr_gaps=(9, 22))
    return out


def indexes(path, start=0, end=None, **kw):
    return [(f.index, read_index(f.image)) for f in read_frames(path, start, end, **kw)]


@pytest.mark.parametrize("name", ["h264_2398", "h264_25", "prores_2997df", "opengop", "hevc",
                                  "mkv", "vfr"])
def test_every_range_is_frame_exact(clips, name):
    path = clips[name]
    info = probe(path)
    n = info.frame_count
    # Whole file, then starts at every frame (seek targets inside and at GOP boundaries,
    # B-frames just before keyframes, the last frame).
    assert indexes(path, info=info) == [(k, k) for k in range(n)]
    for start in range(0, n):
        end = min(n - 1, start + 2)
        assert indexes(path, start, end, info=info) == [(k, k) for k in range(start, end + 1)], start


def test_backwards_and_repeated_access(clips):
    path = clips["h264_2398"]
    info = probe(path)
    for k in (47, 30, 11, 12, 0, 36, 35):
        f = read_frame(path, k, info=info)
        assert f.index == k and read_index(f.image) == k
        assert f.time_s == pytest.approx(k * 1001 / 24000)


def test_image_types_and_depth(clips):
    f8 = read_frame(clips["h264_25"], 5)
    assert f8.image.dtype == np.uint8 and f8.image.shape == (180, 320, 3)
    f10 = read_frame(clips["prores_2997df"], 5)
    assert f10.image.dtype == np.uint16 and f10.image.shape == (180, 320, 3)
    # Full 16-bit scale, and values between 8-bit steps exist (no 8-bit detour).
    assert f10.image.max() > 60000
    assert np.any(f10.image % 257 != 0)
    # deep=True forces 16-bit for 8-bit sources too; deep=False 8-bit for 10-bit ones.
    assert read_frame(clips["h264_25"], 5, deep=True).image.dtype == np.uint16
    assert read_frame(clips["prores_2997df"], 5, deep=False).image.dtype == np.uint8


def test_colour_is_faithful(clips):
    # The decoded RGB matches what was encoded (BT.709, limited range). 4:2:2 chroma costs a
    # little at the pattern's edges; a wrong matrix or range gives a median error of 0.02-0.03.
    want = frame_image(7, 320, 180, deep=True).astype(np.float64) / 65535
    got = read_frame(clips["prores_2997df"], 7).image.astype(np.float64) / 65535
    body = (slice(20, None), slice(None))          # away from the bar code's hard edges
    assert np.median(np.abs(got[body] - want[body])) < 0.006


def test_out_of_range(clips):
    path = clips["h264_25"]
    for start, end in ((0, 48), (-1, 3), (10, 5), (48, 48)):
        with pytest.raises(RangeError) as e:
            list(read_frames(path, start, end))
        msg = str(e.value)
        assert path in msg and "48 frames" in msg and f"{start}-{end}" in msg


def test_truncated_file_yields_readable_frames_then_names_the_frame(tmp_path):
    for name, kw in (("cut.mov", dict(faststart=True)), ("cut.mkv", {}),
                     ("cut_prores.mov", dict(faststart=True, codec="prores"))):
        full = make_clip(tmp_path / ("full_" + name), fps=25, frames=40, width=160, height=90, **kw)
        data = open(full, "rb").read()
        cut = tmp_path / name
        cut.write_bytes(data[:int(len(data) * 0.6)])
        got = []
        with pytest.raises(MediaError) as e:
            for f in read_frames(cut):
                got.append(read_index(f.image))
        assert len(got) > 5 and got == list(range(len(got)))
        assert f"frame {len(got)} of 40" in str(e.value) and str(cut) in str(e.value)


def test_cut_mov_without_index_is_a_clear_error(tmp_path):
    full = make_clip(tmp_path / "full.mov", fps=25, frames=20, width=160, height=90)
    data = open(full, "rb").read()
    cut = tmp_path / "cut.mov"
    cut.write_bytes(data[:len(data) // 2])
    with pytest.raises(MediaError, match="without its index"):
        probe(cut)


def test_streaming_does_not_hold_frames(clips):
    # The generator keeps no reference to yielded frames: each can be collected.
    import gc
    import weakref
    refs = []
    for f in read_frames(clips["h264_25"]):
        refs.append(weakref.ref(f))
        del f
    gc.collect()
    assert sum(r() is not None for r in refs) <= 1


def test_real_footage_seeks_match_sequential_decode(shared_media):
    # Real H.264 with AAC: talk_a steps 512/1024 ticks (a 30 fps recorder that dropped frames,
    # 22.13 fps on average: variable rate, decoded by count), talk_b is constant 25 fps (seeks).
    # A frame read on its own is the same picture as that frame in a straight decode.
    for name, vfr in (("talk_a.mp4", True), ("talk_b.mp4", False)):
        path = str(shared_media / name)
        info = probe(path)
        assert info.frame_count > 100 and info.vfr is vfr
        seq = {f.index: f.image.copy() for f in read_frames(path, info=info)}
        assert sorted(seq) == list(range(info.frame_count))
        for k in (1, 37, 64, 99, info.frame_count - 1):
            assert np.array_equal(read_frame(path, k, info=info).image, seq[k]), (name, k)
        got = [f.index for f in read_frames(path, 50, 60, info=info)]
        assert got == list(range(50, 61))


def test_damaged_files_give_frames_or_one_clear_error(tmp_path):
    # Cut, bit-flipped and zeroed copies of MOV/MP4/MKV/ProRes clips: probe and decode either
    # work or raise one MediaError sentence; never another exception, never a crash.
    import random
    from lipflap.contract.errors import LipflapError
    from lipflap.media.audio import load_audio
    srcs = [make_clip(tmp_path / "a.mov", fps=25, frames=16, width=160, height=90, audio="tone",
                      faststart=True),
            make_clip(tmp_path / "b.mp4", fps="24000/1001", frames=16, width=160, height=90,
                      audio="clicks", clicks=(3,), faststart=True),
            make_clip(tmp_path / "c.mkv", fps=25, frames=16, width=160, height=90, audio="tone"),
            make_clip(tmp_path / "e.mov", fps=25, frames=16, width=160, height=90,
                      codec="prores", faststart=True)]
    rng = random.Random(7)
    for it in range(24):
        src = srcs[it % len(srcs)]
        data = bytearray(open(src, "rb").read())
        mode = it // len(srcs) % 3
        if mode == 0:
            data = data[:rng.randrange(len(data))]
        elif mode == 1:
            for _ in range(rng.randint(1, 20)):
                data[rng.randrange(len(data))] = rng.randrange(256)
        else:
            a = rng.randrange(len(data))
            n = min(len(data) - a, rng.randint(1, 4000))
            data[a:a + n] = bytes(n)
        p = tmp_path / f"damaged{it}{os.path.splitext(src)[1]}"
        p.write_bytes(bytes(data))
        try:
            info = probe(p)
            try:
                for f in read_frames(p, info=info):
                    f.image
            except LipflapError as e:
                assert "\n" not in str(e)
            if info.audio:
                try:
                    load_audio(p)
                except LipflapError:
                    pass
        except LipflapError as e:
            assert "\n" not in str(e) and str(p) in str(e)
