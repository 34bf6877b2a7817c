"""MediaPipe wrappers: a face detector on shrunk windows of the frame and Face Mesh on a crop.

Both models ship inside the mediapipe 0.10.21 wheel (`mp.solutions`), nothing is downloaded.
The detector sees square windows of the frame shrunk to its 192 px input, and each tracked face
gets its own Face Mesh in tracking mode, fed a square crop around the face resized to CROP_SIZE
(the face ~190 px, about the landmark model's own input; 256 and 512 px crops measured the same
jitter), so a 4K frame costs about what a 1080p one does.
"""
from __future__ import annotations

import contextlib
import os
import sys
import threading
from concurrent.futures import Future
from dataclasses import dataclass

import cv2
import numpy as np

from .landmarks import N_LANDMARKS

DETECT_INPUT = 192  # BlazeFace full-range input side
CROP_SIZE = 384     # side of the square crop Face Mesh sees
CROP_SCALE = 2.0    # crop side over the face's size (the landmark model wants context around)


def _quiet_import():
    # mediapipe logs through absl/glog to stderr on import and graph start; keep the CLI clean.
    os.environ.setdefault("GLOG_minloglevel", "2")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    from .lean_import import import_mediapipe
    with native_stderr_silenced():
        return import_mediapipe()  # heavy import kept local to the face stage


# fd 2 is the process's: threads that silence it at once (the tracker's Face Mesh, the still
# looks' behind it, the warm-up import) share one redirection, restored when the last one ends.
# Each saving and restoring on its own, one thread's restore put back another's /dev/null.
_SILENCE_LOCK = threading.Lock()
_silence = {"depth": 0, "saved": None}


@contextlib.contextmanager
def native_stderr_silenced():
    """Send file descriptor 2 to /dev/null for the duration (MediaPipe's C++ code writes its
    start-up chatter - XNNPACK delegate, feedback-manager warnings - straight to fd 2, which the
    hosts read for error sentences). LIPFLAP_DEBUG=1 keeps it. Safe from several threads at
    once: fd 2 comes back when the last of them is done."""
    if os.environ.get("LIPFLAP_DEBUG"):
        yield
        return
    with _SILENCE_LOCK:
        if _silence["depth"] == 0:
            try:
                sys.stderr.flush()
                saved = os.dup(2)
            except (OSError, ValueError):
                saved = None
            if saved is not None:
                with open(os.devnull, "wb") as null:
                    os.dup2(null.fileno(), 2)
            _silence["saved"] = saved
        _silence["depth"] += 1
    try:
        yield
    finally:
        with _SILENCE_LOCK:
            _silence["depth"] -= 1
            if _silence["depth"] == 0 and _silence["saved"] is not None:
                os.dup2(_silence["saved"], 2)
                os.close(_silence["saved"])
                _silence["saved"] = None


def to_uint8(img: np.ndarray) -> np.ndarray:
    """RGB uint8 of an RGB uint8/uint16 image (16-bit rounded to its top byte)."""
    if img.dtype == np.uint8:
        return img
    if img.dtype == np.uint16:
        # Rounded, so 8-bit material stored as 16-bit (v * 257) comes back exactly.
        return np.minimum((img.astype(np.uint32) + 128) >> 8, 255).astype(np.uint8)
    return np.clip(img, 0, 255).astype(np.uint8)


class BoxMetrics:
    """Centre and size of anything with a `bbox` (x0, y0, x1, y1 in frame pixels)."""

    @property
    def center(self) -> tuple[float, float]:
        return (self.bbox[0] + self.bbox[2]) / 2, (self.bbox[1] + self.bbox[3]) / 2

    @property
    def size(self) -> float:
        return max(self.bbox[2] - self.bbox[0], self.bbox[3] - self.bbox[1])


@dataclass
class Detection(BoxMetrics):
    bbox: tuple[float, float, float, float]   # x0, y0, x1, y1 in frame pixels
    score: float


