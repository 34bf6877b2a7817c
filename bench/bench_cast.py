"""The cast across a scene (issue 18 item 3): identity accuracy across shots, and a conformed
dialogue scene measured per face.

    python bench/bench_cast.py accuracy OUT [--pairs talk_d+talk_f+talk_g talk_g+talk_i+talk_h ...]
    python bench/bench_cast.py accuracy OUT --grade     # shots 2-4 colour-graded differently
    python bench/bench_cast.py scene OUT          # after: python bench/two_faces.py make OUT
    python bench/bench_cast.py measure OUT        # after `scene` and the conform it prints
    /work/main/.venv/bin/python bench/bench_cast.py old-path OUT1 /work/main/tests
    .venv/bin/python bench/bench_cast.py old-path OUT2 tests     # same hashes and jobs?
    ... old-path OUT tests --cut SCENE/scene.otio --track "Dub ES MIX"   # real faces

`accuracy` builds, per LEFT+RIGHT+EXTRA triple, the five-shot scene of tests/cast_scene.py at
256 px a face (two-shot, the same two swapped on other frames, LEFT zoomed alone, RIGHT alone,
EXTRA alone), finds every shot's faces, and counts (1) faces matched to the right character from
the cast file's references (ANNA = LEFT's close-up, BEN = the swapped two-shot's left face;
EXTRA must come out unknown) and (2) whether `lipflap cast`'s grouping puts each person's faces
together and apart from the others. The thresholds were set on talk_d+talk_f (tune); the other
triples are held out.

`scene` turns two_faces.py's material (two.mp4 = talk_d | talk_f, 200 frames; voice_L/voice_R
eSpeak voices taking turns) into a three-shot cut: two.mp4, the same frames with the sides
swapped, and a 40-frame close-up of the left speaker while only BEN speaks (off screen). ANNA
(talk_d) and BEN (talk_f) each get a track with one dub clip per shot (their voice_L/voice_R
under both two-shots, ANNA silent and BEN speaking under the close-up), a cast file, and a
transcript with [ANNA]/[BEN] turns. It prints the conform command; `measure` then runs
two_faces.py measure on the straight and the swapped two-shot renders (each face against its
own voice).

Measured 2026-12-05 (CPU, 2 cores shared with other work): the figures are in docs/conform.md,
"The cast".
"""
from __future__ import annotations

import argparse
import glob
import json
import os
import shutil
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests"))
sys.path.insert(0, HERE)

from cast_scene import FPS, SHOTS_FACES, make_scene   # noqa: E402
import two_faces as tf                                  # noqa: E402

SHARED = tf.SHARED
TRIPLES = ("talk_d+talk_f+talk_g", "talk_g+talk_i+talk_h", "talk_a+talk_b+talk_e",
           "talk_e+talk_h+talk_c", "talk_i+talk_d+talk_b")


def accuracy(out: str, triples, grade: bool = False) -> dict:
    from lipflap.face.castfile import load_cast
    from lipflap.conform.casting import Shot, find_cast
    from lipflap.face.identity import match
    from lipflap.face.sightings import faces_in_clip
    rows = []
    for t in triples:
        left, right, extra = t.split("+")
        sc = make_scene(os.path.join(out, t), os.path.join(SHARED, "media"), left=left,
                        right=right, extra=extra, size=256, grade=grade)
        cast = load_cast(sc.cast)
        got = {}
        right_n = total = 0
        for path, truth in zip(sc.shots, SHOTS_FACES):
            seen = faces_in_clip(path, 0, sc.frames - 1, thumbnails=False)
            m = match({k: s.signature for k, s in enumerate(seen)}, cast.signatures(),
                      cast.threshold)
            names = [m[k].character for k in range(len(seen))]
            got[os.path.basename(path)] = [
                (seen[k].position, names[k], None if m[k].distance == float("inf")
                 else round(m[k].distance, 3)) for k in range(len(seen))]
            total += len(truth)
            right_n += sum(a == b for a, b in zip(names, truth)) if len(names) == len(truth) else 0
        shots = [Shot(p, 0, sc.frames - 1, os.path.basename(p)) for p in sc.shots]
        found = find_cast(shots, faces=lambda v, a, b: faces_in_clip(v, a, b))
        groups = sorted(sorted(w) for w in found.seen_in.values())
        want = sorted(sorted(w) for w in _true_groups(sc.shots))
        rows.append({"triple": t, "tune" if t == TRIPLES[0] else "held_out": True,
                     "faces_right": right_n, "faces": total, "matches": got,
                     "grouping_right": groups == want, "groups": groups})
        print(json.dumps(rows[-1]), flush=True)
    held = [r for r in rows if "held_out" in r]
    summary = {"held_out_faces_right": sum(r["faces_right"] for r in held),
               "held_out_faces": sum(r["faces"] for r in held),
               "held_out_groupings_right": sum(r["grouping_right"] for r in held),
               "held_out_scenes": len(held)}
    print(json.dumps(summary))
    return summary


