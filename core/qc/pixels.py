"""`lipflap run`'s quick QC on the output's pixels, from the frames the render already holds.

While the render writes, each output frame is the source frame with the patch blended in; the
sampler rebuilds only the face's box of that composite (the rest of the frame is the source's),
re-tracks it with its own Face Mesh and measures the lips there: nothing is decoded again. It
re-tracks a subsample: every frame of the moments QC judges (p/b/m with a frame either side, open
vowels, every third frame of pause cores) and every STRIDE-th frame between them for the timing
curve; frames it skips
read as "not measured" (NaN), never as closed or open. The source's own lips are measured on the
same frames, for the actor's shape and colour range.
"""
from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass

import numpy as np

from ..face.mesh import WarmMesh
from ..media.prores_choice import probe_indices
from . import regions
from .expected import expected_from_track
from .fidelity import sharpness_ratio
from .measure import quick_report
from .shape import from_range_points, lip_features, outliers

# Between the judged moments, every STRIDE-th frame for the timing curve. Measured at 1080p: 7 ms
# of CPU per re-tracked frame (Face Mesh on the face box); this sampling re-tracks about 45% of a
# dense dub's frames, ~3 ms a frame against the ~72 ms of a plain ProRes decode->encode.
STRIDE = 4

# The mouth box's sharpness is read on every frame, re-tracked or not (no Face Mesh: the box's
# pixels and the patch over them, ~1 ms a frame on the bench's 245x196 box). On the re-tracked
# sample it leant to the moments QC judges: a held-out smiling speaker whose dub closes her mouth
# where she shows teeth (hard set vx_smile) read 1.006 in run's report against 0.896 on the
# yardstick and 0.901 in `lipflap qc`, which take every frame; on every frame 0.888. Every 3rd
# frame read 0.671 there: her frames fall in two groups (0.98 where both mouths match, 0.56
# where hers shows teeth and the render's is closed) and the median sits between them, where a
# subsample moves it most.

# The codec's own loss on the mouth box, read on this many frames spread over the shot: the
# box's sharpness is read before encoding, and a codec that softens fine grain took 0.03-0.05
# off it in the written file (held-out ve_hood, ve_sticker in ProRes 4444: 0.991 and 0.978 read
# here, 0.943 and 0.950 by `lipflap qc`). Each is coded and decoded as the writer codes it
# (lipflap.media.roundtrip) as a band of whole macroblock rows, the frame's full width round
# the box: prores_ks shares a row's budget among its slices, so the band's rows code bit for bit
# as in the whole frame (ve_sticker f40, 4444), where the box alone, all detail and no flat
# background to borrow from, lost more (sharpness 0.893 against the frame's 0.975). On the hard
# set (42 clips, run s75) the figure's mean distance to the yardstick's went 0.030 -> 0.012.
# The frames are the middles of CODEC_FRAMES equal parts of the shot (codec_frames), not its
# first and last: those are often rests (a dub that ends before the shot), whose patch is nearly
# the source and loses only the source's share to the codec. On held-out ve_hood and vy_glasses
# (4444, run s83, in the clip's box, written over lossless) frames 0 and 149 lost 0.013-0.026
# where the redrawn frames between lost 0.02-0.05; with them two of five, the figure read 0.948
# and 0.949 against `lipflap qc`'s 0.943 and 0.933 and passed one; from the middles 0.942, 0.937.
CODEC_FRAMES = 5
CODEC_ROWS = 16             # a macroblock row's height in pixels

