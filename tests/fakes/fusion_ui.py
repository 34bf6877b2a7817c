"""A strict fake of Fusion's UIManager and bmd.UIDispatcher, as the Resolve dialog uses them.

What it follows (Fusion's UI Manager as documented in the Fusion scripting guide and used by
Resolve's shipped example scripts): ui.<Widget>({props}, [children]) for the documented widget
kinds only (anything else is an AttributeError, as a missing element is in Resolve);
ui.Timer({"ID", "Interval"}) with Start/Stop and a "Timeout" event on the dispatcher; handlers
assigned as `win.On.<ID>.<Event> = fn`; disp.AddWindow, win.GetItems, win.Show/Hide,
disp.RunLoop/ExitLoop. RunLoop returns only after ExitLoop: it plays the test's script of user
actions (firing timers when the script says to wait) and raises if the script runs out while the
loop is still running, because a real user has to close the window; it never clicks Close itself.
`fusion.RequestDir` / `RequestFile` (Fusion scripting guide) answer from `Fusion.answers`
(None when the user cancels).

`ui.Icon({"File": path})` makes an image a Button shows through its "Icon" and "IconSize"
properties, set at creation or later (`button.Icon = ui.Icon(...)`): Andrew Hazelden's UI
Manager Lua & Python examples (Reactor atom com.AndrewHazelden.UIManagerLuaExamples, for
Fusion 9-18 and Resolve 15-18: `ui:Button{Flat = true, IconSize = {64,64}, Icon =
ui:Icon{File = ...}}`), community documentation of the UI Manager (docs/hosts.md, FUX). It is not an
element of a layout: placed as a child, or given without "File", it is refused here.
"""
from __future__ import annotations

import time

WIDGETS = {"VGroup", "HGroup", "VGap", "HGap", "Label", "Button", "CheckBox", "ComboBox", "SpinBox",
           "DoubleSpinBox", "Slider", "LineEdit", "TextEdit", "Tree", "TreeItem", "TabBar", "Stack",
           "ColorPicker", "Timer"}


class Icon:
    """ui.Icon({"File": path}) (FUX): an image for a Button's Icon property."""

    def __init__(self, props):
        if not isinstance(props, dict) or not isinstance(props.get("File"), str):
            raise TypeError("ui.Icon takes {\"File\": path}")
        self.File = props["File"]


class Widget:
    def __init__(self, kind, props=None, children=None):
        if isinstance(props, list):
            props, children = {}, props
        self.kind, self.children = kind, children or []
        if any(isinstance(c, Icon) for c in self.children):
            raise TypeError("an Icon is a Button's property, not a layout element")
        self.ID = None
        self.Text = ""
        self.CurrentIndex = 0
        self.Value = 0
        self.Enabled = True
        self._items = []
        for k, v in (props or {}).items():
            setattr(self, k, v)

    def __setattr__(self, name, value):
        # FUX: "Icon" (and its "IconSize") belong to a Button and take a ui.Icon.
        if name in ("Icon", "IconSize") and self.kind != "Button":
            raise AttributeError(f"{self.kind} has no {name} (FUX: a Button shows an Icon)")
        if name == "Icon" and not isinstance(value, Icon):
            raise TypeError("a Button's Icon is a ui.Icon({\"File\": path})")
        object.__setattr__(self, name, value)

    def AddItem(self, text):
        if self.kind != "ComboBox":
            raise AttributeError(f"{self.kind} has no AddItem")
        self._items.append(text)

    def Clear(self):
        if self.kind not in ("ComboBox", "TextEdit", "Tree"):
            raise AttributeError(f"{self.kind} has no Clear")
        self._items = []
        self.CurrentIndex = 0

    @property
    def CurrentText(self):
        if self.kind != "ComboBox":
            raise AttributeError(f"{self.kind} has no CurrentText")
        return self._items[self.CurrentIndex] if 0 <= self.CurrentIndex < len(self._items) else ""

    def walk(self):
        yield self
        for c in self.children:
            yield from c.walk()


class _Handlers:
    def __init__(self):
        object.__setattr__(self, "table", {})

    def __getattr__(self, ident):
        return self.table.setdefault(ident, _EventSlots())


class _EventSlots:
    def __init__(self):
        object.__setattr__(self, "events", {})

    def __setattr__(self, event, fn):
        self.events[event] = fn

    def __getattr__(self, event):
        return self.events.get(event)


class Timer:
    def __init__(self, props):
        self.ID, self.Interval = props["ID"], props.get("Interval", 0)
        self.active = False

    def Start(self):
        self.active = True

    def Stop(self):
        self.active = False


class UIManager:
    def __init__(self):
        self.timers = []

    def __getattr__(self, kind):
        if kind == "Icon":
            return Icon
        if kind not in WIDGETS:
            raise AttributeError(f"UIManager has no element {kind}")
        if kind == "Timer":
            def make_timer(props):
                t = Timer(props)
                self.timers.append(t)
                return t
            return make_timer
        return lambda props=None, children=None: Widget(kind, props, children)


class Window:
    def __init__(self, props, layout):
        self.props, self.layout = props, layout
        self.On = _Handlers()
        self.shown = False

    def GetItems(self):
        return {w.ID: w for w in self.layout.walk() if w.ID}

    def Show(self):
        self.shown = True

    def Hide(self):
        self.shown = False


WAIT = object()   # a script step: fire the UI timers until none is running


class Dispatcher:
    """bmd.UIDispatcher(ui). `script` is a list of callables taking the window, or WAIT."""

    script: list = []
    max_ticks = 100000

    def __init__(self, ui):
        self.ui = ui
        self.On = _Handlers()
        self.window = None
        self.running = False

    def AddWindow(self, props, layout):
        self.window = Window(props, layout)
        return self.window

    def _fire_timers(self):
        ticks = 0
        while self.running and any(t.active for t in self.ui.timers) and ticks < self.max_ticks:
            for t in self.ui.timers:
                if t.active:
                    self.On.table[t.ID].events["Timeout"]({"what": "Timeout"})
            ticks += 1
            time.sleep(0.02)

    def RunLoop(self):
        self.running = True
        for action in list(Dispatcher.script):
            if not self.running:
                break
            if action is WAIT:
                self._fire_timers()
            else:
                action(self.window)
        if self.running:
            raise RuntimeError("RunLoop would wait forever: the test's user never closed the window")

    def ExitLoop(self):
        self.running = False


def click(ident):
    return lambda win: win.On.table[ident].events["Clicked"]({"who": ident})


def set_text(ident, text):
    return lambda win: setattr(win.GetItems()[ident], "Text", text)


def set_value(ident, value):
    return lambda win: setattr(win.GetItems()[ident], "Value", value)


def set_index(ident, index):
    return lambda win: setattr(win.GetItems()[ident], "CurrentIndex", index)


class Fusion:
    """The `fusion` global. `ui` is None for the free edition from 19.1 (measured)."""

    def __init__(self, ui):
        self.UIManager = ui
        self.answers: list = []

    def RequestDir(self, path=None, options=None):
        return self.answers.pop(0) if self.answers else None

    def RequestFile(self, path=None, options=None):
        return self.answers.pop(0) if self.answers else None


class Bmd:
    def __init__(self, resolve=None):
        self._resolve = resolve

    def scriptapp(self, name):
        return self._resolve if name == "Resolve" else None

    def UIDispatcher(self, ui):
        if ui is None:
            raise AttributeError("'NoneType' object has no attribute ... (no UIManager)")
        return Dispatcher(ui)
