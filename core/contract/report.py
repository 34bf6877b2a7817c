"""The run report: what `lipflap run` writes beside a render, and the one reader of it.

The engine writes it (lipflap.pipeline.report, `--report` or a job's "report"; every key in
docs/report.md); conform's assembly, the OTIO media linker, the Resolve script and the Nuke node
read it through `RunReport` here instead of each picking at keys. Frame numbers are 0-based indexes into the source file (the job's own
addressing); the QC section's own ranges count from the output's first frame and stay in `qc`.

    {"report_version": 1, "input": ..., "output": ..., "fps": "24000/1001",
     "range": {"start", "end", "handles", "first", "last", "frames"},
     "timecodes": {"first", "last", "start_frame", "file_start"},
     "flagged_ranges": [{"start", "end", "reason", "action"}], "warnings": [...],
     "qc": {"figures": {"sync_r": {"value": ...}}, ...} or null,
     "disclosure": {"lip_synced": true, "credential": {"status", "where", "signer",
                    "identity_source", ...}, ...}, ...}

A dialogue run's report adds `"voices": [{"face", "frames_rendered", "frames_untouched",
"speech_frames", "flagged_ranges", "qc", ...}]` and a `face` on each flagged range (docs/job.md);
`RunReport.voices` reads them as `VoiceFigures`, whose `line()` is what the hosts show per face.

`credentials_summary(reports)` is the one sentence the hosts and conform show about the
renders' Content Credentials (signed, local UNVERIFIED or off, and where the identity came from).

`report_version` is 1; a report without it was written before versioning and has the same keys.
A reader meets a newer version with one sentence saying to update the plugin.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, field, fields

from .errors import LipflapError

REPORT_VERSION = 1
VERSION_KEY = "report_version"


@dataclass
class FrameRange:
    """What was rendered: the cut [start, end] and with handles [first, last], file indexes."""
    start: int
    end: int
    first: int
    last: int
    handles: int = 0
    frames: int = 0


@dataclass
class Flagged:
    """Flagged frames (inclusive file indexes), why, and what the renderer did with them
    (`rendered`, `passed_through`, `partly_passed_through`; None in reports before it was said)."""
    start: int
    end: int
    reason: str
    action: str | None = None
    face: str | None = None             # a dialogue run's face the range belongs to ("left")

    def to_dict(self) -> dict:
        d = {"start": self.start, "end": self.end, "reason": self.reason}
        if self.action is not None:
            d["action"] = self.action
        if self.face is not None:
            d["face"] = self.face
        return d


@dataclass
class VoiceFigures:
    """One face of a dialogue run (the report's `voices[]`, docs/job.md): what it got, its own
    quick QC (verdict and figures, measured on the output's pixels) and its own flagged ranges."""
    face: str
    frames_rendered: int | None = None
    frames_untouched: int | None = None
    speech_frames: int | None = None
    verdict: str | None = None
    figures: dict = field(default_factory=dict)    # QC figure name -> finite value
    flagged_ranges: list[Flagged] = field(default_factory=list)

    SHOWN = (("sync_r", "sync r"), ("bilabial_closure", "closure"), ("open_vowel_opening", "opening"),
             ("pause_rest", "rest"))

    @property
    def sync_r(self) -> float | None:
        return self.figures.get("sync_r")

    def line(self) -> str:
        """The face's figures in words, as the hosts show them."""
        parts = [f"{n} {what}" for n, what in ((self.frames_rendered, "frames redrawn"),
                                               (self.speech_frames, "with speech"),
                                               (self.frames_untouched, "left as shot"))
                 if n is not None]
        qc = [f"{label} {self.figures[k]:.2f}" for k, label in self.SHOWN if k in self.figures]
        if self.verdict or qc:
            parts.append(" ".join(["QC"] + ([self.verdict] if self.verdict else []))
                         + (f" ({', '.join(qc)})" if qc else ""))
        parts.append(f"{len(self.flagged_ranges)} flagged range(s)")
        return f"face {self.face}: " + ", ".join(parts)


def _figures(qc) -> dict:
    """A QC section's figures with a finite value, {name: value}."""
    out = {}
    figs = qc.get("figures") if isinstance(qc, dict) else None
    for name, fig in (figs.items() if isinstance(figs, dict) else ()):
        value = fig.get("value") if isinstance(fig, dict) else None
        if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
            out[str(name)] = float(value)
    return out


@dataclass
class Disclosure:
    """That the render is lip-synced and what its Content Credential is (the report's
    `disclosure` section, docs/provenance.md). `status`: signed, local_unverified or off (None
    when the report does not say); `where`: embedded or sidecar; `identity_source`: where the
    signing identity came from, in words. `raw` is the section as written (hashes, ranges, ...)."""
    lip_synced: bool = False
    description: str | None = None
    status: str | None = None
    where: str | None = None
    path: str | None = None
    signer: str | None = None
    identity_source: str | None = None
    reason: str | None = None           # why it is off: --no-credentials
    verify_with: str | None = None
    raw: dict = field(default_factory=dict, repr=False)

    _CREDENTIAL_KEYS = ("status", "where", "path", "signer", "identity_source", "reason", "verify_with")

    def to_dict(self) -> dict:
        d = dict(self.raw)
        d["lip_synced"] = self.lip_synced
        if self.description is not None:
            d["description"] = self.description
        cred = dict(d.get("credential") or {})
        cred.update({k: getattr(self, k) for k in self._CREDENTIAL_KEYS if getattr(self, k) is not None})
        d["credential"] = cred
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "Disclosure":
        cred = d.get("credential") if isinstance(d.get("credential"), dict) else {}
        return cls(lip_synced=d.get("lip_synced") is True, description=_str(d.get("description")),
                   raw=dict(d), **{k: _str(cred.get(k)) for k in cls._CREDENTIAL_KEYS})


def signer_name(signer: str | None) -> str:
    """The signer's common name ("Studio Dubbing" of "Studio Dubbing, Studio")."""
    return (signer or "").split(",")[0].strip() or "the facility"


def _credential_phrase(d: Disclosure | None, n: int, total: int) -> str:
    """What `n` renders of `total` sharing one credential state carry, in words."""
    who = "the render" if total == 1 else f"{n} render{'s' if n != 1 else ''}"
    has = "carries" if total == 1 or n == 1 else "carry"
    if d is None or d.status not in ("signed", "local_unverified", "off"):
        whose = ("the render's report says" if total == 1 else
                 f"{n} render's report says" if n == 1 else f"{n} renders' reports say")
        return (f"{whose} nothing about Content Credentials (an engine from before them; render "
                f"again to disclose the lip sync)")
    if d.status == "off":
        return (f"{who} {has} no Content Credential: credentials turned off "
                f"({d.reason or '--no-credentials'}; the report and container tag still say "
                f"lip-synced)")
    where = "in a .c2pa sidecar" if d.where == "sidecar" else "embedded"
    if d.status == "local_unverified":
        return (f"{who} {has} a local UNVERIFIED Content Credential ({where}, throwaway "
                f"certificate): set LIPFLAP_SIGN_CERT/LIPFLAP_SIGN_KEY (or --sign-cert/--sign-key) "
                f"to sign with your facility's identity")
    return (f"{who} {has} a signed Content Credential ({where}, signed by {signer_name(d.signer)}; "
            f"identity: {d.identity_source or 'not recorded'})")


def credentials_summary(reports) -> str:
    """One sentence for a host's or conform's result: which Content Credentials the renders of
    `reports` (RunReports) carry and where the signing identity came from; "" for no reports.
    Renders in the same state are counted together, in the order first met."""
    reports = list(reports)
    groups: dict = {}
    for r in reports:
        d = r.disclosure
        key = None if d is None else (d.status, d.where if d.status != "off" else None,
                                      d.signer if d.status == "signed" else None,
                                      d.identity_source if d.status == "signed" else None)
        if key not in groups:
            groups[key] = [d, 0]
        groups[key][1] += 1
    if not groups:
        return ""
    text = "; ".join(_credential_phrase(d, n, len(reports)) for d, n in groups.values())
    return text[0].upper() + text[1:] + "."


def cast_lines(cast) -> list[str]:
    """The report's "cast" record of a run by character in words, as both hosts show it: the
    characters voiced, then each one whose track speaks under the clip off screen."""
    cast = cast if isinstance(cast, dict) else {}
    out = []
    if cast.get("shown"):
        out.append("voiced " + ", ".join(str(c) for c in cast["shown"]))
    for a in _list(cast.get("absent")):
        if isinstance(a, dict):
            out.append(f"{a.get('character')} speaks {a.get('speech_s')} s off screen "
                       f"(not lip-synced)")
    return out


@dataclass
class RunReport:
    version: int = REPORT_VERSION
    input: str | None = None
    output: str | None = None
    fps: str | None = None
    range: FrameRange | None = None
    timecodes: dict = field(default_factory=dict)   # first, last, start_frame, file_start labels
    flagged_ranges: list[Flagged] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    qc: dict | None = None
    disclosure: Disclosure | None = None            # None: a report from before disclosures
    extra: dict = field(default_factory=dict)       # the rest (audio, shots, timing_s, ...), kept as written

    @property
    def from_a_run(self) -> bool:
        """Whether this is what `lipflap run` writes (it names its input and range): any other
        JSON object reads without an error, and without those."""
        return self.range is not None and self.input is not None

    @property
    def sync_score(self) -> float | None:
        """r of the render's mouth against the expected track (the QC figure sync_r), if measured."""
        fig = ((self.qc or {}).get("figures") or {}).get("sync_r")
        value = fig.get("value") if isinstance(fig, dict) else None
        ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
        return float(value) if ok else None

    @property
    def voices(self) -> list[VoiceFigures]:
        """Per face of a dialogue run, its figures and flagged ranges; [] for a one-voice run."""
        out = []
        for v in _list(self.extra.get("voices")):
            if not isinstance(v, dict) or v.get("face") is None:
                continue
            qc = v.get("qc") if isinstance(v.get("qc"), dict) else {}
            out.append(VoiceFigures(
                str(v["face"]), _int(v.get("frames_rendered")), _int(v.get("frames_untouched")),
                _int(v.get("speech_frames")), _str(qc.get("verdict")), _figures(qc),
                [f for f in (_flagged(e) for e in _list(v.get("flagged_ranges"))) if f]))
        return out

    @property
    def cast_lines(self) -> list[str]:
        """A run by character: whom it voiced, who speaks off screen (not lip-synced)."""
        return cast_lines(self.extra.get("cast"))

    @property
    def first_timecode(self) -> str | None:
        """The render's own start timecode (its first frame, handles included)."""
        tc = self.timecodes.get("first")
        return tc if isinstance(tc, str) else None

    @property
    def has_problems(self) -> bool:
        return bool(self.flagged_ranges or self.warnings)

    # -- JSON ------------------------------------------------------------------------------
    def to_dict(self) -> dict:
        d = dict(self.extra)
        d[VERSION_KEY] = self.version
        for key in ("input", "output", "fps", "qc"):
            d[key] = getattr(self, key)
        d["range"] = None if self.range is None else dict(vars(self.range))
        d["timecodes"] = dict(self.timecodes)
        d["flagged_ranges"] = [r.to_dict() for r in self.flagged_ranges]
        d["warnings"] = list(self.warnings)
        if self.disclosure is not None:
            d["disclosure"] = self.disclosure.to_dict()
        return d

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=1, ensure_ascii=False)

    @classmethod
    def from_dict(cls, data, where: str = "report") -> "RunReport":
        if not isinstance(data, dict):
            raise LipflapError(f"{where}: a run report is a JSON object; render the clip again.")
        version = data.get(VERSION_KEY, 1)
        if not isinstance(version, int) or isinstance(version, bool) or version > REPORT_VERSION:
            raise LipflapError(f"{where}: report version {version!r} is newer than this plugin reads "
                               f"({REPORT_VERSION}); update the plugin with `lipflap install`.")
        known = {f.name for f in fields(cls)} | {VERSION_KEY}
        rng = data.get("range")
        return cls(
            version=version,
            input=_str(data.get("input")), output=_str(data.get("output")), fps=_str(data.get("fps")),
            range=_frame_range(rng) if isinstance(rng, dict) else None,
            timecodes={k: v for k, v in (data.get("timecodes") or {}).items() if isinstance(v, str)}
            if isinstance(data.get("timecodes"), dict) else {},
            flagged_ranges=[f for f in (_flagged(e) for e in _list(data.get("flagged_ranges"))) if f],
            warnings=[str(w) for w in _list(data.get("warnings"))],
            qc=data.get("qc") if isinstance(data.get("qc"), dict) else None,
            disclosure=Disclosure.from_dict(data["disclosure"])
            if isinstance(data.get("disclosure"), dict) else None,
            extra={k: v for k, v in data.items() if k not in known})

    @classmethod
    def from_json(cls, text: str, where: str = "report") -> "RunReport":
        try:
            data = json.loads(text)
        except ValueError as e:
            raise LipflapError(f"{where}: the run report is not valid JSON ({e}); render the clip "
                               f"again.") from None
        return cls.from_dict(data, where)


def read_report(path: str) -> RunReport:
    """The report at `path`; LipflapError naming the file when it is missing or unreadable."""
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except OSError as e:
        raise LipflapError(f"{path}: cannot read the run report ({e.strerror}); render the clip "
                           f"again.") from None
    return RunReport.from_json(text, where=path)


def _str(v) -> str | None:
    return v if isinstance(v, str) else None


def _list(v) -> list:
    return v if isinstance(v, list) else []


def _int(v) -> int | None:
    return int(v) if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) else None


def _frame_range(d: dict) -> FrameRange | None:
    start, end = _int(d.get("start")), _int(d.get("end"))
    if start is None or end is None:
        return None
    first, last = _int(d.get("first")), _int(d.get("last"))
    return FrameRange(start, end, start if first is None else first, end if last is None else last,
                      _int(d.get("handles")) or 0, _int(d.get("frames")) or 0)


def _flagged(e) -> Flagged | None:
    if not isinstance(e, dict):
        return None
    start, end = _int(e.get("start")), _int(e.get("end"))
    if start is None or end is None:
        return None
    action, face = e.get("action"), e.get("face")
    return Flagged(start, end, str(e.get("reason") or "flagged"), action if isinstance(action, str) else None,
                   None if face is None or isinstance(face, bool) else str(face))
