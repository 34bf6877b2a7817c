"""What the mouth should do: the expected per-frame aperture and the moments QC checks.

The moments ("events") are the docs/quality.md ones: bilabial closures (p/b/m), open vowels
(a-like, 60 ms or more) and pauses (300 ms or more). They come from the track's phonemes when it
has them (a script-aware or synthetic track); otherwise from the track's own frames: runs of the
closed shape (PP / A) inside speech, runs of wide-open frames, and runs of rest (sil / X).
"""
from __future__ import annotations

import math
import os
from dataclasses import dataclass, field

import numpy as np

from ..contract.errors import LipflapError

BILABIAL = frozenset("pbm")
# a-like vowels in eSpeak NG's IPA spelling (the yardstick's set, stress and length marks removed
# first); "a" also covers the diphthongs aɪ, aʊ that open through it.
OPEN_VOWELS = ("a", "ɑ", "æ", "ɐ", "ɒ", "A")
PAUSES = frozenset(("", "_", "sil", "SIL", "pau", "sp"))

OPEN_MIN_S = 0.06
PAUSE_MIN_S = 0.30
# From frames: what counts as wide open / closed in the track's 0..1 aperture.
OPEN_APERTURE = 0.6
CLOSED_APERTURE = 0.05


@dataclass
class Event:
    kind: str        # "bilabial", "open" or "pause"
    start: int       # first frame (inclusive)
    end: int         # last frame (inclusive)
    label: str       # the phone, or the viseme/shape when known only from frames
    t0: float        # seconds on the track's clock
    t1: float

    @property
    def mid(self) -> int:
        return (self.start + self.end) // 2


@dataclass
class Expected:
    fps: float
    aperture: np.ndarray                    # (n,) 0..1, NaN where the track has no frame
    events: list[Event]
    events_from: str                        # "phonemes" or "frames"
    phones: list[tuple[str, float, float]] = field(default_factory=list)

    @property
    def n(self) -> int:
        return len(self.aperture)


def load_track(track):
    """A MouthTrack from a MouthTrack, its JSON dict, or a path to its JSON file."""
    from ..mouth.track import MouthTrack
    if isinstance(track, MouthTrack):
        return track
    if isinstance(track, dict):
        return MouthTrack.from_json(track)
    if isinstance(track, (str, os.PathLike)):
        return MouthTrack.load(os.fspath(track))
    raise LipflapError(f"QC needs a mouth-shape track (MouthTrack, its JSON or a .json path), "
                       f"not {type(track).__name__}.")


def expected_from_track(track, n_frames: int | None = None, *, fps=None,
                        start_s: float = 0.0) -> Expected:
    """Expected aperture and events for `n_frames` video frames (default: the track's length).

    By default the track's frame i is the video's frame i. With `start_s` (and the video's `fps`
    when it differs from the track's) the track is read on the dub's clock, as `lipflap run
    --shapes` reads it: video frame k shows the track at dub time start_s + k / fps, and outside
    the track the mouth rests.
    """
    tr = load_track(track)
    tfps = float(tr.fps)
    vfps = tfps if fps is None else float(fps)
    if start_s == 0.0 and abs(vfps - tfps) < 1e-9:
        ap = np.array([f.aperture for f in tr.frames], float)
        vis = [f.viseme for f in tr.frames]
        shp = [f.shape for f in tr.frames]
        n = len(ap) if n_frames is None else int(n_frames)
        if len(ap) < n:
            ap = np.concatenate([ap, np.full(n - len(ap), np.nan)])
    else:
        n = (int(math.floor((len(tr.frames) / tfps - start_s) * vfps + 1e-6))
             if n_frames is None else int(n_frames))
        n = max(n, 0)
        ap, vis, shp = np.zeros(n), ["sil"] * n, ["X"] * n
        for k in range(n):
            i = int(math.floor((start_s + k / vfps) * tfps + 1e-6))
            if 0 <= i < len(tr.frames) and start_s + k / vfps >= 0:
                f = tr.frames[i]
                ap[k], vis[k], shp[k] = f.aperture, f.viseme, f.shape
    ap = ap[:n]
    phones = [(str(p.phone), float(p.start) - start_s, float(p.end) - start_s)
              for p in (tr.phonemes or [])]
    phones = [p for p in phones if p[2] > 0]
    speech = [p for p in phones if _name(p[0]) not in PAUSES]
    if speech:
        events = events_from_phones(phones, vfps, n)
        src = "phonemes"
    else:
        events = events_from_frames(ap, vis[:n], shp[:n], vfps)
        src = "frames"
    return Expected(fps=vfps, aperture=ap, events=events, events_from=src, phones=phones)


