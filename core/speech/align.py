"""Script-aware alignment: the script's phones, timed on the dub.

The aeneas approach made robust to what dubs have: eSpeak NG speaks the script (the reference, whose
phone times are exact), and dynamic time warping of MFCCs carries those times onto the dub.
Measured here, plain DTW falls apart with pauses and noise, so:

* voice activity finds the dub's speech segments; pauses (in the dub and in the reference) are cut out
  before warping, so the script is spread over the dub's segments wherever the speaker paused;
* the dub's own background noise (taken from its pauses) is added to the reference at the dub's
  speech-to-noise ratio, so both sides look alike to the features and to voice activity;
* the reference is analysed at a hop that matches the two speaking rates, so the warp stays near
  the diagonal and a narrow band suffices;
* the result is checked per segment (warp cost per frame, phone durations, every word placed); a
  segment that fails gets its phones spread in proportion to the reference instead (listed in
  fallback_segments, with a warning), and a script that does not fit the audio at all comes back as
  method "mismatch" with no phones, for the caller to use the audio-only path.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lipflap.errors import LipflapError
from lipflap.speech.dtw import coarse_band, dtw_rows, pool, refine
from lipflap.speech.espeak import check_language, synthesize
from lipflap.speech.features import (HOP_S, cmvn, deltas, frame_power, log_mel, mfcc_from_logmel,
                                     resample)
from lipflap.speech.types import PAUSE, AlignmentResult, Phone
from lipflap.speech.vad import VadParams, detect_speech

ALIGN_RATE = 16000


@dataclass(frozen=True)
class AlignParams:
    n_mels: int = 32
    n_ceps: int = 13
    pool: int = 4                  # coarse pass works on blocks of this many 10 ms frames
    fine_band: int = 24            # fine pass half-band (frames) around the coarse route
    step_penalty: float = 0.3
    formant_scales: tuple[float, ...] = (0.9, 1.0, 1.1, 1.2, 1.3)
    # Warp cost relative to the cost of the same reference in reversed order (an unrelated script
    # with the same sounds and voice): measured 0.35-0.55 for matching scripts, 0.86-0.98 for others.
    mismatch_ratio: float = 0.75
    seg_cost_ratio: float = 0.9    # a segment whose warp costs more than this is not trusted
    rate_ratio_range: tuple[float, float] = (0.4, 2.5)  # dub speech time / reference speech time
    min_phone_s: float = 0.010
    max_phone_s: float = 1.2       # a non-pause phone longer than this is a failed warp
    min_pause_s: float = 0.03      # shorter unvoiced gaps are given to the phone before
    vad: VadParams = VadParams()


def _clean_text(text: str) -> str:
    return " ".join((text or "").split())


def align_script(samples: np.ndarray, rate: int, text: str, language: str,
                 params: AlignParams = AlignParams()) -> AlignmentResult:
    """Time the phones of `text` (eSpeak NG language `language`) on mono `samples` at `rate`."""
    text = _clean_text(text)
    if not text:
        raise LipflapError("the transcript is empty; give the dub's script with --text or "
                           "--transcript, or leave both out to use audio-only recognition.")
    code = check_language(language)
    x = np.asarray(samples, dtype=np.float32)
    if x.ndim != 1:
        raise ValueError("align_script wants mono samples; see lipflap.speech.audio.load_speech")
    x = resample(x, int(rate), ALIGN_RATE)
    duration = len(x) / ALIGN_RATE
    vad = detect_speech(x, ALIGN_RATE, params.vad)
    if not vad.segments:
        phones = [Phone(PAUSE, 0.0, duration)] if duration > 0 else []
        return AlignmentResult(phones, [], "silence",
                               ["no speech found in the audio: every frame is a pause"], [])

    ref, ref_rate, ref_phones = synthesize(text, code)
    if not any(p.phone != PAUSE for p in ref_phones):
        raise LipflapError("the transcript has no words eSpeak NG can speak in language "
                           f"'{code}'; check the text and the --language code.")
    ref = resample(ref, ref_rate, ALIGN_RATE)
    ref = _add_dub_noise(ref, x, vad)
    ref_vad = detect_speech(ref, ALIGN_RATE, params.vad)
    fmax = min(7600.0, 0.47 * min(int(rate), ALIGN_RATE))

    # Speaking-rate match: analyse the reference at a hop that gives it as many speech frames as
    # the dub has.
    dub_speech = float(vad.mask.sum()) * HOP_S
    ref_speech = float(ref_vad.mask.sum()) * HOP_S
    if ref_speech <= 0:
        ref_speech = sum(p.duration for p in ref_phones if p.phone != PAUSE)
    ratio = dub_speech / max(ref_speech, 1e-6)
    warnings: list[str] = []
    lo_r, hi_r = params.rate_ratio_range
    if not lo_r <= ratio <= hi_r:
        return _mismatch(vad.segments, f"the script does not fit the audio: its speech would last "
                         f"{ref_speech:.1f} s at a normal rate but the dub has {dub_speech:.1f} s of "
                         "speech; check the transcript or use audio-only recognition")
    ref_hop = HOP_S / ratio

    power_d, freqs = frame_power(x, ALIGN_RATE, HOP_S)
    mask_d = _fit(vad.mask, len(power_d))
    fd = _features(power_d, freqs, 1.0, fmax, mask_d, params)
    power_r, _ = frame_power(ref, ALIGN_RATE, ref_hop)
    t_r = np.arange(len(power_r)) * ref_hop
    mask_r = ref_vad.mask[np.clip(np.round(t_r / HOP_S).astype(int), 0, len(ref_vad.mask) - 1)]
    if mask_r.sum() < 3 or mask_d.sum() < 3:
        return _mismatch(vad.segments, "too little speech to align the script")
    ref_idx = np.flatnonzero(mask_r)
    dub_idx = np.flatnonzero(mask_d)
    D = fd[dub_idx]
    f = params.pool
    Dc = pool(D, f)
    # Formant scale: the dub's voice (a woman, a child, a large man) has its formants higher or
    # lower than eSpeak's; the reference's frequency axis is stretched by the factor that warps
    # best (a vocal-tract-length normalisation chosen on the coarse pass).
    best = None
    for w in params.formant_scales:
        fr = _features(power_r, freqs, w, fmax, mask_r, params)
        Rc = pool(fr[ref_idx], f)
        coarse = dtw_rows(Rc, Dc, coarse_band(len(Dc)), step_penalty=params.step_penalty)
        cost = float(coarse.cost.mean())
        if best is None or cost < best[0]:
            best = (cost, w, fr, Rc, coarse)
    cost, scale, fr, Rc, coarse = best
    # Script check: how much better is the script's order than the same sounds reversed?
    rev = float(dtw_rows(Rc[::-1].copy(), Dc, coarse_band(len(Dc)),
                         step_penalty=params.step_penalty).cost.mean())
    fit = cost / max(rev, 1e-9)
    if fit > params.mismatch_ratio:
        return _mismatch(vad.segments, f"the script does not match the audio (warp cost {fit:.2f} "
                         f"of an unrelated order's, limit {params.mismatch_ratio:.2f}); check the "
                         "transcript and language, or use audio-only recognition")
    R = fr[ref_idx]
    path = refine(R, D, coarse, f, fine_band=params.fine_band, step_penalty=params.step_penalty)
    seg_limit = params.seg_cost_ratio * rev

    # Carry every reference phone boundary across: reference time -> reference speech frame ->
    # dub speech frame -> dub time.
    speech = [p for p in ref_phones if p.phone != PAUSE]
    onsets = np.array([_map_time(p.start, ref_hop, ref_idx, path.target, dub_idx, True)
                       for p in speech])
    ends = np.array([_map_time(p.end, ref_hop, ref_idx, path.target, dub_idx, False)
                     for p in speech])
    onsets = np.maximum.accumulate(onsets)
    phones = _build(speech, onsets, ends, vad.segments, duration, params)

    # Per-segment checks and fallback.
    seg_of_dub_frame = _segment_index(dub_idx * HOP_S, vad.segments)
    frame_seg = seg_of_dub_frame[path.target]
    fallback: list[int] = []
    for s, (a, b) in enumerate(vad.segments):
        rows = frame_seg == s
        inside = [p for p in phones if p.phone != PAUSE and a - 1e-6 <= p.start < b]
        if not rows.any() and not inside:
            continue
        seg_cost = float(path.cost[rows].mean()) if rows.any() else np.inf
        reasons = []
        if seg_cost > seg_limit:
            reasons.append(f"warp cost {seg_cost / rev:.2f} of an unrelated order's")
        short = sum(p.duration < params.min_phone_s for p in inside)
        if inside and short > max(1, 0.25 * len(inside)):
            reasons.append(f"{short} of {len(inside)} phones shorter than "
                           f"{params.min_phone_s * 1000:.0f} ms")
        long_ = [p for p in inside if p.duration > params.max_phone_s]
        if long_:
            reasons.append(f"phone '{long_[0].phone}' lasts {long_[0].duration:.2f} s")
        if not inside and b - a > 0.3:
            reasons.append("no phone placed in it")
        if reasons:
            fallback.append(s)
            warnings.append(f"speech {a:.2f}-{b:.2f} s: alignment not trusted ("
                            f"{'; '.join(reasons)}); phones spread evenly over the segment")
    if fallback:
        fb_time = sum(vad.segments[s][1] - vad.segments[s][0] for s in fallback)
        if fb_time > 0.5 * sum(b - a for a, b in vad.segments):
            return _mismatch(vad.segments, "the script does not match the audio (most speech "
                             "failed the alignment checks); check the transcript and language, or "
                             "use audio-only recognition")
        phones = _spread(phones, speech, vad.segments, fallback, duration, params)
    _enforce_min_durations(phones, params.min_phone_s)
    missing = _missing_words(speech, phones, params.min_phone_s)
    if missing:
        warnings.append(f"{len(missing)} word(s) got no time of their own: "
                        f"{', '.join(missing[:5])}")
    return AlignmentResult(phones, list(vad.segments), "script", warnings, fallback)


def _mismatch(segments, why: str) -> AlignmentResult:
    return AlignmentResult([], list(segments), "mismatch", [why], [])


def _fit(mask: np.ndarray, n: int) -> np.ndarray:
    return mask[:n] if len(mask) >= n else np.pad(mask, (0, n - len(mask)))


def _features(power: np.ndarray, freqs: np.ndarray, scale: float, fmax: float,
              mask: np.ndarray, params: AlignParams) -> np.ndarray:
    """MFCC c1..c12 and their deltas, normalised over the speech frames.  `scale` stretches the
    frequency axis (content at f is read as if at f * scale)."""
    lm = log_mel(power, freqs * scale, params.n_mels, 80.0, fmax)
    c = mfcc_from_logmel(lm, params.n_ceps)[:, 1:]   # c0 (loudness) differs between recordings
    return cmvn(np.hstack([c, deltas(c)]), mask)


def _add_dub_noise(ref: np.ndarray, dub: np.ndarray, vad) -> np.ndarray:
    """Scale the reference to the dub's speech level and add the dub's own pause noise at the same
    speech-to-noise ratio, so that features and voice activity see the two alike."""
    hop = int(round(HOP_S * ALIGN_RATE))
    n = min(len(vad.mask), len(dub) // hop)
    frames = dub[:n * hop].reshape(n, hop)
    quiet = ~vad.mask[:n]
    # Keep clear of speech edges: only pause frames at least 50 ms from speech.
    grow = np.convolve(vad.mask[:n].astype(int), np.ones(11, int), "same") > 0
    quiet &= ~grow
    speech_pow = float(np.mean(frames[vad.mask[:n]] ** 2)) if vad.mask[:n].any() else 0.0
    ref_active = np.abs(ref) > 1e-4
    ref_pow = float(np.mean(ref[ref_active] ** 2)) if ref_active.any() else 0.0
    out = ref * (np.sqrt(speech_pow / ref_pow) if ref_pow > 0 and speech_pow > 0 else 1.0)
    if quiet.sum() < 5:
        return out.astype(np.float32)
    noise = frames[quiet].reshape(-1)
    noise = noise - noise.mean()
    reps = int(np.ceil(len(out) / len(noise)))
    return (out + np.tile(noise, reps)[:len(out)]).astype(np.float32)


def _map_time(t: float, ref_hop: float, ref_idx: np.ndarray, target: np.ndarray,
              dub_idx: np.ndarray, onset: bool) -> float:
    f = t / ref_hop
    # Position among the reference's speech frames; a boundary inside a pause snaps to the speech
    # it belongs to (onsets to the next speech frame, ends to just after the previous one).
    k = int(np.searchsorted(ref_idx, f, side="left"))
    if onset:
        if k >= len(ref_idx):
            pos = float(len(ref_idx) - 1)
        elif k > 0 and ref_idx[k] - ref_idx[k - 1] == 1:
            pos = k - 1 + (f - ref_idx[k - 1])
        else:
            pos = float(k)
    else:
        if k == 0:
            pos = 0.0
        elif k < len(ref_idx) and ref_idx[k] - ref_idx[k - 1] == 1:
            pos = k - 1 + (f - ref_idx[k - 1])
        else:
            pos = float(k - 1) + 0.5
    i0 = int(np.clip(np.floor(pos), 0, len(target) - 1))
    i1 = min(i0 + 1, len(target) - 1)
    w = pos - i0
    j = (1 - w) * target[i0] + w * target[i1]
    j0 = int(np.clip(np.floor(j), 0, len(dub_idx) - 1))
    frac = j - j0
    return float((dub_idx[j0] + frac) * HOP_S)


def _segment_index(times: np.ndarray, segments) -> np.ndarray:
    starts = np.array([a for a, _ in segments])
    return np.clip(np.searchsorted(starts, times, side="right") - 1, 0, len(segments) - 1)


def _build(speech: list[Phone], onsets, ends, segments, duration, params) -> list[Phone]:
    """Phones from mapped onsets/ends, cut at the dub's pauses, gaps filled with "_"."""
    out: list[Phone] = []
    seg_ends = np.array([b for _, b in segments])
    seg_starts = np.array([a for a, _ in segments])
    for k, p in enumerate(speech):
        start = float(onsets[k])
        nxt = float(onsets[k + 1]) if k + 1 < len(speech) else duration
        end = min(max(float(ends[k]), start), nxt)
        # A dub pause that begins inside this phone ends it.
        s = int(np.searchsorted(seg_ends, start, side="left"))
        if s < len(segments) and seg_ends[s] < end and (s + 1 >= len(segments)
                                                        or seg_starts[s + 1] <= nxt):
            end = max(start, min(end, float(seg_ends[s])))
        out.append(Phone(p.phone, start, end, p.word))
    return _fill_pauses(out, duration, params.min_pause_s)


