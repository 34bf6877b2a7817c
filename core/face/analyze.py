"""Stage 1 of a shot: every frame's face landmarks, pose, confidence and flags (decode pass 1).

    analyze_video(path, start, end, face="auto") -> ShotAnalysis

One decode pass: per frame a picture signature for cut detection (with one frame of look-ahead),
then the face tracker. After the pass: per shot the speaker is chosen, its landmarks are smoothed
per continuous run, pose, flags and confidence are computed. A frame with no usable face is
flagged, never an error. Results are cached by file content and parameters.
"""
from __future__ import annotations

import hashlib
import os
import time
from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np

from ..contract.errors import LipflapError, MediaError
from ..media.memory import release as release_memory
from ..media.prefetch import prefetched
from . import cache as cache_mod
from . import landmarks as L
from .cuts import CutDetector, signature
from .geometry import eye_distance, mouth_aperture
from .pose import head_pose
from .quality import assess, occlusion_scores
from .result import FrameFace, ShotAnalysis
from .smooth import SmoothParams, runs, smooth_run
from .speaker import Candidate, choose, parse_face, speech_envelope
from .mesh import FaceDetector
from .track import FaceTracker, Observation

# Bump when the analysis changes what it produces: old cache entries then stop matching. The
# cache key also carries a hash of this package's source, so any code change invalidates too.
# 3: landmarks of a clip with a display rotation are in the picture as shown (media.orientation).
ANALYSIS_VERSION = 3
AUDIO_RATE = 16000


# The other modules whose output the cache holds beside the face package's: the still looks
# (render/seen.py, its geometry) are cached with the analysis, so a change there must miss too
# (it did not: a change to seen.py's box reused the old looks, found 2026-12-06); and the turn
# that shows a rotated clip upright, which every landmark is in.
CACHED_RENDER_SOURCES = ("render/seen.py", "render/geometry.py", "media/orientation.py")


def _code_hash(root: str | None = None) -> str:
    """A hash of the source that makes a cached analysis: this package's modules and
    CACHED_RENDER_SOURCES, under `root` (the lipflap package's folder; this one by default)."""
    root = root or os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    face = os.path.join(root, "face")
    names = [os.path.join("face", n) for n in sorted(os.listdir(face)) if n.endswith(".py")]
    h = hashlib.sha256()
    for name in names + list(CACHED_RENDER_SOURCES):
        with open(os.path.join(root, name), "rb") as fh:
            h.update(name.encode() + b"\0" + fh.read())
    return h.hexdigest()[:16]


@dataclass
class Seen:
    """What the pass keeps of one face in one frame: only what the choices after it read, in
    compact form (a long shot holds one of these per face per frame until the analysis is built)."""
    lm: np.ndarray                  # (478, 2) float32 frame pixels
    pose: tuple[float, float, float] | None
    bbox: tuple[float, float, float, float]
    sharpness: float
    mouth_patch: np.ndarray         # (PATCH_H, PATCH_W, 3) uint8

    @classmethod
    def of(cls, o: Observation) -> "Seen":
        return cls(np.ascontiguousarray(o.lm3[:, :2], np.float32), head_pose(o.lm3), o.bbox,
                   o.sharpness, o.mouth_patch)


@dataclass
class TrackingPass:
    """Raw result of the decode pass, before any choice."""
    indexes: list[int]
    times: list[float]
    cuts: list[int]
    blank: list[bool]
    obs: dict[int, dict[int, Seen]] = field(default_factory=dict)  # id -> index -> what was seen
    shot_of: dict[int, int] = field(default_factory=dict)                 # id -> shot number
    seen: dict[int, list[tuple[int, tuple]]] = field(default_factory=dict)  # index -> [(id, bbox)]
    detections_run: int = 0
    seconds: float = 0.0


@dataclass
class Early:
    """What the pass needs of a frame that does not wait for the tracker's result on the frame
    before: its cut signature, and on the frames the tracker's schedule looks for faces, the
    detections ({deep: detections}; a look the schedule does not take is simply not used)."""
    sig: object
    ready: dict


