"""Timed visual targets: phones split into the segments the timing rules and the blend work on.

A Segment keeps the phone's acoustic span (start, end) and, per mouth parameter, the span over
which it fully dominates (`vis_start`, `vis_end`); rules move those (anticipation) or the
dominance (pauses), never the acoustic times, so closure can still be checked against the phone.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .phonemes import Features, phone_parts

# Dominance strength per parameter (aperture, width, rounding, jaw): how hard a segment pulls the
# mouth toward its own target against its neighbours (Cohen & Massaro 1993). Vowels are the
# reference; lips-only consonants win on aperture, tongue consonants mostly borrow the vowels'
# lips; glottal/pharyngeal ones take the shape of whatever is around them.
_VOWEL = (1.3, 1.0, 1.0, 1.3)
_CLOSURE = (1.6, 0.6, 0.3, 1.0)   # the closure rule seals the frames; this shapes the approach
_LABIODENTAL = (3.0, 0.8, 0.4, 1.0)
_LABIAL_GLIDE = (1.2, 2.0, 2.5, 0.8)
# The jaw rises for tongue consonants (alveolars and sibilants need a high jaw), so their
# aperture is not all borrowed from the vowels around them: with 0.45/0.3 a "t" between two
# vowels read as open as the vowels on the output (lipeval phone classes: consonants 0.6 of the
# range, vowels 0.5-0.6). Aperture dominance 1.3 / 1.0 (was 0.9 / 0.6 for tongue and back
# consonants): the mouth narrows on a consonant between vowels as the jaw does (timing_r0 on the
# track +0.003 on talk_d/f/h, +0.005 held out).
_SIBILANT = (1.3, 0.9, 0.7, 0.9)
_TONGUE = (1.3, 0.35, 0.2, 0.5)
_BACK = (1.0, 0.25, 0.15, 0.35)
_GLOTTAL = (0.05, 0.05, 0.05, 0.05)
_PAUSE = (1.0, 1.0, 1.0, 1.0)
_UNKNOWN = (0.02, 0.02, 0.02, 0.02)

# How far (s) dominance reaches outside the segment's own span: before it (anticipatory) and after
# it (carry-over). Lips anticipate vowels more than they carry them over; consonants reach less
# far than vowels, and a closure's seal opens quickly on release.
_TAU_BEFORE = 0.06
_TAU_AFTER = 0.045
LONG_L_S = 0.09
OFFGLIDE_DOMINANCE = 0.6
# A vowel's reach 0.03 s each side (was 0.05 / 0.04): with the wider reach the aperture trailed
# each vowel into the next consonant (track timing_r0 +0.008 on talk_d/f/h, as much held out).
_TAU = {"vowel": (0.03, 0.03), "consonant": (0.035, 0.03), "closure": (0.025, 0.02)}


@dataclass
class Segment:
    start: float                  # acoustic span, seconds of audio
    end: float
    features: Features
    viseme: str
    shape: str
    target: np.ndarray            # (4,) aperture, width, rounding, jaw
    dominance: np.ndarray         # (4,)
    vis_start: np.ndarray = field(default=None)  # (4,) span of full dominance, per parameter
    vis_end: np.ndarray = field(default=None)
    tau_before: np.ndarray = field(default=None)
    tau_after: np.ndarray = field(default=None)
    phone_index: int = -1
    rest: bool = False            # a pause the pause rule sent to rest

    def __post_init__(self):
        if self.vis_start is None:
            self.vis_start = np.full(4, self.start)
        if self.vis_end is None:
            self.vis_end = np.full(4, self.end)
        if self.tau_before is None:
            self.tau_before = np.full(4, _TAU_BEFORE)
        if self.tau_after is None:
            self.tau_after = np.full(4, _TAU_AFTER)

    @property
    def kind(self) -> str:
        return self.features.kind

    @property
    def duration(self) -> float:
        return self.end - self.start

    @property
    def closure(self) -> bool:
        return self.features.closure


def dominance_of(f: Features) -> tuple[float, float, float, float]:
    if f.kind == "vowel":
        return _VOWEL
    if f.kind == "pause":
        return _PAUSE
    if f.kind == "unknown":
        return _UNKNOWN
    if f.closure:
        return _CLOSURE
    if f.place == "bilabial":            # ɸ β: lips close in, but do not seal
        return (1.2, 0.6, 0.3, 0.8)
    if f.place == "labiodental":
        return _LABIODENTAL
    if f.place in ("labialvelar", "labialpalatal"):
        return _LABIAL_GLIDE
    if f.place in ("glottal", "pharyngeal"):
        return _GLOTTAL
    if f.place == "postalveolar" or f.manner in ("fricative", "affricate") and f.place in (
            "alveolar", "dental", "retroflex"):
        return _SIBILANT
    if f.place in ("velar", "uvular"):
        return _BACK
    return _TONGUE


def segments_from_phones(phones) -> list[Segment]:
    """One Segment per visual part of each phone (affricates and diphthongs give two)."""
    segs: list[Segment] = []
    for i, ph in enumerate(phones):
        start, end = float(ph.start), float(ph.end)
        if end <= start:
            continue
        t = start
        parts = phone_parts(ph.phone)
        for k, part in enumerate(parts):
            e = end if k == len(parts) - 1 else t + part.share * (end - start)
            dom = np.array(dominance_of(part.features), float)
            if k > 0 and part.features.kind == "vowel" and parts[k - 1].features.kind == "vowel":
                # A diphthong's offglide is undershot in speech (the i of "aɪ" is seldom
                # reached) and must not pull its nucleus shut: in a 70 ms "aɪ" after an m,
                # a full-strength glide kept the only frame on the a below half open.
                dom = dom * OFFGLIDE_DOMINANCE
            if part.features.labialised:
                dom[2] = max(dom[2], 1.5)
            shape = part.shape
            if shape == "H" and e - t < LONG_L_S:
                shape = "B"   # Rhubarb keeps H for long l sounds; a short l barely shows
            key = "closure" if part.features.closure else part.features.kind
            tb, ta = _TAU.get(key, (_TAU_BEFORE, _TAU_AFTER))
            segs.append(Segment(t, e, part.features, part.viseme, shape,
                                np.array(part.target, float), dom, tau_before=np.full(4, tb),
                                tau_after=np.full(4, ta), phone_index=i))
            t = e
    return segs
