"""Tracking every face through a shot with stable ids.

Each face has its own Face Mesh (tracking mode) fed a crop around where it was last seen. The
frame-level detector runs only when needed: at the start, at cuts, while a face is missing (to
find it again where it moved) and every `detect_every` frames (to find faces that entered).
A face that is lost keeps its id for `max_gap` frames: when a face shows up again near where it
was lost, at a similar size, it gets its old id back. At a cut the caller calls `reset()`.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from . import landmarks as L
from .geometry import bbox
from .mesh import (CROP_SIZE, BoxMetrics, Crop, CropMesh, Detection, FaceDetector, WarmMesh, cut_crop,
                   make_crop)
from .mesh import _iou as iou

PATCH_W, PATCH_H = 32, 24


@dataclass
class Observation:
    lm3: np.ndarray                 # (478, 3) float32 frame pixels (z in x's scale)
    bbox: tuple[float, float, float, float]
    sharpness: float                # Laplacian variance of the face at crop scale
    mouth_patch: np.ndarray         # (PATCH_H, PATCH_W, 3) uint8, mouth-aligned


@dataclass
class Track(BoxMetrics):
    id: int
    mesh: CropMesh
    lm3: np.ndarray
    bbox: tuple[float, float, float, float]
    last_seen: int
    missing: int = 0
    hits: int = 1
    reseed: Detection | None = field(default=None, repr=False)


def _in_frame(img: np.ndarray, crop) -> tuple[int, int, int, int]:
    """(x0, y0, x1, y1): the crop pixels (of crop.size) that lie inside the frame, less the one
    row or column at an edge that the crop's resize blends with its black padding."""
    h, w = img.shape[:2]
    sc, n = crop.scale, crop.size
    x0, y0 = np.ceil(-crop.x0 / sc), np.ceil(-crop.y0 / sc)
    x1, y1 = np.floor((w - crop.x0) / sc), np.floor((h - crop.y0) / sc)
    x0, y0 = x0 + (x0 > 0), y0 + (y0 > 0)
    x1, y1 = x1 - (x1 < n), y1 - (y1 < n)
    return tuple(int(np.clip(v, 0, n)) for v in (x0, y0, x1, y1))


def _mouth_patch(crop_img: np.ndarray, lm_crop: np.ndarray,
                 inside: tuple[int, int, int, int] | None = None) -> np.ndarray:
    """The mouth and the skin around it, warped so the mouth corners sit at fixed places.

    `inside`: (x0, y0, x1, y1), the part of the crop within the frame; the patch is sampled
    from it alone (its edge repeated), so a face near the frame's edge does not bring the crop's
    black padding into the patch: on a close-up that nods down (selfie f93-100) up to 94 of the
    patch's 768 pixels were black, which read as an occlusion (z 6.1, the frame passed through
    and the closures round it left open); without them z is 2.9.
    """
    if inside is not None:
        x0, y0, x1, y1 = inside
        if (x0, y0, x1, y1) != (0, 0, crop_img.shape[1], crop_img.shape[0]) and x1 > x0 and y1 > y0:
            crop_img = crop_img[y0:y1, x0:x1]
            lm_crop = lm_crop[:, :2] - [x0, y0]
    a = lm_crop[L.MOUTH_CORNERS[0], :2].astype(np.float64)
    b = lm_crop[L.MOUTH_CORNERS[1], :2].astype(np.float64)
    # Corners map to (0.25 W, 0.45 H) and (0.75 W, 0.45 H) of the patch.
    src = np.array([a, b, a + np.array([-(b - a)[1], (b - a)[0]])], np.float32)
    dst = np.array([[0.25 * PATCH_W, 0.45 * PATCH_H], [0.75 * PATCH_W, 0.45 * PATCH_H],
                    [0.25 * PATCH_W, 0.45 * PATCH_H + 0.5 * PATCH_W]], np.float32)
    m = cv2.getAffineTransform(src, dst)
    return cv2.warpAffine(crop_img, m, (PATCH_W, PATCH_H), flags=cv2.INTER_AREA,
                          borderMode=cv2.BORDER_REPLICATE)


