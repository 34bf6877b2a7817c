"""The `lipflap` command.

Each sub-command lives in `lipflap.commands.<name>` and defines `register(subparsers)`, which adds
its parser and sets `func(args, progress) -> exit code`. A command whose engine stage has not been
built has no module, so it is absent from --help rather than a stub.
"""
from __future__ import annotations

import argparse
import importlib
import importlib.util
import os
import signal
import sys
import threading
import traceback

from . import __version__
from .commands import process_env
from .contract.errors import LipflapError
from .contract.progress import Progress

# Before any command imports numpy (lipflap.commands.process_env: one OpenBLAS thread).
process_env.settle()

# Order is the order of --help.
COMMANDS = ("run", "visemes", "analyze", "cast", "conform", "timeline", "qc", "credentials", "probe", "demo", "install")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="lipflap",
        description="Offline lip-sync for dubbed video: redraws the speaker's lower face to match the dub.")
    parser.add_argument("--version", action="version", version=f"lipflap {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        modname = f"lipflap.commands.{name}"
        if importlib.util.find_spec(modname) is None:
            continue
        importlib.import_module(modname).register(sub)
    return parser


def add_progress_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--progress", choices=("bar", "json", "none"), default=None,
                   help="progress display: a bar on a terminal (default), one JSON object per line "
                        "on stdout for host integrations, or nothing")


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help(sys.stderr)
        return 2
    progress = Progress(getattr(args, "progress", None) or "auto")
    restore = _catch_stop_signals()
    try:
        code = args.func(args, progress)
        return int(code or 0)
    except LipflapError as e:
        progress.result(None) if progress.mode == "json" else None
        print(f"lipflap: error: {e}", file=sys.stderr, flush=True)
        return e.exit_code
    except KeyboardInterrupt:
        # Outputs are written under temporary names, so whatever was cut short never looks
        # finished; what a command had completed (conform's renders) it has said above.
        print("lipflap: interrupted; the output in progress was not finished.", file=sys.stderr, flush=True)
        return 130
    except BrokenPipeError:
        return 141
    except Exception as e:  # noqa: BLE001 - the user must never see a bare traceback
        if os.environ.get("LIPFLAP_DEBUG"):
            traceback.print_exc()
        print(f"lipflap: internal error ({type(e).__name__}: {e}); this is a bug in lipflap, please "
              f"report it with the command line; set LIPFLAP_DEBUG=1 to see the traceback.",
              file=sys.stderr, flush=True)
        return 70
    finally:
        restore()


def _stop(signum, frame):
    raise KeyboardInterrupt


def _catch_stop_signals():
    """Ctrl-C and a host's cancel (SIGTERM) both unwind through the same cleanup: temporary
    outputs are removed, nothing half-written keeps a final name. SIGINT is set explicitly
    because a process started in the background by a shell inherits it ignored, and Python
    then never raises KeyboardInterrupt. Returns a function restoring the previous handlers."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    saved = {}
    for sig, handler in ((signal.SIGINT, signal.default_int_handler), (signal.SIGTERM, _stop)):
        try:
            saved[sig] = signal.signal(sig, handler)
        except (ValueError, OSError):
            pass

    def restore():
        for sig, old in saved.items():
            try:
                signal.signal(sig, old)
            except (ValueError, OSError, TypeError):
                pass
    return restore


if __name__ == "__main__":
    sys.exit(main())
