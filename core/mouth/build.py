"""Mouth-shape tracks from timed phones (script-aware) or from audio-only mouth curves.

Frame i of a track shows the mouth at audio time `start_s + (i + 0.5) / fps` (the frame's
instant: the middle of the 1/fps it is on screen); `start_s` is where frame 0 sits in the audio (the
renderer's --audio-offset). Frames before the
audio's start or past its end are rest. Phones and cues in the track are in track seconds
(audio time minus start_s), like the frames' `time`.
"""
from __future__ import annotations

import math
from fractions import Fraction

import numpy as np

from ..contract.errors import LipflapError
from ..contract.rates import parse_rate
from ..speech.types import PAUSE, Phone
from .phonemes import Features
from .rules import anticipation, closure, coarticulation, flicker, min_duration, pauses, widest_vowel
from .segments import Segment, segments_from_phones
from .track import MouthFrame, MouthTrack, cues_from_frames
from .visemes import SHAPE_TARGET, VISEMES, nearest_shape, nearest_viseme

_REST = np.array(SHAPE_TARGET["X"], float)
# Audio-only: a frame counts as a pause only where the recogniser is fairly sure nobody speaks.
# Resting a mouth that is speaking is the worse error (the curves already sit near rest in real
# pauses); measured on talk_a/b/c, 0.5 cost ~0.01 of aperture correlation, 0.3 none.
_QUIET_P = 0.3


def frame_times(fps: Fraction, n_frames: int, start_s: float) -> np.ndarray:
    """Audio time of each frame's instant: the middle of the interval it is on screen.

    Frame i is shown from i/fps to (i+1)/fps, so the sound it must match is the sound of that
    interval, centred on (i + 0.5)/fps. Sampling at the frame's start put every mouth half a
    frame after its sound; measured against true phone times (lipeval timing_best_lag) the track
    was one frame late on es/fr dubs at 25 fps and lag 0 everywhere once centred.
    """
    return start_s + (np.arange(n_frames, dtype=float) + 0.5) * (fps.denominator / fps.numerator)


def _n_frames(fps: Fraction, end_s: float, start_s: float) -> int:
    return max(0, int(math.ceil((end_s - start_s) * fps - 1e-6)))


# ---- script-aware ----------------------------------------------------------------------------
def track_from_phones(phones: list, fps, n_frames: int | None = None, start_s: float = 0.0, *,
                      source: str = "script", warnings: list[str] | None = None) -> MouthTrack:
    fps = parse_rate(fps)
    phones = sorted((p for p in phones if p.end > p.start), key=lambda p: p.start)
    end_s = phones[-1].end if phones else start_s
    n = _n_frames(fps, end_s, start_s) if n_frames is None else int(n_frames)
    times = frame_times(fps, n, start_s)
    params, visemes, shapes, closed = _animate_phones(phones, times, fps)
    return _assemble(fps, times, params, _tidy(visemes, params, closed, fps),
                     _tidy(shapes, params, closed, fps), phones, start_s, source,
                     list(warnings or []))


