"""Rebuild the actor-library set (issue 15 item 6) from ../shared/media; never committed.

    python bench/library_set.py [--out scratch/libset]            # cut shots, libraries, dub
    python bench/library_set.py --run [--only NAME ...]           # render without and with, measure

Each case is a short shot (1.5 s) in which the actor never closes the lips, and a library cut
from another stretch of the same clip (a separate file, as other footage of the actor would be).
The dub ("Mama. Baut ein Boot.", German, four bilabials and a pause) needs closures the shot does not have.
`other` renders talk_f's shot with talk_d (another woman) as its library: it must be refused.

Each render is measured with ../shared/eval/lipeval.py and a contact sheet drawn beside it;
the table prints closure/opening/rest and the report's flagged and borrowed frame counts.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from fractions import Fraction

import av
import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.environ.get("LIPFLAP_SHARED", os.path.join(os.path.dirname(REPO), "shared"))
MEDIA = os.path.join(SHARED, "media")
EVAL = os.path.join(SHARED, "eval")
TEXT, LANG = "Mama. Baut ein Boot.", "de"

# name: (clip, shot frames, library frames, tuned on it?). The shots are the 38-frame windows
# whose smallest lip gap is largest (no frame under 0.04 eye distances: never closed).
CASES = {
    "talk_f": ("talk_f.mp4", (11, 48), (60, 199), True),
    "talk_g": ("talk_g.mp4", (154, 191), (0, 140), True),
    "talk_h": ("talk_h.mp4", (36, 73), (80, 199), False),
    "talk_c": ("talk_c.mp4", (13, 50), (60, 124), False),
    "disgusted": ("expr_disgusted.mp4", (7, 44), (50, 202), False),
    # never closes anywhere in the clip: its library has no closure to lend either
    "surprised": ("expr_surprised.mp4", (78, 115), (120, 309), False),
}
OTHER = ("talk_f", "talk_d.mp4", (0, 199))     # talk_f's shot, another woman's clip as library
# talk_f's library as if shot under other light: warmer and darker (a gain per channel), to see
# that borrowed frames are matched to the shot's light (`--run` renders talk_f with it as "warm").
WARM_GAIN = np.array([0.95, 0.78, 0.6])


def cut(src: str, first: int, last: int, dst: str, gain: np.ndarray | None = None) -> str:
    """Frames first..last of src as H.264 CRF 12 at the source's rate (times `gain`)."""
    if os.path.exists(dst):
        return dst
    with av.open(src) as c:
        rate = c.streams.video[0].average_rate or Fraction(25)
        out = av.open(dst, "w")
        st = None
        for i, f in enumerate(c.decode(video=0)):
            if i > last:
                break
            if i < first:
                continue
            img = f.to_ndarray(format="rgb24")
            if gain is not None:
                img = np.clip(img * gain, 0, 255).astype(np.uint8)
            if st is None:
                st = out.add_stream("libx264", rate=rate)
                st.width, st.height = img.shape[1] // 2 * 2, img.shape[0] // 2 * 2
                st.pix_fmt = "yuv420p"
                st.options = {"crf": "12", "preset": "medium"}
            img = np.ascontiguousarray(img[:st.height, :st.width])
            for p in st.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                out.mux(p)
        for p in st.encode():
            out.mux(p)
        out.close()
    return dst


def build(out: str) -> None:
    os.makedirs(out, exist_ok=True)
    for name, (clip, shot, lib, _) in CASES.items():
        cut(os.path.join(MEDIA, clip), *shot, os.path.join(out, f"{name}.mp4"))
        cut(os.path.join(MEDIA, clip), *lib, os.path.join(out, f"{name}.lib.mp4"))
    cut(os.path.join(MEDIA, OTHER[1]), *OTHER[2], os.path.join(out, "other.lib.mp4"))
    cut(os.path.join(MEDIA, CASES["talk_f"][0]), *CASES["talk_f"][2],
        os.path.join(out, "talk_f.warm.lib.mp4"), WARM_GAIN)
    dub = os.path.join(out, "dub.wav")
    if not os.path.exists(dub):
        subprocess.run([sys.executable, os.path.join(EVAL, "make_dub.py"), "--voice", LANG,
                        "--text", TEXT, "--out", dub, "--lead", "0.1", "--rate", "190"], check=True,
                       stdout=subprocess.DEVNULL)


