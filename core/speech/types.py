"""Plain data passed out of the speech stage.

Phone names are eSpeak NG's IPA spelling (stress marks kept, e.g. "ˈa"); every pause is "_".
Times are seconds from the start of the analysed audio.
"""
from __future__ import annotations

from dataclasses import dataclass, field

PAUSE = "_"


@dataclass
class Phone:
    phone: str
    start: float
    end: float
    word: str | None = None

    @property
    def is_pause(self) -> bool:
        return self.phone == PAUSE

    @property
    def duration(self) -> float:
        return self.end - self.start


@dataclass
class AlignmentResult:
    """Phones covering the audio, plus how they were obtained.

    segments: the speech segments (start, end) in seconds that voice activity found.
    method: "script" (script-aware alignment), "script+sphinx" (refined with pocketsphinx),
        "mismatch" (the script does not match the audio: phones are empty and the caller should use
        the audio-only path), "silence" (no speech at all) or whatever another stage sets.
    fallback_segments: indexes into `segments` whose phone times were not trusted from alignment and
        were spread proportionally instead (see warnings for why).
    """

    phones: list[Phone]
    segments: list[tuple[float, float]]
    method: str
    warnings: list[str] = field(default_factory=list)
    fallback_segments: list[int] = field(default_factory=list)
