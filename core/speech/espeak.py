"""eSpeak NG through its C API (the library and data shipped in the espeakng-loader wheel).

The library keeps one global synthesizer per process, so every call here takes one module lock;
calls from several threads are safe but run one at a time.  Phoneme times come from the
synthesizer's own phoneme events (espeakEVENT_PHONEME, IPA names), which are exact for the audio it
returns: that is what makes synthetic speech usable as a timed reference.
"""
from __future__ import annotations

import ctypes
import os
import threading

import numpy as np

from lipflap.contract.errors import LipflapError
from lipflap.speech.espeak_state import SynthState
from lipflap.speech.types import PAUSE, Phone

# speak_lib.h constants
_AUDIO_OUTPUT_SYNCHRONOUS = 2
_INIT_PHONEME_EVENTS = 0x0001
_INIT_PHONEME_IPA = 0x0002
_INIT_DONT_EXIT = 0x8000  # without it a missing data folder calls exit() inside the library
_CHARS_UTF8 = 1
_POS_CHARACTER = 1
_EV_LIST_TERMINATED = 0
_EV_WORD = 1
_EV_PHONEME = 7
_PARAM_RATE = 1
_PARAM_PITCH = 3
# espeakRATE, VOLUME, PITCH, RANGE, PUNCTUATION, CAPITALS, WORDGAP: all set on every call, so a
# setting left by an earlier call (or by another user of the library in the process) never leaks.
_PARAMS = (1, 2, 3, 4, 5, 6, 7)
_EE_OK = 0

RATE_MIN, RATE_MAX = 80, 450  # words per minute, espeakRATE_MINIMUM/MAXIMUM


class _EventId(ctypes.Union):
    _fields_ = [("number", ctypes.c_int), ("name", ctypes.c_char_p), ("string", ctypes.c_char * 8)]


class _Event(ctypes.Structure):
    _fields_ = [("type", ctypes.c_int), ("unique_identifier", ctypes.c_uint),
                ("text_position", ctypes.c_int), ("length", ctypes.c_int),
                ("audio_position", ctypes.c_int), ("sample", ctypes.c_int),
                ("user_data", ctypes.c_void_p), ("id", _EventId)]


class _Voice(ctypes.Structure):
    # `languages` is a list of (priority byte, NUL-terminated name) pairs, so it is read by hand.
    _fields_ = [("name", ctypes.c_char_p), ("languages", ctypes.c_void_p),
                ("identifier", ctypes.c_char_p), ("gender", ctypes.c_ubyte),
                ("age", ctypes.c_ubyte), ("variant", ctypes.c_ubyte), ("xx1", ctypes.c_ubyte),
                ("score", ctypes.c_int), ("spare", ctypes.c_void_p)]


_SynthCallback = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int,
                                  ctypes.POINTER(_Event))


