"""Stages 3 and 4, speech and mouth track: the script and the dub's speech become one mouth shape
(aperture, width, rounding, jaw) per rendered frame; or an edited track (--shapes) is read.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..contract.errors import MediaError
from ..contract.jobspec import Job
from ..mouth.build import mouth_track_for_audio
from ..mouth.track import MouthTrack
from ..render.pipeline import REST
from .inputs import Inputs


@dataclass
class MouthShapes:
    track: MouthTrack
    source: str                     # "script", "audio", "edited", ... (the report's mouth_track)
    params: np.ndarray              # (n, 4) per rendered frame; rest where the dub does not reach
    warnings: list[str] = field(default_factory=list)
    text: str | None = None         # the script the track followed (source "script"), else None


def script_text(job: Job) -> str | None:
    """The dub's script: --transcript's file, else --text, else None (audio-only)."""
    if not job.transcript:
        return job.text
    try:
        with open(job.transcript, encoding="utf-8") as f:
            return f.read()
    except OSError as e:
        raise MediaError(f"{job.transcript}: cannot read the transcript ({e.strerror}).") from None


def mouth_shapes(job: Job, inputs: Inputs, text: str | None, progress) -> MouthShapes:
    """The per-frame mouth parameters the render aims at."""
    n, times = inputs.n, inputs.dub_times
    if job.shapes:
        track = MouthTrack.load(job.shapes)
        source = "edited"
        params = track_params(track, times)
    else:
        progress.start("mouth track", 1)
        track = mouth_track_for_audio(job.audio, inputs.fps, text=text, language=job.language,
                                      n_frames=n, start_s=float(times[0]), progress=progress)
        source = track.source or ("script" if text else "audio")
        params = np.array([fr.params() for fr in track.frames[:n]], float)
        if len(params) < n:
            params = np.vstack([params, np.tile(np.array(REST), (n - len(params), 1))])
    if job.audio:
        params[(times < 0) | (times >= inputs.dub_len)] = REST
    return MouthShapes(track=track, source=source, params=params,
                       warnings=list(getattr(track, "warnings", []) or []),
                       text=text if source == "script" else None)


def track_params(track: MouthTrack, times: np.ndarray) -> np.ndarray:
    """(n, 4) mouth parameters at dub times `times` (rest outside the track)."""
    out = np.tile(np.array(REST, float), (len(times), 1))
    if not track.frames:
        return out
    times = np.asarray(times, float)
    i = np.floor(times * float(track.fps) + 1e-6).astype(np.int64)
    ok = (i >= 0) & (i < len(track.frames)) & (times >= 0)
    out[ok] = np.array([fr.params() for fr in track.frames], float)[i[ok]]
    return out
