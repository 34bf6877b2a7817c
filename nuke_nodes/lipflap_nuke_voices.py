"""The LipSync node's Voices tab: one set of knobs per speaking face (issue 18).

A fixed number of voice slots, each with the knobs of a one-voice run: the face's dub, its
offset in frames, its script text and the face (left, right, centre, a face index or X,Y). A
slot is in use when its dub is set; with any slot in use the node renders a dialogue job
(`"voices"`, docs/job.md) in one engine run, every face from its own dub. The slots are
created once with the node, since Foundry's guide advises static knobs (shown or hidden) over
knobs created on the fly (NDK developer guide, "Dynamic Creation of Knobs"). Find faces runs the
engine's analysis with `--thumbnails` and lists the faces, their positions and pictures.
String knobs are read with getText(), as typed ("[laughs]" and "$" included).

With a cast file (`lipflap cast`; docs/conform.md, "The cast") each slot's face knob takes a
character's name instead: the job carries `"cast_file"` and voices by `"character"` (docs/job.md)
and the engine voices the characters the range shows, listing the others as off screen; when it
shows none the engine renders nothing and the node passes the plate through.
"""
import json
import os

import nuke

SLOTS = 4                # a two-shot, a three-shot and one more


def knob_names(i):
    return {"dub": f"voice{i}_dub", "offset": f"voice{i}_offset", "text": f"voice{i}_text",
            "face": f"voice{i}_face"}


def add_knobs(g, make):
    """The Voices tab on the group `g`; `make(cls, name, label, tooltip, *args)` makes a knob."""
    g.addKnob(nuke.Tab_Knob("voices", "voices"))
    g.addKnob(make(nuke.Text_Knob, "voices_help", "",
                   "", "Dialogue: a dub per face. With any voice's dub set, Render lip-syncs every "
                       "such face to its own dub in one run (the lipflap tab's dub, face and curves "
                       "are then not used)."))
    g.addKnob(make(nuke.PyScript_Knob, "find_faces", "Find faces",
                   "List the plate's faces with their positions and pictures.",
                   "import lipflap_nuke_node; lipflap_nuke_node.find_faces(nuke.thisNode())"))
    g.addKnob(make(nuke.Text_Knob, "faces", "", "", ""))
    g.addKnob(make(nuke.File_Knob, "cast_file", "cast file",
                   "A cast file (lipflap cast): each voice's face is then a character's name "
                   "(PERSON_1, ANNA...), and only the characters the range shows are lip-synced."))
    for i in range(1, SLOTS + 1):
        n = knob_names(i)
        g.addKnob(make(nuke.Text_Knob, f"voice{i}_divider", f"voice {i}", "", ""))
        g.addKnob(make(nuke.File_Knob, n["dub"], "dub audio", f"Voice {i}'s dub (wav, aiff, mov...)."))
        g.addKnob(make(nuke.Double_Knob, n["offset"], "audio offset (frames)",
                       "How many frames into this dub the first frame sits."))
        g.addKnob(make(nuke.Multiline_Eval_String_Knob, n["text"], "script text",
                       "This dub's words (optional)."))
        g.addKnob(make(nuke.String_Knob, n["face"], "face",
                       "left, right, centre, a face index or X,Y (Find faces lists them); with a "
                       "cast file, the character's name as the cast file gives it."))


def read_voices(node, fps):
    """[(slot, face, dub, offset_s, text)] of the slots in use, in slot order."""
    out = []
    for i in range(1, SLOTS + 1):
        n = knob_names(i)
        dub = str(node[n["dub"]].getText()).strip()
        if not dub:
            continue
        out.append((i, str(node[n["face"]].getText()).strip(), dub,
                    float(node[n["offset"]].value()) / fps, str(node[n["text"]].getText()).strip()))
    return out


