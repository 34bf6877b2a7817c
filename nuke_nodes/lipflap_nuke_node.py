"""Nodes > lipflap > LipSync: plate in, dub on a knob, editable mouth-shape curves, patch or full frame out.

The node is a Group of plain Nuke nodes (Read of the render, alpha grow/feather, Premult, Merge
over the plate, a Switch), so it renders anywhere Nuke does. Analyze and Render start the engine
as a separate process from a background thread; the UI only hears back through
nuke.executeInMainThread, so it never blocks on the engine. Everything that touches Nuke (node
names, knobs) happens in the main thread; the worker thread only runs the engine and reads files.
String knobs are read with getText(): .value() would evaluate TCL in them ("[laughs]", "$").
"""
import json
import os
import tempfile
import threading

import nuke

import lipflap_nuke_curves as curves
import lipflap_nuke_engine as engine
import lipflap_nuke_voices as voices_tab
from lipflap_nuke_plate import PlateError, direct_movie_read, find_plate, read_range

OUTPUTS = ("patch over plate", "full frame")
CACHE_CODECS = ("prores_4444", "exr", "png")
PASS, PATCH, FULL = 0, 1, 2  # Switch inputs


def _knob(cls, name, label, tooltip="", *args):
    k = cls(name, label, *args)
    if tooltip:
        k.setTooltip(tooltip)
    return k


def create():
    """Build the LipSync group; connected to the selected node when there is one."""
    g = nuke.nodes.Group()
    g.setName("LipSync")
    g.addKnob(nuke.Tab_Knob("lipflap", "lipflap"))
    g.addKnob(_knob(nuke.File_Knob, "dub", "dub audio", "The dubbed dialogue (wav, aiff, mov...)."))
    g.addKnob(_knob(nuke.Double_Knob, "audio_offset", "audio offset (frames)",
                    "How many frames into the dub the first frame sits; negative when the dub starts later."))
    g.addKnob(_knob(nuke.Multiline_Eval_String_Knob, "script_text", "script text",
                    "The dub's words (optional): makes the mouth shapes exact instead of estimated from the audio."))
    g.addKnob(_knob(nuke.String_Knob, "language", "language", "eSpeak NG code of the dub: es, de, fr, ja..."))
    g.addKnob(_knob(nuke.String_Knob, "face", "face", "auto (the speaker), largest, a face index, or X,Y"))
    g["face"].setValue("auto")
    g.addKnob(_knob(nuke.Int_Knob, "range_first", "first frame"))
    g.addKnob(_knob(nuke.Int_Knob, "range_last", "last frame"))
    g.addKnob(_knob(nuke.Enumeration_Knob, "output", "output", "", OUTPUTS))
    g.addKnob(_knob(nuke.Enumeration_Knob, "cache_codec", "cache codec", "Codec of the rendered cache.", CACHE_CODECS))
    g.addKnob(_knob(nuke.File_Knob, "cache_dir", "cache folder"))
    g["cache_dir"].setValue(os.path.join(tempfile.gettempdir(), "lipflap_nuke").replace("\\", "/"))
    g.addKnob(_knob(nuke.Double_Knob, "strength", "strength", "0 keeps the plate's own mouth, 1 follows the dub fully."))
    g["strength"].setValue(1.0)
    g.addKnob(_knob(nuke.Double_Knob, "mask_grow", "mask grow", "Pixels to grow (+) or shrink (-) the patch's alpha."))
    g.addKnob(_knob(nuke.Double_Knob, "mask_feather", "mask feather", "Blur of the patch's alpha, in pixels."))
    g.addKnob(_knob(nuke.PyScript_Knob, "analyze", "Analyze", "", "import lipflap_nuke_node; lipflap_nuke_node.analyze(nuke.thisNode())"))
    g.addKnob(_knob(nuke.PyScript_Knob, "render", "Render", "", "import lipflap_nuke_node; lipflap_nuke_node.render(nuke.thisNode())"))
    g.addKnob(_knob(nuke.Text_Knob, "status", "", ""))
    g.addKnob(nuke.Tab_Knob("shapes", "mouth shapes"))
    for p in curves.PARAMS:
        k = _knob(nuke.Double_Knob, p, p, "0..1; edit the curve, then Render.")
        k.setRange(0.0, 1.0)
        g.addKnob(k)
    voices_tab.add_knobs(g, _knob)
    g.begin()
    try:
        plate = nuke.nodes.Input(name="plate")
        read = nuke.nodes.Read(name="lipflap_render")
        erode = nuke.nodes.FilterErode(name="grow", channels="alpha")
        erode.setInput(0, read)
        erode["size"].setExpression("-parent.mask_grow")
        blur = nuke.nodes.Blur(name="feather", channels="alpha")
        blur.setInput(0, erode)
        blur["size"].setExpression("parent.mask_feather")
        premult = nuke.nodes.Premult(name="premult")
        premult.setInput(0, blur)
        merge = nuke.nodes.Merge2(name="over", operation="over")
        merge.setInput(0, plate)
        merge.setInput(1, premult)
        switch = nuke.nodes.Switch(name="result")
        switch.setInput(PASS, plate)
        switch.setInput(PATCH, merge)
        switch.setInput(FULL, read)
        switch["which"].setValue(PASS)
        out = nuke.nodes.Output(name="out")
        out.setInput(0, switch)
    finally:
        g.end()
    try:
        sel = nuke.selectedNode()
    except ValueError:
        sel = None
    if sel is not None and sel is not g:
        g.setInput(0, sel)
        _default_range(g)
    return g


