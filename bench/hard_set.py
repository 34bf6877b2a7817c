"""Rebuild the renderer's hard set (issue 15) from ../shared/media: clips and dubs, never committed.

    python bench/hard_set.py [--out scratch/hard] [--only NAME ...]
    python bench/hard_set.py --run TAG [--only NAME ...] [--codec auto]   # render, measure, sheet

With --run, each clip already built is rendered with `lipflap run ... --codec prores_4444` (or
the --codec given; `--codec auto` lets lipflap choose the ProRes profile per clip) into
OUT/TAG/<name>.mov, measured with lipeval.py (JSON beside it), a contact sheet drawn
(OUT/TAG/<name>.png), and a table of the issue's figures printed.

Writes OUT/<name>.mp4 (H.264, CRF 12, the source's rate, frames 0..N-1 of the source unless
noted) and OUT/<name>.dub.wav + .dub.phones.json (../shared/eval/make_dub.py), and prints one
`lipflap run` / `lipeval.py measure` / `contact_sheet.py` command line per clip. Cases:

- disgusted, sad, surprised: the shared emotional clips (bared teeth; 1080p crying; surprise);
- talk_e (lively expressions), talk_g (glasses): shared clips, first 5 s;
- oldfilm: talk_f desaturated to a warm sepia, film grain per frame, scaled to 45% and padded
  into 640x480 (a small face, saturated-looking lips against a flat tone);
- selfie: talk_h cropped round the face and scaled up ~3x to 960x960 (a very large face), with
  fresh sensor noise per frame (phone footage has fine noise the renderer must carry through).
- sidelight: talk_i relit by a low key from the left: light falls off across the face to about a
  sixteenth on the far side (in linear light, the edge of the fall-off at the face's middle), warmer on
  the lit side, with low-light sensor noise; a shadow edge runs through the mouth.

- turn: a public talking-head clip that turns the head about -22 to +22 degrees of yaw (Face Mesh
  pose; the shared clips turn little and a turn cannot be faked from a frontal clip), and
  turn_small, one turning -9 to +11: see MIRRORED for where each comes from. They are read from
  a mirror of the public repository (the `fetch` tool's /work/.mirror, or LIPFLAP_MIRROR) with
  `git show`, never copied into this repository; a case whose mirror is absent is skipped with
  a sentence.
- smallface: a public frontal clip at 200x278 (eyes ~55 pixels apart; MIRRORED), read the
  same way: a small, soft face with nothing done to it.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
from fractions import Fraction

import av
import cv2
import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.environ.get("LIPFLAP_SHARED", os.path.join(os.path.dirname(REPO), "shared"))
MEDIA = os.path.join(SHARED, "media")
EVAL = os.path.join(SHARED, "eval")

TEXT = {
    "fr": "Bonjour, je vais à Paris. Mon ami Pierre parle beaucoup, mais il ne boit pas.",
    "de": "Guten Morgen, mein Bruder. Wir bauen ein Boot am Meer, und Mama kommt mit.",
    "es": "Buenos días, mi amigo. Papá va a la playa, pero mamá no baja.",
    "de_short": "Mama baut ein Boot. Wo bist du, Papa?",
    # about 8 s: the turn clips are 200 frames and their largest turns come late
    "de_long": "Guten Morgen, mein Bruder. Wir bauen ein Boot am Meer, und Mama kommt mit. Wo bist "
               "du, Papa? Am Abend essen wir Obst und Brot.",
    "fr_long": "Bonjour, je vais à Paris. Mon ami Pierre parle beaucoup, mais il ne boit pas. Le "
               "matin, nous buvons du café au bord de l'eau.",
}

# name: (source clip, frames, language, text key, derive)
CASES = {
    "disgusted": ("expr_disgusted.mp4", 125, "fr", "fr", None),
    "sad": ("expr_sad.mp4", 112, "de", "de_short", None),
    "surprised": ("expr_surprised.mp4", 125, "es", "es", None),
    "talk_e": ("talk_e.mp4", 125, "fr", "fr", None),
    "talk_g": ("talk_g.mp4", 125, "de", "de", None),
    "oldfilm": ("talk_f.mp4", 125, "fr", "fr", "oldfilm"),
    "selfie": ("talk_h.mp4", 125, "de", "de", "selfie"),
    "sidelight": ("talk_i.mp4", 125, "es", "es", "sidelight"),
    "turn": ("WDA_KatieHill_000.mp4", 200, "de", "de_long", None),
    "turn_small": ("WDA_AlexandriaOcasioCortez_000.mp4", 200, "fr", "fr_long", None),
    "smallface": ("dinet_test19.mp4", 200, "fr", "fr_long", None),
}

# Clips from public repositories: name -> (owner+repo mirror, commit, path in it, licence).
# OpenTalker/SadTalker ships these as head-pose references (HDTF-style 512x512, 25 fps, 200
# frames, sound); the repository is Apache-2.0 (its LICENSE, third-party parts excepted).
# Measured yaw (Face Mesh, lipflap.face.pose): turn -22.6..+21.7 (turns left about frames 40-90,
# right about 140-199), turn_small -9.2..+11.2.
MIRROR = os.environ.get("LIPFLAP_MIRROR", "/work/.mirror")
MIRRORED = {
    "turn": ("OpenTalker+SadTalker", "cd4c046", "examples/ref_video/WDA_KatieHill_000.mp4",
             "Apache-2.0"),
    "turn_small": ("OpenTalker+SadTalker", "cd4c046",
                   "examples/ref_video/WDA_AlexandriaOcasioCortez_000.mp4", "Apache-2.0"),
    # MRzzm/DINet's test clip: a frontal speaker at 200x278, 29.97 fps (eyes ~55 pixels apart),
    # the small-face case; the repository states no licence (used here, never committed).
    "smallface": ("MRzzm+DINet", "bd8ed51", "dinet_test19.mp4", "none stated"),
}


def source_path(name: str, out_dir: str) -> str | None:
    """The case's source clip: from ../shared/media, or, for a MIRRORED case, extracted from the
    repository mirror into OUT/src/ (None when the mirror is absent)."""
    src = CASES[name][0]
    if name not in MIRRORED:
        return os.path.join(MEDIA, src)
    repo, commit, path, _ = MIRRORED[name]
    git_dir = os.path.join(MIRROR, repo, "repo")
    dst = os.path.join(out_dir, "src", src)
    if os.path.exists(dst):
        return dst
    if not os.path.isdir(git_dir):
        return None
    os.makedirs(os.path.dirname(dst), exist_ok=True)
    with open(dst + ".part", "wb") as fh:
        r = subprocess.run(["git", "--git-dir", git_dir, "show", f"{commit}:{path}"], stdout=fh)
    if r.returncode != 0:
        os.remove(dst + ".part")
        return None
    os.replace(dst + ".part", dst)
    return dst


def _oldfilm(img: np.ndarray, i: int, rng: np.random.Generator) -> np.ndarray:
    f = img.astype(np.float32) / 255.0
    grey = f @ np.array([0.299, 0.587, 0.114], np.float32)
    # 35% of the colour left, toned warm (sepia-ish), slightly lifted blacks and faded highlights
    sep = np.stack([grey * 1.07, grey * 0.92, grey * 0.74], -1)
    f = 0.35 * f + 0.65 * sep
    f = 0.06 + 0.86 * f
    f *= 1.0 + 0.02 * np.sin(i * 1.7)                      # flicker
    grain = cv2.GaussianBlur(rng.normal(0, 0.035, f.shape[:2]).astype(np.float32), (0, 0), 0.7)
    f = np.clip(f + grain[..., None], 0, 1)
    small = cv2.resize(f, None, fx=0.45, fy=0.45, interpolation=cv2.INTER_AREA)
    canvas = np.full((480, 640, 3), 0.08, np.float32)
    h, w = small.shape[:2]
    y0, x0 = (480 - h) // 2, (640 - w) // 2
    canvas[y0:y0 + h, x0:x0 + w] = small
    return np.round(canvas * 255).astype(np.uint8)


def _face_box(path: str) -> tuple[int, int, int]:
    """(cx, cy, side) of a square round the face of the clip's first frame (Face Mesh)."""
    import mediapipe as mp
    with av.open(path) as c:
        img = next(c.decode(video=0)).to_ndarray(format="rgb24")
    with mp.solutions.face_mesh.FaceMesh(static_image_mode=True, refine_landmarks=True) as fm:
        res = fm.process(img)
    if not res.multi_face_landmarks:
        sys.exit(f"{path}: no face in frame 0 to crop a selfie round")
    h, w = img.shape[:2]
    pts = np.array([[p.x * w, p.y * h] for p in res.multi_face_landmarks[0].landmark])
    (x0, y0), (x1, y1) = pts.min(0), pts.max(0)
    side = int(max(x1 - x0, y1 - y0) * 1.25)
    return int((x0 + x1) / 2), int((y0 + y1) / 2 + 0.08 * side), side


