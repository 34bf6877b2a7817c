"""Installing the Nuke plugin: a marked block in the user's ~/.nuke/init.py.

The block puts the plugin folder on Nuke's plugin path and tells the plugin where the engine and
its standard-library contract package (LIPFLAP_CONTRACT) are. Studios that manage NUKE_PATH
themselves get the equivalent environment lines printed instead of editing anything (`--os`
layouts only change the home's folder name conventions, which for Nuke are the same everywhere: ~/.nuke).
"""
from __future__ import annotations

import json
import os

import lipflap_nuke

from .. import contract
from ..contract.files import atomic_write

BEGIN = "# >>> lipflap (added by `lipflap install nuke`) >>>"
END = "# <<< lipflap <<<"


def plugin_dir() -> str:
    return os.path.dirname(os.path.abspath(lipflap_nuke.__file__))


def contract_dir() -> str:
    """The engine's stdlib-only contract package, which the node loads by path."""
    return os.path.dirname(os.path.abspath(contract.__file__))


def block(engine: list[str]) -> str:
    engine_env = engine[0] if len(engine) == 1 else json.dumps(engine)
    return "\n".join([
        BEGIN,
        "import os as _lipflap_os",
        "import nuke as _lipflap_nuke",
        f"_lipflap_os.environ.setdefault('LIPFLAP_ENGINE', {engine_env!r})",
        f"_lipflap_os.environ.setdefault('LIPFLAP_CONTRACT', {contract_dir()!r})",
        f"_lipflap_nuke.pluginAddPath({plugin_dir()!r})",
        END, ""])


def _strip(text: str) -> str:
    out, skip = [], False
    for line in text.splitlines(keepends=True):
        if line.strip() == BEGIN:
            skip = True
            continue
        if skip and line.strip() == END:
            skip = False
            continue
        if not skip:
            out.append(line)
    return "".join(out)


def install(home: str, os_name: str, engine: list[str], uninstall: bool = False) -> list[str]:
    nuke_dir = os.path.join(home, ".nuke")
    init = os.path.join(nuke_dir, "init.py")
    try:
        with open(init, encoding="utf-8") as f:
            old = f.read()
    except FileNotFoundError:
        old = ""
    new = _strip(old)
    if not uninstall:
        new = new + ("" if not new or new.endswith("\n") else "\n") + block(engine)
    if new == old:
        return [f"nothing to change in {init}"]
    os.makedirs(nuke_dir, exist_ok=True)
    atomic_write(init, new)
    if uninstall:
        return [f"removed lipflap from {init}"]
    sep = ";" if os_name == "windows" else ":"
    return [f"added lipflap to {init}",
            f"engine: {' '.join(engine)}",
            "In Nuke: Nodes > lipflap > LipSync (restart Nuke if it was open).",
            f"Studio setup instead: NUKE_PATH={plugin_dir()}{sep}$NUKE_PATH, "
            f"LIPFLAP_ENGINE={engine[0] if len(engine) == 1 else json.dumps(engine)} and "
            f"LIPFLAP_CONTRACT={contract_dir()}"]
