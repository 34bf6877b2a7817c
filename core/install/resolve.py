"""Installing the Resolve script into the per-user Fusion/Scripts folders of each OS.

The menu script is the launcher template (resolve_plugin/launcher.py.in) with four values filled
in: the plugin's own folder, the engine's standard-library contract package, the engine command,
and the script's own path (where a free-edition run looks for lipflap_settings.json). It goes
into Scripts/Edit and
Scripts/Utility, so it appears under Workspace > Scripts on the Edit page and everywhere else.
"""
from __future__ import annotations

import json
import os

import lipflap_resolve

from .. import contract
from ..contract.files import atomic_write

SCRIPT_NAME = "lipflap Lip Sync.py"
MENUS = ("Edit", "Utility")


def scripts_root(home: str, os_name: str) -> str:
    if os_name == "macos":
        return os.path.join(home, "Library", "Application Support", "Blackmagic Design", "DaVinci Resolve",
                            "Fusion", "Scripts")
    if os_name == "windows":
        return os.path.join(home, "AppData", "Roaming", "Blackmagic Design", "DaVinci Resolve", "Support",
                            "Fusion", "Scripts")
    return os.path.join(home, ".local", "share", "DaVinciResolve", "Fusion", "Scripts")


def render_launcher(engine: list[str], script_path: str) -> str:
    plugin_dir = os.path.dirname(os.path.abspath(lipflap_resolve.__file__))
    with open(os.path.join(plugin_dir, "launcher.py.in"), encoding="utf-8") as f:
        text = f.read()
    return (text.replace("@PLUGIN_DIR@", plugin_dir)
                .replace("@CONTRACT_DIR@", os.path.dirname(os.path.abspath(contract.__file__)))
                .replace("@ENGINE@", json.dumps(engine))
                .replace("@SCRIPT_PATH@", os.path.abspath(script_path)))


def install(home: str, os_name: str, engine: list[str], uninstall: bool = False) -> list[str]:
    root = scripts_root(home, os_name)
    done = []
    for menu in MENUS:
        path = os.path.join(root, menu, SCRIPT_NAME)
        if uninstall:
            if os.path.exists(path):
                os.remove(path)
                done.append(f"removed {path}")
            continue
        os.makedirs(os.path.dirname(path), exist_ok=True)
        atomic_write(path, render_launcher(engine, path))
        done.append(f"installed {path}")
    if not uninstall:
        done.append(f"engine: {' '.join(engine)}")
        done.append("In Resolve: Workspace > Scripts > lipflap Lip Sync (restart Resolve if it was open).")
    elif not done:
        done.append(f"nothing to remove under {root}")
    return done
