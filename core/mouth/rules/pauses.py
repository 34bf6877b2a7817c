"""Rest in pauses: long pauses go to the rest pose, middling ones relax, short ones hold.

Thresholds follow the animators' rule Rhubarb Lip Sync uses: a pause under ~0.12 s holds the
previous shape (the mouth has no time to move), a longer one relaxes part-way to rest, and from
REST_S (0.27 s) on it rests (Rhubarb relaxes up to 0.35 s; the yardstick checks rest from 0.30 s
of true pause, which a measured pause can read a little short of).
Pauses at the edges of the speech always rest. The mouth leaves the last shape and reaches the
next one with a short release/onset, so rest does not start with a jump.
"""
from __future__ import annotations

import numpy as np

from ..visemes import SHAPE_TARGET

# A pause rests from REST_S: the yardstick checks rest from 0.30 s of true pause (Rhubarb relaxes
# up to 0.35 s), and a pause's measured length is off by a frame or two (an aligned sentence
# pause of 0.30 s in an eSpeak NG f5 voice measured 0.29 s, so it only relaxed: pause rest 0.00,
# bench/bench_audio_closures.py --set voices). 0.27 leaves room for 0.03 s of that error.
REST_S = 0.27
HOLD_S = 0.12
# The lips leave the last shape over up to RELEASE_S and open for the next phrase up to ONSET_S
# ahead of its sound (each at most a quarter of the pause); a relaxed pause takes RELAX_EDGE_S
# at each side to reach its relaxed pose. With 0.08/0.10 the mouth was still half open on the
# first frame of a pause (issue 15) and 0.04/0.06 raised the track's timing r against the true
# phones (lipeval timing_r0 on the talk_d/f/h dubs, tuned there; held-out talk_a/b/e/g/i rose too).
RELEASE_S = 0.04
ONSET_S = 0.06
# Audio-only: where speech stops is read from a speech probability that can end a frame early or
# late, and the curves carry the lips' own way out and in, so they keep the wider 0.08 / 0.10.
CURVE_RELEASE_S = 0.08
CURVE_ONSET_S = 0.10
RELAX_EDGE_S = 0.05
_REST = np.array(SHAPE_TARGET["X"], float)
_REST_DOMINANCE = 1.5


def rest_edges(dur: float, *, leading: bool, trailing: bool, release_s: float = RELEASE_S,
               onset_s: float = ONSET_S) -> tuple[float, float]:
    """Seconds of release and onset at the sides of a resting pause of `dur` seconds: nothing to
    release before the first sound, nothing to open for after the last."""
    release = 0.0 if leading else min(release_s, dur / 4)
    onset = 0.0 if trailing else min(onset_s, dur / 4)
    return release, onset


def relax_edge(dur: float) -> float:
    """Seconds a relaxed pause of `dur` seconds takes at each side to reach its relaxed pose."""
    return min(RELAX_EDGE_S, dur / 4)


def rest_in_pauses(segs: list, *, rest_s: float = REST_S, hold_s: float = HOLD_S) -> list:
    """A new list: held pauses removed (the shape before extends over them), relaxed and resting
    pauses with their target and dominance set."""
    segs = _merge_adjacent_pauses(segs)
    out = []
    n = len(segs)
    speech = [i for i, s in enumerate(segs) if s.kind != "pause"]
    first, last = (speech[0], speech[-1]) if speech else (n, -1)
    for i, s in enumerate(segs):
        if s.kind != "pause":
            out.append(s)
            continue
        dur = s.duration
        edge = i < first or i > last
        if edge or dur >= rest_s:
            release, onset = rest_edges(dur, leading=i < first, trailing=i > last)
            s.target = _REST.copy()
            s.dominance = np.full(4, _REST_DOMINANCE)
            s.vis_start = np.full(4, s.start + release)
            s.vis_end = np.full(4, s.end - onset)
            s.viseme, s.shape, s.rest = "sil", "X", True
            out.append(s)
        elif dur >= hold_s:
            prev = _neighbour(segs, i, -1)
            nxt = _neighbour(segs, i, +1)
            around = np.mean([x.target for x in (prev, nxt) if x is not None] or [_REST], axis=0)
            s.target = 0.4 * around + 0.6 * _REST
            s.dominance = np.full(4, 1.0)
            # Relaxing takes a moment: the middle of the pause carries the relaxed pose.
            edge_s = relax_edge(dur)
            s.vis_start = np.full(4, s.start + edge_s)
            s.vis_end = np.full(4, s.end - edge_s)
            s.viseme, s.shape = (prev.viseme, prev.shape) if prev is not None else ("sil", "X")
            out.append(s)
        else:
            prev = out[-1] if out else None
            if prev is not None and prev.kind != "pause":
                prev.vis_end = np.maximum(prev.vis_end, s.end)
            # with nothing before it, the following shape is simply anticipated over it
    return out


def _merge_adjacent_pauses(segs: list) -> list:
    out = []
    for s in segs:
        if out and s.kind == "pause" and out[-1].kind == "pause" and \
                abs(out[-1].end - s.start) < 1e-6:
            prev = out[-1]
            prev.end = s.end
            prev.vis_end = np.maximum(prev.vis_end, s.vis_end)
            continue
        out.append(s)
    return out


def _neighbour(segs, i, step):
    j = i + step
    while 0 <= j < len(segs):
        if segs[j].kind != "pause":
            return segs[j]
        j += step
    return None


def pause_mask_from_speech(speech: np.ndarray, fps: float, *, threshold: float = 0.5,
                           rest_s: float = REST_S, hold_s: float = HOLD_S) -> np.ndarray:
    """Per frame 0 (speech, held pause, or the release and onset at a pause's sides), 0.5 (relax)
    or 1 (rest) from a speech probability per frame; runs at either end of the track rest.

    The release and onset follow rest_in_pauses: the first CURVE_RELEASE_S and last CURVE_ONSET_S
    of a resting pause (the first and last RELAX_EDGE_S of a relaxed one) stay with the curves, which
    carry the lips' own way out of and into speech; only the pause's core is forced to rest.
    """
    quiet = np.asarray(speech, float) < threshold
    out = np.zeros(len(quiet))
    i = 0
    n = len(quiet)
    while i < n:
        if not quiet[i]:
            i += 1
            continue
        j = i
        while j < n and quiet[j]:
            j += 1
        dur = (j - i) / fps
        if i == 0 or j == n or dur >= rest_s:
            release, onset = (int(round(e * fps)) for e in
                              rest_edges(dur, leading=i == 0, trailing=j == n,
                                         release_s=CURVE_RELEASE_S, onset_s=CURVE_ONSET_S))
            out[i + release:j - onset] = 1.0
        elif dur >= hold_s:
            edge = int(round(relax_edge(dur) * fps))
            out[i + edge:j - edge] = 0.5
        i = j
    return out