def _animate_phones(phones: list, times: np.ndarray, fps: Fraction):
    n = len(times)
    segs = segments_from_phones(phones)
    # Rest before the first and after the last phone, whatever the frame range is.
    t_lo = min(times[0] if n else 0.0, segs[0].start if segs else 0.0) - 1.0
    t_hi = max(times[-1] if n else 0.0, segs[-1].end if segs else 0.0) + 1.0
    head = segs[0].start if segs else t_hi
    tail = segs[-1].end if segs else t_hi
    segs = [_pause(t_lo, head)] + segs + ([_pause(tail, t_hi)] if tail < t_hi else [])
    segs = pauses.rest_in_pauses(segs)
    segs = anticipation.anticipate(segs)
    params, owner = coarticulation.blend(segs, times)
    closed = closure.closure_frames(segs, times, float(fps))
    params = widest_vowel.widest_vowel_frames(params, owner, segs, times, 1.0 / float(fps),
                                              coarticulation.blend, closed)
    params = closure.apply_closure(params, closed)
    teeth = closure.labiodental_frames(segs, times, float(fps)) & ~closed
    params = closure.apply_labiodental(params, teeth)
    own = [segs[o] if o >= 0 else None for o in owner]
    vowel_peak = np.array([s is not None and s.kind == "vowel" and s.start <= t < s.end
                           for s, t in zip(own, times)], bool)
    protected = closed | teeth | vowel_peak
    params = flicker.remove_param_flickers(params, protected)
    params = closure.apply_approach(params, closure.approach_frames(segs, times, float(fps), closed))

    labels = []   # (viseme, shape) per frame
    for i in range(n):
        s = own[i]
        if closed[i]:
            labels.append(("PP", "A"))
        elif teeth[i]:
            labels.append(("FF", "G"))
        elif s is None or (s.kind == "pause" and (s.rest or params[i, 0] < 0.15)):
            labels.append(("sil", "X"))
        elif s.kind == "pause" or s.closure:
            # a relaxed pause, or the blend beside a p/b/m off its sealed frames: name what the
            # mouth shows, never "closed" (only sealed frames are)
            labels.append((nearest_viseme(params[i], allow_closed=False),
                           nearest_shape(params[i], allow_closed=False)))
        else:
            labels.append((s.viseme, s.shape))
    return params, [v for v, _ in labels], [sh for _, sh in labels], closed


def _pause(start: float, end: float) -> Segment:
    f = Features("pause", symbol=PAUSE)
    return Segment(start, end, f, "sil", "X", _REST.copy(), np.ones(4))


def _tidy(labels: list, params: np.ndarray, closed: np.ndarray, fps: Fraction) -> list:
    labels = flicker.remove_label_flickers(labels, closed)
    return min_duration.enforce_min_duration(labels, params, closed,
                                             min_duration.min_frames_for(float(fps)))


# ---- audio-only ------------------------------------------------------------------------------
def track_from_curves(curves, fps, n_frames: int | None = None, start_s: float = 0.0, *,
                      warnings: list[str] | None = None) -> MouthTrack:
    """A track from audio-only mouth curves (lipflap.speech.audio_only.MouthCurves), with the same
    rest, closure, flicker and minimum-duration rules as the script-aware path."""
    fps = parse_rate(fps)
    ct = np.asarray(curves.times, float)
    hop = float(curves.hop_s)
    end_s = float(ct[-1] + hop) if len(ct) else start_s
    n = _n_frames(fps, end_s, start_s) if n_frames is None else int(n_frames)
    times = frame_times(fps, n, start_s)
    params, visemes, shapes, closed = _animate_curves(curves, times, float(fps))
    return _assemble(fps, times, params, _tidy(visemes, params, closed, fps),
                     _tidy(shapes, params, closed, fps), [], start_s, "audio",
                     list(warnings or []))


def _animate_curves(curves, times: np.ndarray, fps: float):
    probs = _class_probs(curves, times, fps)
    params, closed, rest = _frames_from_curves(curves, times, fps, _vowel_frames(probs))
    labels = []   # (viseme, shape) per frame
    for i in range(len(times)):
        if closed[i]:
            labels.append(("PP", "A"))
        elif rest[i] >= 1.0 or params[i, 0] < 0.05:
            labels.append(("sil", "X"))
        else:
            # the recogniser's own class where it has one (it hears what the lips cannot show,
            # e.g. f against s); the shape always follows the parameters the renderer uses
            labels.append((VISEMES[int(np.argmax(probs[i]))] if probs is not None else
                           nearest_viseme(params[i], allow_closed=False),
                           nearest_shape(params[i], allow_closed=False)))
    return params, [v for v, _ in labels], [sh for _, sh in labels], closed


