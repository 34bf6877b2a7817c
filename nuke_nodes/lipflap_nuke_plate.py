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


def _text(knob):
    """A string knob as typed: .value() would evaluate TCL in it."""
    return str(knob.getText())


def read_offset(read):
    """Nuke frame minus the file's frame number for a Read: frame_mode "start at" F puts the
    Read's `first` at Nuke frame F, "offset" O adds O; None for a frame expression (a retime)."""
    text = _text(read["frame"]).strip()
    if not text:
        return 0
    mode = str(read["frame_mode"].value())
    try:
        number = int(float(text))
    except ValueError:
        return None
    if mode == "start at":
        return number - int(read["first"].value())
    if mode == "offset":
        return number
    return None


def read_range(read):
    """The Nuke frames a Read shows its file on: its first/last (file frames) plus the offset."""
    off = read_offset(read)
    return int(read["first"].value()) + off, int(read["last"].value()) + off


def direct_movie_read(node):
    up = node.input(0)
    if up is None:
        raise PlateError(f"{node.name()} has no input; connect the plate to it.")
    if up.Class() != "Read":
        return None
    path = _text(up["file"])
    if not path.lower().endswith(MOVIE_EXT) or read_offset(up) is None:
        return None  # a sequence or a retimed Read: let Nuke render what it shows
    return up


def find_plate(node, first, last, temp_dir, nuke):
    """The plate for frames first..last (Nuke frames) of the node's input."""
    read = direct_movie_read(node)
    if read is not None:
        path = _text(read["file"])
        r_first, r_last = read_range(read)
        if first < r_first or last > r_last:
            raise PlateError(f"frames {first}-{last} are outside {os.path.basename(path)}'s "
                             f"range {r_first}-{r_last}; set the node's frame range inside the plate.")
        if not os.path.exists(path):
            raise PlateError(f"{path}: plate file not found; fix the Read node.")
        # Movie frames are numbered from origfirst (1 in Nuke); the engine counts from 0.
        file_frame = first - read_offset(read)
        return Plate(path, first, last, file_frame - int(read["origfirst"].value()), False)
    os.makedirs(temp_dir, exist_ok=True)
    path = os.path.join(temp_dir, f"{node.name()}_plate_{first}_{last}.mov")
    upstream = node.input(0)
    # A Python button runs inside the LipSync group, where nothing can connect to the node's
    # input: the Write goes at the root. ProRes 4444 is written by Nuke 13+ as appr + profile.
    with nuke.root():
        write = nuke.nodes.Write(file=path.replace("\\", "/"), file_type="mov", mov64_codec="appr",
                                 mov_prores_codec_profile="ProRes 4:4:4:4 12-bit", channels="rgba")
    try:
        if not write.setInput(0, upstream):
            raise PlateError(f"could not connect a Write to {upstream.name()} to render the plate; "
                             f"connect a Read of a movie to {node.name()} instead.")
        nuke.execute(write, first, last)
    finally:
        nuke.delete(write)
    if not os.path.exists(path):
        raise PlateError(f"rendering the node's input to {path} failed; check the upstream nodes render.")
    return Plate(path, first, last, 0, True)
