"""Per-clip script text for the dub, read with the standard library.

Two spellings of the same thing (docs/transcripts.md):
- JSON: {"clips": {"A001_C003": "Hola ...", "01:00:10:00": "..."}} (a plain object of
  key -> text is accepted too);
- text: blocks headed by a clip name or a record timecode in brackets,
      [A001_C003]
      Hola, ¿qué tal?
  Lines starting with '#' are comments.
A key is a clip name (with or without extension) or the clip's record start timecode.
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
    if text.lstrip().startswith("{"):
        try:
            data = json.loads(text)
        except ValueError as e:
            raise TranscriptError(f"{path}: not valid JSON ({e}); fix the transcript file.") from None
        clips = data.get("clips", data) if isinstance(data, dict) else None
        if not isinstance(clips, dict) or not all(isinstance(v, str) for v in clips.values()):
            raise TranscriptError(f"{path}: expected {{\"clips\": {{name or timecode: text}}}}.")
        out = {str(k).strip(): v.strip() for k, v in clips.items()}
    else:
        out, key, buf = {}, None, []
        for n, line in enumerate(text.splitlines(), 1):
            if line.lstrip().startswith("#"):
                continue
            m = _HEADER.match(line.strip())
            if m:
                if key is not None:
                    out[key] = " ".join(buf).strip()
                key, buf = m.group(1).strip(), []
            elif line.strip():
                if key is None:
                    raise TranscriptError(f"{path}: line {n} has text before any [clip name] header.")
                buf.append(line.strip())
        if key is not None:
            out[key] = " ".join(buf).strip()
    if not out:
        raise TranscriptError(f"{path}: no transcript blocks found; see docs/transcripts.md for the format.")
    return out


def text_for_clip(transcripts: dict[str, str], clip_name: str, record_tc: str) -> str:
    for key in (clip_name, os.path.splitext(clip_name)[0], record_tc, record_tc.replace(";", ":")):
        if key in transcripts:
            return transcripts[key]
    return ""
