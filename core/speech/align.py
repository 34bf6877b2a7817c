"""Script-aware alignment: the script's phones, timed on the dub.

The aeneas approach made robust to what dubs have: eSpeak NG speaks the script (the reference, whose
phone times are exact), and dynamic time warping of MFCCs carries those times onto the dub.
Measured here, plain DTW falls apart with pauses and noise, so:

* voice activity finds the dub's speech segments; pauses (in the dub and in the reference) are cut
  out before warping, so the script is spread over the dub's segments wherever the speaker paused;
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

from lipflap.contract.errors import LipflapError
from lipflap.mouth.phonemes import parse_phone
from lipflap.speech import decay
from lipflap.speech.dtw import coarse_band, dtw_rows, pool, refine
from lipflap.speech.espeak import check_language, synthesize
from lipflap.speech.features import (HOP_S, cmvn, deltas, frame_energy_db, frame_power, log_mel,
                                     mfcc_from_logmel, resample)
from lipflap.speech.types import PAUSE, AlignmentResult, Phone
from lipflap.speech.vad import VadParams, detect_speech, mask_to_segments

ALIGN_RATE = 16000


@dataclass(frozen=True)
class AlignParams:
    n_mels: int = 32
    n_ceps: int = 13
    pool: int = 4                  # coarse pass works on blocks of this many 10 ms frames
    fine_band: int = 24            # fine pass half-band (frames) around the coarse route
    step_penalty: float = 0.3
    formant_scales: tuple[float, ...] = (0.9, 1.0, 1.1, 1.2, 1.3)
    scale_search_blocks: int = 1500  # beyond this many coarse blocks (60 s), search on 3x blocks
    # Script check.  fit = warp cost relative to the same reference in reversed order (the same
    # sounds and voice, unrelated order); wander = share of the coarse route's steps off the
    # diagonal.  Measured: eSpeak dubs in another voice with their script, fit 0.35-0.6 and wander
    # about 0.1; real English speech (5 clips, approximate transcripts) fit 0.86-0.93, wander
    # 0.40-0.52; scripts of other sentences or languages fit 0.86-0.98, wander 0.54-0.64.  Real
    # voices sit far from eSpeak's, so the limit is set for them, not for synthetic dubs.
    mismatch_score: float = 1.19   # fit + wander_weight * wander above this: "mismatch"
    wander_weight: float = 0.5
    confident_fit: float = 0.8     # a fit above this is reported as a loose fit
    seg_cost_ratio: float = 1.25   # a segment warping clearly worse than an unrelated order: not
    #                                trusted (real voices reach 1.1-1.2 on segments that are right)
    short_frac_max: float = 0.5    # ... nor one where more of its phones than this collapsed
    local_rate_max: float = 2.2    # ... nor one spoken this much faster (or slower) than the clip
    word_snap_s: float = 0.03      # see _words_start_where_speech_resumes
    stop_closure_s: float = 0.12   # ... (voice activity's shortest pause)
    decay_db: float = decay.DECAY_DB   # see _end_before_decay
    decay_min_s: float = decay.DECAY_MIN_S
    edge_weight: float = 2.0       # weight of the speech-run edge channels (see _with_edges)
    open_cost_ratio: float = 1.05  # open ends: cost of leaving a row/frame out, x unrelated cost
    skip_cost_ratio: float = 0.45  # per dub frame left out (a 2-frame step absorbs two per row)
    min_coverage: float = 0.5      # less of the script or the speech matched than this: mismatch
    readmit_gap_s: float = 0.5     # dub gaps up to this long may be given back to the speech ...
    readmit_pile_s: float = 0.08   # ... when this much more reference speech piled up at them
    rate_ratio_range: tuple[float, float] = (0.4, 2.5)  # dub speech time / reference speech time
    min_phone_s: float = 0.010
    max_phone_s: float = 1.2       # a non-pause phone longer than this is a failed warp
    min_pause_s: float = 0.03      # shorter unvoiced gaps are given to the phone before
    vad: VadParams = VadParams()


def _clean_text(text: str) -> str:
    return " ".join((text or "").split())


class _Early(Exception):
    """An alignment that ends before its last step: silence, or a script that does not fit."""

    def __init__(self, result: AlignmentResult):
        super().__init__(result.method)
        self.result = result


@dataclass
class _Dub:
    """The dub's side of the warp: its speech frames' features."""
    x: np.ndarray                  # mono samples at ALIGN_RATE
    duration: float
    vad: object                    # the dub's voice activity (segments, mask)
    fmax: float
    fd: np.ndarray                 # features of every dub frame
    mask_d: np.ndarray             # speech frames (voice activity, gaps given back later)
    dub_idx: np.ndarray            # indexes of the speech frames
    D: np.ndarray                  # features of the speech frames, with edge channels
    Dc: np.ndarray                 # D pooled for the coarse pass
    level: np.ndarray              # band energy of every dub frame (dB; voice activity's band)


@dataclass
class _Ref:
    """The script spoken by eSpeak NG: the reference whose phone times are exact."""
    samples: np.ndarray
    phones: list[Phone]
    vad: object
    ratio: float                   # dub speech time over reference speech time


@dataclass
class _Warp:
    """The coarse route from the reference's speech blocks to the dub's, and its scores."""
    coarse: object                 # DtwPath on pooled blocks
    opened: bool                   # the route left material out at the ends
    ref_hop: float                 # the reference's analysis hop (rate-matched)
    fr: np.ndarray                 # reference features at the chosen formant scale
    ref_idx: np.ndarray            # indexes of the reference's speech frames
    Rc: np.ndarray                 # pooled reference speech features
    rev: float                     # cost of the same sounds in reversed order (unrelated)
    fit: float
    score: float


def align_script(samples: np.ndarray, rate: int, text: str, language: str,
                 params: AlignParams = AlignParams()) -> AlignmentResult:
    """Time the phones of `text` (eSpeak NG language `language`) on mono `samples` at `rate`."""
    text = _clean_text(text)
    if not text:
        raise LipflapError("the transcript is empty; give the dub's script with --text or "
                           "--transcript, or leave both out to use audio-only recognition.")
    code = check_language(language)
    try:
        x, duration, vad = _dub_speech(samples, rate, params)
        ref = _reference(text, code, x, vad, params)
        dub = _dub_features(x, duration, vad, rate, params)
        warp = _coarse_warp(dub, ref, params)
        warnings: list[str] = []
        if warp.score > params.mismatch_score:
            raise _Early(_mismatch(vad.segments, f"the script does not match the audio (fit "
                                   f"{warp.fit:.2f} and wander: score {warp.score:.2f}, limit "
                                   f"{params.mismatch_score:.2f}); check "
                                   "the transcript and language, or use audio-only recognition"))
        if warp.fit > params.confident_fit:
            warnings.append(f"the script fits the audio only loosely (fit {warp.fit:.2f}, above "
                            f"{params.confident_fit:.2f}); if the "
                            "mouth looks wrong, check the transcript or try audio-only recognition")
        path = _fine_warp(dub, warp, params)
        segments = mask_to_segments(dub.mask_d, HOP_S, duration)
        speech, phones, frame_target = _carry_phones(ref, dub, warp, path, segments, params,
                                                     warnings)
        fallback = _check_segments(speech, phones, segments, path, frame_target, dub, warp,
                                   params, warnings)
    except _Early as early:
        return early.result
    if fallback:
        phones = _spread(phones, speech, segments, fallback, duration, params)
    _enforce_min_durations(phones, params.min_phone_s)
    missing = _missing_words(speech, phones, params.min_phone_s)
    if missing:
        warnings.append(f"{len(missing)} word(s) got no time of their own: "
                        f"{', '.join(missing[:5])}")
    return AlignmentResult(phones, list(segments), "script", warnings, fallback)


def _dub_speech(samples: np.ndarray, rate: int, params: AlignParams):
    """(samples at ALIGN_RATE, seconds, voice activity); silence ends the alignment here."""
    x = np.asarray(samples, dtype=np.float32)
    if x.ndim != 1:
        raise ValueError("align_script wants mono samples; see lipflap.speech.audio.load_speech")
    x = resample(x, int(rate), ALIGN_RATE)
    duration = len(x) / ALIGN_RATE
    vad = detect_speech(x, ALIGN_RATE, params.vad)
    if not vad.segments:
        phones = [Phone(PAUSE, 0.0, duration)] if duration > 0 else []
        raise _Early(AlignmentResult(phones, [], "silence",
                                     ["no speech found in the audio: every frame is a pause"], []))
    return x, duration, vad


def _reference(text: str, code: str, x: np.ndarray, vad, params: AlignParams) -> _Ref:
    """The script spoken by eSpeak NG with the dub's noise added, and the speaking-rate ratio."""
    ref, ref_rate, ref_phones = synthesize(text, code)
    if not any(p.phone != PAUSE for p in ref_phones):
        raise LipflapError("the transcript has no words eSpeak NG can speak in language "
                           f"'{code}'; check the text and the --language code.")
    ref = resample(ref, ref_rate, ALIGN_RATE)
    ref = _add_dub_noise(ref, x, vad)
    ref_vad = detect_speech(ref, ALIGN_RATE, params.vad)
    # Speaking-rate match: analyse the reference at a hop that gives it as many speech frames as
    # the dub has.
    dub_speech = float(vad.mask.sum()) * HOP_S
    ref_speech = float(ref_vad.mask.sum()) * HOP_S
    if ref_speech <= 0:
        ref_speech = sum(p.duration for p in ref_phones if p.phone != PAUSE)
    ratio = dub_speech / max(ref_speech, 1e-6)
    lo_r, hi_r = params.rate_ratio_range
    if not lo_r <= ratio <= hi_r:
        raise _Early(_mismatch(vad.segments, "the script does not fit the audio: its speech "
                               f"would last {ref_speech:.1f} s at a normal rate but the dub has "
                               f"{dub_speech:.1f} s of speech; check the transcript or use "
                               "audio-only recognition"))
    return _Ref(ref, ref_phones, ref_vad, ratio)


