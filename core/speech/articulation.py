"""Phones (IPA strings with times) -> per-frame continuous mouth curves.

Two users: the audio-only model's training targets (training/make_data.py, from eSpeak NG's
and Festival's phone times) and, at run time, the curves drawn from the phones that
lipflap.speech.phone_recognition hears in a dub.

Each IPA symbol gets an articulatory target (aperture, width, rounding, jaw), a weight (how
firmly the lips must reach it: vowels and labials firmly, tongue consonants loosely, h and
glottal stops not at all, they take their neighbours' shape) and one of the 15 visemes.
Targets are blended with overlapping kernels, so consonants inherit the surrounding vowels'
opening and the lips start moving before an acoustic boundary, as real lips do.
"""
from __future__ import annotations

import unicodedata

import numpy as np

from lipflap.mouth.visemes import VISEMES as _VISEMES

# The one viseme list (lipflap.mouth.visemes); the networks' class outputs are in this order.
VISEMES = list(_VISEMES)
V = {name: i for i, name in enumerate(VISEMES)}

# symbol: (aperture, width, rounding, jaw, weight, viseme)
# These per-symbol targets are the ones the four audio-only networks were trained on, so they
# stay this module's own until the networks are retrained: derived from the script path's table
# instead (lipflap.mouth.phonemes.target_of over mouth.visemes, "a" opening 0.90 rather than
# 1.00), the phone curves disagree with the networks they are averaged with, and the audio-side
# r at offset 0 fell on all nine talk_* clips (mean 0.327 -> 0.310; talk_a/b/c 0.451 -> 0.443).
_VOWELS = {
    "i": (0.25, 0.85, 0.0, 0.20, "ih"), "y": (0.20, 0.25, 0.90, 0.20, "ou"),
    "ɨ": (0.25, 0.60, 0.0, 0.20, "ih"), "ʉ": (0.20, 0.30, 0.80, 0.20, "ou"),
    "ɯ": (0.25, 0.55, 0.25, 0.20, "ou"), "u": (0.20, 0.15, 1.00, 0.25, "ou"),
    "ɪ": (0.32, 0.75, 0.0, 0.28, "ih"), "ʏ": (0.30, 0.30, 0.70, 0.28, "ou"),
    "ʊ": (0.30, 0.30, 0.70, 0.30, "ou"),
    "e": (0.45, 0.80, 0.0, 0.40, "E"), "ø": (0.40, 0.35, 0.80, 0.40, "oh"),
    "ɘ": (0.45, 0.55, 0.0, 0.40, "E"), "ɵ": (0.40, 0.40, 0.60, 0.40, "oh"),
    "ɤ": (0.45, 0.55, 0.10, 0.40, "E"), "o": (0.45, 0.30, 0.85, 0.45, "oh"),
    "ə": (0.42, 0.50, 0.0, 0.40, "E"), "ɚ": (0.38, 0.40, 0.40, 0.35, "RR"),
    "ɝ": (0.40, 0.40, 0.40, 0.38, "RR"),
    "ɛ": (0.65, 0.75, 0.0, 0.60, "E"), "œ": (0.60, 0.40, 0.70, 0.60, "oh"),
    "ɜ": (0.58, 0.50, 0.0, 0.55, "E"), "ɞ": (0.60, 0.40, 0.60, 0.60, "oh"),
    "ʌ": (0.68, 0.55, 0.0, 0.65, "aa"), "ɔ": (0.68, 0.35, 0.80, 0.68, "oh"),
    "æ": (0.85, 0.80, 0.0, 0.85, "aa"), "ɐ": (0.78, 0.55, 0.0, 0.78, "aa"),
    "a": (1.00, 0.65, 0.0, 1.00, "aa"), "ɶ": (0.90, 0.40, 0.60, 0.90, "oh"),
    "ɑ": (1.00, 0.50, 0.10, 1.00, "aa"), "ɒ": (0.90, 0.40, 0.60, 0.90, "oh"),
}
_CONS = {
    # bilabials: the lips close whatever the neighbours
    "p": (0.0, 0.50, None, 0.15, 2.0, "PP"), "b": (0.0, 0.50, None, 0.15, 2.0, "PP"),
    "m": (0.0, 0.50, None, 0.15, 2.0, "PP"), "ʙ": (0.0, 0.50, None, 0.15, 2.0, "PP"),
    "ɸ": (0.06, 0.50, None, 0.18, 2.0, "PP"), "β": (0.08, 0.50, None, 0.20, 1.5, "PP"),
    "f": (0.10, 0.50, 0.0, 0.18, 2.0, "FF"), "v": (0.10, 0.50, 0.0, 0.18, 2.0, "FF"),
    "ɱ": (0.08, 0.50, 0.0, 0.18, 2.0, "FF"), "ʋ": (0.15, 0.50, 0.0, 0.22, 1.5, "FF"),
    "θ": (0.22, 0.55, 0.0, 0.25, 1.0, "TH"), "ð": (0.22, 0.55, 0.0, 0.25, 1.0, "TH"),
    "t": (0.25, 0.55, None, 0.22, 0.4, "DD"), "d": (0.25, 0.55, None, 0.22, 0.4, "DD"),
    "ʈ": (0.25, 0.55, None, 0.22, 0.4, "DD"), "ɖ": (0.25, 0.55, None, 0.22, 0.4, "DD"),
    "c": (0.22, 0.60, None, 0.22, 0.5, "kk"), "ɟ": (0.22, 0.60, None, 0.22, 0.5, "kk"),
    "k": (0.30, 0.50, None, 0.30, 0.35, "kk"), "ɡ": (0.30, 0.50, None, 0.30, 0.35, "kk"),
    "g": (0.30, 0.50, None, 0.30, 0.35, "kk"), "q": (0.32, 0.50, None, 0.32, 0.3, "kk"),
    "ɢ": (0.32, 0.50, None, 0.32, 0.3, "kk"), "x": (0.30, 0.50, None, 0.30, 0.35, "kk"),
    "ɣ": (0.30, 0.50, None, 0.30, 0.35, "kk"), "χ": (0.32, 0.50, None, 0.32, 0.3, "kk"),
    "ʁ": (0.30, 0.45, None, 0.30, 0.35, "kk"), "ŋ": (0.28, 0.50, None, 0.28, 0.35, "kk"),
    "ɴ": (0.30, 0.50, None, 0.30, 0.3, "kk"), "ç": (0.22, 0.65, None, 0.22, 0.5, "kk"),
    "ʝ": (0.22, 0.65, None, 0.22, 0.5, "kk"),
    "n": (0.25, 0.55, None, 0.22, 0.4, "nn"), "ɳ": (0.25, 0.55, None, 0.22, 0.4, "nn"),
    "ɲ": (0.25, 0.60, None, 0.22, 0.4, "nn"), "l": (0.28, 0.55, None, 0.28, 0.5, "nn"),
    "ɭ": (0.28, 0.55, None, 0.28, 0.5, "nn"), "ʎ": (0.25, 0.60, None, 0.25, 0.5, "nn"),
    "ɫ": (0.30, 0.45, None, 0.30, 0.5, "nn"), "ɬ": (0.22, 0.55, None, 0.22, 0.6, "nn"),
    "ɮ": (0.22, 0.55, None, 0.22, 0.6, "nn"),
    "r": (0.25, 0.50, None, 0.25, 0.5, "RR"), "ɾ": (0.25, 0.50, None, 0.25, 0.3, "RR"),
    "ɽ": (0.25, 0.50, None, 0.25, 0.4, "RR"), "ɹ": (0.25, 0.40, 0.50, 0.25, 1.0, "RR"),
    "ɻ": (0.25, 0.40, 0.40, 0.25, 0.8, "RR"), "ʀ": (0.28, 0.45, None, 0.28, 0.3, "RR"),
    "s": (0.12, 0.62, 0.0, 0.12, 1.5, "SS"), "z": (0.12, 0.62, 0.0, 0.12, 1.5, "SS"),
    "ʂ": (0.15, 0.40, 0.50, 0.15, 1.5, "CH"), "ʐ": (0.15, 0.40, 0.50, 0.15, 1.5, "CH"),
    "ʃ": (0.15, 0.35, 0.65, 0.15, 1.5, "CH"), "ʒ": (0.15, 0.35, 0.65, 0.15, 1.5, "CH"),
    "ɕ": (0.15, 0.45, 0.45, 0.15, 1.5, "CH"), "ʑ": (0.15, 0.45, 0.45, 0.15, 1.5, "CH"),
    "j": (0.22, 0.75, 0.0, 0.22, 0.6, "ih"), "w": (0.12, 0.15, 1.00, 0.20, 2.0, "ou"),
    "ʍ": (0.12, 0.15, 1.00, 0.20, 2.0, "ou"), "ɥ": (0.12, 0.20, 0.95, 0.20, 2.0, "ou"),
    "ɰ": (0.22, 0.50, 0.20, 0.22, 0.6, "ou"),
    # glottals take their neighbours' shape entirely
    "h": (0.45, 0.50, None, 0.45, 0.05, None), "ɦ": (0.45, 0.50, None, 0.45, 0.05, None),
    "ʔ": (0.35, 0.50, None, 0.35, 0.05, None), "ħ": (0.45, 0.50, None, 0.45, 0.1, None),
    "ʕ": (0.45, 0.50, None, 0.45, 0.1, None),
}
_DROP = set("ˈˌːˑ-_'.|‖̯^")
# ASCII spellings eSpeak sometimes emits even in IPA mode
_ALIAS = {"ä": "a", "A": "ɑ", "E": "ɛ", "O": "ɔ", "I": "ɪ", "U": "ʊ", "V": "ʌ", "@": "ə",
          "3": "ɜ", "R": "ɾ", "ɹ̩": "ɹ", "ɚ": "ɚ", "ʲ": "j", "ʷ": "w", "ɐ̃": "ɐ", "ᵻ": "ɨ",
          "ɜ": "ɜ", "ʊ̈": "ʊ"}


