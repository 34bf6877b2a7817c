"""Does lipflap's QC agree with the yardstick? Per render and per criterion, on good renders and on
deliberately bad ones that must fail (issue 15, item 7).

    # 1. good renders: hard-link finished `lipflap run` renders (with their --report) into the set
    python bench/bench_qc_agree.py collect --out scratch/qa \
        --hard /work/main/scratch/hard --hard-tag final \
        --talk /work/wt/closure15/scratch/talk --talk-tag base
    # 2. bad renders derived from some good ones (no rendering: picture edits and dub edits)
    python bench/bench_qc_agree.py bad --out scratch/qa --from talk_b talk_g hard_disgusted
    # 3. measure every case (cached per case: lipeval.json, qc.json, quick.json)
    nice -n 10 python bench/bench_qc_agree.py measure --out scratch/qa
    # 4. the table and the agreement counts (--tuned: the cases thresholds were set on)
    python bench/bench_qc_agree.py table --out scratch/qa --tag after --tuned 'hard_disgusted*' talk_b

The hard set is built by `python bench/hard_set.py --out scratch/hard` and rendered by
`python bench/hard_set.py --run TAG`; the talk set is the shared talk_* clips rendered script-aware
(`lipflap run CLIP --audio DUB --text ... --language ... --start 0 --end N-1 --codec prores_4444
--report R.json`) with ../shared/eval/make_dub.py dubs of hard_set.TEXT. Good renders are found as
DIR/TAG/NAME.mov beside DIR/TAG/NAME.report.json, with the dub at DIR/NAME.dub.wav (+ .phones.json).

Three measurements per case:
- the yardstick, ../shared/eval/lipeval.py measure OUT --audio DUB --phones PHONES --source SRC;
- `lipflap qc OUT --audio DUB --text T --language L --source SRC --source-start 0 --source-end N-1`;
- `run`'s quick QC, replayed: lipflap.qc.pixels.OutputSampler fed exactly as the renderer feeds it
  (source frame, a patch that is the output frame, the source's landmarks), so any output file -
  the bad ones too - gets the verdict `lipflap run` would have written into its report. The
  replay's frames are the written file's, the codec's loss already in them, so it is given no
  roundtrip: the run reads its frames before encoding and scales the mouth-box sharpness by the
  codec's loss measured on a few of them (lipflap.qc.pixels.CODEC_FRAMES); on the hard set the
  run's figure lies within 0.012 of the yardstick's on average (docs/quality.md, 'The quick QC's
  sharpness, with the codec's own loss').

Bad renders (each must fail): `late4` the render with its dub starting 4 frames later in the
sound (the mouth 160 ms after the sound); `wrongdub` the render checked against another clip's
dub; `blur` the lower face blurred (Gaussian, sigma = eye distance / 30); `dark` the lips darker
and more saturated (L* down 20 levels of 255, chroma x1.3: a lipstick look); `passthrough` the
source itself as output.

Agreement: the yardstick passes a criterion when it meets the issue's target; a QC agrees when it
says "pass" exactly where the yardstick passes ("warn" counts as not passing: a look is asked
for). "Dangerous" is a QC pass where the yardstick fails.
"""
from __future__ import annotations

import argparse
import fnmatch
import json
import math
import os
import shutil
import subprocess
import sys
import wave

import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.environ.get("LIPFLAP_SHARED", os.path.join(os.path.dirname(REPO), "shared"))
EVAL = os.path.join(SHARED, "eval")
sys.path.insert(0, os.path.join(REPO, "bench"))
from hard_set import CASES as HARD_CASES, TEXT  # noqa: E402

BAD_KINDS = ("late4", "wrongdub", "blur", "dark", "passthrough")
LATE_FRAMES = 4


# ---- the criteria: the targets on the yardstick, and the QC figures that judge them ----
def _rate(y, k):
    v = (y.get("phonetics") or {}).get(k)
    return v[0] if isinstance(v, list) else v


def _ph(y, k):
    return (y.get("phonetics") or {}).get(k)


def _fid(y, k):
    return (y.get("fidelity") or {}).get(k)


def _rounding(y):
    p = y.get("phonetics") or {}
    return p.get("rounding_width_ratio") if (p.get("rounded_vowels") or 0) >= 3 else None