def _sharpness(crop_img: np.ndarray, lm_crop: np.ndarray) -> float:
    x0, y0 = np.maximum(lm_crop[:, :2].min(axis=0).astype(int), 0)
    x1, y1 = lm_crop[:, :2].max(axis=0).astype(int)
    face = crop_img[y0:y1, x0:x1]
    if face.size == 0:
        return 0.0
    g = cv2.cvtColor(face, cv2.COLOR_RGB2GRAY)
    return float(cv2.Laplacian(g, cv2.CV_32F).var())


class FaceTracker:
    def __init__(self, detect_every: int = 30, max_gap: int = 50, max_faces: int = 6,
                 min_detection: float = 0.5, crop_size: int = CROP_SIZE,
                 mesh_ahead: bool = False):
        """`mesh_ahead`: make the first face's Face Mesh on a thread of its own from now on.
        Made at the first face (the graph, its model and threads: ~44 ms), it was on the
        analysis' one chain between the first detection and the first landmarks; made from the
        pass's start it is ready by then (the first frame's detection takes longer)."""
        self._spare: WarmMesh | None = WarmMesh("lipflap-mesh-ahead") if mesh_ahead else None
        self.detect_every = detect_every
        self.max_gap = max_gap
        self.max_faces = max_faces
        self.crop_size = crop_size
        self.min_detection = min_detection
        self._detector: FaceDetector | None = None
        self.tracks: list[Track] = []
        self.next_id = 0
        self._last_detect = -10 ** 9
        self._last_deep = -10 ** 9
        self.detections_run = 0

    # -- lifecycle -------------------------------------------------------------------------
    def reset(self) -> None:
        """Forget every face (a new shot starts)."""
        for t in self.tracks:
            t.mesh.close()
        self.tracks = []
        self._last_detect = -10 ** 9
        self._last_deep = -10 ** 9

    def close(self) -> None:
        self.reset()
        if self._spare is not None:
            self._spare.close()
            self._spare = None
        if self._detector is not None:
            self._detector.close()
            self._detector = None

    @property
    def detector(self) -> FaceDetector:
        """Started on first use: with the scheduled looks taken in the decoding thread
        (lipflap.face.analyze.EarlyLook) a shot whose face is never lost needs none (its start
        is ~0.03 s of CPU and ~0.15 s of the pass's wall time on a loaded machine)."""
        if self._detector is None:
            self._detector = FaceDetector(min_score=self.min_detection)
        return self._detector

    def _new_mesh(self) -> CropMesh:
        """A fresh Face Mesh: the one made ahead while there is one (its failure is made again
        here, raised where making one in place would raise it)."""
        spare, self._spare = self._spare, None
        if spare is not None:
            try:
                return spare.get()
            except Exception:  # noqa: BLE001 - made again below, which raises it
                pass
        return CropMesh()

    # -- one frame -------------------------------------------------------------------------
    def _run_mesh(self, mesh: CropMesh, img: np.ndarray, crop: Crop):
        crop_img = cut_crop(img, crop)
        lm = mesh.process(crop_img, crop)
        if lm is None:
            return None
        lm_crop = np.empty_like(lm)
        lm_crop[:, 0] = (lm[:, 0] - crop.x0) / crop.scale
        lm_crop[:, 1] = (lm[:, 1] - crop.y0) / crop.scale
        lm_crop[:, 2] = lm[:, 2] / crop.scale
        return Observation(lm3=lm, bbox=bbox(lm), sharpness=_sharpness(crop_img, lm_crop),
                           mouth_patch=_mouth_patch(crop_img, lm_crop, _in_frame(img, crop)))

    def step(self, index: int, img: np.ndarray, force_detect: bool = False,
             blank: bool = False, ready: dict | None = None) -> dict[int, Observation]:
        """`ready`: {deep: detections} already found on this very frame (by `detect` with that
        depth, e.g. in the decoding thread); used where this step would run the same look."""
        obs: dict[int, Observation] = {}
        if blank:
            # Nothing to see; lost faces keep their ids for the gap.
            for t in self.tracks:
                t.missing += 1
            self._expire()
            return obs

        for t in self.tracks:
            crop = make_crop(t.center, t.size, self.crop_size)
            o = self._run_mesh(t.mesh, img, crop)
            if o is not None and self._plausible(t, o):
                self._update(t, o, index)
                obs[t.id] = o
            else:
                if o is not None:
                    # Face Mesh latched on something else (a neighbour): start it afresh.
                    t.mesh.close()
                    t.mesh = self._new_mesh()
                t.missing += 1

        # With nobody tracked, look often (a face may walk in); while tracking, look now and then
        # for newcomers. The deep look (small faces, ~6x the cost) runs at shot starts and rarely.
        interval = self.detect_every if self.tracks else max(1, self.detect_every // 6)
        deep_interval = 4 * self.detect_every if self.tracks else self.detect_every
        if force_detect or index - self._last_detect >= interval:
            deep = force_detect or index - self._last_deep >= deep_interval
            if deep:
                self._last_deep = index
            dets = ready[deep] if ready and deep in ready else self.detector.detect(img, deep=deep)
            self._detect(index, img, obs, dets)
        else:
            for t in self.tracks:
                if t.id not in obs and t.missing % 3 == 1:
                    # Look again only around where the face was lost.
                    self._detect(index, img, obs, self.detector.detect_near(img, t.center, t.size),
                                 only_reacquire=True)
        self._dedupe(obs)
        self._expire()
        return obs

    def _plausible(self, t: Track, o: Observation) -> bool:
        size = max(o.bbox[2] - o.bbox[0], o.bbox[3] - o.bbox[1])
        cx, cy = (o.bbox[0] + o.bbox[2]) / 2, (o.bbox[1] + o.bbox[3]) / 2
        tx, ty = t.center
        # Allowed jump grows with the time the face has been missing.
        reach = 0.5 + 0.25 * min(t.missing, 4)
        return (0.5 < size / max(t.size, 1e-6) < 2.0
                and np.hypot(cx - tx, cy - ty) < reach * max(t.size, 1.0))

    def _update(self, t: Track, o: Observation, index: int) -> None:
        t.lm3, t.bbox, t.last_seen = o.lm3, o.bbox, index
        t.missing = 0
        t.hits += 1

    def _detect(self, index: int, img: np.ndarray, obs: dict[int, Observation],
                dets: list[Detection], only_reacquire: bool = False) -> None:
        if not only_reacquire:
            self._last_detect = index
        self.detections_run += 1
        for d in sorted(dets, key=lambda d: d.center[0]):
            if any(iou(d.bbox, o.bbox) > 0.2 or _inside(d.center, o.bbox) for o in obs.values()):
                continue  # already tracked
            lost = [t for t in self.tracks if t.id not in obs and t.missing > 0]
            match = None
            for t in lost:
                dist = np.hypot(d.center[0] - t.center[0], d.center[1] - t.center[1])
                ratio = d.size / max(t.size, 1e-6)
                if dist < 1.5 * t.size and 0.4 < ratio < 2.0:
                    if match is None or dist < match[0]:
                        match = (dist, t)
            if match is not None:
                t = match[1]
                t.mesh.close()
                t.mesh = self._new_mesh()
                o = self._run_mesh(t.mesh, img, make_crop(d.center, d.size * 1.2, self.crop_size))
                if o is not None and iou(o.bbox, d.bbox) > 0.2:
                    self._update(t, o, index)
                    obs[t.id] = o
                continue
            if only_reacquire or len(self.tracks) >= self.max_faces:
                continue
            mesh = self._new_mesh()
            o = self._run_mesh(mesh, img, make_crop(d.center, d.size * 1.2, self.crop_size))
            if o is None or iou(o.bbox, d.bbox) <= 0.2:
                mesh.close()
                continue
            t = Track(id=self.next_id, mesh=mesh, lm3=o.lm3, bbox=o.bbox, last_seen=index)
            self.next_id += 1
            self.tracks.append(t)
            obs[t.id] = o

    def _dedupe(self, obs: dict[int, Observation]) -> None:
        ids = sorted(obs)
        for i, a in enumerate(ids):
            for b in ids[i + 1:]:
                if a in obs and b in obs and iou(obs[a].bbox, obs[b].bbox) > 0.5:
                    # Two trackers on one face: the younger id goes.
                    del obs[b]
                    self._drop(b)

    def _drop(self, tid: int) -> None:
        for t in list(self.tracks):
            if t.id == tid:
                t.mesh.close()
                self.tracks.remove(t)

    def _expire(self) -> None:
        for t in list(self.tracks):
            if t.missing > self.max_gap:
                t.mesh.close()
                self.tracks.remove(t)


def _inside(p, b) -> bool:
    return b[0] <= p[0] <= b[2] and b[1] <= p[1] <= b[3]
