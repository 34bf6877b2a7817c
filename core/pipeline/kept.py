"""The lower faces the analysis pass saw, kept in one fixed-size block of memory, so the exemplar
library is cut from them instead of a second decode of the shot (decode pass 2).

The analysis pass holds every frame's RGB image for a moment anyway; copying a box around each
tracked face's lower half costs ~0.1 ms a frame, where the library's decode pass cost ~0.6 s of
a 125-frame 1080p shot's wall time, on the one chain of stages before the render (docs/speed.md).
The boxes go into one anonymous mapping of BUDGET_BYTES taken from the system at the first
face, each box on whole pages of its own, so the pages of a box go back to the system as soon as
the library has copied it or the plan does not want it (per-box heap copies, tried first, left
the heap fragmented and the pass's resident memory growing after they were dropped). When a
shot's boxes do not fit, the mapping is given back at once and the library decodes the shot as
before: memory stays bounded by the budget whatever the shot's length. The pixels are the decoder's conversion
of the whole frame, which is what the library's region conversion gives
(lipflap.media.decode.Frame.region), so library and render are the same either way.
"""
from __future__ import annotations

import mmap

import numpy as np

# The bench's 125-frame 1080p close-up keeps ~110 MB (0.9 MB a frame); a longer shot, or a
# larger face, decodes again. The block is given back before the render, whose peak is higher
# (~600 MB on the bench).
BUDGET_BYTES = 128 << 20

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
        for bx, by, crop in self._boxes:
            if bx <= x0 and by <= y0 and x0 + w <= bx + crop.shape[1] and \
                    y0 + h <= by + crop.shape[0]:
                return crop[y0 - by:y0 - by + h, x0 - bx:x0 - bx + w]
        raise NotKept(f"frame {self.index}: box {x0},{y0} {w}x{h} was not kept")


class LowerFaces:
    """Called by the tracking pass as `keep(frame, observations)` for each frame in order."""

    def __init__(self, budget: int = BUDGET_BYTES):
        self.budget = budget
        self.boxes: dict[int, list] = {}
        self.used = 0
        self._map: mmap.mmap | None = None
        self.size: tuple[int, int] | None = None
        self.over = False           # the budget ran out: nothing is kept
        self.seen = False           # the pass ran (a cached analysis keeps nothing)

    def __call__(self, frame, observations: dict) -> None:
        self.seen = True
        if self.over or not observations:
            return
        img = frame.image
        h, w = img.shape[:2]
        self.size = (w, h)
        kept = []
        for o in observations.values():
            x0, y0, x1, y1 = keep_box(o.lm3[:, :2], w, h)
            if x1 <= x0 or y1 <= y0:
                continue
            shape = (y1 - y0, x1 - x0) + img.shape[2:]
            nbytes = int(np.prod(shape)) * img.itemsize
            span = -(-nbytes // mmap.PAGESIZE) * mmap.PAGESIZE
            if self.used + span > self.budget:
                self.over = True
                self.clear()
                return
            if self._map is None:
                self._map = mmap.mmap(-1, self.budget)   # pages are taken as they are written
            crop = np.ndarray(shape, img.dtype, buffer=self._map, offset=self.used)
            crop[:] = img[y0:y1, x0:x1]
            kept.append((x0, y0, crop, self.used, span))
            self.used += span
        self.boxes[frame.index] = kept

    @property
    def usable(self) -> bool:
        return self.seen and not self.over and self.size is not None

    @property
    def held(self) -> bool:
        """Whether the mapping is still taken from the system."""
        return self._map is not None

    def frame(self, index: int) -> KeptFrame:
        return KeptFrame(index, self.size, [b[:3] for b in self.boxes.get(index, [])])

    def release(self, index: int) -> None:
        """Give frame `index`'s pages back (copied by the library, or not wanted)."""
        for _, _, _, offset, span in self.boxes.pop(index, []):
            self._map.madvise(mmap.MADV_DONTNEED, offset, span)

    def clear(self) -> None:
        """Give the whole mapping back (the library copies the crops it keeps)."""
        self.boxes = {}
        if self._map is not None:
            m, self._map = self._map, None
            try:
                m.close()
            except BufferError:     # a crop still viewed somewhere: freed with its last view
                pass


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
