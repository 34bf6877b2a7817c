"""A fake of Fusion's UIManager and bmd.UIDispatcher, enough to drive the Resolve dialog.

Widgets keep their properties as attributes (Text, CurrentIndex, Value, Enabled), ComboBoxes
their items; handlers are assigned as `win.On.<ID>.<Event> = fn`. RunLoop plays a script of
user actions, then fires the UI timer until the script stops it, like Resolve's event loop.
"""
from __future__ import annotations


class Widget:
    def __init__(self, kind, props=None, children=None):
        if isinstance(props, list):
            props, children = {}, props
        self.kind, self.children = kind, children or []
        self.ID = None
        self.Text = ""
        self.CurrentIndex = 0
        self.Value = 0
        self.Enabled = True
        self.items = []
        for k, v in (props or {}).items():
            setattr(self, k, v)

    def AddItem(self, text):
        self.items.append(text)

    def Clear(self):
        self.items = []
        self.CurrentIndex = 0

    @property
    def CurrentText(self):
        return self.items[self.CurrentIndex] if 0 <= self.CurrentIndex < len(self.items) else ""

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
    def __init__(self, with_timer=True):
        self.timers = []
        self.with_timer = with_timer

    def __getattr__(self, kind):
        if kind == "Timer":
            if not self.with_timer:
                raise AttributeError(kind)

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


class Dispatcher:
    """bmd.UIDispatcher(ui). `script` is a list of callables taking the window."""

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

    def RunLoop(self):
        self.running = True
        for action in list(Dispatcher.script):
            action(self.window)
        ticks = 0
        import time
        while self.running and any(t.active for t in self.ui.timers) and ticks < self.max_ticks:
            for t in self.ui.timers:
                if t.active:
                    handler = self.On.table.get(t.ID)
                    handler.events["Timeout"]({"what": "Timeout"})
            ticks += 1
            time.sleep(0.02)
        if self.running:
            close = self.window.On.table.get("Close")
            if close and close.events.get("Clicked"):
                close.events["Clicked"]({})

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
    def __init__(self, ui):
        self.UIManager = ui


class Bmd:
    def UIDispatcher(self, ui):
        return Dispatcher(ui)
