"""The free edition's path: Resolve's own OpenTimelineIO export -> `lipflap conform` -> import back.

The .otio is written the way Resolve's File > Export > Timeline writes it (shapes seen in public
exports, see docs/hosts.md): Timeline.1 with {"Resolve_OTIO": {"Resolve OTIO Meta Version": "1.0"}},
global_start_time 86400 at 24, tracks named "Video 1"/"Audio 1" with Resolve_OTIO track metadata
(Locked, Audio Type, SoloOn), Clip.2 items with "Link Group ID", a "Resolve Effect" on a clip,
media_references {"DEFAULT_MEDIA": ExternalReference} whose target_url is a plain file path and
whose available_range is null, source ranges in the media's own timecode frames, and a marker
with Resolve_OTIO "Note". Conform runs against the contract-faithful fake engine.
"""
from __future__ import annotations

import json
import os

import pytest

from tests.mediagen import make_clip, make_wav
from test_conform_fakeengine import engine_cmd

RATE = 24.0


def _rt(v):
    return {"OTIO_SCHEMA": "RationalTime.1", "rate": RATE, "value": float(v)}


def _range(start, dur):
    return {"OTIO_SCHEMA": "TimeRange.1", "start_time": _rt(start), "duration": _rt(dur)}


def _clip(name, path, start, dur, link, effects=(), markers=()):
    return {"OTIO_SCHEMA": "Clip.2", "metadata": {"Resolve_OTIO": {"Link Group ID": link}}, "name": name,
            "source_range": _range(start, dur), "effects": list(effects), "markers": list(markers),
            "enabled": True, "color": None,
            "media_references": {"DEFAULT_MEDIA": {"OTIO_SCHEMA": "ExternalReference.1", "metadata": {},
                                                   "name": name, "available_range": None,
                                                   "available_image_bounds": None, "target_url": path}},
            "active_media_reference_key": "DEFAULT_MEDIA"}


def _gap(dur):
    return {"OTIO_SCHEMA": "Gap.1", "metadata": {}, "name": "", "source_range": _range(0, dur), "effects": [],
            "markers": [], "enabled": True, "color": None}


def _track(name, kind, children, meta):
    return {"OTIO_SCHEMA": "Track.1", "metadata": {"Resolve_OTIO": meta}, "name": name, "source_range": None,
            "effects": [], "markers": [], "enabled": True, "color": None, "children": children, "kind": kind}


@pytest.fixture
def resolve_export(tmp_path, monkeypatch):
    monkeypatch.setenv("LIPFLAP_RUN_CMD", engine_cmd())
    monkeypatch.delenv("FAKE_ENGINE_FAIL", raising=False)
    monkeypatch.delenv("FAKE_ENGINE_CRASH", raising=False)
    media = tmp_path / "media"
    media.mkdir()
    a = make_clip(str(media / "A001_C003.mov"), fps="24", frames=48, timecode="01:00:00:00")
    b = make_clip(str(media / "B001_C007.mov"), fps="24", frames=40, timecode="02:00:00:00")
    dub = make_wav(str(media / "dub es.wav"), seconds=3.0)
    effect = {"OTIO_SCHEMA": "Effect.1", "metadata": {"Resolve_OTIO": {"Effect Name": "Transform", "Enabled": True,
                                                                       "Parameters": []}},
              "name": "", "effect_name": "Resolve Effect"}
    marker = {"OTIO_SCHEMA": "Marker.2", "metadata": {"Resolve_OTIO": {"Keywords": [], "Note": "check lips"}},
              "name": "Marker 1", "color": "BLUE", "marked_range": _range(86400 + 15, 1), "comment": ""}
    video = _track("Video 1", "Video", [
        _clip("A001_C003.mov", a, 86400 + 10, 20, 1, effects=[effect], markers=[marker]),
        _gap(6),
        _clip("B001_C007.mov", b, 172800 + 5, 16, 2),
    ], {"Locked": False})
    audio = _track("Audio 1", "Audio", [_clip("dub es.wav", dub, 0, 42, 3)],
                   {"Audio Type": "Stereo", "Locked": False, "SoloOn": False})
    tl = {"OTIO_SCHEMA": "Timeline.1", "metadata": {"Resolve_OTIO": {"Resolve OTIO Meta Version": "1.0"}},
          "name": "Cut ES", "global_start_time": _rt(86400),
          "tracks": {"OTIO_SCHEMA": "Stack.1", "metadata": {}, "name": "", "source_range": None, "effects": [],
                     "markers": [], "enabled": True, "color": None, "children": [video, audio]}}
    path = tmp_path / "Cut ES.otio"
    path.write_text(json.dumps(tl, indent=2))
    return {"path": str(path), "a": a, "b": b, "dub": dub, "out": str(tmp_path / "renders")}


def test_resolve_export_conforms_and_imports_back_above_the_originals(resolve_export):
    import opentimelineio as otio
    from lipflap.conform import conform
    ex = resolve_export
    res = conform(ex["path"], ex["out"], dub_track="Audio 1", language="es", handles=4)
    assert [cj.status for cj in res.jobs] == ["done", "done"], [cj.error for cj in res.jobs]
    # What File > Import > Timeline reads: the originals on their track, the renders on the next
    # track up at the same record frames, each pointing at its render file.
    tl = otio.adapters.read_from_file(res.timeline_path)
    video = [t for t in tl.tracks if t.kind == otio.schema.TrackKind.Video]
    orig, renders = video[0], video[1]
    assert orig.name == "Video 1" and list(tl.tracks).index(renders) == list(tl.tracks).index(orig) + 1
    o_clips, r_clips = orig.find_clips(), renders.find_clips()
    assert [c.range_in_parent() for c in r_clips] == [c.range_in_parent() for c in o_clips]
    for oc, rc in zip(o_clips, r_clips):
        target = rc.media_reference.target_url
        path = target[7:] if target.startswith("file://") else target
        assert os.path.isfile(path) and oc.name.split(".")[0] in os.path.basename(path)
    # Resolve's own metadata on the originals survives the trip.
    assert o_clips[0].metadata["Resolve_OTIO"]["Link Group ID"] == 1
    assert tl.global_start_time.value == 86400
    jobs = [json.load(open(os.path.join(ex["out"], "jobs", cj.key + ".json"))) for cj in res.jobs]
    assert [(j["start_frame"], j["end_frame"]) for j in jobs] == [(10, 29), (5, 20)]
