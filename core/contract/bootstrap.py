"""The one loader of this folder as the package `lipflap_contract`, for hosts whose Python cannot
import the engine (DaVinci Resolve's, Nuke's: the engine's heavy dependencies are not there).

The file has no relative imports, so a host runs it by path and calls `load()`:

    import runpy
    contract = runpy.run_path(os.path.join(CONTRACT_FOLDER, "bootstrap.py"))["load"]()

The Resolve launcher also loads its plugin folder with `load_package`. Where the folder is not on
disk the host says so itself (it knows which `lipflap install ...` puts it back). Inside the
engine this module is `lipflap.contract.bootstrap` and nothing there uses it.
"""
import importlib.util
import os
import sys

NAME = "lipflap_contract"
FOLDER = os.path.dirname(os.path.abspath(__file__))


def load_package(name, folder):
    """The package in `folder` as the module `name`, loaded once (its submodules then import as
    `name.sub`). A load that raises leaves nothing in sys.modules, so the next try starts clean."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, os.path.join(folder, "__init__.py"),
                                                  submodule_search_locations=[folder])
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module


def load():
    """This folder as `lipflap_contract`."""
    return load_package(NAME, FOLDER)
