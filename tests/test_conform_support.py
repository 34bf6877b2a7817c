"""The generated cut the conform and OTIO tests share (and bench/bench_conform.py uses).

Three source clips with their own start timecodes; a cut starting at 01:00:00:00 with a gap, a
transition between the first two clips, clip A used twice and a dub track under all of it, at
23.976 or 29.97 drop-frame. Everything is small so a conform runs in seconds.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from fractions import Fraction

import opentimelineio as otio
from opentimelineio import opentime

from mediagen import make_clip, make_wav

RATES = {"23.976": Fraction(24000, 1001), "29.97df": Fraction(30000, 1001), "25": Fraction(25)}
# name -> (start timecode at 23.976 (and 25), at 29.97 DF, frames in the file)
MEDIA = {"A001_C003": ("14:10:00:00", "14:10:00;00", 90),
         "A002_C001": ("02:00:05:12", "02:00:05;12", 60),
         "B001_C007": ("23:59:50:00", "10:00:59;20", 50)}


@dataclass
class Cut:
    path: str            # cut.otio
    timeline: otio.schema.Timeline
    rate: Fraction
    media: dict          # name -> path
    dub: str             # dub wav
    dub_track: str
    outdir: str


def _rt(n, rate):
    return opentime.RationalTime(n, float(rate))


def _tr(start, dur, rate):
    return opentime.TimeRange(_rt(start, rate), _rt(dur, rate))


def make_cut(root, kind: str = "23.976", *, transition: bool = True) -> Cut:
    rate = RATES[kind]
    df = kind.endswith("df")
    root = os.fspath(root)
    os.makedirs(root, exist_ok=True)
    media = {}
    starts = {}
    for name, (tc24, tc30, n) in MEDIA.items():
        tc = tc30 if df else tc24
        path = os.path.join(root, f"{name}.mov")
        make_clip(path, fps=f"{rate.numerator}/{rate.denominator}", frames=n, timecode=tc,
                  width=64, height=48, codec="h264")
        media[name] = path
        starts[name] = int(opentime.from_timecode(tc, float(rate)).value)

    def clip(name, first, dur, label=None):
        ref = otio.schema.ExternalReference(
            target_url=media[name],
            available_range=_tr(starts[name], MEDIA[name][2], rate))
        return otio.schema.Clip(name=label or name, media_reference=ref,
                                source_range=_tr(starts[name] + first, dur, rate))

    tl = otio.schema.Timeline(name=f"cut {kind}",
                              global_start_time=opentime.from_timecode(
                                  "01:00:00;00" if df else "01:00:00:00", float(rate)))
    v1 = otio.schema.Track(name="V1", kind=otio.schema.TrackKind.Video)
    v1.append(otio.schema.Gap(source_range=_tr(0, 12, rate)))
    v1.append(clip("A001_C003", 20, 24))
    if transition:
        v1.append(otio.schema.Transition(name="dissolve", in_offset=_rt(4, rate),
                                         out_offset=_rt(4, rate)))
    v1.append(clip("A002_C001", 10, 20))
    v1.append(otio.schema.Gap(source_range=_tr(0, 6, rate)))
    v1.append(clip("B001_C007", 5, 18))
    v1.append(clip("A001_C003", 60, 14))  # the same clip again, later in the take
    tl.tracks.append(v1)
    total = v1.duration().value
    orig = otio.schema.Track(name="Original", kind=otio.schema.TrackKind.Audio)
    orig.append(otio.schema.Gap(source_range=_tr(0, total, rate)))
    dub_seconds = float(Fraction(int(total) + 24) / rate)
    dub = make_wav(os.path.join(root, "dub_es.wav"), seconds=dub_seconds)
    dubtrack = otio.schema.Track(name="Dub ES", kind=otio.schema.TrackKind.Audio)
    dubtrack.append(otio.schema.Clip(
        name="dub_es", media_reference=otio.schema.ExternalReference(target_url=dub),
        source_range=_tr(0, total, rate)))
    tl.tracks.append(orig)
    tl.tracks.append(dubtrack)
    path = os.path.join(root, "cut.otio")
    otio.adapters.write_to_file(tl, path)
    return Cut(path, tl, rate, media, dub, "Dub ES", os.path.join(root, "out"))


def test_cut_is_what_the_tests_assume(tmp_path):
    from lipflap.media.probe import probe
    cut = make_cut(tmp_path, "29.97df")
    info = probe(cut.media["B001_C007"])
    assert info.start_timecode == "10:00:59;20" and info.frame_count == 50
    clips = cut.timeline.find_clips()
    assert [c.name for c in clips][:5] == ["A001_C003", "A002_C001", "B001_C007", "A001_C003",
                                           "dub_es"]
    # The dub file outlasts the cut, so every clip lies under it.
    assert probe_audio_seconds(cut.dub) > cut.timeline.duration().to_seconds()


def probe_audio_seconds(path) -> float:
    import av
    with av.open(path) as c:
        return float(c.duration / av.time_base)
