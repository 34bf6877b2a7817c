"""A small dialogue scene from real talking clips, for the cast tests and bench/bench_cast.py.

    scene = make_scene(root, media, left="talk_d", right="talk_f", extra="talk_g")

Five shots (each its own movie, 25 fps, no timecode), cut one after the other on V1:
  1. two_a: LEFT | RIGHT side by side (source frames f0..),
  2. two_b: RIGHT | LEFT, other frames (the two swap sides),
  3. close_l: LEFT alone, zoomed in (the central 70% of the picture),
  4. close_r: RIGHT alone,
  5. other: EXTRA alone (a face of no character).
Two character stems under the whole cut ("Dub ES ANNA" = LEFT's character, "Dub ES BEN"),
real speech from `speech`: ANNA speaks under shots 1 and 3, BEN under shots 2, 3 and 4 (so BEN
speaks off screen under shot 3), silence elsewhere; a mix of both on "Dub ES MIX". The cast file
names ANNA by close_l (the only face, frame 10) and BEN by two_b (left face, frame 10).
"""
from __future__ import annotations

import json
import os
import wave
from dataclasses import dataclass

import av
import cv2
import numpy as np
import opentimelineio as otio
from opentimelineio import opentime

FPS = 25
SR = 16000
# Where each character speaks: shot numbers (1-based) of the five.
SPEAKS = {"ANNA": (1, 3), "BEN": (2, 3, 4)}
# Who each shot shows, left to right (None: EXTRA, no character of the cast).
SHOTS_FACES = (("ANNA", "BEN"), ("BEN", "ANNA"), ("ANNA",), ("BEN",), (None,))


@dataclass
class Scene:
    cut: str
    cast: str
    shots: list[str]
    stems: dict          # character -> wav
    mix: str
    frames: int          # per shot
    size: int


def _frames(path: str, first: int, n: int) -> list[np.ndarray]:
    """n frames from `first`, or the last n of a shorter clip."""
    with av.open(path) as c:
        every = [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]
    first = max(0, min(first, len(every) - n))
    return every[first:first + n]


def _write(path: str, frames: list[np.ndarray]) -> str:
    with av.open(path, "w") as c:
        s = c.add_stream("libx264", rate=FPS, options={"crf": "16", "preset": "veryfast"})
        s.width, s.height, s.pix_fmt = frames[0].shape[1], frames[0].shape[0], "yuv420p"
        for img in frames:
            for p in s.encode(av.VideoFrame.from_ndarray(np.ascontiguousarray(img), format="rgb24")):
                c.mux(p)
        for p in s.encode():
            c.mux(p)
    return path


def _fit(img: np.ndarray, size: int, zoom: float = 1.0) -> np.ndarray:
    h, w = img.shape[:2]
    side = int(min(h, w) / zoom)
    y0, x0 = (h - side) // 2, (w - side) // 2
    return cv2.resize(img[y0:y0 + side, x0:x0 + side], (size, size), interpolation=cv2.INTER_AREA)


# Per-shot colour grades (RGB gain, gamma) for `make_scene(grade=True)`: each shot lit and
# balanced differently, as cuts of a real scene are (warm, cool and darker, flat and brighter).
GRADES = {"two_b": ((1.12, 1.0, 0.85), 0.9), "close_l": ((0.85, 0.95, 1.1), 1.25),
          "close_r": ((1.05, 1.05, 1.0), 0.8)}


def _graded(img: np.ndarray, gain, gamma: float) -> np.ndarray:
    x = (img.astype(np.float32) / 255.0) ** gamma * np.asarray(gain, np.float32)
    return np.clip(x * 255.0 + 0.5, 0, 255).astype(np.uint8)