def _dub_features(x: np.ndarray, duration: float, vad, rate: int, params: AlignParams) -> _Dub:
    fmax = min(7600.0, 0.47 * min(int(rate), ALIGN_RATE))
    power_d, freqs = frame_power(x, ALIGN_RATE, HOP_S)
    mask_d = _fit(vad.mask, len(power_d)).copy()
    fd = _features(power_d, freqs, 1.0, fmax, mask_d, params)
    if mask_d.sum() < 3:
        raise _Early(_mismatch(vad.segments, "too little speech to align the script"))
    dub_idx = np.flatnonzero(mask_d)
    D = _with_edges(fd[dub_idx], dub_idx, params.edge_weight)
    return _Dub(x, duration, vad, fmax, fd, mask_d, dub_idx, D, pool(D, params.pool),
                frame_energy_db(power_d, freqs))


def _coarse_warp(dub: _Dub, ref: _Ref, params: AlignParams) -> _Warp:
    """The coarse route, at the formant scale that warps best; when the open route leaves
    material out, the rates of the parts that found each other are matched and it warps again."""
    f, Dc = params.pool, dub.Dc
    lo_r, hi_r = params.rate_ratio_range
    ratio = ref.ratio
    for attempt in range(2):
        ref_hop = HOP_S / ratio
        power_r, freqs = frame_power(ref.samples, ALIGN_RATE, ref_hop)
        t_r = np.arange(len(power_r)) * ref_hop
        at = np.clip(np.round(t_r / HOP_S).astype(int), 0, len(ref.vad.mask) - 1)
        mask_r = ref.vad.mask[at]
        if mask_r.sum() < 3:
            raise _Early(_mismatch(dub.vad.segments, "too little speech to align the script"))
        ref_idx = np.flatnonzero(mask_r)
        fr, coarse = _choose_scale(power_r, freqs, mask_r, ref_idx, dub, params)
        Rc = pool(_with_edges(fr[ref_idx], ref_idx, params.edge_weight), f)
        if coarse is None:
            coarse = dtw_rows(Rc, Dc, coarse_band(len(Dc)), step_penalty=params.step_penalty)
        cost = float(coarse.cost.mean())
        # Script check: how much better is the script's order than the same sounds reversed?
        rev = float(dtw_rows(Rc[::-1].copy(), Dc, coarse_band(len(Dc)),
                             step_penalty=params.step_penalty).cost.mean())
        fit = cost / max(rev, 1e-9)
        # A wrong script also makes the warp wander: count the route's steps off the diagonal.
        warp = _Warp(coarse, False, ref_hop, fr, ref_idx, Rc, rev, fit,
                     fit + params.wander_weight * _wander(coarse.target, len(Dc)))
        new_ratio = _open_ends(warp, dub, ratio, params)
        if attempt == 0 and new_ratio is not None and abs(new_ratio / ratio - 1) > 0.1:
            ratio = float(np.clip(new_ratio, lo_r, hi_r))
            continue
        break
    return warp


