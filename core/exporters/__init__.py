"""Mouth-shape track exporters, one module per format, one interface (see base.py).

    from lipflap.exporters import export, format_for_path
    export(track, "shot.nk", first_frame=1001)
"""
from .base import EXPORTERS, ExportOptions, export, format_for_path, render

__all__ = ["EXPORTERS", "ExportOptions", "export", "format_for_path", "render"]