# The render ends with the output's signing, ~0.25-0.3 s on one thread while the other core has
# nothing to do (docs/speed.md). The re-tracks of the last sampled frames are held back to that
# moment: what a re-track needs is cut from the output's pixels as the frame goes past (Face
# Mesh's 384 px crop and a box round the lips, ~0.7 MB a frame on the bench's 1080p close-up,
# 8-bit), at most DEFER_BYTES of it, and re-tracked on a thread of its own once `release()` is
# called (the render calls it as the signing starts). 32 MB hold 48 of the bench's frames, ~0.3 s
# of one core (Face Mesh's call and graph, and the lips' features: ~5 ms a frame).
DEFER_BYTES = 32 << 20
# The lips' box held round the source's lips, in mouth widths each side (1 below: a mouth the dub
# opens drops its lower lip under the source's): a re-track of the output lands its lips inside it
# unless it is off by more than the lips' own size, when their colour is read from what it holds.
LIPS_REACH = 0.5
LIPS_REACH_BELOW = 1.0


def sample_frames(expected, n: int, stride: int = STRIDE) -> np.ndarray:
    """Sorted frame indices to re-track for an Expected (lipflap.qc.expected): every frame of
    the judged moments, every third of a pause's core, every `stride`-th frame."""
    kind = frame_strata(expected, n)
    want = set(range(0, n, max(1, stride))) | set(np.flatnonzero(kind == JUDGED).tolist())
    for e in expected.events:
        if e.kind == "pause":
            # the core QC judges (3 frames in from each end), every third frame
            want.update(i for i in range(max(0, e.start + 3), min(n, e.end - 2), 3)
                        if kind[i] == PAUSE_CORE)
    return np.array(sorted(i for i in want if 0 <= i < n), int)


BETWEEN, PAUSE_CORE, JUDGED = 0, 1, 2


def frame_strata(expected, n: int) -> np.ndarray:
    """(n,) int8 per frame: JUDGED (p/b/m with a frame either side, their lowest aperture; open
    vowels, their widest opening; every one re-tracked), PAUSE_CORE (3 frames in from each end
    of a pause, every third re-tracked), else BETWEEN (every STRIDE-th re-tracked)."""
    kind = np.zeros(n, np.int8)
    for e in expected.events:
        if e.kind == "pause":
            kind[max(0, e.start + 3):max(0, min(n, e.end - 2))] = PAUSE_CORE
    for e in expected.events:
        if e.kind == "bilabial":
            kind[max(0, e.start - 1):max(0, min(n, e.end + 2))] = JUDGED
        elif e.kind != "pause":
            kind[max(0, e.start):max(0, min(n, e.end + 1))] = JUDGED
    return kind


def timing_weights(strata: np.ndarray, sampled: np.ndarray) -> np.ndarray:
    """(n,) weight of each frame in the timing r: a re-tracked frame stands for the frames of
    its stratum (`frame_strata`) that were not (the stratum's count over its re-tracked count:
    1 for judged frames, ~3 in pause cores, ~STRIDE between); frames not re-tracked 0.

    The timing r on the evenly spread frames alone (every STRIDE-th, ~27 of 110) differed from
    the r on every frame by up to 0.1 (talk_g: 0.82 against lipflap qc's 0.72); on all
    re-tracked frames unweighted, judged moments over-counted, by up to 0.08. Weighted, on nine
    renders re-tracked on every frame: within 0.048 of every frame's r, 0.018 on average."""
    sampled = np.asarray(sampled, bool)
    w = np.zeros(len(sampled))
    for k in (BETWEEN, PAUSE_CORE, JUDGED):
        m = strata == k
        got = m & sampled
        if got.any():
            w[got] = float(m.sum()) / float(got.sum())
    return w


