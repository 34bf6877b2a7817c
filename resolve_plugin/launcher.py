"""lipflap Lip Sync: lip-sync the chosen timeline clips to a dub (installed by `lipflap install resolve`).

Resolve runs this file with its own Python and the globals `resolve`, `fusion` and `bmd`. It loads
the plugin code and the engine client by path, without importing anything from the engine's
environment, and starts the engine as a separate process.
"""
import importlib.util
import os
import sys

PLUGIN_DIR = r"@PLUGIN_DIR@"
HOSTCLIENT = r"@HOSTCLIENT@"
ENGINE = @ENGINE@


def _load(name, path, package_dir=None):
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(
        name, path, submodule_search_locations=[package_dir] if package_dir else None)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def _run():
    if not os.path.isdir(PLUGIN_DIR):
        print("lipflap: the plugin folder %s is gone; run `lipflap install resolve` again." % PLUGIN_DIR)
        return
    hostclient = _load("lipflap_hostclient", HOSTCLIENT)
    _load("lipflap_resolve", os.path.join(PLUGIN_DIR, "__init__.py"), PLUGIN_DIR)
    app = importlib.import_module("lipflap_resolve.app")
    app.main(resolve, fusion, bmd, hostclient, engine=ENGINE)  # noqa: F821 - Resolve's globals


_run()
