"""A small cut on the strict Resolve fake, one per profile, and an engine honouring the CLI contract.

`cast` answers as `lipflap cast` does (the cast file, NAME.png per character, a message per
character and the result {"cast", "thumbnails", "characters", "faceless"}): PERSON_1 (left) and
PERSON_2 (right) of A001_C003.mov. A job by character ("cast_file", voices by "character", as
lipflap.pipeline.characters answers it): renders before source frame 300 show both characters,
later ones PERSON_1 alone; a voiced character not shown is listed "absent" (1.0 s of speech);
none shown renders nothing ("output": null and "not_rendered").

The cut (timeline start 01:00:00:00): on V1 clip A (in-point 100) for 48 timeline frames, clip
C004 for 24 frames (the engine fails on it), clip A again (in-point 400) for 24 frames; the dub
on A1 under all of them. A and C004 run at the profile's clip rate on a timeline at its
timeline rate, so the mixed-rate profiles put a 25 fps clip on 23.976 and 29.97 on 24. The
engine flags frames 2-4 of renders that start before source frame 300 (the first clip only).
"""
from __future__ import annotations

import sys
import textwrap
from fractions import Fraction

from tests.fakes import resolve as fr

# Writes the "render" as {"frames", "fps"} so the fake media pool sees its length and rate.
# `lipflap timeline` (the OTIO timeline and EDL of the placed renders) is the real command.
FAKE_ENGINE = textwrap.dedent('''
    import json, sys
    args = sys.argv[1:]
    if args[0] == "timeline":
        from lipflap.cli import main
        sys.exit(main(args))
    if args[0] == "analyze":   # two faces, as `lipflap analyze --thumbnails` lists them
        import os
        out, folder = args[args.index("-o") + 1], args[args.index("--thumbnails") + 1]
        thumbs = []
        for fid, pos, x in ((3, "left", 480.0), (1, "right", 1440.0)):
            png = os.path.join(folder, "face%d.png" % fid)
            open(png, "wb").write(b"PNG (fake)")
            thumbs.append({"id": fid, "file": png, "frame": int(args[args.index("--start") + 1]),
                           "box": [x - 100, 300, x + 100, 560], "centre": [x, 430.0], "shot": 0,
                           "frames": 10, "position": pos, "face": pos})
        json.dump({"format": "lipflap-face-analysis", "thumbnails": thumbs}, open(out, "w"))
        print(json.dumps({"result": {"analysis": out, "thumbnails": thumbs}}), flush=True)
        sys.exit(0)
    if args[0] == "cast":      # as `lipflap cast SHOTS -o CAST --thumbnails DIR`
        import os
        out, folder = args[args.index("-o") + 1], args[args.index("--thumbnails") + 1]
        if os.path.exists(out):
            print("lipflap: error: " + out + " exists; lipflap cast never writes over a cast file (its "
                  "names are the editor's work): give another -o or remove it.", file=sys.stderr)
            sys.exit(2)
        shots = [a for a in args[1:args.index("-o")]]
        seen = [s for s in shots if "C003" in s]
        chars, thumbs, where = {}, [], {}
        for k, pos in enumerate(("left", "right") if seen else ()):
            name = "PERSON_%d" % (k + 1)
            chars[name] = {"video": os.path.relpath(seen[0], os.path.dirname(out)), "face": pos, "frame": 130}
            png = os.path.join(folder, name + ".png")
            open(png, "wb").write(b"PNG (fake)")
            thumbs.append(png)
            where[name] = ["%s (%s)" % (os.path.basename(s), pos) for s in seen]
            print(json.dumps({"message": "%s: %s" % (name, ", ".join(where[name]))}), flush=True)
        json.dump({"characters": chars}, open(out, "w"))
        faceless = [os.path.basename(s) for s in shots if s not in seen]
        print(json.dumps({"result": {"cast": os.path.abspath(out), "thumbnails": thumbs,
                                     "characters": where, "faceless": faceless}}), flush=True)
        sys.exit(0)
    job = json.load(open(args[args.index("--job") + 1], encoding="utf-8"))
    record = None
    if "cast_file" in job:     # voices by character, matched to the faces the clip shows
        import os
        names = list(json.load(open(job["cast_file"]))["characters"])
        shown = names[:2] if job["start_frame"] < 300 else names[:1]
        centre = dict(zip(names, ("480,430", "1440,430")))
        mine = [v for v in job["voices"] if v["character"] in shown]
        record = {"cast_file": job["cast_file"], "shown": [v["character"] for v in mine],
                  "not_shown": [v["character"] for v in job["voices"] if v not in mine],
                  "absent": [{"character": v["character"], "track": os.path.basename(v["audio"]),
                              "speech_s": 1.0} for v in job["voices"] if v not in mine],
                  "faces": [{"face": centre[c], "character": c} for c in shown]}
        if not mine:
            said = job["video"] + ": no character with a voice in this job is shown here; nothing was rendered and the clip stays as it is."
            print(json.dumps({"message": said}), flush=True)
            n = job["end_frame"] - job["start_frame"] + 1
            json.dump({"video": job["video"], "output": None, "frames_rendered": 0, "frames_passed_through": n,
                       "not_rendered": said, "warnings": [], "cast": record}, open(job["report"], "w"))
            print(json.dumps({"result": {"output": None, "report": job["report"]}}), flush=True)
            sys.exit(0)
        voices = [dict({k: x for k, x in v.items() if k != "character"}, face=centre[v["character"]]) for v in mine]
        del job["cast_file"]
        if len(voices) > 1:
            job["voices"] = voices
        else:
            del job["voices"]
            job.update(voices[0])
    if "C004" in job["video"]:
        print("lipflap: error: " + job["video"] + ": frame 12 has no video; re-export the clip.", file=sys.stderr)
        sys.exit(2)
    n = job["end_frame"] - job["start_frame"] + 1
    h = job.get("handles", 0)
    lo = max(0, job["start_frame"] - h)
    hi = job["end_frame"] + h
    for i in range(0, n + 1, max(1, n // 4)):
        print(json.dumps({"stage": "render", "done": i, "total": n}), flush=True)
    fps = {"24000/1001": "23.976", "30000/1001": "29.97"}.get(job["fps"], job["fps"])
    json.dump({"frames": hi - lo + 1, "fps": fps}, open(job["output"]["path"], "w"))
    flagged = ([{"start": job["start_frame"] + 2, "end": job["start_frame"] + 4, "reason": "no_face"}]
               if job["start_frame"] < 300 else [])
    report = {"range": {"first": lo, "last": hi, "start": job["start_frame"], "end": job["end_frame"], "handles": h},
              "flagged_ranges": flagged, "warnings": [], "job": job}
    if "voices" in job:   # a dialogue report: every face its own figures; flags name their face
        faces = [v["face"] for v in job["voices"]]
        report["flagged_ranges"] = [dict(r, face=f) for f in faces for r in flagged]
        report["voices"] = [{"face": f, "frames_rendered": n - 5 * k, "frames_untouched": 5 * k,
                             "speech_frames": n // 2, "flagged_ranges": [dict(r) for r in flagged],
                             "qc": {"figures": {"sync_r": {"value": 0.8 - 0.1 * k}}}}
                            for k, f in enumerate(faces)]
    if record is not None:
        report["cast"] = record
    json.dump(report, open(job["report"], "w"))
    print(json.dumps({"result": {"output": job["output"]["path"]}}), flush=True)
''')

