"""Sub-commands of `lipflap`, one module each; see lipflap.cli."""
