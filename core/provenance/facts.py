"""What a render changed, in plain data, and the three ways it is disclosed.

    Facts                      the render's disclosure facts (engine, language, ranges, inputs)
    statement(facts)           one sentence for people
    container_tags(facts, ..)  the `com.lipflap.*` / `comment` tags written into a .mov/.mp4
    manifest(facts, ..)        the C2PA manifest definition (actions, ingredients, edits)

The same Facts feed all three, so the container tag, the Content Credential and the run
report can never disagree.
"""
from __future__ import annotations

import mimetypes
import os
from dataclasses import dataclass, field

# IPTC digital source type for "real footage with parts made by a trained model".
COMPOSITE_AI = "http://cv.iptc.org/newscodes/digitalsourcetype/compositeWithTrainedAlgorithmicMedia"
EDITS_LABEL = "com.lipflap.edits"
SEQUENCE_LABEL = "com.lipflap.sequence"
# Ingredient labels the actions point at.
SOURCE_ID, DUB_ID, SHAPES_ID = "source", "dub", "mouth-shapes"

_MIME = {".mov": "video/quicktime", ".mp4": "video/mp4", ".m4v": "video/x-m4v",
         ".wav": "audio/wav", ".flac": "audio/flac", ".mp3": "audio/mpeg", ".m4a": "audio/mp4",
         ".aif": "audio/aiff", ".aiff": "audio/aiff", ".mxf": "application/mxf",
         ".json": "application/json", ".png": "image/png", ".exr": "image/x-exr"}


def mime_of(path: str) -> str:
    ext = os.path.splitext(path)[1].lower()
    return _MIME.get(ext) or mimetypes.guess_type(path)[0] or "application/octet-stream"


@dataclass
class Facts:
    engine: str
    version: str
    language: str | None
    source: str                         # absolute path of the source clip
    dub: str | None                     # absolute path of the dub (None: an edited track only)
    shapes: str | None                  # an edited mouth-shape track, when one drove the render
    mode: str                           # "full" frames or an RGBA "patch"
    fps: str                            # lipflap.contract.rates.rate_string
    first: int                          # source index of the render's first frame
    last: int
    timecode_first: str | None = None
    track_source: str | None = None     # script, audio or edited
    changed: list = field(default_factory=list)          # [[a, b], ...] source indexes, inclusive
    passed_through: list = field(default_factory=list)
    hashes: dict = field(default_factory=dict)           # path -> "sha256:..."

    def description(self) -> str:
        lang = f", language {self.language}" if self.language else ""
        what = "lower face redrawn to match dubbed audio" if self.dub else \
            "lower face redrawn to follow an edited mouth-shape track"
        return what + lang

    def statement(self) -> str:
        return (f"Lip-synced: {self.description()}, by {self.engine} {self.version} "
                f"(a trained model drew the mouth from the speaker's own frames).")

    def edits(self) -> dict:
        """The `com.lipflap.edits` assertion: which frames were redrawn, which passed through."""
        return {
            "engine": {"name": self.engine, "version": self.version},
            "description": self.description(),
            "region": "lower face (mouth, lips, jaw); the rest of each frame is the source's",
            "language": self.language,
            "mouth_track": self.track_source,
            "mode": self.mode,
            "frame_rate": self.fps,
            # Output frame k is source frame first + k; ranges are source frame indexes (0-based).
            "source_frames": {"first": self.first, "last": self.last,
                              "timecode_first": self.timecode_first},
            "frames_changed": [list(r) for r in self.changed],
            "frames_passed_through": [list(r) for r in self.passed_through],
            "inputs": {k: {"file": os.path.basename(p), "hash": self.hashes.get(p)}
                       for k, p in ((SOURCE_ID, self.source), (DUB_ID, self.dub),
                                    (SHAPES_ID, self.shapes)) if p},
        }


def container_tags(facts: Facts, credential: str) -> dict[str, str]:
    """Plain tags for tools that read no C2PA (ffprobe, MediaInfo, exiftool, asset managers).
    `credential` says where the Content Credential is ("embedded C2PA", "none ...")."""
    return {
        "comment": facts.statement(),
        "com.lipflap.lipsync": "1",
        "com.lipflap.disclosure": facts.description(),
        "com.lipflap.engine": f"{facts.engine} {facts.version}",
        "com.lipflap.language": facts.language or "",
        "com.lipflap.digital_source_type": COMPOSITE_AI,
        "com.lipflap.credential": credential,
    }


def ingredient(facts: Facts, which: str) -> dict:
    """The ingredient JSON for the source, the dub or the edited track."""
    path = {SOURCE_ID: facts.source, DUB_ID: facts.dub, SHAPES_ID: facts.shapes}[which]
    rel = {SOURCE_ID: "parentOf", DUB_ID: "componentOf", SHAPES_ID: "inputTo"}[which]
    d = {"title": os.path.basename(path), "format": mime_of(path), "relationship": rel,
         "label": which}
    if facts.hashes.get(path):
        # Ingredient v3 has no plain file-hash field, so the file's SHA-256 goes in its metadata
        # (it is also in com.lipflap.edits); a source with its own credential is linked as well.
        d["metadata"] = {"com.lipflap.file_hash": facts.hashes[path]}
    return d


def manifest(facts: Facts, title: str, output_format: str, signer_note: str,
             extra_assertions: list | None = None, inline_ingredients: list | None = None) -> dict:
    """The manifest definition. `inline_ingredients`: ingredient dicts the SDK cannot read from
    their files (formats it does not know), carried in the definition instead."""
    edited_ids = [i for i, p in ((DUB_ID, facts.dub), (SHAPES_ID, facts.shapes)) if p]
    actions = [
        {"action": "c2pa.opened", "parameters": {"ingredientIds": [SOURCE_ID]},
         "description": "source footage opened"},
        {"action": "c2pa.edited", "digitalSourceType": COMPOSITE_AI,
         "description": facts.description(),
         "softwareAgent": {"name": facts.engine, "version": facts.version},
         "parameters": {"ingredientIds": edited_ids, "com.lipflap.edits": EDITS_LABEL}},
    ]
    if facts.dub:
        actions.append({"action": "c2pa.placed", "parameters": {"ingredientIds": [DUB_ID]},
                        "description": "dubbed audio used as the soundtrack"})
    edits = facts.edits()
    edits["signing"] = signer_note
    assertions = [{"label": "c2pa.actions.v2", "data": {"actions": actions}},
                  {"label": EDITS_LABEL, "data": edits}] + list(extra_assertions or [])
    return {
        "claim_generator_info": [{"name": facts.engine, "version": facts.version}],
        "title": title,
        "format": output_format,
        "ingredients": list(inline_ingredients or []),
        "assertions": assertions,
    }