class OutputSampler:
    """Feed `add(i, frame, patch, peak, source_landmarks)` for every output frame in order
    (frame: the source's media Frame or RGB array; patch: the renderer's Patch or None); read
    `landmarks()` (per frame, None where not re-tracked or no face) and `shape_outliers()`.
    `mesh`: a WarmMesh made earlier to re-track with (closed by `close()`); None: one is made at
    the first re-tracked frame. `defer_bytes`: how much the held-back re-tracks may hold (0: each
    frame is re-tracked as it comes); what they give is the same either way. `mouth_box`: the
    clip's one box for the mouth-box sharpness (regions.clip_mouth_box of the source's
    landmarks), as `lipflap qc` reads it; None: a box following the lips. `source_raw`: per
    frame, the source's unsmoothed points the actor's lip range is read from, as
    shape.range_points gives them (None: from `add`'s landmarks)."""

    def __init__(self, track, n: int, stride: int = STRIDE, mesh: WarmMesh | None = None,
                 defer_bytes: int = DEFER_BYTES, mouth_box: tuple[int, int, int, int] | None = None,
                 source_raw: list | None = None, roundtrip=None):
        self.n = n
        # The actor's own lip range is read from each source frame's unsmoothed Face Mesh points
        # where given (shape.range_points' few, None where none), as `lipflap
        # qc` reads it: the analysis' smoothing narrows the range (a one-frame thin lip is rounded
        # off), and the re-tracked output, unsmoothed, then left it on frames the yardstick and
        # `lipflap qc` keep in it (docs/quality.md, 'The quick QC's actor range').
        self.source_raw = source_raw
        self.stride = max(1, stride)
        expected = expected_from_track(track, n)
        self.strata = frame_strata(expected, n)
        self.want = set(sample_frames(expected, n, stride).tolist())
        self._mesh = None
        self._warm = mesh
        self.lms: list = [None] * n
        self.out_feat: dict[int, np.ndarray | None] = {}
        self.src_feat: list = []
        # mouth-box sharpness, output over source, on every frame (a blurred or smeared
        # mouth passed this check's every other figure), on `mouth_box`, the clip's one box
        # (regions.clip_mouth_box of the source's landmarks), as `lipflap qc` and the yardstick
        # read it; without it on a box of the first frame's size following the lips. Following
        # the lips, the quick QC read 0.957 on a held-out clip's output where `lipflap qc` and
        # the yardstick read 0.941 and 0.945 on the clip's box (hard set vy_glasses, replayed
        # by bench/bench_qc_agree.py).
        self.sharp: list[float] = []
        self.sharp_box = mouth_box
        # `roundtrip`: RGB pictures -> the same coded and decoded as the output's codec codes
        # them (lipflap.media.roundtrip.coded_and_decoded bound to the run's codec and frame
        # size); the composited bands round the mouth box of CODEC_FRAMES frames are kept for
        # it. None: the figure stays the one read before encoding, and says so.
        self.roundtrip = roundtrip
        self._codec_at = set(codec_frames(n))
        self._codec_bands: list[tuple[np.ndarray, tuple[slice, slice]]] = []
        self._codec_loss: list[float] | str | None = None      # per band, or why not measured
        self._box_size: tuple[int, int] | None = None
        self.seconds = 0.0          # wall time spent here (a busy machine inflates it)
        self.cpu_seconds = 0.0      # this thread's CPU time (Face Mesh's own threads not counted)
        self.tracked = 0
        self.error: str | None = None
        # Re-tracks held back (Held), oldest first, within `defer_bytes`; the last of them are
        # re-tracked beside the render's end (see DEFER_BYTES).
        self.defer_bytes = max(0, int(defer_bytes))
        self._held: deque = deque()
        self._held_bytes = 0
        self._drain: threading.Thread | None = None

    def add(self, i: int, frame, patch, peak: float | None, source_landmarks) -> None:
        """Never raises: a sampler that fails stops sampling and says why in `error` (the render
        it rides on must finish)."""
        if source_landmarks is not None and self.error is None:
            t0, c0 = time.perf_counter(), time.thread_time()
            try:
                lm = np.asarray(source_landmarks, np.float64)[:, :2]
                raw = self.source_raw[i] if self.source_raw is not None and \
                    i < len(self.source_raw) else None
                own = lm if raw is None else from_range_points(raw)
                wid, hgt = _frame_size(frame)
                lips = _lips_box(lm, wid, hgt)
                if own is not lm:       # the raw lips may reach a pixel past the smoothed ones
                    lips = _union(lips, _lips_box(own, wid, hgt))
                mouth = self.sharp_box
                if mouth is None:
                    self._box_size = self._box_size or regions.mouth_box_size(lm)
                    mouth = regions.mouth_box(lm, self._box_size, (hgt, wid))
                crop, face = _face_crop(lm, wid, hgt) if i in self.want else (None, None)
                band = (_codec_band(mouth, wid, hgt)
                        if self.roundtrip is not None and i in self._codec_at else None)
                # one conversion of the frame's pixels for the boxes (on a re-tracked frame the
                # face's box holds the other two)
                lips_px, mouth_px, face_px, band_px = _cut_boxes(frame, (lips, mouth, face, band))
                # the actor's own lips on every frame (a small box's pixels, no Face Mesh): their
                # range from the sample alone was narrower and flagged frames that are in it
                self.src_feat.append(None if lips_px is None else
                                     lip_features(own, lips_px, (lips[0], lips[1])))
                if mouth_px is not None:
                    self._sharpness(mouth_px[:, :, :3], mouth, patch, peak)
                if band_px is not None:
                    self._codec_bands.append((
                        _composite(band_px[:, :, :3], band[0], band[1], patch, peak),
                        (slice(mouth[1] - band[1], mouth[3] - band[1]),
                         slice(mouth[0] - band[0], mouth[2] - band[0]))))
                if face_px is not None:
                    held = self._hold(i, face_px[:, :, :3], face, crop, lm, patch, peak)
                    self._held.append(held)
                    self._held_bytes += held.nbytes
            except Exception as e:  # noqa: BLE001 - reported in the QC, never fatal to the render
                self.error = f"{type(e).__name__}: {e} (frame {i})"
            while self._held and self._held_bytes > self.defer_bytes and self.error is None:
                self._retrack_one()
            self.seconds += time.perf_counter() - t0
            self.cpu_seconds += time.thread_time() - c0

    def release(self) -> None:
        """Re-track what is held back, and code the kept bands for the codec's loss, on a thread
        of its own, beside whatever the caller does next (the render: the output's signing, when
        one core has nothing else to do)."""
        if (self._held or self._codec_bands) and self._drain is None:
            self._drain = threading.Thread(target=self._retrack_held, daemon=True,
                                           name="lipflap-qc-tail")
            self._drain.start()

    def settle(self) -> None:
        """Every held-back re-track done (waits for the tail's thread; re-tracks what is still
        held when the last frame never came)."""
        if self._drain is not None:
            self._drain.join()
        self._retrack_held()

    def _retrack_held(self) -> None:
        t0, c0 = time.perf_counter(), time.thread_time()
        while self._held and self.error is None:
            self._retrack_one()
        self._held.clear()
        self._held_bytes = 0
        self._code_bands()
        self.seconds += time.perf_counter() - t0
        self.cpu_seconds += time.thread_time() - c0

    def _code_bands(self) -> None:
        """The codec's loss on the kept bands (once; on the tail's thread beside the signing
        where `release()` started it: ~0.13 s of wall for 5 bands of the bench's 1080p frames in
        422 HQ). A roundtrip that fails leaves the figure as read before encoding, saying why."""
        if not self._codec_bands or self.roundtrip is None:
            return
        bands, self._codec_bands = self._codec_bands, []
        try:
            coded = self.roundtrip([b for b, _ in bands])
        except Exception as e:  # noqa: BLE001 - the figure before the codec stands, and says why
            self._codec_loss = f"{type(e).__name__}: {e}"
            return
        loss = [sharpness_ratio(c[box], b[box]) for c, (b, box) in zip(coded, bands)]
        self._codec_loss = [v for v in loss if v is not None]

    def _retrack_one(self) -> None:
        """The oldest held-back re-track; its failure stops the sampler, naming its frame."""
        held = self._held.popleft()
        self._held_bytes -= held.nbytes
        try:
            self._retrack(held)
        except Exception as e:  # noqa: BLE001 - reported in the QC, never fatal to the render
            self.error = f"{type(e).__name__}: {e} (frame {held.index})"

    def _hold(self, i: int, src: np.ndarray, box, crop, lm: np.ndarray, patch,
              peak: float | None) -> "Held":
        """What re-tracking frame i needs, cut from the output's pixels now (`src`: the source's
        pixels in `box`, the face's crop window clipped to the frame): Face Mesh's crop and the
        box round the lips that their colour is read from."""
        from ..face.mesh import cut_crop
        bx0, by0 = box[0], box[1]
        out = _composite(src, bx0, by0, patch, peak)
        local = type(crop)(crop.x0 - bx0, crop.y0 - by0, crop.side, crop.size)
        # the box is the crop's window clipped to the frame: what lies outside it is outside
        # the frame, which cut_crop fills with black as it would from the whole frame
        image = cut_crop(out, local)
        lx0, ly0, lx1, ly1 = _lips_reach(lm, out.shape, bx0, by0)
        lips = out[ly0:ly1, lx0:lx1].copy()
        return Held(i, image, local, lips, (bx0 + lx0, by0 + ly0), (bx0, by0))

    def _retrack(self, held: "Held") -> None:
        from ..face.mesh import CropMesh
        if self._mesh is None:
            self._mesh = self._warm.get() if self._warm is not None else CropMesh()
        found = self._mesh.process(held.image, held.crop)
        self.tracked += 1
        if found is not None:
            pts = found[:, :2].astype(np.float64) + held.box_origin
            self.lms[held.index] = pts
            self.out_feat[held.index] = lip_features(pts, held.lips, held.lips_origin)
        else:
            self.out_feat[held.index] = None

    def _sharpness(self, src: np.ndarray, box, patch, peak: float | None) -> None:
        """The mouth box's sharpness, output over source, on this frame (`src`: the source's
        pixels in `box`; see the comment above the module's constants)."""
        r = sharpness_ratio(_composite(src, box[0], box[1], patch, peak), src)
        if r is not None:
            self.sharp.append(r)

    def fidelity(self) -> dict | None:
        """The mouth-box sharpness figure's inputs (lipflap.qc.measure.fidelity_figures): the
        median over the frames, times the codec's own loss on the kept boxes (the median of
        their boxes' sharpness coded and decoded over before) where a roundtrip was given."""
        self.settle()
        if not self.sharp:
            return None
        before = float(np.median(self.sharp))
        fid = {"sharpness_ratio": before, "sharpness_frames": len(self.sharp)}
        loss = self._codec_loss
        if isinstance(loss, str):
            fid["codec_error"] = loss
        elif loss:
            factor = float(np.median(loss))
            fid.update(sharpness_ratio=before * factor, sharpness_before_codec=before,
                       codec_factor=factor, codec_frames=len(loss))
        return fid

    def landmarks(self) -> list:
        self.settle()
        return self.lms

    def shape_outliers(self) -> dict | None:
        """The lips against the actor's range on the re-tracked frames, each standing for the
        frames of its stratum (timing_weights: the judged moments, where a mouth is at its
        extremes, are all re-tracked, the frames between one in STRIDE), so the fraction
        estimates every frame's, as `lipflap qc` and the yardstick count it."""
        self.settle()
        return outliers(self.out_feat, self.src_feat,
                        weights=timing_weights(self.strata[:self.n], self.sampled(self.n)))

    def sampled(self, n: int) -> np.ndarray:
        """(n,) bool: the frames chosen for re-tracking."""
        mask = np.zeros(n, bool)
        mask[[i for i in self.want if i < n]] = True
        return mask

    def close(self) -> None:
        self.settle()
        if self._mesh is not None:
            self._mesh.close()
        elif self._warm is not None:
            self._warm.close()
        self._mesh = self._warm = None


