"""Dialogue in Resolve: per-character dub tracks mapped to the faces of the clips (issue 18).

The editor names, per speaking face, the audio track that holds that character's dub (the
timeline's tracks by name, `Timeline.GetTrackName`, README 16.2+); each clip's job then carries
`"voices"` (docs/job.md): per face its dub under the clip and where the clip starts in it. The
faces come from the engine's analysis of one clip (`lipflap analyze --thumbnails`), each with a
picture and the face spec a job uses (`left`, `right`, `centre`, or `"X,Y"`), so the same mapping
serves every clip of the scene. A mapping is kept as `[{"track": NAME, "face": FACE}]` in the
dialog's settings, which is also how the free edition (no dialog) gives it.

By character (the cast mode, which is what makes singles and off-screen lines work): Find faces
runs `lipflap cast` over the chosen clips' media and shows one picture per character (PERSON_1,
...; the names of the cast file); each track is mapped to a character
(`[{"track": NAME, "character": "PERSON_1"}]` with the settings' `cast_file`), and every clip's job
carries the cast file and every character's dub under it (`"cast_file"`, voices by
`"character"`, docs/job.md): the engine matches the clip's faces to the cast and voices only the
characters it shows, listing the others as off screen.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Callable

from lipflap_contract.errors import JobError, LipflapError
from lipflap_contract.jobspec import cast_names, check_face
from lipflap_contract.report import cast_lines

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


def mapping_problems(voices, by_character: bool = False) -> list[str]:
    """What is wrong with a saved mapping, each in one sentence saying what to do: not a list
    of {"track", "face"} (by character: {"track", "character"}), a face that is not a face, two
    voices on one face or character, one track twice."""
    key = "character" if by_character else "face"
    example = "PERSON_1" if by_character else "left"
    if not isinstance(voices, list):
        return [f"voices must be a list of {{\"track\": NAME, \"{key}\": {key.upper()}}} objects"]
    out, faces, tracks = [], {}, {}
    for k, v in enumerate(voices):
        if not by_character and isinstance(v, dict) and "character" in v:
            out.append(f"voice {k + 1} maps its track to character {json.dumps(v['character'])[:40]}, which "
                       f"needs a cast file: choose voices by character and press Find faces (or set cast_file)")
            continue
        if not isinstance(v, dict) or set(v) - {"track", key} or not isinstance(v.get("track"), str) \
                or not v.get("track") or isinstance(v.get(key), bool) \
                or not isinstance(v.get(key), (str, int)) or str(v.get(key)).strip() == "":
            out.append(f"voice {k + 1} must be {{\"track\": \"audio track name\", \"{key}\": "
                       f"\"{example}\"}}, not {json.dumps(v)[:80]}")
            continue
        try:
            face = (str(v[key]).strip() if by_character
                    else check_face(f"voice {k + 1} ({v['track']})", v["face"]))
        except JobError as e:
            out.append(str(e).rstrip("."))
            continue
        if face in faces:
            out.append(f"tracks '{faces[face]}' and '{v['track']}' are both mapped to {key} {face}; "
                       f"give each {key} one track (mix one character's stems into one track)")
        elif v["track"] in tracks:
            out.append(f"track '{v['track']}' is mapped to {key}s {tracks[v['track']]} and {face}; a "
                       f"character's track goes to one {key} (use a mixed-dub cast for a shared track)")
        faces.setdefault(face, v["track"])
        tracks.setdefault(v["track"], face)
    return out


def mapped_tracks(timeline, voices) -> list[tuple[str, int, str]]:
    """(face, track index, track name) per voice; PlanError naming the track and the timeline's
    tracks when a name is not on this timeline."""
    tracks = audio_tracks(timeline)
    out = []
    for v in voices:
        key = "character" if "character" in v else "face"
        index = next((i for i, name in tracks if name == v["track"]), None)
        if index is None:
            listed = ", ".join(f"A{i} '{name}'" for i, name in tracks) or "none"
            raise PlanError(f"audio track '{v['track']}' (for {key} {v[key]}) is not on this timeline "
                            f"(its audio tracks: {listed}); choose one of them for that {key}.")
        out.append((str(v[key]).strip(), index, v["track"]))
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


def voices_job(voices: list[tuple[str, DubSource]], language: str, by_character: bool = False) -> list[dict]:
    """The job's "voices" (docs/job.md): per face (or character) its dub and where the clip
    starts in it."""
    out = []
    for who, dub in voices:
        v = {"character" if by_character else "face": who, "audio": dub.path,
             "audio_offset_s": round(dub.offset_s, 6)}
        if language:
            v["language"] = language
        out.append(v)
    return out


def analysis_args(plan, analysis_path: str, thumbs_dir: str) -> list[str]:
    """The engine command that finds the faces of a clip's range, with their pictures."""
    return ["analyze", plan.path, "-o", analysis_path, "--start", str(plan.source_start),
            "--end", str(plan.source_end), "--thumbnails", thumbs_dir]