# name, yardstick value, yardstick pass, QC figures (the worst of them is the QC's verdict)
CRITERIA = [
    ("closure", lambda y: _rate(y, "bilabial_closure"), lambda v: v >= 0.95, ["bilabial_closure"]),
    ("opening", lambda y: _rate(y, "open_vowel_opening"), lambda v: v >= 0.90,
     ["open_vowel_opening"]),
    ("rest", lambda y: _rate(y, "pause_rest"), lambda v: v >= 0.90, ["pause_rest"]),
    ("lag", lambda y: _ph(y, "timing_best_lag"), lambda v: -2 <= v <= 0, ["timing_lag_frames"]),
    ("r0", lambda y: _ph(y, "timing_r0"), lambda v: v >= 0.80, ["timing_r0"]),
    ("rounding", _rounding, lambda v: v <= 0.92, ["rounding_width_ratio"]),
    ("shape", lambda y: _fid(y, "outside_any"), lambda v: v <= 0.02, ["lip_shape_outside"]),
    ("sharp", lambda y: _fid(y, "mouth_sharpness_ratio_median"), lambda v: 0.95 <= v <= 1.10,
     ["mouth_sharpness_ratio"]),
    ("rough", lambda y: _fid(y, "mouth_roughness_ratio"), lambda v: v <= 1.10,
     ["mouth_roughness_ratio"]),
]
ORDER = {"n/a": -1, "pass": 0, "warn": 1, "fail": 2}


def yard_verdicts(y: dict) -> dict:
    out = {}
    for name, get, ok, _ in CRITERIA:
        v = get(y)
        out[name] = ("n/a", None) if v is None or (isinstance(v, float) and math.isnan(v)) \
            else ("pass" if ok(v) else "fail", v)
    measured = [v for v, _ in out.values() if v != "n/a"]
    out["overall"] = ("fail" if "fail" in measured else "pass", None)
    return out


def qc_verdicts(rep: dict | None) -> dict:
    figs = (rep or {}).get("figures") or {}
    out = {}
    for name, _, _, keys in CRITERIA:
        worst, val = "n/a", None
        for k in keys:
            f = figs.get(k)
            if f and ORDER[f["verdict"]] > ORDER[worst]:
                worst, val = f["verdict"], f["value"]
        out[name] = (worst, val)
    out["overall"] = ((rep or {}).get("verdict", "n/a"), None)
    return out


# ---- collecting good renders ----------------------------------------------------------------
def collect(out: str, hard: str | None, hard_tag: str, talk: str | None, talk_tag: str) -> None:
    good = os.path.join(out, "good")
    os.makedirs(good, exist_ok=True)
    cases = load_cases(out)
    for kind, root, tag in (("hard", hard, hard_tag), ("talk", talk, talk_tag)):
        if not root:
            continue
        for fn in sorted(os.listdir(os.path.join(root, tag))):
            if not fn.endswith(".report.json"):
                continue
            name = fn[:-len(".report.json")]
            c = _good_case(kind, root, tag, name, good)
            if c is not None:
                cases[c["name"]] = c
    save_cases(out, cases)
    print(f"{len(cases)} cases in {out}/cases.json")


def _link(src: str, dst: str) -> None:
    if os.path.exists(dst):
        return
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def _good_case(kind, root, tag, name, good) -> dict | None:
    d = os.path.join(root, tag)
    mov = os.path.join(d, name + ".mov")
    if not os.path.exists(mov):
        return None
    with open(os.path.join(d, name + ".report.json")) as f:
        rep = json.load(f)
    cname = f"{kind}_{name}" if kind == "hard" else name
    if kind == "hard":
        _, _, lang, key, _ = HARD_CASES[name]
        text, src = TEXT[key], os.path.join(root, name + ".mp4")
    else:
        lang = rep["mouth_track"]["language"]
        text, src = TEXT[lang], rep["input"]
    stem = os.path.join(good, cname)
    for a, b in ((mov, ".mov"), (os.path.join(d, name + ".report.json"), ".report.json"),
                 (os.path.join(root, name + ".dub.wav"), ".dub.wav"),
                 (os.path.join(root, name + ".dub.phones.json"), ".dub.phones.json")):
        _link(a, stem + b)
    if kind == "hard":
        _link(src, stem + ".src.mp4")
        src = stem + ".src.mp4"
    # the yardstick's measurement made beside the render (same output, dub, phones and source)
    done = os.path.join(d, name + ".json")
    m = os.path.join(os.path.dirname(good), "m", cname)
    if os.path.exists(done) and not os.path.exists(os.path.join(m, "lipeval.json")):
        os.makedirs(m, exist_ok=True)
        shutil.copy(done, os.path.join(m, "lipeval.json"))
    rng = rep["range"]
    return {"name": cname, "expect": "good", "kind": "render", "output": stem + ".mov",
            "source": src, "start": rng["first"], "end": rng["last"], "dub": stem + ".dub.wav",
            "phones": stem + ".dub.phones.json", "text": text, "language": lang,
            "run_report": stem + ".report.json"}