def _choose_scale(power_r, freqs, mask_r, ref_idx, dub: _Dub, params: AlignParams):
    """(reference features, coarse route or None) at the formant scale that warps best.

    The dub's voice (a woman, a child, a large man) has its formants higher or lower than
    eSpeak's; the reference's frequency axis is stretched by the factor that warps best (a
    vocal-tract-length normalisation chosen on the coarse pass). Long clips choose the scale on
    coarser blocks (the choice needs no frame accuracy); then the route is None, to be warped
    again on the normal blocks."""
    f, Dc = params.pool, dub.Dc
    fs = f if len(Dc) <= params.scale_search_blocks else f * 3
    Ds = Dc if fs == f else pool(dub.D, fs)
    best = None
    for w in params.formant_scales:
        fr = _features(power_r, freqs, w, dub.fmax, mask_r, params)
        Rs = pool(_with_edges(fr[ref_idx], ref_idx, params.edge_weight), fs)
        route = dtw_rows(Rs, Ds, coarse_band(len(Ds)), step_penalty=params.step_penalty)
        c = float(route.cost.mean())
        if best is None or c < best[0]:
            best = (c, w, fr, route)
    _, _, fr, coarse = best
    return fr, (coarse if fs == f else None)


def _open_ends(warp: _Warp, dub: _Dub, ratio: float, params: AlignParams) -> float | None:
    """Open ends: the script may have words the audio does not (a shot range that starts or ends
    inside the dialogue), the audio speech the script does not. Rows outside cost about what an
    unrelated order costs, so only material that matches worse than that is left out. Updates
    `warp` when the open route is taken; returns the rate ratio of the parts that found each
    other then (None otherwise)."""
    if not params.open_cost_ratio:
        return None
    Dc, rev = dub.Dc, warp.rev
    # The band must reach a route that leaves a share of either side out.
    route = dtw_rows(warp.Rc, Dc, coarse_band(len(Dc), frac=1 - params.min_coverage),
                     step_penalty=params.step_penalty,
                     open_cost=params.open_cost_ratio * rev,
                     skip_cost=params.skip_cost_ratio * rev)
    inside = (route.target >= 0) & (route.target < len(Dc))
    tin = route.target[inside]
    span = int(tin.max() - tin.min() + 1) if inside.any() else 0
    if inside.mean() >= 1.0 and span >= len(Dc):
        return None
    if inside.mean() < params.min_coverage or span < params.min_coverage * len(Dc):
        raise _Early(_mismatch(dub.vad.segments, "the script does not match the audio (only "
                               f"{inside.mean():.0%} of the script and "
                               f"{span / len(Dc):.0%} of the speech found each other); "
                               "check the transcript and "
                               "language, or use audio-only recognition"))
    # The open route priced leaving material out against warping it in: trust it.
    warp.coarse, warp.opened = route, True
    # Fit counts what was left out at its price, so leaving out cannot flatter it.
    left = (len(Dc) - span) * params.skip_cost_ratio * rev
    warp.fit = (float(route.cost.sum()) + left) / len(route.cost) / max(rev, 1e-9)
    warp.score = warp.fit + params.wander_weight * _wander(route.target, len(Dc))
    # The rate match counted speech that only one side has: match the rates of the parts that
    # found each other (the caller warps once more).
    return ratio * (span / len(Dc)) / max(inside.mean(), 1e-6)