def _default_range(node):
    """The plate's frames: a movie Read's own range, else the frame range the input passes down."""
    up = node.input(0)
    read = direct_movie_read(node) if up is not None else None
    if read is not None:
        first, last = read_range(read)
    elif up is not None:
        first, last = int(up.firstFrame()), int(up.lastFrame())
    else:
        first, last = int(nuke.root()["first_frame"].value()), int(nuke.root()["last_frame"].value())
    node["range_first"].setValue(first)
    node["range_last"].setValue(last)


def _range(node):
    first, last = int(node["range_first"].value()), int(node["range_last"].value())
    if first == 0 and last == 0:
        _default_range(node)
        first, last = int(node["range_first"].value()), int(node["range_last"].value())
    if last < first:
        raise PlateError(f"{node.name()}: last frame {last} is before first frame {first}; fix the frame range.")
    return first, last


def _fps():
    return float(nuke.root()["fps"].value())


def _status(node, text):
    nuke.executeInMainThread(node["status"].setValue, (text,))


def _fail(node, text):
    def show():
        node["status"].setValue("error: " + text)
        nuke.message("lipflap: " + text)
    nuke.executeInMainThread(show)


def _text(node, knob):
    return str(node[knob].getText()).strip()


def _common(node):
    dub = _text(node, "dub")
    if not dub or not os.path.isfile(dub):
        raise PlateError(f"{node.name()}: dub audio {dub or '(empty)'} not found; set the dub audio knob.")
    return dub, float(node["audio_offset"].value()) / _fps()


def _work_dir(node):
    d = _text(node, "cache_dir") or os.path.join(tempfile.gettempdir(), "lipflap_nuke")
    os.makedirs(d, exist_ok=True)
    return d


class _Task:
    """One engine process with a ProgressTask; cancelling the task cancels the process."""

    def __init__(self, title):
        self.task = nuke.ProgressTask(title)

    def run(self, hc, args, label):
        self.task.setMessage(label)

        def on_progress(stage, done, total):
            self.task.setMessage(f"{label}: {stage}")
            self.task.setProgress(int(100 * done / total) if total else 0)
        run = hc.EngineRun(args, on_progress=on_progress)
        while run.poll() is None:
            if self.task.isCancelled():
                run.cancel()
            threading.Event().wait(0.1)
        return run.wait(30)


def _start(name, target, *args):
    t = threading.Thread(target=target, args=args, name=f"lipflap: {name}", daemon=True)
    t.start()
    return t


def _prepare(node, one_dub=True):
    """What the buttons need (in the main thread, since a plate may have to be rendered first),
    or None after telling the artist what is missing. `one_dub`: the lipflap tab's dub is used."""
    try:
        dub, offset_s = _common(node) if one_dub else ("", 0.0)
        first, last = _range(node)
        work = _work_dir(node)
        plate = find_plate(node, first, last, work, nuke)
        hc = engine.hostclient()
    except (PlateError, RuntimeError) as e:
        nuke.message(f"lipflap: {e}")
        return None
    return dub, offset_s, first, last, work, plate, hc


def find_faces(node):
    """Find faces: the engine's analysis of the plate with a picture per face; the Voices tab
    lists each face's spec, position and picture."""
    prep = _prepare(node, one_dub=False)
    if prep is None:
        return None
    _, _, first, last, work, plate, hc = prep
    name = node.name()
    analysis_path = os.path.join(work, f"{name}_faces.json")
    pictures = os.path.join(work, f"{name}_faces")
    _status(node, "finding faces...")

    def work_fn():
        res = _Task(f"lipflap: finding faces in {name}").run(
            hc, ["analyze", plate.path, "-o", analysis_path, "--start", str(plate.file_first),
                 "--end", str(plate.file_first + last - first), "--thumbnails", pictures], "face analysis")
        if not res.ok:
            _fail(node, f"face analysis of {plate.path}: {res.error}")
            return
        try:
            lines = voices_tab.faces_text(analysis_path)
        except (OSError, ValueError, KeyError, TypeError) as e:
            _fail(node, f"{analysis_path}: the face list cannot be read ({e}); update the engine with "
                        f"`lipflap install nuke` and press Find faces again.")
            return

        def apply():
            node["faces"].setValue("\n".join(lines) or "no face found in these frames")
            node["status"].setValue(f"found {len(lines)} face(s) in frames {first}-{last}; give each "
                                    f"voice its face on the voices tab")
        nuke.executeInMainThread(apply)
    return _start(f"find faces {name}", work_fn)


