"""A strict stub of Nuke's Python module (Nuke 13+), for the LipSync node's tests.

Each part follows Foundry's Nuke Python API reference (learn.foundry.com/nuke/developers/
"Python API reference": nuke.Node, nuke.Knob and its subclasses, nuke.executeInMainThread,
nuke.ProgressTask) or behaviour recorded in /work/shared/DESIGN.md and docs/hosts.md:

- Nodes have the knobs of their class only (KNOBS below); `node['x']` for another name is a
  NameError, as in Nuke. Knobs are typed: Int/Double/Boolean coerce, Enumeration_Knob refuses a
  value outside its list (ValueError) and takes an index.
- String-like knobs' `.value()` evaluates TCL: `[cmd ...]` runs a command (`value`, `frame`,
  `getenv` are known; any other is "invalid command name" -> RuntimeError), `$name` reads a
  variable (unknown -> RuntimeError), backslashes are eaten. `getText()` returns the text as typed.
- Python buttons (PyScript_Knob.execute) run in their node's context: nuke.thisNode() is the
  node, and for a Group nodes created by nuke.nodes.X / createNode land inside it. `with
  nuke.root():` (or any group) sets the context. `setInput` between nodes of different groups
  connects nothing and returns False.
- A Read shows the file frames first..last of its file (origfirst..origlast is what the file
  has); frame_mode/frame shift them: "start at" F puts `first` at Nuke frame F, "offset" O adds O;
  before/after say what shows outside ("hold" by default, "black" shows nothing).
  `knob('file').fromUserText(path)` reads the file's range from `media` (what Nuke's file
  browser does); a plain setValue leaves the range alone.
- Node and knob access off the main thread is a RuntimeError (Nuke's API is main-thread only;
  threads hand work back with executeInMainThread, which queues it: `pump_main_thread()` runs
  the queue as Nuke's event loop would).
- execute(write, first, last) needs a connected Write at the root and calls
  `render_hook(write, first, last)` so a test can produce the file.
"""
from __future__ import annotations

import os
import re
import sys
import threading

GUI = True
messages: list[str] = []
media: dict = {}          # path -> (first, last) file frames, what Nuke reads from a file's header
_main_queue: list = []
_lock = threading.Lock()
render_hook = None
_all_nodes: list = []
_context: list = []
_this: list = []
_frame = [1]


def _main_only(what):
    if threading.current_thread() is not threading.main_thread():
        raise RuntimeError(f"{what} called outside Nuke's main thread; use nuke.executeInMainThread")


# -- TCL ------------------------------------------------------------------------------------
_TCL_VARS = {"gui": "1"}


def _tcl(text: str, node=None) -> str:
    out, i = [], 0
    while i < len(text):
        c = text[i]
        if c == "\\" and i + 1 < len(text):
            out.append(text[i + 1])
            i += 2
        elif c == "[":
            depth, j = 1, i + 1
            while j < len(text) and depth:
                depth += {"[": 1, "]": -1}.get(text[j], 0)
                j += 1
            if depth:
                raise RuntimeError(f"missing close-bracket in {text!r}")
            words = _tcl(text[i + 1:j - 1], node).split()
            if not words:
                out.append("")
            elif words[0] == "frame":
                out.append(str(_frame[0]))
            elif words[0] == "getenv" and len(words) == 2:
                out.append(os.environ.get(words[1], ""))
            elif words[0] == "value" and len(words) == 2 and node is not None:
                out.append(str(node[words[1]].value()))
            else:
                raise RuntimeError(f'invalid command name "{words[0]}"')
            i = j
        elif c == "$":
            m = re.match(r"\$(\w+)", text[i:])
            if not m:
                out.append(c)
                i += 1
                continue
            if m.group(1) not in _TCL_VARS:
                raise RuntimeError(f"can't read \"{m.group(1)}\": no such variable")
            out.append(_TCL_VARS[m.group(1)])
            i += len(m.group(0))
        else:
            out.append(c)
            i += 1
    return "".join(out)


# -- animation ------------------------------------------------------------------------------
class AnimationKey:
    def __init__(self, x, y):
        self.x, self.y = float(x), float(y)


