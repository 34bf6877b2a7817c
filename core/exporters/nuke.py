"""A Nuke NoOp node (.nk text) whose user knobs aperture, width, rounding and jaw are animated
per frame, `{{curve x1001 0 x1002 0.35 ...}}`: paste it into a script (or File > Insert) and
expression-link other nodes to it. Frame 0 of the track lands on `first_frame` (default 1001)."""
from __future__ import annotations

import re

from ..contract.rates import rate_json

FORMAT = "nuke"
EXTENSIONS = (".nk",)
KNOBS = ("aperture", "width", "rounding", "jaw")


def _name(name: str) -> str:
    # Nuke node names: letters, digits, underscore, not starting with a digit
    n = re.sub(r"[^A-Za-z0-9_]", "_", name or "lipflap_mouth")
    return n if n and not n[0].isdigit() else f"lipflap_{n}"


def curve(values, first_frame: int) -> str:
    keys = " ".join(f"x{first_frame + i} {_num(v)}" for i, v in enumerate(values))
    return f"{{{{curve {keys}}}}}" if keys else "0"


def _num(v: float) -> str:
    s = f"{float(v):.4f}".rstrip("0").rstrip(".")
    return s if s not in ("", "-0") else "0"


def render(track, options) -> str:
    first = int(options.first_frame)
    last = first + max(len(track.frames) - 1, 0)
    fps = rate_json(track.fps)
    lines = [
        "set cut_paste_input [stack 0]",
        "version 13.0 v1",
        "NoOp {",
        f" name {_name(options.node_name)}",
        " tile_color 0xd46a2aff",
        f" label \"lipflap mouth {first}-{last}, {fps} fps\"",
        " addUserKnob {20 lipflap}",
    ]
    for k in KNOBS:
        lines.append(f" addUserKnob {{7 {k} R 0 1}}")
        lines.append(f" {k} {curve([getattr(f, k) for f in track.frames], first)}")
    lines.append(" addUserKnob {3 first_frame l \"first frame\"}")
    lines.append(f" first_frame {first}")
    lines.append("}")
    return "\n".join(lines) + "\n"
