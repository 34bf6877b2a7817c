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


def _prepare(node):
    """What both buttons need (in the main thread, since a plate may have to be rendered first),
    or None after telling the artist what is missing."""
    try:
        dub, offset_s = _common(node)
        first, last = _range(node)
        work = _work_dir(node)
        plate = find_plate(node, first, last, work, nuke)
        hc = engine.hostclient()
    except (PlateError, RuntimeError) as e:
        nuke.message(f"lipflap: {e}")
        return None
    return dub, offset_s, first, last, work, plate, hc


def analyze(node):
    """Analyze: the plate's face analysis (cached by the engine) and the dub's mouth-shape track
    written into the curves."""
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
    """Render: the (edited) curves as a --shapes track, rendered by the engine, read back in."""
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
    full = node["output"].value() == "full frame"
    codec = str(node["cache_codec"].value())
    if full and codec == "prores_4444":
        codec = "prores_hq"
    language = _text(node, "language") or None
    name = node.name()
    stem = os.path.splitext(os.path.basename(plate.path))[0]
    ext = {"prores_4444": "mov", "prores_hq": "mov", "exr": "", "png": ""}[codec]
    out = hc.next_version_path(work, stem, language, ext)
    target = out if ext else os.path.join(out, os.path.basename(out) + ".%06d." + codec)
    report = os.path.splitext(out)[0] + ".json" if ext else out + ".json"
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

        def apply():
            _load_render(node, target, plate, first, last, full, ext == "")
            unread = ""
            try:
                rep = hc.read_report(report)  # the contract's one report reader
            except hc.LipflapError as e:
                # Said on the node: without the report its flagged ranges are unknown.
                rep, unread = hc.RunReport(), f" {e}"
            note = "; ".join(f"{r.start - plate.file_first + first}-{r.end - plate.file_first + first} "
                             f"{r.reason}" for r in rep.flagged_ranges)
            # That it is lip-synced and who signed its Content Credential (docs/provenance.md).
            credential = hc.credentials_summary([rep])
            node["status"].setValue(f"rendered {os.path.basename(out)}: {credential}"
                                    + (f" Untouched: {note}" if note else "") + unread)
        nuke.executeInMainThread(apply)
    return _start(f"render {name}", work_fn)


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