def _true_groups(shots):
    """Who is where in the five shots, as `lipflap cast` labels them."""
    names = [os.path.basename(p) for p in shots]
    people = {}
    for name, faces in zip(names, SHOTS_FACES):
        pos = ["only"] if len(faces) == 1 else ["left", "right"]
        for who, where in zip(faces, pos):
            people.setdefault(who or "EXTRA", []).append(f"{name} ({where})")
    return list(people.values())


def scene(out: str) -> None:
    """The three-shot cut from two_faces.py's material (see the module docstring)."""
    import opentimelineio as otio
    from cast_scene import _tr, _write
    frames = tf.frames_of(os.path.join(out, "two.mp4"))
    size = tf.SIZE
    _write(os.path.join(out, "two_swap.mp4"), [np.hstack([f[:, size:], f[:, :size]]) for f in frames])
    close = [f[64:448, 64:448] for f in frames[100:140]]          # talk_d zoomed (384 px crop)
    _write(os.path.join(out, "close_l.mp4"), close)
    n = tf.N
    wav = {s: tf.read_wav(os.path.join(out, f"voice_{s}.wav")) for s in "LR"}
    quiet = np.zeros(int(round(40 / FPS * tf.SR)))
    turn_r = json.load(open(os.path.join(out, "turns.json")))["R"][0]
    a = int((turn_r + 0.1) * tf.SR)
    ben_off = wav["R"][a:a + len(quiet)]                 # BEN's line, off screen
    # One dub clip per shot on each track (a stem cut at the shots: the same line twice in one
    # file would let the engine's script alignment find the first copy for both shots).
    parts = {"ANNA": (wav["L"], wav["L"], quiet), "BEN": (wav["R"], wav["R"], ben_off)}
    for c, xs in parts.items():
        for k, x in enumerate(xs, 1):
            tf.write_wav(os.path.join(out, f"{c}_{k}.wav"), x)
    tl = otio.schema.Timeline(name="scene", global_start_time=otio.opentime.from_timecode(
        "01:00:00:00", FPS))
    v1 = otio.schema.Track(name="V1", kind=otio.schema.TrackKind.Video)
    for name, k in (("two.mp4", n), ("two_swap.mp4", n), ("close_l.mp4", 40)):
        ref = otio.schema.ExternalReference(target_url=os.path.abspath(os.path.join(out, name)),
                                            available_range=_tr(0, k))
        v1.append(otio.schema.Clip(name=name[:-4], media_reference=ref, source_range=_tr(0, k)))
    tl.tracks.append(v1)
    for c in ("ANNA", "BEN"):
        t = otio.schema.Track(name=f"Dub ES {c}", kind=otio.schema.TrackKind.Audio)
        for k, frames_k in enumerate((n, n, 40), 1):
            ref = otio.schema.ExternalReference(
                target_url=os.path.abspath(os.path.join(out, f"{c}_{k}.wav")))
            t.append(otio.schema.Clip(name=f"dub_es_{c.lower()}", media_reference=ref,
                                      source_range=_tr(0, frames_k)))
        tl.tracks.append(t)
    otio.adapters.write_to_file(tl, os.path.join(out, "scene.otio"))
    json.dump({"characters": {"ANNA": {"video": "close_l.mp4", "face": "only", "frame": 20},
                              "BEN": {"video": "two.mp4", "face": "right", "frame": 100}}},
              open(os.path.join(out, "cast.json"), "w"), indent=1)
    line = f"[ANNA] {tf.TEXT_L} [BEN] {tf.TEXT_R}"
    with open(os.path.join(out, "lines.txt"), "w") as f:
        f.write(f"[two]\n{line}\n[two_swap]\n{line}\n")
    print(f"lipflap conform {out}/scene.otio -o {out}/renders --cast {out}/cast.json "
          f"--voice-track 'Dub ES ANNA=ANNA' --voice-track 'Dub ES BEN=BEN' --language es "
          f"--handles 0 --transcripts {out}/lines.txt --progress json")


