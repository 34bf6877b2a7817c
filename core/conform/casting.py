"""A cast made from a scene's shots: every face found, grouped into identities, one thumbnail each.

    shots = shots_of(["cut.otio"]) or shots_of(["shot1.mov", "shot2.mov"])
    found = find_cast(shots)             # -> Found: a Cast named PERSON_1.., where each was seen
    found.write("cast.json", "thumbs/")  # the cast file and thumbs/PERSON_1.png ...

A shot is a movie file (all of it) or a video clip of a cut (its file frames, as conform reads
them). The faces of each shot (lipflap.face.sightings) are grouped across shots by their
signatures (lipflap.face.identity.group; two faces of one shot are never one person). Each
identity's reference is its sighting with the most near-frontal frames (then the largest), and
its stored signature is the mean over every shot it was seen in. The editor renames PERSON_1 to
the character's name in the file (the thumbnails say who is who) and passes it to conform.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field

import cv2

from ..contract.errors import LipflapError
from ..face.identity import THRESHOLD, group, mean_signature
from ..face.castfile import Cast, Character, save_cast

TIMELINES = (".otio", ".otioz", ".edl", ".aaf", ".xml", ".fcpxml")


@dataclass
class Shot:
    video: str
    first: int
    last: int
    label: str                       # the file's name, or the clip's name and record timecode


@dataclass
class Found:
    cast: Cast
    seen_in: dict[str, list[str]] = field(default_factory=dict)   # character -> "label (left)"
    thumbnails: dict = field(default_factory=dict)                 # character -> RGB image
    faceless: list[str] = field(default_factory=list)              # shots with no face

    def write(self, path: str, thumbnails: str | None = None) -> list[str]:
        """The cast file, and one PNG per character in `thumbnails`; returns the PNG paths."""
        save_cast(path, self.cast)
        out = []
        if thumbnails:
            os.makedirs(thumbnails, exist_ok=True)
            for name, img in self.thumbnails.items():
                p = os.path.join(thumbnails, f"{name}.png")
                if not cv2.imwrite(p, cv2.cvtColor(img, cv2.COLOR_RGB2BGR)):
                    raise LipflapError(f"{p}: cannot write the thumbnail; check the folder "
                                       f"--thumbnails names is writable.")
                out.append(p)
        return out


def shots_of(paths: list[str], rate: str | None = None) -> list[Shot]:
    """Movie files whole, and the video clips of any cut OpenTimelineIO reads."""
    from ..media.probe import probe
    shots = []
    for p in paths:
        if not os.path.isfile(p):
            raise LipflapError(f"{p}: file not found; give movie files or a cut (.otio, .edl, "
                               f".aaf, .xml, .fcpxml).")
        if p.lower().endswith(TIMELINES):
            shots += _clips_of(p, rate)
        else:
            shots.append(Shot(os.path.abspath(p), 0, probe(p).frame_count - 1,
                              os.path.basename(p)))
    return shots


def _clips_of(path: str, rate: str | None) -> list[Shot]:
    from .cut import probe_media, read_timeline
    from .plan import ClipJob, _locate_media, record_range, timeline_rate, video_clips
    tl = read_timeline(path, rate)
    r = timeline_rate(tl)
    out = []
    for index, ti, track, clip in video_clips(tl):
        r0, r1 = record_range(clip, tl, r)
        cj = ClipJob(clip_index=index, clip_name=clip.name or "", track_name=track.name,
                     track_index=ti, rate=r, record_in=r0, record_out=r1)
        _locate_media(cj, clip, clip.visible_range(), probe_media)
        if cj.error:
            raise LipflapError(f"{path}: {cj.error}")
        out.append(Shot(os.path.abspath(cj.media), cj.cut_first, cj.cut_last,
                        f"{cj.clip_name} at {cj.record_tc}"))
    return out


def find_cast(shots: list[Shot], faces=None, threshold: float = THRESHOLD,
              progress=None) -> Found:
    """Every face of the shots, grouped into identities named PERSON_1.. in order of first
    appearance."""
    if faces is None:
        from ..face.sightings import faces_in_clip

        def faces(video, first, last):
            return faces_in_clip(video, first, last, thumbnails=True)
    seen, owners, faceless = [], [], []
    if progress is not None:
        progress.start("faces", len(shots))
    for shot in shots:
        got = [s for s in faces(shot.video, shot.first, shot.last) if s.signature is not None]
        if not got:
            faceless.append(shot.label)
        for s in got:
            seen.append(s)
            owners.append(shot)
        if progress is not None:
            progress.advance()
    apart = [(i, j) for i in range(len(seen)) for j in range(i + 1, len(seen))
             if owners[i] is owners[j]]
    groups = group([s.signature for s in seen], apart, threshold)
    found = Found(Cast(path="", threshold=threshold), faceless=faceless)
    for k, members in enumerate(groups, 1):
        name = f"PERSON_{k}"
        best = max(members, key=lambda i: (seen[i].signature.frames, seen[i].height))
        s, shot = seen[best], owners[best]
        # left / right / only say it plainly; among three or more faces, the point does.
        face = s.spec if sum(1 for o in owners if o is shot) > 2 else s.position
        found.cast.characters[name] = Character(
            name, shot.video, face, s.best_frame, mean_signature([seen[i].signature for i in members]))
        found.seen_in[name] = [f"{owners[i].label} ({seen[i].position})" for i in members]
        if s.thumbnail is not None:
            found.thumbnails[name] = s.thumbnail
    return found
