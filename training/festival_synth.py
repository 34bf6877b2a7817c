"""Festival speech with per-phone times, for training data made from recorded human voices.

eSpeak NG is a formant synthesiser: its spectra are clean rule-made formants over a simple
voice source, which is where a model trained on it alone differs most from a real dub. The
Festival voices packaged by Debian (`apt install festival festvox-kallpc16k ...`, see VOICES)
are diphone, unit-selection and HTS voices built from recordings of real speakers, so their
spectral detail, voice source and coarticulation come from human speech. Only the training
scripts use this; the engine never needs Festival.

One Festival process renders a whole batch from a generated Scheme script; per utterance it
writes a RIFF wave and the segment list (phone name, end time). Phone names are mapped to
IPA for lipflap.speech.articulation by a small table per phone set.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import wave

import numpy as np

from lipflap.speech.phone_recognition import ARPABET_IPA

# Phone set tables: Festival name -> IPA (after stress digits are dropped). An utterance with a
# name not in its table is dropped, and make_data counts the drops per voice.
# US/UK English "radio" set (kal, ked, slt): the CMU phone set pocketsphinx uses too
_RADIO = ARPABET_IPA
_ITALIAN = {  # festvox Italian (lp, pc)
    "a": "a", "e": "e", "E": "ɛ", "i": "i", "o": "o", "O": "ɔ", "u": "u", "w": "w", "j": "j",
    "b": "b", "d": "d", "dZ": "dʒ", "dz": "dz", "f": "f", "g": "ɡ", "k": "k", "l": "l",
    "L": "ʎ", "m": "m", "n": "n", "nf": "ɱ", "ng": "ŋ", "J": "ɲ", "p": "p", "r": "r", "s": "s",
    "S": "ʃ", "t": "t", "tS": "tʃ", "ts": "ts", "v": "v", "z": "z", "Z": "ʒ",
}
_FINNISH = {  # suopuhe Finnish (lj, mv); a trailing ":" marks length
    "a": "ɑ", "e": "e", "i": "i", "o": "o", "u": "u", "y": "y", "@": "æ", "2": "ø",
    "b": "b", "d": "d", "f": "f", "g": "ɡ", "h": "h", "j": "j", "k": "k", "l": "l", "m": "m",
    "n": "n", "N": "ŋ", "p": "p", "r": "r", "s": "s", "S": "ʃ", "t": "t", "v": "ʋ", "z": "z",
    "7": "ʔ", "##": "",
}
_CATALAN = {  # UPC Catalan (ona)
    "a": "a", "ax": "ə", "e": "e", "E": "ɛ", "i": "i", "o": "o", "O": "ɔ", "u": "u", "uw": "w",
    "w": "w", "j": "j", "y": "j", "b": "b", "B": "β", "d": "d", "D": "ð", "f": "f", "g": "ɡ",
    "G": "ɣ", "k": "k", "l": "l", "L": "ʎ", "m": "m", "n": "n", "J": "ɲ", "N": "ŋ", "p": "p",
    "r": "ɾ", "rr": "r", "s": "s", "S": "ʃ", "t": "t", "tS": "tʃ", "dZ": "dʒ", "ts": "ts",
    "dz": "dz", "v": "v", "z": "z", "Z": "ʒ", "x": "x",
}
_RUSSIAN = {  # MSU Russian (nsh): doubled letters are reduced vowels or palatalised consonants
    "a": "a", "aa": "a", "ay": "ɐ", "e": "e", "ee": "e", "i": "i", "ii": "i", "o": "o",
    "oo": "o", "u": "u", "uu": "u", "y": "ɨ", "yy": "ɨ", "b": "b", "bb": "b", "c": "ts",
    "ch": "tʃ", "d": "d", "dd": "d", "f": "f", "ff": "f", "g": "ɡ", "gg": "ɡ", "h": "x",
    "hh": "x", "j": "j", "k": "k", "kk": "k", "l": "ɫ", "ll": "l", "m": "m", "mm": "m",
    "n": "n", "nn": "n", "p": "p", "pp": "p", "r": "r", "rr": "r", "s": "s", "ss": "s",
    "sh": "ʂ", "sch": "ɕ", "t": "t", "tt": "t", "v": "v", "vv": "v", "z": "z", "zz": "z",
    "zh": "ʐ", "ae": "ɪ", "ur": "ə",
}
_CZECH = {  # Brailcom Czech (dita, krb, machac, ph): "~" palatal/post-alveolar, "*" an allophone
    "a": "a", "e": "ɛ", "i": "ɪ", "o": "o", "u": "u", "@": "ə", "b": "b", "c": "ts", "c~": "tʃ",
    "ch": "x", "d": "d", "d~": "ɟ", "dz": "dz", "dz~": "dʒ", "f": "f", "g": "ɡ", "h": "ɦ",
    "j": "j", "k": "k", "l": "l", "m": "m", "n": "n", "n*": "ŋ", "n~": "ɲ", "p": "p", "r": "r",
    "r~": "r", "r~*": "r", "s": "s", "s~": "ʃ", "t": "t", "t~": "c", "v": "v", "z": "z",
    "z~": "ʒ", "?": "ʔ",
}
_INDIC = {  # IIIT Hindi (nsk): aspirates and dentals share their plain consonant's lips
    "a": "ə", "aa": "a", "ih": "ɪ", "iy": "i", "uh": "ʊ", "uw": "u", "eh": "e", "ee": "e",
    "ay": "ɛ", "oh": "o", "oo": "o", "aw": "ɔ", "@": "ə", "f": "f", "k": "k", "kh": "k",
    "g": "ɡ", "gh": "ɡ", "ch": "tʃ", "j": "dʒ", "T": "ʈ", "D": "ɖ", "N": "ɳ", "th": "t",
    "tth": "t", "td": "t", "dh": "d", "ddh": "d", "n": "n", "p": "p", "b": "b", "bh": "b",
    "m": "m", "y": "j", "r": "ɾ", "l": "l", "v": "ʋ", "w": "w", "L": "ɭ", "R": "ɽ", "s": "s",
    "sh": "ʃ", "zh": "ʒ", "h": "ɦ", "ksh": "kʃ", "sri": "ʃɾ", "x": "x",
}
_PAUSES = {"pau", "#", "_", "sil", "h#", "brth"}

# (Festival voice, eSpeak/texts language code, text encoding, phone table, Debian package)
VOICES = [
    ("kal_diphone", "en", "latin-1", _RADIO, "festvox-kallpc16k"),
    ("ked_diphone", "en", "latin-1", _RADIO, "festvox-kdlpc16k"),
    ("cmu_us_slt_arctic_hts", "en", "latin-1", _RADIO, "festvox-us-slt-hts"),
    ("lp_diphone", "it", "latin-1", _ITALIAN, "festvox-italp16k"),
    ("pc_diphone", "it", "latin-1", _ITALIAN, "festvox-itapc16k"),
    ("suo_fi_lj_diphone", "fi", "latin-1", _FINNISH, "festvox-suopuhe-lj"),
    ("hy_fi_mv_diphone", "fi", "latin-1", _FINNISH, "festvox-suopuhe-mv"),
    ("upc_ca_ona_hts", "ca", "latin-1", _CATALAN, "festvox-ca-ona-hts"),
    ("msu_ru_nsh_clunits", "ru", "utf-8", _RUSSIAN, "festvox-ru"),
    ("czech_dita", "cs", "iso-8859-2", _CZECH, "festvox-czech-dita"),
    ("czech_krb", "cs", "iso-8859-2", _CZECH, "festvox-czech-krb"),
    ("czech_machac", "cs", "iso-8859-2", _CZECH, "festvox-czech-machac"),
    ("czech_ph", "cs", "iso-8859-2", _CZECH, "festvox-czech-ph"),
    ("hindi_NSK_diphone", "hi", "utf-8", _INDIC, "festvox-hi-nsk"),
]
PACKAGES = ["festival"] + [v[4] for v in VOICES]


def available() -> list[str]:
    """Names of the VOICES this machine's Festival has (empty when Festival is missing)."""
    if shutil.which("festival") is None:
        return []
    r = subprocess.run(["festival", "--pipe"], input="(print (voice.list))\n",
                       capture_output=True, text=True, timeout=60)
    have = set(r.stdout.replace("(", " ").replace(")", " ").split())
    return [v[0] for v in VOICES if v[0] in have]


