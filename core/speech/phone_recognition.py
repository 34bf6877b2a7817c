"""Phones heard in a dub by pocketsphinx's phone decoder, as IPA with times.

pocketsphinx ships an acoustic model trained on recorded English speech and a phone bigram
(`en-us-phone.lm.bin`); decoding with it ("allphone" mode) needs no script. Its phone labels
are English, but on any language they are good broad classes (open vowel, rounded vowel,
bilabial, fricative, silence), and they come from a model of real voices: the audio-only
path's other source, the small network, learned only from synthetic speech.

Decoding a long dub is split at quiet frames into pieces, decoded in forked worker processes
when the process is single-threaded (pocketsphinx holds the GIL, so threads would not help).
"""
from __future__ import annotations

import os
import pickle
import signal
import threading

import numpy as np

from lipflap.contract.errors import LipflapError

RATE = 16000
FRAME_S = 0.01
# The CMU tutorial's settings for phone recognition; wider beams than the defaults matter
# because the phone bigram is a weak guide.
_DECODER = {"lw": 2.0, "beam": 1e-20, "pbeam": 1e-20}
# A piece longer than this is split again: bounds the decoder's per-utterance memory.
MAX_PIECE_S = 30.0
_PARALLEL_FROM_S = 8.0

# pocketsphinx's CMU phone set (ARPAbet), lower-cased, -> IPA for lipflap.speech.articulation
ARPABET_IPA = {
    "aa": "ɑ", "ae": "æ", "ah": "ʌ", "ao": "ɔ", "aw": "aʊ", "ax": "ə", "axr": "ɚ", "ay": "aɪ",
    "eh": "ɛ", "er": "ɝ", "ey": "eɪ", "ih": "ɪ", "iy": "i", "ow": "oʊ", "oy": "ɔɪ", "uh": "ʊ",
    "uw": "u", "b": "b", "ch": "tʃ", "d": "d", "dh": "ð", "dx": "ɾ", "f": "f", "g": "ɡ",
    "hh": "h", "jh": "dʒ", "k": "k", "l": "l", "m": "m", "n": "n", "ng": "ŋ", "p": "p",
    "r": "ɹ", "s": "s", "sh": "ʃ", "t": "t", "th": "θ", "v": "v", "w": "w", "y": "j", "z": "z",
    "zh": "ʒ", "el": "əl", "em": "əm", "en": "ən", "nx": "ɾ",
}


def _model_paths():
    try:
        from pocketsphinx import get_model_path
    except ImportError as e:   # a broken install, not a user error
        raise LipflapError("pocketsphinx is not installed; reinstall lipflap "
                           "(pip install -e .) to get it") from e
    root = get_model_path()
    hmm = os.path.join(root, "en-us", "en-us")
    lm = os.path.join(root, "en-us", "en-us-phone.lm.bin")
    if not (os.path.isdir(hmm) and os.path.isfile(lm)):
        raise LipflapError(f"pocketsphinx's English model is missing under {root}; reinstall "
                           "pocketsphinx (pip install --force-reinstall pocketsphinx)")
    return hmm, lm


def _decode(x16: np.ndarray) -> list[tuple[str, float, float]]:
    from pocketsphinx import Decoder
    hmm, lm = _model_paths()
    dec = Decoder(hmm=hmm, allphone=lm, loglevel="FATAL", **_DECODER)
    pcm = (np.clip(x16, -1.0, 1.0) * 32767.0).astype(np.int16).tobytes()
    dec.start_utt()
    dec.process_raw(pcm, full_utt=True)
    dec.end_utt()
    out = []
    # a stretch too short to decode has no segmentation at all
    for seg in dec.seg() or ():
        name = seg.word.lower()
        # SIL and fillers (+NSN+, +SPN+, +BREATH+ ...) are no mouth shape: a pause
        ipa = ARPABET_IPA.get(name, "")
        out.append((ipa, seg.start_frame * FRAME_S, (seg.end_frame + 1) * FRAME_S))
    return out