def _name(phone: str) -> str:
    return phone.strip().strip("ˈˌ").replace("ː", "")


def _frames(t0: float, t1: float, fps: float) -> tuple[int, int]:
    # Frame i shows [i/fps, (i+1)/fps): the frames a [t0, t1) phone overlaps.
    a = int(math.floor(t0 * fps + 1e-6))
    b = int(math.ceil(t1 * fps - 1e-6)) - 1
    return a, max(a, b)


def events_from_phones(phones: list[tuple[str, float, float]], fps: float, n: int) -> list[Event]:
    """Bilabials, open vowels and pauses from timed phones; silences not covered by any phone
    (before the first, after the last, gaps) are pauses too."""
    events: list[Event] = []
    clip_end = n / fps
    # Pauses: merge pause phones and gaps into spans first, then keep the long ones.
    spans: list[list[float]] = []

    def add_pause(t0: float, t1: float) -> None:
        if t1 <= t0:
            return
        if spans and t0 - spans[-1][1] < 1e-3:
            spans[-1][1] = max(spans[-1][1], t1)
        else:
            spans.append([t0, t1])

    cursor = 0.0
    for ph, t0, t1 in sorted(phones, key=lambda p: p[1]):
        add_pause(cursor, min(t0, clip_end))
        name = _name(ph)
        if name in PAUSES:
            add_pause(t0, min(t1, clip_end))
        elif t0 < clip_end:
            a, b = _frames(t0, min(t1, clip_end), fps)
            if name[:1] in BILABIAL:
                events.append(Event("bilabial", a, min(b, n - 1), ph, t0, t1))
            elif name.startswith(OPEN_VOWELS) and t1 - t0 >= OPEN_MIN_S:
                events.append(Event("open", a, min(b, n - 1), ph, t0, t1))
        cursor = max(cursor, t1)
    add_pause(cursor, clip_end)
    for t0, t1 in spans:
        if t1 - t0 >= PAUSE_MIN_S - 1e-6:
            a, b = _frames(t0, t1, fps)
            events.append(Event("pause", a, min(b, n - 1), "pause", t0, t1))
    events.sort(key=lambda e: (e.start, e.kind))
    return [e for e in events if e.start < n]


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """(first, last) index of each run of True."""
    runs, start = [], None
    for i, m in enumerate(mask):
        if m and start is None:
            start = i
        elif not m and start is not None:
            runs.append((start, i - 1))
            start = None
    if start is not None:
        runs.append((start, len(mask) - 1))
    return runs


def events_from_frames(ap: np.ndarray, visemes: list[str], shapes: list[str], fps: float) -> list[Event]:
    """Events from the track's frames when it carries no phonemes (an audio-only or edited track)."""
    n = len(ap)
    vis = list(visemes) + [""] * (n - len(visemes))
    shp = list(shapes) + [""] * (n - len(shapes))
    rest = np.array([v == "sil" or s == "X" for v, s in zip(vis, shp)])
    closed = np.array([v == "PP" or s == "A" for v, s in zip(vis, shp)])
    finite = np.isfinite(ap)
    if not rest.any() and not closed.any():
        # No names at all: closed frames; the long runs become rests below.
        closed = finite & (np.nan_to_num(ap, nan=1.0) <= CLOSED_APERTURE)
    # A "closure" held for a pause's length is a rest whatever it is named (bilabials hold for
    # 4-12 cs): judge it as a pause, not as one long p/b/m.
    for a, b in _runs(closed & ~rest):
        if (b - a + 1) / fps >= PAUSE_MIN_S - 1e-6:
            rest[a:b + 1] = True
            closed[a:b + 1] = False
    events: list[Event] = []
    for a, b in _runs(closed & ~rest):
        events.append(Event("bilabial", a, b, vis[a] or shp[a] or "closed", a / fps, (b + 1) / fps))
    wide = finite & (np.nan_to_num(ap, nan=0.0) >= OPEN_APERTURE)
    for a, b in _runs(wide):
        if (b - a + 1) / fps >= OPEN_MIN_S:
            events.append(Event("open", a, b, vis[a] or shp[a] or "open", a / fps, (b + 1) / fps))
    for a, b in _runs(rest):
        if (b - a + 1) / fps >= PAUSE_MIN_S - 1e-6:
            events.append(Event("pause", a, b, "pause", a / fps, (b + 1) / fps))
    events.sort(key=lambda e: (e.start, e.kind))
    return events
