"""Writing a file so that a reader never sees half of it: the project's one atomic write.

The text goes to a hidden temporary name in the target's own folder (a rename is atomic only
within one file system), is flushed to disk (fsync), then renamed over the target with
os.replace. A crash leaves either the old file or the new one, and at worst a `.NAME.PID.lipflap-tmp`
beside it, which a failed write removes itself.

Every file the engine and the hosts write whole from memory goes through `atomic_write` /
`atomic_json` (the hosts as `lipflap_contract.atomic_write` / `atomic_json`). The only other
renames in the tree are outputs that are never whole in memory, written to a path by something
else and renamed when it has finished: the movie, image-sequence frames and sidecar WAV that PyAV
muxes (media/encode.py), the face-analysis cache entry streamed into a zip (face/cache.py), and
the C2PA SDK's signed copy (provenance/sign.py), and the cut an OTIO adapter writes back as
AAF / FCP 7 XML / FCPXML (conform/interchange.py).
"""
from __future__ import annotations

import json
import os

from .errors import LipflapError


def temp_path(path: str) -> str:
    """The temporary name a write of `path` goes through (hidden, per process)."""
    folder, name = os.path.split(os.path.abspath(path))
    return os.path.join(folder, f".{name}.{os.getpid()}.lipflap-tmp")


def atomic_write(path: str, data: str | bytes) -> None:
    """Write `data` (text as UTF-8, or bytes) to `path` all at once; OSError on failure."""
    tmp = temp_path(path)
    mode, kwargs = ("wb", {}) if isinstance(data, bytes) else ("w", {"encoding": "utf-8", "newline": ""})
    try:
        with open(tmp, mode, **kwargs) as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.remove(tmp)
        except OSError:
            pass
        raise


def atomic_json(path: str, obj, *, indent: int | None = 2, default=None) -> None:
    """`obj` as UTF-8 JSON (non-ASCII kept as is), written atomically."""
    atomic_write(path, json.dumps(obj, indent=indent, ensure_ascii=False, default=default) + "\n")


def read_json_object(path: str, what: str, fix: str, error=LipflapError) -> dict:
    """The JSON object in `path` (a config, a report); `error` (a LipflapError) naming the file,
    `what` it should be and `fix`, what to do, when it cannot be read or is not an object."""
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except (OSError, ValueError) as e:
        raise error(f"{path}: cannot read the {what} ({e}); {fix}") from None
    if not isinstance(data, dict):
        raise error(f"{path}: the {what} is not a JSON object; {fix}")
    return data
