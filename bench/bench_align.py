"""Script-aware alignment: phone-onset error and speed on synthetic dubs.

    python bench/bench_align.py [--langs es,de,...] [--quick] [--json OUT.json]

Each dub is synthesised with eSpeak NG in another voice variant, rate and pitch than the aligner's
reference, with pauses between sentences and inside some (a pause the script does not show), and
white noise at 20 dB SNR; its true phone times come from the synthesizer's phoneme events (as in
../shared/eval/make_dub.py).  Errors are absolute onset differences of the non-pause phones, paired
in order by name.  Target (issue 4): median <= 20 ms, 90th percentile <= 60 ms.  Speed: a 60 s dub,
wall time of align_script (synthesis of the reference included) against the audio's duration, with
numpy limited to 2 threads (the target machine has 2 cores): target >= 20x real time.
"""
from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "2")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "2")
os.environ.setdefault("MKL_NUM_THREADS", "2")

import argparse  # noqa: E402
import json  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

from lipflap.speech.align import align_script  # noqa: E402
from lipflap.speech.synthdub import make_dub, onset_errors  # noqa: E402

SCRIPTS = {
    "es": ["El perro de mi vecino ladra todas las noches.",
           "Mañana vamos a la playa, si no llueve.",
           "¿Dónde has puesto las llaves del coche?",
           "La reunión empieza a las nueve y termina a mediodía.",
           "Mi hermana trabaja en un hospital muy grande, cerca del río."],
    "de": ["Der Hund meines Nachbarn bellt jede Nacht.",
           "Morgen fahren wir an den Strand, wenn es nicht regnet.",
           "Wo hast du die Autoschlüssel hingelegt?",
           "Die Besprechung beginnt um neun und endet am Mittag.",
           "Meine Schwester arbeitet in einem großen Krankenhaus am Fluss."],
    "fr": ["Le chien de mon voisin aboie toutes les nuits.",
           "Demain nous irons à la plage, s'il ne pleut pas.",
           "Où as-tu mis les clés de la voiture?",
           "La réunion commence à neuf heures et se termine à midi.",
           "Ma sœur travaille dans un grand hôpital, près de la rivière."],
    "it": ["Il cane del mio vicino abbaia tutte le notti.",
           "Domani andiamo al mare, se non piove.",
           "Dove hai messo le chiavi della macchina?",
           "La riunione comincia alle nove e finisce a mezzogiorno.",
           "Mia sorella lavora in un grande ospedale, vicino al fiume."],
    "pt": ["O cão do meu vizinho ladra todas as noites.",
           "Amanhã vamos à praia, se não chover.",
           "Onde puseste as chaves do carro?",
           "A reunião começa às nove e termina ao meio-dia.",
           "A minha irmã trabalha num hospital muito grande, perto do rio."],
    "ja": ["きょうはとてもいいてんきですね。",
           "あしたはうみにいきましょう。",
           "くるまのかぎをどこにおきましたか。",
           "かいぎはくじにはじまって、じゅうにじにおわります。",
           "いもうとはかわのちかくのおおきなびょういんではたらいています。"],
    "nl": ["De hond van mijn buurman blaft elke nacht.",
           "Morgen gaan we naar het strand, als het niet regent.",
           "Waar heb je de autosleutels gelegd?",
           "De vergadering begint om negen uur en eindigt om twaalf uur."],
    "pl": ["Pies mojego sąsiada szczeka każdej nocy.",
           "Jutro pojedziemy nad morze, jeśli nie będzie padać.",
           "Gdzie położyłeś kluczyki do samochodu?",
           "Spotkanie zaczyna się o dziewiątej i kończy w południe."],
    "ru": ["Собака моего соседа лает каждую ночь.",
           "Завтра мы поедем на море, если не будет дождя.",
           "Куда ты положил ключи от машины?",
           "Собрание начинается в девять и заканчивается в полдень."],
}