def load_cases(out: str) -> dict:
    p = os.path.join(out, "cases.json")
    if not os.path.exists(p):
        return {}
    with open(p) as f:
        return json.load(f)


def save_cases(out: str, cases: dict) -> None:
    with open(os.path.join(out, "cases.json"), "w") as f:
        json.dump(cases, f, indent=1, ensure_ascii=False)


# ---- bad renders -----------------------------------------------------------------------------
def make_bad(out: str, names: list[str], kinds: list[str]) -> None:
    cases = load_cases(out)
    bad = os.path.join(out, "bad")
    os.makedirs(bad, exist_ok=True)
    goods = [c for c in cases.values() if c["expect"] == "good"]
    for name in names:
        c = cases[name]
        for kind in kinds:
            stem = os.path.join(bad, f"{name}.{kind}")
            b = dict(c, name=f"{name}.{kind}", expect="bad", kind=kind, run_report=None)
            if kind == "late4":
                b["dub"], b["phones"] = late_dub(c, stem, LATE_FRAMES)
            elif kind == "wrongdub":
                other = _other_dub(c, goods)
                b.update(dub=other["dub"], phones=other["phones"], text=other["text"],
                         language=other["language"], wrong_dub_of=other["name"])
            else:
                b["output"] = stem + ".mov"
                if not os.path.exists(b["output"]):
                    edit_picture(c, kind, b["output"])
                if kind == "passthrough":
                    b["start"], b["end"] = c["start"], c["end"]
            cases[b["name"]] = b
            print("made", b["name"], flush=True)
    save_cases(out, cases)


def _other_dub(c: dict, goods: list[dict]) -> dict:
    """A dub in another language (another text) whose length is nearest this one's."""
    others = [g for g in goods if g["language"] != c["language"]]
    n = c["end"] - c["start"] + 1
    return min(others, key=lambda g: (abs((g["end"] - g["start"] + 1) - n), g["name"]))


def _fps(path: str) -> float:
    from lipflap.media.probe import probe
    return float(probe(path).fps)


def late_dub(c: dict, stem: str, frames: int) -> tuple[str, str]:
    """The dub with its first `frames` frames of sound cut: the picture rendered for the original
    now shows each mouth `frames` frames after its sound. Phones move earlier by the same."""
    cut = frames / _fps(c["output"])
    wav, phones = stem + ".dub.wav", stem + ".dub.phones.json"
    with wave.open(c["dub"]) as w:
        params, data = w.getparams(), w.readframes(w.getnframes())
    skip = int(round(cut * params.framerate)) * params.sampwidth * params.nchannels
    with wave.open(wav, "wb") as w:
        w.setparams(params)
        w.writeframes(data[skip:])
    with open(c["phones"]) as f:
        ph = json.load(f)
    moved = [{"phone": p["phone"], "start": round(max(0.0, p["start"] - cut), 4),
              "end": round(p["end"] - cut, 4)} for p in ph if p["end"] - cut > 0]
    with open(phones, "w") as f:
        json.dump(moved, f, ensure_ascii=False, indent=0)
    return wav, phones


def source_landmarks(c: dict, cache: str, raw: bool = False) -> list:
    """The source range's Face Mesh landmarks (lipflap.face), cached per source and range."""
    from lipflap.qc.measure import landmarks_of
    os.makedirs(cache, exist_ok=True)
    key = os.path.basename(c["source"]).replace(".", "_") + f"_{c['start']}_{c['end']}"
    p = os.path.join(cache, key + ".npz")
    if not os.path.exists(p):
        from lipflap.face.analyze import analyze_video
        a = analyze_video(c["source"], c["start"], c["end"])
        lms, raws = landmarks_of(a)[0], landmarks_of(a, raw=True)[0]
        nan = np.full((478, 2), np.nan)
        np.savez_compressed(p, lms=np.array([nan if x is None else np.asarray(x)[:, :2] for x in lms]),
                            raw=np.array([nan if x is None else np.asarray(x)[:, :2] for x in raws]))
    arr = np.load(p)["raw" if raw else "lms"]
    return [None if not np.isfinite(x).all() else x for x in arr]


