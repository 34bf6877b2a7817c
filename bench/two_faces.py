"""Two-speaker material from two real talking clips, and the per-face measurement (issue 18).

    python bench/two_faces.py make OUTDIR [--left talk_d] [--right talk_f]
    python bench/two_faces.py measure OUTDIR RENDER.mov [--json OUT.json]
    python bench/two_faces.py assign OUTDIR REPORT.json

`make` writes into OUTDIR (scratch; never commit footage):
- two.mp4: the two clips side by side (both 512x512, 25 fps), each person talking throughout;
- turns.mp4: the same, but each person talks only during their own turn and holds a quiet
  stretch of their own frames (played back and forth) during the other's: an original shot
  with turn-taking, for the mixed-dub assignment;
- voice_L.wav / voice_R.wav: one synthetic eSpeak voice per face (../shared/eval/make_dub.py),
  taking turns: L speaks first, R after a gap, each padded with silence to the clip's length;
  their .phones.json mark the other's turn and the padding as pause ("_"), so the yardstick
  counts a face that moves while the other talks against it;
- mix.wav: both voices summed (one mixed dialogue stem), and turns.json (when each speaks).

`measure` crops each half of a render (and of two.mp4 as the source) losslessly (FFV1) and runs
../shared/eval/lipeval.py measure on it against its own voice. `assign` reads a mixed-dub run's
report and gives the share of dub speech time sent to the right face.

Measured 2026-12-05 21:45-21:58 UTC on main 1781133 (talk_d left, talk_f right, eSpeak es
voices, script-aware; CPU, 2 shared cores; halves cropped losslessly):
- `lipflap run two.mp4 --voice left=voice_L.wav --voice right=voice_R.wav --voice-text
  "left=<TEXT_L>" --voice-text "right=<TEXT_R>" --language es -o run.mov` (ProRes 422 HQ):
  left closure 1.00 (8), opening 1.00 (9), rest 1.00 (3), lag 0 (r 0.90), sharpness 0.951,
  roughness 0.999, outside_any 0.00; right closure 1.00 (8), opening 1.00 (4), rest 1.00 (2),
  lag 0 (r 0.94), sharpness 0.928, roughness 0.972, outside_any 0.00.
- again after merging main 66d5394 (render synthesis changes), 422 HQ: sharpness 0.952 left,
  0.929 right, roughness 0.995, 0.966; closure, opening, rest 1.00, lag 0 (r 0.90, 0.94).
- the same with `--codec prores_4444`: sharpness 0.959 left, 0.937 right, roughness 0.998 and
  0.972, the rest as above.
- plain transcodes of two.mp4 (bench_prores.transcode): 422 HQ 0.966 left, 0.958 right; 4444
  0.977, 0.965: the encoder's share of the loss.
- one-voice 4444 runs of each half alone (`lipflap run two_R.mkv --audio voice_R.wav --text
  "<TEXT_R>" --language es --codec prores_4444`, lipeval against two_R.mkv, measure's crop):
  sharpness right 0.961, left 0.982, roughness 0.987, 1.002; closure, opening, rest 1.00, lag 0.
  The two-voice render sits 0.02 under them on both faces, spread over the clip rather than one
  blurred stretch, and no frame of it equals the one-face render's: the two runs show other
  exemplars. Their analyses of the same face differ (talk_f: widest aperture 0.1686 against
  0.1712, 84 library frames, 21 exemplars used, 20 steps played on, against 88, 26, 30). The
  dialogue path itself is not it: `--voice centre=voice_R.wav` on two_R.mkv alone gives the
  one-voice render (193 of 200 frames equal, the rest within 1 level); the difference comes in
  with the two-face frame the face is tracked in. lipflap.face.track on frames 0-59: talk_f's
  landmarks differ from the one-face tracking by 1.47 px (median of each frame's largest, at
  most 3.4 px), and still by 1.33 px with the left half blacked out, so it is not the
  neighbour's pixels in Face Mesh's crop: the crops agree to a pixel (frame 5: centre x 785 vs
  273 + 512, size 318), so sub-pixel placement and the detector's windows on a wider frame move
  the mesh: two equally valid tracks, other exemplars, not a render fault.
  The figures before this date
  read halves through an H.264 crf 12 copy, which took about 0.06 off a render's mouth
  sharpness (0.956 -> 0.894 on talk_f's one-face render).
- the seam seen on frame 130 (right face, closed lips: a thin straight line with 1-pixel steps,
  absent from the one-face render) was the warp, not the tracking: the two-face library held
  frame 132, whose lips are tracked 0.040 eye distances apart but seen 0.013 (its inner-lip
  points lie inside the lower lip), and the path held it over the closure at 130; closing its
  tracked gap collapsed the opening's triangles, and the map jumped from the upper lip's rim to
  the middle of the lit lower lip between two pixels. The one-face render's library lacks frame
  132 and took the shut frame 96. Fixed in the renderer (lipflap.render.synth: the warped
  exemplar is blurred where its map tears), 2026-12-05 on 163c875 + this branch, 4444, halves
  lossless: left sharpness 0.959 -> 0.954, right 0.936 -> 0.932 (the hard stepped lines had
  read as detail), roughness 0.994 / 0.966, closure, opening, rest 1.00, lag 0, outside_any 0
  on both, unchanged.
- earlier (main 6165c95): cost, user+sys CPU seconds of three pairs: two-voice 28.5, 28.0, 28.9
  against one-voice 22.8, 22.0, 21.7 (1.28x on average; the render stage, two patches and two QC
  samplers a frame).
- mixed stem, `--cast auto` on turns.mp4: 100% of dub speech frames to the right face (talk_d +
  talk_f, where the thresholds were set; 100% on talk_g + talk_i, held out); `--cast
  ANNA=left,BEN=right` with a [ANNA]/[BEN] script on two.mp4: 100% on both pairs.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import wave

import av
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
SHARED = os.path.abspath(os.path.join(HERE, "..", "..", "..", "shared"))
if not os.path.isdir(SHARED):
    SHARED = "/work/shared"
FPS, N, SIZE, SR = 25, 200, 512, 22050
TEXT_L = "Hola, ¿me pasas el pan? Mamá prepara una tarta de manzana."
TEXT_R = "Bueno, pero primero abre la puerta, mira quién viene."
LEAD_L, GAP = 0.4, 0.5


def frames_of(path: str) -> list[np.ndarray]:
    with av.open(path) as c:
        return [f.to_ndarray(format="rgb24") for f in c.decode(video=0)][:N]


def write_video(path: str, frames) -> None:
    with av.open(path, "w") as c:
        s = c.add_stream("libx264", rate=FPS)
        s.width, s.height = frames[0].shape[1], frames[0].shape[0]
        s.pix_fmt = "yuv420p"
        s.options = {"crf": "12", "preset": "fast"}
        for img in frames:
            for pkt in s.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                c.mux(pkt)
        for pkt in s.encode():
            c.mux(pkt)


def read_wav(path: str) -> np.ndarray:
    with wave.open(path) as w:
        assert w.getframerate() == SR, (path, w.getframerate())
        return np.frombuffer(w.readframes(w.getnframes()), np.int16).astype(np.float32)


def write_wav(path: str, x: np.ndarray) -> None:
    with wave.open(path, "wb") as w:
        w.setnchannels(1), w.setsampwidth(2), w.setframerate(SR)
        w.writeframes(np.clip(np.rint(x), -32768, 32767).astype(np.int16).tobytes())


def quiet_loop(clip: str, frames: list[np.ndarray], length: int) -> list[np.ndarray]:
    """`length` frames of the clip's 10-frame stretch whose lips move least (aperture measured
    by lipflap's analysis), played forward and back: a listener whose head still moves."""
    from lipflap.face.analyze import analyze_video
    from lipflap.face.geometry import mouth_aperture
    an = analyze_video(clip, 0, len(frames) - 1)
    ap = np.array([np.nan if f.landmarks is None else mouth_aperture(f.landmarks)
                   for f in an.frames])
    motion = np.nan_to_num(np.abs(np.diff(ap)), nan=1.0)
    k = int(np.argmin(np.convolve(motion, np.ones(9), "valid")))
    seq = list(range(k, k + 10)) + list(range(k + 8, k, -1))
    return [frames[seq[j % len(seq)]] for j in range(length)]