def measure(out: str) -> dict:
    """two_faces.py measure on both two-shot renders, each face against its own voice."""
    res = {}
    straight = sorted(glob.glob(os.path.join(out, "renders", "two_lipflap_es_v*.mov")))[-1]
    res["two (ANNA left)"] = tf.measure(out, straight, None)
    swap = os.path.join(out, "swapped")
    os.makedirs(swap, exist_ok=True)
    shutil.copy(os.path.join(out, "two_swap.mp4"), os.path.join(swap, "two.mp4"))
    for a, b in (("L", "R"), ("R", "L")):     # the left face is BEN's now: his voice is "L"
        for ext in (".wav", ".phones.json"):
            shutil.copy(os.path.join(out, f"voice_{b}{ext}"), os.path.join(swap, f"voice_{a}{ext}"))
    swapped = sorted(glob.glob(os.path.join(out, "renders", "two_swap_lipflap_es_v*.mov")))[-1]
    res["two_swap (ANNA right)"] = tf.measure(swap, swapped, None)
    table = {k: {s: {m: v for m, v in r.items() if m != "raw"} for s, r in x.items()}
             for k, x in res.items()}
    json.dump(table, open(os.path.join(out, "measure.json"), "w"), indent=1, default=float)
    return table


def old_path(out: str, tests: str, cut_path: str | None = None, track: str = "Dub ES") -> dict:
    """The single --dub-track path, real engine, on tests/test_conform_support.py's cut (or
    `cut_path`, e.g. a scene of real faces): each render's decoded-frame hash and its job (run
    it with this tree's python and main's)."""
    import hashlib
    import av
    sys.path.insert(0, tests)
    from test_conform_support import make_cut
    import lipflap
    from lipflap.conform import conform
    cut_path = cut_path or make_cut(out, "25").path
    res = conform(cut_path, os.path.join(out, "r"), dub_track=track, language="es", handles=2)
    rows = {}
    for cj in res.jobs:
        h = hashlib.sha256()
        with av.open(cj.render) as c:
            for f in c.decode(video=0):
                h.update(f.to_ndarray(format="rgb24").tobytes())
        job = {k: v for k, v in cj.job.items() if k not in ("output", "report")}
        rows[os.path.basename(cj.render)] = [cj.status, h.hexdigest()[:16],
                                             json.dumps(job, sort_keys=True).replace(out, "OUT")]
    print(lipflap.__file__)
    print(json.dumps(rows, indent=1))
    return rows


def main() -> None:
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    a = sub.add_parser("accuracy")
    a.add_argument("out")
    a.add_argument("--pairs", nargs="+", default=list(TRIPLES))
    a.add_argument("--grade", action="store_true",
                   help="grade shots 2-4 differently (tests/cast_scene.py GRADES)")
    for name in ("scene", "measure"):
        sub.add_parser(name).add_argument("out")
    o = sub.add_parser("old-path")
    o.add_argument("out")
    o.add_argument("tests", help="that tree's tests/ folder")
    o.add_argument("--cut", help="a cut of real faces instead (e.g. a tests/cast_scene.py scene)")
    o.add_argument("--track", default="Dub ES", help="its dub track (Dub ES)")
    args = p.parse_args()
    if args.cmd == "accuracy":
        accuracy(args.out, args.pairs, args.grade)
    elif args.cmd == "old-path":
        old_path(args.out, args.tests, args.cut, args.track)
    elif args.cmd == "scene":
        scene(args.out)
    else:
        measure(args.out)


if __name__ == "__main__":
    main()