class _Engine:
    """The process-wide synthesizer: loaded once, used only under _LOCK."""

    def __init__(self) -> None:
        try:
            import espeakng_loader
        except ImportError as exc:  # pragma: no cover - a dependency of the package
            raise LipflapError("eSpeak NG is not installed; reinstall lipflap so that the "
                               "espeakng-loader package is present.") from exc
        self.data_path = espeakng_loader.get_data_path()
        lib = ctypes.CDLL(espeakng_loader.get_library_path())
        lib.espeak_Initialize.restype = ctypes.c_int
        lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
        lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        lib.espeak_SetVoiceByName.restype = ctypes.c_int
        lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
        lib.espeak_GetParameter.argtypes = [ctypes.c_int, ctypes.c_int]
        lib.espeak_GetParameter.restype = ctypes.c_int
        lib.espeak_Synth.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_uint, ctypes.c_int,
                                     ctypes.c_uint, ctypes.c_uint, ctypes.c_void_p, ctypes.c_void_p]
        lib.espeak_Synth.restype = ctypes.c_int
        lib.espeak_ListVoices.argtypes = [ctypes.c_void_p]
        lib.espeak_ListVoices.restype = ctypes.POINTER(ctypes.POINTER(_Voice))
        rate = lib.espeak_Initialize(_AUDIO_OUTPUT_SYNCHRONOUS, 0,
                                     os.path.dirname(self.data_path).encode()
                                     if os.path.basename(self.data_path) == "espeak-ng-data"
                                     else self.data_path.encode(),
                                     _INIT_PHONEME_EVENTS | _INIT_PHONEME_IPA | _INIT_DONT_EXIT)
        if rate <= 0:
            raise LipflapError(f"eSpeak NG could not load its data from {self.data_path}; "
                               "reinstall the espeakng-loader package.")
        self.lib = lib
        # Taken before any synthesis: every call starts from this state (see espeak_state).
        self.state = SynthState(lib, espeakng_loader.get_library_path())
        self.sample_rate = int(rate)
        self.defaults = {p: lib.espeak_GetParameter(p, 0) for p in _PARAMS}
        self.default_rate = self.defaults[_PARAM_RATE]
        self.default_pitch = self.defaults[_PARAM_PITCH]
        self._samples: list[bytes] = []
        self._events: list[tuple[int, int, int, int, bytes]] = []
        self._callback = _SynthCallback(self._on_audio)  # kept referenced for the library's sake
        lib.espeak_SetSynthCallback(self._callback)
        self.languages = self._read_languages()

    def _on_audio(self, wav, n, events) -> int:
        if n > 0 and wav:
            self._samples.append(ctypes.string_at(wav, 2 * n))
        i = 0
        while events[i].type != _EV_LIST_TERMINATED:
            e = events[i]
            if e.type in (_EV_WORD, _EV_PHONEME):
                name = e.id.string if e.type == _EV_PHONEME else b""
                self._events.append((e.type, e.text_position, e.length, e.sample, name))
            i += 1
        return 0

    def _read_languages(self) -> dict[str, str]:
        voices = self.lib.espeak_ListVoices(None)
        best: dict[str, tuple[int, str]] = {}
        i = 0
        while voices[i]:
            v = voices[i].contents
            name = (v.name or b"").decode("utf-8", "replace").replace("_", " ")
            p = v.languages
            while p:
                priority = ctypes.c_ubyte.from_address(p).value
                if priority == 0:
                    break
                raw = ctypes.string_at(p + 1)
                code = raw.decode("utf-8", "replace").lower()
                # A code is named after the voice that prefers it most (lowest priority number):
                # "en" is English (Great Britain), not one of the regional voices that accept it.
                if code not in best or priority < best[code][0]:
                    best[code] = (priority, name)
                p += 2 + len(raw)
            i += 1
        return {code: name for code, (_, name) in best.items()}

    def set_voice(self, language: str, variant: str | None) -> None:
        # The library ignores an unknown "+variant" silently, so variants are checked by file.
        if variant and variant not in list_variants():
            raise LipflapError(f"unknown eSpeak voice variant '{variant}'; use one of: "
                               f"{', '.join(list_variants()[:12])}, ...")
        name = language if not variant else f"{language}+{variant}"
        if self.lib.espeak_SetVoiceByName(name.encode("utf-8")) != _EE_OK:
            raise LipflapError(_unknown(language))

    def synth(self, text: str) -> tuple[np.ndarray, list]:
        self._samples = []
        self._events = []
        # Re-register every time: anything else in the process that drives the same library
        # (e.g. eval/make_dub.py) replaces the global callback.
        self.lib.espeak_SetSynthCallback(self._callback)
        # The same text, voice and settings give the same samples whatever was spoken before.
        self.state.restore()
        data = text.encode("utf-8") + b"\0"
        buf = ctypes.create_string_buffer(data, len(data))
        err = self.lib.espeak_Synth(buf, len(data), 0, _POS_CHARACTER, 0, _CHARS_UTF8, None, None)
        self.lib.espeak_Synchronize()
        if err != _EE_OK:
            raise LipflapError(f"eSpeak NG failed to synthesize the text (error {err}); "
                               "check that the text is plain UTF-8.")
        pcm = np.frombuffer(b"".join(self._samples), dtype=np.int16)
        samples = pcm.astype(np.float32) / 32768.0
        return samples, self._events


_LOCK = threading.RLock()
_ENGINE: _Engine | None = None


def _engine() -> _Engine:
    global _ENGINE
    with _LOCK:
        if _ENGINE is None:
            _ENGINE = _Engine()
        return _ENGINE


