"""Per-clip transcripts: `lipflap conform --transcripts FILE` and the Resolve script's script file.

The format is documented in docs/conform.md ("Transcripts"); this is its one reader.
Each entry is keyed by a clip name (as the timeline names it; with or without the media file's
extension) or by the record-in timecode of
the clip's cut (timeline timecode, `01:00:12:05`; `;` and `:` are the same here). A record
timecode wins over a clip name, so a clip used twice can get two texts. Two formats:

JSON, an object of key -> text, or a list of {"clip" | "record_in", "text"}:

    {"A001_C003": "Hola, ¿qué tal?", "01:00:12:05": "Nos vemos mañana."}

Text, one block per clip: a line `[KEY]` starts a block, the lines under it are the text (joined
with spaces), blank lines and lines starting with `#` are ignored:

    [A001_C003]
    Hola, ¿qué tal?
    [01:00:12:05]
    Nos vemos mañana.
"""
from __future__ import annotations

import json
import os
import re

from .errors import LipflapError

_TC = re.compile(r"^\d{1,2}[:;.]\d\d[:;.]\d\d[:;.]\d\d$")


def _norm(key: str) -> str:
    key = key.strip()
    if _TC.match(key):
        return re.sub(r"[;.]", ":", key).zfill(11)
    return key


def load(path: str) -> dict[str, str]:
    """Read a transcripts file into {normalised key: text}."""
    try:
        # utf-8-sig: editors on Windows start UTF-8 files with a byte-order mark.
        with open(path, encoding="utf-8-sig") as f:
            raw = f.read()
    except FileNotFoundError:
        raise LipflapError(f"{path}: transcripts file not found; check the --transcripts path.") from None
    except UnicodeDecodeError:
        raise LipflapError(f"{path}: the transcripts file is not UTF-8 text; save it as UTF-8.") from None
    except OSError as e:
        raise LipflapError(f"{path}: cannot read the transcripts file ({e.strerror}).") from None
    table = _parse(path, raw)
    if not table:
        raise LipflapError(f"{path}: the transcripts file has no entries; write one [CLIP] block per "
                           f"clip (see \"Transcripts\" in docs/conform.md).")
    return table


def _parse(path: str, raw: str) -> dict[str, str]:
    head = raw.lstrip()
    if head.startswith("{"):
        return _from_json(path, raw)
    if head.startswith("["):
        # A JSON list or a text file whose first block header is `[KEY]`.
        try:
            json.loads(raw)
        except json.JSONDecodeError:
            return _from_text(path, raw)
        return _from_json(path, raw)
    return _from_text(path, raw)


def _brief(value, limit: int = 40) -> str:
    """A key for a one-line message, cut short when a pasted blob stands where a name should."""
    text = repr(value)
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _from_json(path: str, raw: str) -> dict[str, str]:
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as e:
        raise LipflapError(f"{path}: not valid JSON at line {e.lineno} column {e.colno} ({e.msg}); "
                           f"fix the transcripts file.") from None
    out: dict[str, str] = {}
    if isinstance(data, dict):
        items = list(data.items())
    elif isinstance(data, list):
        items = []
        for i, entry in enumerate(data):
            if not isinstance(entry, dict) or "text" not in entry or not (
                    "clip" in entry or "record_in" in entry):
                raise LipflapError(f"{path}: entry {i + 1} must be an object with \"text\" and "
                                   f"\"clip\" or \"record_in\"; fix the transcripts file.")
            key = entry["record_in"] if "record_in" in entry else entry["clip"]
            items.append((key, entry["text"]))
    else:
        raise LipflapError(f"{path}: a transcripts file is an object of clip -> text or a list of "
                           f"entries; fix the transcripts file.")
    for key, text in items:
        if not isinstance(key, str) or not isinstance(text, str):
            raise LipflapError(f"{path}: the entry for {_brief(key)} must map a name to a text string.")
        _put(path, out, key, text)
    return out


def _from_text(path: str, raw: str) -> dict[str, str]:
    out: dict[str, str] = {}
    key: str | None = None
    lines: list[str] = []
    for n, line in enumerate(raw.splitlines(), 1):
        s = line.strip()
        m = re.match(r"^\[(.+)\]$", s)
        if m:
            if key is not None:
                _put(path, out, key, " ".join(lines))
            key, lines = m.group(1), []
        elif not s or s.startswith("#"):
            continue
        elif key is None:
            raise LipflapError(f"{path}: line {n} has text before any [CLIP] or [TIMECODE] header; "
                               f"start each block with its clip name or record timecode in brackets.")
        else:
            lines.append(s)
    if key is not None:
        _put(path, out, key, " ".join(lines))
    return out


def _put(path: str, out: dict[str, str], key: str, text: str) -> None:
    k = _norm(key)
    if k in out:
        raise LipflapError(f"{path}: {_brief(key)} has two entries; keep one text per clip (use the record "
                           f"timecode to tell two uses of one clip apart).")
    if not text.strip():
        raise LipflapError(f"{path}: the entry for {_brief(key)} has no text; remove it or add the line.")
    out[k] = text.strip()


def lookup(table: dict[str, str], clip_name: str, record_tc: str) -> tuple[str, str] | None:
    """(key, text) for a clip: its record-in timecode first, then its name, then its name without
    the media file's extension (Resolve names a clip `A001_C003.mov`)."""
    name = clip_name.strip()
    for key in (_norm(record_tc), name, os.path.splitext(name)[0]):
        if key in table:
            return key, table[key]
    return None


def text_for_clip(table: dict[str, str], clip_name: str, record_tc: str) -> str:
    """The clip's text, or "" when the file has no entry for it."""
    hit = lookup(table, clip_name, record_tc)
    return hit[1] if hit else ""


def unused_keys(table: dict[str, str], used: set[str]) -> list[str]:
    return [k for k in table if k not in used]