def _fine_warp(dub: _Dub, warp: _Warp, params: AlignParams):
    """The frame-accurate route. A gap that voice activity cut inside speech (a weak consonant in
    noise) shows as reference speech piled onto the dub frames either side of it: such gaps are
    given back to the speech (dub.mask_d, dub.dub_idx, dub.D updated) and warped again."""
    f = params.pool
    R = _with_edges(warp.fr[warp.ref_idx], warp.ref_idx, params.edge_weight)
    path = _fine(R, dub.D, warp.coarse, f, params)
    matched = path.target[(path.target >= 0) & (path.target < len(dub.dub_idx))]
    readmit = _piled_gaps(matched, dub.dub_idx, int(params.readmit_gap_s / HOP_S),
                          int(params.readmit_pile_s / HOP_S))
    if not readmit:
        return path
    for a, b in readmit:
        dub.mask_d[a:b] = True
    dub.dub_idx = np.flatnonzero(dub.mask_d)
    dub.D = _with_edges(dub.fd[dub.dub_idx], dub.dub_idx, params.edge_weight)
    dub.Dc = pool(dub.D, f)
    rev = warp.rev
    coarse = dtw_rows(warp.Rc, dub.Dc,
                      coarse_band(len(dub.Dc), frac=1 - params.min_coverage if warp.opened
                                  else 0.15),
                      step_penalty=params.step_penalty,
                      open_cost=params.open_cost_ratio * rev if warp.opened else None,
                      skip_cost=params.skip_cost_ratio * rev)
    return _fine(R, dub.D, coarse, f, params)