def render(out: str, name: str, tag: str, library: str | None) -> dict:
    lipflap = os.path.join(os.path.dirname(sys.executable), "lipflap")
    dst = os.path.join(out, tag)
    os.makedirs(dst, exist_ok=True)
    mov, rep = os.path.join(dst, f"{name}.mov"), os.path.join(dst, f"{name}.report.json")
    cmd = ["nice", "-n", "10", lipflap, "run", os.path.join(out, f"{name}.mp4"), "--audio",
           os.path.join(out, "dub.wav"), "--text", TEXT, "--language", LANG, "--codec",
           "prores_4444", "-o", mov, "--progress", "none", "--report", rep]
    if library:
        cmd += ["--library", library]
    if not os.path.exists(mov):
        subprocess.run(cmd, check=True)
    js = os.path.join(dst, f"{name}.json")
    phones = os.path.join(out, "dub.phones.json")
    src = os.path.join(out, f"{name}.mp4")
    if not os.path.exists(js):
        subprocess.run(["nice", "-n", "10", sys.executable, os.path.join(EVAL, "lipeval.py"),
                        "measure", mov, "--audio", os.path.join(out, "dub.wav"), "--phones", phones,
                        "--source", src, "--json", js], check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        subprocess.run(["nice", "-n", "10", sys.executable, os.path.join(EVAL, "contact_sheet.py"),
                        mov, src, "--phones", phones, "-o", os.path.join(dst, f"{name}.png")],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return summary(js, rep)


def summary(js: str, rep: str) -> dict:
    with open(js) as f:
        res = json.load(f)
    flat: dict = {}
    for v in res.values():
        if isinstance(v, dict):
            flat.update(v)
    flat.update({k: v for k, v in res.items() if not isinstance(v, dict)})
    row = {k: (flat[k][0] if isinstance(flat.get(k), list) else flat.get(k))
           for k in ("bilabial_closure", "open_vowel_opening", "pause_rest", "silence_rest_rate",
                     "outside_any", "mouth_sharpness_ratio_median", "mouth_roughness_ratio")}
    row = {k: round(v, 3) if isinstance(v, float) else v for k, v in row.items()}
    with open(rep) as f:
        report = json.load(f)
    flagged = borrowed = 0
    for s in report.get("shots", []):
        m = s.get("model") or {}
        flagged += sum(r["end"] - r["start"] + 1 for r in m.get("atypical_exemplar_frames", []))
        flagged += sum(r["end"] - r["start"] + 1 for r in m.get("no_clean_shape_frames", []))
        borrowed += sum(r["end"] - r["start"] + 1 for r in m.get("borrowed_frames", []))
    row.update(no_clean_shape=flagged, borrowed=borrowed)
    return row


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", default=os.path.join(REPO, "scratch", "libset"))
    p.add_argument("--only", nargs="*")
    p.add_argument("--run", action="store_true")
    a = p.parse_args()
    build(a.out)
    if not a.run:
        return
    for name in a.only or list(CASES):
        base = render(a.out, name, "without", None)
        lib = render(a.out, name, "with", os.path.join(a.out, f"{name}.lib.mp4"))
        tuned = "tuned" if CASES[name][3] else "held-out"
        print(name, tuned, "without", json.dumps(base), "with", json.dumps(lib), flush=True)
    if not a.only or "talk_f" in a.only:
        warm = render(a.out, "talk_f", "warm", os.path.join(a.out, "talk_f.warm.lib.mp4"))
        print("talk_f with a warmer, darker library", json.dumps(warm), flush=True)


if __name__ == "__main__":
    main()
