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

from ..contract.errors import LipflapError
from ..contract.rates import parse_rate
from ..face.castmatch import absent_entry, match_faces, match_line
from ..speech import vad
from .plan import ClipJob, PlanOptions


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
        rows, shown = match_faces(seen, cast)
        cj.cast = {"mode": "voice tracks" if opts.voice_tracks else "mixed track",
                   "faces": rows, "absent": []}
        keep = (_give_voices(cj, shown, rows) if opts.voice_tracks
                else _give_cast(cj, shown))
        notes.append(match_line(cj.where, cj.cast))
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
            speech = vad.speech_seconds(dub["audio"], dub["audio_offset_s"],
                                        (job["end_frame"] - job["start_frame"] + 1)
                                        / float(parse_rate(job["fps"])))
            entry = absent_entry(character, dub["track"], speech)
            if entry:
                cj.cast["absent"].append(entry)
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