def _carry_phones(ref: _Ref, dub: _Dub, warp: _Warp, path, segments, params: AlignParams,
                  warnings: list[str]):
    """Every reference phone boundary carried across: reference time -> reference speech frame ->
    dub speech frame -> dub time. Returns (the script's speech phones placed, all phones with
    pauses, each route row's dub speech frame or -1 outside)."""
    speech = [p for p in ref.phones if p.phone != PAUSE]
    ref_hop, ref_idx, dub_idx = warp.ref_hop, warp.ref_idx, dub.dub_idx
    m = len(dub_idx)
    rows_of = np.clip(np.searchsorted(ref_idx, [p.start / ref_hop for p in speech]), 0,
                      len(ref_idx) - 1)
    outside = (path.target[rows_of] < 0) | (path.target[rows_of] >= m)
    if outside.any():
        gone = list(dict.fromkeys(p.word for p, o in zip(speech, outside) if o and p.word))
        warnings.append(f"{len(gone)} word(s) of the script are not in the audio and were left "
                        f"out: {' '.join(gone[:12])}{' ...' if len(gone) > 12 else ''}")
        speech = [p for p, o in zip(speech, outside) if not o]
    inside_rows = (path.target >= 0) & (path.target < m)
    target = np.clip(path.target, 0, m - 1)
    onsets = np.empty(len(speech))
    ends = np.empty(len(speech))
    durations = np.array([p.duration * HOP_S / ref_hop for p in speech])   # in dub seconds
    for k, p in enumerate(speech):
        tail = k > 0 and p.word is not None and speech[k - 1].word == p.word
        onsets[k], in_gap = _map_time(p.start, ref_hop, ref_idx, target, dub_idx, True, tail)
        ends[k], _ = _map_time(p.end, ref_hop, ref_idx, target, dub_idx, False)
        if in_gap:
            ends[k] = max(ends[k], onsets[k] + durations[k])
    _words_start_where_speech_resumes(speech, onsets, ends, segments, params.word_snap_s,
                                      params.stop_closure_s)
    _end_before_decay(speech, onsets, ends, durations, segments, dub.level, params)
    onsets = np.maximum.accumulate(onsets)
    phones = _build(speech, onsets, ends, segments, dub.duration, params)
    seg_of_dub_frame = _segment_index(dub_idx * HOP_S, segments)
    return speech, phones, np.where(inside_rows, seg_of_dub_frame[target], -1)


def _check_segments(speech, phones, segments, path, frame_seg, dub: _Dub, warp: _Warp,
                    params: AlignParams, warnings: list[str]) -> list[int]:
    """Per-segment checks: the segments whose alignment is not trusted (their phones are spread
    evenly instead), each with a warning; most speech failing ends the alignment as a mismatch."""
    fallback: list[int] = []
    body = [p for p in phones if p.phone != PAUSE]   # in the order of `speech`
    for s, (a, b) in enumerate(segments):
        rows = frame_seg == s
        idx = [i for i, p in enumerate(body) if a - 1e-6 <= p.start < b]
        inside = [body[i] for i in idx]
        if not rows.any() and not inside and b - a <= 0.3:
            continue   # a short burst nothing was put on (a breath, a click)
        reasons = _segment_reasons(speech, idx, inside, a, b, path.cost[rows] if rows.any()
                                   else None, warp, params)
        if reasons:
            fallback.append(s)
            what = "phones spread evenly over the segment" if inside else "no script phones there"
            warnings.append(f"speech {a:.2f}-{b:.2f} s: alignment not trusted ("
                            f"{'; '.join(reasons)}); {what}")
    if fallback:
        fb_time = sum(segments[s][1] - segments[s][0] for s in fallback)
        if fb_time > 0.5 * sum(b - a for a, b in segments):
            seg_notes = [w for w in warnings if w.startswith("speech ")]
            raise _Early(_mismatch(segments, "the script does not match the audio (most speech "
                                   "failed the alignment checks); check the transcript and "
                                   "language, or use audio-only recognition", seg_notes))
    return fallback