class FaceDetector:
    """BlazeFace full-range on square windows of the frame, each shrunk to the model's 192 px.

    BlazeFace needs a face to be about 20 px in its input, i.e. a tenth of the window, so one
    look at a whole 1080p frame misses faces under ~200 px. `detect` therefore looks at a small
    pyramid of overlapping square tiles (the frame, tiles the frame's height, and with `deep` tiles
    half of it), finding faces down to ~1/20 of the frame height; `detect_near` looks only around
    where a lost face was.
    """

    def __init__(self, min_score: float = 0.5, input_size: int = DETECT_INPUT):
        mp = _quiet_import()
        self.input_size = input_size
        with native_stderr_silenced():
            self._det = mp.solutions.face_detection.FaceDetection(
                model_selection=1, min_detection_confidence=min_score)
            # The graph's threads log as they start; one blank inference waits them out.
            self._det.process(np.zeros((input_size, input_size, 3), np.uint8))
        self.calls = 0

    def _window(self, img: np.ndarray, x0: float, y0: float, side: float) -> list[Detection]:
        crop = Crop(x0, y0, side, self.input_size)
        tile = cut_crop(img, crop)
        self.calls += 1
        res = self._det.process(tile)
        out = []
        for d in res.detections or []:
            b = d.location_data.relative_bounding_box
            bx0, by0 = crop.x0 + b.xmin * crop.side, crop.y0 + b.ymin * crop.side
            out.append(Detection((bx0, by0, bx0 + b.width * crop.side,
                                  by0 + b.height * crop.side), float(d.score[0])))
        return out

    def detect(self, img: np.ndarray, deep: bool = False) -> list[Detection]:
        h, w = img.shape[:2]
        dets = []
        for x0, y0, side in tile_windows(h, w, levels=3 if deep else 2):
            dets += self._window(img, x0, y0, side)
        return nms(dets)

    def detect_near(self, img: np.ndarray, center: tuple[float, float],
                    face_size: float) -> list[Detection]:
        side = max(4.0 * face_size, float(self.input_size))
        return nms(self._window(img, center[0] - side / 2, center[1] - side / 2, side))

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._det.close()


def tile_windows(h: int, w: int, levels: int = 2, overlap: float = 0.2):
    """Square windows (x0, y0, side): the whole frame (letterboxed), then tiles of side
    min(h, w), min(h, w)/2, ... (one level each), overlapping by `overlap` of a side."""
    big, small = max(h, w), min(h, w)
    out = [((w - big) / 2, (h - big) / 2, float(big))]
    side = float(small)
    for _ in range(levels - 1):
        if side < 96:
            break
        xs = _positions(w, side, overlap)
        ys = _positions(h, side, overlap)
        if not (len(xs) == 1 and len(ys) == 1 and side >= big):
            out += [(x, y, side) for y in ys for x in xs]
        side /= 2
    return out


def _positions(length: float, side: float, overlap: float) -> list[float]:
    if side >= length:
        return [(length - side) / 2]
    step = side * (1 - overlap)
    n = int(np.ceil((length - side) / step)) + 1
    return list(np.linspace(0, length - side, n))


def nms(dets: list[Detection], thr: float = 0.3) -> list[Detection]:
    """Highest-scoring detection of each overlapping group (tiles see a face more than once)."""
    keep: list[Detection] = []
    for d in sorted(dets, key=lambda d: -d.score):
        if all(_iou(d.bbox, k.bbox) <= thr and not _contains(k.bbox, d.center) for k in keep):
            keep.append(d)
    return keep


def _contains(b, p) -> bool:
    return b[0] <= p[0] <= b[2] and b[1] <= p[1] <= b[3]


def _iou(a, b) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    ua = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / ua if ua > 0 else 0.0


@dataclass
class Crop:
    x0: float
    y0: float
    side: float          # crop side in frame pixels
    size: int            # crop side in crop pixels

    @property
    def scale(self) -> float:
        return self.side / self.size

    def to_frame(self, pts: np.ndarray) -> np.ndarray:
        """Crop-normalized (x, y, z) Face Mesh output -> frame pixels (z in x's pixel scale)."""
        out = np.empty_like(pts, dtype=np.float32)
        out[:, 0] = self.x0 + pts[:, 0] * self.side
        out[:, 1] = self.y0 + pts[:, 1] * self.side
        out[:, 2] = pts[:, 2] * self.side
        return out


def make_crop(center: tuple[float, float], face_size: float, crop_size: int = CROP_SIZE,
              scale: float = CROP_SCALE) -> Crop:
    side = max(8.0, face_size * scale)
    return Crop(center[0] - side / 2, center[1] - side / 2, side, crop_size)