def split_points(x16: np.ndarray, max_s: float = MAX_PIECE_S, pieces: int = 1) -> list[int]:
    """Sample indices [0, ..., len] cutting the audio into at least `pieces` parts of at most
    `max_s`, each cut at the quietest 10 ms frame within a second of the even cut (a cut in a
    pause loses nothing; one inside a phone at worst splits that phone)."""
    n = len(x16)
    parts = max(int(pieces), int(np.ceil(n / (max_s * RATE))), 1)
    hop = int(FRAME_S * RATE)
    cuts = [0]
    for k in range(1, parts):
        even = k * n // parts
        lo, hi = max(cuts[-1] + hop, even - RATE), min(n - hop, even + RATE)
        if hi <= lo:
            continue
        frames = x16[lo:hi - (hi - lo) % hop].reshape(-1, hop)
        cuts.append(lo + int(np.argmin((frames.astype(np.float64) ** 2).sum(axis=1))) * hop)
    cuts.append(n)
    return cuts


def _decode_pieces(x16, cuts, idx):
    out = []
    for i in idx:
        a, b = cuts[i], cuts[i + 1]
        off = a / RATE
        out += [(p, s + off, e + off) for p, s, e in _decode(x16[a:b])]
    return out


def _forked(x16, cuts, idx):
    """Decode pieces `idx` in a forked child; returns (pid, read fd)."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:   # child: never returns into the caller's code
        os.close(r)
        code = 1
        try:
            data = pickle.dumps(_decode_pieces(x16, cuts, idx))
            with os.fdopen(w, "wb") as f:
                f.write(data)
            code = 0
        finally:
            os._exit(code)
    os.close(w)
    return pid, r


def recognise(samples16: np.ndarray, workers: int = 2) -> list[tuple[str, float, float]]:
    """[(ipa, start_s, end_s)] over 16 kHz mono float samples; '' marks silence and noise.

    With workers > 1 and a dub longer than a few seconds, pieces are decoded in forked child
    processes (only from a single-threaded process: forking beside other threads can inherit a
    held lock). A child that fails has its pieces decoded here instead.
    """
    with start(samples16, workers) as pending:
        return pending.result()


def start(samples16: np.ndarray, workers: int = 2) -> "Pending":
    """Begin `recognise`: the forked children start decoding now, so the caller can do other work
    (the network's curves) before `result()` decodes this process's share and collects theirs.
    Use it as a context manager: leaving it early stops and reaps the children."""
    x16 = np.asarray(samples16, np.float32)
    workers = max(1, int(workers))
    long_enough = workers > 1 and len(x16) >= _PARALLEL_FROM_S * RATE
    # The cuts follow the dub alone, so the phones are the same whether the pieces are decoded
    # in forked children or here (from a thread of a busy process, which must not fork: a lock
    # held by another thread would be inherited held; lipflap run's mouth track runs beside
    # the picture analysis).
    parallel = long_enough and hasattr(os, "fork") and threading.active_count() == 1
    cuts = split_points(x16, pieces=workers if long_enough else 1) if len(x16) else [0, 0]
    pieces = list(range(len(cuts) - 1)) if len(x16) else []
    if not parallel or len(pieces) < 2:
        return Pending(x16, cuts, pieces, [])
    # one process per piece when there are fewer than two pieces a worker (63 s is 3 pieces:
    # dealt to 2 processes, one decoded 42 s while the other waited; 3 processes on 2 cores
    # share them evenly); more pieces are dealt round the workers. The cuts, and so the phones,
    # are the same either way (the decoder normalises over each piece, so recutting would
    # change them throughout).
    procs = len(pieces) if len(pieces) < 2 * workers else workers
    groups = [pieces[k::procs] for k in range(procs)]
    return Pending(x16, cuts, groups[0], [(_forked(x16, cuts, g), g) for g in groups[1:]])


class Pending:
    """Phones being decoded: this process's pieces and the forked children's (see `start`)."""

    def __init__(self, x16, cuts, own, children):
        self.x16, self.cuts, self.own, self.children = x16, cuts, own, children

    def result(self) -> list[tuple[str, float, float]]:
        found = _decode_pieces(self.x16, self.cuts, self.own)
        while self.children:
            (pid, fd), g = self.children[0]
            with os.fdopen(fd, "rb") as f:
                data = f.read()
            _, status = os.waitpid(pid, 0)
            self.children.pop(0)
            found += pickle.loads(data) if status == 0 and data else \
                _decode_pieces(self.x16, self.cuts, g)
        return sorted(found, key=lambda p: p[1])

    def __enter__(self) -> "Pending":
        return self

    def __exit__(self, *exc) -> None:
        for (pid, fd), _ in self.children:
            os.close(fd)
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            os.waitpid(pid, 0)
        self.children = []