# (variant, words per minute, pitch) of the dub; the reference is eSpeak's default voice at 175 wpm.
VOICES = [("f3", 150, 65), ("m3", 205, 40), ("f1", 170, 55), ("m7", 135, 30), ("f5", 190, 75)]


def run_accuracy(langs, voices, seeds, snr_db, out_rate=None):
    table = {}
    for lang in langs:
        errs, unpaired, fallbacks, methods, n_dubs = [], 0, 0, {}, 0
        for vi, (variant, rate, pitch) in enumerate(voices):
            for seed in seeds:
                dub = make_dub(SCRIPTS[lang], lang, variant=variant, rate=rate, pitch=pitch,
                               snr_db=snr_db, hesitation=0.5, out_rate=out_rate,
                               seed=1000 * vi + seed)
                res = align_script(dub.samples, dub.rate, dub.text, lang)
                methods[res.method] = methods.get(res.method, 0) + 1
                n_dubs += 1
                if res.method != "script":
                    continue
                e, u = onset_errors(dub.phones, res.phones)
                errs.append(e)
                unpaired += u
                fallbacks += len(res.fallback_segments)
        e = np.concatenate(errs) if errs else np.array([np.nan])
        table[lang] = {"phones": int(len(e)), "median_ms": float(np.median(e) * 1000),
                       "p90_ms": float(np.percentile(e, 90) * 1000),
                       "mean_ms": float(np.mean(e) * 1000), "unpaired": unpaired,
                       "fallback_segments": fallbacks, "methods": methods, "dubs": n_dubs}
    return table


def run_wrong_scripts(langs, voices):
    """How often a wrong script is reported as "mismatch": the dub speaks two sentences, the
    script is two other sentences of the same language, or the dub's sentences' translation."""
    langs = [lang for lang in langs if len(SCRIPTS[lang]) >= 4]
    caught = total = 0
    for li, lang in enumerate(langs):
        for vi, (variant, rate, pitch) in enumerate(voices):
            dub = make_dub(SCRIPTS[lang][:2], lang, variant=variant, rate=rate, pitch=pitch,
                           snr_db=20.0, hesitation=0.5, seed=77 + vi)
            other = langs[(li + 1) % len(langs)]
            for text, code in ((" ".join(SCRIPTS[lang][2:4]), lang),
                               (" ".join(SCRIPTS[other][:2]), other)):
                res = align_script(dub.samples, dub.rate, text, code)
                caught += res.method == "mismatch"
                total += 1
    return {"caught": caught, "total": total}


# Real English speech from ../shared/media with approximate transcripts (pocketsphinx 5.1.1's own
# hypotheses: they contain recognition errors, so they understate how well a true script fits).
REAL = {"speech_a.wav": "armed to honestly be discontinued and need to be replaced by new "
                        "benchmark rates",
        "speech_b.wav": "you get when you look has responded to a major challenge you to smoke "
                        "out of",
        "talk_a.mp4": "the biggest weaknesses is asking for help when needed i like to do better "
                      "than",
        "talk_b.mp4": "the heart of my california congressional district right chase my own dreams "
                      "growing up",
        "talk_c.mp4": "everyone here today and every twitch the better or just future for"}


def run_real(media):
    """Script check on real voices: each clip with its own transcript and with the next clip's."""
    from lipflap.speech.audio import load_speech

    rows = []
    names = list(REAL)
    for i, name in enumerate(names):
        path = os.path.join(media, name)
        if not os.path.exists(path):
            return []
        x, r = load_speech(path)
        own = align_script(x, r, REAL[name], "en-us")
        other = align_script(x, r, REAL[names[(i + 1) % len(names)]], "en-us")
        rows.append({"clip": name, "own": own.method, "own_fallback": len(own.fallback_segments),
                     "own_segments": len(own.segments), "other": other.method,
                     "own_warning": own.warnings[0] if own.warnings else "",
                     "other_warning": other.warnings[0] if other.warnings else ""})
    return rows


