"""The job contract (docs/job.md): what Resolve, Nuke and conform hand the engine.

A job is JSON with the same options as `lipflap run`, plus what a host knows (the clip's rate).
Unknown keys and wrong types are errors, never ignored: a host that misspells a key must hear it
rather than get a render with defaults.
"""
from __future__ import annotations

import json
import math
import os
from dataclasses import asdict, dataclass
from typing import Any

from .errors import JobError

MODES = ("full", "patch")
CODECS = ("prores_hq", "prores_4444", "dnxhr_hq", "h264", "png", "exr")


@dataclass
class OutputSpec:
    path: str
    mode: str = "full"
    codec: str | None = None  # None: chosen from the path's extension


@dataclass
class Job:
    video: str
    audio: str | None = None
    output: OutputSpec | None = None
    start_frame: int | None = None
    end_frame: int | None = None
    in_tc: str | None = None
    out_tc: str | None = None
    fps: str | None = None
    audio_offset_s: float = 0.0
    text: str | None = None
    transcript: str | None = None
    language: str | None = None
    face: str = "auto"
    handles: int = 0
    strength: float = 1.0
    shapes: str | None = None
    report: str | None = None
    # Who signs the render's Content Credential (docs/provenance.md): the facility's certificate
    # chain and key (PEM), both or neither (neither: the environment or config file decides);
    # credentials false is `lipflap run --no-credentials`.
    sign_cert: str | None = None
    sign_key: str | None = None
    credentials: bool = True

    def to_dict(self) -> dict:
        d = asdict(self)
        if d["credentials"]:
            d.pop("credentials")  # the default; jobs written before the key stay as they were
        return {k: v for k, v in d.items() if v is not None}


# key -> (accepted python types, human name)
_STR = ((str,), "a string")
_OPT_STR = ((str, type(None)), "a string or null")
_INT = ((int,), "an integer")
_OPT_INT = ((int, type(None)), "an integer or null")
_NUM = ((int, float), "a number")
_BOOL = ((bool,), "true or false")
_FIELDS: dict[str, tuple[tuple[type, ...], str]] = {
    "video": _STR, "audio": _OPT_STR, "output": ((dict, str), "an object {path, mode, codec} or a path"),
    "start_frame": _OPT_INT, "end_frame": _OPT_INT, "in_tc": _OPT_STR, "out_tc": _OPT_STR,
    "fps": ((str, int, float, type(None)), "a rate such as \"24000/1001\", 25 or 23.976"),
    "audio_offset_s": _NUM, "text": _OPT_STR, "transcript": _OPT_STR, "language": _OPT_STR,
    "face": ((str, int), "auto, largest, a face index or \"X,Y\""), "handles": _INT,
    "strength": _NUM, "shapes": _OPT_STR, "report": _OPT_STR,
    "sign_cert": _OPT_STR, "sign_key": _OPT_STR, "credentials": _BOOL,
}
_OUTPUT_FIELDS = {"path": _STR, "mode": _STR, "codec": _OPT_STR}


def _show(value: Any, limit: int = 60) -> str:
    """A value as JSON for a one-line message, cut short so a pasted blob stays readable."""
    text = json.dumps(value, default=str)
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _check(where: str, key: str, value: Any, spec) -> None:
    types, name = spec
    # bool is an int in Python; a host writing true for a frame number is a bug to report.
    if (isinstance(value, bool) and bool not in types) or not isinstance(value, types):
        raise JobError(f"{where}: \"{key}\" must be {name}, not {_show(value)}; fix the job file.")
    if isinstance(value, float) and not math.isfinite(value):
        raise JobError(f"{where}: \"{key}\" must be a finite number; fix the job file.")


def _refuse_unknown(where: str, obj: dict, accepted: dict, inside: str, accepts: str) -> None:
    """JobError naming the first unknown keys of `obj` (a misspelt key is never ignored)."""
    unknown = sorted(set(obj) - set(accepted))
    if unknown:
        raise JobError(f"{where}: unknown key(s) {', '.join(_show(k, 40) for k in unknown[:5])}"
                       f"{inside}; {accepts}.")