def _symbols(phone: str) -> list[str]:
    """Base IPA symbols of one eSpeak phone string, diacritics and stress dropped."""
    out = []
    for ch in unicodedata.normalize("NFD", phone):
        if ch in _DROP or unicodedata.combining(ch):
            continue
        if ch in "ʲʷᵝʰ":
            # secondary articulations: labialisation rounds, the others barely matter
            if ch in "ʷᵝ":
                out.append("ʷ")
            continue
        ch = _ALIAS.get(ch, ch)
        if ch in _VOWELS or ch in _CONS:
            out.append(ch)
    return out


class Seg:
    __slots__ = ("start", "end", "ap", "wd", "rd", "jaw", "w", "vis", "closure", "vowel")

    def __init__(self, start, end, ap, wd, rd, jaw, w, vis, closure, vowel):
        self.start, self.end = start, end
        self.ap, self.wd, self.rd, self.jaw, self.w = ap, wd, rd, jaw, w
        self.vis, self.closure, self.vowel = vis, closure, vowel


def segments(phones, total_s: float) -> list[Seg]:
    """phones: [(ipa, start, end)]; pauses (empty strings, gaps) become rest segments."""
    segs: list[Seg] = []
    t = 0.0
    timeline = []
    for ph, a, b in sorted(phones, key=lambda p: p[1]):
        if a > t + 0.005:
            timeline.append(("", t, a))
        timeline.append((ph, a, b))
        t = max(t, b)
    if total_s > t + 0.005:
        timeline.append(("", t, total_s))
    # one pause, however many empty events eSpeak emitted for it
    merged = []
    for ph, a, b in timeline:
        if merged and not ph.strip(" _") and not merged[-1][0].strip(" _"):
            merged[-1] = ("", merged[-1][1], b)
        else:
            merged.append((ph, a, b))
    timeline = merged
    for ph, a, b in timeline:
        syms = _symbols(ph)
        if not syms and ph.strip(" _"):
            # a symbol this table does not know (or a lone diacritic): speech, neighbours' shape
            segs.append(Seg(a, b, 0.3, 0.5, None, 0.3, 0.05, None, 0.0, False))
            continue
        if not syms:
            dur = b - a
            # animators' pause rule: short gaps hold the shape, medium ones relax half-open,
            # long ones go to rest (the weight ramps up from the edges in frame_targets)
            if dur < 0.15:
                segs.append(Seg(a, b, 0.0, 0.5, 0.0, 0.0, 0.3, "sil", 0.0, False))
            elif dur < 0.35:
                segs.append(Seg(a, b, 0.12, 0.5, 0.0, 0.12, 1.5, "sil", 0.0, False))
            else:
                segs.append(Seg(a, b, 0.0, 0.5, 0.0, 0.0, 4.0, "sil", 0.0, False))
            continue
        labial = "ʷ" in syms
        syms = [s for s in syms if s != "ʷ"] or ["w"]
        # affricates and clusters in one phone (t+ʃ, d+z, t+h) look like their most visible part
        if all(s in _CONS for s in syms) and len(syms) > 1:
            syms = [max(syms, key=lambda s: _CONS[s][4])]
        n = len(syms)
        for k, s in enumerate(syms):
            sa, sb = a + (b - a) * k / n, a + (b - a) * (k + 1) / n
            if s in _VOWELS:
                ap, wd, rd, jaw, vis = _VOWELS[s]
                segs.append(Seg(sa, sb, ap, wd, rd, jaw, 1.0, vis, 0.0, True))
            else:
                ap, wd, rd, jaw, w, vis = _CONS[s]
                clos = 1.0 if vis == "PP" and ap == 0.0 else (0.5 if vis == "PP" else 0.0)
                segs.append(Seg(sa, sb, ap, wd, rd, jaw, w, vis, clos, False))
            if labial:
                segs[-1].rd = 0.9
    # fill context-dependent fields (rounding None, viseme None) from the nearest vowel
    vowel_idx = [i for i, s in enumerate(segs) if s.vowel]
    for i, s in enumerate(segs):
        if s.rd is None or s.vis is None:
            near = min(vowel_idx, key=lambda j: (abs(j - i), j < i), default=None)
            v = segs[near] if near is not None and abs(near - i) <= 2 else None
            if s.rd is None:
                s.rd = 0.6 * v.rd if v is not None else 0.0
            if s.vis is None:
                s.vis = v.vis if v is not None else "sil"
    return segs