class EarlyLook:
    """Early per frame, for frames in order. In the decoding thread (track_frames' `ahead`) it
    takes the signature and the periodic face detection off the tracker's chain, which is what
    the pass's wall time is: about 0.4 s of the 2 s a 125-frame 1080p shot's pass took, with the
    second core otherwise half idle (docs/speed.md)."""

    def __init__(self, detect_every: int, min_detection: float):
        self.detect_every = max(1, detect_every)
        self.min_detection = min_detection
        self.first: int | None = None
        self.detector = None

    def __call__(self, fr) -> Early:
        img = fr.image
        sig = signature(img)
        if self.first is None:
            self.first = fr.index
        k = fr.index - self.first
        ready = {}
        # The tracker's schedule while it follows faces: a look every detect_every frames from
        # the first, a deep one every fourth (lipflap.face.track.FaceTracker.step).
        if not sig.blank and k % self.detect_every == 0:
            deep = k % (4 * self.detect_every) == 0
            if self.detector is None:
                self.detector = FaceDetector(min_score=self.min_detection)
            ready[deep] = self.detector.detect(img, deep=deep)
        return Early(sig, ready)

    def close(self) -> None:
        if self.detector is not None:
            self.detector.close()
            self.detector = None


def track_frames(frames, n: int, *, detect_every: int = 30, max_gap: int = 50,
                 progress=None, ahead: bool = False, keep=None) -> TrackingPass:
    """Run cut detection and face tracking over an iterable of media Frames (index, image).
    `ahead`: decode, convert and take each frame's early look (EarlyLook) in a thread a few frames
    ahead of the tracker (lipflap.media.prefetch); the result is the same either way.
    `keep(frame, observations)`: called for every frame after tracking (e.g. to copy pixels
    while the frame is at hand, lipflap.pipeline.kept)."""
    tp = TrackingPass([], [], [], [])
    tracker = FaceTracker(detect_every=detect_every, max_gap=max_gap, mesh_ahead=True)
    look = EarlyLook(detect_every, tracker.min_detection)
    stream = prefetched(frames, prepare=look) if ahead else ((f, look(f)) for f in frames)
    cutdet = CutDetector()
    if progress is not None:
        progress.start("analyze", n)
    t0 = time.perf_counter()
    shot = 0
    try:
        cur, cur_early = next(stream, (None, None))
        first = True
        while cur is not None:
            nxt, nxt_early = next(stream, (None, None))
            nxt_sig = nxt_early.sig if nxt is not None else None
            is_cut = cutdet.decide(cur_early.sig, nxt_sig)
            if is_cut:
                tracker.reset()
                tp.cuts.append(cur.index)
                shot += 1
            obs = tracker.step(cur.index, cur.image, force_detect=is_cut or first,
                               blank=cur_early.sig.blank, ready=cur_early.ready)
            first = False
            tp.indexes.append(cur.index)
            tp.times.append(float(cur.time_s))
            tp.blank.append(cur_early.sig.blank)
            tp.seen[cur.index] = [(tid, o.bbox) for tid, o in sorted(obs.items())]
            if keep is not None:
                keep(cur, obs)
            for tid, o in obs.items():
                tp.obs.setdefault(tid, {})[cur.index] = Seen.of(o)
                tp.shot_of.setdefault(tid, shot)
            if progress is not None:
                progress.advance()
            cur, cur_early = nxt, nxt_early
    finally:
        tp.detections_run = tracker.detections_run
        stream.close()      # stops the decoding thread before its detector goes
        look.close()
        tracker.close()
    tp.seconds = time.perf_counter() - t0
    return tp


def _shots(tp: TrackingPass) -> list[tuple[int, int]]:
    """[start, end] file indexes (inclusive) of each shot."""
    if not tp.indexes:
        return []
    starts = [tp.indexes[0]] + [c for c in tp.cuts if c != tp.indexes[0]]
    ends = [s - 1 for s in starts[1:]] + [tp.indexes[-1]]
    return list(zip(starts, ends))


def _candidates(tp: TrackingPass, shot_no: int, s: int, e: int) -> list[Candidate]:
    out = []
    n = e - s + 1
    for tid, by_index in sorted(tp.obs.items()):
        if tp.shot_of.get(tid) != shot_no:
            continue
        ap = np.full(n, np.nan)
        area = np.zeros(n)
        cen = np.full((n, 2), np.nan)
        for idx, o in by_index.items():
            if s <= idx <= e:
                ap[idx - s] = mouth_aperture(o.lm)
                x0, y0, x1, y1 = o.bbox
                area[idx - s] = (x1 - x0) * (y1 - y0)
                cen[idx - s] = ((x0 + x1) / 2, (y0 + y1) / 2)
        out.append(Candidate(tid, ap, area, cen))
    return out


