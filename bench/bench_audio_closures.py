"""Bilabial closures of the audio-only track against the script-aware one, on synthetic dubs.

    python bench/bench_audio_closures.py [--set eval|dev|voices|others|hard] [--out DIR] [--json FILE]

Dubs come from ../shared/eval/make_dub.py (eSpeak NG, true phone times), written to --out
(default scratch/closure_dubs) and reused. --set eval: the 27 dubs of issue 21 (talk_a-i x
es/fr/de; per language three sentences dense in p/b/m, the clip's index picking the sentence
(k % 3) and the rate (150/135/170 by k // 3); talk_a's track at its 1350/61 fps, the rest at
25). --set dev: twelve phrases with alveolar + bilabial word joins in de/es/fr/en ("Gast
bestellt", "buscan bolas", "that big"), none in the closure head's training lists. --set voices:
twenty de/fr dubs in eSpeak NG's default, f1, f3, f5 and Klatt voices (two texts each, the
default rate), where the networks' certainty sends the aperture toward the read-out. --set
others: held out from every choice made on the sets before it, fifteen es/de/fr dubs on one new
text each in voices and pitches none of them uses (f2, f4, m3; the default voice at pitch 90; f2
at pitch 80). --set hard: the hard set's dubs (bench/hard_set.py, built first with its --out,
here --hard, default scratch/hard) at each clip's own frame rate: seven texts, so the tracks
repeat where clips share a text and a rate.

Per dub, on the tracks (lipflap.mouth.build.mouth_track_for_audio, no render): lipeval's
closure / opening / rest rates for audio-only and script-aware; the share of bilabials with a
sealed (PP) frame of their own within a frame of the phone; and the false seals: frames sealed
audio-only where script-aware is open (aperture >= 0.2 of its 5-95% range) and seals no frame
within one; lipeval's timing r0 (the aperture against the phones' expected opening, lag 0) of
both tracks. The totals line is the one to quote.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from fractions import Fraction

import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.environ.get("LIPFLAP_SHARED", os.path.join(os.path.dirname(REPO), "shared"))
EVAL = {
    "es": ["Papá bebe mucha agua en la playa. Mamá baila con Pablo bajo la palma.",
           "Mi padre pasa la mañana en el campo. Bárbara compra pan y manzanas.",
           "El barco para en Málaga. Ana abre la ventana y mira la bahía."],
    "fr": ["Papa part à la plage avec Paul. Maman mange une pomme dans le parc.",
           "Le bateau passe sous le pont. Marie prépare la table pour papa.",
           "Ma sœur a acheté un beau chapeau. Le chat va dans la cabane."],
    "de": ["Papa baut ein Boot am Main. Mama malt ein Bild im Park.",
           "Der Ball fällt auf das Dach. Paul macht am Abend Pause.",
           "Anna badet im Bach. Max packt die Tasche mit Brot und Apfel."],
}
DEV = {
    "de": ["Der Gast bestellt Pommes mit Mayo.", "Nun beginnt der Markt, heute bringt Paul Birnen.",
           "Sie hat Bananen und Pflaumen gekauft, doch Peter isst Melonen."],
    "es": ["Usted puede ver el mar desde la ventana.",
           "Hoy comen pescado, y mañana van por pan blanco.", "Los perros buscan bolas en el parque."],
    "fr": ["Elle part vite, sans manteau.", "Cette petite fille prend sept bonbons.",
           "Il doit mettre son bonnet bleu."],
    "en": ["The cat bit my hand, but it was fun.", "Send me that big red box.",
           "He sat by the lamp and read his book."],
}
RATES = (150, 135, 170)
# --set voices: eSpeak NG's voice variants (female, Klatt) on two texts per language the other
# sets do not use. The networks are less sure of these voices, and the aperture leans toward the
# read-out fit to real mouths (docs/quality.md 'Other eSpeak NG voices').
VOICES = {
    "de": ["Paula bringt morgen frisches Obst mit. Wir fahren bald an den Strand.",
           "Meine Mutter backt heute Brot. Am Abend gehen wir im Park spazieren."],
    "fr": ["Pierre aime beaucoup le pain chaud. Nous partons demain matin vers la mer.",
           "Ma mère prépare un bon repas. Le bébé dort dans la belle chambre."],
}
VARIANTS = ("", "+f1", "+f3", "+f5", "+klatt")
# --set others: held out (see the module's docstring); (variant, pitch) pairs.
OTHERS = {
    "de": "Bernd und Petra wohnen am Meer. Morgens baden sie oft im Wasser.",
    "fr": "Bernard porte un panier plein de pommes. Puis il boit un verre de lait.",
    "es": "Pedro y Blanca viven cerca del mar. Por la tarde pasean en barco.",
}
OTHER_VOICES = (("+f2", None), ("+f4", None), ("+m3", None), ("", 90), ("+f2", 80))


def dubs(which: str) -> list[tuple]:
    """[(name, text, voice, rate, pitch, fps)] of the set (None: eSpeak NG's default)."""
    if which == "eval":
        return [(f"{c}_{lang}", EVAL[lang][k % 3], lang, RATES[k // 3], None,
                 Fraction(1350, 61) if c == "a" else Fraction(25))
                for k, c in enumerate("abcdefghi") for lang in ("es", "fr", "de")]
    if which == "voices":
        return [(f"v_{lang}{k}{v.replace('+', '_')}", VOICES[lang][k], lang + v, None, None,
                 Fraction(25)) for lang in VOICES for k in range(2) for v in VARIANTS]
    if which == "others":
        return [(f"o_{lang}{v.replace('+', '_')}{'' if pitch is None else f'_p{pitch}'}",
                 OTHERS[lang], lang + v, None, pitch, Fraction(25))
                for lang in OTHERS for v, pitch in OTHER_VOICES]
    return [(f"{lang}{k}", DEV[lang][k], lang, RATES[k], None, Fraction(25))
            for lang in DEV for k in range(3)]


def hard_dubs(hard: str) -> list[tuple]:
    """[(name, wav, text, language, phones, fps)] of the hard set's dubs found in `hard`."""
    import av
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import hard_set
    out = []
    for name, (_, _, lang, key, _) in hard_set.CASES.items():
        stem = os.path.join(hard, name)
        if not (os.path.exists(stem + ".dub.wav") and os.path.exists(stem + ".mp4")):
            continue
        with av.open(stem + ".mp4") as c:
            fps = Fraction(c.streams.video[0].average_rate)
        with open(stem + ".dub.phones.json") as f:
            out.append((name, stem + ".dub.wav", hard_set.TEXT[key], lang, json.load(f), fps))
    return out


def make(out: str, name: str, text: str, voice: str, rate: int | None,
         pitch: int | None = None) -> tuple[str, list]:
    wav = os.path.join(out, f"{name}.wav")
    if not os.path.exists(wav):
        subprocess.run([sys.executable, os.path.join(SHARED, "eval", "make_dub.py"), "--voice",
                        voice, "--text", text, "--out", wav]
                       + ([] if rate is None else ["--rate", str(rate)])
                       + ([] if pitch is None else ["--pitch", str(pitch)]), check=True,
                       capture_output=True)
    with open(wav[:-4] + ".phones.json") as f:
        return wav, json.load(f)


def compare(lipeval, wav, text, lang, phones, fps) -> dict:
    from lipflap.mouth.build import mouth_track_for_audio
    tracks = {"audio": mouth_track_for_audio(wav, fps),
              "script": mouth_track_for_audio(wav, fps, text=text, language=lang)}
    ap = {k: np.array([f.aperture for f in t.frames]) for k, t in tracks.items()}
    vis = {k: [f.viseme for f in t.frames] for k, t in tracks.items()}
    row = {k: lipeval.phonetic_scores(ap[k], float(fps), phones) for k in tracks}
    for k in tracks:
        row[k]["timing_r0"] = lipeval.timing_scores(ap[k], ap[k], float(fps), phones)["timing_r0"]
    for k in tracks:
        own = [("PP" in vis[k][max(0, int(np.floor(p["start"] * fps)) - 1):
                               int(np.ceil(p["end"] * fps)) + 2])
               for p in phones if p["phone"].strip("ˈˌː")[:1] in ("p", "b", "m")]
        row[k]["sealed_bilabials"] = (float(np.mean(own)) if own else None, len(own))
    lo, hi = np.percentile(ap["script"], (5, 95))
    n = min(len(vis["audio"]), len(vis["script"]))
    row["false_seals"] = [i for i in range(n) if vis["audio"][i] == "PP"
                          and (ap["script"][i] - lo) / max(hi - lo, 1e-6) >= 0.2
                          and "PP" not in vis["script"][max(0, i - 1):i + 2]]
    return row


def _rate(rows, side, key):
    got = [r[side][key] for r in rows if r[side][key][0] is not None]
    n = sum(g[1] for g in got)
    return sum(g[0] * g[1] for g in got) / max(n, 1), n


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--set", choices=("eval", "dev", "voices", "others", "hard"), default="eval")
    p.add_argument("--hard", default=os.path.join(REPO, "scratch", "hard"))
    p.add_argument("--out", default=os.path.join(REPO, "scratch", "closure_dubs"))
    p.add_argument("--json")
    a = p.parse_args()
    sys.path.insert(0, os.path.join(SHARED, "eval"))
    import lipeval  # noqa: E402  (../shared/eval, kept apart from the engine)
    os.makedirs(a.out, exist_ok=True)
    rows = []
    if a.set == "hard":
        todo = hard_dubs(a.hard)
        if not todo:
            sys.exit(f"no hard-set dubs in {a.hard}: build them with bench/hard_set.py --out {a.hard}")
    else:
        todo = []
        for name, text, voice, rate, pitch, fps in dubs(a.set):
            wav, phones = make(a.out, name, text, voice, rate, pitch)
            todo.append((name, wav, text, voice.split("+")[0], phones, fps))
    for name, wav, text, lang, phones, fps in todo:
        row = dict(compare(lipeval, wav, text, lang, phones, fps), name=name)
        rows.append(row)
        f = lambda s: " / ".join("-" if s[k][0] is None else f"{s[k][0]:.2f}" for k in
                                 ("bilabial_closure", "open_vowel_opening", "pause_rest",
                                  "sealed_bilabials"))
        print(f"{name:11s} audio {f(row['audio'])}  script {f(row['script'])}  timing r0 "
              f"{row['audio']['timing_r0']:.3f} / {row['script']['timing_r0']:.3f}  false seals "
              f"{row['false_seals']}", flush=True)
    below = [r["name"] for r in rows if (r["audio"]["bilabial_closure"][0] or 1.0) < 1.0]
    print(f"totals ({a.set}, {len(rows)} dubs): closure below 1.00 audio-only {below}; bilabials "
          f"sealed audio-only {_rate(rows, 'audio', 'sealed_bilabials')[0]:.3f}, script-aware "
          f"{_rate(rows, 'script', 'sealed_bilabials')[0]:.3f} of "
          f"{_rate(rows, 'audio', 'sealed_bilabials')[1]}; false seals "
          f"{sum(len(r['false_seals']) for r in rows)}; timing r0 audio-only "
          f"{np.mean([r['audio']['timing_r0'] for r in rows]):.3f}, script-aware "
          f"{np.mean([r['script']['timing_r0'] for r in rows]):.3f} (mean), audio-only more than "
          f"0.05 under on {sum(r['script']['timing_r0'] - r['audio']['timing_r0'] > 0.05 for r in rows)}")
    if a.json:
        with open(a.json, "w") as fh:
            json.dump(rows, fh)


if __name__ == "__main__":
    main()
