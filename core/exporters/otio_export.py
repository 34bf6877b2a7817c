"""An OpenTimelineIO timeline: one audio track with a clip of the audio's duration at the track's
frame rate, and one marker per mouth cue (named by its Rhubarb shape, viseme in the metadata), so
editorial tools and lipflap's own OTIO adapters see the mouth timing on the timeline."""
from __future__ import annotations

import os

import opentimelineio as otio

from ..contract.rates import rate_string

FORMAT = "otio"
EXTENSIONS = (".otio",)

_COLOUR = {"A": "RED", "B": "YELLOW", "C": "ORANGE", "D": "MAGENTA", "E": "PURPLE", "F": "BLUE",
           "G": "CYAN", "H": "GREEN", "X": "BLACK"}


def build_timeline(track, options) -> otio.schema.Timeline:
    rate = float(track.fps)
    fps = track.fps
    n = len(track.frames)
    if options.audio_duration is not None:
        n = max(n, int(round(options.audio_duration * rate)))
    name = options.name or (os.path.splitext(os.path.basename(options.audio_path))[0]
                            if options.audio_path else "lipflap mouth track")
    ref = otio.schema.ExternalReference(target_url=os.path.abspath(options.audio_path)) \
        if options.audio_path else otio.schema.MissingReference()
    clip = otio.schema.Clip(name=name, media_reference=ref,
                            source_range=otio.opentime.TimeRange(
                                otio.opentime.RationalTime(0, rate),
                                otio.opentime.RationalTime(n, rate)))
    frame_of = {round(f.time, 6): f for f in track.frames}
    for start, end, shape in track.cues:
        a = int(round(start * fps))
        b = max(a + 1, int(round(end * fps)))
        first = frame_of.get(round(float(a / fps), 6))
        marker = otio.schema.Marker(
            name=shape,
            marked_range=otio.opentime.TimeRange(otio.opentime.RationalTime(a, rate),
                                                 otio.opentime.RationalTime(b - a, rate)),
            color=getattr(otio.schema.MarkerColor, _COLOUR.get(shape, "PURPLE")),
            metadata={"lipflap": {"shape": shape, "start": round(start, 6), "end": round(end, 6),
                                  "viseme": first.viseme if first else None}})
        clip.markers.append(marker)
    audio = otio.schema.Track(name="dub", kind=otio.schema.TrackKind.Audio)
    audio.append(clip)
    tl = otio.schema.Timeline(name=name)
    tl.tracks.append(audio)
    tl.metadata["lipflap"] = {"fps": rate_string(fps), "source": track.source}
    return tl


def render(track, options) -> str:
    return otio.adapters.write_to_string(build_timeline(track, options), "otio_json")
