"""The hosts load the contract through its folder's one loader (core/contract/bootstrap.py).

Each test loads a copy of the contract folder whose bootstrap.py logs every load(), so a host
that loaded the package any other way (its own importlib code, a stale copy) fails the test.
"""
import ast
import importlib
import os
import runpy
import shutil
import sys
import types

import pytest

from lipflap import contract

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CONTRACT_DIR = os.path.dirname(os.path.abspath(contract.__file__))
HOST_MODULES = ("lipflap_contract", "lipflap_resolve", "lipflap_nuke_engine")

LOGGING_TAIL = '''

_one_load = load


def load():
    with open(os.environ["BOOTSTRAP_LOG"], "a", encoding="utf-8") as log:
        log.write(FOLDER + "\\n")
    return _one_load()
'''


@pytest.fixture
def clean_modules():
    """The host packages unloaded for the test and put back exactly as they were afterwards."""
    def ours(name):
        return name.split(".")[0] in HOST_MODULES
    saved = {k: v for k, v in sys.modules.items() if ours(k)}
    for k in saved:
        del sys.modules[k]
    yield
    for k in [k for k in sys.modules if ours(k)]:
        del sys.modules[k]
    sys.modules.update(saved)


@pytest.fixture
def logged_copy(tmp_path, monkeypatch, clean_modules):
    folder = tmp_path / "contract copy"
    shutil.copytree(CONTRACT_DIR, folder, ignore=shutil.ignore_patterns("__pycache__"))
    with open(folder / "bootstrap.py", "a", encoding="utf-8") as f:
        f.write(LOGGING_TAIL)
    log = tmp_path / "loads.txt"
    monkeypatch.setenv("BOOTSTRAP_LOG", str(log))
    return str(folder), log


def _unload_contract():
    for k in [k for k in sys.modules if k.split(".")[0] in HOST_MODULES]:
        del sys.modules[k]


def _loaded_from(log) -> list[str]:
    return log.read_text(encoding="utf-8").splitlines() if log.exists() else []


def test_resolve_package_loads_through_the_bootstrap(logged_copy):
    folder, log = logged_copy
    import lipflap_resolve  # noqa: PLC0415 - loads the real contract first; unload it and go again
    _unload_contract()
    mod = lipflap_resolve.load_contract(folder)
    assert _loaded_from(log) == [folder]
    assert mod is sys.modules["lipflap_contract"]
    assert os.path.dirname(mod.__file__) == folder and mod.naming.__file__.startswith(folder)
    assert lipflap_resolve.load_contract(folder) is mod   # loaded once


def test_resolve_launcher_loads_contract_and_plugin_through_the_bootstrap(logged_copy, tmp_path, monkeypatch,
                                                                          capsys):
    folder, log = logged_copy
    from lipflap.install import resolve as install_resolve  # noqa: PLC0415 - imports lipflap_resolve: unload it
    _unload_contract()
    monkeypatch.setattr(install_resolve, "contract", types.SimpleNamespace(__file__=os.path.join(folder,
                                                                                              "__init__.py")))
    script = tmp_path / "Scripts" / "Edit" / install_resolve.SCRIPT_NAME
    script.parent.mkdir(parents=True)
    script.write_text(install_resolve.render_launcher(["lipflap"], str(script)), encoding="utf-8")
    runpy.run_path(str(script), init_globals={"resolve": None, "fusion": None, "bmd": None})
    assert _loaded_from(log) == [folder]
    assert os.path.dirname(sys.modules["lipflap_contract"].__file__) == folder
    assert sys.modules["lipflap_resolve"].__file__ == os.path.join(REPO, "resolve_plugin", "__init__.py")
    assert "Resolve's scripting object is not available" in capsys.readouterr().out


def test_nuke_node_loads_through_the_bootstrap(logged_copy, monkeypatch):
    folder, log = logged_copy
    monkeypatch.syspath_prepend(os.path.join(REPO, "nuke_nodes"))
    monkeypatch.setenv("LIPFLAP_CONTRACT", folder)
    engine = importlib.import_module("lipflap_nuke_engine")
    mod = engine.hostclient()
    assert engine.hostclient() is mod                       # the second press reuses the loaded package
    assert _loaded_from(log) == [folder, folder]
    assert os.path.dirname(mod.__file__) == folder and mod.client.__file__.startswith(folder)


def test_missing_contract_says_what_to_do(tmp_path, monkeypatch, clean_modules):
    empty = tmp_path / "gone"
    empty.mkdir()
    import lipflap_resolve  # noqa: PLC0415
    _unload_contract()
    with pytest.raises(ImportError, match=r"run `lipflap install resolve` from the engine's environment"):
        lipflap_resolve.load_contract(str(empty))
    monkeypatch.syspath_prepend(os.path.join(REPO, "nuke_nodes"))
    engine = importlib.import_module("lipflap_nuke_engine")
    for value in (None, str(empty)):
        if value is None:
            monkeypatch.delenv("LIPFLAP_CONTRACT", raising=False)
        else:
            monkeypatch.setenv("LIPFLAP_CONTRACT", value)
        with pytest.raises(RuntimeError, match=r"run `lipflap install nuke` from the engine's environment"):
            engine.hostclient()
    assert "lipflap_contract" not in sys.modules


def test_a_failed_load_leaves_nothing_behind(tmp_path, clean_modules):
    folder = tmp_path / "broken"
    shutil.copytree(CONTRACT_DIR, folder, ignore=shutil.ignore_patterns("__pycache__"))
    init = folder / "__init__.py"
    good = init.read_text(encoding="utf-8")
    init.write_text(good + "\nraise RuntimeError('half-installed')\n", encoding="utf-8")
    boot = runpy.run_path(str(folder / "bootstrap.py"))
    with pytest.raises(RuntimeError, match="half-installed"):
        boot["load"]()
    assert "lipflap_contract" not in sys.modules
    init.write_text(good, encoding="utf-8")
    assert boot["load"]().__file__ == str(init)


def _host_files():
    for sub in ("resolve_plugin", "nuke_nodes"):
        for name in sorted(os.listdir(os.path.join(REPO, sub))):
            if name.endswith((".py", ".py.in")):
                yield os.path.join(REPO, sub, name)


def test_one_loader_in_the_tree():
    """Loading a package by path is written once, in bootstrap.py; no host and no other contract
    module carries its own copy."""
    writers = [p for p in list(_host_files()) + [os.path.join(CONTRACT_DIR, n) for n in os.listdir(CONTRACT_DIR)]
               if p.endswith((".py", ".py.in")) and "spec_from_file_location" in open(p, encoding="utf-8").read()]
    assert writers == [os.path.join(CONTRACT_DIR, "bootstrap.py")]


def test_bootstrap_runs_by_path_on_the_standard_library_alone():
    tree = ast.parse(open(os.path.join(CONTRACT_DIR, "bootstrap.py"), encoding="utf-8").read())
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            assert node.level == 0, "a relative import cannot run by path"
            imported.add(node.module.split(".")[0])
        elif isinstance(node, ast.Import):
            imported.update(a.name.split(".")[0] for a in node.names)
    assert imported and imported <= set(sys.stdlib_module_names)
