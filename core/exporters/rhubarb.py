"""Rhubarb Lip Sync's TSV: one `start<TAB>shape` line per mouth cue (seconds with two decimals,
Rhubarb's centisecond resolution), equal neighbours joined, and a final line at the end time with
the rest shape X, as Rhubarb's own tsv exporter writes it, so its After Effects, Spine, Moho and
Vegas integrations read our tracks."""
from __future__ import annotations

FORMAT = "rhubarb"
EXTENSIONS = (".txt", ".tsv")


def cue_lines(track) -> list[tuple[int, str]]:
    """(start in centiseconds, shape) for every cue after rounding, joined and de-duplicated."""
    out: list[tuple[int, str]] = []
    for start, _end, shape in track.cues:
        cs = int(round(start * 100))
        if out and out[-1][0] == cs:
            out.pop()          # a cue shorter than Rhubarb can express: the later one wins
        if out and out[-1][1] == shape:
            continue
        out.append((cs, shape))
    return out


def render(track, options) -> str:
    lines = [f"{cs / 100:.2f}\t{shape}" for cs, shape in cue_lines(track)]
    end = track.cues[-1][1] if track.cues else 0.0
    if not lines:
        lines.append("0.00\tX")   # Rhubarb writes a zero-length rest for an empty animation
    lines.append(f"{end:.2f}\tX")
    return "\n".join(lines) + "\n"