def _dialogue(node):
    return bool(voices_tab.read_voices(node, _fps()))


def analyze(node):
    """Analyze: the plate's face analysis (cached by the engine) and the dub's mouth-shape track
    written into the curves. With voices (dialogue) each face's mouth comes from its own dub at
    Render, so Analyze finds the faces instead."""
    if _dialogue(node):
        return find_faces(node)
    prep = _prepare(node)
    if prep is None:
        return None
    dub, offset_s, first, last, work, plate, hc = prep
    text = _text(node, "script_text")
    language = _text(node, "language")
    face = _text(node, "face") or "auto"
    fps = curves.fps_json(_fps())
    n = last - first + 1
    name = node.name()
    track_path = os.path.join(work, f"{name}_track.json")
    analysis_path = os.path.join(work, f"{name}_analysis.json")
    _status(node, "analyzing...")

    def work_fn():
        task = _Task(f"lipflap: analyzing {name}")
        res = task.run(hc, ["analyze", plate.path, "-o", analysis_path, "--start", str(plate.file_first),
                            "--end", str(plate.file_first + n - 1), "--face", face], "face analysis")
        if not res.ok:
            _fail(node, f"face analysis of {plate.path}: {res.error}")
            return
        args = ["visemes", dub, "-o", track_path, "--fps", str(fps), "--audio-offset", repr(offset_s),
                "--format", "json"]
        if text:
            args += ["--text", text]
        if language:
            args += ["--language", language]
        res = task.run(hc, args, "mouth shapes")
        if not res.ok:
            _fail(node, f"mouth shapes from {dub}: {res.error}")
            return
        with open(track_path, encoding="utf-8") as fh:
            track = json.load(fh)
        track["frames"] = [f for f in track.get("frames", []) if int(f["frame"]) < n]

        def apply():
            count = curves.apply_track(node, track, first)
            warnings = "; ".join(track.get("warnings") or [])
            node["status"].setValue(f"analyzed frames {first}-{last}: {count} keys" + (f" ({warnings})" if warnings else ""))
        nuke.executeInMainThread(apply)
    return _start(f"analyze {name}", work_fn)


def render(node):
    """Render: the (edited) curves as a --shapes track, rendered by the engine, read back in;
    with voices, one dialogue job with every face's own dub."""
    if _dialogue(node):
        return _render_voices(node)
    prep = _prepare(node)
    if prep is None:
        return None
    dub, offset_s, first, last, work, plate, hc = prep
    if not any(node[p].isAnimated() for p in curves.PARAMS):
        nuke.message(f"lipflap: {node.name()} has no mouth-shape curves yet; press Analyze first.")
        return None
    track = curves.read_track(node, first, last, _fps())
    shapes = os.path.join(work, f"{node.name()}_shapes.json")
    hc.atomic_json(shapes, track, indent=None)
    language = _text(node, "language") or None
    name = node.name()
    full, codec, out, target, report, sequence = _output(node, work, plate, language, hc)
    args = ["run", plate.path, "--audio", dub, "--audio-offset", repr(offset_s),
            "--start", str(plate.file_first), "--end", str(plate.file_first + last - first),
            "--shapes", shapes, "--mode", "full" if full else "patch", "--codec", codec,
            "--face", _text(node, "face") or "auto",
            "--strength", repr(float(node["strength"].value())), "--report", report, "-o", target]
    _status(node, "rendering...")

    def work_fn():
        res = _Task(f"lipflap: rendering {name}").run(hc, args, "render")
        if not res.ok:
            _fail(node, f"render of {plate.path} frames {first}-{last}: {res.error}")
            return
        nuke.executeInMainThread(_show_result, (node, hc, target, plate, first, last, full, sequence, out, report))
    return _start(f"render {name}", work_fn)


