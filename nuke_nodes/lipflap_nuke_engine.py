"""The engine seen from Nuke: its standard-library contract package, loaded without the engine.

`lipflap install nuke` sets LIPFLAP_CONTRACT (the engine's `lipflap/contract` folder) and
LIPFLAP_ENGINE (the engine command) in the user's init.py. The package is loaded by path as
`lipflap_contract`, so the node names renders, reads reports and starts the engine with the
engine's own rules; the engine itself always runs as a separate process.
"""
import importlib.util
import os
import sys

CONTRACT_MODULE = "lipflap_contract"


def hostclient():
    """The contract package (engine client, naming, report reader), loaded once."""
    if CONTRACT_MODULE in sys.modules:
        return sys.modules[CONTRACT_MODULE]
    folder = os.environ.get("LIPFLAP_CONTRACT")
    if not folder:
        # Nuke started from the engine's own environment: the folder sits in the engine's
        # package, found without importing the package itself.
        spec = importlib.util.find_spec("lipflap")
        folder = os.path.join(os.path.dirname(spec.origin), "contract") if spec and spec.origin else ""
    init = os.path.join(folder, "__init__.py")
    if not os.path.isfile(init):
        raise RuntimeError("lipflap's engine contract was not found; run `lipflap install nuke` from the "
                           "engine's environment and restart Nuke.")
    spec = importlib.util.spec_from_file_location(CONTRACT_MODULE, init, submodule_search_locations=[folder])
    mod = importlib.util.module_from_spec(spec)
    sys.modules[CONTRACT_MODULE] = mod
    try:
        spec.loader.exec_module(mod)
    except BaseException:
        del sys.modules[CONTRACT_MODULE]
        raise
    return mod