def parse_job(data: Any, where: str = "job") -> Job:
    """Validate a decoded job object and return a Job; raises JobError with the offending key."""
    if not isinstance(data, dict):
        raise JobError(f"{where}: a job must be a JSON object with at least \"video\"; fix the job file.")
    _refuse_unknown(where, data, _FIELDS, "", f"the job contract accepts {', '.join(sorted(_FIELDS))}")
    if "video" not in data:
        raise JobError(f"{where}: \"video\" is missing; give the source video's path.")
    for key, value in data.items():
        _check(where, key, value, _FIELDS[key])
    values = dict(data)
    out = values.get("output")
    if isinstance(out, str):
        out = {"path": out}
    if out is not None:
        _refuse_unknown(where, out, _OUTPUT_FIELDS, ' in "output"', "it accepts path, mode, codec")
        if "path" not in out:
            raise JobError(f"{where}: \"output\" has no \"path\"; give the render's file or folder.")
        for key, value in out.items():
            _check(f"{where} output", key, value, _OUTPUT_FIELDS[key])
        if out.get("mode", "full") not in MODES:
            raise JobError(f"{where}: output mode {_show(out['mode'])} is not one of {', '.join(MODES)}.")
        if out.get("codec") is not None and out["codec"] not in CODECS:
            raise JobError(f"{where}: output codec {_show(out['codec'])} is not one of {', '.join(CODECS)}.")
        values["output"] = OutputSpec(**out)
    for key in ("start_frame", "end_frame", "handles"):
        if values.get(key) is not None and values[key] < 0:
            raise JobError(f"{where}: \"{key}\" must be 0 or more (frames are 0-based), not {values[key]}.")
    if (values.get("start_frame") is not None and values.get("end_frame") is not None
            and values["end_frame"] < values["start_frame"]):
        raise JobError(f"{where}: end_frame {values['end_frame']} is before start_frame "
                       f"{values['start_frame']}; both ends are inclusive 0-based indexes.")
    if (values.get("start_frame") is not None or values.get("end_frame") is not None) and \
            (values.get("in_tc") or values.get("out_tc")):
        raise JobError(f"{where}: give either start_frame/end_frame or in_tc/out_tc, not both.")
    if not 0.0 <= float(values.get("strength", 1.0)) <= 1.0:
        raise JobError(f"{where}: \"strength\" must be between 0 and 1, not {values['strength']}.")
    if values.get("text") and values.get("transcript"):
        raise JobError(f"{where}: give either \"text\" or \"transcript\", not both.")
    if bool(values.get("sign_cert")) != bool(values.get("sign_key")):
        raise JobError(f"{where}: \"sign_cert\" and \"sign_key\" go together: give the signing "
                       f"certificate (PEM, with its chain) and its private key (PEM), or neither.")
    if values.get("credentials") is False and values.get("sign_cert"):
        raise JobError(f"{where}: \"credentials\": false turns the Content Credential off, so "
                       f"\"sign_cert\"/\"sign_key\" would sign nothing; give one or the other.")
    face = values.get("face", "auto")
    values["face"] = str(face)
    values["audio_offset_s"] = float(values.get("audio_offset_s", 0.0))
    values["strength"] = float(values.get("strength", 1.0))
    return Job(**values)


def load_job(path: str) -> Job:
    """Read and validate a job file."""
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except FileNotFoundError:
        raise JobError(f"{path}: job file not found; check the path.") from None
    except OSError as e:
        raise JobError(f"{path}: cannot read the job file ({e.strerror}).") from None
    try:
        data = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise JobError(f"{path}: the job file is not UTF-8 text; save it as UTF-8 JSON.") from None
    except json.JSONDecodeError as e:
        raise JobError(f"{path}: not valid JSON at line {e.lineno} column {e.colno} ({e.msg}); "
                       f"fix the job file.") from None
    job = parse_job(data, where=path)
    # Paths in a job are relative to the job file, as a host writing it beside the media expects.
    base = os.path.dirname(os.path.abspath(path))
    for key in ("video", "audio", "transcript", "shapes", "report", "sign_cert", "sign_key"):
        v = getattr(job, key)
        if v and not os.path.isabs(v):
            setattr(job, key, os.path.join(base, v))
    for key in ("sign_cert", "sign_key"):
        v = getattr(job, key)
        if v and not os.path.isfile(v):
            # Checked here, not at signing time: a farm should fail the job file in a second.
            raise JobError(f"{path}: \"{key}\" {v} is not a file; give the path of the facility's "
                           f"{'certificate chain' if key == 'sign_cert' else 'private key'} (PEM), "
                           f"relative to the job file or absolute.")
    if job.output and not os.path.isabs(job.output.path):
        job.output.path = os.path.join(base, job.output.path)
    return job