def _output(node, work, plate, language, hc):
    """(full, codec, out, target, report, sequence) of a render: the cache file or sequence it
    writes, and its report."""
    full = node["output"].value() == "full frame"
    codec = str(node["cache_codec"].value())
    if full and codec == "prores_4444":
        codec = "prores_hq"
    stem = os.path.splitext(os.path.basename(plate.path))[0]
    ext = {"prores_4444": "mov", "prores_hq": "mov", "exr": "", "png": ""}[codec]
    out = hc.next_version_path(work, stem, language, ext)
    target = out if ext else os.path.join(out, os.path.basename(out) + ".%06d." + codec)
    report = hc.report_path(out)
    return full, codec, out, target, report, ext == ""


def _render_voices(node):
    """Render with voices: the dialogue job (docs/job.md) as one engine run; the status gives
    every face its own figures and flagged ranges."""
    prep = _prepare(node, one_dub=False)
    if prep is None:
        return None
    _, _, first, last, work, plate, hc = prep
    import importlib  # noqa: PLC0415 - the contract package is loaded by hostclient() above
    voices = voices_tab.read_voices(node, _fps())
    cast_file = _text(node, "cast_file")
    wrong = voices_tab.problems(node.name(), voices, importlib.import_module("lipflap_contract.jobspec"),
                                cast_file)
    if wrong:
        nuke.message("lipflap: " + " ".join(wrong))
        return None
    language = _text(node, "language") or None
    full, codec, out, target, report, sequence = _output(node, work, plate, language, hc)
    job = voices_tab.job(plate, first, last, voices, language, target, "full" if full else "patch", codec,
                         float(node["strength"].value()), report, curves.fps_json(_fps()), cast_file)
    job_path = os.path.splitext(report)[0] + ".job.json"
    hc.atomic_json(job_path, job)
    name = node.name()
    _status(node, "rendering voices...")

    def work_fn():
        res = _Task(f"lipflap: rendering {name}").run(hc, ["run", "--job", job_path], "render")
        if not res.ok:
            _fail(node, f"render of {plate.path} frames {first}-{last}: {res.error}")
            return
        nuke.executeInMainThread(_show_result, (node, hc, target, plate, first, last, full, sequence, out, report))
    return _start(f"render {name}", work_fn)


def _show_result(node, hc, target, plate, first, last, full, sequence, out, report):
    """Read the render in and say on the node what it is: its credential, then the flagged
    ranges in Nuke frames (each naming its face in a dialogue run) and every face's figures.
    By character with none of its characters shown the engine renders nothing: the plate passes."""
    unread = ""
    try:
        rep = hc.read_report(report)  # the contract's one report reader
    except hc.LipflapError as e:
        # Said on the node: without the report its flagged ranges are unknown.
        rep, unread = hc.RunReport(), f" {e}"
    if rep.output is None and rep.extra.get("not_rendered"):
        node.begin()
        try:
            node.node("result")["which"].setValue(PASS)
        finally:
            node.end()
        node["status"].setValue(f"left as it is (the plate passes through): {rep.extra['not_rendered']}")
        return
    _load_render(node, target, plate, first, last, full, sequence)

    def to_nuke(f):
        return f - plate.file_first + first
    note = "; ".join(f"{to_nuke(r.start)}-{to_nuke(r.end)} {r.reason}" + (f" ({r.face})" if r.face else "")
                     for r in rep.flagged_ranges)
    # That it is lip-synced and who signed its Content Credential (docs/provenance.md).
    credential = hc.credentials_summary([rep])
    faces = voices_tab.status_lines(rep, to_nuke)
    node["status"].setValue(f"rendered {os.path.basename(out)}: {credential}"
                            + (f" Untouched: {note}" if note else "") + unread
                            + "".join("\n" + line for line in faces))


def _load_render(node, target, plate, first, last, full, sequence):
    node.begin()
    try:
        read = nuke.toNode("lipflap_render") if node.node("lipflap_render") is None else node.node("lipflap_render")
        switch = node.node("result")
    finally:
        node.end()
    if sequence:
        # Sequences are numbered with the source file's frame indexes.
        read["file"].setValue(target.replace("%06d", "######").replace("\\", "/"))
        lo, hi = plate.file_first, plate.file_first + last - first
        read["frame_mode"].setValue("offset")
        read["frame"].setValue(str(first - plate.file_first))
    else:
        # A movie's frames are 1..n in Nuke; "start at" puts frame 1 on the plate's first frame.
        read["file"].setValue(target.replace("\\", "/"))
        lo, hi = 1, last - first + 1
        read["frame_mode"].setValue("start at")
        read["frame"].setValue(str(first))
    for k, v in (("origfirst", lo), ("origlast", hi), ("first", lo), ("last", hi)):
        read[k].setValue(v)
    # Outside the analysed range the patch must vanish, not freeze on its first or last frame.
    read["before"].setValue("black")
    read["after"].setValue("black")
    switch["which"].setValue(FULL if full else PATCH)