class AnimationCurve:
    def __init__(self):
        self._keys: dict[float, float] = {}

    def keys(self):
        return [AnimationKey(x, y) for x, y in sorted(self._keys.items())]

    def setKey(self, x, y):
        self._keys[float(x)] = float(y)

    def clear(self):
        self._keys.clear()

    def evaluate(self, x):
        ks = sorted(self._keys.items())
        if not ks:
            return 0.0
        if x <= ks[0][0]:
            return ks[0][1]
        if x >= ks[-1][0]:
            return ks[-1][1]
        for (x0, y0), (x1, y1) in zip(ks, ks[1:]):
            if x0 <= x <= x1:
                return y0 + (y1 - y0) * (x - x0) / (x1 - x0)
        return ks[-1][1]


# -- knobs ----------------------------------------------------------------------------------
class Knob:
    def __init__(self, name, label=None, *args):
        self._name, self._label = name, label or name
        self._value = self._default()
        self._flags = 0
        self._tooltip = ""
        self._node = None
        self.expression = None

    def _default(self):
        return ""

    def _check(self):
        _main_only(f"knob {self._name}")

    def name(self):
        return self._name

    def label(self):
        return self._label

    def value(self):
        self._check()
        return self._value

    def getValue(self):
        self._check()
        return self._value

    def setValue(self, v):
        self._check()
        self._value = v
        return True

    def setExpression(self, expr, index=0):
        self._check()
        self.expression = expr
        return True

    def setTooltip(self, t):
        self._tooltip = t

    def setFlag(self, f):
        self._flags |= f

    def clearFlag(self, f):
        self._flags &= ~f

    def setEnabled(self, on):
        self._enabled = on

    def node(self):
        return self._node


class Array_Knob(Knob):
    pass


class Double_Knob(Array_Knob):
    def __init__(self, name, label=None, *args):
        super().__init__(name, label)
        self._curve = None

    def _default(self):
        return 0.0

    def setRange(self, lo, hi):
        self.range = (lo, hi)

    def setAnimated(self, index=0):
        self._check()
        if self._curve is None:
            self._curve = AnimationCurve()
        return True

    def clearAnimated(self, index=0):
        self._check()
        self._curve = None
        return True

    def isAnimated(self, index=0):
        self._check()
        return self._curve is not None

    def animation(self, index=0):
        return self._curve

    def animations(self):
        return [self._curve] if self._curve else []

    def setValueAt(self, value, frame, index=0):
        self.setAnimated()
        self._curve.setKey(frame, value)
        return True

    def getValueAt(self, frame, index=0):
        self._check()
        return self._curve.evaluate(frame) if self._curve else float(self._value)

    def value(self):
        self._check()
        return self._curve.evaluate(_frame[0]) if self._curve else self._value

    def setValue(self, v, index=0):
        self._check()
        self._value = float(v)
        return True


class Int_Knob(Array_Knob):
    def _default(self):
        return 0

    def setValue(self, v):
        self._check()
        self._value = int(v)
        return True


class Boolean_Knob(Int_Knob):
    def setValue(self, v):
        self._check()
        self._value = bool(v)
        return True


class String_Knob(Knob):
    """value() evaluates TCL; getText() does not (DESIGN.md host facts)."""

    def value(self):
        self._check()
        return _tcl(str(self._value), self._node)

    def getValue(self):
        return self.value()

    def evaluate(self):
        return self.value()

    def getText(self):
        self._check()
        return str(self._value)

    def setValue(self, v):
        self._check()
        self._value = str(v)
        return True


class EvalString_Knob(String_Knob):
    pass


class File_Knob(EvalString_Knob):
    def fromUserText(self, text):
        """What the file browser does: a path, optionally "path first-last"; a known file's range
        becomes the Read's range."""
        self._check()
        m = re.match(r"^(.*?)(?:\s+(\d+)-(\d+))?$", text.strip())
        path = m.group(1)
        self._value = path
        node = self._node
        rng = (int(m.group(2)), int(m.group(3))) if m.group(2) else media.get(path)
        if node is not None and node.Class() == "Read" and rng:
            for k, v in zip(("first", "last", "origfirst", "origlast"), rng + rng):
                node._knobs[k]._value = v
        return True


class Multiline_Eval_String_Knob(EvalString_Knob):
    pass


