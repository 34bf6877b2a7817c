"""The automatic ProRes profile (lipflap.media.prores_choice): named codecs are honoured, a clean
picture stays on 422 HQ, a picture that starves the encoder's row budget steps up, and the
choice and its reason reach the run's inputs (and so its report)."""
from __future__ import annotations

import wave

import av
import numpy as np
import pytest

from lipflap.contract.jobspec import parse_job
from lipflap.media import prores_choice as pc
from lipflap.media.encode import CODECS
from lipflap.media.probe import probe

W = H = 256


def _clip(path, frames, pix_fmt="yuv420p"):
    """A lossless H.264 clip of the given RGB frames (noise survives exactly)."""
    with av.open(str(path), "w") as c:
        s = c.add_stream("libx264", rate=25, options={"qp": "0", "preset": "ultrafast"})
        s.height, s.width = frames[0].shape[:2]
        s.pix_fmt = pix_fmt
        for img in frames:
            for p in s.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                c.mux(p)
        for p in s.encode():
            c.mux(p)
    return str(path)


def _flat(n=6):
    y, x = np.mgrid[0:H, 0:W]
    img = np.stack([x, y, (x + y) // 2], -1).astype(np.uint8)     # smooth ramps
    return [img.copy() for _ in range(n)]


def _grain(sigma, n=6, seed=3):
    rng = np.random.default_rng(seed)
    base = _flat(1)[0].astype(np.float32)
    return [np.clip(base + rng.normal(0, sigma, base.shape[:2])[..., None], 0, 255).astype(np.uint8)
            for _ in range(n)]


def _choose(path, named=None, mode="full", default="prores_hq"):
    info = probe(path)
    return pc.choose_codec(named, default, mode, info, 0, info.frame_count - 1)


def test_budget_table_tiers():
    assert pc.bits_per_macroblock("3", 640, 480) == 1566       # 1200 macroblocks
    assert pc.bits_per_macroblock("4", 960, 960) == 1600       # 3600
    assert pc.bits_per_macroblock("5", 960, 720) == 2742       # 2700, the tier's edge
    assert pc.bits_per_macroblock("3", 1920, 1080) == 950      # 8160


class _Decoded:
    def __init__(self, img):
        self.av_frame = av.VideoFrame.from_ndarray(img, format="rgb24")


@pytest.mark.parametrize("codec,size", [("prores_hq", (320, 240)), ("prores_4444", (320, 240)),
                                        ("prores_4444xq", (320, 240)), ("prores_4444", (768, 576)),
                                        pytest.param("prores_4444xq", (1280, 720), marks=pytest.mark.slow),
                                        pytest.param("prores_hq", (1920, 1080), marks=pytest.mark.slow)])
def test_budget_matches_the_encoders_own_packets(codec, size):
    """Rate-controlled, noise fills every row to between 95% and exactly its budget (the encoder
    never exceeds it: a table too low reads over 1, too high well under); at the finest
    quantiser the same frame needs several budgets (shortfall well over SHORTFALL) and a flat
    grey frame none."""
    w, h = size
    rng = np.random.default_rng(0)
    noise = np.clip(128 + rng.normal(0, 30, (h, w, 3)), 0, 255).astype(np.uint8)
    grey = np.full((h, w, 3), 128, np.uint8)
    profile = CODECS[codec].options["profile"]
    capped = pc.code_frames([_Decoded(noise)], codec, w, h, "bt709", "tv")[0]
    fill, quant = pc.row_fill(capped, w, h, profile)
    assert fill.max() <= 1.0 and fill.min() >= 0.95 and (quant > 1).all()
    finest = pc.code_frames([_Decoded(noise), _Decoded(grey)], codec, w, h, "bt709", "tv",
                            finest=True)
    need, quant = pc.row_fill(finest[0], w, h, profile)
    assert (quant == 1).all() and need.min() > 1.5
    assert pc.shortfall(finest[0], w, h, profile) > 0.3
    assert pc.shortfall(finest[1], w, h, profile) == 0.0


def test_flat_source_stays_on_the_default(tmp_path):
    c = _choose(_clip(tmp_path / "flat.mp4", _flat()))
    assert c.codec == "prores_hq" and c.automatic
    assert [p["codec"] for p in c.probe["profiles"]] == ["prores_hq"]
    assert c.probe["frames"] == [1, 3, 5] and c.probe["seconds"] >= 0
    assert "holds flat.mp4's detail" in c.reason and c.probe["profiles"][0]["shortfall"] == [0] * 3


def test_heavy_noise_steps_up_with_its_reason(tmp_path):
    c = _choose(_clip(tmp_path / "grain.mp4", _grain(40)))
    assert c.codec in ("prores_4444", "prores_4444xq")
    first = c.probe["profiles"][0]
    assert first["codec"] == "prores_hq" and first["frames_at_cap"] == 3
    assert c.probe["profiles"][-1]["codec"] == c.codec
    assert "reached its data cap on" in c.reason and "of 3 probe frames of grain.mp4" in c.reason
    line = pc.codec_line(c.to_dict())
    assert line.startswith(f"output codec {c.codec}: ") and line.endswith("name --codec to choose")


def test_pure_noise_stops_at_4444xq(tmp_path):
    rng = np.random.default_rng(1)
    frames = [rng.integers(0, 256, (H, W, 3), np.uint8) for _ in range(3)]
    c = _choose(_clip(tmp_path / "noise.mp4", frames))
    assert c.codec == "prores_4444xq"
    assert all(p["frames_at_cap"] for p in c.probe["profiles"])
    assert "largest data rate" in c.reason


def test_named_codec_is_honoured_without_a_probe(tmp_path):
    path = _clip(tmp_path / "grain.mp4", _grain(40, n=3))
    c = _choose(path, named="prores_hq")
    assert (c.codec, c.automatic, c.probe) == ("prores_hq", False, None)
    assert _choose(path, default="h264").probe is None                  # no cap to probe
    patch = _choose(path, mode="patch", default="prores_4444")
    assert patch.codec == "prores_4444" and patch.probe is None


def test_a_probe_that_cannot_measure_keeps_the_default_and_says_so(tmp_path, monkeypatch):
    path = _clip(tmp_path / "grain.mp4", _grain(40, n=3))

    def broken(*a, **k):
        raise ValueError("the ProRes probe frame is not a ProRes frame (no icpf atom)")
    monkeypatch.setattr(pc, "row_fill", broken)
    c = _choose(path)
    assert c.codec == "prores_hq" and c.automatic and c.probe["profiles"] == []
    assert c.reason.startswith("the probe could not measure grain.mp4 (the ProRes probe frame")


@pytest.mark.parametrize("profile,pix_fmt,expected", [("3", "yuv422p10le", "prores_hq"),
                                                      ("1", "yuv422p10le", "prores_hq"),
                                                      ("5", "yuv444p10le", "prores_4444xq")])
def test_prores_source_gets_its_own_profile(tmp_path, profile, pix_fmt, expected):
    path = str(tmp_path / "master.mov")
    with av.open(path, "w") as c:
        s = c.add_stream("prores_ks", rate=25, options={"profile": profile})
        s.width, s.height, s.pix_fmt = W, H, pix_fmt
        for img in _grain(40, n=3):
            for p in s.encode(av.VideoFrame.from_ndarray(img, format="rgb24").reformat(format=pix_fmt)):
                c.mux(p)
        for p in s.encode():
            c.mux(p)
    c = _choose(path)
    assert c.codec == expected and c.probe is None and "master.mov is ProRes" in c.reason


def test_444_source_starts_at_4444(tmp_path):
    c = _choose(_clip(tmp_path / "flat444.mp4", _flat(3), pix_fmt="yuv444p"))
    assert c.codec == "prores_4444" and "4:4:4" in c.reason


def test_probe_frames_spread_over_the_range():
    assert pc.probe_indices(0, 124) == [20, 62, 104]
    assert pc.probe_indices(10, 11) == [10, 11]
    assert pc.probe_indices(7, 7) == [7]


def test_inputs_carry_the_choice_and_auto_means_none(tmp_path):
    from lipflap.pipeline.inputs import resolve_inputs, settle_codec
    video = _clip(tmp_path / "grain.mp4", _grain(40, n=4))
    dub = str(tmp_path / "dub.wav")
    with wave.open(dub, "wb") as w:
        w.setnchannels(1), w.setsampwidth(2), w.setframerate(16000)
        w.writeframes(np.zeros(8000, np.int16).tobytes())
    job = parse_job({"video": video, "audio": dub, "credentials": False,
                     "output": {"path": str(tmp_path / "o.mov"), "codec": "auto"}})
    assert job.output.codec is None
    inputs = resolve_inputs(job)
    assert inputs.codec_choice is None      # nothing decoded yet: the analysis pass feeds it
    settle_codec(inputs)                    # none did: its own decode
    assert inputs.codec != "prores_hq" and inputs.codec_choice["codec"] == inputs.codec
    assert inputs.codec_choice["probe"]["frames_from"] == "own decode"
    assert "reached its data cap" in inputs.codec_choice["reason"]
    named = parse_job({"video": video, "audio": dub, "credentials": False,
                       "output": {"path": str(tmp_path / "o.mov"), "codec": "prores_hq"}})
    inputs = resolve_inputs(named)
    settle_codec(inputs)
    assert inputs.codec == "prores_hq" and inputs.codec_choice["reason"] == "named by the job"



def _fed(path, lo=0, hi=None):
    """A CodecProbe fed by one decode pass over lo..hi, as the analysis feeds it."""
    from lipflap.media.decode import read_frames
    info = probe(path)
    hi = info.frame_count - 1 if hi is None else hi
    feed = pc.CodecProbe(None, "prores_hq", "full", info, lo, hi)
    for fr in read_frames(path, lo, hi, info=info):
        feed.probe(fr)
    return feed.choice(), pc.choose_codec(None, "prores_hq", "full", info, lo, hi)


@pytest.mark.parametrize("frames", [_flat(9), _grain(40, n=9), _grain(12, n=9)])
def test_a_pass_fed_probe_chooses_as_the_standalone_one(tmp_path, frames):
    fed, own = _fed(_clip(tmp_path / "c.mp4", frames), 1, 8)
    assert (fed.codec, fed.reason) == (own.codec, own.reason)
    assert fed.probe["profiles"] == own.probe["profiles"] and fed.probe["frames"] == [2, 5, 7]
    assert fed.probe["frames_from"] == "analysis pass" and own.probe["frames_from"] == "own decode"
    assert fed.probe["cpu_seconds"] >= 0


def test_a_named_codec_takes_no_frames(tmp_path):
    path = _clip(tmp_path / "grain.mp4", _grain(40, n=3))
    feed = pc.CodecProbe("prores_4444", "prores_hq", "full", probe(path), 0, 2)
    assert feed.frames == [] and not feed.needs_frames
    feed.start_own()
    assert feed.choice().probe is None and feed.choice().codec == "prores_4444"


def _astronaut_grain(path, n=8, width=1):
    """Scikit-image's astronaut (Face Mesh finds her) under heavy grain, losslessly coded:
    the probe steps 422 HQ up. `width` copies side by side (a two-face dialogue clip)."""
    import skimage.data
    img = skimage.data.astronaut()[:256, 96:352].astype(np.float32)
    rng = np.random.default_rng(5)
    frames = []
    for i in range(n):
        one = np.roll(img, i // 3, axis=1)
        pic = np.hstack([one if k % 2 == 0 else one[:, ::-1] for k in range(width)])
        noise = rng.normal(0, 30, pic.shape[:2])[..., None]
        frames.append(np.clip(pic + noise, 0, 255).astype(np.uint8))
    return _clip(path, frames)


def _closed_track(path, n):
    import json
    with open(path, "w") as f:
        json.dump({"fps": 25, "frames": [{"frame": i, "time": i / 25, "viseme": "sil",
                                          "shape": "X", "aperture": 0.0, "width": 0.45,
                                          "rounding": 0.0, "jaw": 0.0} for i in range(n + 4)]}, f)
    return str(path)


def _climbs(monkeypatch):
    """Each probe the run makes: where its frames came from."""
    calls = []
    real = pc._climb

    def counted(info, idx, frames, source):
        calls.append(source)
        return real(info, idx, frames, source)
    monkeypatch.setattr(pc, "_climb", counted)
    return calls


def test_run_takes_the_probe_frames_from_its_analysis_fresh_and_cached(tmp_path, monkeypatch):
    """`lipflap run`: the probe's frames come from the analysis pass (no decode of their own),
    and from a decode of its own when the analysis is the cache's; the choice is the standalone
    probe's both times, and the report says it once."""
    import json
    from lipflap.cli import main
    monkeypatch.setenv("LIPFLAP_CACHE", str(tmp_path / "cache"))
    video = _astronaut_grain(tmp_path / "astro.mp4")
    own = _choose(video)
    track = _closed_track(tmp_path / "closed.json", 8)
    calls = _climbs(monkeypatch)
    for k, source in enumerate(("analysis pass", "own decode")):
        rep = str(tmp_path / f"r{k}.json")
        assert main(["run", video, "--shapes", track, "-o", str(tmp_path / f"o{k}.mov"),
                     "--report", rep, "--progress", "none", "--no-credentials"]) == 0
        choice = json.load(open(rep))["codec_choice"]
        assert (choice["codec"], choice["reason"]) == (own.codec, own.reason)
        assert choice["probe"]["frames_from"] == source and calls[-1] == source
        assert choice["probe"]["profiles"] == own.probe["profiles"]
        with av.open(str(tmp_path / f"o{k}.mov")) as c:
            assert c.streams.video[0].codec_tag == {"prores_4444": "ap4h",
                                                     "prores_4444xq": "ap4x"}[own.codec]
    assert calls == ["analysis pass", "own decode"]


def test_a_dialogue_run_probes_once_for_its_one_output(tmp_path, monkeypatch):
    import json
    from lipflap.cli import main
    monkeypatch.setenv("LIPFLAP_CACHE", str(tmp_path / "cache"))
    video = _astronaut_grain(tmp_path / "two.mp4", n=6, width=2)
    track = _closed_track(tmp_path / "closed.json", 6)
    calls = _climbs(monkeypatch)
    job = {"video": video, "output": str(tmp_path / "o.mov"), "report": str(tmp_path / "r.json"),
           "voices": [{"face": "left", "shapes": track}, {"face": "right", "shapes": track}]}
    (tmp_path / "job.json").write_text(json.dumps(job))
    assert main(["run", "--job", str(tmp_path / "job.json"), "--progress", "none",
                 "--no-credentials"]) == 0
    assert calls == ["analysis pass"]
    r = json.load(open(tmp_path / "r.json"))
    assert r["codec_choice"]["codec"] == _choose(video).codec
    assert {v["codec_choice"]["codec"] for v in r["voices"] if "codec_choice" in v} <= \
        {r["codec_choice"]["codec"]}


def test_a_fed_probe_that_cannot_measure_keeps_the_default_and_says_so(tmp_path, monkeypatch):
    path = _clip(tmp_path / "grain.mp4", _grain(40, n=3))

    def broken(*a, **k):
        raise ValueError("the ProRes probe frame is not a ProRes frame (no icpf atom)")
    monkeypatch.setattr(pc, "row_fill", broken)
    fed, own = _fed(path)
    assert (fed.codec, fed.reason) == (own.codec, own.reason)
    assert fed.codec == "prores_hq" and fed.reason.startswith("the probe could not measure")
    assert fed.probe["profiles"] == [] and fed.probe["frames_from"] == "analysis pass"


def test_a_profile_a_render_would_overrun_is_left(monkeypatch):
    # Renders lose more than their source near the cap: the hard set's side-light case, whose
    # probe frames fell 0.8%, 0%, 0.7% short of 4444, read 0.944 as a 4444 render (0.954 in XQ),
    # so two frames of three over 0.5% leave the profile; one frame over it keeps it (talk_a).
    short = {"prores_hq": [0.22, 0.17, 0.21], "prores_4444": [0.0077, 0.0002, 0.0067],
             "prores_4444xq": [0.0, 0.0, 0.0]}
    monkeypatch.setattr(pc, "code_frames", lambda frames, codec, *a, **k: [codec] * len(frames))
    by_profile = {CODECS[c].options["profile"]: c for c in pc.LADDER}
    monkeypatch.setattr(pc, "shortfall", lambda p, w, h, profile: short[by_profile[profile]].pop(0))
    info = type("I", (), {"pix_fmt": "yuv420p", "colorspace": None, "color_range": None,
                          "height": 512, "width": 512})()
    profiles, why = pc._measure([None] * 3, info, pc.LADDER, "sidelight.mp4")
    assert [p["codec"] for p in profiles] == list(pc.LADDER)
    assert "4444 reached its data cap on 2 of 3" in why
    short.update({"prores_hq": [0.0049, 0.0115, 0.0003]})
    profiles, why = pc._measure([None] * 3, info, pc.LADDER, "talk_a.mp4")
    assert [p["codec"] for p in profiles] == ["prores_hq"] and why is None