def _table(voice: str):
    for v in VOICES:
        if v[0] == voice:
            return v
    raise ValueError(f"unknown Festival voice {voice!r}")


def to_ipa(name: str, table: dict) -> str | None:
    """IPA for one Festival phone name; '' for a pause, None when the table lacks it."""
    if name in _PAUSES:
        return ""
    base = name.rstrip("0123456789").rstrip(":") or name
    return table.get(base)


def _scheme_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


_HEAD = r"""
(define (lf_save_segs utt path)
  (let ((fd (fopen path "w")))
    (mapcar (lambda (s) (format fd "%s %f\n" (item.name s) (item.feat s "end")))
            (utt.relation.items utt 'Segment))
    (fclose fd)))
(define (lf_say i text stretch dir)
  (Parameter.set 'Duration_Stretch stretch)
  (unwind-protect
    (let ((utt (eval (list 'Utterance 'Text text))))
      (utt.synth utt)
      (utt.save.wave utt (string-append dir "/" i ".wav") 'riff)
      (lf_save_segs utt (string-append dir "/" i ".txt")))
    (format t "lipflap: failed %s\n" i)))
"""


def synth_batch(voice: str, texts: list[str], stretches: list[float], timeout_s: float = 1800):
    """Render `texts` with one Festival voice; returns one (samples float32, rate, phones) per
    text, None where Festival failed or produced a phone the table cannot map.
    phones: [(ipa, start_s, end_s)] with '' for pauses, as eSpeak's wrapper gives them."""
    _, _, enc, table, _ = _table(voice)
    with tempfile.TemporaryDirectory(prefix="lf_fest_") as td:
        lines = [_HEAD, f"(voice_{voice})"]
        for i, (t, s) in enumerate(zip(texts, stretches)):
            lines.append(f'(lf_say "{i}" {_scheme_string(t)} {float(s):.3f} "{td}")')
        script = os.path.join(td, "batch.scm")
        with open(script, "wb") as f:
            f.write("\n".join(lines).encode(enc, "replace"))
        subprocess.run(["festival", "-b", script], capture_output=True, timeout=timeout_s)
        return [_read(os.path.join(td, f"{i}.wav"), os.path.join(td, f"{i}.txt"), table)
                for i in range(len(texts))]


def _read(wav_path: str, seg_path: str, table: dict):
    if not (os.path.exists(wav_path) and os.path.exists(seg_path)):
        return None
    with wave.open(wav_path, "rb") as w:
        rate = w.getframerate()
        x = np.frombuffer(w.readframes(w.getnframes()), np.int16).astype(np.float32) / 32768.0
        if w.getnchannels() > 1:
            x = x.reshape(-1, w.getnchannels()).mean(axis=1)
    phones, t = [], 0.0
    for line in open(seg_path, encoding="latin-1"):
        parts = line.split()
        if len(parts) != 2:
            continue
        name, end = parts[0], float(parts[1])
        ipa = to_ipa(name, table)
        if ipa is None:
            return None
        if end > t:
            phones.append((ipa, t, end))
        t = max(t, end)
    if not phones or len(x) < rate // 10:
        return None
    return x, rate, phones