def _class_probs(curves, times: np.ndarray, fps: float):
    """Per-frame viseme probabilities (n, 15) in VISEMES order, sil and PP excluded (closure and
    rest are decided by the rules), or None when the curves carry no classes."""
    cls = getattr(curves, "classes", None)
    names = tuple(getattr(curves, "visemes", VISEMES))
    if cls is None or len(times) == 0:
        return None
    cls = np.asarray(cls, float)
    if cls.ndim != 2 or cls.shape[1] != len(names) or not set(names) <= set(VISEMES):
        return None
    ct = np.asarray(curves.times, float)
    out = np.zeros((len(times), len(VISEMES)))
    for j, name in enumerate(names):
        out[:, VISEMES.index(name)] = _resample(ct, cls[:, j], times, 1.0 / fps)
    out[:, [VISEMES.index("sil"), VISEMES.index("PP")]] = -1.0
    return out


# Viseme classes that are vowels: the audio-only counterpart of the script-aware path's vowel
# frames, which the flicker rule leaves alone.
_VOWEL_VISEMES = ("aa", "E", "ih", "oh", "ou")


def _vowel_frames(probs) -> np.ndarray | None:
    """Frames the recogniser hears as a vowel (its vowel classes hold half the probability or
    more), or None without classes. A short vowel between two bilabials ("Mama") is one frame
    tall at 25 fps: the flicker rule took it for a spike and flattened it, which cost the
    audio-only opening rate 0.80-0.91 on de/fr dubs where script-aware read 1.00."""
    if probs is None:
        return None
    idx = [VISEMES.index(v) for v in _VOWEL_VISEMES]
    return probs[:, idx].sum(axis=1) >= 0.5


