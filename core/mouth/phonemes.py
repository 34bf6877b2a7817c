"""eSpeak IPA phones -> articulatory features -> visemes, Rhubarb shapes and mouth targets.

Every eSpeak NG language spells its phones in IPA, so the mouth only needs to know IPA itself:
a phone string is decomposed (NFD) into base symbols and diacritics, each base symbol is looked up
in one table of consonants (place, manner) and vowels (height, backness, rounding), and the
diacritics adjust them (length, stress, nasalisation, labialisation, lowering/raising). Strings
with several base symbols are affricates ("tʃ", "dʒ", "ts") or diphthongs ("aɪ", "ɑu"); they become
several timed parts. No per-language table is needed; an unknown symbol degrades to a neutral,
low-dominance segment rather than failing.
"""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from .visemes import SHAPE_TARGET, VISEME_TARGET

# ---- consonants: symbol -> (place, manner) --------------------------------------------------
# place: bilabial labiodental dental alveolar postalveolar retroflex palatal velar uvular
#        pharyngeal glottal labialvelar
# manner: stop nasal fricative affricate approximant lateral trill tap click
_C: dict[str, tuple[str, str]] = {}


def _add(symbols: str, place: str, manner: str) -> None:
    for s in symbols:
        _C[s] = (place, manner)


_add("pbɓ", "bilabial", "stop")
_add("m", "bilabial", "nasal")
_add("ʙ", "bilabial", "trill")
_add("ɸβ", "bilabial", "fricative")
_add("fv", "labiodental", "fricative")
_add("ɱ", "labiodental", "nasal")
_add("ʋ", "labiodental", "approximant")
_add("ⱱ", "labiodental", "tap")
_add("θð", "dental", "fricative")
_add("tdɗ", "alveolar", "stop")
_add("n", "alveolar", "nasal")
_add("sz", "alveolar", "fricative")
_add("ɬɮ", "alveolar", "fricative")
_add("ɹ", "alveolar", "approximant")   # English-like r: lips rounded a little
_add("r", "alveolar", "trill")
_add("ɾɺ", "alveolar", "tap")
_add("lɫ", "alveolar", "lateral")
_add("ʦʣ", "alveolar", "affricate")
_add("ʃʒ", "postalveolar", "fricative")
_add("ʧʤ", "postalveolar", "affricate")
_add("ɕʑ", "postalveolar", "fricative")  # alveolo-palatal: looks like sh
_add("ʨʥ", "postalveolar", "affricate")
_add("ʈɖ", "retroflex", "stop")
_add("ɳ", "retroflex", "nasal")
_add("ʂʐ", "retroflex", "fricative")
_add("ɻ", "retroflex", "approximant")
_add("ɭ", "retroflex", "lateral")
_add("ɽ", "retroflex", "tap")
_add("cɟ", "palatal", "stop")
_add("ɲ", "palatal", "nasal")
_add("çʝ", "palatal", "fricative")
_add("j", "palatal", "approximant")
_add("ʎ", "palatal", "lateral")
_add("kgɡ", "velar", "stop")
_add("ŋ", "velar", "nasal")
_add("xɣ", "velar", "fricative")
_add("ɰ", "velar", "approximant")
_add("ʟ", "velar", "lateral")
_add("qɢ", "uvular", "stop")
_add("ɴ", "uvular", "nasal")
_add("χʁ", "uvular", "fricative")
_add("ʀ", "uvular", "trill")
_add("ħʕ", "pharyngeal", "fricative")
_add("hɦ", "glottal", "fricative")
_add("ʔ", "glottal", "stop")
_add("wʍ", "labialvelar", "approximant")
_add("ɥ", "labialpalatal", "approximant")
_add("ʘǀǃǂǁ", "alveolar", "click")
_add("?", "glottal", "stop")            # ASCII glottal stop (some voices, e.g. Oromo)