@dataclass
class Held:
    """A sampled output frame's re-track, held back: Face Mesh's crop of the output (`crop`,
    the window in the box's pixels) and the output's pixels round the lips from `lips_origin`
    (x, y, frame pixels); `box_origin` takes the crop's landmarks to frame pixels."""
    index: int
    image: np.ndarray
    crop: object
    lips: np.ndarray
    lips_origin: tuple[int, int]
    box_origin: tuple[int, int]

    @property
    def nbytes(self) -> int:
        return int(self.image.nbytes + self.lips.nbytes)


def _lips_reach(lm: np.ndarray, shape, bx0: int, by0: int) -> tuple[int, int, int, int]:
    """(x0, y0, x1, y1) in the output box's pixels (its top-left at bx0, by0 in the frame) of
    the box round the source's lips that a re-track's lip colour is read from (LIPS_REACH)."""
    from .shape import LIPS_OUTER
    pts = lm[list(LIPS_OUTER)]
    (x0, y0), (x1, y1) = pts.min(0), pts.max(0)
    side = LIPS_REACH * (x1 - x0)
    h, w = shape[:2]
    return (max(0, int(np.floor(x0 - side)) - bx0), max(0, int(np.floor(y0 - side)) - by0),
            min(w, int(np.ceil(x1 + side)) + 1 - bx0),
            min(h, int(np.ceil(y1 + LIPS_REACH_BELOW * (x1 - x0))) + 1 - by0))


