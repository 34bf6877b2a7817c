"""DaVinci Resolve scripts for lipflap (standard library only).

Every rule the script shares with the engine (timecode, rates, render names, transcripts, the run
report, the engine client, the atomic write) comes from the engine's one contract package,
`lipflap.contract`, loaded by path as `lipflap_contract` through the one loader in that folder
(`bootstrap.py`). The installed launcher loads it before this package; imported any other way
(the engine's own Python, tests), this package finds the folder in $LIPFLAP_CONTRACT, else beside
the `lipflap` package this Python can see. The plugin's modules then `import lipflap_contract`.
"""
import importlib.util
import os
import runpy
import sys

CONTRACT_MODULE = "lipflap_contract"


def load_contract(folder=None):
    """The contract package: already loaded by the launcher, else through its folder's bootstrap."""
    if CONTRACT_MODULE in sys.modules:
        return sys.modules[CONTRACT_MODULE]
    folder = folder or os.environ.get("LIPFLAP_CONTRACT")
    if not folder:
        spec = importlib.util.find_spec("lipflap")  # finds the package without running it
        folder = os.path.join(os.path.dirname(spec.origin), "contract") if spec and spec.origin else ""
    bootstrap = os.path.join(folder, "bootstrap.py")
    if not os.path.isfile(bootstrap):
        raise ImportError("lipflap's engine contract was not found; run `lipflap install resolve` from "
                          "the engine's environment and restart Resolve.")
    return runpy.run_path(bootstrap)["load"]()


contract = load_contract()
