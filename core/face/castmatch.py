"""A clip's faces matched to a cast, as one record and one sentence (for `lipflap conform --cast`
and a job's voices by character alike).

    rows, shown = match_faces(seen, cast)      # seen: lipflap.face.sightings of the clip
    entry = absent_entry("BEN", "BEN.wav", 1.4)  # an off-screen character's speech, or None
    line = match_line(where, {"faces": rows, "absent": [entry, ...]})

`rows` are the record's faces (spec, position, seen, voice (None until a voice is given), and the
match: character, distance, nearest, runner-up, sure); `shown` maps each matched character to
its sighting. Plain data in and out; nothing here decodes or listens.
"""
from __future__ import annotations

from .identity import match

MIN_SPEECH_S = 0.2         # an absent character's track "speaks" under a clip from this much on


def match_faces(seen: list, cast) -> tuple[list[dict], dict]:
    """(the record's face rows, {character: sighting}) of the sightings `seen` against the
    cast's characters (lipflap.face.castfile.Cast), one to one."""
    got = match({k: s.signature for k, s in enumerate(seen)}, cast.signatures(), cast.threshold)
    rows = [dict(face=s.spec, position=s.position, seen=s.seen, voice=None,
                 **got[k].to_dict(cast.threshold)) for k, s in enumerate(seen)]
    shown = {got[k].character: s for k, s in enumerate(seen) if got[k].character}
    return rows, shown


def absent_entry(character: str, track: str, speech_s: float) -> dict | None:
    """The record's entry for a character not in the picture whose track has `speech_s` seconds
    of speech under the clip (None: too little to count as speaking)."""
    if speech_s < MIN_SPEECH_S:
        return None
    return {"character": character, "track": track, "speech_s": round(speech_s, 2)}


def match_line(where: str, record: dict) -> str:
    """One sentence: which face got which character, how sure, who speaks off screen."""
    parts = []
    for r in record["faces"]:
        how = "no clear view" if r["distance"] is None else f"distance {r['distance']:.2f}"
        if r["character"]:
            sure = "" if r["sure"] else f", unsure: the next character at {r['runner_up']:.2f}"
            parts.append(f"{r['position']} face {r['face']} is {r['character']} ({how}{sure})")
        else:
            near = f", nearest {r['nearest']}" if r["nearest"] else ""
            parts.append(f"{r['position']} face {r['face']} is unknown ({how}{near}; left alone)")
    line = f"{where}: " + ("; ".join(parts) if parts else "no face found")
    for a in record["absent"]:
        line += (f"; {a['character']}'s track {a['track']!r} speaks {a['speech_s']:.1f} s here "
                 f"but {a['character']} is not in the picture: those lines are not lip-synced")
    return line + "."