def _selfie(img: np.ndarray, box: tuple[int, int, int], rng: np.random.Generator) -> np.ndarray:
    cx, cy, side = box
    h, w = img.shape[:2]
    x0 = int(np.clip(cx - side // 2, 0, w - side))
    y0 = int(np.clip(cy - side // 2, 0, h - side))
    crop = img[y0:y0 + side, x0:x0 + side]
    big = cv2.resize(crop, (960, 960), interpolation=cv2.INTER_CUBIC).astype(np.float32)
    noise = rng.normal(0, 3.0, big.shape[:2]).astype(np.float32)
    big += noise[..., None] + rng.normal(0, 1.2, big.shape).astype(np.float32)
    return np.clip(np.round(big), 0, 255).astype(np.uint8)


def _sidelight(img: np.ndarray, box: tuple[int, int, int], rng: np.random.Generator) -> np.ndarray:
    cx, _, side = box
    lin = (img.astype(np.float32) / 255.0) ** 2.2
    x = np.arange(img.shape[1], dtype=np.float32)
    # key from the left: full on the lit side, ~0.06 (linear) on the far side, the edge across the mouth
    fall = 0.06 + 0.94 / (1.0 + np.exp((x - cx) / (0.10 * side)))
    tint = np.stack([1.0 + 0.08 * fall, np.ones_like(fall), 1.0 - 0.10 * fall], -1)
    lin = lin * (0.85 * fall)[None, :, None] * tint[None]
    out = lin ** (1 / 2.2) * 255.0
    out += rng.normal(0, 2.0, out.shape[:2]).astype(np.float32)[..., None]
    return np.clip(np.round(out), 0, 255).astype(np.uint8)


def build_clip(name: str, out_dir: str, path: str) -> str:
    _, frames, _, _, derive = CASES[name]
    dst = os.path.join(out_dir, f"{name}.mp4")
    rng = np.random.default_rng(15)
    box = _face_box(path) if derive in ("selfie", "sidelight") else None
    with av.open(path) as c:
        vs = c.streams.video[0]
        rate = vs.average_rate or Fraction(25)
        out = av.open(dst, "w")
        st = None
        for i, f in enumerate(c.decode(video=0)):
            if i >= frames:
                break
            img = f.to_ndarray(format="rgb24")
            if derive == "oldfilm":
                img = _oldfilm(img, i, rng)
            elif derive == "selfie":
                img = _selfie(img, box, rng)
            elif derive == "sidelight":
                img = _sidelight(img, box, rng)
            if st is None:
                st = out.add_stream("libx264", rate=rate)
                st.width, st.height = img.shape[1] // 2 * 2, img.shape[0] // 2 * 2
                st.pix_fmt = "yuv420p"
                st.options = {"crf": "12", "preset": "medium"}
            img = img[:st.height, :st.width]
            for p in st.encode(av.VideoFrame.from_ndarray(np.ascontiguousarray(img), format="rgb24")):
                out.mux(p)
        for p in st.encode():
            out.mux(p)
        out.close()
    return dst


def build_dub(name: str, out_dir: str) -> str:
    _, _, lang, key, _ = CASES[name]
    dub = os.path.join(out_dir, f"{name}.dub.wav")
    subprocess.run([sys.executable, os.path.join(EVAL, "make_dub.py"), "--voice", lang,
                    "--text", TEXT[key], "--out", dub], check=True, stdout=subprocess.DEVNULL)
    return dub


WRITTEN = ("codec", "probe_s", "kB_per_frame")
KEYS = ("bilabial_closure", "open_vowel_opening", "pause_rest", "timing_best_lag",
        "outside_any", "mouth_sharpness_ratio_median", "mouth_roughness_ratio",
        "psnr_outside_lower_face_db_median")


def run_case(name: str, out_dir: str, tag: str, keep: bool = False,
             codec: str = "prores_4444") -> dict:
    import json
    _, _, lang, key, _ = CASES[name]
    stem = os.path.join(out_dir, name)
    dst = os.path.join(out_dir, tag)
    os.makedirs(dst, exist_ok=True)
    mov = os.path.join(dst, f"{name}.mov")
    if keep and os.path.exists(mov) and os.path.exists(os.path.join(dst, f"{name}.json")):
        return {**_summary(os.path.join(dst, f"{name}.json")),
                **_written(mov, os.path.join(dst, f"{name}.report.json"))}
    lipflap = os.path.join(os.path.dirname(sys.executable), "lipflap")
    if not (keep and os.path.exists(mov)):
        subprocess.run(["nice", "-n", "10", lipflap, "run", f"{stem}.mp4", "--audio", f"{stem}.dub.wav",
                        "--text", TEXT[key], "--language", lang, "--codec", codec, "-o", mov,
                        "--progress", "none", "--report", os.path.join(dst, f"{name}.report.json")],
                       check=True)
    js = os.path.join(dst, f"{name}.json")
    subprocess.run(["nice", "-n", "10", sys.executable, os.path.join(EVAL, "lipeval.py"), "measure",
                    mov, "--audio", f"{stem}.dub.wav", "--phones", f"{stem}.dub.phones.json",
                    "--source", f"{stem}.mp4", "--json", js], check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    subprocess.run(["nice", "-n", "10", sys.executable, os.path.join(EVAL, "contact_sheet.py"), mov,
                    f"{stem}.mp4", "--phones", f"{stem}.dub.phones.json", "-o",
                    os.path.join(dst, f"{name}.png")], check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    return {**_summary(js), **_written(mov, os.path.join(dst, f"{name}.report.json"))}


def _written(mov: str, report: str) -> dict:
    """The codec the run wrote (and, chosen automatically, the probe's seconds) and the mean
    bytes per video frame of the render."""
    import json
    with open(report) as f:
        rep = json.load(f)
    with av.open(mov) as c:
        sizes = [p.size for p in c.demux(video=0) if p.size]
    probe = (rep.get("codec_choice") or {}).get("probe") or {}
    return {"codec": rep["codec"], "probe_s": probe.get("seconds"),
            "kB_per_frame": float(np.mean(sizes)) / 1000}


def _summary(js: str) -> dict:
    import json
    with open(js) as f:
        res = json.load(f)
    flat = {}
    for v in res.values() if isinstance(res, dict) else []:
        if isinstance(v, dict):
            flat.update(v)
    flat.update({k: v for k, v in res.items() if not isinstance(v, dict)})
    # rates come as [rate, count]
    return {k: flat[k][0] if isinstance(flat.get(k), list) else flat.get(k) for k in KEYS}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", default=os.path.join(REPO, "scratch", "hard"))
    p.add_argument("--only", nargs="*")
    p.add_argument("--run", metavar="TAG")
    p.add_argument("--keep", action="store_true", help="with --run: reuse renders already made")
    p.add_argument("--codec", default="prores_4444",
                   help="with --run: the render's --codec (prores_4444, as the hard set's figures "
                        "were measured; auto: lipflap's own choice, the ProRes profile that holds "
                        "each clip's detail)")
    a = p.parse_args()
    if a.run:
        print("clip " + " ".join(KEYS + WRITTEN), flush=True)
        for name in a.only or list(CASES):
            if not os.path.exists(os.path.join(a.out, f"{name}.mp4")):
                print(f"{name}: skipped, {a.out}/{name}.mp4 is not built; run without --run first.")
                continue
            r = run_case(name, a.out, a.run, a.keep, a.codec)
            print(name, " ".join("-" if r[k] is None else r[k] if isinstance(r[k], str) else
                                 f"{r[k]:.3g}" for k in KEYS + WRITTEN), flush=True)
        return
    if not os.path.isdir(MEDIA):
        sys.exit(f"{MEDIA}: the shared media folder is missing; set LIPFLAP_SHARED.")
    os.makedirs(a.out, exist_ok=True)
    for name in a.only or list(CASES):
        path = source_path(name, a.out)
        if path is None:
            repo, _, where, _ = MIRRORED[name]
            print(f"{name}: skipped, the mirror of {repo.replace('+', '/')} (for {where}) is not "
                  f"under {MIRROR}; fetch it or set LIPFLAP_MIRROR.")
            continue
        clip = build_clip(name, a.out, path)
        dub = build_dub(name, a.out)
        lang, key = CASES[name][2], CASES[name][3]
        stem = os.path.join(a.out, name)
        print(f"lipflap run {clip} --audio {dub} --text \"{TEXT[key]}\" --language {lang} "
              f"--codec prores_4444 -o {stem}.out.mov")
        print(f"  lipeval.py measure {stem}.out.mov --audio {dub} --phones {stem}.dub.phones.json "
              f"--source {clip}")


if __name__ == "__main__":
    main()