def _union(a, b):
    """The box holding boxes a and b (x0, y0, x1, y1; None is nothing)."""
    if a is None or b is None:
        return a if b is None else b
    return (min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3]))


def _frame_size(frame) -> tuple[int, int]:
    """(width, height) of a media Frame or an RGB array."""
    return (frame.shape[1], frame.shape[0]) if isinstance(frame, np.ndarray) else frame.size


def _lips_box(lm: np.ndarray, wid: int, hgt: int):
    """(x0, y0, x1, y1) round the source's lips, in the frame; None where nothing of it is."""
    from .shape import LIPS_OUTER
    pts = lm[list(LIPS_OUTER)]
    x0, y0 = np.maximum(np.floor(pts.min(0)).astype(int) - 2, 0)
    x1, y1 = np.minimum(np.ceil(pts.max(0)).astype(int) + 3, [wid, hgt])
    return None if x1 <= x0 or y1 <= y0 else (int(x0), int(y0), int(x1), int(y1))


def _face_crop(lm: np.ndarray, wid: int, hgt: int):
    """(Face Mesh's crop of the face, its window clipped to the frame as (x0, y0, x1, y1) or
    None where nothing of it is in the frame)."""
    from ..face.mesh import CROP_SIZE, make_crop
    x0, y0 = lm.min(0)
    x1, y1 = lm.max(0)
    crop = make_crop(((x0 + x1) / 2, (y0 + y1) / 2), max(x1 - x0, y1 - y0), CROP_SIZE)
    bx0, by0 = max(0, int(np.floor(crop.x0))), max(0, int(np.floor(crop.y0)))
    bx1 = min(wid, int(np.ceil(crop.x0 + crop.side)) + 1)
    by1 = min(hgt, int(np.ceil(crop.y0 + crop.side)) + 1)
    return crop, (None if bx1 <= bx0 or by1 <= by0 else (bx0, by0, bx1, by1))