CUT = [("A001_C003.mov", 0, 48, 100), ("A001_C004.mov", 48, 72, 0), ("A001_C003.mov", 72, 96, 400)]


def nominal(rate: Fraction) -> int:
    return int(round(rate))


def build(profile_name: str, tmp_path):
    profile = fr.PROFILES[profile_name]
    media = tmp_path / "media dir"
    media.mkdir(exist_ok=True)
    paths = {}
    for name in ("A001_C003.mov", "A001_C004.mov", "dub_es.wav"):
        p = media / name
        p.write_bytes(b"x")
        paths[name] = str(p)
    tl_rate = fr._rate(profile.timeline_rate)
    start = 3600 * nominal(tl_rate)
    tl = fr.Timeline(profile, "Cut", start_frame=start, video_tracks=1, audio_tracks=1)
    mpis = {n: fr.MediaPoolItem(profile, paths[n], fps=profile.clip_rate, frames=2000) for n in paths if n.endswith(".mov")}
    for name, a, b, src in CUT:
        tl.fake_clip("video", 1, mpis[name], start + a, start + b, src)
    dub = fr.MediaPoolItem(profile, paths["dub_es.wav"], fps=profile.timeline_rate)
    tl.fake_clip("audio", 1, dub, start, start + 200, 0)
    other = fr.Timeline(profile, "Other cut", start_frame=start, video_tracks=2, audio_tracks=1)
    project = fr.Project(profile, [tl, other])
    engine_py = tmp_path / "fake_engine.py"
    engine_py.write_text(FAKE_ENGINE)
    return {"profile": profile, "tl": tl, "other": other, "project": project, "paths": paths,
            "resolve": fr.Resolve(profile, project), "start": start,
            "ratio": fr._rate(profile.clip_rate) / tl_rate,
            "engine": [sys.executable, str(engine_py)], "out": str(tmp_path / "renders")}


def expected_source_range(world, offset: int, length: int, source_in: int):
    """The media frames a cut item plays: its in-point as Resolve reports it back (timeline
    frames scaled by the rate ratio) and its length in media frames."""
    r = world["ratio"]
    left = round(source_in / r)
    s = int(round(left * r))
    return s, s + int(round(length * r)) - 1
