"""A scene's cast on a cut: each clip's faces matched to characters, and their voices sent there.

    jobs = cast_clips(jobs, opts, faces, notes)     # after planning, before naming (plan.py)
    text_to_voices(cj, text, notes)                 # a clip's transcript, per character

For every clip still to render, the faces of its rendered range are found and signed
(lipflap.face.sightings) and matched one to one to the cast's characters (lipflap.face.identity;
a face no character is near is unknown and left alone). Then:

- character tracks (--voice-track NAME=CHARACTER): every shown character whose track has a dub
  clip under the clip gets it as its voice ("voices" in the job, each face as "X,Y", its mean
  centre; one voice makes a one-voice job with that face). A character whose track speaks under
  the clip (voice activity) but who is not found in it is listed ("absent") and said in the clip's
  line: those lines are off screen and not lip-synced;
- one mixed track: the job gets "cast": {CHARACTER: face} of the characters it shows.

A clip that shows no character of the cast is not rendered (said in a note). Every clip's
record (faces, characters, distances, absent characters) goes on its ClipJob as `cast`, which the
job list keeps, and into one line of the conform's messages.
"""
from __future__ import annotations

import numpy as np

from ..contract.errors import LipflapError
from ..face.identity import match
from .plan import ClipJob, PlanOptions

MIN_SPEECH_S = 0.2         # an absent character's track "speaks" under a clip from this much on


def cast_clips(jobs: list[ClipJob], opts: PlanOptions, faces, notes: list[str]) -> list[ClipJob]:
    """The clips with their voices assigned (clips showing no character dropped, with a note)."""
    if faces is None:
        from ..face.sightings import faces_in_clip as faces
    cast = opts.cast
    out = []
    dropped = cast.not_rendered
    for cj in jobs:
        if cj.job is None or cj.status != "pending":
            out.append(cj)
            continue
        job = cj.job
        seen = faces(job["video"], job["start_frame"], job["end_frame"])
        got = match({k: s.signature for k, s in enumerate(seen)}, cast.signatures(),
                    cast.threshold)
        rows = [dict(face=s.spec, position=s.position, seen=s.seen, voice=None,
                     **got[k].to_dict(cast.threshold)) for k, s in enumerate(seen)]
        shown = {got[k].character: s for k, s in enumerate(seen) if got[k].character}
        cj.cast = {"mode": "voice tracks" if opts.voice_tracks else "mixed track",
                   "faces": rows, "absent": []}
        keep = (_give_voices(cj, shown, rows) if opts.voice_tracks
                else _give_cast(cj, shown))
        notes.append(clip_line(cj))
        if keep:
            out.append(cj)
        else:
            dropped.append(dict(cj.cast, clip=cj.clip_name, record_in=cj.record_tc))
            notes.append(f"{cj.where} shows no character of the cast ({cast.path}) that has a "
                         f"voice here; not rendered.")
    return out


def _give_voices(cj: ClipJob, shown: dict, rows: list[dict]) -> bool:
    """Each shown character's dub track as its face's voice; absent speaking ones listed."""
    job = cj.job
    voices = []
    for character, dub in cj.voice_dubs.items():
        s = shown.get(character)
        if s is None:
            speech = speech_seconds(dub["audio"], dub["audio_offset_s"],
                                    (job["end_frame"] - job["start_frame"] + 1)
                                    / _fps(job["fps"]))
            if speech >= MIN_SPEECH_S:
                cj.cast["absent"].append({"character": character, "track": dub["track"],
                                          "speech_s": round(speech, 2)})
            continue
        voices.append({"face": s.spec, "audio": dub["audio"],
                       "audio_offset_s": dub["audio_offset_s"]})
        for r in rows:
            if r["character"] == character:
                r["voice"] = dub["track"]
    if not voices:
        return False
    job.pop("face", None)
    if len(voices) == 1:
        job.update(voices[0])
    else:
        job["voices"] = voices
    return True


def _give_cast(cj: ClipJob, shown: dict) -> bool:
    """The mixed dub split among the shown characters' faces."""
    if not shown:
        return False
    cj.job.pop("face", None)
    cj.job["cast"] = {character: s.spec for character, s in shown.items()}
    return True


def _fps(text: str) -> float:
    a, _, b = str(text).partition("/")
    return float(a) / float(b or 1)


def speech_seconds(audio: str, offset_s: float, duration_s: float) -> float:
    """Seconds of speech (voice activity) in a dub from offset_s for duration_s."""
    from ..media.audio import load_audio
    from ..speech.vad import speech_segments
    rate = 16000
    wav = np.asarray(load_audio(audio, rate=rate, offset_s=max(0.0, offset_s),
                                duration_s=duration_s), np.float32).reshape(-1)
    return float(sum(b - a for a, b in speech_segments(wav, rate)))


def clip_line(cj: ClipJob) -> str:
    """One sentence: which face got which character, how sure, who speaks off screen."""
    parts = []
    for r in cj.cast["faces"]:
        how = "no clear view" if r["distance"] is None else f"distance {r['distance']:.2f}"
        if r["character"]:
            sure = "" if r["sure"] else f", unsure: the next character at {r['runner_up']:.2f}"
            parts.append(f"{r['position']} face {r['face']} is {r['character']} ({how}{sure})")
        else:
            near = f", nearest {r['nearest']}" if r["nearest"] else ""
            parts.append(f"{r['position']} face {r['face']} is unknown ({how}{near}; left alone)")
    line = f"{cj.where}: " + ("; ".join(parts) if parts else "no face found")
    for a in cj.cast["absent"]:
        line += (f"; {a['character']}'s track {a['track']!r} speaks {a['speech_s']:.1f} s here "
                 f"but {a['character']} is not in the picture: those lines are not lip-synced")
    return line + "."


def text_to_voices(cj: ClipJob, text: str, notes: list[str]) -> None:
    """A cast clip's transcript: [NAME] turns go to each shown character's voice (their own
    lines, in order); a script without turns goes to a one-voice clip only. In a mixed-track clip
    the turns must name only the characters it shows (the engine splits the mix by them)."""
    from ..speech.turns import parse_turns
    job = cj.job
    try:
        turns = parse_turns(text, f"transcript of {cj.where}")
    except LipflapError as e:
        cj.status, cj.error, cj.job = "failed", str(e), None
        return
    if "cast" in job:
        extra = sorted({t.speaker for t in turns or []} - set(job["cast"]))
        if extra:
            cj.status, cj.error, cj.job = "failed", (
                f"{cj.where}: its transcript gives lines to {', '.join(extra)}, who the clip does "
                f"not show, so the mixed dub cannot be split by the script; give each character a "
                f"dub track (--voice-track) or drop the off-screen lines from this entry."), None
            return
        job["text"] = text
        return
    who = {r["face"]: r["character"] for r in cj.cast["faces"] if r.get("voice")}
    if turns is None:
        if "voices" in job:
            notes.append(f"{cj.where}: its transcript names no speakers ([NAME] before each line), "
                         f"so it is not given to its {len(job['voices'])} voices; they are "
                         f"aligned from their audio.")
        else:
            job["text"] = text
        return
    for v in job.get("voices") or [job]:
        lines = [t.text for t in turns if t.speaker == who.get(v["face"])]
        if lines:
            v["text"] = " ".join(lines)