class Text_Knob(String_Knob):
    pass


class Tab_Knob(Knob):
    pass


class PyScript_Knob(Knob):
    def __init__(self, name, label=None, command=""):
        super().__init__(name, label)
        self._value = command

    def execute(self):
        """Runs the button's script with the node as nuke.thisNode() and, for a Group, the group
        as the context new nodes land in (Foundry: Python buttons run in their node's context)."""
        self._check()
        node = self._node
        _this.append(node)
        pushed = isinstance(node, Group)
        if pushed:
            _context.append(node)
        try:
            exec(self._value, {"nuke": sys.modules[__name__]})
        finally:
            if pushed:
                _context.pop()
            _this.pop()


class Enumeration_Knob(Knob):
    def __init__(self, name, label=None, values=()):
        super().__init__(name, label)
        self._values = list(values)
        self._value = self._values[0] if self._values else ""

    def values(self):
        return list(self._values)

    def setValue(self, v):
        self._check()
        if isinstance(v, int) and not isinstance(v, bool):
            if not 0 <= v < len(self._values):
                raise ValueError(f"{self._name}: index {v} out of range")
            v = self._values[v]
        if v not in self._values:
            raise ValueError(f"{self._name}: {v!r} is not one of {self._values}")
        self._value = v
        return True

    def getValue(self):
        self._check()
        return float(self._values.index(self._value))


# Knobs of the node classes lipflap makes or reads (Nuke 13+ names; enumerations as listed in
# the knobs' menus and written in .nk files).
_COMMON = {"name": String_Knob, "label": String_Knob, "disable": Boolean_Knob, "selected": Boolean_Knob,
           "xpos": Int_Knob, "ypos": Int_Knob}
_CHANNELS = ("none", "rgb", "rgba", "alpha", "all")
PRORES_PROFILES = ("ProRes 4:4:4:4 XQ 12-bit", "ProRes 4:4:4:4 12-bit", "ProRes 4:2:2 HQ 10-bit",
                   "ProRes 4:2:2 10-bit", "ProRes 4:2:2 LT 10-bit", "ProRes 4:2:2 Proxy 10-bit")
KNOBS = {
    "Read": {"file": File_Knob, "first": Int_Knob, "last": Int_Knob, "origfirst": Int_Knob, "origlast": Int_Knob,
             "origset": Boolean_Knob,
             "frame_mode": (Enumeration_Knob, ("expression", "start at", "offset")), "frame": EvalString_Knob,
             "before": (Enumeration_Knob, ("hold", "loop", "bounce", "black")),
             "after": (Enumeration_Knob, ("hold", "loop", "bounce", "black")),
             "on_error": (Enumeration_Knob, ("error", "black", "checkerboard", "nearest frame")),
             "colorspace": String_Knob, "raw": Boolean_Knob, "premultiplied": Boolean_Knob},
    "Write": {"file": File_Knob, "file_type": (Enumeration_Knob, (" ", "exr", "mov", "png", "dpx", "tiff", "jpeg")),
              "mov64_codec": (Enumeration_Knob, ("appr", "h264", "mp4v", "AVdn", "jpeg", "rle ")),
              "mov_prores_codec_profile": (Enumeration_Knob, PRORES_PROFILES),
              "channels": (Enumeration_Knob, _CHANNELS), "use_limit": Boolean_Knob, "first": Int_Knob,
              "last": Int_Knob, "create_directories": Boolean_Knob, "colorspace": String_Knob},
    "Group": {},
    "Input": {"number": Int_Knob},
    "Output": {},
    "FilterErode": {"channels": (Enumeration_Knob, _CHANNELS), "size": Double_Knob},
    "Blur": {"channels": (Enumeration_Knob, _CHANNELS), "size": Double_Knob},
    "Premult": {"channels": (Enumeration_Knob, _CHANNELS)},
    "Merge2": {"operation": (Enumeration_Knob, ("over", "under", "plus", "multiply", "screen", "copy")),
               "mix": Double_Knob},
    "Switch": {"which": Double_Knob},
    "Grade": {"white": Double_Knob, "mix": Double_Knob},
    "Root": {"fps": Double_Knob, "first_frame": Int_Knob, "last_frame": Int_Knob},
}