def _fill_pauses(phones: list[Phone], duration: float, min_pause: float) -> list[Phone]:
    out: list[Phone] = []
    t = 0.0
    for p in phones:
        gap = p.start - t
        if gap >= min_pause or (not out and gap > 0):
            out.append(Phone(PAUSE, t, p.start))
        elif gap > 0 and out:
            out[-1].end = p.start
        out.append(p)
        t = max(t, p.end)
    if duration - t > 0:
        if duration - t >= min_pause or not out:
            out.append(Phone(PAUSE, t, duration))
        else:
            out[-1].end = duration
    return out


def _spread(phones: list[Phone], speech: list[Phone], segments, fallback, duration,
            params) -> list[Phone]:
    """Replace the phones of failed segments by the reference's phones spread in proportion to
    their reference durations over the segment."""
    body = [p for p in phones if p.phone != PAUSE]
    for s in fallback:
        a, b = segments[s]
        idx = [i for i, p in enumerate(body) if a - 1e-6 <= p.start < b]
        if not idx:
            continue
        i0, i1 = idx[0], idx[-1] + 1
        ref_d = np.array([max(speech[i].duration, 1e-3) for i in range(i0, i1)])
        edges = a + (b - a) * np.concatenate([[0.0], np.cumsum(ref_d) / ref_d.sum()])
        for n, i in enumerate(range(i0, i1)):
            body[i] = Phone(body[i].phone, float(edges[n]), float(edges[n + 1]), body[i].word)
    return _fill_pauses(body, duration, params.min_pause_s)


