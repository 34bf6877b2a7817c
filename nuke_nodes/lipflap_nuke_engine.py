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
    if not (path and os.path.isfile(path)):
        # Nuke started from the engine's own environment: the client file sits in the engine's
        # package, found without importing the package itself.
        spec = importlib.util.find_spec("lipflap")
        path = os.path.join(os.path.dirname(spec.origin), "hostclient.py") if spec and spec.origin else ""
    if not os.path.isfile(path):
        raise RuntimeError("lipflap's engine client was not found; run `lipflap install nuke` from the "
                           "engine's environment and restart Nuke.")
    spec = importlib.util.spec_from_file_location("lipflap_hostclient", path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules["lipflap_hostclient"] = mod
    spec.loader.exec_module(mod)
    return mod
