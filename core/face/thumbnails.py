"""One small picture per tracked face, so an editor can tell which face a voice goes to.

    faces_to_show(analysis) -> [FaceShot]          which frame and box shows each face best
    write_thumbnails(analysis, folder) -> [dict]   one PNG per face id, listed for the analysis JSON

A face's picture is cut from the frame where its box is largest while lying wholly inside the
picture (a face cut by the frame edge or still entering is a poor likeness), the earliest such
frame on a tie. Each entry also says where the face sits among the faces of its shot (`left`,
`right`, `centre`: the job's position spelling, docs/job.md) and the face spec a job should use
for it: the position when it names the face, else its mean centre "X,Y" (the job's point form).
A position survives another frame range and other clips of the scene; a face id is only the id
of one analysis, so the spec never uses it.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from ..contract.errors import LipflapError
from ..contract.files import atomic_write
from ..media.decode import read_frame
from .result import ShotAnalysis

HEIGHT = 128          # px: a thumbnail's height, legible in a dialog row and small on disk
MARGIN = 0.25         # of the box's size added on each side: hair, chin and ears tell people apart


@dataclass
class FaceShot:
    face_id: int
    frame: int                                   # file frame index of the picture
    box: tuple[float, float, float, float]       # x0, y0, x1, y1 in that frame's pixels
    centre: tuple[float, float]                  # mean box centre over the face's frames
    shot: int | None                             # the analysis' shot number of the face
    frames: int                                  # frames the face was seen in
    position: str | None = None                  # left / right / centre among its shot's faces

    @property
    def spec(self) -> str:
        """The face as a job names it: its position, else the point at its mean centre."""
        return self.position or f"{self.centre[0]:.0f},{self.centre[1]:.0f}"


def _inside(box, width: int, height: int) -> bool:
    x0, y0, x1, y1 = box
    return x0 >= 0 and y0 >= 0 and x1 <= width and y1 <= height


def faces_to_show(analysis: ShotAnalysis) -> list[FaceShot]:
    """Every face id the analysis tracked, with the frame that shows it best, left to right."""
    seen: dict[int, list[tuple[int, tuple]]] = {}
    for f in analysis.frames:
        for fid, box in f.faces:
            seen.setdefault(int(fid), []).append((f.index, tuple(float(v) for v in box)))
    out = []
    for fid, where in seen.items():
        def score(item):
            idx, b = item
            area = max(0.0, b[2] - b[0]) * max(0.0, b[3] - b[1])
            return (_inside(b, analysis.width, analysis.height), area, -idx)
        frame, box = max(where, key=score)
        centres = np.array([((b[0] + b[2]) / 2, (b[1] + b[3]) / 2) for _, b in where])
        info = analysis.faces.get(fid, {})
        out.append(FaceShot(fid, frame, box, (float(centres[:, 0].mean()), float(centres[:, 1].mean())),
                            info.get("shot"), len(where)))
    _name_positions(out)
    return sorted(out, key=lambda s: (s.shot if s.shot is not None else -1, s.centre[0], s.face_id))


def _name_positions(shots: list[FaceShot]) -> None:
    """`left`/`right` for the outer faces of a shot with two or three faces, `centre` for the
    middle of three: the faces a job's position spelling picks out (lipflap.face.speaker orders a
    shot's faces by mean centre the same way). One face, or four and more, get no position."""
    by_shot: dict = {}
    for s in shots:
        by_shot.setdefault(s.shot, []).append(s)
    for group in by_shot.values():
        if not 2 <= len(group) <= 3:
            continue
        group.sort(key=lambda s: (s.centre[0], s.face_id))
        group[0].position, group[-1].position = "left", "right"
        if len(group) == 3:
            group[1].position = "centre"


def crop(image: np.ndarray, box, height: int = HEIGHT, margin: float = MARGIN) -> np.ndarray:
    """The box grown by `margin` on each side (kept inside the picture), scaled to `height`."""
    import cv2  # noqa: PLC0415 - opencv is only needed when thumbnails are asked for
    h, w = image.shape[:2]
    x0, y0, x1, y1 = box
    mx, my = (x1 - x0) * margin, (y1 - y0) * margin
    l, t = int(max(0, np.floor(x0 - mx))), int(max(0, np.floor(y0 - my)))
    r, b = int(min(w, np.ceil(x1 + mx))), int(min(h, np.ceil(y1 + my)))
    if r - l < 2 or b - t < 2:
        raise ValueError(f"box {box} leaves no picture in a {w}x{h} frame")
    cut = image[t:b, l:r]
    out_w = max(1, int(round(cut.shape[1] * height / cut.shape[0])))
    return cv2.resize(cut, (out_w, height), interpolation=cv2.INTER_AREA)


def write_thumbnails(analysis: ShotAnalysis, folder: str, stem: str | None = None) -> list[dict]:
    """One PNG per face id in `folder` (`<stem>_face<ID>.png`), listed for the analysis JSON:
    id, file, frame, box, centre, shot, frames, position and the job's face spec."""
    import cv2  # noqa: PLC0415
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError as e:
        raise LipflapError(f"{folder}: cannot create the thumbnail folder ({e.strerror}); choose a "
                           f"writable --thumbnails folder.") from None
    stem = stem or os.path.splitext(os.path.basename(analysis.path))[0]
    entries = []
    for s in faces_to_show(analysis):
        rgb = read_frame(analysis.path, s.frame, deep=False).image
        if rgb.dtype != np.uint8:
            rgb = np.clip(np.asarray(rgb, np.float32) * 255.0 + 0.5, 0, 255).astype(np.uint8)
        ok, png = cv2.imencode(".png", cv2.cvtColor(crop(rgb, s.box), cv2.COLOR_RGB2BGR))
        if not ok:
            raise LipflapError(f"{analysis.path}: frame {s.frame}: the thumbnail of face "
                               f"{s.face_id} could not be encoded as PNG; run analyze again.")
        path = os.path.abspath(os.path.join(folder, f"{stem}_face{s.face_id}.png"))
        try:
            atomic_write(path, png.tobytes())
        except OSError as e:
            raise LipflapError(f"{path}: cannot write the thumbnail ({e.strerror}); free space or "
                               f"choose a writable --thumbnails folder.") from None
        entries.append({"id": s.face_id, "file": path, "frame": s.frame,
                        "box": [round(v, 1) for v in s.box],
                        "centre": [round(v, 1) for v in s.centre], "shot": s.shot,
                        "frames": s.frames, "position": s.position, "face": s.spec})
    return entries