def _make_knob(name, spec):
    if isinstance(spec, tuple):
        return spec[0](name, name, spec[1])
    return spec(name)


# -- nodes ----------------------------------------------------------------------------------
class Node:
    def __init__(self, cls, **knobs):
        _main_only(f"nuke.nodes.{cls}")
        if cls not in KNOBS:
            raise RuntimeError(f"stub nuke: no node class {cls} here; add its knobs to KNOBS")
        self._class = cls
        self._knobs: dict[str, Knob] = {}
        self._inputs: dict[int, Node] = {}
        self._parent = _context[-1] if _context else None
        for name, spec in {**_COMMON, **KNOBS[cls]}.items():
            k = _make_knob(name, spec)
            k._node = self
            self._knobs[name] = k
        siblings = self._parent._children if self._parent is not None else [n for n in _all_nodes if n._parent is None]
        self._knobs["name"]._value = knobs.pop("name", None) or f"{cls}{sum(1 for n in siblings if n._class == cls) + 1}"
        for k, v in knobs.items():
            self[k].setValue(v)
        _all_nodes.append(self)
        if self._parent is not None:
            self._parent._children.append(self)

    def Class(self):
        return self._class

    def name(self):
        _main_only("Node.name")
        return self._knobs["name"]._value

    def setName(self, n):
        _main_only("Node.setName")
        self._knobs["name"]._value = n

    def fullName(self):
        return self.name() if self._parent is None else f"{self._parent.fullName()}.{self.name()}"

    def knob(self, name):
        _main_only("Node.knob")
        return self._knobs.get(name)

    def knobs(self):
        _main_only("Node.knobs")
        return dict(self._knobs)

    def __getitem__(self, name):
        _main_only("Node[...]")
        k = self._knobs.get(name)
        if k is None:
            raise NameError(f"knob {name} does not exist")
        return k

    def addKnob(self, k):
        _main_only("Node.addKnob")
        k._node = self
        self._knobs[k.name()] = k

    def input(self, i):
        _main_only("Node.input")
        return self._inputs.get(i)

    def setInput(self, i, node):
        """Foundry: returns True when the connection was made; nodes in different groups cannot
        be connected (a Group's outside connects to its Input nodes instead)."""
        _main_only("Node.setInput")
        if node is None:
            self._inputs.pop(i, None)
            return True
        if node._parent is not self._parent:
            return False
        self._inputs[i] = node
        return True

    def inputs(self):
        return max(self._inputs) + 1 if self._inputs else 0

    def dependent(self):
        return [n for n in _all_nodes if self in n._inputs.values()]

    def firstFrame(self):
        """Foundry: the first frame of the node's frame range (a Read's, passed downstream)."""
        _main_only("Node.firstFrame")
        if self._class == "Read":
            return read_range(self)[0]
        up = self._inputs.get(0)
        return up.firstFrame() if up is not None else int(root()["first_frame"].value())

    def lastFrame(self):
        _main_only("Node.lastFrame")
        if self._class == "Read":
            return read_range(self)[1]
        up = self._inputs.get(0)
        return up.lastFrame() if up is not None else int(root()["last_frame"].value())


class Group(Node):
    def __init__(self, cls="Group", **knobs):
        self._children = []
        super().__init__(cls, **knobs)

    def begin(self):
        _context.append(self)
        return self

    def end(self):
        _context.pop()

    def __enter__(self):
        return self.begin()

    def __exit__(self, *a):
        self.end()

    def nodes(self):
        return list(self._children)

    def node(self, name):
        return next((n for n in self._children if n.name() == name), None)


class _Root(Group):
    """nuke.root(): the top-level group; `with nuke.root():` makes new nodes land at the top."""

    def begin(self):
        _context.append(None)
        return self


class _Nodes:
    def __getattr__(self, cls):
        if cls == "Group":
            return lambda **kw: Group("Group", **kw)
        return lambda **kw: Node(cls, **kw)


nodes = _Nodes()
_root = None


def root():
    global _root
    if _root is None:
        _ctx, _context[:] = list(_context), []
        _root = _Root("Root", name="root")
        _context[:] = _ctx
        _all_nodes.remove(_root)
        _root._knobs["fps"]._value = 24.0
        _root._knobs["first_frame"]._value = 1
        _root._knobs["last_frame"]._value = 100
    return _root


