"""Installers that put a host plugin where the host looks (`lipflap install resolve|nuke`).

One module per host, each with `install(home, os_name, engine, uninstall) -> list[str]`:
`resolve` (the Resolve script in the per-user Fusion Scripts folders) and `nuke` (a marked block in
~/.nuke/init.py). The command itself is lipflap.commands.install.
"""