def make(out: str, left: str, right: str) -> None:
    os.makedirs(out, exist_ok=True)
    fl = frames_of(os.path.join(SHARED, "media", f"{left}.mp4"))
    fr = frames_of(os.path.join(SHARED, "media", f"{right}.mp4"))
    write_video(os.path.join(out, "two.mp4"), [np.hstack([a, b]) for a, b in zip(fl, fr)])
    dub = os.path.join(SHARED, "eval", "make_dub.py")
    for side, text in (("L", TEXT_L), ("R", TEXT_R)):
        subprocess.run([sys.executable, dub, "--voice", "es", "--text", text, "--lead", "0",
                        "--out", os.path.join(out, f"raw_{side}.wav")], check=True)
    total = N / FPS
    raw = {s: read_wav(os.path.join(out, f"raw_{s}.wav")) for s in "LR"}
    ph = {s: json.load(open(os.path.join(out, f"raw_{s}.phones.json"))) for s in "LR"}
    start = {"L": LEAD_L, "R": LEAD_L + len(raw["L"]) / SR + GAP}
    end = {s: start[s] + len(raw[s]) / SR for s in "LR"}
    assert end["R"] < total - 0.2, f"voices run {end['R']:.2f}s, longer than the clip"
    mix = np.zeros(int(total * SR))
    for s in "LR":
        x = np.zeros(int(total * SR))
        a = int(start[s] * SR)
        x[a:a + len(raw[s])] = raw[s]
        mix += x
        write_wav(os.path.join(out, f"voice_{s}.wav"), x)
        phones = [{"phone": "_", "start": 0.0, "end": round(start[s], 4)}] + \
                 [dict(p, start=round(p["start"] + start[s], 4), end=round(p["end"] + start[s], 4))
                  for p in ph[s]] + [{"phone": "_", "start": round(end[s], 4), "end": total}]
        json.dump(phones, open(os.path.join(out, f"voice_{s}.phones.json"), "w"), indent=0)
    write_wav(os.path.join(out, "mix.wav"), mix * 0.8)
    turns = {s: [round(start[s], 3), round(end[s], 3)] for s in "LR"}
    json.dump(turns, open(os.path.join(out, "turns.json"), "w"))
    # The turn-taking picture: each half talks over its own turn (plus the gap halves), holds a
    # quiet loop otherwise.
    cut = int(round((end["L"] + GAP / 2) * FPS))
    ql = quiet_loop(os.path.join(SHARED, "media", f"{left}.mp4"), fl, N)
    qr = quiet_loop(os.path.join(SHARED, "media", f"{right}.mp4"), fr, N)
    write_video(os.path.join(out, "turns.mp4"),
                [np.hstack([fl[i] if i < cut else ql[i], fr[i] if i >= cut else qr[i]])
                 for i in range(N)])
    print(json.dumps({"out": out, "turns_s": turns, "turn_change_frame": cut}))


