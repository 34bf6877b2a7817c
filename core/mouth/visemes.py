"""The two mouth-shape vocabularies and what each shape looks like as mouth parameters.

Visemes are Meta OVRLipSync's 15 classes; shapes are Rhubarb Lip Sync's A-H plus X, so its
existing host integrations can read our output. Both map to target parameters (aperture, width,
rounding, jaw, each 0..1): aperture is how far the inner lips are apart (0 closed, 1 this speaker's
widest), width is the corner-to-corner spread (0 pursed, 1 spread smile; ~0.45 relaxed), rounding
is lip protrusion/pucker, jaw is how far the jaw has dropped.
"""
from __future__ import annotations

import numpy as np

VISEMES = ("sil", "PP", "FF", "TH", "DD", "kk", "CH", "SS", "nn", "RR", "aa", "E", "ih", "oh", "ou")
SHAPES = ("A", "B", "C", "D", "E", "F", "G", "H", "X")
PARAMS = ("aperture", "width", "rounding", "jaw")

# Targets when the shape is fully reached (coarticulation moves frames between them).
VISEME_TARGET: dict[str, tuple[float, float, float, float]] = {
    "sil": (0.00, 0.45, 0.05, 0.03),
    "PP": (0.00, 0.45, 0.10, 0.08),
    "FF": (0.08, 0.50, 0.00, 0.12),
    "TH": (0.22, 0.52, 0.00, 0.22),
    "DD": (0.24, 0.52, 0.02, 0.24),
    "kk": (0.30, 0.50, 0.05, 0.30),
    "CH": (0.20, 0.32, 0.60, 0.18),
    "SS": (0.12, 0.60, 0.00, 0.10),
    "nn": (0.20, 0.50, 0.03, 0.20),
    "RR": (0.26, 0.36, 0.50, 0.24),
    "aa": (0.90, 0.58, 0.05, 0.90),
    "E": (0.52, 0.68, 0.00, 0.45),
    "ih": (0.30, 0.74, 0.00, 0.24),
    "oh": (0.60, 0.30, 0.70, 0.55),
    "ou": (0.24, 0.18, 0.95, 0.24),
}

SHAPE_TARGET: dict[str, tuple[float, float, float, float]] = {
    "A": (0.00, 0.45, 0.10, 0.08),   # closed: p b m
    "B": (0.20, 0.60, 0.02, 0.16),   # slightly open, teeth together: most consonants, ee
    "C": (0.50, 0.62, 0.00, 0.45),   # open: eh, ae
    "D": (0.90, 0.58, 0.05, 0.90),   # wide open: aa
    "E": (0.45, 0.38, 0.50, 0.42),   # slightly rounded: ao, er
    "F": (0.20, 0.18, 0.95, 0.20),   # puckered: uw, ow, w
    "G": (0.08, 0.50, 0.00, 0.12),   # upper teeth on lower lip: f v
    "H": (0.40, 0.52, 0.05, 0.36),   # tongue up behind the teeth: long l
    "X": (0.00, 0.45, 0.05, 0.03),   # rest
}

# The Rhubarb shape an animator would draw for each viseme (used when only visemes are known).
VISEME_SHAPE = {"sil": "X", "PP": "A", "FF": "G", "TH": "B", "DD": "B", "kk": "B", "CH": "B",
                "SS": "B", "nn": "B", "RR": "E", "aa": "D", "E": "C", "ih": "B", "oh": "E",
                "ou": "F"}

_VIS_ARR = np.array([VISEME_TARGET[v] for v in VISEMES])
_SHAPE_ARR = np.array([SHAPE_TARGET[s] for s in SHAPES])
# Aperture and rounding tell shapes apart best; width and jaw mostly follow them.
_WEIGHT = np.array([2.0, 1.0, 1.5, 0.5])


def nearest_viseme(params, *, allow_closed: bool = True) -> str:
    """The viseme whose target is closest to (aperture, width, rounding, jaw); without
    `allow_closed`, never sil or PP (sealed lips and rest are timing decisions, not looks)."""
    d = (((_VIS_ARR - np.asarray(params, float)) * _WEIGHT) ** 2).sum(axis=1)
    if not allow_closed:
        d[[VISEMES.index("sil"), VISEMES.index("PP")]] = np.inf
    return VISEMES[int(np.argmin(d))]


def nearest_shape(params, *, allow_rest: bool = False, allow_closed: bool = True) -> str:
    """The Rhubarb shape closest to the parameters; X only if asked, A unless told not to."""
    d = (((_SHAPE_ARR - np.asarray(params, float)) * _WEIGHT) ** 2).sum(axis=1)
    if not allow_rest:
        d[SHAPES.index("X")] = np.inf
    if not allow_closed:
        d[SHAPES.index("A")] = np.inf
    return SHAPES[int(np.argmin(d))]