def read_offset(read) -> int:
    """Nuke frame minus file frame for a Read, from frame_mode/frame."""
    mode = read._knobs["frame_mode"]._value
    text = read._knobs["frame"]._value.strip()
    if not text:
        return 0
    if mode == "start at":
        return int(float(text)) - read._knobs["first"]._value
    if mode == "offset":
        return int(float(text))
    raise RuntimeError("stub nuke: a frame expression; give the test a start at / offset Read")


def read_range(read) -> tuple[int, int]:
    """The Nuke frames a Read covers."""
    off = read_offset(read)
    return read._knobs["first"]._value + off, read._knobs["last"]._value + off


def read_shows(read, nuke_frame):
    """The file frame a Read shows at a Nuke frame, or None for black."""
    first, last = read._knobs["first"]._value, read._knobs["last"]._value
    f = nuke_frame - read_offset(read)
    if f < first:
        return None if read._knobs["before"]._value == "black" else first
    if f > last:
        return None if read._knobs["after"]._value == "black" else last
    return f


def reset():
    global _root
    _all_nodes.clear()
    _context.clear()
    _main_queue.clear()
    messages.clear()
    media.clear()
    _menus.clear()
    _root = None


def createNode(cls, knobs="", inpanel=True):
    return Group(cls) if cls == "Group" else Node(cls)


def toNode(name):
    _main_only("nuke.toNode")
    return next((n for n in _all_nodes if n.fullName() == name), None)


def allNodes(cls=None):
    scope = _context[-1] if _context and _context[-1] is not None else None
    return [n for n in _all_nodes if n._parent is scope and (cls is None or n.Class() == cls)]


def thisNode():
    return _this[-1] if _this else root()


def selectedNode():
    raise ValueError("no node selected")


def delete(node):
    _main_only("nuke.delete")
    if node in _all_nodes:
        _all_nodes.remove(node)
    if node._parent is not None:
        node._parent._children.remove(node)
    for n in _all_nodes:
        for i, inp in list(n._inputs.items()):
            if inp is node:
                del n._inputs[i]


def message(text):
    _main_only("nuke.message")
    messages.append(text)


def executeInMainThread(fn, args=(), kwargs=None):
    with _lock:
        _main_queue.append((fn, args, kwargs or {}))


def executeInMainThreadWithResult(fn, args=(), kwargs=None):
    raise RuntimeError("stub nuke: executeInMainThreadWithResult blocks the worker; lipflap does not use it")


def pump_main_thread():
    with _lock:
        todo = list(_main_queue)
        _main_queue.clear()
    for fn, args, kw in todo:
        fn(*args, **kw)
    return len(todo)


def execute(node, first, last, incr=1):
    _main_only("nuke.execute")
    if node.Class() != "Write":
        raise RuntimeError(f"{node.name()} cannot be executed")
    if node.input(0) is None:
        raise RuntimeError(f"{node.name()}: no input connected")
    if render_hook is None:
        raise RuntimeError("stub nuke: no render_hook to execute " + node.name())
    render_hook(node, int(first), int(last))


class ProgressTask:
    """Foundry: a progress bar a worker thread may update."""
    instances: list = []

    def __init__(self, title):
        self.title, self.message, self.progress = title, "", 0
        self.cancelled = False
        ProgressTask.instances.append(self)

    def setMessage(self, m):
        self.message = m

    def setProgress(self, p):
        self.progress = int(p)

    def isCancelled(self):
        return self.cancelled


_menus: dict = {}


class Menu:
    def __init__(self, name):
        self.name, self.items = name, {}

    def addMenu(self, name, icon=None):
        return self.items.setdefault(name, Menu(name))

    def addCommand(self, name, command, shortcut="", icon=None):
        self.items[name] = command
        return True

    def findItem(self, name):
        return self.items.get(name)


def menu(name):
    return _menus.setdefault(name, Menu(name))


def pluginAddPath(path):
    import sys
    if path not in sys.path:
        sys.path.insert(0, path)


def frame(f=None):
    if f is not None:
        _frame[0] = f
    return _frame[0]


INVISIBLE = 0x400
STARTLINE = 0x1000
ENDLINE = 0x2000
