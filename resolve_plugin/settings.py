"""The dialog's settings, remembered between runs in the user's lipflap config folder; where
there is no dialog (the free edition), read from a file next to the script or those saved ones."""
from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field, fields

from lipflap_contract.files import atomic_json

SCRIPT_SETTINGS = "lipflap_settings.json"   # the free edition's hand-written file, next to the script
SAVED_NAME = "resolve_settings.json"        # what the dialog saves, in lipflap's config folder

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
    # Dialogue: per speaking face the audio track (by name) of its character's dub,
    # [{"track": "Dub ES ANNA", "face": "left"}, ...]; empty for one dub (dub_kind/dub_track).
    voices: list = field(default_factory=list)
    # By character: the cast file (`lipflap cast`, made by Find faces) and voices
    # [{"track": "Dub ES ANNA", "character": "PERSON_1"}, ...]; each clip voices whom it shows.
    cast_file: str = ""

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
        if self.cast_file:
            if not os.path.isfile(self.cast_file):
                out.append(f"cast file {self.cast_file} not found; press Find faces by character again")
            if not self.voices:
                out.append("a cast file maps the characters' tracks: choose a track for at least one "
                           "character, or clear the cast file for one dub")
        if self.voices:
            from .voices import mapping_problems  # noqa: PLC0415 - only for dialogue settings
            out += mapping_problems(self.voices, by_character=bool(self.cast_file))
            if self.text or self.transcripts:
                out.append("with voices per face leave the script text and transcripts empty (each "
                           "face's mouth follows its own track's audio)")
            if self.face not in ("", "auto"):
                out.append(f"face {self.face} is for one dub; with voices per face each voice names "
                           f"its face, so set Face back to auto")
        return out


def settings_path(config_dir: str) -> str:
    return os.path.join(config_dir, SAVED_NAME)


def headless_paths(config_dir: str, script_dir: str | None) -> list[str]:
    """Where a run without a dialog looks for its settings, first found wins: the file next to
    the script (a user of the free edition writes it by hand), then the dialog's last saved."""
    return ([os.path.join(script_dir, SCRIPT_SETTINGS)] if script_dir else []) + [settings_path(config_dir)]


def load(config_dir: str) -> Settings:
    """The dialog's last saved settings (defaults where there are none or they are unreadable:
    the dialog shows every field, so nothing goes unseen)."""
    return read(settings_path(config_dir))[0]


def read(path: str) -> tuple[Settings, list[str]]:
    """The settings in `path`, and what in it could not be used (a run without a dialog prints
    that): text that is not JSON, keys the dialog does not have, values of the wrong type, each
    left at its default."""
    s = Settings()
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except OSError:
        return s, []
    except ValueError as e:
        return s, [f"{path} is not JSON ({e})"]
    if not isinstance(data, dict):
        return s, [f"{path} holds no {{\"key\": value}} object"]
    problems = []
    names = {f.name for f in fields(Settings)}
    for key, value in data.items():
        if key not in names:
            problems.append(f"unknown key {key!r} (known: {', '.join(sorted(names))})")
        elif not isinstance(value, type(getattr(s, key))):
            problems.append(f"{key} must be a {type(getattr(s, key)).__name__}, not {value!r}")
        else:
            setattr(s, key, value)
    return s, problems


def save(config_dir: str, s: Settings) -> None:
    os.makedirs(config_dir, exist_ok=True)
    atomic_json(settings_path(config_dir), asdict(s))
