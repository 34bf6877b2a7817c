"""The engine seen from Nuke: its standard-library contract package, loaded without the engine.

`lipflap install nuke` sets LIPFLAP_CONTRACT (the engine's `lipflap/contract` folder) and
LIPFLAP_ENGINE (the engine command) in the user's init.py, or prints them for a studio's own
environment. The folder's own loader (`bootstrap.py`, the one every host uses) loads it as
`lipflap_contract`, so the node names renders, reads reports, writes files and starts the engine
with the engine's own rules; the engine itself always runs as a separate process.
"""
import os
import runpy


def hostclient():
    """The contract package (engine client, naming, report reader, atomic write), loaded once."""
    folder = os.environ.get("LIPFLAP_CONTRACT", "")
    bootstrap = os.path.join(folder, "bootstrap.py")
    if not folder or not os.path.isfile(bootstrap):
        raise RuntimeError(f"lipflap's engine contract was not found (LIPFLAP_CONTRACT={folder or 'unset'}); "
                           "run `lipflap install nuke` from the engine's environment and restart Nuke.")
    return runpy.run_path(bootstrap)["load"]()
