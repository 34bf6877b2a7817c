"""Shared test fixtures.

Real footage lives in ../shared/media beside the repository (never committed); tests that need
it take the `shared_media` fixture and skip when that folder is absent.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("LIPFLAP_SHARED", REPO.parent / "shared"))


@pytest.fixture(scope="session")
def shared_media() -> Path:
    media = SHARED / "media"
    if not (media / "talk_a.mp4").exists():
        pytest.skip(f"real footage not available ({media} absent)")
    return media


@pytest.fixture(scope="session")
def shared_eval() -> Path:
    ev = SHARED / "eval"
    if not (ev / "lipeval.py").exists():
        pytest.skip(f"yardstick not available ({ev} absent)")
    return ev


@pytest.fixture(scope="session")
def astro_face():
    """Face Mesh's 478 landmarks (x, y in pixels) of the astronaut photo's 320x320 face crop
    (skimage.data.astronaut()[:320, 64:384]), the still-image model with refined lips."""
    import mediapipe as mp
    import numpy as np
    import skimage.data
    img = np.ascontiguousarray(skimage.data.astronaut()[:320, 64:384])
    with mp.solutions.face_mesh.FaceMesh(static_image_mode=True, refine_landmarks=True) as fm:
        p = fm.process(img).multi_face_landmarks[0].landmark
    return np.array([[q.x * 320, q.y * 320] for q in p])