# Real mouths move smoothly (jaw and lips are heavy, their motion sits below ~7 Hz) and ahead
# of the sound they shape: the opening for a vowel starts in the consonant before it, and
# measured audio-visual asynchrony in running speech is a visual lead of a few tens of ms
# (Schwartz & Savariaux 2014, PLoS Comput Biol 10:e1003743; longer, 100-300 ms, at phrase
# onsets: Chandrasekaran et al. 2009). The shape targets are therefore low-passed and lead the
# acoustic phone times; closures stay where the sound says the lips are sealed.
LEAD_S = 0.04
SMOOTH_S = 0.025


def _lowpass(v: np.ndarray, sigma_frames: float) -> np.ndarray:
    """Zero-phase Gaussian smoothing along the last axis, edges held."""
    if sigma_frames <= 0:
        return v
    r = int(np.ceil(3 * sigma_frames))
    g = np.exp(-0.5 * (np.arange(-r, r + 1) / sigma_frames) ** 2)
    g /= g.sum()
    pad = np.pad(v, [(0, 0)] * (v.ndim - 1) + [(r, r)], mode="edge")
    return np.apply_along_axis(lambda row: np.convolve(row, g, mode="valid"), -1, pad)


def _centred(v: np.ndarray, g: np.ndarray) -> np.ndarray:
    """Convolution with an odd kernel, centred, as long as `v` even when `v` is shorter than the
    kernel (numpy's mode="same" returns the longer of the two)."""
    h = len(g) // 2
    return np.convolve(v, g, mode="full")[h:h + len(v)]


