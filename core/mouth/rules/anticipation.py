"""Anticipation: the lips form a vowel before it sounds.

Over the consonants that precede a vowel (up to the previous vowel or pause) the vowel's opening
starts up to ~0.06 s early (1.5 frames at 25 fps; 0.12 s opened the mouth on the consonant before
and lowered the track's timing r against the true phones), and a rounded vowel's rounding and
narrowing up to ~0.2 s early (anticipatory lip rounding spreads across a whole consonant
cluster: "strew" rounds on the s). Lip consonants still win their own aperture through their
higher dominance, so a p before a vowel stays closed, and the opening is not anticipated across
them: the lips open for the vowel from the release of the last p/b/m (or f/v) of the cluster
(track r against the true talk phones 0.813 -> 0.818; talk_f 0.789 -> 0.802).
"""
from __future__ import annotations

import numpy as np

MAX_LEAD_S = 0.06
MAX_ROUND_LEAD_S = 0.20


def anticipate(segs: list, *, max_lead: float = MAX_LEAD_S,
               max_round_lead: float = MAX_ROUND_LEAD_S) -> list:
    for i, s in enumerate(segs):
        if s.kind != "vowel":
            continue
        j = i - 1
        while j >= 0 and segs[j].kind == "consonant":
            j -= 1
        cluster = s.start - segs[j + 1].start if j + 1 < i else 0.0
        if cluster <= 0:
            continue
        lead = min(max_lead, 0.6 * cluster, s.start - _lips_free_from(segs[j + 1:i], s.start))
        vs = s.vis_start.copy()
        vs[[0, 1, 3]] = np.minimum(vs[[0, 1, 3]], s.start - lead)
        if s.features.rounded:
            # rounding shows from the front as a narrower mouth: the width narrows with it across
            # the cluster (anticipated only as far as the opening, the first frame of each u/o on
            # talk_a stayed wider than its target: rounded/spread width ratio 0.9207 -> 0.9202;
            # spreading i/e the same way made it 0.923)
            vs[[1, 2]] = np.minimum(vs[[1, 2]], s.start - min(max_round_lead, cluster))
        s.vis_start = vs
    return segs


def _lips_free_from(cluster: list, start: float) -> float:
    """Where the lips are free to open for the vowel at `start`: after the last consonant of the
    cluster that holds them (p b m sealed, f v on the teeth), else the cluster's start. A vowel
    cannot open lips that are closing for a p: anticipated across it, the a of "ʁpa" opened the
    ʁ before the p wider than the ɛ before it (talk_f frame 63, 0.66 against the ɛ's 0.52)."""
    free = cluster[0].start if cluster else start
    for c in cluster:
        if c.features.closure or c.features.place == "labiodental":
            free = c.end
    return free