def read_faces(analysis_path: str, warn: Callable[[str], None]) -> list[FaceThumb]:
    """The faces an analysis lists under "thumbnails"; PlanError naming the file otherwise. Entries
    that are not a face picture are left out and told to `warn` in one sentence."""
    try:
        with open(analysis_path, encoding="utf-8") as f:
            data = json.load(f)
    except (OSError, ValueError) as e:
        raise PlanError(f"{analysis_path}: cannot read the face analysis ({e}); press Find faces again.") from None
    thumbs = data.get("thumbnails") if isinstance(data, dict) else None
    if not isinstance(thumbs, list):
        raise PlanError(f"{analysis_path} lists no face pictures; update the engine (`lipflap install "
                        f"resolve`) and press Find faces again.")
    out, bad = [], []
    for k, t in enumerate(thumbs, 1):
        try:
            out.append(FaceThumb(str(t["face"]), int(t["id"]), str(t["file"]),
                                 (float(t["centre"][0]), float(t["centre"][1])), t.get("position")))
        except (KeyError, TypeError, ValueError, IndexError):
            bad.append(str(k))
    if bad:
        warn(f"{analysis_path}: face picture entr{'ies' if len(bad) > 1 else 'y'} {', '.join(bad)} "
             f"(of {len(thumbs)}) under \"thumbnails\" {'are' if len(bad) > 1 else 'is'} not a face "
             f"(face, id, file, centre) and {'are' if len(bad) > 1 else 'is'} not shown; press Find "
             f"faces again, and update the engine (`lipflap install resolve`) if it repeats.")
    return out


def faces_folder(output_dir: str, plan) -> tuple[str, str]:
    """Where a clip's face analysis and pictures go: beside the renders, one folder per clip range."""
    stem = f"{os.path.splitext(os.path.basename(plan.path))[0]}_{plan.source_start}-{plan.source_end}"
    folder = os.path.join(output_dir, "lipflap_faces", stem)
    return os.path.join(folder, "analysis.json"), folder


# -- the cast over the chosen clips ---------------------------------------------------------------

@dataclass
class CastThumb:
    """A character of the cast as the dialog shows it."""
    name: str              # as the cast file names it (PERSON_1 until the editor renames it)
    file: str              # its PNG ("" when the engine wrote none)
    seen_in: list          # "clip (left)", ... as `lipflap cast` reports it

    def caption(self) -> str:
        where = ", ".join(self.seen_in[:3]) + (f" and {len(self.seen_in) - 3} more" if len(self.seen_in) > 3 else "")
        return f"{self.name}: seen in {where or 'the chosen clips'}; picture {self.file or '(none)'}"


def cast_folder(output_dir: str) -> str:
    """A new folder for a cast and its pictures (`lipflap cast` never writes over a cast file)."""
    k = 1
    while os.path.exists(os.path.join(output_dir, "lipflap_cast", f"cast_{k}")):
        k += 1
    return os.path.join(output_dir, "lipflap_cast", f"cast_{k}")


def cast_args(plans, cast_path: str, thumbs_dir: str) -> list[str]:
    """The engine command that groups the faces of the chosen clips' media into characters: each
    media file once, whole (Resolve's Python has no OpenTimelineIO to hand it the cut's ranges)."""
    media = list(dict.fromkeys(p.path for p in plans))
    return ["cast", *media, "-o", cast_path, "--thumbnails", thumbs_dir]


def read_cast(result, cast_path: str) -> list[CastThumb]:
    """The characters `lipflap cast` wrote, in the cast file's order, with their pictures (the
    result's "thumbnails" paths, named NAME.png) and where each was seen."""
    try:
        names = cast_names(cast_path)
    except LipflapError as e:
        raise PlanError(f"{e} Then press Find faces again.") from None
    result = result if isinstance(result, dict) else {}
    # `lipflap cast` lists the pictures as its --thumbnails folder was given: made absolute here.
    pngs = {os.path.splitext(os.path.basename(str(p)))[0]: os.path.abspath(str(p))
            for p in result.get("thumbnails") or []}
    seen = result.get("characters") if isinstance(result.get("characters"), dict) else {}
    return [CastThumb(n, pngs.get(n, ""), [str(w) for w in seen.get(n) or []]) for n in names]


def cast_outcome_lines(report: dict) -> list[str]:
    """What a run by character said about the clip (the contract's wording, as Nuke's)."""
    return cast_lines(report.get("cast"))