# ---- vowels: symbol -> (height 0 close..1 open, backness 0 front..1 back, rounded) ------------
_V: dict[str, tuple[float, float, bool]] = {
    "i": (0.0, 0.0, False), "y": (0.0, 0.0, True), "ɨ": (0.0, 0.5, False), "ʉ": (0.0, 0.5, True),
    "ɯ": (0.0, 1.0, False), "u": (0.0, 1.0, True),
    "ɪ": (0.15, 0.15, False), "ʏ": (0.15, 0.15, True), "ʊ": (0.15, 0.85, True),
    "ᵻ": (0.1, 0.5, False), "ᵿ": (0.1, 0.5, True),
    "e": (0.33, 0.0, False), "ø": (0.33, 0.0, True), "ɘ": (0.33, 0.5, False),
    "ɵ": (0.33, 0.5, True), "ɤ": (0.33, 1.0, False), "o": (0.33, 1.0, True),
    "ə": (0.5, 0.5, False), "ɚ": (0.5, 0.5, False),
    "ɛ": (0.66, 0.0, False), "œ": (0.66, 0.0, True), "ɜ": (0.66, 0.5, False),
    "ɝ": (0.66, 0.5, False), "ɞ": (0.66, 0.5, True), "ʌ": (0.66, 1.0, False),
    "ɔ": (0.66, 1.0, True),
    "æ": (0.83, 0.0, False), "ɐ": (0.8, 0.5, False),
    "a": (1.0, 0.2, False), "ɶ": (1.0, 0.0, True), "ɑ": (1.0, 1.0, False), "ɒ": (1.0, 1.0, True),
    # eSpeak's ASCII-ish spellings that some voices still emit
    "A": (1.0, 1.0, False), "E": (0.66, 0.0, False), "I": (0.15, 0.15, False),
    "O": (0.66, 1.0, True), "U": (0.15, 0.85, True), "V": (0.66, 1.0, False),
    "@": (0.5, 0.5, False), "3": (0.66, 0.5, False),
    # Greek letters some voices use for IPA look-alikes (Danish "ε")
    "ε": (0.66, 0.0, False), "ɩ": (0.15, 0.15, False), "ɷ": (0.15, 0.85, True),
}
_RHOTIC_VOWELS = set("ɚɝ")

# Diacritics and modifier letters (after NFD).
_STRESS = set("ˈˌ'\u02c8\u02cc")
_LENGTH = set("ːˑ:")
_NASAL = {"\u0303"}                       # combining tilde: ã
_LOWER = {"\u031e"}                       # ̞ lowered
_RAISE = {"\u031d"}                       # ̝ raised
_CENTRAL = {"\u0308"}                     # ̈ centralised: ä
_ROUND_MORE = {"\u0339", "ʷ", "ᵝ", "ᶣ"}   # ̹ more rounded, labialised, compressed
_ROUND_LESS = {"\u031c"}                  # ̜ less rounded
_PALATAL = {"ʲ"}
_IGNORED_MARKS = set("ʰʱˠˤ̩̯̥̬̪̺̻̠̟̘̙͜͡ʼ̚-~^.|‖̃ʴ˞")
_PAUSES = {"", "_", "__", "sil", "sp", "pau", " "}
# A modifier letter eSpeak NG's phoneme events give as a phone of its own (Irish and Lithuanian
# "ʲ", Latin "ʰ") is the glide or breath it marks, not an unknown sound.
_LONE_MODIFIER = {"ʲ": "j", "ʰ": "h", "ʷ": "w"}


@dataclass(frozen=True)
class Features:
    kind: str                      # "vowel", "consonant", "pause", "unknown"
    place: str = ""
    manner: str = ""
    height: float = 0.5
    backness: float = 0.5
    rounded: bool = False
    nasal: bool = False
    long: bool = False
    stressed: bool = False
    rhotic: bool = False
    labialised: bool = False
    palatalised: bool = False
    symbol: str = ""

    @property
    def closure(self) -> bool:
        """Lips fully closed: p, b, m (and bilabial trills/implosives)."""
        return self.kind == "consonant" and self.place == "bilabial" and \
            self.manner in ("stop", "nasal", "trill")


