"""A phone's display rotation, as quarter turns between the stored picture and the shown one.

Phones store a portrait shot as the sensor's landscape picture and tag the stream with a display
matrix; players turn it as they show it. Face Mesh finds a face lying on its side poorly (talk_b
stored sideways with its rotation tagged: no face in frames 0-14, and the found ones rendered with
torn open mouths and the quick QC failing on lip shape, 0.17 of frames, where the same frames
upright rendered every frame and passed), and the renderer's rules read "down" as the chin's way.
So decode shows every stage the picture upright (`decode.Frame`) and the writer turns what it
draws back into the stored picture, whose display matrix it keeps (`encode.VideoWriter`).

The angle is PyAV's `VideoFrame.rotation` (probe.VideoInfo.rotation): "the angle (in degrees) by
which the transformation rotates the frame counterclockwise", the value `set_display_rotation`
takes (PyAV 18's docstrings); numpy's rot90 turns counter-clockwise for positive k too.
"""
from __future__ import annotations


def quarter_turns(rotation: float | int | None) -> int:
    """Counter-clockwise quarter turns (0-3) from the stored picture to the shown one; an angle
    that is not a multiple of 90 degrees is taken to its nearest."""
    return int(round(float(rotation or 0) / 90.0)) % 4


def shown_size(turn: int, width: int, height: int) -> tuple[int, int]:
    """(width, height) of the shown picture of a stored width x height one."""
    return (height, width) if turn % 2 else (width, height)


def stored_box(turn: int, width: int, height: int, x0: int, y0: int, w: int,
               h: int) -> tuple[int, int, int, int]:
    """The stored picture's box (x, y, w, h) holding the shown picture's box (x0, y0, w, h), for a
    stored picture of width x height turned `turn` quarter turns counter-clockwise to be shown
    (the shown box is np.rot90(stored box, turn))."""
    turn %= 4
    if turn == 0:
        return x0, y0, w, h
    if turn == 1:       # shown (x, y) <- stored (width - 1 - y, x)
        return width - y0 - h, x0, h, w
    if turn == 2:       # shown (x, y) <- stored (width - 1 - x, height - 1 - y)
        return width - x0 - w, height - y0 - h, w, h
    return y0, height - x0 - w, h, w      # shown (x, y) <- stored (y, height - 1 - x)
