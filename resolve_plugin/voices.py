"""Dialogue in Resolve: per-character dub tracks mapped to the faces of the clips (issue 18).

The editor names, per speaking face, the audio track that holds that character's dub (the
timeline's tracks by name, `Timeline.GetTrackName`, README 16.2+); each clip's job then carries
`"voices"` (docs/job.md): per face its dub under the clip and where the clip starts in it. The
faces come from the engine's analysis of one clip (`lipflap analyze --thumbnails`), each with a
picture and the face spec a job uses (`left`, `right`, `centre`, or `"X,Y"`), so the same mapping
serves every clip of the scene. A mapping is kept as `[{"track": NAME, "face": FACE}]` in the
dialog's settings, which is also how the free edition (no dialog) gives it.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass

from lipflap_contract.errors import JobError
from lipflap_contract.jobspec import check_face

from .timeline import DubSource, PlanError, TimelineInfo, dub_from_audio_track, record_tc

SLOTS = 4            # voice rows in the dialog: a two-shot, a three-shot and one more


@dataclass
class FaceThumb:
    """A face of the analysed clip as the dialog shows it."""
    face: str              # the job's spec for it: left / right / centre / "X,Y"
    face_id: int
    file: str              # its PNG
    centre: tuple[float, float]
    position: str | None

    def caption(self) -> str:
        where = self.position or "no left/right position"
        return (f"face {self.face_id} ({where}) at {self.centre[0]:.0f},{self.centre[1]:.0f}: "
                f"use \"{self.face}\"; picture {self.file}")


def audio_tracks(timeline) -> list[tuple[int, str]]:
    """(1-based index, name) of every audio track; README: GetTrackName(trackType, trackIndex)
    for 1 <= index <= GetTrackCount(trackType)."""
    out = []
    for i in range(1, int(timeline.GetTrackCount("audio")) + 1):
        out.append((i, str(timeline.GetTrackName("audio", i) or f"Audio {i}")))
    return out


def mapping_problems(voices) -> list[str]:
    """What is wrong with a saved mapping, each in one sentence saying what to do: not a list
    of {"track", "face"}, a face that is not a face, two voices on one face, one track twice."""
    if not isinstance(voices, list):
        return ["voices must be a list of {\"track\": NAME, \"face\": FACE} objects"]
    out, faces, tracks = [], {}, {}
    for k, v in enumerate(voices):
        if not isinstance(v, dict) or set(v) - {"track", "face"} or not isinstance(v.get("track"), str) \
                or not v.get("track") or isinstance(v.get("face"), bool) \
                or not isinstance(v.get("face"), (str, int)) or v.get("face") == "":
            out.append(f"voice {k + 1} must be {{\"track\": \"audio track name\", \"face\": \"left\"}}, "
                       f"not {json.dumps(v)[:80]}")
            continue
        try:
            face = check_face(f"voice {k + 1} ({v['track']})", v["face"])
        except JobError as e:
            out.append(str(e).rstrip("."))
            continue
        if face in faces:
            out.append(f"tracks '{faces[face]}' and '{v['track']}' are both mapped to face {face}; "
                       f"give each face one track (mix one character's stems into one track)")
        elif v["track"] in tracks:
            out.append(f"track '{v['track']}' is mapped to faces {tracks[v['track']]} and {face}; a "
                       f"character's track goes to one face (use a mixed-dub cast for a shared track)")
        faces.setdefault(face, v["track"])
        tracks.setdefault(v["track"], face)
    return out


def mapped_tracks(timeline, voices) -> list[tuple[str, int, str]]:
    """(face, track index, track name) per voice; PlanError naming the track and the timeline's
    tracks when a name is not on this timeline."""
    tracks = audio_tracks(timeline)
    out = []
    for v in voices:
        index = next((i for i, name in tracks if name == v["track"]), None)
        if index is None:
            listed = ", ".join(f"A{i} '{name}'" for i, name in tracks) or "none"
            raise PlanError(f"audio track '{v['track']}' (for face {v['face']}) is not on this timeline "
                            f"(its audio tracks: {listed}); choose one of them for that face.")
        out.append((str(v["face"]), index, v["track"]))
    return out


def clip_voices(info: TimelineInfo, timeline, mapped, plan) -> list[tuple[str, DubSource]]:
    """Per mapped face, its dub under `plan`'s clip. A character whose track is empty under the
    clip has no voice there (that face keeps its own mouth); no dub on any of them is a PlanError."""
    out = []
    for face, index, name in mapped:
        try:
            out.append((face, dub_from_audio_track(info, timeline, index, plan)))
        except PlanError as e:
            if "no dub on" not in str(e):
                raise
    if not out:
        names = ", ".join(f"'{n}'" for _, _, n in mapped)
        raise PlanError(f"no dub on the voice tracks {names} under clip '{plan.name}' at "
                        f"{record_tc(info, plan.record_start)}; put the characters' dubs there or "
                        f"leave the voices empty for a one-voice run.")
    return out


def voices_job(voices: list[tuple[str, DubSource]], language: str) -> list[dict]:
    """The job's "voices" (docs/job.md): per face its dub and where the clip starts in it."""
    out = []
    for face, dub in voices:
        v = {"face": face, "audio": dub.path, "audio_offset_s": round(dub.offset_s, 6)}
        if language:
            v["language"] = language
        out.append(v)
    return out


def analysis_args(plan, analysis_path: str, thumbs_dir: str) -> list[str]:
    """The engine command that finds the faces of a clip's range, with their pictures."""
    return ["analyze", plan.path, "-o", analysis_path, "--start", str(plan.source_start),
            "--end", str(plan.source_end), "--thumbnails", thumbs_dir]


def read_faces(analysis_path: str) -> list[FaceThumb]:
    """The faces an analysis lists under "thumbnails"; PlanError naming the file otherwise."""
    try:
        with open(analysis_path, encoding="utf-8") as f:
            data = json.load(f)
    except (OSError, ValueError) as e:
        raise PlanError(f"{analysis_path}: cannot read the face analysis ({e}); press Find faces again.") from None
    thumbs = data.get("thumbnails") if isinstance(data, dict) else None
    if not isinstance(thumbs, list):
        raise PlanError(f"{analysis_path} lists no face pictures; update the engine (`lipflap install "
                        f"resolve`) and press Find faces again.")
    out = []
    for t in thumbs:
        try:
            out.append(FaceThumb(str(t["face"]), int(t["id"]), str(t["file"]),
                                 (float(t["centre"][0]), float(t["centre"][1])), t.get("position")))
        except (KeyError, TypeError, ValueError, IndexError):
            continue
    return out


def faces_folder(output_dir: str, plan) -> tuple[str, str]:
    """Where a clip's face analysis and pictures go: beside the renders, one folder per clip range."""
    stem = f"{os.path.splitext(os.path.basename(plan.path))[0]}_{plan.source_start}-{plan.source_end}"
    folder = os.path.join(output_dir, "lipflap_faces", stem)
    return os.path.join(folder, "analysis.json"), folder
