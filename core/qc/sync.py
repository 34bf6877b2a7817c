"""Sync figures: the mouth measured on the output against the mouth the track asks for.

- sync r: Pearson r between the measured lip aperture and the track's aperture, at the best
  offset within +-5 frames (positive: the output's mouth is late);
- phonetics, on the measured aperture normalised to the clip's own range (5th..95th percentile,
  as the yardstick does, so a speaker who never opens wide is judged against themselves):
  bilabial closure (below 0.2 within the phone +-1 frame), open-vowel opening (above 0.45), pause
  rest (the pause's core, 3 frames in from each end, below 0.25).
"""
from __future__ import annotations

import numpy as np

from . import regions
from .expected import Event, Expected

MAX_OFFSET = 5
CLOSED_BELOW = 0.20
OPEN_ABOVE = 0.45
REST_BELOW = 0.25


def measured_aperture(landmarks) -> np.ndarray:
    """Per-frame lip aperture (lipflap.face's definition) from per-frame landmarks; NaN where a
    frame has no usable face. Accepts a list of (478, 2) arrays / None or an (n, 478, 2) array."""
    from ..face.geometry import mouth_aperture
    out = np.full(len(landmarks), np.nan)
    for i, p in enumerate(landmarks):
        if regions.valid(p):
            v = float(mouth_aperture(np.asarray(p, np.float64)))
            out[i] = v if np.isfinite(v) else np.nan
    return out


def normalize(ap: np.ndarray, range_from: np.ndarray | None = None) -> np.ndarray:
    """The clip's own range mapped to 0..1 (5th..95th percentile of `range_from`, default `ap`
    itself); NaN stays NaN."""
    src = ap if range_from is None else range_from
    v = src[np.isfinite(src)]
    if len(v) < 2:
        return np.full_like(ap, np.nan)
    lo, hi = np.percentile(v, 5), np.percentile(v, 95)
    if hi - lo < 1e-9:
        return np.where(np.isfinite(ap), 0.0, np.nan)
    return (ap - lo) / (hi - lo)


def pearson(a: np.ndarray, b: np.ndarray, w: np.ndarray | None = None) -> float | None:
    """r of a and b over the frames where both are finite; with `w`, each frame weighted (the
    frames of weight 0 left out)."""
    m = np.isfinite(a) & np.isfinite(b)
    if w is not None:
        m &= np.asarray(w) > 0
    if m.sum() < 5:
        return None
    a, b = a[m], b[m]
    if a.std() < 1e-12 or b.std() < 1e-12:
        return 0.0
    if w is None:
        return float(np.corrcoef(a, b)[0, 1])
    w = np.asarray(w, np.float64)[m]
    w = w / w.sum()
    da, db = a - (w * a).sum(), b - (w * b).sum()
    den = np.sqrt((w * da * da).sum() * (w * db * db).sum())
    return float((w * da * db).sum() / den) if den > 1e-24 else 0.0


def offset_correlation(measured: np.ndarray, expected: np.ndarray, max_offset: int = MAX_OFFSET,
                       weights: np.ndarray | None = None) -> dict:
    """r at each offset s in -max..max, where measured[i + s] is compared with expected[i];
    `weights` (per measured frame) as in `pearson`."""
    n = min(len(measured), len(expected))
    m, e = measured[:n], expected[:n]
    w = None if weights is None else np.asarray(weights, np.float64)[:n]
    rs: dict[int, float | None] = {}
    for s in range(-max_offset, max_offset + 1):
        if s >= 0:
            rs[s] = pearson(m[s:], e[:n - s], None if w is None else w[s:])
        else:
            rs[s] = pearson(m[:n + s], e[-s:], None if w is None else w[:n + s])
    scored = {s: r for s, r in rs.items() if r is not None}
    if not scored:
        return {"best_r": None, "best_offset_frames": None, "r_at_0": None, "r_by_offset": rs}
    # Ties go to the smallest |offset|: a flat curve must not report a made-up lag.
    best = max(scored, key=lambda s: (round(scored[s], 6), -abs(s)))
    return {"best_r": scored[best], "best_offset_frames": best, "r_at_0": rs[0], "r_by_offset": rs}


def judge_event(norm: np.ndarray, ev: Event) -> tuple[bool | None, float | None]:
    """(met, value) for one event on the normalised measured aperture; (None, None) when the
    frames it needs have no face."""
    n = len(norm)
    if ev.kind == "pause":
        core = norm[max(0, ev.start + 3):min(n, ev.end - 2)]
        if len(core) == 0:  # a pause too short for a core after clipping: judge all of it
            core = norm[max(0, ev.start):min(n, ev.end + 1)]
        core = core[np.isfinite(core)]
        if not len(core):
            return None, None
        frac = float(np.mean(core < REST_BELOW))
        return frac >= 0.9, frac
    seg = norm[max(0, ev.start - 1):min(n, ev.end + 2)]
    seg = seg[np.isfinite(seg)]
    if not len(seg):
        return None, None
    if ev.kind == "bilabial":
        v = float(seg.min())
        return v < CLOSED_BELOW, v
    v = float(seg.max())
    return v > OPEN_ABOVE, v


def phonetic_figures(norm: np.ndarray, expected: Expected) -> tuple[dict, list[dict]]:
    """Rates per kind and the per-event results (for flags, the plot and the contact sheet)."""
    results: list[dict] = []
    per: dict[str, list[float]] = {"bilabial": [], "open": [], "pause": []}
    unmeasured = {"bilabial": 0, "open": 0, "pause": 0}
    for ev in expected.events:
        met, value = judge_event(norm, ev)
        results.append({"kind": ev.kind, "start": ev.start, "end": ev.end, "label": ev.label,
                        "t0": round(ev.t0, 4), "t1": round(ev.t1, 4), "met": met,
                        "value": None if value is None else round(value, 4)})
        if met is None:
            unmeasured[ev.kind] += 1
        elif ev.kind == "pause":
            per["pause"].append(value)
        else:
            per[ev.kind].append(1.0 if met else 0.0)
    names = {"bilabial": "bilabial_closure", "open": "open_vowel_opening", "pause": "pause_rest"}
    figs = {}
    for kind, name in names.items():
        xs = per[kind]
        figs[name] = {"value": float(np.mean(xs)) if xs else None, "n": len(xs),
                      "unmeasured": unmeasured[kind]}
    return figs, results


