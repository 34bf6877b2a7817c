"""The dialog's settings, remembered between runs in the user's lipflap config folder."""
from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, fields

SCOPES = ("track", "inout", "current")
MODES = ("full", "patch")
CODECS = {"full": ("prores_hq", "prores_4444", "dnxhr_hq", "h264"), "patch": ("prores_4444",)}


@dataclass
class Settings:
    scope: str = "track"          # which clips: every clip on `video_track`, In..Out, or current
    video_track: int = 1
    dub_kind: str = "track"       # "track": an audio track of the timeline; "file": a dub file
    dub_track: int = 2
    dub_file: str = ""
    dub_start_tc: str = "01:00:00:00"
    transcripts: str = ""         # optional per-clip script text (lipflap transcript file)
    text: str = ""                # script text when a single clip is processed
    language: str = ""
    mode: str = "full"
    codec: str = "prores_hq"
    handles: int = 8
    face: str = "auto"
    output_dir: str = ""

    def problems(self) -> list[str]:
        out = []
        if self.scope not in SCOPES:
            out.append(f"unknown clip choice {self.scope!r}")
        if self.mode not in MODES:
            out.append(f"unknown output {self.mode!r}")
        elif self.codec not in CODECS[self.mode]:
            out.append(f"codec {self.codec} cannot carry a {self.mode} render; use {', '.join(CODECS[self.mode])}")
        if self.dub_kind == "file" and not os.path.isfile(self.dub_file):
            out.append(f"dub file {self.dub_file or '(none)'} not found")
        if self.handles < 0:
            out.append("handles must be 0 or more")
        if not self.output_dir:
            out.append("choose an output folder for the renders")
        if self.transcripts and not os.path.isfile(self.transcripts):
            out.append(f"transcript file {self.transcripts} not found")
        return out


def settings_path(config_dir: str) -> str:
    return os.path.join(config_dir, "resolve_settings.json")


def load(config_dir: str) -> Settings:
    try:
        with open(settings_path(config_dir), encoding="utf-8") as f:
            data = json.load(f)
    except (OSError, ValueError):
        return Settings()
    known = {f.name: f.type for f in fields(Settings)}
    s = Settings()
    for key, value in (data if isinstance(data, dict) else {}).items():
        if key in known and isinstance(value, type(getattr(s, key))):
            setattr(s, key, value)
    return s


def save(config_dir: str, s: Settings) -> None:
    os.makedirs(config_dir, exist_ok=True)
    path = settings_path(config_dir)
    with open(path + ".tmp", "w", encoding="utf-8") as f:
        json.dump(asdict(s), f, indent=2)
    os.replace(path + ".tmp", path)