def _segment_reasons(speech, idx, inside, a: float, b: float, costs, warp: _Warp,
                     params: AlignParams) -> list[str]:
    """Why one segment's alignment is not trusted (empty: it is)."""
    rev = warp.rev
    reasons = []
    seg_cost = float(costs.mean()) if costs is not None else np.inf
    if seg_cost > params.seg_cost_ratio * rev:
        reasons.append(f"warp cost {seg_cost / rev:.2f} of an unrelated order's")
    short = sum(p.duration < params.min_phone_s for p in inside)
    if inside and short > max(1, params.short_frac_max * len(inside)):
        reasons.append(f"{short} of {len(inside)} phones shorter than "
                       f"{params.min_phone_s * 1000:.0f} ms")
    long_ = [p for p in inside if p.duration > params.max_phone_s]
    if long_:
        reasons.append(f"phone '{long_[0].phone}' lasts {long_[0].duration:.2f} s")
    if not inside and b - a > 0.3:
        reasons.append("the script has no words for it")
    if inside:
        # Speaking rate inside the segment against the clip's: a script with words the audio
        # lacks crams them into some segment, one with missing words stretches others.
        expect = sum(speech[i].duration for i in idx) * (HOP_S / warp.ref_hop)
        span = max(min(b, inside[-1].end) - inside[0].start, 1e-3)
        local = expect / span
        if expect > 0.25 and not (1 / params.local_rate_max <= local <= params.local_rate_max):
            reasons.append(f"speech {local:.1f}x as fast as in the rest of the clip")
    return reasons


def _wander(target: np.ndarray, m: int) -> float:
    t = target[(target >= 0) & (target < m)]
    return float(np.mean(np.diff(t) != 1)) if len(t) > 1 else 0.0


def _fine(R: np.ndarray, D: np.ndarray, coarse, f: int, params: AlignParams):
    """Frame-accurate warp around the coarse route, on the rows and frames the route matched;
    rows it left outside stay outside (-1 before the dub's speech, len(D) after)."""
    mc = (len(D) + f - 1) // f
    ins = np.flatnonzero((coarse.target >= 0) & (coarse.target < mc))
    if len(ins) == len(coarse.target):
        return refine(R, D, coarse, f, fine_band=params.fine_band,
                      step_penalty=params.step_penalty)
    r0, r1 = ins[0] * f, min(len(R), (ins[-1] + 1) * f)
    j0 = int(coarse.target[ins[0]]) * f
    j1 = min(len(D), (int(coarse.target[ins[-1]]) + 1) * f)
    sub = type(coarse)(coarse.target[ins[0]:ins[-1] + 1] - coarse.target[ins[0]],
                       coarse.cost[ins[0]:ins[-1] + 1])
    inner = refine(R[r0:r1], D[j0:j1], sub, f, fine_band=params.fine_band,
                   step_penalty=params.step_penalty)
    target = np.concatenate([np.full(r0, -1), inner.target + j0, np.full(len(R) - r1, len(D))])
    cost = np.concatenate([np.full(r0, np.nan), inner.cost, np.full(len(R) - r1, np.nan)])
    return type(coarse)(target.astype(np.int64), cost)


def _mismatch(segments, why: str, notes: list[str] | None = None) -> AlignmentResult:
    return AlignmentResult([], list(segments), "mismatch", [why] + list(notes or []), [])


def _fit(mask: np.ndarray, n: int) -> np.ndarray:
    return mask[:n] if len(mask) >= n else np.pad(mask, (0, n - len(mask)))


def _features(power: np.ndarray, freqs: np.ndarray, scale: float, fmax: float,
              mask: np.ndarray, params: AlignParams) -> np.ndarray:
    """MFCC c1..c12 and their deltas, normalised over the speech frames.  `scale` stretches the
    frequency axis (content at f is read as if at f * scale)."""
    lm = log_mel(power, freqs * scale, params.n_mels, 80.0, fmax)
    c = mfcc_from_logmel(lm, params.n_ceps)[:, 1:]   # c0 (loudness) differs between recordings
    return cmvn(np.hstack([c, deltas(c)]), mask)


