"""Per-clip script text for the dub, read with the standard library.

The format of `lipflap conform --transcripts` (docs/conform.md), so one file serves both:
- JSON: an object of key -> text, or a list of {"clip" | "record_in", "text"};
- text: blocks headed by a clip name or a record timecode in brackets,
      [A001_C003]
      Hola, ¿qué tal?
  Lines starting with '#' are comments.
A key is a clip name (with or without extension) or the clip's record start timecode; the
timecode wins, so a clip used twice can get two texts.
"""
from __future__ import annotations

import json
import os
import re


class TranscriptError(Exception):
    pass


_HEADER = re.compile(r"^\[(.+)\]\s*$")


def load_transcripts(path: str) -> dict[str, str]:
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except OSError as e:
        raise TranscriptError(f"{path}: cannot read the transcript file ({e.strerror}).") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise TranscriptError(f"{path}: not UTF-8 text (byte {e.start}); save it as UTF-8.") from None
    head = text.lstrip()
    if head.startswith("{") or (head.startswith("[") and _is_json(head)):
        try:
            data = json.loads(text)
        except ValueError as e:
            raise TranscriptError(f"{path}: not valid JSON ({e}); fix the transcript file.") from None
        if isinstance(data, list):
            pairs = []
            for i, e in enumerate(data):
                if not isinstance(e, dict) or not isinstance(e.get("text"), str) or not (
                        isinstance(e.get("record_in"), str) or isinstance(e.get("clip"), str)):
                    raise TranscriptError(f"{path}: entry {i + 1} must be an object with \"text\" and "
                                          f"\"clip\" or \"record_in\".")
                pairs.append((e.get("record_in") or e["clip"], e["text"]))
        elif isinstance(data, dict) and all(isinstance(v, str) for v in data.values()):
            pairs = list(data.items())
        else:
            raise TranscriptError(f"{path}: expected an object of clip name or timecode -> text.")
        out = {_norm(str(k)): v.strip() for k, v in pairs}
    else:
        out, key, buf = {}, None, []
        for n, line in enumerate(text.splitlines(), 1):
            if line.lstrip().startswith("#"):
                continue
            m = _HEADER.match(line.strip())
            if m:
                if key is not None:
                    out[key] = " ".join(buf).strip()
                key, buf = _norm(m.group(1)), []
            elif line.strip():
                if key is None:
                    raise TranscriptError(f"{path}: line {n} has text before any [clip name] header.")
                buf.append(line.strip())
        if key is not None:
            out[key] = " ".join(buf).strip()
    if not out:
        raise TranscriptError(f"{path}: no transcript blocks found; see docs/transcripts.md for the format.")
    return out


_TC = re.compile(r"^\d{1,2}[:;.]\d\d[:;.]\d\d[:;.]\d\d$")


def _norm(key: str) -> str:
    key = key.strip()
    return re.sub(r"[;.]", ":", key).zfill(11) if _TC.match(key) else key


def _is_json(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


def text_for_clip(transcripts: dict[str, str], clip_name: str, record_tc: str) -> str:
    for key in (_norm(record_tc), clip_name, os.path.splitext(clip_name)[0]):
        if key in transcripts:
            return transcripts[key]
    return ""
