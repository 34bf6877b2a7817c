"""Render names and versions: the one rule every tool names and finds renders by.

A render of a clip is `<clip>_lipflap_<lang>_v<NNN>.<ext>` (a sequence folder has no extension).
A clip used more than once in a cut gets the record-in timecode's digits after its name
(`<clip>_<HHMMSSFF>_lipflap_...`) so each use keeps its own version series. `<clip>` is
`clip_base` of the clip's name: Unicode letters and digits are kept (`Café 01` -> `Café_01`,
NFC-normalised so a macOS file name and a typed name agree), everything else runs of which
become one `_`. Resolve and Nuke name their renders here, conform names its jobs here, and
`lipflap_relink` looks renders up here, so a name written by one is found by the others.
"""
from __future__ import annotations

import os
import re
import unicodedata

# Extensions a clip name may carry from its media file; dropped from the render's name.
_VIDEO_EXT = re.compile(r"\.(mov|mxf|mp4|m4v|avi|mkv|r3d|braw|ari|dpx|exr)$", re.I)

# What a name or language code keeps in a file name (letters of any script, digits, `.`, `-`,
# `_`): safe_name keeps these and movie_render_re finds them, so a `pt_BR` render written by one
# is found by the other (a narrower finder once missed `_` and `.`).
_NAME_CHARS = r"\w.-"


def safe_name(text: str) -> str:
    """A file-name-safe form of a name or language code: letters (any script), digits, `.`, `-`
    and `_`; every other run becomes one `_`."""
    s = re.sub(rf"[^{_NAME_CHARS}]+", "_", unicodedata.normalize("NFC", str(text)), flags=re.UNICODE).strip("._")
    return s or "clip"


def clip_base(name: str) -> str:
    """A clip's name as a render's stem: a media extension dropped, then `safe_name`."""
    return safe_name(_VIDEO_EXT.sub("", unicodedata.normalize("NFC", str(name)).strip()))


def language_tag(language: str | None) -> str:
    """The language part of a render name; `und` (ISO 639 'undetermined') when none is given."""
    return safe_name(language or "und")


def output_stem(stem: str, language: str | None) -> str:
    """`<stem>_lipflap_<lang>`: the name of what conform writes for a cut (timeline, EDL, job list)."""
    return f"{stem}_lipflap_{language_tag(language)}"


def render_stem(base: str, language: str | None, version: int) -> str:
    """`<base>_lipflap_<lang>_v<NNN>` for an already safe `base` (clip_base, maybe with a tag)."""
    return f"{output_stem(base, language)}_v{version:03d}"


def render_name_re(base: str, language: str | None) -> re.Pattern:
    """Matches a render file or folder name of `base` and language; group 1 is the version."""
    return re.compile(rf"^{re.escape(base)}_lipflap_{re.escape(language_tag(language))}_v(\d{{3,}})(\..+)?$")


def movie_render_re(base: str, language: str | None = None) -> re.Pattern:
    """Matches a movie render of `base` for `language` (any language when None), with or without
    a record tag; groups `tag` (HHMMSSFF or None), `lang` and `ver`."""
    lang = re.escape(language_tag(language)) if language else rf"[{_NAME_CHARS}]+"
    return re.compile(rf"^{re.escape(base)}(?:_(?P<tag>\d{{8}}))?_lipflap_(?P<lang>{lang})"
                      rf"_v(?P<ver>\d{{3,}})\.(?:mov|mxf|mp4)$")


def next_version(folder: str, base: str, language: str | None) -> int:
    """One more than the highest version of this render in `folder`: versions count across
    extensions and sequence folders and are never reused, so v002 is the second render."""
    pat = render_name_re(base, language)
    try:
        names = os.listdir(folder)
    except OSError:
        names = []
    best = 0
    for name in names:
        m = pat.match(name)
        if m:
            best = max(best, int(m.group(1)))
    return best + 1


def next_version_path(folder: str, clip: str, language: str | None, ext: str) -> str:
    """The path of the next render of `clip` (a clip or file name) in `folder`, with `ext`
    (empty for an image-sequence folder)."""
    base = clip_base(clip)
    stem = render_stem(base, language, next_version(folder, base, language))
    ext = ext.lstrip(".")
    return os.path.join(folder, stem + (f".{ext}" if ext else ""))


def tc_tag(label: str) -> str:
    """The digits of a timecode label (`01:00:12;05` -> `01001205`), as put after a clip's name."""
    return re.sub(r"[^0-9]", "", label)


# What a render's file name may end in: the movie containers and the sequences' image formats.
_RENDER_EXT = re.compile(r"\.(mov|mp4|m4v|mxf|mkv|avi|png|exr|tif|tiff|dpx|jpg|jpeg)", re.I)
# A %d pattern in a sequence's file name (out_%04d.png), with the one separator before it.
_SEQ_FIELD = re.compile(r"[._-]?%0?\d*d")


def report_path(render: str) -> str:
    """The report beside a render: its name with `.json` (`shot_lipflap_es_v001.mov` ->
    `shot_lipflap_es_v001.json`; a sequence folder `shot_lipflap_es_v001/` -> the same .json
    beside it; a `%d` pattern `out/shot_%04d.png` -> `out/shot.json`, `out/%06d.exr` ->
    `out.json`). `lipflap run` writes it
    there unless told another name, conform names each clip's so, and `lipflap qc` looks there."""
    path = os.path.normpath(render)
    stem, ext = os.path.splitext(path)
    if not _RENDER_EXT.fullmatch(ext):
        # A sequence folder has no extension, and a clip name may hold dots (A001.C002_...).
        stem = path
    if "%" in os.path.basename(stem):
        folder, name = os.path.dirname(stem), _SEQ_FIELD.sub("", os.path.basename(stem))
        # Frames named by number alone (out/%06d.exr): the report goes beside their folder.
        stem = os.path.join(folder, name) if name else (folder or "sequence")
    return stem + ".json"