def edit_picture(c: dict, kind: str, dst: str) -> None:
    """Write the edited output (ProRes 4444, the render's own codec) frame by frame."""
    from lipflap.media.decode import read_frames
    cache = os.path.join(os.path.dirname(os.path.dirname(dst)), "cache")
    lms = source_landmarks(c, cache)
    path, a, b = (c["source"], c["start"], c["end"]) if kind == "passthrough" else \
        (c["output"], 0, None)
    frames = (f.image for f in read_frames(path, a, b, deep=False))
    edit = {"blur": _blur, "dark": _dark, "passthrough": lambda img, lm: img}[kind]
    write_prores(dst, (edit(img, lms[i] if i < len(lms) else None) for i, img in enumerate(frames)),
                 _fps(c["output"]))


def _iod(lm) -> float:
    return float(np.linalg.norm(lm[33] - lm[263]))


def _feathered(shape, polys, feather: float, holes=()) -> np.ndarray:
    import cv2
    m = np.zeros(shape[:2], np.float32)
    for p in polys:
        cv2.fillPoly(m, [np.round(p).astype(np.int32)], 1.0)
    for p in holes:
        cv2.fillPoly(m, [np.round(p).astype(np.int32)], 0.0)
    return cv2.GaussianBlur(m, (0, 0), max(0.5, feather))[:, :, None]


def _blur(img, lm):
    """The lower face (mouth and chin, the renderer's patch area) blurred."""
    import cv2
    from lipflap.qc.regions import LOWER_FACE
    if lm is None:
        return img
    iod = _iod(lm)
    hull = cv2.convexHull(lm[list(LOWER_FACE)].astype(np.float32))[:, 0]
    m = _feathered(img.shape, [hull], iod * 0.05)
    soft = cv2.GaussianBlur(img, (0, 0), iod / 30)
    return np.clip(img * (1 - m) + soft * m + 0.5, 0, 255).astype(np.uint8)


def _dark(img, lm):
    """Lips darker and more saturated than the actor's own: a lipstick look."""
    import cv2
    from lipflap.qc.shape import LIPS_INNER, LIPS_OUTER
    if lm is None:
        return img
    m = _feathered(img.shape, [lm[list(LIPS_OUTER)]], 1.0, holes=[lm[list(LIPS_INNER)]])
    lab = cv2.cvtColor(img, cv2.COLOR_RGB2LAB).astype(np.float32)
    lab[..., 0] -= 20
    lab[..., 1:] = 128 + (lab[..., 1:] - 128) * 1.3
    dark = cv2.cvtColor(np.clip(lab, 0, 255).astype(np.uint8), cv2.COLOR_LAB2RGB).astype(np.float32)
    return np.clip(img * (1 - m) + dark * m + 0.5, 0, 255).astype(np.uint8)


def write_prores(dst: str, images, fps: float) -> None:
    import av
    from fractions import Fraction
    tmp = dst + ".part.mov"
    with av.open(tmp, "w") as o:
        st = None
        for img in images:
            if st is None:
                st = o.add_stream("prores_ks", rate=Fraction(fps).limit_denominator(100000))
                st.width, st.height = img.shape[1], img.shape[0]
                st.pix_fmt = "yuv444p10le"
                st.options = {"profile": "4"}
            for p in st.encode(av.VideoFrame.from_ndarray(np.ascontiguousarray(img), format="rgb24")):
                o.mux(p)
        for p in st.encode():
            o.mux(p)
    os.replace(tmp, dst)


# ---- measuring --------------------------------------------------------------------------------
def measure(out: str, only: list[str] | None, force: set[str], tag: str = "") -> None:
    cases = load_cases(out)
    for name in only or list(cases):
        c = cases[name]
        d = os.path.join(out, "m", name)
        os.makedirs(d, exist_ok=True)
        for what, fn in (("lipeval", run_lipeval), ("qc", run_qc), ("quick", run_quick)):
            p = os.path.join(d, what + (f".{tag}" if tag and what != "lipeval" else "") + ".json")
            if what in force or not os.path.exists(p):
                fn(c, p, out)
        print("measured", name, flush=True)