def _with_edges(feat: np.ndarray, idx: np.ndarray, weight: float) -> np.ndarray:
    """Append two channels that mark the first and last frames of each speech run (decaying over
    a few frames), so the warp prefers to put the script's pauses on the dub's pauses."""
    n = len(idx)
    if n == 0 or weight <= 0:
        return feat
    brk = np.flatnonzero(np.diff(idx) > 1) + 1
    starts = np.concatenate([[0], brk])
    ends = np.concatenate([brk, [n]])
    run = np.repeat(np.arange(len(starts)), ends - starts)
    k = np.arange(n)
    since = k - starts[run]
    until = ends[run] - 1 - k
    edge = np.stack([np.exp(-since / 3.0), np.exp(-until / 3.0)], axis=1) * weight
    return np.hstack([feat, edge.astype(feat.dtype)])


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
              dub_idx: np.ndarray, onset: bool, tail: bool = False) -> tuple[float, bool]:
    """Reference time -> dub time through the warp; also whether t lay in a reference pause.

    A boundary inside a reference pause belongs to speech on one side: onsets to the next run
    (a phrase-initial stop's silent closure) unless `tail` (the phone ends the previous word, e.g.
    a final stop whose closure voice activity cut off), ends to the previous run.  Such a time keeps
    its distance from that run's edge, scaled by the speaking-rate ratio.
    """
    f = t / ref_hop
    ratio = HOP_S / ref_hop
    k = int(np.searchsorted(ref_idx, f, side="left"))
    if 0 < k < len(ref_idx) and ref_idx[k] - ref_idx[k - 1] == 1 or (k < len(ref_idx)
                                                                     and ref_idx[k] == f):
        pos = k - 1 + (f - ref_idx[k - 1]) if k > 0 and ref_idx[k] != f else float(k)
        return _dub_time(pos, target, dub_idx), False
    after_prev = k > 0 and (not onset or tail or k >= len(ref_idx))
    if after_prev:
        edge = (ref_idx[k - 1] + 0.5) * ref_hop
        d_edge = (dub_idx[_dub_frame(k - 1, target, dub_idx)] + 0.5) * HOP_S
        return d_edge + (t - edge) * ratio, True
    k = min(k, len(ref_idx) - 1)
    edge = (ref_idx[k] - 0.5) * ref_hop
    d_edge = (dub_idx[_dub_frame(k, target, dub_idx)] - 0.5) * HOP_S
    return max(0.0, d_edge - (edge - t) * ratio), True


def _dub_frame(row: int, target: np.ndarray, dub_idx: np.ndarray) -> int:
    return int(np.clip(target[int(np.clip(row, 0, len(target) - 1))], 0, len(dub_idx) - 1))


def _dub_time(pos: float, target: np.ndarray, dub_idx: np.ndarray) -> float:
    i0 = int(np.clip(np.floor(pos), 0, len(target) - 1))
    i1 = min(i0 + 1, len(target) - 1)
    w = pos - i0
    j = (1 - w) * target[i0] + w * target[i1]
    j0 = int(np.clip(np.floor(j), 0, len(dub_idx) - 1))
    return float((dub_idx[j0] + (j - j0)) * HOP_S)


def _piled_gaps(target: np.ndarray, dub_idx: np.ndarray, max_gap: int,
                pile: int) -> list[tuple[int, int]]:
    """Dub gaps (frame ranges) no longer than max_gap onto whose two edge frames each side the warp
    piled at least 4 + pile reference frames (4 is the rate-matched share)."""
    counts = np.bincount(target, minlength=len(dub_idx))
    out = []
    for k in np.flatnonzero(np.diff(dub_idx) > 1):
        gap = int(dub_idx[k + 1] - dub_idx[k] - 1)
        if gap <= max_gap and counts[max(0, k - 1):k + 3].sum() >= 4 + pile:
            out.append((int(dub_idx[k]) + 1, int(dub_idx[k + 1])))
    return out


