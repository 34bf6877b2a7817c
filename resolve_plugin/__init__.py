"""DaVinci Resolve scripts for lipflap (standard library only)."""
