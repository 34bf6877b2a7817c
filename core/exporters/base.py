"""The exporter interface: each format module defines FORMAT, EXTENSIONS and
`render(track, options) -> str`; writing (atomic: temp file + rename) is done here, once."""
from __future__ import annotations

import importlib
import os
from dataclasses import dataclass

from ..contract.errors import LipflapError
from ..mouth.track import MouthTrack, atomic_write_text

# format name -> module in this package
EXPORTERS = {"json": "json_export", "tsv": "tsv", "rhubarb": "rhubarb", "nuke": "nuke",
             "otio": "otio_export"}
_EXT = {".json": "json", ".tsv": "tsv", ".txt": "rhubarb", ".nk": "nuke", ".otio": "otio"}


@dataclass
class ExportOptions:
    first_frame: int = 1001          # nuke: frame number of the track's frame 0
    node_name: str = "lipflap_mouth"  # nuke: the NoOp's name
    audio_path: str | None = None    # otio: the clip's media
    audio_duration: float | None = None  # otio: the clip's length (default: the track's)
    name: str | None = None          # otio: timeline/clip name


def format_for_path(path: str) -> str:
    ext = os.path.splitext(path)[1].lower()
    if ext not in _EXT:
        raise LipflapError(f"{path}: cannot tell the format from the extension '{ext or '(none)'}'; "
                           f"give --format {'|'.join(EXPORTERS)} or use .json, .tsv, .txt "
                           f"(Rhubarb), .nk or .otio.")
    return _EXT[ext]


def _module(fmt: str):
    if fmt not in EXPORTERS:
        raise LipflapError(f"unknown export format '{fmt}'; use one of {', '.join(EXPORTERS)}.")
    return importlib.import_module(f"{__package__}.{EXPORTERS[fmt]}")


def render(track: MouthTrack, fmt: str, options: ExportOptions | None = None) -> str:
    """The exported text of `track` in format `fmt`."""
    return _module(fmt).render(track, options or ExportOptions())


def export(track: MouthTrack, path: str, fmt: str | None = None,
           options: ExportOptions | None = None, **kw) -> str:
    """Write `track` to `path` atomically; the format defaults from the extension. Returns it."""
    fmt = fmt or format_for_path(path)
    opts = options or ExportOptions(**kw)
    atomic_write_text(path, render(track, fmt, opts))
    return fmt
