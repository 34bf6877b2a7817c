"""A job's voices by character: the clip's faces matched to a cast file, each shown character
given its voice (docs/job.md, "Voices by character").

    job2, record = cast_voices(job, progress)     # job2: faces filled in, or None (none shown)
    report = run_cast(job, progress, signing, run_job)   # job2's run, with report["cast"]

The clip's faces are found and matched to the cast exactly as `lipflap conform --cast` does
(lipflap.face.sightings, .castfile, .castmatch and lipflap.speech.vad are imported, not
restated): each face one character or unknown, one to one. A shown character's
voice moves its face ("X,Y", the face's mean centre); a character the clip does not show is
left out and listed under "absent" with its seconds of speech here (those lines are off screen,
not lip-synced), and the match is said in one progress message. One shown voice makes a
one-voice run; none shown renders nothing: the clip stays as it is (output null, one sentence),
as conform leaves a clip of no voiced character unrendered.
"""
from __future__ import annotations

import os
from dataclasses import replace

from ..contract.errors import JobError
from ..contract.jobspec import Job, resolve_range
from ..face import sightings
from ..face.castfile import load_cast
from ..face.castmatch import absent_entry, match_faces, match_line
from ..media.probe import probe
from ..speech import vad
from .report import save_job_report


def cast_voices(job: Job, progress, faces=None) -> tuple[Job | None, dict]:
    """The job with every shown character's voice on its face (None: no voiced character is
    shown), and the record of the match (faces, characters, distances, absent characters)."""
    faces = faces or sightings.faces_in_clip
    cast = load_cast(job.cast_file, faces)
    unknown = [v.character for v in job.voices if v.character not in cast.characters]
    if unknown:
        raise JobError(f"{job.cast_file}: no character {', '.join(unknown)} in the cast (it has "
                       f"{', '.join(cast.characters)}); name the voices as the cast file does.")
    info = probe(job.video)
    start, end = resolve_range(job, info)
    seen = faces(job.video, start, end)
    rows, shown = match_faces(seen, cast)
    record = {"cast_file": cast.path, "faces": rows, "shown": [], "absent": [], "not_shown": []}
    voices = []
    for v in job.voices:
        s = shown.get(v.character)
        if s is None:
            record["not_shown"].append(v.character)
            speech = (vad.speech_seconds(v.audio, v.audio_offset_s, (end - start + 1) / float(info.fps))
                      if v.audio else 0.0)
            entry = absent_entry(v.character, _track(v), speech)
            if entry:
                record["absent"].append(entry)
            continue
        record["shown"].append(v.character)
        voices.append(replace(v, face=s.spec, character=None))
        for r in rows:
            if r["character"] == v.character:
                r["voice"] = _track(v)
    where = f"{job.video} frames {start}-{end}"
    progress.message(match_line(where, record))
    if not voices:
        return None, record
    if len(voices) > 1:
        return replace(job, cast_file=None, voices=voices), record
    v = voices[0]
    return replace(job, cast_file=None, voices=None, face=v.face, audio=v.audio,
                   audio_offset_s=v.audio_offset_s, text=v.text, transcript=v.transcript,
                   language=v.language or job.language, shapes=v.shapes), record


def _track(v) -> str:
    return os.path.basename(v.audio or v.shapes or "")


def run_cast(job: Job, progress, signing, run_job, faces=None) -> dict:
    """The run of the job's shown characters by `run_job` (lipflap.pipeline.run's); none shown:
    nothing rendered, said once."""
    one, record = cast_voices(job, progress, faces)
    if one is None:
        sentence = (f"{job.video}: no character with a voice in this job "
                    f"({', '.join(v.character for v in job.voices)}) is shown here (cast "
                    f"{job.cast_file}); nothing was rendered and the clip stays as it is.")
        progress.message(sentence)
        n = _frames(job)
        report = {"video": os.path.abspath(job.video), "output": None, "frames_rendered": 0,
                  "frames_passed_through": n, "not_rendered": sentence, "warnings": [],
                  "cast": record}
    else:
        report = run_job(replace(one, report=None), progress, signing)
        report["cast"] = record
    return save_job_report(job, report)


def _frames(job: Job) -> int:
    start, end = resolve_range(job, probe(job.video))
    return end - start + 1
