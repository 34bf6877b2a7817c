"""Generate the audio->mouth training set: eSpeak NG speech with true phoneme times, made to
sound less like eSpeak (formant/pitch shifts, EQ, band limits, reverb, noise, level).

python training/make_data.py --items 2000 --seed 1 --out /tmp/audio_mouth_data.npz
Reproducible: item i is generated from seed*1_000_003 + i, whatever the worker count.
The data is never committed; training regenerates it.
"""
from __future__ import annotations

import argparse
import os
import random
import sys
from fractions import Fraction

import numpy as np
from scipy.signal import fftconvolve, resample_poly

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lipflap.speech import articulation  # noqa: E402
import espeak_synth  # noqa: E402
import festival_synth  # noqa: E402
import texts  # noqa: E402
from lipflap.speech import audio_features as af  # noqa: E402

VARIANTS = ["", "m1", "m2", "m3", "m4", "m5", "m6", "m7", "m8", "f1", "f2", "f3", "f4", "f5",
            "klatt", "klatt2", "klatt3", "klatt4", "klatt5", "klatt6", "Andy", "Annie", "belinda",
            "benjamin", "iven", "linda", "max", "michel", "norbert", "antonio", "aunty", "boris",
            "david", "ed", "john", "Lee", "Mario", "pablo", "paul", "quincy", "rob", "steph",
            "travis", "victor", "zac", "grandma", "grandpa", "caleb", "adam", "anika", "shelby"]
# rough weight per language (English and the big dubbing languages more often)
LANGS = {"en": 5, "es": 3, "fr": 3, "de": 3, "it": 2, "pt": 2, "ja": 3, "cmn": 2, "nl": 1,
         "pl": 1, "ru": 2, "hi": 1, "tr": 1, "sv": 0.5, "cs": 0.5, "ko": 1, "id": 1, "el": 0.5,
         "vi": 0.5, "fi": 0.5, "ar": 0.5}
TARGET_KEYS = ["aperture", "width", "rounding", "jaw", "closure", "speech"]
# Share of utterances taken from Festival's recorded-voice corpus (festival_synth.py) rather
# than eSpeak NG: eSpeak covers the languages, Festival brings human voice sources and spectra.
FESTIVAL_SHARE = 0.5
ESPEAK_RATE = 22050
# Rendered once before the workers fork; read-only afterwards.
_FESTIVAL: list = []


def festival_corpus(seed: int, per_voice: int) -> list:
    """[(samples at ESPEAK_RATE, rate, phones)] from every Festival voice this machine has,
    texts drawn like eSpeak's (sentences and pseudo-sentences of the voice's language)."""
    rng = random.Random(seed * 7919 + 17)
    out = []
    for voice in festival_synth.available():
        lang = festival_synth._table(voice)[1]
        chosen, stretch = [], []
        for _ in range(per_voice):
            if lang in texts.PSEUDO_LANGS and rng.random() < 0.5:
                chosen.append(texts.pseudo_sentence(lang, rng))
            else:
                chosen.append(rng.choice(texts.SENTENCES[lang]))
            stretch.append(rng.uniform(0.8, 1.35))
        rendered = festival_synth.synth_batch(voice, chosen, stretch)
        lost = sum(got is None for got in rendered)
        if lost:
            print(f"festival {voice}: {lost} of {per_voice} utterances failed or had an "
                  "unmapped phone (see festival_synth's tables)", file=sys.stderr)
        for got in rendered:
            if got is None:
                continue
            x, sr, ph = got
            f = Fraction(ESPEAK_RATE, sr)
            x = resample_poly(x, f.numerator, f.denominator).astype(np.float32)
            out.append((x, ESPEAK_RATE, ph))
    return out


def _utterance(rng: random.Random, festival_share: float, cluster_share: float = 0.0):
    if _FESTIVAL and rng.random() < festival_share:
        return _FESTIVAL[rng.randrange(len(_FESTIVAL))]
    while True:
        got = _try_utterance(rng, cluster_share)
        if got is not None:
            x, sr, ph = got
            return x, sr, stop_closures(ph)