def build_analysis(tp: TrackingPass, *, path: str, fps: Fraction, width: int, height: int,
                   start: int, end: int, face="auto", audio: np.ndarray | None = None,
                   audio_note: str = "", smooth_params: SmoothParams = SmoothParams(),
                   params: dict | None = None) -> ShotAnalysis:
    """Choose the speaker per shot and turn its track into per-frame FrameFace records."""
    rate = float(fps)
    frames = {idx: FrameFace(index=idx, faces=list(tp.seen.get(idx, [])))
              for idx in tp.indexes}
    for c in tp.cuts:
        if c in frames:
            frames[c].flags.append("cut")
    env_all = None
    if audio is not None and len(audio):
        # Frame i is shown at (i - start) / fps after the range start; audio is loaded from there.
        t = (np.array(tp.indexes) - start) / rate
        env_all = speech_envelope(audio, AUDIO_RATE, t)
    shots_out = []
    faces_out: dict[int, dict] = {}
    for shot_no, (s, e) in enumerate(_shots(tp)):
        cands = _candidates(tp, shot_no, s, e)
        env = None if env_all is None else env_all[s - tp.indexes[0]:e - tp.indexes[0] + 1]
        sid, reason, scores = choose(cands, face, env, rate, audio_note)
        shots_out.append({"start": s, "end": e, "speaker_id": sid, "reason": reason,
                          "speech_score": {str(k): (None if not np.isfinite(v) else round(v, 5))
                                           for k, v in scores.items()}})
        for c in cands:
            present = np.isfinite(c.apertures)
            faces_out[c.id] = {
                "shot": shot_no, "frames": int(present.sum()),
                "first": int(s + np.argmax(present)),
                "last": int(s + len(present) - 1 - np.argmax(present[::-1])),
                "mean_height": round(float(np.mean([o.bbox[3] - o.bbox[1]
                                                    for o in tp.obs[c.id].values()])), 1),
                "speech_score": None if c.id not in scores or not np.isfinite(scores[c.id])
                else round(scores[c.id], 5)}
        if sid is None:
            continue
        _fill_speaker(frames, tp.obs[sid], sid, s, e, rate, smooth_params)
    for f in frames.values():
        if f.landmarks is None and "no_face" not in f.flags:
            f.flags.append("no_face")
            f.confidence = 0.0
    ordered = [frames[i] for i in tp.indexes]
    # The shot-level speaker is the one chosen for the most frames.
    if shots_out:
        main = max(shots_out, key=lambda d: (d["speaker_id"] is not None, d["end"] - d["start"]))
        speaker_id, speaker_reason = main["speaker_id"], main["reason"]
        if len(shots_out) > 1:
            speaker_reason += f" (in frames {main['start']}-{main['end']}; " \
                              f"{len(shots_out)} shots, see shots)"
    else:
        speaker_id, speaker_reason = None, "no frames"
    return ShotAnalysis(path=path, fps=fps, width=width, height=height, start=start, end=end,
                        frames=ordered, cuts=list(tp.cuts), speaker_id=speaker_id,
                        speaker_reason=speaker_reason, faces=faces_out, shots=shots_out,
                        params=params or {})


def _fill_speaker(frames: dict[int, FrameFace], by_index: dict[int, Seen], sid: int,
                  s: int, e: int, rate: float, sp: SmoothParams) -> None:
    """Give frames s..e the speaker's landmarks, pose and quality; consumes its entries of
    `by_index` as it copies them, so the pass and the analysis are never both held whole."""
    idxs = sorted(i for i in by_index if s <= i <= e)
    if not idxs:
        return
    present = np.zeros(e - s + 1, bool)
    present[np.array(idxs) - s] = True
    raw = np.full((e - s + 1, L.N_LANDMARKS, 2), np.nan, np.float32)
    poses, sharp, heights = [], np.zeros(len(idxs)), np.zeros(len(idxs))
    patches = None
    for j, i in enumerate(idxs):
        o = by_index.pop(i)
        raw[i - s] = o.lm
        poses.append(o.pose)
        sharp[j] = o.sharpness
        heights[j] = o.bbox[3] - o.bbox[1]
        if patches is None:
            patches = np.empty((len(idxs),) + o.mouth_patch.shape, o.mouth_patch.dtype)
        patches[j] = o.mouth_patch
    # The pass's records are gone: give their heap pages back before the shot-sized arrays
    # below are allocated, and score the patches before the smoothed landmarks exist, so a long
    # shot never holds records, patches and two landmark arrays at once.
    release_memory()
    occlusion = occlusion_scores(patches)
    del patches
    smooth = np.full_like(raw, np.nan)
    for a, b in runs(present):
        smooth_run(raw[a:b], rate, sp, out=smooth[a:b])
    k = np.array(idxs) - s
    iod = np.array([eye_distance(raw[j]) for j in k])
    residual = np.array([np.abs(raw[j] - smooth[j]).mean() for j in k]) / np.maximum(iod, 1e-6)
    quality = assess(heights, poses, sharp, None, residual, occlusion=occlusion)
    for j, i in enumerate(idxs):
        f = frames[i]
        f.face_id = sid
        # Views into the shot's arrays, not copies: a long shot's landmarks are held once.
        f.raw_landmarks = raw[i - s]
        f.landmarks = smooth[i - s]
        f.pose = poses[j]
        f.confidence = quality[j].confidence
        f.flags.extend(quality[j].flags)