def write_lossless(path: str, frames) -> None:
    """FFV1 RGB: the measured half holds exactly the decoded pixels. The H.264 crf 12 copy used
    before was part of the measurement: a one-voice ProRes 4444 render of talk_f's half read
    mouth sharpness 0.956 itself and 0.894 through that copy, and the two-voice render's right
    half 0.893 through it, 0.937 losslessly (2026-12-05)."""
    with av.open(path, "w") as c:
        s = c.add_stream("ffv1", rate=FPS)
        s.width, s.height = frames[0].shape[1], frames[0].shape[0]
        s.pix_fmt = "bgr0"
        for img in frames:
            for pkt in s.encode(av.VideoFrame.from_ndarray(np.ascontiguousarray(img),
                                                           format="rgb24")):
                c.mux(pkt)
        for pkt in s.encode():
            c.mux(pkt)


def crop(src: str, dst: str, side: str) -> None:
    write_lossless(dst, [f[:, :SIZE] if side == "L" else f[:, SIZE:] for f in frames_of(src)])


def measure(out: str, render: str, json_out: str | None) -> dict:
    lipeval = os.path.join(SHARED, "eval", "lipeval.py")
    res = {}
    for s in "LR":
        half = f"{os.path.splitext(render)[0]}_{s}.mkv"
        src = os.path.join(out, f"two_{s}.mkv")
        crop(render, half, s)
        if not os.path.exists(src):
            crop(os.path.join(out, "two.mp4"), src, s)
        r = subprocess.run([sys.executable, lipeval, "measure", half,
                            "--audio", os.path.join(out, f"voice_{s}.wav"),
                            "--phones", os.path.join(out, f"voice_{s}.phones.json"),
                            "--source", src], check=True, capture_output=True, text=True)
        m = json.loads(r.stdout)
        ph, fid, sy = m.get("phonetics", {}), m.get("fidelity", {}), m.get("sync", {})
        res[s] = {"closure": ph.get("bilabial_closure"), "opening": ph.get("open_vowel_opening"),
                  "rest": ph.get("pause_rest"), "silence_rest_rate": sy.get("silence_rest_rate"),
                  "timing_best_lag": ph.get("timing_best_lag"),
                  "timing_best_r": ph.get("timing_best_r"),
                  "sharpness": fid.get("mouth_sharpness_ratio_median"),
                  "roughness": fid.get("mouth_roughness_ratio"), "raw": m}
    table = {s: {k: v for k, v in r.items() if k != "raw"} for s, r in res.items()}
    print(json.dumps(table, indent=1, default=float))
    if json_out:
        json.dump(res, open(json_out, "w"), indent=1, default=float)
    return res


def assign(out: str, report: str) -> float:
    """Share of dub speech frames sent to the face whose voice it is (L = the left face)."""
    turns = json.load(open(os.path.join(out, "turns.json")))
    rep = json.load(open(report))
    labels = [v["face"] for v in rep["voices"]]
    right = wrong = 0
    for row in rep["assignment"]["stretches"]:
        for i in range(row["first"], row["last"] + 1):
            t = i / FPS
            truth = "L" if turns["L"][0] - 0.1 <= t < turns["L"][1] + GAP / 2 else "R"
            want = labels[0] if truth == "L" else labels[-1]
            if row["faces"] == [want]:
                right += 1
            else:
                wrong += 1
    share = right / max(1, right + wrong)
    print(json.dumps({"speech_frames": right + wrong, "right": right, "share": round(share, 4)}))
    return share


def main() -> None:
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    m = sub.add_parser("make")
    m.add_argument("out")
    m.add_argument("--left", default="talk_d")
    m.add_argument("--right", default="talk_f")
    q = sub.add_parser("measure")
    q.add_argument("out")
    q.add_argument("render")
    q.add_argument("--json")
    a = sub.add_parser("assign")
    a.add_argument("out")
    a.add_argument("report")
    args = p.parse_args()
    if args.cmd == "make":
        make(args.out, args.left, args.right)
    elif args.cmd == "measure":
        measure(args.out, args.render, args.json)
    else:
        assign(args.out, args.report)


if __name__ == "__main__":
    main()
