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

from .errors import FormatError, JobError, LipflapError, RangeError
from .timecode import tc_to_frames

MODES = ("full", "patch")
CODECS = ("prores_hq", "prores_4444", "prores_4444xq", "dnxhr_hq", "h264", "png", "exr")
# An output's codec may also be "auto" (or left out): from the output name, and for a full-frame
# .mov the ProRes profile that holds the source's detail (docs/cli.md, "ProRes data rates").
AUTO_CODEC = "auto"


@dataclass
class OutputSpec:
    path: str
    mode: str = "full"
    codec: str | None = None  # None ("auto" in a job): chosen from the path and the source


@dataclass
class VoiceSpec:
    """One character's dub in a dialogue job: whose mouth (`face`, as the job's `face`, or
    left/right/centre by position; or, in a job with a "cast_file", the `character` of the cast
    whose face it is wherever the clip shows them) follows which dub, placed and scripted as a
    one-voice job's."""
    face: str | None = None
    audio: str | None = None
    audio_offset_s: float = 0.0
    text: str | None = None
    transcript: str | None = None
    language: str | None = None
    shapes: str | None = None
    character: str | None = None


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
    voices: list[VoiceSpec] | None = None       # one dub per face (docs/job.md, dialogue)
    cast: dict | list | str | None = None       # one mixed dub: speaker -> face, faces, or "auto"
    cast_file: str | None = None                # voices by character (docs/job.md, "The cast")
    # Other footage of the same actor (files or folders of them): exemplar frames the shot lacks
    library: list[str] | None = None

    def to_dict(self) -> dict:
        d = asdict(self)
        if d["credentials"]:
            d.pop("credentials")  # the default; jobs written before the key stay as they were
        if self.voices is not None:
            d["voices"] = [{k: v for k, v in asdict(vs).items() if v is not None}
                           for vs in self.voices]
        return {k: v for k, v in d.items() if v is not None}

    @property
    def dialogue(self) -> bool:
        """Several faces in one run: per-face voices, or one mixed dub with a cast."""
        return self.voices is not None or self.cast is not None


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
    "voices": ((list,), "a list of voice objects {face or character, audio, audio_offset_s, text, "
                        "transcript, language, shapes}"),
    "cast": ((dict, list, str), "\"auto\", a list of faces, or an object speaker -> face"),
    "cast_file": _STR,
    "library": ((list,), "a list of video files or folders of the same actor's other footage"),
}
_OUTPUT_FIELDS = {"path": _STR, "mode": _STR, "codec": _OPT_STR}
_VOICE_FIELDS = {"face": ((str, int), "left, right, centre, a face index or \"X,Y\""),
                 "character": _STR,
                 "audio": _OPT_STR, "audio_offset_s": _NUM, "text": _OPT_STR,
                 "transcript": _OPT_STR, "language": _OPT_STR, "shapes": _OPT_STR}
_POSITIONS = ("left", "right", "centre", "center")


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
        if out.get("codec") == AUTO_CODEC:
            out = {**out, "codec": None}    # the same as none: lipflap chooses
        if out.get("codec") is not None and out["codec"] not in CODECS:
            raise JobError(f"{where}: output codec {_show(out['codec'])} is not one of "
                           f"{', '.join(CODECS)} or {AUTO_CODEC}.")
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
    if values.get("cast_file") is not None and "voices" not in values:
        raise JobError(f"{where}: \"cast_file\" goes with \"voices\" naming characters "
                       f"({{\"character\", \"audio\"}}, one per character's dub); add them.")
    if "voices" in values:
        values["voices"] = _parse_voices(where, values)
    if "cast" in values:
        values["cast"] = _parse_cast(where, values)
    if "library" in values:
        if values.get("voices") is not None or values.get("cast") is not None:
            raise JobError(f"{where}: \"library\" serves one actor's shot; leave it out of a "
                           f"dialogue job (\"voices\" or \"cast\") or render each face on its own.")
        values["library"] = _parse_library(where, values["library"])
    face = values.get("face", "auto")
    values["face"] = str(face)
    values["audio_offset_s"] = float(values.get("audio_offset_s", 0.0))
    values["strength"] = float(values.get("strength", 1.0))
    return Job(**values)


def normal_face(spec) -> str:
    """A face choice in one spelling, so two voices naming one face are caught ("centre" and
    "center", " 1" and "1", "3, 4" and "3,4")."""
    s = str(spec).strip().lower()
    if s == "center":
        return "centre"
    if "," in s:
        return ",".join(p.strip() for p in s.split(",", 1))
    return s