def run_speed(lang="es", seconds=60.0, repeats=3):
    sentences = SCRIPTS[lang] * 10
    dub = make_dub(sentences, lang, seed=5)
    # Trim the script to about `seconds` of dub.
    while len(dub.samples) / dub.rate > seconds * 1.05 and len(sentences) > 1:
        sentences = sentences[:-1]
        dub = make_dub(sentences, lang, seed=5)
    duration = len(dub.samples) / dub.rate
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        res = align_script(dub.samples, dub.rate, dub.text, lang)
        times.append(time.perf_counter() - t)
    e, _ = onset_errors(dub.phones, res.phones)
    best = min(times)
    return {"dub_s": duration, "align_s": best, "x_realtime": duration / best,
            "median_ms": float(np.median(e) * 1000), "p90_ms": float(np.percentile(e, 90) * 1000)}


def _print(title, table):
    print(f"\n{title}")
    print(f"{'lang':6}{'phones':>8}{'median ms':>11}{'p90 ms':>9}{'mean ms':>9}{'unpaired':>10}"
          f"{'fallback':>10}  methods")
    allv = []
    for lang, r in table.items():
        print(f"{lang:6}{r['phones']:>8}{r['median_ms']:>11.1f}{r['p90_ms']:>9.1f}"
              f"{r['mean_ms']:>9.1f}{r['unpaired']:>10}{r['fallback_segments']:>10}  "
              f"{r['methods']}")
        allv.append(r)
    meds = [r["median_ms"] for r in allv]
    p90s = [r["p90_ms"] for r in allv]
    print(f"worst language: median {max(meds):.1f} ms, p90 {max(p90s):.1f} ms "
          f"(target 20 / 60)")


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--langs", default=",".join(SCRIPTS))
    p.add_argument("--quick", action="store_true", help="one seed, three voices")
    p.add_argument("--json")
    a = p.parse_args()
    langs = a.langs.split(",")
    voices = VOICES[:3] if a.quick else VOICES
    seeds = [1] if a.quick else [1, 2]
    out = {}
    t0 = time.perf_counter()
    out["snr20"] = run_accuracy(langs, voices, seeds, 20.0)
    _print("20 dB SNR white noise, pauses, other voice/rate/pitch (target)", out["snr20"])
    out["snr20_8k"] = run_accuracy(langs[:3], voices[:2], seeds[:1], 20.0, out_rate=8000)
    _print("same at 8 kHz (telephone)", out["snr20_8k"])
    out["snr10"] = run_accuracy(langs[:3], voices[:2], seeds[:1], 10.0)
    _print("10 dB SNR (harder than the target)", out["snr10"])
    out["clean"] = run_accuracy(langs[:3], voices[:2], seeds[:1], None)
    _print("no noise", out["clean"])
    out["wrong"] = run_wrong_scripts(langs, voices)
    print(f"\nwrong scripts reported as mismatch: {out['wrong']['caught']} of "
          f"{out['wrong']['total']}")
    media = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "media")
    out["real"] = run_real(os.environ.get("LIPFLAP_SHARED_MEDIA", media))
    if out["real"]:
        print("\nreal English speech (../shared/media), approximate transcripts:")
        for row in out["real"]:
            print(f"  {row['clip']:13} own script -> {row['own']} ({row['own_fallback']} of "
                  f"{row['own_segments']} segments fell back); another clip's script -> "
                  f"{row['other']}")
    out["speed"] = run_speed()
    s = out["speed"]
    print(f"\nspeed: {s['dub_s']:.1f} s dub aligned in {s['align_s']:.2f} s = "
          f"{s['x_realtime']:.0f}x real time (target >= 20x; numpy threads: "
          f"{os.environ.get('OPENBLAS_NUM_THREADS')}); its onsets: median {s['median_ms']:.1f} ms, "
          f"p90 {s['p90_ms']:.1f} ms")
    print(f"bench took {time.perf_counter() - t0:.0f} s")
    if a.json:
        with open(a.json, "w") as f:
            json.dump(out, f, indent=1, ensure_ascii=False)


if __name__ == "__main__":
    main()
