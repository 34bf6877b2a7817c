"""The engine seen from Nuke: the standard-library client, loaded without the engine's packages.

`lipflap install nuke` sets LIPFLAP_HOSTCLIENT (the client's file) and LIPFLAP_ENGINE (the engine
command) in the user's init.py; the engine itself always runs as a separate process.
"""
import importlib.util
import os
import sys


def hostclient():
    if "lipflap_hostclient" in sys.modules:
        return sys.modules["lipflap_hostclient"]
    path = os.environ.get("LIPFLAP_HOSTCLIENT")
    if path and os.path.isfile(path):
        spec = importlib.util.spec_from_file_location("lipflap_hostclient", path)
        mod = importlib.util.module_from_spec(spec)
        sys.modules["lipflap_hostclient"] = mod
        spec.loader.exec_module(mod)
        return mod
    try:
        from lipflap import hostclient as mod  # Nuke started from the engine's own environment
    except ImportError:
        raise RuntimeError("lipflap's engine client was not found; run `lipflap install nuke` from the "
                           "engine's environment and restart Nuke.") from None
    return mod
