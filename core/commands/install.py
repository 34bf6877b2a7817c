"""`lipflap install resolve|nuke [--uninstall]`: put a host plugin where the host looks.

Each host has its own installer module (lipflap.install.resolve, lipflap.install.nuke) with
`install(home, os_name, engine, uninstall) -> list[str]` returning what it did, one line each.
The engine's own command is recorded so the plugin, running in the host's Python, can start it.
"""
from __future__ import annotations

import importlib
import importlib.util
import os
import sys

from ..cli import add_progress_option
from ..contract.errors import LipflapError

HOSTS = {"resolve": "lipflap.install.resolve", "nuke": "lipflap.install.nuke"}


def _available() -> list[str]:
    return [h for h, mod in HOSTS.items() if importlib.util.find_spec(mod) is not None]


def current_os() -> str:
    return {"win32": "windows", "darwin": "macos"}.get(sys.platform, "linux")


def engine_command() -> list[str]:
    """The command that runs this very engine, from any other process."""
    exe = os.path.join(os.path.dirname(sys.executable), "lipflap" + (".exe" if os.name == "nt" else ""))
    if os.path.exists(exe):
        return [exe]
    return [sys.executable, "-m", "lipflap"]


def register(sub) -> None:
    hosts = _available()
    if not hosts:
        return
    p = sub.add_parser("install", help="install the DaVinci Resolve script or the Nuke plugin for this user",
                       description="Copy a host plugin where the host looks and record where this "
                                   "engine lives, so the plugin can start it.")
    p.add_argument("host", choices=hosts)
    p.add_argument("--uninstall", action="store_true", help="remove what install put there")
    p.add_argument("--home", help="install into this home folder instead of the current user's (for staging)")
    p.add_argument("--os", dest="os_name", choices=("linux", "macos", "windows"), default=None,
                   help="folder layout to use (default: this machine's)")
    add_progress_option(p)
    p.set_defaults(func=_run)


def _run(args, progress) -> int:
    home = os.path.abspath(args.home) if args.home else os.path.expanduser("~")
    if not os.path.isdir(home):
        raise LipflapError(f"{home}: home folder not found; give an existing folder with --home.")
    mod = importlib.import_module(HOSTS[args.host])
    try:
        done = mod.install(home=home, os_name=args.os_name or current_os(), engine=engine_command(),
                           uninstall=args.uninstall)
    except PermissionError as e:
        raise LipflapError(f"{e.filename}: not writable; run as a user who may write there, or "
                           f"pass --home.") from None
    if progress.mode != "json":  # json: one object per line on stdout, the actions in the result
        for line in done:
            print(line)
    progress.result({"host": args.host, "uninstall": args.uninstall, "actions": done})
    return 0
