"""Reading the dub's script."""
from __future__ import annotations

import os

from lipflap.contract.errors import LipflapError


def read_transcript(path) -> str:
    """The text of a UTF-8 transcript file (a BOM is allowed), whitespace-normalised.

    Raises LipflapError naming the file when it cannot be read, is not UTF-8, or holds no words.
    """
    path = os.fspath(path)
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except OSError as exc:
        raise LipflapError(f"cannot read the transcript {path} ({exc.strerror or exc}); "
                           "check the path.") from exc
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise LipflapError(f"the transcript {path} is not UTF-8 text (bad byte at offset "
                           f"{exc.start}); save it as UTF-8 and try again.") from exc
    text = " ".join(text.split())
    if not any(ch.isalnum() for ch in text):
        raise LipflapError(f"the transcript {path} is empty; put the dub's script in it, or leave "
                           "--transcript out to use audio-only recognition.")
    return text