def frame_targets(phones, total_s: float, hop_s: float = 0.01, lead_s: float = LEAD_S,
                  smooth_s: float = SMOOTH_S):
    """Per-frame targets at times i * hop_s.

    Returns dict of float32 arrays: aperture, width, rounding, jaw, closure, speech (T,) and
    viseme (T,) int64 class index. The four shape targets lead the phone times by `lead_s` and
    are smoothed with a Gaussian of `smooth_s` (see LEAD_S); closure, speech and viseme follow
    the phone times.
    """
    segs = segments(phones, total_s)
    t = np.arange(int(round(total_s / hop_s)) + 1) * hop_s
    num = np.zeros((4, len(t)))
    den = np.full(len(t), 1e-6)
    closure = np.zeros(len(t))
    speech = np.zeros(len(t))
    vis = np.zeros(len(t), np.int64)
    for s in segs:
        # kernel: 1 inside the segment, a Gaussian reach outside it (coarticulation)
        dist = np.maximum(0.0, np.maximum(s.start - t, t - s.end))
        # vowels reach further into their neighbours than consonants do
        sigma = 0.04 if s.vowel else (0.03 if s.vis == "sil" else 0.02)
        k = s.w * np.exp(-0.5 * (dist / sigma) ** 2)
        if s.vis == "sil" and s.w > 1.0:
            # lips leave the last shape gradually and open ahead of the next phrase
            edge = np.minimum(t - s.start, s.end - t)
            k = np.where(dist > 0, k, s.w * np.clip(edge / 0.12, 0.03, 1.0))
        num += k * np.array([s.ap, s.wd, s.rd, s.jaw])[:, None]
        den += k
        inside = (t >= s.start) & (t < s.end)
        if s.vis != "sil":
            speech[inside] = 1.0
        closure[inside] = np.maximum(closure[inside], s.closure)
        vis[inside] = V[s.vis]
    vals = num / den
    shift = int(round(lead_s / hop_s))
    if shift > 0:
        vals = np.concatenate([vals[:, shift:], np.repeat(vals[:, -1:], shift, axis=1)],
                              axis=1)[:, :len(t)]
    vals = _lowpass(vals, smooth_s / hop_s)
    # lips sealed in the core of a bilabial: opening is zero there, and ramps around it
    g = np.exp(-0.5 * (np.arange(-4, 5) * hop_s / 0.015) ** 2)
    g /= g.sum()
    seal = _centred((closure >= 1.0).astype(float), g)
    vals[0] *= 1.0 - np.clip(seal * 1.6, 0, 1)
    clos_soft = _centred(closure, g)
    return {"aperture": vals[0].astype(np.float32), "width": vals[1].astype(np.float32),
            "rounding": vals[2].astype(np.float32), "jaw": vals[3].astype(np.float32),
            "closure": np.clip(clos_soft, 0, 1).astype(np.float32),
            "speech": speech.astype(np.float32), "viseme": vis}
