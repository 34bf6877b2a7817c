"""A stub of Nuke's Python module for tests, faithful to the parts lipflap's node uses.

Nodes with named knobs and inputs, Groups with begin()/end() and nodes created inside them,
knobs with animation curves (setAnimated, setValueAt, getValueAt, animation(0).keys()), menus,
ProgressTask, executeInMainThread (queued; `pump_main_thread()` runs the queue as Nuke's event
loop would), message, root() settings, and execute(), which calls `render_hook(write, first,
last)` so a test can produce what a Write node would have written.
"""
from __future__ import annotations

import threading

GUI = True
messages: list[str] = []
_main_queue: list = []
_lock = threading.Lock()
render_hook = None
_all_nodes: list = []
_context: list = []
_this: list = []


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


class Knob:
    def __init__(self, name, label=None, *args):
        self._name, self._label = name, label or name
        self._value = self._default()
        self._curve = None
        self._flags = 0
        self._tooltip = ""
        self._node = None
        self.extra = args

    def _default(self):
        return ""

    def name(self):
        return self._name

    def label(self):
        return self._label

    def value(self):
        return self._value

    def getValue(self):
        return self._curve.evaluate(_frame[0]) if self._curve else self._value

    def setValue(self, v):
        self._value = v
        return True

    def setExpression(self, expr, index=0):
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


_frame = [1]


class Double_Knob(Knob):
    def _default(self):
        return 0.0

    def setRange(self, lo, hi):
        self.range = (lo, hi)

    def setAnimated(self, index=0):
        if self._curve is None:
            self._curve = AnimationCurve()
        return True

    def clearAnimated(self, index=0):
        self._curve = None
        return True

    def isAnimated(self, index=0):
        return self._curve is not None

    def animation(self, index=0):
        return self._curve

    def animations(self):
        return [self._curve] if self._curve else []

    def setValueAt(self, value, frame, index=0):
        if self._curve is None:
            self.setAnimated()
        self._curve.setKey(frame, value)
        return True

    def getValueAt(self, frame, index=0):
        return self._curve.evaluate(frame) if self._curve else float(self._value)

    def setValue(self, v, index=0):
        self._value = float(v)
        return True


class Int_Knob(Knob):
    def _default(self):
        return 0

    def setValue(self, v):
        self._value = int(v)
        return True


class Boolean_Knob(Int_Knob):
    pass


class String_Knob(Knob):
    pass


class File_Knob(String_Knob):
    pass


class Multiline_Eval_String_Knob(String_Knob):
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
        _this.append(self._node)
        try:
            exec(self._value, {"nuke": __import__(__name__)})
        finally:
            _this.pop()


class Enumeration_Knob(Knob):
    def __init__(self, name, label=None, values=()):
        super().__init__(name, label)
        self._values = list(values)
        self._value = self._values[0] if self._values else ""

    def values(self):
        return list(self._values)

    def setValue(self, v):
        if isinstance(v, int):
            v = self._values[v]
        if v not in self._values:
            raise ValueError(f"{v!r} is not one of {self._values}")
        self._value = v
        return True


class Node:
    def __init__(self, cls, name=None, **knobs):
        self._class = cls
        self._knobs: dict[str, Knob] = {}
        self._inputs: dict[int, Node] = {}
        self._parent = _context[-1] if _context else None
        base = name or f"{cls}{sum(1 for n in _all_nodes if n._class == cls) + 1}"
        self._name = base
        for default in ("file", "first", "last", "operation", "channels", "size", "which", "disable",
                        "file_type", "mov64_codec", "frame_mode", "frame", "before", "after", "colorspace",
                        "raw", "premultiplied", "origfirst", "origlast"):
            k = (Int_Knob if default in ("first", "last", "origfirst", "origlast", "disable", "raw",
                                          "premultiplied") else
                 Double_Knob if default in ("size", "which") else String_Knob)(default)
            k._node = self
            self._knobs[default] = k
        for k, v in knobs.items():
            self[k].setValue(v)
        _all_nodes.append(self)
        if self._parent is not None:
            self._parent._children.append(self)

    def Class(self):
        return self._class

    def name(self):
        return self._name

    def setName(self, n):
        self._name = n

    def fullName(self):
        return self._name if self._parent is None else f"{self._parent.fullName()}.{self._name}"

    def knob(self, name):
        return self._knobs.get(name)

    def knobs(self):
        return dict(self._knobs)

    def __getitem__(self, name):
        k = self._knobs.get(name)
        if k is None:
            raise NameError(f"{self._name} has no knob {name}")
        return k

    def addKnob(self, k):
        k._node = self
        self._knobs[k.name()] = k

    def input(self, i):
        return self._inputs.get(i)

    def setInput(self, i, node):
        if node is None:
            self._inputs.pop(i, None)
        else:
            self._inputs[i] = node
        return True

    def inputs(self):
        return max(self._inputs) + 1 if self._inputs else 0

    def dependent(self):
        return [n for n in _all_nodes if self in n._inputs.values()]


class Group(Node):
    def __init__(self, cls="Group", name=None, **knobs):
        self._children = []
        super().__init__(cls, name, **knobs)

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


class _Nodes:
    def __getattr__(self, cls):
        if cls == "Group":
            return lambda **kw: Group("Group", **kw)
        return lambda **kw: Node(cls, **kw)


nodes = _Nodes()


class _Root(Node):
    pass


_root = None


def root():
    global _root
    if _root is None:
        _root = _Root("Root", "root")
        _root._knobs["fps"] = Double_Knob("fps")
        _root._knobs["fps"].setValue(24.0)
        _root._knobs["first_frame"] = Int_Knob("first_frame")
        _root._knobs["first_frame"].setValue(1)
        _root._knobs["last_frame"] = Int_Knob("last_frame")
        _root._knobs["last_frame"].setValue(100)
        _root._knobs["name"] = String_Knob("name")
    return _root


def reset():
    global _root
    _all_nodes.clear()
    _context.clear()
    _main_queue.clear()
    messages.clear()
    _menus.clear()
    _root = None


def createNode(cls, knobs="", inpanel=True):
    return Group(cls) if cls == "Group" else Node(cls)


def toNode(name):
    return next((n for n in _all_nodes if n.fullName() == name or n.name() == name), None)


def allNodes(cls=None):
    return [n for n in _all_nodes if cls is None or n.Class() == cls]


def thisNode():
    return _this[-1] if _this else None


def selectedNode():
    raise ValueError("no node selected")


def delete(node):
    if node in _all_nodes:
        _all_nodes.remove(node)
    for n in _all_nodes:
        for i, inp in list(n._inputs.items()):
            if inp is node:
                del n._inputs[i]


def message(text):
    messages.append(text)


def executeInMainThread(fn, args=(), kwargs=None):
    with _lock:
        _main_queue.append((fn, args, kwargs or {}))


def executeInMainThreadWithResult(fn, args=(), kwargs=None):
    return fn(*args, **(kwargs or {}))


def pump_main_thread():
    with _lock:
        todo = list(_main_queue)
        _main_queue.clear()
    for fn, args, kw in todo:
        fn(*args, **kw)
    return len(todo)


def execute(node, first, last, incr=1):
    if render_hook is None:
        raise RuntimeError("stub nuke: no render_hook to execute " + node.name())
    render_hook(node, int(first), int(last))


class ProgressTask:
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