@dataclass(frozen=True)
class Part:
    """One visual target inside a phone: `share` of the phone's duration, in order."""
    features: Features
    share: float
    viseme: str
    shape: str
    target: tuple[float, float, float, float]


def parse_phone(phone: str) -> list[Features]:
    """Features of each base segment of an eSpeak IPA phone string ([] only for empty input)."""
    return list(_parse(phone))


@lru_cache(maxsize=4096)
def _parse(phone: str) -> tuple[Features, ...]:
    text = (phone or "").strip()
    if text in _PAUSES or (text.startswith("(") and text.endswith(")")):
        return (Features("pause", symbol=text),)
    text = unicodedata.normalize("NFD", text)
    # ASCII affricate spellings map to the single ligature symbols first.
    stressed = any(c in _STRESS for c in text)
    long = any(c in _LENGTH for c in text)
    segs: list[dict] = []
    for ch in text:
        if ch in _STRESS or ch in _LENGTH:
            continue
        if ch in _C or ch in _V:
            segs.append({"sym": ch, "mods": set()})
        elif segs:
            segs[-1]["mods"].add(ch)
        # a diacritic before any base symbol (rare) is dropped
    if not segs and text in _LONE_MODIFIER:
        segs.append({"sym": _LONE_MODIFIER[text], "mods": set()})
    out = []
    for s in segs:
        out.append(_features(s["sym"], s["mods"], stressed, long))
    if not out:
        return (Features("unknown", symbol=text),)
    return tuple(out)


def _features(sym: str, mods: set, stressed: bool, long: bool) -> Features:
    labialised = bool(mods & _ROUND_MORE)
    if sym in _V:
        h, b, r = _V[sym]
        if mods & _LOWER:
            h = min(1.0, h + 0.12)
        if mods & _RAISE:
            h = max(0.0, h - 0.12)
        if mods & _CENTRAL:
            b = 0.5
        if labialised:
            r = True
        if mods & _ROUND_LESS:
            r = False
        return Features("vowel", height=h, backness=b, rounded=r, nasal=bool(mods & _NASAL),
                        long=long, stressed=stressed, rhotic=sym in _RHOTIC_VOWELS or "˞" in mods,
                        labialised=labialised, symbol=sym)
    place, manner = _C[sym]
    return Features("consonant", place=place, manner=manner, nasal=manner == "nasal",
                    long=long, stressed=stressed, labialised=labialised,
                    palatalised=bool(mods & _PALATAL), rhotic=sym in "ɹɻ", symbol=sym)


# ---- features -> viseme / shape / target ----------------------------------------------------
def viseme_of(f: Features) -> str:
    if f.kind in ("pause", "unknown"):
        return "sil"
    if f.kind == "vowel":
        if f.rhotic:
            return "RR"
        if f.rounded:
            return "ou" if f.height <= 0.2 else "oh"
        if f.height >= 0.75 or (f.height >= 0.6 and f.backness >= 0.6):
            return "aa"
        if f.height >= 0.3:
            return "E"
        return "ih"
    p, m = f.place, f.manner
    if p == "bilabial":
        return "PP"
    if p == "labiodental":
        return "FF"
    if p in ("labialvelar", "labialpalatal"):
        return "ou"
    if p == "dental":
        return "TH"
    if f.rhotic:
        return "RR"
    if p == "postalveolar" or (p == "retroflex" and m in ("fricative", "affricate")):
        return "CH"
    if p in ("alveolar", "retroflex"):
        if m in ("fricative", "affricate"):
            return "SS"
        if m in ("nasal", "lateral"):
            return "nn"
        return "DD"
    if p == "palatal":
        if m == "approximant":
            return "ih"
        if m == "fricative":
            return "SS"
        return "nn" if m in ("nasal", "lateral") else "kk"
    if p in ("velar", "uvular"):
        return "nn" if m == "nasal" else "kk"
    return "kk"   # pharyngeal, glottal: take the neighbours' shape through low dominance