def _try_utterance(rng: random.Random, cluster_share: float = 0.0):
    """One eSpeak NG utterance; with `cluster_share` > 0, that share of them are phrases of
    alveolar + bilabial word pairs (texts.cluster_sentence; the draws with 0 are as before)."""
    if cluster_share > 0 and rng.random() < cluster_share:
        lang = rng.choice(sorted(texts.CLUSTERS))
        text = texts.cluster_sentence(lang, rng)
    else:
        lang, text = _language_text(rng)
    var = rng.choice(VARIANTS)
    voice = lang + ("+" + var if var else "")
    return espeak_synth.synth_isolated(text, voice, rate=rng.randint(115, 260),
                                       pitch=rng.randint(15, 85), pitch_range=rng.randint(10, 95))


def _language_text(rng: random.Random) -> tuple[str, str]:
    lang = rng.choices(list(LANGS), weights=list(LANGS.values()))[0]
    if lang in texts.PSEUDO_LANGS and rng.random() < 0.5:
        text = texts.pseudo_sentence(lang, rng)
    else:
        text = rng.choice(texts.SENTENCES[lang])
    return lang, text


def _coloured_noise(n, rng_np, slope):
    """Noise with a power spectrum ~ f**slope (0 white, -1 pink, -2 brown)."""
    spec = rng_np.standard_normal(n // 2 + 1) + 1j * rng_np.standard_normal(n // 2 + 1)
    f = np.maximum(np.fft.rfftfreq(n, 1 / af.RATE), 20.0)
    spec *= f ** (slope / 2)
    y = np.fft.irfft(spec, n)
    return (y / (y.std() + 1e-9)).astype(np.float32)


def _eq(x, rng, rng_np):
    n = len(x)
    spec = np.fft.rfft(x)
    f = np.fft.rfftfreq(n, 1 / af.RATE)
    lf = np.log2(np.maximum(f, 30.0) / 1000.0)
    gain_db = rng.uniform(-4, 4) * lf  # spectral tilt, dB per octave
    for _ in range(rng.randint(0, 4)):  # resonances and dips of rooms and microphones
        c, w, g = rng.uniform(-3, 2.9), rng.uniform(0.2, 1.5), rng.uniform(-10, 10)
        gain_db += g * np.exp(-0.5 * ((lf - c) / w) ** 2)
    r = rng.random()
    if r < 0.15:   # telephone band
        gain_db -= 60 * (f > rng.uniform(3200, 3800))
        gain_db -= 40 * (f < rng.uniform(200, 350))
    elif r < 0.35:
        gain_db -= 60 * (f > rng.uniform(4000, 7500))
    if rng.random() < 0.5:
        gain_db -= 30 * (f < rng.uniform(60, 250))
    return np.fft.irfft(spec * 10 ** (gain_db / 20), n).astype(np.float32)


def _reverb(x, rng, rng_np):
    rt60 = rng.uniform(0.12, 0.9)
    n = int(rt60 * af.RATE)
    t = np.arange(n) / af.RATE
    ir = rng_np.standard_normal(n) * np.exp(-6.9 * t / rt60)
    ir *= 10 ** (rng.uniform(-18, -3) / 20) / (np.sqrt(np.sum(ir ** 2)) + 1e-9)
    ir[0] = 1.0
    y = fftconvolve(x, ir)[: len(x)]
    return (y / (np.abs(y).max() + 1e-9) * np.abs(x).max()).astype(np.float32)


def _non_speech(rng: random.Random, rng_np, seconds: float):
    """Room tone, hum, tones and chords: things that are not speech and must read as rest."""
    n = int(seconds * af.RATE)
    t = np.arange(n) / af.RATE
    x = _coloured_noise(n, rng_np, rng.choice([0, -1, -2])) * rng.uniform(0.05, 1.0)
    for _ in range(rng.randint(0, 4)):
        f0 = rng.uniform(50, 1500)
        env = np.clip(np.sin(2 * np.pi * rng.uniform(0.2, 3) * t + rng.uniform(0, 6)), 0, 1) if rng.random() < 0.5 else 1.0
        for h in range(1, rng.randint(1, 6) + 1):
            x += env * np.sin(2 * np.pi * f0 * h * t) * rng.uniform(0.1, 1.0) / h
    return x.astype(np.float32)


def make_item(i: int, seed: int, festival_share: float = 0.0, cluster_share: float = 0.0):
    rng = random.Random(seed * 1_000_003 + i)
    rng_np = np.random.default_rng(seed * 1_000_003 + i)
    if rng.random() < 0.04:
        x = _non_speech(rng, rng_np, rng.uniform(1.0, 6.0))
        x *= 10 ** (rng.uniform(-45, 0) / 20) / (np.abs(x).max() + 1e-9)
        return af.features_from_mel(af.power_mel(x)).astype(np.float16), []
    # one to three utterances with pauses between them
    pieces, phones, t = [], [], 0.0
    sr = None
    lead = rng.uniform(0.05, 0.8)
    for k in range(rng.choice([1, 1, 2, 2, 3])):
        x, sr, ph = _utterance(rng, festival_share, cluster_share)
        gap = lead if k == 0 else rng.uniform(0.03, 1.0)
        pieces.append(np.zeros(int(gap * sr), np.float32))
        t += gap
        phones += [(p, a + t, b + t) for p, a, b in ph]
        pieces.append(x)
        t += len(x) / sr
    pieces.append(np.zeros(int(rng.uniform(0.05, 0.8) * sr), np.float32))
    x = np.concatenate(pieces)
    # speaker change: play faster/slower (pitch and formants move together), times scale
    fac = rng.uniform(0.86, 1.16)
    ratio = Fraction(af.RATE, int(round(sr * fac))).limit_denominator(1000)
    x = resample_poly(x, ratio.numerator, ratio.denominator).astype(np.float32)
    scale = 1.0 / fac
    phones = [(p, a * scale, b * scale) for p, a, b in phones]
    if rng.random() < 0.9:
        x = _eq(x, rng, rng_np)
    if rng.random() < 0.45:
        x = _reverb(x, rng, rng_np)
    rms = np.sqrt(np.mean(x[np.abs(x) > 0.02 * np.abs(x).max()] ** 2)) + 1e-9
    if rng.random() < 0.15:   # another voice in the background
        bx, bsr, _ = _utterance(rng, festival_share)
        bx = resample_poly(bx, 160, int(round(bsr / 100))).astype(np.float32)
        bx = np.resize(bx, len(x))
        snr = rng.uniform(12, 25)
        x = x + bx / (np.sqrt(np.mean(bx ** 2)) + 1e-9) * rms * 10 ** (-snr / 20)
    if rng.random() < 0.85:
        snr = rng.uniform(3, 40)
    else:
        snr = rng.uniform(45, 70)
    x = x + _coloured_noise(len(x), rng_np, rng.choice([0, -1, -1, -2, -0.5])) * rms * 10 ** (-snr / 20)
    x *= 10 ** (rng.uniform(-35, 0) / 20) / (np.abs(x).max() + 1e-9)
    if rng.random() < 0.05:
        x = np.clip(x * rng.uniform(2, 6), -1, 1)
    feats = af.features_from_mel(af.power_mel(x))
    return feats.astype(np.float16), [(p, round(a, 4), round(b, 4)) for p, a, b in phones]


_VOICELESS_STOPS = ("p", "t", "k", "c", "q", "ʈ")


def stop_closures(phones, closure_s: float = 0.04):
    """eSpeak NG's phoneme event for a voiceless stop marks its release: the silent closure
    (30-60 ms, measured) is billed to the phone before it. Move the boundary back so that the
    closure belongs to the stop, as the lips see it."""
    out = [list(p) for p in phones]
    for i in range(1, len(out)):
        ph = out[i][0].lstrip("ˈˌ")
        if ph.startswith(_VOICELESS_STOPS):
            prev = out[i - 1]
            shift = min(closure_s, 0.5 * (prev[2] - prev[1]))
            if shift > 0 and abs(prev[2] - out[i][1]) < 1e-3:
                prev[2] -= shift
                out[i][1] -= shift
    return [tuple(p) for p in out]


_VOWEL_CHARS = "aeiouyɑæɐɒɔəɛɪʊʏøœɘɵɤʌɯɨʉɜɞɚɝ"


def bilabial_closures(phones, closure_s: float = 0.04):
    """eSpeak NG's b after a consonant ("ist bei", "une belle", "son pocos" -> "un beso") is
    only its 17-32 ms burst: the 20-40 ms of silence before it, where the lips are already
    sealed, is billed to the consonant (measured on de/es/fr/en at 160 words a minute; after a
    vowel the b keeps its voiced closure, 80 ms). Move that boundary back, as stop_closures does
    for the voiceless stops, so that the closure target covers the silence."""
    out = [list(p) for p in phones]
    for i in range(1, len(out)):
        ph, prev = out[i][0].strip("ˈˌː"), out[i - 1][0].strip("ˈˌː")
        if ph != "b" or not prev or prev[0] in _VOWEL_CHARS:
            continue
        shift = min(closure_s, 0.5 * (out[i - 1][2] - out[i - 1][1]))
        if shift > 0 and abs(out[i - 1][2] - out[i][1]) < 1e-3:
            out[i - 1][2] -= shift
            out[i][1] -= shift
    return [tuple(p) for p in out]


def targets(n_frames: int, phones, **kw):
    """(n, 6) float32 targets in TARGET_KEYS order and (n,) viseme ids for one item; `kw` goes
    to articulation.frame_targets (lead_s, smooth_s). eSpeak's phones arrive already moved by
    stop_closures (make_item), Festival's need no such fix."""
    tg = articulation.frame_targets(phones, (n_frames - 1) * af.HOP_S + 1e-6, **kw)
    y = np.stack([tg[k] for k in TARGET_KEYS], axis=1)
    y = np.concatenate([y, np.repeat(y[-1:] * 0, max(0, n_frames - len(y)), axis=0)])[:n_frames]
    v = np.concatenate([tg["viseme"], np.zeros(max(0, n_frames - len(tg["viseme"])), np.int64)])
    return y.astype(np.float32), v[:n_frames]


def _work(args):
    return make_item(*args)


def generate(items: int, seed: int, workers: int = 2, festival_share: float = FESTIVAL_SHARE):
    _FESTIVAL.clear()
    if festival_share > 0:
        voices = festival_synth.available()
        missing = [v[4] for v in festival_synth.VOICES if v[0] not in voices]
        if missing:
            raise SystemExit("Festival voices missing; install them (Debian/Ubuntu): apt install "
                             + " ".join(["festival"] + missing) + "  (or pass --festival-share 0)")
        per_voice = max(10, int(np.ceil(items * festival_share / len(voices))))
        _FESTIVAL.extend(festival_corpus(seed, per_voice))
    jobs = [(i, seed, festival_share) for i in range(items)]
    if workers > 1:
        import multiprocessing as mp
        with mp.get_context("fork").Pool(workers) as pool:
            out = pool.map(_work, jobs, chunksize=16)
    else:
        out = [_work(j) for j in jobs]
    import json
    lens = np.array([len(o[0]) for o in out])
    return {"x": np.concatenate([o[0] for o in out]), "lens": lens,
            "phones": np.array([json.dumps(o[1], ensure_ascii=False) for o in out])}


def with_targets(data: dict, **kw) -> dict:
    """Add per-frame targets (y, v) computed from the stored phones (articulation.py)."""
    import json
    ys, vs = [], []
    for n, ph in zip(data["lens"], data["phones"]):
        y, v = targets(int(n), [tuple(p) for p in json.loads(str(ph))], **kw)
        ys.append(y.astype(np.float16))
        vs.append(v.astype(np.int8))
    return dict(data, y=np.concatenate(ys), v=np.concatenate(vs))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--items", type=int, default=2000)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--festival-share", type=float, default=FESTIVAL_SHARE)
    p.add_argument("--out", required=True)
    a = p.parse_args()
    d = generate(a.items, a.seed, a.workers, a.festival_share)
    np.savez(a.out, **d)
    print(f"{a.out}: {len(d['lens'])} items, {d['lens'].sum() / 100 / 3600:.2f} h")


if __name__ == "__main__":
    main()