def cut_crop(img: np.ndarray, crop: Crop) -> np.ndarray:
    """The crop's pixels, resized to crop.size square, black outside the frame, uint8 RGB.

    The window is snapped to whole pixels (and, when shrinking 2x or more, to a multiple of the
    integer factor f) and `crop` is updated to the window actually cut, so crop.to_frame is exact.
    Shrinking is an exact f x f box average (OpenCV's fast INTER_AREA path) and then a mild
    bilinear step: about 3x cheaper than one INTER_AREA at a fractional ratio, same anti-aliasing.
    """
    h, w = img.shape[:2]
    x0, y0 = int(np.floor(crop.x0)), int(np.floor(crop.y0))
    side = max(1, int(np.ceil(crop.side)))
    f = max(1, side // crop.size)
    side = -(-side // f) * f
    crop.x0, crop.y0, crop.side = float(x0), float(y0), float(side)
    # In-frame part, snapped to the f-grid of the window.
    sx0 = x0 + -(-(max(0, x0) - x0) // f) * f
    sy0 = y0 + -(-(max(0, y0) - y0) // f) * f
    sx1 = x0 + ((min(w, x0 + side) - x0) // f) * f
    sy1 = y0 + ((min(h, y0 + side) - y0) // f) * f
    if sx1 <= sx0 or sy1 <= sy0:
        return np.zeros((crop.size, crop.size, 3), np.uint8)
    region = img[sy0:sy1, sx0:sx1]
    if f > 1:
        region = cv2.resize(region, ((sx1 - sx0) // f, (sy1 - sy0) // f),
                            interpolation=cv2.INTER_AREA)
    region = to_uint8(region)
    if (sx0, sy0, sx1, sy1) == (x0, y0, x0 + side, y0 + side):
        return cv2.resize(region, (crop.size, crop.size), interpolation=cv2.INTER_LINEAR)
    # Partly outside the frame: resize the small image of the whole window, black outside.
    small_side = side // f
    canvas = np.zeros((small_side, small_side, 3), np.uint8)
    ax, ay = (sx0 - x0) // f, (sy0 - y0) // f
    canvas[ay:ay + region.shape[0], ax:ax + region.shape[1]] = region
    return cv2.resize(canvas, (crop.size, crop.size), interpolation=cv2.INTER_LINEAR)


class CropMesh:
    """One Face Mesh (tracking mode, 478 points) following one face through crops.

    The crop is re-centred on the face every frame, so the landmark ROI Face Mesh carries from
    the previous frame is off only by the face's acceleration, not its speed.
    """

    def __init__(self, min_detection: float = 0.5, min_tracking: float = 0.5):
        mp = _quiet_import()
        with native_stderr_silenced():
            self._fm = mp.solutions.face_mesh.FaceMesh(
                static_image_mode=False, max_num_faces=1, refine_landmarks=True,
                min_detection_confidence=min_detection, min_tracking_confidence=min_tracking)
            # The graph's threads log as they start; one blank inference waits them out.
            self._fm.process(np.zeros((CROP_SIZE, CROP_SIZE, 3), np.uint8))
        self._quiet_calls = 2   # the landmark model's own start-up comes with its first face

    def process(self, crop_img: np.ndarray, crop: Crop) -> np.ndarray | None:
        """(478, 3) float32 landmarks in frame pixels, or None when no face is in the crop."""
        if self._quiet_calls:
            self._quiet_calls -= 1
            with native_stderr_silenced():
                res = self._fm.process(crop_img)
        else:
            res = self._fm.process(crop_img)
        if not res.multi_face_landmarks:
            return None
        lm = res.multi_face_landmarks[0].landmark
        if len(lm) != N_LANDMARKS:
            return None
        pts = np.array([(q.x, q.y, q.z) for q in lm], dtype=np.float32)
        return crop.to_frame(pts)

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._fm.close()


class WarmMesh:
    """A CropMesh made on a thread of its own from the moment this is built, for a caller that
    needs it a little later: its start (the graph, the model and one blank inference) is off
    that caller's chain. The quick QC's (made beside the plan and the library, 0.06-0.09 s of
    wall time the render's first frame waited for) and the analysis tracker's first face's
    (lipflap.face.track, ~44 ms between frame 0's detection and its landmarks). `get()` gives
    it (or raises what making it raised, as making it in place would have); `close()` closes
    it once made, whoever holds it."""

    def __init__(self, name: str = "lipflap-qc-mesh"):
        self._made: Future = Future()

        def make():
            try:
                self._made.set_result(CropMesh())
            except BaseException as e:  # noqa: BLE001 - handed to whoever calls get()
                self._made.set_exception(e)
        threading.Thread(target=make, daemon=True, name=name).start()

    def get(self) -> "CropMesh":
        return self._made.result()

    def close(self) -> None:
        try:
            mesh = self._made.result()
        except BaseException:  # noqa: BLE001 - nothing was made, nothing to close
            return
        mesh.close()