def shape_of(f: Features) -> str:
    """Rhubarb's shape for a segment (A closed, B slightly open, C open, D wide, E rounded,
    F puckered, G f/v, H l, X rest)."""
    if f.kind in ("pause", "unknown"):
        return "X"
    if f.kind == "vowel":
        if f.rhotic:
            return "E"
        if f.rounded:
            return "F" if f.height <= 0.35 else "E"
        if f.height >= 0.75 or (f.height >= 0.6 and f.backness >= 0.6):
            return "D"
        if f.height >= 0.3:
            return "C"
        return "B"
    if f.closure:
        return "A"
    if f.place == "labiodental":
        return "G"
    if f.place in ("labialvelar", "labialpalatal") or f.labialised:
        return "F"
    if f.manner == "lateral" and f.place in ("alveolar", "retroflex"):
        return "H"
    if f.rhotic:
        return "E"
    return "B"


def target_of(f: Features) -> tuple[float, float, float, float]:
    """(aperture, width, rounding, jaw) the mouth heads for on this segment."""
    if f.kind == "vowel":
        # Openness follows height; reduced central vowels (schwa) open less than their height says.
        # A close vowel still opens the lips past the consonants around it (i about 0.4 of a):
        # from 0.18 (below most consonants' 0.2-0.3) to 0.36 raised the track's correlation
        # with the true phones' opening (lipeval timing r at lag 0) from 0.69-0.77 to 0.77-0.83
        # on es/de/fr dubs; 0.42 (i about 0.45 of a) with the two-frame closures, +0.001-0.003.
        ap = 0.42 + 0.58 * f.height
        if f.symbol in ("ə", "ɚ", "@") and not f.stressed:
            ap -= 0.08
        if f.stressed:
            ap += 0.05
        rnd = (0.75 + 0.2 * (1.0 - f.height)) if f.rounded else 0.05 * f.backness
        width = 0.72 - 0.22 * f.backness
        if f.rounded:
            width = 0.22 + 0.15 * f.height
            ap *= 0.8 if f.height < 0.5 else 0.9   # rounding narrows the opening too
        if f.rhotic:
            rnd, width = max(rnd, 0.45), min(width, 0.4)
        jaw = min(1.0, 0.08 + 0.9 * f.height)
        return (_c(ap), _c(width), _c(rnd), _c(jaw))
    if f.kind in ("pause", "unknown"):
        return SHAPE_TARGET["X"]
    ap, width, rnd, jaw = VISEME_TARGET[viseme_of(f)]
    if f.place in ("labialvelar", "labialpalatal"):
        ap, width, rnd, jaw = 0.16, 0.16, 1.0, 0.16
    if f.labialised:
        rnd, width = max(rnd, 0.6), min(width, 0.35)
    if f.palatalised:
        width = max(width, 0.62)
    if f.manner == "lateral" and f.place == "alveolar":
        ap, jaw = 0.32, 0.3
    return (ap, width, rnd, jaw)


def _c(x: float) -> float:
    return min(max(float(x), 0.0), 1.0)


@lru_cache(maxsize=4096)
def phone_parts(phone: str) -> tuple[Part, ...]:
    """The visual targets of one phone, with the share of its duration each takes.

    Affricates spend about 40% in the stop and 60% in the fricative; diphthongs about 55% on the
    first vowel, the glide taking the rest (a consonant-vowel-like blend results from
    coarticulation between the parts)."""
    feats = _parse(phone)
    n = len(feats)
    if n == 1:
        shares = [1.0]
    elif n == 2 and feats[0].kind == "consonant" and feats[1].kind == "consonant":
        shares = [0.4, 0.6]
    elif n == 2:
        shares = [0.55, 0.45]
    else:
        shares = [1.0 / n] * n
    return tuple(Part(f, s, viseme_of(f), shape_of(f), target_of(f)) for f, s in zip(feats, shares))