def _load_clip_audio(path: str, audio_path, info, start: int, end: int):
    """(mono float32 at AUDIO_RATE from frame `start`, note) or (None, why not)."""
    from ..media.audio import load_audio
    src = audio_path or path
    if audio_path is None and not info.audio:
        return None, "the clip has no audio"
    dur = (end - start + 1) / float(info.fps)
    try:
        wav = load_audio(src, rate=AUDIO_RATE, offset_s=start / float(info.fps), duration_s=dur)
    except MediaError as e:
        return None, f"its audio could not be read ({e})"
    wav = np.asarray(wav, np.float32).reshape(-1)
    if not len(wav) or float(np.abs(wav).max()) < 1e-4:
        return None, "the clip's audio is silent"
    return wav, ""


def analyze_video(path, start: int = 0, end: int | None = None, *, face="auto", audio_path=None,
                  use_cache: bool = True, progress=None, detect_every: int = 30,
                  smooth_params: SmoothParams = SmoothParams(), keep=None,
                  info=None, seen=None) -> ShotAnalysis:
    """Analyse frames start..end (inclusive, 0-based) of `path`; see the module docstring.
    `keep`: as track_frames' (not called when the analysis comes from the cache). `info`: the
    file's lipflap.media.probe.VideoInfo when the caller has it (a probe decodes a frame).
    `seen()`: called once the pass is over, the still looks `keep` took in it, {(file index,
    face id): opening} (lipflap.render.seen.PassLooks): they become the frames' FrameFace.seen
    and are cached with the analysis, under a key of their own (an analysis without them is
    never handed to a caller that wants them)."""
    from ..media.decode import check_range, read_frames
    from ..media.probe import probe

    path = os.fspath(path)
    try:
        parse_face(face)
    except ValueError as e:
        raise LipflapError(f"{e}; use auto, largest, a face id from `lipflap analyze`, or X,Y "
                           f"pixel coordinates.") from None
    if audio_path is not None and not os.path.exists(audio_path):
        raise MediaError(f"{audio_path} does not exist; give the clip's audio file or leave it "
                         f"out.")
    info = info if info is not None else probe(path)
    start, end = check_range(info, start, end)
    params = {"version": ANALYSIS_VERSION, "code": _code_hash(), "start": start, "end": end,
              "face": str(face),
              "detect_every": detect_every, "smooth": vars(smooth_params)}
    if seen is not None:
        params["seen"] = True
    key = None
    if use_cache:
        key = cache_mod.make_key(path, params, audio_path)
        hit = cache_mod.load(key, path)
        if hit is not None:
            if progress is not None:
                progress.start("analyze", end - start + 1)
                progress.set(end - start + 1)
            return hit
    n = end - start + 1
    # Decoded, converted and looked at a few frames ahead in a thread while Face Mesh runs on
    # the last one.
    tp = track_frames(read_frames(path, start, end, info=info), n, detect_every=detect_every,
                      max_gap=max(10, int(round(2 * float(info.fps)))), progress=progress,
                      ahead=True, keep=keep)
    if len(tp.indexes) != n:
        raise MediaError(f"{path}: decoded {len(tp.indexes)} frames of {start}-{end}; the file may "
                         f"be truncated, re-export it.")
    audio, note = (None, "")
    if parse_face(face)[0] == "auto" and len(tp.obs) > 1:
        audio, note = _load_clip_audio(path, audio_path, info, start, end)
    result = build_analysis(tp, path=path, fps=info.fps, width=info.shown_size[0],
                            height=info.shown_size[1], start=start, end=end, face=face,
                            audio=audio, audio_note=note,
                            smooth_params=smooth_params, params=params)
    result.params = dict(params, seconds=round(tp.seconds, 3),
                         detections_run=tp.detections_run)
    del tp
    if seen is not None:
        result.add_seen(seen())
    release_memory()
    if use_cache and key is not None:
        cache_mod.store(key, result)
    return result
