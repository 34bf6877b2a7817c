"""The run report: what `lipflap run` writes beside a render, and the one reader of it.

The engine writes it (lipflap.pipeline.report, `--report` or a job's "report"; every key in
docs/report.md); conform's assembly, the OTIO media linker, the Resolve script and the Nuke node
read it through `RunReport` here instead of each picking at keys. Frame numbers are 0-based indexes into the source file (the job's own
addressing); the QC section's own ranges count from the output's first frame and stay in `qc`.

    {"report_version": 1, "input": ..., "output": ..., "fps": "24000/1001",
     "range": {"start", "end", "handles", "first", "last", "frames"},
     "timecodes": {"first", "last", "start_frame", "file_start"},
     "flagged_ranges": [{"start", "end", "reason", "action"}], "warnings": [...],
     "qc": {"figures": {"sync_r": {"value": ...}}, ...} or null, ...}

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

    def to_dict(self) -> dict:
        d = {"start": self.start, "end": self.end, "reason": self.reason}
        if self.action is not None:
            d["action"] = self.action
        return d


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
    extra: dict = field(default_factory=dict)       # the rest (audio, shots, timing_s, ...), kept as written

    @property
    def sync_score(self) -> float | None:
        """r of the render's mouth against the expected track (the QC figure sync_r), if measured."""
        fig = ((self.qc or {}).get("figures") or {}).get("sync_r")
        value = fig.get("value") if isinstance(fig, dict) else None
        ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
        return float(value) if ok else None

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
    action = e.get("action")
    return Flagged(start, end, str(e.get("reason") or "flagged"), action if isinstance(action, str) else None)