def check_face(where: str, spec, key: str = "face") -> str:
    """A voice's face: left/right/centre, a face index or "X,Y"; JobError otherwise."""
    s = normal_face(spec)
    ok = s in _POSITIONS or s.isdigit()
    if "," in s:
        try:
            [float(v) for v in s.split(",")]
            ok = True
        except ValueError:
            ok = False
    if not ok:
        raise JobError(f"{where}: {key} {_show(spec)} is not a face; give left, right, centre, a "
                       f"face index from `lipflap analyze`, or \"X,Y\" pixels in the first frame.")
    return s


def _parse_voices(where: str, values: dict) -> list[VoiceSpec]:
    voices = values["voices"]
    if not voices:
        raise JobError(f"{where}: \"voices\" is empty; give one object per speaking face, or "
                       f"leave the key out for a one-voice job.")
    clash = [k for k in ("audio", "shapes", "text", "transcript", "cast") if values.get(k)]
    if clash or ("face" in values and str(values["face"]) != "auto"):
        what = clash[0] if clash else "face"
        raise JobError(f"{where}: \"{what}\" belongs inside each of \"voices\" in a dialogue "
                       f"job; move it into the voice it is for.")
    out, seen = [], {}
    for k, v in enumerate(voices):
        at = f"{where} voices[{k}]"
        if not isinstance(v, dict):
            raise JobError(f"{at}: a voice must be an object with \"face\" and \"audio\" (or "
                           f"\"shapes\"), not {_show(v)}.")
        unknown = sorted(set(v) - set(_VOICE_FIELDS))
        if unknown:
            raise JobError(f"{at}: unknown key(s) {', '.join(_show(u, 40) for u in unknown[:5])}; "
                           f"a voice accepts {', '.join(_VOICE_FIELDS)}.")
        for key, value in v.items():
            _check(at, key, value, _VOICE_FIELDS[key])
        face = _voice_face(at, v, bool(values.get("cast_file")))
        if face in seen:
            raise JobError(f"{at}: {'character' if 'character' in v else 'face'} "
                           f"{_show(v.get('character', v.get('face')))} already has "
                           f"voices[{seen[face]}]; give each face one voice (mix two stems of "
                           f"one character beforehand).")
        seen[face] = k
        if not v.get("audio") and not v.get("shapes"):
            raise JobError(f"{at}: no dub for face {_show(v['face'])}; give its \"audio\" (or "
                           f"an edited \"shapes\" track).")
        if v.get("text") and v.get("transcript"):
            raise JobError(f"{at}: give either \"text\" or \"transcript\", not both.")
        d = dict(v) if "character" in v else dict(v, face=face)
        d["audio_offset_s"] = float(v.get("audio_offset_s", 0.0))
        out.append(VoiceSpec(**d))
    return out


def _voice_face(where: str, v: dict, cast_file: bool) -> str:
    """A voice's face as checked, or (a job with a cast file) its character's name."""
    if cast_file:
        if "face" in v or not str(v.get("character", "")).strip():
            raise JobError(f"{where}: a job with a \"cast_file\" names each voice's "
                           f"\"character\" (as the cast file does), not a \"face\": the clip's "
                           f"faces are matched to the cast.")
        return "character " + v["character"].strip()
    if "character" in v:
        raise JobError(f"{where}: \"character\" {_show(v['character'])} needs the cast that "
                       f"knows them; give the job's \"cast_file\" (made by `lipflap cast`).")
    if "face" not in v:
        raise JobError(f"{where}: \"face\" is missing; say whose mouth this voice moves "
                       f"(left, right, centre, a face index or \"X,Y\").")
    return check_face(where, v["face"])


def _parse_cast(where: str, values: dict):
    """"auto" (every face in the shot), a list of faces, or {speaker: face}; needs one mixed dub."""
    cast = values["cast"]
    if not values.get("audio"):
        raise JobError(f"{where}: \"cast\" splits one mixed dialogue dub among faces; give that "
                       f"dub as \"audio\".")
    if values.get("shapes"):
        raise JobError(f"{where}: \"cast\" needs the mixed dub's sound, not an edited "
                       f"\"shapes\" track; leave \"shapes\" out.")
    if isinstance(cast, str):
        if cast.strip().lower() != "auto":
            raise JobError(f"{where}: \"cast\" {_show(cast)} is not \"auto\", a list of faces or "
                           f"an object speaker -> face.")
        return "auto"
    if not cast:
        raise JobError(f"{where}: \"cast\" is empty; name at least two faces, or \"auto\".")
    faces = list(cast.values()) if isinstance(cast, dict) else list(cast)
    norm = []
    for f in faces:
        if isinstance(f, bool) or not isinstance(f, (str, int)):
            raise JobError(f"{where}: \"cast\" face {_show(f)} must be a string or an index.")
        nf = check_face(f"{where} cast", f)
        if nf in norm:
            raise JobError(f"{where}: \"cast\" gives face {_show(f)} twice; give each face one "
                           f"speaker.")
        norm.append(nf)
    if isinstance(cast, dict):
        for name in cast:
            if not str(name).strip() or any(c in str(name) for c in "[]"):
                raise JobError(f"{where}: \"cast\" speaker name {_show(name)} must be a plain "
                               f"name as the script writes it between brackets.")
        return {str(name).strip(): f for name, f in zip(cast, norm)}
    return norm