def _enforce_min_durations(phones: list[Phone], min_s: float) -> None:
    """Push boundaries so that no non-pause phone is shorter than min_s, borrowing from the
    neighbours (a collapse of a frame or two is warp quantisation, not a missing phone)."""
    for k in range(1, len(phones)):
        prev, cur = phones[k - 1], phones[k]
        if prev.phone != PAUSE and prev.duration < min_s:
            need = min_s - prev.duration
            room = max(0.0, cur.duration - (min_s if cur.phone != PAUSE else 0.0))
            move = min(need, room)
            prev.end += move
            cur.start += move
    for k in range(len(phones) - 2, -1, -1):
        cur, nxt = phones[k], phones[k + 1]
        if nxt.phone != PAUSE and nxt.duration < min_s:
            need = min_s - nxt.duration
            room = max(0.0, cur.duration - (min_s if cur.phone != PAUSE else 0.0))
            move = min(need, room)
            cur.end -= move
            nxt.start -= move


def _missing_words(speech: list[Phone], phones: list[Phone], min_s: float) -> list[str]:
    timed = {}
    order = []
    for p in speech:
        if p.word and p.word not in order:
            order.append(p.word)
    for p in phones:
        if p.word and p.duration >= min_s:
            timed[p.word] = True
    return [w for w in order if w not in timed]