def _resample(ct: np.ndarray, values, times: np.ndarray, width: float,
              peak: bool = False) -> np.ndarray:
    """Mean (or with `peak`, maximum) of a curve over each frame's window (`width` around the
    instant); outside the curve's span: 0. The maximum keeps a brief closure that falls between
    frame instants."""
    v = np.asarray(values, float)
    if not len(ct):
        return np.zeros(len(times))
    hop = ct[1] - ct[0] if len(ct) > 1 else width
    k = max(1, int(round(width / hop)))
    if k > 1:
        pad = np.pad(v, (k // 2, k - 1 - k // 2), mode="edge")
        if peak:
            v = np.lib.stride_tricks.sliding_window_view(pad, k).max(axis=1)
        else:
            v = np.convolve(pad, np.ones(k) / k, mode="valid")
    out = np.interp(times, ct, v)
    out[(times < ct[0] - hop) | (times > ct[-1] + hop)] = 0.0
    return out


# Audio-only timing r0 against the true phones (bench/bench_audio_closures.py, docs/quality.md
# 'The widest opening on every frame'), chosen on the 27 eval dubs: share 0 (the mean) 0.819,
# 0.3 0.825, 0.5 0.827, 1 0.824; the other sets at 0.5: others 0.807 -> 0.813, dev 0.804 ->
# 0.809, voices 0.751 -> 0.758, the hard set's dubs 0.780 -> 0.788; closures, openings, rests and
# false seals as before; real speakers' r (bench_audio_loo.py) 0.494 as before.
_WIDEST_SHARE = 0.5


def _frames_from_curves(curves, times: np.ndarray, fps: float, vowel: np.ndarray | None = None):
    ct = np.asarray(curves.times, float)
    width = 1.0 / fps
    cols = [_resample(ct, getattr(curves, k), times, width)
            for k in ("aperture", "width", "rounding", "jaw")]
    # A vowel frame shows the vowel's widest opening within its 1/fps, as a closure frame shows
    # the seal: the mean over the frame halved a 60-100 ms unstressed vowel. Other frames go
    # _WIDEST_SHARE of the way from their mean to their widest, as far as the aperture is the
    # networks' own (`own_aperture`; the read-out fit to real mouths keeps its mean): the mean
    # took in the dip toward a seal a frame away, a closure drawn a frame too wide at 30 fps
    # (vx_makeup's fr dub: 0.09 and 0.15 either side of a sealed frame where script-aware draws
    # 0.40 and 0.39).
    share = _WIDEST_SHARE * float(getattr(curves, "own_aperture", 1.0))
    for k, key in ((0, "aperture"), (3, "jaw")):
        widest = _resample(ct, getattr(curves, key), times, width, peak=True)
        cols[k] = cols[k] + share * (widest - cols[k])
        if vowel is not None:
            cols[k] = np.where(vowel, widest, cols[k])
    params = np.clip(np.stack(cols, axis=1), 0.0, 1.0) if len(times) else np.zeros((0, 4))
    outside = (times < ct[0] - curves.hop_s) | (times > ct[-1] + curves.hop_s) if len(ct) else \
        np.ones(len(times), bool)
    params[outside] = _REST
    speech = _resample(ct, curves.speech, times, width) if curves.speech is not None else \
        np.ones(len(times))
    speech[outside] = 0.0
    rest = pauses.pause_mask_from_speech(speech, fps, threshold=_QUIET_P)
    # Rest: long pauses all the way, middling ones half-way; ramp over a frame or two so the
    # mouth settles rather than snaps.
    ramp = _soften(rest, max(1, int(round(0.05 * fps))))
    params = params * (1.0 - ramp[:, None]) + _REST[None, :] * ramp[:, None]
    closed = np.zeros(len(times), bool)
    if getattr(curves, "closure", None) is not None and len(times):
        clo = _resample(ct, curves.closure, times, width, peak=True)
        closed = closure.closure_frames_from_curve(clo, params[:, 0], rest < 1.0,
                                                   instant=np.interp(times, ct, curves.closure))
        if curves.speech is not None:
            closed |= closure.onset_seal_frames(clo, rest, np.interp(times, ct, curves.speech),
                                                closed)
        params = closure.apply_closure(params, closed)
    protected = closed if vowel is None else closed | vowel
    params = flicker.remove_param_flickers(params, protected, threshold=0.15)
    return params, closed, rest


def _soften(mask: np.ndarray, k: int) -> np.ndarray:
    """Spread the edges of a 0/0.5/1 mask over k frames inward (never outward into speech)."""
    out = mask.astype(float).copy()
    for _ in range(k):
        inner = np.minimum(out, np.minimum(np.r_[out[1:], out[-1:]], np.r_[out[:1], out[:-1]]))
        out = 0.5 * (out + inner)
    return np.where(mask > 0, np.maximum(out, 0.5 * mask), 0.0)


# ---- assembling ------------------------------------------------------------------------------
def _assemble(fps, times, params, visemes, shapes, phones, start_s, source, warnings):
    frames = [MouthFrame(i, float(i * fps.denominator / fps.numerator), visemes[i], shapes[i],
                         float(params[i, 0]), float(params[i, 1]), float(params[i, 2]),
                         float(params[i, 3])) for i in range(len(times))]
    span = len(times) / float(fps)
    track_phones = [Phone(p.phone, float(p.start) - start_s, float(p.end) - start_s,
                          getattr(p, "word", None))
                    for p in phones if p.end - start_s > 0 and p.start - start_s < span]
    return MouthTrack(fps=fps, frames=frames, phonemes=track_phones,
                      cues=cues_from_frames(frames, fps), source=source, warnings=warnings)


# ---- from audio --------------------------------------------------------------------------------
def mouth_track_for_audio(path_or_samples, fps, *, rate: int | None = None, text: str | None = None,
                          language: str | None = None, n_frames: int | None = None,
                          start_s: float = 0.0, progress=None) -> MouthTrack:
    """The mouth-shape track for a dub: script-aware when `text` is given (eSpeak NG `language`),
    audio-only otherwise. Where the script cannot be trusted (the aligner reports a mismatch, or
    segments it only spread evenly) the audio-only curves are used instead and the reason is kept
    in `track.warnings`. `start_s` is the audio time of frame 0; frames outside the audio rest."""
    fps = parse_rate(fps)
    if text is not None and not text.strip():
        raise LipflapError("the transcript is empty; give the dub's script with --text or "
                           "--transcript, or leave both out to use audio-only recognition.")
    if text is not None:
        from ..speech.espeak import check_language
        if not language:
            raise LipflapError("a transcript needs its language: add --language with an eSpeak NG "
                               "code (es, de, fr, ...; `lipflap visemes --list-languages`).")
        language = check_language(language)
    warnings: list[str] = []
    samples, rate = _load(path_or_samples, rate, progress, warnings.append)
    duration = len(samples) / float(rate)
    n = _n_frames(fps, duration, start_s) if n_frames is None else int(n_frames)
    times = frame_times(fps, n, start_s)
    curves = None

    def get_curves():
        nonlocal curves
        if curves is None:
            from ..speech.audio_only import predict_curves
            _stage(progress, "mouth curves")
            curves = predict_curves(samples, rate)
            _done(progress)
        return curves

    if text is not None:
        from ..speech.align import align_script
        _stage(progress, "align")
        result = align_script(samples, rate, text, language)
        _done(progress)
        warnings.extend(result.warnings)
        if result.method == "silence":
            params, visemes, shapes, closed = _animate_phones(result.phones, times, fps)
            source = "script"
        elif result.method == "mismatch" or not result.phones:
            warnings.append("the script could not be aligned to the audio; the mouth follows the "
                            "audio alone (audio-only recognition).")
            params, visemes, shapes, closed = _animate_curves(get_curves(), times, float(fps))
            source = "audio"
        else:
            params, visemes, shapes, closed = _animate_phones(result.phones, times, fps)
            source = "script"
            spans = [result.segments[i] for i in result.fallback_segments
                     if 0 <= i < len(result.segments)]
            if spans:
                a_params, a_vis, a_shp, a_closed = _animate_curves(get_curves(), times, float(fps))
                use = np.zeros(len(times), bool)
                for a, b in spans:
                    use |= (times >= a) & (times < b)
                params[use] = a_params[use]
                closed = np.where(use, a_closed, closed)
                visemes = [a_vis[i] if use[i] else v for i, v in enumerate(visemes)]
                shapes = [a_shp[i] if use[i] else v for i, v in enumerate(shapes)]
                source = "script+audio"
        phones = result.phones
    else:
        params, visemes, shapes, closed = _animate_curves(get_curves(), times, float(fps))
        source, phones = "audio", []
    _stage(progress, "mouth")
    track = _assemble(fps, times, params, _tidy(visemes, params, closed, fps),
                      _tidy(shapes, params, closed, fps), phones, start_s, source, warnings)
    _done(progress)
    return track


def _stage(progress, name: str) -> None:
    """Each stage is one step for the host's progress display (its length is not known ahead)."""
    if progress is not None:
        progress.start(name, 1)


def _done(progress) -> None:
    if progress is not None:
        progress.set(1)


def _load(path_or_samples, rate, progress, warn):
    if isinstance(path_or_samples, (str, bytes)) or hasattr(path_or_samples, "__fspath__"):
        from ..speech.audio import load_speech
        _stage(progress, "audio")
        samples, rate = load_speech(path_or_samples, rate=16000, warn=warn)
        _done(progress)
        return np.asarray(samples, np.float32), int(rate)
    if rate is None:
        raise LipflapError("audio samples were given without their sample rate; pass rate=.")
    x = np.asarray(path_or_samples, np.float32)
    if x.ndim == 2:
        # (n, channels) or (channels, n): mix down, the mouth follows the whole dub
        x = x.mean(axis=1 if x.shape[0] > x.shape[1] else 0)
    return x, int(rate)