def _parse_library(where: str, library: list) -> list[str]:
    """The actor library: video files or folders of them, each a non-empty string."""
    for k, v in enumerate(library):
        if not isinstance(v, str) or not v.strip():
            raise JobError(f"{where}: \"library\"[{k}] must be the path of a video file or a "
                           f"folder of them, not {_show(v)}; fix the job file.")
    return list(library)


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
    for key in ("video", "audio", "transcript", "shapes", "report", "sign_cert", "sign_key",
                "cast_file"):
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
    for obj, keys in [(job, ("video", "audio", "transcript", "shapes", "report"))] + \
            [(v, ("audio", "transcript", "shapes")) for v in job.voices or []]:
        for key in keys:
            v = getattr(obj, key)
            if v and not os.path.isabs(v):
                setattr(obj, key, os.path.join(base, v))
    if job.library:
        job.library = [v if os.path.isabs(v) else os.path.join(base, v) for v in job.library]
    if job.output and not os.path.isabs(job.output.path):
        job.output.path = os.path.join(base, job.output.path)
    return job


def resolve_range(job: Job, info) -> tuple[int, int]:
    """The job's 0-based inclusive range within the file (before handles): its in/out timecodes
    on the file's own timecode, else its start/end frames, else the whole file. `info`: the
    source as lipflap.media.probe sees it (path, frame_count, fps, drop_frame, start_tc_frames,
    start_timecode)."""
    n = info.frame_count
    if job.in_tc or job.out_tc:
        def tc(value, what):
            try:
                f = tc_to_frames(value, info.fps, info.drop_frame)
            except FormatError:
                raise RangeError(f"{info.path}: {what} timecode {value!r} is not a timecode "
                                 f"(HH:MM:SS:FF); give the file's own timecode.") from None
            return f - info.start_tc_frames
        start = tc(job.in_tc, "--in") if job.in_tc else 0
        end = tc(job.out_tc, "--out") if job.out_tc else n - 1
        if start < 0 or end >= n or start > end:
            raise RangeError(f"{info.path}: timecodes {job.in_tc or info.start_timecode}-"
                             f"{job.out_tc or 'end'} fall outside the file, which runs from "
                             f"{info.start_timecode} for {n} frames; give --in/--out within it.")
        return start, end
    start = 0 if job.start_frame is None else job.start_frame
    end = n - 1 if job.end_frame is None else job.end_frame
    if start < 0 or end >= n or start > end:
        raise RangeError(f"{info.path}: frames {start}-{end} are outside the file, which has {n} "
                         f"frames (0-{n - 1}); give --start/--end within that range.")
    return start, end


def with_handles(job: Job, info, start: int, end: int) -> tuple[int, int]:
    """The frames rendered: the job's range widened by its handles, cut to the file's ends."""
    return max(0, start - job.handles), min(info.frame_count - 1, end + job.handles)


def read_cast_file(path: str) -> dict:
    """A cast file's JSON (`lipflap cast`; docs/conform.md, "The cast"), its "characters" object
    checked: the one reading every reader shares (the engine's lipflap.face.castfile, and the
    hosts through cast_names, where a job's voices name characters)."""
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except FileNotFoundError:
        raise LipflapError(f"{path}: cast file not found; check --cast or make one with "
                           f"`lipflap cast CLIPS... -o {os.path.basename(path)}`.") from None
    except (OSError, ValueError) as e:
        raise cast_error(path, f"not a readable JSON cast file ({e})") from None
    chars = data.get("characters") if isinstance(data, dict) else None
    if not isinstance(chars, dict) or not chars:
        raise cast_error(path, 'no "characters" object naming at least one character')
    return data


def cast_names(path: str) -> list[str]:
    """The character names of a cast file, in its order."""
    return [str(n) for n in read_cast_file(path)["characters"]]


def cast_error(path: str, what: str) -> LipflapError:
    return LipflapError(f"{path}: {what}; fix the cast file (docs/conform.md, \"The cast\").")
