"""Where a run of speech falls into its decay tail: an echo, a voice's ringing or a breath after
the phrase's last sound, which voice activity and the networks still count as speech, though
the lips have stopped by then.

A run's tail is its last frames, at least DECAY_MIN_S of them, all more than DECAY_DB under the
run's loud level (its 90th percentile, the vowels'). eSpeak NG's f2, f3 and f5 voices ring on
25-35 dB under the vowel for 0.11-0.15 s after a phrase (bench/bench_audio_closures.py --set
voices and --set others). The aligner ends a phrase's last phone there
(lipflap.speech.align._end_before_decay); the audio-only curves end the phrase's speech there
(lipflap.speech.audio_only).
"""
from __future__ import annotations

import numpy as np

DECAY_DB = 20.0
DECAY_MIN_S = 0.05


def tail_start(level: np.ndarray, start: int, stop: int, hop_s: float, *,
               decay_db: float = DECAY_DB, min_s: float = DECAY_MIN_S) -> int | None:
    """The first frame of the decay tail of the run level[start:stop] (band energy in dB, one
    value a hop), or None when the run does not end in one (or is shorter than two tails)."""
    n_min = int(round(min_s / hop_s))
    stop = min(int(stop), len(level))
    if stop - start < 2 * n_min:
        return None
    run = np.asarray(level[start:stop], float)
    loud = np.flatnonzero(run >= np.percentile(run, 90) - decay_db)
    if not len(loud) or len(run) - (loud[-1] + 1) < n_min:
        return None
    return int(start + loud[-1] + 1)
