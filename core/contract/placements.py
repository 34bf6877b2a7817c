"""Placements: renders at record positions, which a host hands `lipflap timeline` to get an OTIO
timeline and a CMX 3600 EDL written by the engine (docs/timeline.md).

    {"lipflap_placements": 1, "name": "Reel 1 lipflap es", "rate": "24000/1001",
     "start": 86400, "track": "lipflap es", "language": "es", "metadata": {...},
     "placements": [{"render": "/renders/A001_C003_lipflap_es_v001.mov", "name": "A001_C003...",
                     "record_in": 86520, "duration": 48, "source_in": 86400,
                     "markers": [{"record_in": 86530, "duration": 3, "reason": "no_face"}],
                     "metadata": {...}}]}

Frames are whole frames at `rate`. `start` and `record_in` count on the timeline's record side in
one numbering (Resolve's timeline frame numbers, or timecode as frames); `start` is where the
timeline's first frame sits, so the EDL's record timecode is `start` labelled. `source_in` is the
render's own timecode, as frames, of the first frame placed. Markers are record ranges.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field

from .errors import JobError
from .files import atomic_json
from .rates import parse_rate

FORMAT_KEY = "lipflap_placements"
FORMAT_VERSION = 1


@dataclass
class PlacedMarker:
    record_in: int
    duration: int
    reason: str


@dataclass
class Placement:
    render: str
    record_in: int
    duration: int
    source_in: int
    name: str = ""
    markers: list[PlacedMarker] = field(default_factory=list)
    metadata: dict = field(default_factory=dict)


@dataclass
class Placements:
    name: str
    rate: str
    start: int
    placements: list[Placement] = field(default_factory=list)
    track: str = "lipflap"
    language: str | None = None
    metadata: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {FORMAT_KEY: FORMAT_VERSION, "name": self.name, "rate": self.rate, "start": self.start,
                "track": self.track, "language": self.language, "metadata": self.metadata,
                "placements": [{"render": p.render, "name": p.name, "record_in": p.record_in,
                                "duration": p.duration, "source_in": p.source_in,
                                "markers": [vars(m).copy() for m in p.markers],
                                "metadata": p.metadata} for p in self.placements]}

    def save(self, path: str) -> None:
        atomic_json(path, self.to_dict())

    @classmethod
    def from_dict(cls, data, where: str = "placements") -> "Placements":
        if not isinstance(data, dict) or data.get(FORMAT_KEY) != FORMAT_VERSION:
            raise JobError(f"{where}: not a placements file (no \"{FORMAT_KEY}\": {FORMAT_VERSION}); "
                           f"see docs/timeline.md.")
        rate = _get(data, "rate", (str, int, float), where)
        parse_rate(rate)  # a rate that does not parse fails here, with its own sentence
        out = cls(name=_get(data, "name", str, where), rate=str(rate), start=_get(data, "start", int, where),
                  track=data.get("track") or "lipflap", language=data.get("language"),
                  metadata=data.get("metadata") or {})
        items = data.get("placements")
        if not isinstance(items, list):
            raise JobError(f"{where}: \"placements\" must be a list; see docs/timeline.md.")
        for i, p in enumerate(items):
            at = f"{where}: placement {i + 1}"
            if not isinstance(p, dict):
                raise JobError(f"{at} must be an object with render, record_in, duration and source_in.")
            item = Placement(render=_get(p, "render", str, at), record_in=_get(p, "record_in", int, at),
                             duration=_get(p, "duration", int, at), source_in=_get(p, "source_in", int, at),
                             name=p.get("name") or "", metadata=p.get("metadata") or {})
            if item.duration <= 0:
                raise JobError(f"{at} has duration {item.duration}; a placement covers at least one frame.")
            for j, m in enumerate(p.get("markers") or []):
                mat = f"{at} marker {j + 1}"
                if not isinstance(m, dict):
                    raise JobError(f"{mat} must be an object with record_in, duration and reason.")
                item.markers.append(PlacedMarker(_get(m, "record_in", int, mat), _get(m, "duration", int, mat),
                                                 str(m.get("reason") or "flagged")))
            out.placements.append(item)
        return out

    @classmethod
    def load(cls, path: str) -> "Placements":
        try:
            with open(path, encoding="utf-8") as f:
                data = json.load(f)
        except OSError as e:
            raise JobError(f"{path}: cannot read the placements file ({e.strerror}).") from None
        except ValueError as e:
            raise JobError(f"{path}: the placements file is not valid JSON ({e}).") from None
        return cls.from_dict(data, path)


def _get(d: dict, key: str, types, where: str):
    v = d.get(key)
    if v is None or isinstance(v, bool) or not isinstance(v, types):
        raise JobError(f"{where}: \"{key}\" is missing or of the wrong type; see docs/timeline.md.")
    return v
