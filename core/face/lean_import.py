"""Import MediaPipe without the modules its package imports for features lipflap never calls.

`import mediapipe` runs its whole package: the drawing helpers import matplotlib.pyplot and the
microphone task imports sounddevice (PortAudio). That was 0.51 s of CPU at the head of the
analysis pass, which every later frame waits for (docs/speed.md); with those two stood in for it
is 0.14 s. The stand-ins import the real module on first use, so nothing breaks for a caller that
does use them, and they leave sys.modules as soon as MediaPipe is imported.
"""
from __future__ import annotations

import importlib
import sys
import types

# Modules MediaPipe's package imports at import time that lipflap's use of it never touches.
UNUSED = ("matplotlib", "matplotlib.pyplot", "sounddevice")


class _Deferred(types.ModuleType):
    """Stands in for a module: the first attribute read imports the real one."""

    def __getattr__(self, attr: str):
        if attr.startswith("__"):
            raise AttributeError(attr)
        if sys.modules.get(self.__name__) is self:
            del sys.modules[self.__name__]
        return getattr(importlib.import_module(self.__name__), attr)


def import_mediapipe():
    """The mediapipe module (imported once per process, as by `import mediapipe`)."""
    if "mediapipe" in sys.modules:
        return importlib.import_module("mediapipe")
    # matplotlib already imported (by the caller's own code): leave its package alone.
    names = [n for n in UNUSED if n not in sys.modules and
             not (n.startswith("matplotlib") and "matplotlib" in sys.modules)]
    for n in names:
        sys.modules[n] = _Deferred(n)
    if "matplotlib" in names and "matplotlib.pyplot" in names:
        # `import matplotlib.pyplot as plt` reads the package's attribute
        types.ModuleType.__setattr__(sys.modules["matplotlib"], "pyplot",
                                     sys.modules["matplotlib.pyplot"])
    try:
        return importlib.import_module("mediapipe")
    finally:
        for n in names:
            if isinstance(sys.modules.get(n), _Deferred):
                del sys.modules[n]
