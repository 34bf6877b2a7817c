"""Finding the plate under the LipSync node as a movie file the engine can read.

A Read of a movie file directly above the node is used as it is (its file and frame range).
Anything else (an image sequence, a graph with grades or transforms) is rendered first to a
temporary ProRes 4444 movie over the node's frame range, so the engine sees exactly what the
node's input shows.
"""
import os
from dataclasses import dataclass

MOVIE_EXT = (".mov", ".mp4", ".mxf", ".m4v", ".avi", ".mkv")


@dataclass
class Plate:
    path: str          # movie file the engine reads
    first: int         # Nuke frame of the range's first frame
    last: int
    file_first: int    # 0-based index in `path` of Nuke frame `first`
    rendered: bool     # True when made from the upstream graph


class PlateError(Exception):
    pass


def _read_range(read):
    return int(read["first"].value()), int(read["last"].value())


def direct_movie_read(node):
    up = node.input(0)
    if up is None:
        raise PlateError(f"{node.name()} has no input; connect the plate to it.")
    if up.Class() != "Read":
        return None
    path = str(up["file"].value())
    if not path.lower().endswith(MOVIE_EXT):
        return None
    mode = str(up["frame_mode"].value() or "")
    if mode and mode not in ("start at", "") and str(up["frame"].value() or "") not in ("", "0"):
        return None  # a retimed Read: let Nuke render what it shows
    return up


def find_plate(node, first, last, temp_dir, nuke):
    """The plate for frames first..last (Nuke frames) of the node's input."""
    read = direct_movie_read(node)
    if read is not None:
        r_first, r_last = _read_range(read)
        if first < r_first or last > r_last:
            raise PlateError(f"frames {first}-{last} are outside {os.path.basename(read['file'].value())}'s "
                             f"range {r_first}-{r_last}; set the node's frame range inside the plate.")
        if not os.path.exists(read["file"].value()):
            raise PlateError(f"{read['file'].value()}: plate file not found; fix the Read node.")
        return Plate(str(read["file"].value()), first, last, first - r_first, False)
    os.makedirs(temp_dir, exist_ok=True)
    path = os.path.join(temp_dir, f"{node.name()}_plate_{first}_{last}.mov")
    group_parent = node.input(0)
    write = nuke.nodes.Write(file=path.replace("\\", "/"), file_type="mov", mov64_codec="ap4h")
    write.setInput(0, group_parent)
    try:
        nuke.execute(write, first, last)
    finally:
        delete = getattr(nuke, "delete", None)
        if delete:
            delete(write)
    if not os.path.exists(path):
        raise PlateError(f"rendering the node's input to {path} failed; check the upstream nodes render.")
    return Plate(path, first, last, 0, True)