def character_problems(name, voices, cast_file, jobspec):
    """By character: a cast file that is not there or not a cast (read by the contract's
    `jobspec.cast_names`), a voice without a character, a name the cast does not have, two
    voices of one character."""
    if not os.path.isfile(cast_file):
        return [f"{name}: cast file {cast_file} not found; set the cast file knob (lipflap cast) or clear it."]
    try:
        names = jobspec.cast_names(cast_file)
    except jobspec.LipflapError as e:
        return [f"{name}: {e} Or make it again with lipflap cast."]
    out, seen = [], {}
    for slot, who, dub, _, _ in voices:
        if not os.path.isfile(dub):
            out.append(f"{name}: voice {slot}'s dub {dub} not found; set voice {slot}'s dub audio.")
        elif who not in names:
            out.append(f"{name}: voice {slot}'s character {who or '(empty)'} is not in the cast file "
                       f"(it has {', '.join(names)}); type one of them in voice {slot}'s face.")
        elif who in seen:
            out.append(f"{name}: voices {seen[who]} and {slot} both name character {who}; give each "
                       f"character one voice (mix one character's dubs into one file).")
        seen.setdefault(who, slot)
    return out


def problems(name, voices, jobspec, cast_file=""):
    """One sentence per voice the engine would refuse, naming the knob and what to do: a dub that
    is not a file, a face that is not a face, two voices on one face (by character, as
    character_problems)."""
    if cast_file:
        return character_problems(name, voices, cast_file, jobspec)
    out, seen = [], {}
    for slot, face, dub, _, _ in voices:
        if not os.path.isfile(dub):
            out.append(f"{name}: voice {slot}'s dub {dub} not found; set voice {slot}'s dub audio.")
            continue
        if not face:
            out.append(f"{name}: voice {slot} has no face; type left, right, centre, a face index or "
                       f"X,Y (Find faces lists them).")
            continue
        try:
            key = jobspec.check_face(f"{name}: voice {slot}", face)
        except jobspec.JobError as e:
            out.append(str(e))
            continue
        if key in seen:
            out.append(f"{name}: voices {seen[key]} and {slot} both name face {key}; give each voice "
                       f"its own face (mix one character's dubs into one file).")
        seen.setdefault(key, slot)
    return out


def job(plate, first, last, voices, language, target, mode, codec, strength, report, fps, cast_file=""):
    """The dialogue job (docs/job.md) for `lipflap run --job`; with a cast file, voices by
    character."""
    key = "character" if cast_file else "face"
    out = {"video": plate.path, "start_frame": plate.file_first,
           "end_frame": plate.file_first + last - first, "fps": fps,
           "voices": [dict({key: face, "audio": dub, "audio_offset_s": offset_s},
                           **({"text": text} if text else {}))
                      for _, face, dub, offset_s, text in voices],
           "output": {"path": target, "mode": mode, "codec": codec},
           "strength": strength, "report": report}
    if cast_file:
        out["cast_file"] = cast_file
    if language:
        out["language"] = language
    return out


def faces_text(analysis_path):
    """The faces an analysis lists under "thumbnails", one line each: the spec to type, where
    the face is, and its picture's path (Nuke's Text_Knob shows text, so the picture is named)."""
    with open(analysis_path, encoding="utf-8") as f:
        thumbs = json.load(f).get("thumbnails") or []
    lines = []
    for t in thumbs:
        x, y = t["centre"]
        where = t.get("position") or "no left/right position"
        lines.append(f"face {t['id']} ({where}) at {x:.0f},{y:.0f}: type {t['face']}; picture {t['file']}")
    return lines


def status_lines(rep, to_nuke):
    """Per face of a dialogue report: its figures, then its flagged ranges in Nuke frames; by
    character, whom the engine voiced and who speaks off screen (not lip-synced)."""
    out = list(rep.cast_lines)
    for v in rep.voices:
        ranges = ", ".join(f"{to_nuke(r.start)}-{to_nuke(r.end)} {r.reason}" for r in v.flagged_ranges)
        out.append(v.line() + (f" (untouched: {ranges})" if ranges else ""))
    return out