def run_lipeval(c: dict, dst: str, out: str) -> None:
    cmd = [sys.executable, os.path.join(EVAL, "lipeval.py"), "measure", c["output"], "--audio",
           c["dub"], "--phones", c["phones"], "--source", _source_cut(c, out), "--json", dst]
    subprocess.run(["nice", "-n", "10"] + cmd, check=True, stdout=subprocess.DEVNULL)


def _source_cut(c: dict, out: str) -> str:
    """lipeval compares frame i of output and source from frame 0: a source whose range starts
    later is cut to the range first."""
    if c["start"] == 0:
        return c["source"]
    dst = os.path.join(out, "cache", f"{os.path.basename(c['source'])}.{c['start']}_{c['end']}.mov")
    if not os.path.exists(dst):
        from lipflap.media.decode import read_frames
        write_prores(dst, (f.image for f in read_frames(c["source"], c["start"], c["end"],
                                                        deep=False)), _fps(c["source"]))
    return dst


def run_qc(c: dict, dst: str, out: str) -> None:
    """`lipflap qc` as the command line runs it (in this process: one import of the engine)."""
    from lipflap.cli import main as lipflap_main
    code = lipflap_main(["qc", c["output"], "--audio", c["dub"], "--text", c["text"],
                         "--language", c["language"], "--source", c["source"], "--source-start",
                         str(c["start"]), "--source-end", str(c["end"]), "-o", dst,
                         "--progress", "none"])
    if code != 0:
        raise SystemExit(f"lipflap qc failed on {c['name']} (exit {code})")


def run_quick(c: dict, dst: str, out: str) -> None:
    """`lipflap run`'s quick QC on this output, fed as the renderer feeds it."""
    from lipflap.media.decode import read_frames
    from lipflap.media.probe import probe
    from lipflap.mouth.build import mouth_track_for_audio
    from lipflap.qc.pixels import OutputSampler, quick_report_from_pixels
    from lipflap.qc.regions import clip_mouth_box
    from lipflap.qc.shape import range_points
    from lipflap.render.synth import Patch
    n = c["end"] - c["start"] + 1
    fps = probe(c["output"]).fps
    track = mouth_track_for_audio(c["dub"], fps, text=c["text"], language=c["language"],
                                  n_frames=n)
    lms = source_landmarks(c, os.path.join(out, "cache"))
    raws = [range_points(x) for x in source_landmarks(c, os.path.join(out, "cache"), raw=True)]
    info = probe(c["source"])
    sampler = OutputSampler(track, n, mouth_box=clip_mouth_box(lms, (info.height, info.width)),
                            source_raw=raws)
    outs = read_frames(c["output"], deep=False)
    for i, fs in enumerate(read_frames(c["source"], c["start"], c["end"], deep=False)):
        fo = next(outs, None)
        if fo is None:
            break
        img = fo.image.astype(np.float32)
        patch = Patch(0, 0, img, np.ones(img.shape[:2], np.float32))
        sampler.add(i, fs.image, patch, 255.0, lms[i] if i < len(lms) else None)
    rep = quick_report_from_pixels(sampler, track, n)
    sampler.close()
    with open(dst, "w") as f:
        json.dump(rep, f, indent=1, default=float)


# ---- the table --------------------------------------------------------------------------------
def _load(p):
    if not os.path.exists(p):
        return None
    with open(p) as f:
        return json.load(f)