def _wav(path: str, samples: np.ndarray) -> str:
    pcm = (np.clip(samples, -1, 1) * 32767).astype("<i2")
    with wave.open(path, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(SR)
        w.writeframes(pcm.tobytes())
    return path


def _speech(path: str) -> np.ndarray:
    from lipflap.media.audio import load_audio
    return np.asarray(load_audio(path, rate=SR), np.float32).reshape(-1)


def make_scene(root, media, *, left: str = "talk_d", right: str = "talk_f",
               extra: str = "talk_g", size: int = 160, frames: int = 30,
               grade: bool = False) -> Scene:
    root = os.fspath(root)
    os.makedirs(root, exist_ok=True)
    src = {k: os.path.join(os.fspath(media), f"{k}.mp4") for k in (left, right, extra)}
    n = frames
    L0, R0 = _frames(src[left], 0, n), _frames(src[right], 0, n)
    L1, R1 = _frames(src[left], 100, n), _frames(src[right], 100, n)
    shots = {
        "two_a": [np.hstack([_fit(a, size), _fit(b, size)]) for a, b in zip(L0, R0)],
        "two_b": [np.hstack([_fit(b, size), _fit(a, size)]) for a, b in zip(L1, R1)],
        "close_l": [_fit(a, size, 1.4) for a in _frames(src[left], 150, n)],
        "close_r": [_fit(b, size) for b in _frames(src[right], 60, n)],
        "other": [_fit(c, size) for c in _frames(src[extra], 0, n)],
    }
    if grade:
        shots = {k: [_graded(f, *GRADES[k]) for f in v] if k in GRADES else v
                 for k, v in shots.items()}
    paths = [_write(os.path.join(root, f"{k}.mp4"), v) for k, v in shots.items()]
    seconds = n / FPS
    total = int(round(len(paths) * seconds * SR))
    speech = _speech(os.path.join(os.fspath(media), "speech_a.wav"))
    stems = {}
    for who, shots_on in SPEAKS.items():
        y = np.zeros(total, np.float32)
        for k in shots_on:
            a = int(round((k - 1 + 0.1) * seconds * SR))
            piece = speech[a % (len(speech) // 2):][:int(0.8 * seconds * SR)]
            y[a:a + len(piece)] = piece
        stems[who] = _wav(os.path.join(root, f"{who}.wav"), y)
    mix = _wav(os.path.join(root, "MIX.wav"), sum(_speech(p) for p in stems.values()) * 0.7)
    cut = scene_cut(root, paths, stems, mix, n)
    cast = os.path.join(root, "cast.json")
    with open(cast, "w") as f:
        json.dump({"characters": {"ANNA": {"video": "close_l.mp4", "face": "only", "frame": 10},
                                  "BEN": {"video": "two_b.mp4", "face": "left", "frame": 10}}}, f)
    return Scene(cut, cast, paths, stems, mix, n, size)


def _tr(start, dur):
    return opentime.TimeRange(opentime.RationalTime(start, FPS), opentime.RationalTime(dur, FPS))


def scene_cut(root: str, paths: list[str], stems: dict, mix: str, n: int, ext: str = ".otio",
              adapter: str | None = None, **write_args) -> str:
    """The shots one after the other on V1, one audio track per stem and the mix (clips named
    like their tracks, dub_es_anna: formats without track names find them by clip name)."""
    tl = otio.schema.Timeline(name="scene", global_start_time=opentime.from_timecode(
        "01:00:00:00", FPS))
    v1 = otio.schema.Track(name="V1", kind=otio.schema.TrackKind.Video)
    for p in paths:
        ref = otio.schema.ExternalReference(target_url=p, available_range=_tr(0, n))
        v1.append(otio.schema.Clip(name=os.path.splitext(os.path.basename(p))[0],
                                   media_reference=ref, source_range=_tr(0, n)))
    tl.tracks.append(v1)
    total = n * len(paths)
    for name, wav in [(f"Dub ES {c}", p) for c, p in stems.items()] + [("Dub ES MIX", mix)]:
        t = otio.schema.Track(name=name, kind=otio.schema.TrackKind.Audio)
        t.append(otio.schema.Clip(name=name.lower().replace(" ", "_"),
                                  media_reference=otio.schema.ExternalReference(target_url=wav),
                                  source_range=_tr(0, total)))
        tl.tracks.append(t)
    for t in tl.audio_tracks():
        t[0].media_reference.available_range = _tr(0, total)
    path = os.path.join(root, "scene" + ext)
    otio.adapters.write_to_file(tl, path, adapter_name=adapter, **write_args)
    return path