def codec_frames(n: int) -> list[int]:
    """The frames (of 0..n-1) whose bands the codec's loss is read on: the middles of
    CODEC_FRAMES equal parts of the shot (fewer in a shorter one)."""
    return probe_indices(0, max(n - 1, 0), CODEC_FRAMES)


def _codec_band(box, wid: int, hgt: int) -> tuple[int, int, int, int]:
    """The frame's full width over the whole macroblock rows (CODEC_ROWS) round `box` (x0, y0,
    x1, y1): the band codes as in the whole frame (see CODEC_FRAMES)."""
    y0 = (int(box[1]) // CODEC_ROWS) * CODEC_ROWS
    y1 = min(-(-int(box[3]) // CODEC_ROWS) * CODEC_ROWS, hgt)
    return 0, y0, wid, y1


def _cut_boxes(frame, boxes) -> list:
    """The pixels of each box (x0, y0, x1, y1; None stays None), cut from one conversion of the
    box round them all (a media Frame converts only the part asked for, with the same pixels as
    a whole-frame conversion: lipflap.media.decode.Frame.region)."""
    real = [b for b in boxes if b is not None]
    if not real:
        return [None] * len(boxes)
    ux0, uy0 = min(b[0] for b in real), min(b[1] for b in real)
    ux1, uy1 = max(b[2] for b in real), max(b[3] for b in real)
    whole = np.asarray(frame.region(ux0, uy0, ux1 - ux0, uy1 - uy0) if hasattr(frame, "region")
                       else frame[uy0:uy1, ux0:ux1])
    return [None if b is None else whole[b[1] - uy0:b[3] - uy0, b[0] - ux0:b[2] - ux0]
            for b in boxes]


def _composite(src: np.ndarray, bx0: int, by0: int, patch, peak: float | None) -> np.ndarray:
    """The output's pixels in the box: the source with the patch blended as the writer does.

    Only the patch's overlap with the box is blended (in float32, as the writer does); the rest
    of the box is the source's pixels, copied. Converting the whole box to float and back gave
    the same pixels at 4x the cost: 12 ms of the sampler's 15 ms a re-tracked frame at 1080p."""
    if patch is None or peak is None:
        return src
    # Where the alpha is 0 the blend gives the source back exactly: blend the alpha's bounding
    # box only (the lower face's hull inside the patch's feathered margin).
    rows, cols = np.flatnonzero((patch.alpha > 0).any(1)), np.flatnonzero((patch.alpha > 0).any(0))
    if not len(rows):
        return src
    ax0, ay0 = max(patch.x0 + int(cols[0]), bx0), max(patch.y0 + int(rows[0]), by0)
    ax1 = min(patch.x0 + int(cols[-1]) + 1, bx0 + src.shape[1])
    ay1 = min(patch.y0 + int(rows[-1]) + 1, by0 + src.shape[0])
    if ax1 <= ax0 or ay1 <= ay0:
        return src
    out = src.copy()
    a = np.clip(patch.alpha[ay0 - patch.y0:ay1 - patch.y0, ax0 - patch.x0:ax1 - patch.x0], 0, 1)
    p = patch.rgb[ay0 - patch.y0:ay1 - patch.y0, ax0 - patch.x0:ax1 - patch.x0, :3]
    r = src[ay0 - by0:ay1 - by0, ax0 - bx0:ax1 - bx0].astype(np.float32)
    d = p - r                       # r + (p - r) * a, as the writer blends, in place
    d *= a[:, :, None]
    d += r
    np.rint(d, out=d)
    np.clip(d, 0, 65535.0 if src.dtype == np.uint16 else 255.0, out=d)
    out[ay0 - by0:ay1 - by0, ax0 - bx0:ax1 - bx0] = d
    return out


def quick_report_from_pixels(sampler: OutputSampler, track, n: int) -> dict:
    """`lipflap run`'s quick QC from a fed sampler: the report of lipflap.qc.measure, measured
    on the re-tracked output frames, with the lips against the actor's range in the source."""
    sampler.settle()
    if sampler.error is not None:
        raise RuntimeError(f"re-tracking the output stopped: {sampler.error}")
    sampled = sampler.sampled(n)
    uniform = sampled & (np.arange(n) % sampler.stride == 0)
    q = quick_report(sampler.landmarks(), track, n_frames=n, shape=sampler.shape_outliers(),
                     sampled=sampled, uniform=uniform, fidelity=sampler.fidelity(),
                     timing_weights=timing_weights(sampler.strata[:n], sampled))
    q["measured_on"] = (f"the output's pixels, re-tracked on {sampler.tracked} of {n} frames "
                        f"(every moment QC judges, and every {STRIDE}th frame between them)")
    q["seconds"] = round(sampler.seconds, 3)
    q["cpu_seconds"] = round(sampler.cpu_seconds, 3)
    return q