def _unknown(code: str) -> str:
    return (f"unknown language '{code}'; run `lipflap visemes --list-languages` to see the "
            "supported codes")


def list_languages() -> list[tuple[str, str]]:
    """(code, name) for every language eSpeak NG speaks, sorted by code."""
    with _LOCK:
        return sorted(_engine().languages.items())


def list_variants() -> list[str]:
    """Voice variant names usable as `variant=` ("f3", "m2", "klatt", ...)."""
    import espeakng_loader

    folder = os.path.join(espeakng_loader.get_data_path(), "voices", "!v")
    return sorted(os.listdir(folder)) if os.path.isdir(folder) else []


def check_language(code: str) -> str:
    """Return the code as eSpeak knows it (lower case) or raise LipflapError."""
    norm = (code or "").strip().lower().replace("_", "-")
    with _LOCK:
        if norm not in _engine().languages:
            raise LipflapError(_unknown(code))
    return norm


def sample_rate() -> int:
    return _engine().sample_rate


def synthesize(text: str, language: str, *, rate: int | None = None, pitch: int | None = None,
               variant: str | None = None) -> tuple[np.ndarray, int, list[Phone]]:
    """Speak `text` and return (samples float32 in [-1, 1], sample_rate, phones).

    rate: words per minute (80-450, eSpeak's default 175); pitch: 0-100 (50 normal);
    variant: an eSpeak voice variant such as "f3" or "m2".  Phones cover the audio end to end:
    consecutive pauses are merged into one "_", each phone ends where the next begins, and a
    phone carries the word of the text it was spoken for (pauses carry None).
    """
    code = check_language(language)
    with _LOCK:
        eng = _engine()
        eng.set_voice(code, variant)
        r = eng.default_rate if rate is None else int(np.clip(rate, RATE_MIN, RATE_MAX))
        p = eng.default_pitch if pitch is None else int(np.clip(pitch, 0, 100))
        for param, value in {**eng.defaults, _PARAM_RATE: r, _PARAM_PITCH: p}.items():
            eng.lib.espeak_SetParameter(param, value, 0)
        samples, events = eng.synth(text)
        sr = eng.sample_rate
    return samples, sr, _phones_from_events(text, events, len(samples), sr)


def _phones_from_events(text: str, events: list, n_samples: int, sr: int) -> list[Phone]:
    # Word events carry 1-based character positions into the text; phoneme events carry the
    # position of the word they belong to, which is how a phone finds its word.
    words: dict[int, str] = {}
    for typ, pos, length, _sample, _ in events:
        if typ == _EV_WORD and pos > 0 and length > 0:
            words[pos] = text[pos - 1:pos - 1 + length]
    marks = [(s, name.decode("utf-8", "replace") or PAUSE, pos)
             for typ, pos, _l, s, name in events if typ == _EV_PHONEME]
    # "(en)"/"(ja)" mark a switch of dictionary (a word eSpeak reads in another language), not a
    # sound; the sound before it keeps the time until the next real phone.
    marks = [m for m in marks if not _is_switch(m[1])]
    phones: list[Phone] = []
    for k, (s, name, pos) in enumerate(marks):
        end = marks[k + 1][0] if k + 1 < len(marks) else n_samples
        end = min(max(end, s), n_samples)
        if end <= s:
            continue  # zero-length marks (a pause immediately overridden) carry no time
        word = None if name == PAUSE else words.get(pos)
        if phones and name == PAUSE and phones[-1].phone == PAUSE:
            phones[-1].end = end / sr
            continue
        phones.append(Phone(name, s / sr, end / sr, word))
    if phones and phones[0].start > 0:
        phones.insert(0, Phone(PAUSE, 0.0, phones[0].start))
    elif not phones and n_samples:
        phones.append(Phone(PAUSE, 0.0, n_samples / sr))
    if phones and phones[-1].end < n_samples / sr:
        if phones[-1].phone == PAUSE:
            phones[-1].end = n_samples / sr
        else:
            phones.append(Phone(PAUSE, phones[-1].end, n_samples / sr))
    return phones


def _is_switch(name: str) -> bool:
    return len(name) > 2 and name[0] == "(" and name[-1] == ")"
