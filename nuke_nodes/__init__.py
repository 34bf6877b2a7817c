"""Nuke plugin folder for lipflap (standard library only); the folder itself goes on NUKE_PATH."""
