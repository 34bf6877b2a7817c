"""Resolve's script and Nuke's node driving the real engine on a small generated face clip."""
from __future__ import annotations

import json
import os
import sys

import numpy as np
import pytest

from lipflap import contract as hostclient
from tests.fakes import resolve as fr

FPS = 25
N = 20


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    import skimage.data
    from lipflap.media.encode import VideoWriter
    from lipflap.speech.espeak import synthesize
    d = tmp_path_factory.mktemp("hosts")
    os.environ.setdefault("LIPFLAP_CACHE", str(d / "cache"))
    face = str(d / "A001 C003.mov")
    img = skimage.data.astronaut()[:320, 64:384]
    with VideoWriter(face, codec="h264", fps=FPS, width=320, height=320, start_timecode="01:00:10:00") as w:
        for i in range(N):
            w.write(np.roll(img, i // 5, axis=1))
    samples, rate, _ = synthesize("hola, mi amigo", "es")
    dub = str(d / "dub es.wav")
    import wave
    with wave.open(dub, "wb") as wf:
        wf.setnchannels(1), wf.setsampwidth(2), wf.setframerate(rate)
        pcm = np.concatenate([np.zeros(int(0.2 * rate)), samples])
        wf.writeframes((np.clip(pcm, -1, 1) * 32767).astype(np.int16).tobytes())
    return {"dir": d, "face": face, "dub": dub}


def _engine():
    return [sys.executable, "-m", "lipflap"]


def test_resolve_script_with_the_real_engine(clip, tmp_path):
    from lipflap.media.probe import probe
    from lipflap_resolve.app import Controller
    from lipflap_resolve.settings import Settings
    profile = fr.PROFILES["20 Studio"]
    tl = fr.Timeline(profile, rate="25", start_tc="01:00:00:00", start_frame=90000, video_tracks=1, audio_tracks=1)
    mpi = fr.MediaPoolItem(profile, clip["face"], fps="25", start_tc="01:00:10:00", frames=N)
    tl.fake_clip("video", 1, mpi, 90000, 90012, 4)
    tl.fake_clip("audio", 1, fr.MediaPoolItem(profile, clip["dub"], fps="25"), 90000, 90100, 0)
    project = fr.Project(profile, tl, probe=lambda p: (probe(p).frame_count, "25"))
    out = str(tmp_path / "renders")
    scripts = tmp_path / "dub_es.txt"
    scripts.write_text("[A001 C003.mov]\nhola, mi amigo\n", encoding="utf-8")
    c = Controller(fr.Resolve(profile, project), hostclient, engine=_engine(), log=lambda s: None)
    assert c.start(Settings(output_dir=out, language="es", handles=2, dub_track=1,
                            transcripts=str(scripts))) == []
    [o] = c.run_all(0.2)
    assert o.placed, o.error
    assert json.load(open(os.path.splitext(o.render)[0] + ".job.json"))["text"] == "hola, mi amigo"
    assert o.report["mouth_track"]["source"].startswith("script")
    info = probe(o.render)
    assert info.frame_count == 16 and info.start_timecode == "01:00:10:02"  # 12 frames + 2 handles each side
    item = tl.GetItemListInTrack("video", 2)[0]
    assert (item.GetStart(), item.GetEnd(), item.GetLeftOffset()) == (90000, 90012, 2)
    assert item.GetMediaPoolItem().GetClipProperty("File Path") == o.render
    edl = open(c.summary_paths["EDL"]).read()
    assert "01:00:10:04 01:00:10:16 01:00:00:00 01:00:00:12" in edl


@pytest.fixture()
def nk(clip, tmp_path, monkeypatch):
    from tests.fakes import nuke as stub
    stub.reset()
    monkeypatch.setitem(sys.modules, "nuke", stub)
    nuke_dir = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "nuke_nodes")
    monkeypatch.syspath_prepend(nuke_dir)
    for m in ("lipflap_nuke_node", "lipflap_nuke_curves", "lipflap_nuke_plate", "lipflap_nuke_engine"):
        sys.modules.pop(m, None)
    monkeypatch.setenv("LIPFLAP_ENGINE", json.dumps(_engine()))
    # The node loads the engine's contract folder by path, as it does in Nuke.
    monkeypatch.delitem(sys.modules, "lipflap_contract", raising=False)
    monkeypatch.setenv("LIPFLAP_CONTRACT", os.path.dirname(hostclient.__file__))
    stub.root()["fps"].setValue(float(FPS))
    import importlib
    node = importlib.import_module("lipflap_nuke_node")
    stub.media[clip["face"]] = (1, N)
    read = stub.nodes.Read()
    read["file"].fromUserText(clip["face"])
    read["frame_mode"].setValue("start at")
    read["frame"].setValue("1001")
    g = node.create()
    assert g.setInput(0, read)
    g["range_first"].setValue(1003)
    g["range_last"].setValue(1016)
    g["dub"].setValue(clip["dub"])
    g["language"].setValue("es")
    g["script_text"].setValue("hola, mi amigo")
    g["cache_dir"].setValue(str(tmp_path / "cache"))
    return stub, node, g


def _wait(stub, t):
    assert t is not None
    t.join(600)
    stub.pump_main_thread()


def test_nuke_node_with_the_real_engine(nk, clip, tmp_path):
    from lipflap.face.analyze import analyze_video
    from lipflap.face.geometry import mouth_aperture
    from lipflap.media.probe import probe
    from lipflap.cli import main
    stub, node, g = nk
    _wait(stub, node.analyze(g))
    assert not stub.messages, stub.messages
    # Analyze's curves are the track `lipflap visemes` wrote for the node, key for key...
    keys = g["aperture"].animation(0).keys()
    assert [k.x for k in keys] == list(range(1003, 1017))
    written = json.load(open(tmp_path / "cache" / f"{g.name()}_track.json"))["frames"]
    assert [k.y for k in keys] == pytest.approx([f["aperture"] for f in written[:14]], abs=1e-6)
    # ...and a separate `lipflap visemes` of the same dub, script and rate agrees with them
    # (eSpeak NG's synthetic reference varies by a few samples between calls, so the alignment
    # and the curves may move by a few hundredths).
    ref = str(tmp_path / "ref.json")
    assert main(["visemes", clip["dub"], "-o", ref, "--fps", "25", "--text", "hola, mi amigo",
                 "--language", "es", "--progress", "none"]) == 0
    expected = [f["aperture"] for f in json.load(open(ref))["frames"][:14]]
    assert [k.y for k in keys] == pytest.approx(expected, abs=0.1)
    assert np.corrcoef([k.y for k in keys], expected)[0, 1] > 0.9
    # The artist closes the mouth everywhere; a full-frame render shows it closed.
    for f in range(1003, 1017):
        g["aperture"].setValueAt(0.0, f)
    g["output"].setValue("full frame")
    _wait(stub, node.render(g))
    assert not stub.messages, stub.messages
    read = g.node("lipflap_render")
    out = read["file"].getText()
    assert probe(out).frame_count == 14
    assert stub.read_range(read) == (1003, 1016) and stub.read_shows(read, 1017) is None
    src = analyze_video(clip["face"], 2, 15, use_cache=False)
    res = analyze_video(out, use_cache=False)
    ap_src = np.nanmean([mouth_aperture(f.raw_landmarks) for f in src.frames if f.raw_landmarks is not None])
    ap_out = np.nanmean([mouth_aperture(f.raw_landmarks) for f in res.frames if f.raw_landmarks is not None])
    assert ap_out < 0.5 * ap_src, (ap_out, ap_src)