# ---- timing against the phones -------------------------------------------------------------
# How far each kind of phone opens the mouth, as a rough articulatory prior (what matters is when
# the mouth opens and closes, not how far): a-like vowels fully, other vowels a little over half,
# consonants a little, lip closures and pauses not at all.
OPENING = {"open": 1.0, "vowel": 0.6, "consonant": 0.3, "closed": 0.0}
_VOWEL_START = "aeiouyɑæɐɒɔəɛɪʊʏøœɘɵɤʌɯɨʉ"
TIMING_MAX_LAG = 5


def phone_opening(phones, fps: float, n: int) -> np.ndarray | None:
    """(n,) opening expected from timed phones [(phone, t0, t1)] at each frame's middle
    ((i + 0.5) / fps, the instant it is on screen), blurred by 40 ms; None without speech."""
    from .expected import BILABIAL, OPEN_VOWELS, PAUSES, _name
    if not phones or n == 0:
        return None
    t = (np.arange(n) + 0.5) / fps
    out = np.zeros(n)
    speech = False
    for ph, t0, t1 in phones:
        name = _name(ph)
        if name in PAUSES or name[:1] in BILABIAL:
            v = OPENING["closed"]
        elif name.startswith(OPEN_VOWELS):
            v = OPENING["open"]
        elif name[:1] in _VOWEL_START:
            v = OPENING["vowel"]
        else:
            v = OPENING["consonant"]
        speech |= name not in PAUSES
        out[(t >= t0) & (t < t1)] = v
    if not speech:
        return None
    sigma = 0.04 * fps
    r = max(1, int(np.ceil(3 * sigma)))
    k = np.exp(-0.5 * (np.arange(-r, r + 1) / sigma) ** 2)
    return np.convolve(np.pad(out, r, mode="edge"), k / k.sum(), mode="valid")


def timing_figures(measured: np.ndarray, phones, fps: float,
                   weights: np.ndarray | None = None) -> dict | None:
    """{"lag": best lag in frames (+ = mouth late), "r0": r at lag 0, "best_r", "r_by_lag"} of the
    measured aperture against the phones' opening; None without phones. Frames without a face
    (NaN; also frames QC did not re-track) are left out of each correlation; `weights` (per
    frame) make a sample stand for all frames (lipflap.qc.pixels.timing_weights)."""
    exp = phone_opening(phones, fps, len(measured))
    if exp is None:
        return None
    rs = offset_correlation(measured, exp, TIMING_MAX_LAG, weights)
    if rs["best_r"] is None:
        return None
    return {"lag": rs["best_offset_frames"], "r0": rs["r_at_0"], "best_r": rs["best_r"],
            "r_by_lag": {k: None if v is None else round(v, 4) for k, v in rs["r_by_offset"].items()}}


# ---- rounding against the phones ------------------------------------------------------------
# The yardstick's vowel classes (stress and length marks removed): speech narrows the mouth on
# rounded vowels against spread ones; a renderer that ignores rounding gives a ratio near 1.
ROUNDED_VOWELS = ("u", "o", "y", "ø", "ɔ", "ʊ", "ʏ", "œ", "ɵ", "ʉ")
SPREAD_VOWELS = ("i", "e", "ɪ", "ɛ", "ɨ")
VOWEL_MIN_S = 0.06
# Judged only where the dub has this many rounded vowels (the rule: fewer is noise).
MIN_ROUNDED = 3
MOUTH_CORNERS = (61, 291)


def measured_width(landmarks) -> np.ndarray:
    """Per-frame mouth width (corner to corner over the eye distance); NaN without a face."""
    out = np.full(len(landmarks), np.nan)
    for i, p in enumerate(landmarks):
        if regions.valid(p):
            p = np.asarray(p, np.float64)[:, :2]
            iod = regions.eye_distance(p)
            if iod > 1e-6:
                out[i] = float(np.linalg.norm(p[MOUTH_CORNERS[0]] - p[MOUTH_CORNERS[1]])) / iod
    return out


def rounding_figures(width: np.ndarray, phones, fps: float) -> dict | None:
    """{"ratio": mean width on rounded vowels over that on spread vowels, "rounded", "spread"}
    (vowels of VOWEL_MIN_S or more, the frames each overlaps; frames without a measured width are
    left out); None where the dub has fewer than MIN_ROUNDED rounded vowels or no spread one."""
    from .expected import _name
    n = len(width)
    rounded, spread = [], []
    for ph, t0, t1 in phones or []:
        name = _name(ph)
        if not name or t1 - t0 < VOWEL_MIN_S:
            continue
        a, b = int(np.floor(t0 * fps)), int(np.ceil(t1 * fps))
        w = width[max(0, a):min(n, b)]
        w = w[np.isfinite(w)]
        if not len(w):
            continue
        if name.startswith(ROUNDED_VOWELS):
            rounded.append(float(w.mean()))
        elif name.startswith(SPREAD_VOWELS):
            spread.append(float(w.mean()))
    if len(rounded) < MIN_ROUNDED or not spread:
        return None
    return {"ratio": float(np.mean(rounded) / np.mean(spread)), "rounded": len(rounded),
            "spread": len(spread)}
