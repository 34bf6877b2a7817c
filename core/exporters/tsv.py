"""Per-frame table: frame, time, viseme, shape and the four mouth parameters, tab-separated with a
header line (spreadsheets, compositing scripts)."""
from __future__ import annotations

FORMAT = "tsv"
EXTENSIONS = (".tsv",)
COLUMNS = ("frame", "time", "viseme", "shape", "aperture", "width", "rounding", "jaw")


def render(track, options) -> str:
    rows = ["\t".join(COLUMNS)]
    for f in track.frames:
        rows.append(f"{f.frame}\t{f.time:.6f}\t{f.viseme}\t{f.shape}\t{f.aperture:.4f}\t"
                    f"{f.width:.4f}\t{f.rounding:.4f}\t{f.jaw:.4f}")
    return "\n".join(rows) + "\n"