def table(out: str, tuned: list[str], tag: str = "") -> None:
    cases = load_cases(out)
    names = [n for n in cases if os.path.exists(os.path.join(out, "m", n, "lipeval.json"))]
    crit = [c[0] for c in CRITERIA] + ["overall"]
    counts = {q: {k: {"held": [0, 0], "tuned": [0, 0]} for k in crit} for q in ("qc", "quick")}
    danger = {"qc": [], "quick": []}
    caught = {"qc": [], "quick": []}     # bad renders each QC fails outright
    print("case".ljust(28) + " ".join(k[:8].rjust(14) for k in crit))
    print(" " * 28 + " ".join("yard/qc/quick".rjust(14) for _ in crit))
    t = f".{tag}" if tag else ""
    for n in names:
        m = os.path.join(out, "m", n)
        y = yard_verdicts(_load(os.path.join(m, "lipeval.json")))
        q = {"qc": qc_verdicts(_load(os.path.join(m, f"qc{t}.json"))),
             "quick": qc_verdicts(_load(os.path.join(m, f"quick{t}.json")))}
        part = "tuned" if any(fnmatch.fnmatch(n, pat) for pat in tuned) else "held"
        cells = []
        for k in crit:
            yv, yval = y[k]
            cells.append(f"{_short(yv)}{_num(yval)}/{_short(q['qc'][k][0])}/{_short(q['quick'][k][0])}")
            for w in ("qc", "quick"):
                qv = q[w][k][0]
                if yv == "n/a" or qv == "n/a":
                    continue
                agree = (yv == "pass") == (qv == "pass")
                counts[w][k][part][0] += agree
                counts[w][k][part][1] += 1
                if yv == "fail" and qv == "pass":
                    danger[w].append(f"{n}:{k}")
        if cases[n]["expect"] == "bad":
            for w in ("qc", "quick"):
                if q[w]["overall"][0] != "n/a":
                    caught[w].append(f"{n}:{q[w]['overall'][0]}")
        mark = ("*" if part == "tuned" else " ") + (" BAD" if cases[n]["expect"] == "bad" else "")
        print((n + mark)[:28].ljust(28) + " ".join(s.rjust(14) for s in cells))
    _print_counts(counts, crit, danger)
    for w, label in (("qc", "lipflap qc"), ("quick", "run's quick QC")):
        fails = sum(c.endswith(":fail") for c in caught[w])
        print(f"  {label}: bad renders failed {fails}/{len(caught[w])}: " + " ".join(caught[w]))


def _short(v: str) -> str:
    return {"pass": "P", "fail": "F", "warn": "w", "n/a": "-"}[v]


def _num(v) -> str:
    if v is None:
        return ""
    return f"{v:.2f}" if isinstance(v, float) else str(v)


def _print_counts(counts, crit, danger) -> None:
    print("\nagreement (QC 'pass' exactly where the yardstick passes; * = tuned on, rest held out)")
    for w, label in (("qc", "lipflap qc"), ("quick", "run's quick QC")):
        row = []
        for k in crit:
            h, t = counts[w][k]["held"], counts[w][k]["tuned"]
            row.append(f"{k} {h[0]}/{h[1]} (+{t[0]}/{t[1]})")
        print(f"  {label}: " + "; ".join(row))
        print(f"  {label}: dangerous (QC pass, yardstick fail): {len(danger[w])} "
              + " ".join(danger[w]))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("collect")
    c.add_argument("--hard")
    c.add_argument("--hard-tag", default="final")
    c.add_argument("--talk")
    c.add_argument("--talk-tag", default="base")
    b = sub.add_parser("bad")
    b.add_argument("--from", dest="names", nargs="+", required=True)
    b.add_argument("--kinds", nargs="+", default=list(BAD_KINDS), choices=BAD_KINDS)
    m = sub.add_parser("measure")
    m.add_argument("--only", nargs="*")
    m.add_argument("--force", nargs="*", default=[], choices=("lipeval", "qc", "quick"),
                   help="measure these again (after a QC change)")
    t = sub.add_parser("table")
    t.add_argument("--tuned", nargs="*", default=[],
                   help="names (shell patterns) of the cases thresholds were set on; the rest "
                        "are counted as held out")
    for s in (m, t):
        s.add_argument("--tag", default="", help="QC results as qc.TAG.json / quick.TAG.json "
                       "(one per code version; no tag: qc.json)")
    for s in (c, b, m, t):
        s.add_argument("--out", default=os.path.join(REPO, "scratch", "qa"))
    a = p.parse_args()
    if a.cmd == "collect":
        collect(a.out, a.hard, a.hard_tag, a.talk, a.talk_tag)
    elif a.cmd == "bad":
        make_bad(a.out, a.names, a.kinds)
    elif a.cmd == "measure":
        measure(a.out, a.only, set(a.force), a.tag)
    else:
        table(a.out, a.tuned, a.tag)


if __name__ == "__main__":
    main()
