"""Material for `lipflap demo`, made on the spot from what installed packages ship (no downloads).

- the portrait: scikit-image's astronaut photograph (public domain, NASA; inside the scikit-image
  wheel), cropped to the head and shoulders;
- a still clip of it with subtle head motion (a slow sway and nod, one resampling per frame from
  the original photograph so the picture stays as sharp as the photo allows);
- speech: eSpeak NG lines (inside espeakng-loader) with their true phoneme times.
"""
from __future__ import annotations

import math
import wave
from dataclasses import dataclass

import cv2
import numpy as np

# The English line the portrait is animated to speak, and its Spanish dub: same meaning, similar
# length, with bilabials (m, p, b), open vowels and a pause in both.
ENGLISH = "Hello! I am an astronaut, and I speak Spanish too."
SPANISH = "¡Hola! Soy astronauta, y también hablo español."
VOICE_VARIANT = "f3"

# Head-and-shoulders crop of the 512x512 photograph (x0, y0, size), scaled to the clip's size.
CROP = (94, 0, 256)


def portrait() -> np.ndarray:
    """The astronaut photograph, RGB uint8 512x512."""
    from skimage import data
    return np.ascontiguousarray(data.astronaut()[..., :3])


@dataclass
class Line:
    samples: np.ndarray      # float32 mono, lead silence included
    rate: int
    phones: list             # lipflap.speech.types.Phone, times in this audio's seconds
    text: str
    language: str

    @property
    def duration(self) -> float:
        return len(self.samples) / self.rate


def speak(text: str, language: str, *, lead_s: float = 0.5, variant: str | None = VOICE_VARIANT,
          rate: int | None = 150) -> Line:
    """Synthesise `text` with `lead_s` of silence before it; phone times shifted to match."""
    from ..speech.espeak import synthesize
    from ..speech.types import PAUSE, Phone
    samples, sr, phones = synthesize(text, language, rate=rate, variant=variant)
    lead = np.zeros(int(round(lead_s * sr)), np.float32)
    shift = len(lead) / sr
    out = [Phone(PAUSE, 0.0, shift)] if shift > 0 else []
    for p in phones:
        q = Phone(p.phone, p.start + shift, p.end + shift, p.word)
        if out and q.phone == PAUSE and out[-1].phone == PAUSE:
            out[-1].end = q.end
        else:
            out.append(q)
    return Line(np.concatenate([lead, np.asarray(samples, np.float32)]), int(sr), out, text,
                language)


def pad_to(line: Line, duration_s: float) -> Line:
    """The line with silence appended up to `duration_s` (the clip's length)."""
    from ..speech.types import PAUSE, Phone
    n = int(round(duration_s * line.rate))
    if n <= len(line.samples):
        return line
    samples = np.concatenate([line.samples, np.zeros(n - len(line.samples), np.float32)])
    phones = list(line.phones)
    end = n / line.rate
    if phones and phones[-1].phone == PAUSE:
        phones[-1] = Phone(PAUSE, phones[-1].start, end)
    else:
        phones.append(Phone(PAUSE, phones[-1].end if phones else 0.0, end))
    return Line(samples, line.rate, phones, line.text, line.language)


def write_wav(path: str, line: Line) -> str:
    pcm = (np.clip(line.samples, -1, 1) * 32767).round().astype("<i2")
    with wave.open(path, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(line.rate)
        w.writeframes(pcm.tobytes())
    return path


def head_motion(i: int, fps: float) -> tuple[float, float, float, float]:
    """(rotation degrees, dx, dy in output pixels / 100 of the frame, scale) at frame i: a slow
    sway and nod from a few incommensurate sines, so it never visibly repeats."""
    t = i / fps
    rot = 1.4 * math.sin(2 * math.pi * t / 3.3) + 0.5 * math.sin(2 * math.pi * t / 1.9 + 1.0)
    dx = 0.6 * math.sin(2 * math.pi * t / 2.7 + 0.4)
    dy = 0.4 * math.sin(2 * math.pi * t / 2.1 + 2.0)
    scale = 1.0 + 0.008 * math.sin(2 * math.pi * t / 4.1)
    return rot, dx, dy, scale


def portrait_frame(photo: np.ndarray, size: int, motion=(0.0, 0.0, 0.0, 1.0)) -> np.ndarray:
    """One frame: the crop scaled to size x size, moved by `motion` about the neck, in ONE warp
    from the photograph (Lanczos), so there is a single resampling."""
    x0, y0, s = CROP
    k = size / s
    rot, dx, dy, scale = motion
    # Pivot: the base of the neck in output pixels (the head turns on the neck, the frame edge
    # barely moves).
    px, py = (222 - x0) * k, (215 - y0) * k
    m = cv2.getRotationMatrix2D((px, py), rot, scale)
    m[0, 2] += dx * size / 100
    m[1, 2] += dy * size / 100
    # photo -> crop/scale -> motion
    a = np.array([[k, 0, -x0 * k], [0, k, -y0 * k], [0, 0, 1]])
    full = np.vstack([m, [0, 0, 1]]) @ a
    return cv2.warpAffine(photo, full[:2], (size, size), flags=cv2.INTER_LANCZOS4,
                          borderMode=cv2.BORDER_REFLECT101)


def write_still_clip(path: str, n_frames: int, fps, *, size: int = 512, codec: str = "h264",
                     audio: Line | None = None, progress=None) -> str:
    """The portrait with subtle head motion, `n_frames` long, mouth as in the photograph."""
    from ..media.encode import VideoWriter
    from ..contract.rates import parse_rate
    rate = parse_rate(fps)
    photo = portrait()
    au = (audio.samples, audio.rate) if audio is not None else None
    if progress is not None:
        progress.start("demo clip", n_frames)
    with VideoWriter(path, codec=codec, fps=rate, width=size, height=size, audio=au) as w:
        for i in range(n_frames):
            w.write(portrait_frame(photo, size, head_motion(i, float(rate))))
            if progress is not None:
                progress.advance()
        return w.close()