def _words_start_where_speech_resumes(speech, onsets, ends, segments, snap: float,
                                      closure_s: float) -> None:
    """A warp cannot tell the last frame before a dub pause from the first after it (they are
    neighbours once pauses are cut out), so a word's first phone can land at the end of the run
    before a pause or inside the pause itself. Landing in the last `snap` seconds before a pause,
    it is moved to where speech resumes: speakers pause between words.  (Moving whole words that
    would not fit before the pause was tried and measured worse.)  Landing inside a pause (or the
    silence before the first run), it starts where speech resumes too; a stop may start up to
    `closure_s` before (its closure is silent), no earlier: "Am" after "Brot." in an eSpeak NG
    female voice began 0.28 s early, its open vowel drawn across the silence (script-aware pause
    rest 0.00, timing r0 0.39 against 0.83 in the default voice: bench/bench_audio_closures.py
    --set voices)."""
    seg_starts = np.array([a for a, _ in segments])
    seg_ends = np.array([b for _, b in segments])
    for k, p in enumerate(speech):
        if k > 0 and (p.word is None or speech[k - 1].word == p.word):
            continue
        s = int(np.searchsorted(seg_ends, onsets[k], side="left"))   # runs before s end earlier
        if s < len(segments) and onsets[k] < seg_starts[s]:
            parts = parse_phone(p.phone)
            stop = bool(parts) and parts[0].manner == "stop"
            onsets[k] = max(onsets[k], seg_starts[s] - (closure_s if stop else 0.0))
        elif s + 1 < len(segments) and seg_ends[s] - onsets[k] <= snap:
            onsets[k] = seg_starts[s + 1]
        else:
            continue
        ends[k] = max(ends[k], onsets[k] + 0.01)


def _end_before_decay(speech, onsets, ends, durations, segments, level: np.ndarray,
                      params: AlignParams) -> None:
    """A run's last phone ends where the run's sound falls into a decay tail: its last frames,
    at least `decay_min_s` of them, all more than `decay_db` under the run's loud level (its
    90th percentile, the vowels'). Such a tail is an echo or a breath after the phrase's last
    sound, which voice activity counts as speech; the lips have stopped by then. Only a phone
    that began before the tail is cut, so a phrase-final fricative or release quiet enough to
    sit in it keeps its time. eSpeak NG's f3 and f5 voices
    ring on 25-35 dB under the vowel for 0.11-0.15 s after a phrase: the vowel of "repas" was
    drawn open 0.13 s into the pause (script-aware pause rest 0.00, bench/bench_audio_closures.py
    --set voices).

    A last phone that begins inside the tail and is voiced without a closure or a narrowing (a
    vowel, a tap, trill, approximant or lateral: `_sounds_loud`) cannot be that quiet: the warp
    matched the echo to it. It is put back before the tail, as long as the script's own phone
    (at least `min_phone_s`), and the phone before it ends there. German "Meer." in eSpeak NG's
    f2 voice at pitch 80 (held out, --set others): its final tap was placed at 2.13 s, the tail
    began at 2.03 (true end 2.026), and the vowel was drawn open 0.10 s into the pause (pause
    rest 0.67)."""
    for a, b in segments:
        first = decay.tail_start(level, int(round(a / HOP_S)), int(round(b / HOP_S)), HOP_S,
                                 decay_db=params.decay_db, min_s=params.decay_min_s)
        if first is None:
            continue
        tail = first * HOP_S
        inside = np.flatnonzero((onsets < b) & (onsets >= a))
        if not len(inside):
            continue
        k = int(inside[-1])
        j = int(inside[-2]) if len(inside) > 1 else -1
        if (j >= 0 and onsets[k] >= tail - params.min_phone_s and _sounds_loud(speech[k])
                and onsets[j] < tail - 2 * params.min_phone_s):
            onsets[k] = max(onsets[j] + params.min_phone_s,
                            tail - max(durations[k], params.min_phone_s))
            ends[j] = min(ends[j], onsets[k])
        if onsets[k] < tail - params.min_phone_s and ends[k] > tail:
            ends[k] = tail


def _sounds_loud(phone: Phone) -> bool:
    """Whether a phone is voiced through an open tract: a vowel, or a tap, trill, approximant or
    lateral (a stop's closure, a fricative or a nasal's murmur may be quiet)."""
    parts = parse_phone(phone.phone)
    return bool(parts) and all(f.kind == "vowel" or f.manner in ("tap", "trill", "approximant",
                                                                  "lateral") for f in parts)


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
