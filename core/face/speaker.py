"""Choosing the face to work on: auto (active speaker), largest, an id, or a point.

Auto measures, for each face, how much of its mouth motion (frame-to-frame change of the lip
aperture, in eye distances) goes with the clip's own speech envelope (log band energy 200-4000 Hz,
as the yardstick does): the covariance of the two over the envelope's spread, best over a few
frames of offset. A correlation alone is scale-free and lets a still face win by chance (its
aperture noise correlates with anything at r ~ 0.2 over a few seconds, about what real speech
gives); the covariance keeps the size of the motion: a talking mouth scores 0.006-0.010 on the
development clips, a still one under 0.001. A clip without audio, or where no mouth moves with
the audio, falls back to the largest face, and the reason says so.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

MIN_SCORE = 0.002     # below this no mouth is said to follow the audio
MARGIN = 1.5          # the winner must beat the runner-up by this factor, else it is no contest
MIN_FRAMES = 12


@dataclass
class Candidate:
    id: int
    apertures: np.ndarray      # per frame of the shot, NaN where the face is absent
    areas: np.ndarray          # bbox area per frame, 0 where absent
    centers: np.ndarray        # (n, 2), NaN where absent


def parse_face(spec: str | int | None) -> tuple[str, object]:
    """'auto' | 'largest' | 'INDEX' | 'X,Y' -> (kind, value); ValueError when malformed."""
    if spec is None:
        return "auto", None
    if isinstance(spec, int):
        return "id", spec
    s = str(spec).strip().lower()
    if s in ("auto", "largest"):
        return s, None
    if "," in s:
        x, y = s.split(",", 1)
        return "point", (float(x), float(y))
    if s.isdigit():
        return "id", int(s)
    raise ValueError(f"--face {spec!r} is not auto, largest, a face index or X,Y")


def speech_envelope(wav: np.ndarray, sr: int, times: np.ndarray, win: float = 0.04) -> np.ndarray:
    """Log RMS of the 200-4000 Hz band in a `win`-second window at each time (NaN outside)."""
    if len(wav) == 0:
        return np.full(len(times), np.nan)
    spec = np.fft.rfft(wav.astype(np.float64))
    f = np.fft.rfftfreq(len(wav), 1 / sr)
    spec[(f < 200) | (f > 4000)] = 0
    band = np.fft.irfft(spec, len(wav))
    sq = np.concatenate([[0.0], np.cumsum(band ** 2)])
    half = max(1, int(win * sr / 2))
    out = np.full(len(times), np.nan)
    for i, t in enumerate(times):
        c = int(round(t * sr))
        a, b = max(0, c - half), min(len(wav), c + half)
        if b > a:
            out[i] = math.log(math.sqrt((sq[b] - sq[a]) / (b - a)) + 1e-5)
    return out


def speech_match(apertures: np.ndarray, env: np.ndarray, rate: float,
                 shifts: range = range(-2, 5)) -> float:
    """Covariance of mouth motion with the speech envelope over the envelope's std (eye distances
    per frame), best over `shifts` (s > 0: the sound comes s frames after the mouth moves).
    NaN when the face and the audio overlap on too few frames."""
    ap = np.asarray(apertures, float)
    motion = np.r_[np.nan, np.abs(np.diff(ap))]
    e = np.asarray(env, float)
    n = len(motion)
    best = np.nan
    for s in shifts:
        x, y = (motion[:n - s], e[s:]) if s >= 0 else (motion[-s:], e[:n + s])
        ok = ~(np.isnan(x) | np.isnan(y))
        if ok.sum() < MIN_FRAMES:
            continue
        xs, ys = x[ok], y[ok]
        sd = ys.std()
        c = 0.0 if sd < 1e-9 else float(np.mean((xs - xs.mean()) * (ys - ys.mean())) / sd)
        if np.isnan(best) or c > best:
            best = c
    return best


def _largest(cands: list[Candidate]) -> Candidate:
    # Mean area with absent frames counted as 0: a big face seen for a moment loses to the face
    # that is there all along.
    return max(cands, key=lambda c: (float(np.mean(c.areas)), -c.id))


def choose(cands: list[Candidate], spec, env: np.ndarray | None, rate: float,
           audio_note: str = "") -> tuple[int | None, str, dict[int, float]]:
    """(chosen id or None, reason, speech r per id)."""
    kind, value = parse_face(spec)
    scores: dict[int, float] = {}
    if not cands:
        return None, "no face found", scores
    if kind == "id":
        if any(c.id == value for c in cands):
            return int(value), f"face {value} as asked (--face {value})", scores
        return None, f"face {value} was asked for but is not in this shot " \
                     f"(faces here: {', '.join(str(c.id) for c in cands)})", scores
    if kind == "point":
        x, y = value
        def dist(c):
            d = np.hypot(c.centers[:, 0] - x, c.centers[:, 1] - y)
            return float(np.nanmean(d)) if np.isfinite(d).any() else math.inf
        c = min(cands, key=dist)
        return c.id, f"face {c.id} is nearest to {x:g},{y:g} (--face {x:g},{y:g})", scores
    if kind == "largest":
        c = _largest(cands)
        return c.id, f"face {c.id} is the largest (--face largest)", scores
    # auto
    if len(cands) == 1:
        c = cands[0]
        if env is not None and np.isfinite(env).any():
            scores[c.id] = speech_match(c.apertures, env, rate)
        return c.id, f"face {c.id} is the only face", scores
    if env is None or not np.isfinite(env).any() or np.nanstd(env) < 1e-6:
        c = _largest(cands)
        why = audio_note or "the clip has no audio"
        return c.id, f"face {c.id} is the largest ({why}, so the speaker cannot be heard)", scores
    for c in cands:
        scores[c.id] = speech_match(c.apertures, env, rate)
    valid = {k: v for k, v in scores.items() if np.isfinite(v)}
    if valid:
        ranked = sorted(valid, key=valid.get, reverse=True)
        best = ranked[0]
        runner = valid[ranked[1]] if len(ranked) > 1 else 0.0
        others = ", ".join(f"{valid[k]:.4f} for face {k}" for k in ranked[1:])
        if valid[best] >= MIN_SCORE and valid[best] >= MARGIN * max(runner, 0.0):
            return best, (f"face {best}'s mouth follows the audio best (score {valid[best]:.4f}"
                          + (f" vs {others}" if others else "") + ")"), scores
        c = _largest(cands)
        if valid[best] >= MIN_SCORE:
            return c.id, (f"face {c.id} is the largest (several mouths move with the audio: "
                          f"{valid[best]:.4f} for face {best}, {others})"), scores
        return c.id, (f"face {c.id} is the largest (no mouth follows the audio: best score "
                      f"{valid[best]:.4f})"), scores
    c = _largest(cands)
    return c.id, f"face {c.id} is the largest (too few frames to hear who speaks)", scores
