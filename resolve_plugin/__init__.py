"""DaVinci Resolve scripts for lipflap (standard library only).

Every rule the script shares with the engine (timecode, rates, render names, transcripts, the run
report, the engine client) comes from the engine's one contract package, `lipflap.contract`,
loaded here by path as `lipflap_contract` without importing the engine: from the folder in
$LIPFLAP_CONTRACT (the installed launcher sets it), else the `contract` folder of the `lipflap`
package this Python can see. The plugin's modules then `import lipflap_contract`.
"""
import importlib.util
import os
import sys

CONTRACT_MODULE = "lipflap_contract"


def load_contract(folder=None):
    """The contract package, loaded once by path (its __init__.py and submodules)."""
    if CONTRACT_MODULE in sys.modules:
        return sys.modules[CONTRACT_MODULE]
    folder = folder or os.environ.get("LIPFLAP_CONTRACT")
    if not folder:
        spec = importlib.util.find_spec("lipflap")  # finds the package without running it
        folder = os.path.join(os.path.dirname(spec.origin), "contract") if spec and spec.origin else ""
    init = os.path.join(folder, "__init__.py")
    if not os.path.isfile(init):
        raise ImportError("lipflap's engine contract was not found; run `lipflap install resolve` from "
                          "the engine's environment and restart Resolve.")
    spec = importlib.util.spec_from_file_location(CONTRACT_MODULE, init, submodule_search_locations=[folder])
    module = importlib.util.module_from_spec(spec)
    sys.modules[CONTRACT_MODULE] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[CONTRACT_MODULE]
        raise
    return module


contract = load_contract()
