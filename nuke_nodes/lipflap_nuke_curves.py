"""Mouth-shape track JSON <-> the LipSync node's animated knobs.

Track frame i is Nuke frame `first + i`. Curves carry one key per frame, so what the artist
sees in the curve editor is exactly what renders; edited curves are read back with
getValueAt, so added, moved or deleted keys all count.
"""
PARAMS = ("aperture", "width", "rounding", "jaw")


def apply_track(node, track: dict, first: int) -> int:
    """Write a track (the JSON of `lipflap visemes`) into the node's curves; returns key count."""
    frames = track.get("frames") or []
    for p in PARAMS:
        k = node[p]
        k.clearAnimated()
        k.setAnimated()
        for f in frames:
            if p in f:
                k.setValueAt(float(f[p]), first + int(f["frame"]))
    return len(frames)


def read_track(node, first: int, last: int, fps) -> dict:
    """The curves as a track for `lipflap run --shapes` (frames 0..last-first)."""
    frames = []
    for i, nf in enumerate(range(first, last + 1)):
        entry = {"frame": i, "time": round(i / float(fps), 6)}
        for p in PARAMS:
            k = node[p]
            v = k.getValueAt(nf) if k.isAnimated() else float(k.value())
            entry[p] = round(min(1.0, max(0.0, float(v))), 4)
        frames.append(entry)
    return {"fps": fps_json(fps), "frames": frames, "source": "edited in Nuke"}


def fps_json(fps):
    """Nuke's rate (a float such as 23.976) as the track's fps; the engine maps the decimal
    spellings of NTSC rates to their exact rationals."""
    f = float(fps)
    return int(f) if f.is_integer() else f"{f:.3f}".rstrip("0")

