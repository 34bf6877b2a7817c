"""The lower faces the analysis pass saw, kept within a fixed memory budget, so the exemplar
library is cut from them instead of a second decode of the shot (decode pass 2).

The analysis pass holds every frame for a moment anyway; copying the decoded planes of a box
around each tracked face's lower half costs ~0.1 ms a frame. While the copies fit in
BUDGET_BYTES the library stage reads them; past the budget everything kept is dropped at once
and the library decodes the shot as before, so memory stays flat in the shot's length. The boxes
are converted to RGB when the library reads them, exactly as a region of the decoded frame is
(lipflap.media.decode.Frame.region: the same pixels as the whole frame's conversion), so the
library and the render are the same either way.
"""
from __future__ import annotations

import numpy as np

# The bench's 125-frame 1080p close-up keeps ~65 MB (its decoded planes, ~0.5 MB a frame); a
# longer shot, or a larger face, drops what it kept and decodes again.
BUDGET_BYTES = 96 << 20

# The box kept around a face, in fractions of the face's landmark box. The library's crop is the
# lower face's mesh points and the warp's ring around them (lipflap.render.model); on the bench
# shot and expr_sad it reached 0.23 past a side, 0.35 down from the top and 0.17 below the chin.
SIDE_MARGIN = 0.30
BELOW_MARGIN = 0.25
TOP_FROM = 0.28


class NotKept(LookupError):
    """A box the analysis pass did not keep (the library then decodes the shot)."""


class KeptFrame:
    """What the library builder reads of a frame (`size`, `region`), served from kept boxes."""

    def __init__(self, index: int, size: tuple[int, int], boxes: list):
        self.index = index
        self.size = size
        self._boxes = boxes

    def region(self, x0: int, y0: int, w: int, h: int) -> np.ndarray:
        for box in self._boxes:
            if box.holds(x0, y0, w, h):
                return box.rgb(x0, y0, w, h)
        raise NotKept(f"frame {self.index}: box {x0},{y0} {w}x{h} was not kept")


class _Box:
    """One kept box: the decoded planes around it (converted when read, as Frame.region
    converts), or its RGB where the frame has no planes to cut (an RGB source, a test's array)."""

    def __init__(self, x0, y0, x1, y1, source=None, rgb=None, convert=None):
        self.x0, self.y0, self.x1, self.y1 = x0, y0, x1, y1
        self.source, self._rgb, self.convert = source, rgb, convert
        if source is not None:
            sub = source[0]
            self.nbytes = sum(p.buffer_size for p in sub.planes)
        else:
            self.nbytes = rgb.nbytes

    def holds(self, x0, y0, w, h) -> bool:
        return self.x0 <= x0 and self.y0 <= y0 and x0 + w <= self.x1 and y0 + h <= self.y1

    def rgb(self, x0, y0, w, h) -> np.ndarray:
        if self.source is None:
            return self._rgb[y0 - self.y0:y0 - self.y0 + h, x0 - self.x0:x0 - self.x0 + w]
        sub, ax, ay = self.source
        return self.convert(sub)[y0 - ay:y0 - ay + h, x0 - ax:x0 - ax + w]


class LowerFaces:
    """Called by the tracking pass as `keep(frame, observations)` for each frame in order."""

    def __init__(self, budget: int = BUDGET_BYTES):
        self.budget = budget
        self.boxes: dict[int, list] = {}
        self.nbytes = 0
        self.size: tuple[int, int] | None = None
        self.over = False           # the budget ran out: nothing is kept
        self.seen = False           # the pass ran (a cached analysis keeps nothing)

    def __call__(self, frame, observations: dict) -> None:
        self.seen = True
        if self.over:
            return
        img = frame.image
        h, w = img.shape[:2]
        self.size = (w, h)
        kept = []
        for o in observations.values():
            x0, y0, x1, y1 = keep_box(o.lm3[:, :2], w, h)
            if x1 <= x0 or y1 <= y0:
                continue
            # The decoded planes when the frame has them: half the bytes of 8-bit RGB at 4:2:0
            # (the bench's close-up keeps ~0.5 MB a frame, not 0.9).
            cut = getattr(frame, "region_source", None)
            source = cut(x0, y0, x1 - x0, y1 - y0) if cut is not None else None
            if source is not None:
                box = _Box(x0, y0, x1, y1, source=source, convert=frame.converter)
            else:
                box = _Box(x0, y0, x1, y1, rgb=np.array(img[y0:y1, x0:x1], copy=True))
            kept.append(box)
            self.nbytes += box.nbytes
        if self.nbytes > self.budget:
            self.over = True
            self.boxes = {}
            return
        self.boxes[frame.index] = kept

    @property
    def usable(self) -> bool:
        return self.seen and not self.over and self.size is not None

    def frame(self, index: int) -> KeptFrame:
        return KeptFrame(index, self.size, self.boxes.get(index, []))

    def clear(self) -> None:
        self.boxes = {}


def keep_box(lm: np.ndarray, width: int, height: int) -> tuple[int, int, int, int]:
    """(x0, y0, x1, y1) of the lower face and the margin around it, clipped to the frame."""
    x0, y0 = lm.min(0)
    x1, y1 = lm.max(0)
    fw, fh = x1 - x0, y1 - y0
    bx0 = int(np.floor(x0 - SIDE_MARGIN * fw))
    bx1 = int(np.ceil(x1 + SIDE_MARGIN * fw))
    by0 = int(np.floor(y0 + TOP_FROM * fh))
    by1 = int(np.ceil(y1 + BELOW_MARGIN * fh))
    return max(0, bx0), max(0, by0), min(width, bx1), min(height, by1)
