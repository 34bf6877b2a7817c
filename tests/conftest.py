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
