"""One copy of each rule in the engine: the face measures, the audio reader's checks, the speech
features' resampler and filterbank, the viseme list. Read from the source where that is enough."""
from __future__ import annotations

import ast
from pathlib import Path

import numpy as np

CORE = Path(__file__).resolve().parents[1] / "core"


def _defs(name_set):
    found = []
    for path in sorted(CORE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name in name_set:
                found.append(f"{path.relative_to(CORE).as_posix()}:{node.name}")
    return found


def test_face_measures_are_defined_once():
    names = {"eye_distance", "interocular", "aperture", "mouth_aperture", "mouth_apertures",
             "mouth_width"}
    assert sorted(_defs(names)) == ["face/geometry.py:eye_distance", "face/geometry.py:mouth_aperture",
                                    "face/geometry.py:mouth_apertures", "face/geometry.py:mouth_width"]
    from lipflap.face import geometry
    from lipflap.qc import regions
    from lipflap.render import geometry as render_geometry
    assert render_geometry.aperture is geometry.mouth_aperture
    assert render_geometry.interocular is geometry.eye_distance
    assert regions.eye_distance is geometry.eye_distance


def test_face_measures_agree_whatever_the_dtype():
    from lipflap.face import geometry
    rng = np.random.default_rng(3)
    lm = rng.uniform(100, 400, (478, 2))
    for f in (geometry.mouth_aperture, geometry.mouth_width, geometry.eye_distance):
        assert f(lm.astype(np.float32)) == f(lm.astype(np.float32).astype(np.float64))


def test_no_audio_stream_is_checked_in_one_place():
    hits = [p.relative_to(CORE).as_posix() for p in CORE.rglob("*.py")
            if "has no audio stream" in p.read_text(encoding="utf-8")]
    assert hits == ["media/audio.py"]


def test_streamed_reader_uses_only_the_public_audio_api():
    tree = ast.parse((CORE / "media" / "audio_stream.py").read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            assert not [a.name for a in node.names if a.name.startswith("_")], node.module


def test_one_resampler_and_filterbank():
    assert _defs({"resample"}) == ["speech/features.py:resample"]
    assert _defs({"mel_filterbank", "_mel_filters"}) == ["speech/features.py:mel_filterbank"]
    from lipflap.speech import audio_features, features
    assert audio_features.resample is features.resample


def test_one_viseme_list():
    from lipflap.mouth.visemes import VISEMES
    from lipflap.speech import articulation
    assert tuple(articulation.VISEMES) == VISEMES
    assert articulation.V == {v: i for i, v in enumerate(VISEMES)}
