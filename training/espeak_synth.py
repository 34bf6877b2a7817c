"""Minimal eSpeak NG synthesis with per-phoneme times, for generating training data.

Only the training scripts use this (the engine has its own wrapper in lipflap.speech.espeak).
One process holds one eSpeak instance: call `synth` repeatedly, it is not thread-safe.
"""
from __future__ import annotations

import array
import ctypes

import numpy as np

# the C API's event struct, declared once in the engine's wrapper
from lipflap.speech.espeak import _Event

_CB = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int,
                       ctypes.POINTER(_Event))

_EV_PHONEME = 7
_lib = None
_rate = None
_state: dict = {}


def _init():
    global _lib, _rate
    if _lib is not None:
        return
    import espeakng_loader
    lib = ctypes.CDLL(espeakng_loader.get_library_path())
    # AUDIO_OUTPUT_SYNCHRONOUS, phoneme events as IPA
    _rate = lib.espeak_Initialize(2, 0, espeakng_loader.get_data_path().encode(), 0x0001 | 0x0002)
    if _rate <= 0:
        raise RuntimeError("eSpeak NG failed to initialise")

    @_CB
    def cb(wav, n, ev):
        if n > 0:
            _state["samples"].extend(ctypes.cast(wav, ctypes.POINTER(ctypes.c_short * n)).contents)
        i = 0
        while ev[i].type != 0:
            e = ev[i]
            if e.type == _EV_PHONEME:
                _state["events"].append((e.sample, e.id.string.decode("utf-8", "replace")))
            i += 1
        return 0

    _state["cb"] = cb  # keep the callback alive
    lib.espeak_SetSynthCallback(cb)
    _lib = lib


def synth(text: str, voice: str, rate: int | None = None, pitch: int | None = None,
          pitch_range: int | None = None):
    """Return (samples float32, sample_rate, phones [(phone, start_s, end_s)])."""
    _init()
    _state["samples"], _state["events"] = array.array("h"), []
    # the library is one per process: the engine's wrapper (lipflap.speech.espeak) may have
    # registered its own callback since, so claim the output again for this call
    _lib.espeak_SetSynthCallback(_state["cb"])
    if _lib.espeak_SetVoiceByName(voice.encode()) != 0:
        raise ValueError(f"eSpeak voice {voice!r} not found")
    _lib.espeak_SetParameter(1, int(rate or 175), 0)
    _lib.espeak_SetParameter(3, int(50 if pitch is None else pitch), 0)
    _lib.espeak_SetParameter(4, int(50 if pitch_range is None else pitch_range), 0)
    b = text.encode()
    _lib.espeak_Synth(b, len(b) + 1, 0, 1, 0, 0, None, None)
    _lib.espeak_Synchronize()
    x = np.frombuffer(_state["samples"], np.int16).astype(np.float32) / 32768.0
    ev = _state["events"]
    phones = []
    for k, (s, ph) in enumerate(ev):
        e = ev[k + 1][0] if k + 1 < len(ev) else len(x)
        if e > s:
            phones.append((ph, s / _rate, e / _rate))
    return x, _rate, phones


def synth_isolated(text: str, voice: str, **kw):
    """`synth` in a forked child: eSpeak NG occasionally crashes (segfault) on some
    voice/rate/text combinations; this returns None then instead of taking the caller down.
    Each child starts from the same initialised state, so results do not depend on history."""
    import os
    import pickle
    _init()
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # child
        os.close(r)
        try:
            data = pickle.dumps(synth(text, voice, **kw))
            with os.fdopen(w, "wb") as f:
                f.write(data)
        finally:
            os._exit(0)
    os.close(w)
    with os.fdopen(r, "rb") as f:
        data = f.read()
    _, status = os.waitpid(pid, 0)
    if status != 0 or not data:
        return None
    return pickle.loads(data)
