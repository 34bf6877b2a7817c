"""The lipflap dialog in Resolve (fusion.UIManager), remembering its last settings.

The dialog only gathers settings and shows progress; the Controller does the work. A UIManager
timer polls the engine process so Resolve's UI never blocks on the engine.
"""
from __future__ import annotations

import time

from . import settings as settings_mod, voices as voices_mod
from .settings import CODECS, MODES, SCOPES, Settings

WIN_ID = "lipflapWin"
SCOPE_LABELS = {"track": "Every clip on video track", "inout": "Clips on video track between In and Out",
                "current": "The clip under the playhead"}
DUB_LABELS = {"track": "An audio track of this timeline", "file": "A dub file"}
MODE_LABELS = {"full": "Full frame (lower face replaced)", "patch": "Patch with alpha (over the original)"}
NO_VOICE = "(no voice: one dub above)"
VOICE_BY = ("Voices by face position (the first clip's faces)",
            "Voices by character (the cast over the chosen clips: singles and off-screen lines work)")
ICON_SIZE = [48, 48]   # px: the face pictures are 128 px high; a row stays compact


class Dialog:
    def __init__(self, fusion, bmd, controller, settings: Settings, config_dir: str):
        self.fusion = fusion
        self.ui = fusion.UIManager
        self.disp = bmd.UIDispatcher(self.ui)
        self.controller = controller
        self.settings = settings
        self.config_dir = config_dir
        self.timer = None
        self.face_timer = None
        self.track_names: list[str] = []
        self.win = self._build()
        self.items = self.win.GetItems()
        self._fill(settings)

    # -- layout ---------------------------------------------------------------------------
    def _row(self, label, widget):
        ui = self.ui
        return ui.HGroup({"Weight": 0}, [ui.Label({"Text": label, "Weight": 0.35}), widget])

    def _build(self):
        ui = self.ui
        combo = lambda ident: ui.ComboBox({"ID": ident, "Weight": 0.65})  # noqa: E731
        line = lambda ident: ui.LineEdit({"ID": ident, "Weight": 0.55})   # noqa: E731
        browse = lambda ident: ui.Button({"ID": ident, "Text": "Browse", "Weight": 0.1})  # noqa: E731
        spin = lambda ident, lo, hi: ui.SpinBox({"ID": ident, "Minimum": lo, "Maximum": hi, "Weight": 0.65})  # noqa: E731
        layout = ui.VGroup([
            self._row("Clips", combo("Scope")),
            self._row("Video track", spin("VideoTrack", 1, 99)),
            self._row("Dub", combo("DubKind")),
            self._row("Dub audio track", spin("DubTrack", 1, 99)),
            ui.HGroup({"Weight": 0}, [ui.Label({"Text": "Dub file", "Weight": 0.35}), line("DubFile"), browse("BrowseDub")]),
            self._row("Dub starts at (record TC)", line("DubStartTC")),
            ui.HGroup({"Weight": 0}, [ui.Label({"Text": "Transcripts (optional)", "Weight": 0.35}),
                                      line("Transcripts"), browse("BrowseTranscripts")]),
            self._row("Script text (current clip)", line("Text")),
            self._row("Language (eSpeak code)", line("Language")),
            self._row("Output", combo("Mode")),
            self._row("Codec", combo("Codec")),
            self._row("Handles (frames)", spin("Handles", 0, 100)),
            self._row("Face", line("Face")),
            *self._voice_rows(),
            ui.HGroup({"Weight": 0}, [ui.Label({"Text": "Output folder", "Weight": 0.35}), line("OutputDir"),
                                      browse("BrowseOut")]),
            ui.Label({"ID": "Status", "Text": "Ready.", "WordWrap": True, "Weight": 1}),
            ui.HGroup({"Weight": 0}, [ui.Button({"ID": "Run", "Text": "Lip-sync"}),
                                      ui.Button({"ID": "Cancel", "Text": "Cancel"}),
                                      ui.Button({"ID": "Close", "Text": "Close"})]),
        ])
        win = self.disp.AddWindow({"ID": WIN_ID, "WindowTitle": "lipflap Lip Sync",
                                   "Geometry": [200, 200, 720, 820]}, layout)
        win.On.lipflapWin.Close = self._on_close
        win.On.Close.Clicked = self._on_close
        win.On.Run.Clicked = self._on_run
        win.On.Cancel.Clicked = self._on_cancel
        win.On.Mode.CurrentIndexChanged = self._on_mode
        win.On.BrowseDub.Clicked = lambda ev: self._browse("DubFile", folder=False)
        win.On.BrowseTranscripts.Clicked = lambda ev: self._browse("Transcripts", folder=False)
        win.On.BrowseOut.Clicked = lambda ev: self._browse("OutputDir", folder=True)
        win.On.FindFaces.Clicked = self._on_find_faces
        win.On.BrowseCast.Clicked = lambda ev: self._browse("CastFile", folder=False)
        return win

    def _voice_rows(self):
        """Dialogue: per speaking face (a row), its picture, its face spec and the audio track of
        its character's dub. Find faces fills the pictures and specs from the engine's analysis
        of the first chosen clip; a face can also be typed (left, right, centre, X,Y)."""
        ui = self.ui
        rows = [ui.Label({"Text": "Voices per face (dialogue): a character's dub track for each face; "
                                  "leave every track at 'no voice' for one dub", "WordWrap": True, "Weight": 0}),
                ui.HGroup({"Weight": 0}, [ui.ComboBox({"ID": "VoiceBy", "Weight": 1})]),
                ui.HGroup({"Weight": 0}, [ui.Label({"Text": "Cast file (by character)", "Weight": 0.35}),
                                          ui.LineEdit({"ID": "CastFile", "Weight": 0.55}),
                                          ui.Button({"ID": "BrowseCast", "Text": "Browse", "Weight": 0.1})]),
                ui.HGroup({"Weight": 0}, [ui.Button({"ID": "FindFaces", "Text": "Find faces", "Weight": 0.2}),
                                          ui.Label({"ID": "FacesNote", "Text": "", "WordWrap": True,
                                                    "Weight": 0.8})])]
        for i in range(1, voices_mod.SLOTS + 1):
            rows.append(ui.HGroup({"Weight": 0}, [
                ui.Button({"ID": f"FaceIcon{i}", "Text": f"{i}", "Flat": True, "IconSize": ICON_SIZE, "Weight": 0.1}),
                ui.LineEdit({"ID": f"VoiceFace{i}", "Weight": 0.2}),
                ui.ComboBox({"ID": f"VoiceTrack{i}", "Weight": 0.35}),
                ui.Label({"ID": f"FaceText{i}", "Text": "", "WordWrap": True, "Weight": 0.35})]))
        return rows

    def _fill(self, s: Settings):
        it = self.items
        for key in SCOPES:
            it["Scope"].AddItem(SCOPE_LABELS[key])
        it["Scope"].CurrentIndex = SCOPES.index(s.scope) if s.scope in SCOPES else 0
        for key in ("track", "file"):
            it["DubKind"].AddItem(DUB_LABELS[key])
        it["DubKind"].CurrentIndex = 0 if s.dub_kind == "track" else 1
        for key in MODES:
            it["Mode"].AddItem(MODE_LABELS[key])
        it["Mode"].CurrentIndex = MODES.index(s.mode) if s.mode in MODES else 0
        self._fill_codecs(s.mode, s.codec)
        it["VideoTrack"].Value = s.video_track
        it["DubTrack"].Value = s.dub_track
        it["Handles"].Value = s.handles
        for label in VOICE_BY:
            it["VoiceBy"].AddItem(label)
        it["VoiceBy"].CurrentIndex = 1 if s.cast_file else 0
        it["CastFile"].Text = s.cast_file
        self._fill_voices(s.voices)
        for ident, value in (("DubFile", s.dub_file), ("DubStartTC", s.dub_start_tc), ("Transcripts", s.transcripts),
                             ("Text", s.text), ("Language", s.language), ("Face", s.face), ("OutputDir", s.output_dir)):
            it[ident].Text = value

    def _fill_voices(self, voices):
        """The voice rows from the saved mapping; a saved track this timeline lacks is said."""
        it = self.items
        self.track_names = [name for _, name in voices_mod.audio_tracks(self.controller.timeline)]
        missing = []
        for i in range(1, voices_mod.SLOTS + 1):
            box = it[f"VoiceTrack{i}"]
            box.Clear()
            for label in [NO_VOICE] + self.track_names:
                box.AddItem(label)
            v = voices[i - 1] if i <= len(voices) and isinstance(voices[i - 1], dict) else {}
            name = v.get("track")
            box.CurrentIndex = self.track_names.index(name) + 1 if name in self.track_names else 0
            if name and name not in self.track_names:
                missing.append(str(name))
            it[f"VoiceFace{i}"].Text = str(v.get("character", v.get("face", ""))) if v else ""
        notes = []
        if missing:
            notes.append(f"saved voice track(s) {', '.join(missing)} are not on this timeline; choose the "
                         f"characters' tracks again.")
        if len(voices) > voices_mod.SLOTS:
            notes.append(f"the saved settings map {len(voices)} voices and the dialog shows {voices_mod.SLOTS}; "
                         f"a run from the dialog uses these {voices_mod.SLOTS}.")
        it["FacesNote"].Text = " ".join(notes)

    def _by_character(self) -> bool:
        return int(self.items["VoiceBy"].CurrentIndex) == 1

    def _read_voices(self) -> list:
        it, out = self.items, []
        key = "character" if self._by_character() else "face"
        for i in range(1, voices_mod.SLOTS + 1):
            index = int(it[f"VoiceTrack{i}"].CurrentIndex)
            if index > 0:
                out.append({"track": self.track_names[index - 1], key: it[f"VoiceFace{i}"].Text.strip()})
        return out

    def _fill_codecs(self, mode: str, codec: str):
        box = self.items["Codec"]
        box.Clear()
        for c in CODECS[mode]:
            box.AddItem(c)
        box.CurrentIndex = CODECS[mode].index(codec) if codec in CODECS[mode] else 0

    def read(self) -> Settings:
        it = self.items
        mode = MODES[int(it["Mode"].CurrentIndex)]
        return Settings(scope=SCOPES[int(it["Scope"].CurrentIndex)], video_track=int(it["VideoTrack"].Value),
                        dub_kind=("track", "file")[int(it["DubKind"].CurrentIndex)], dub_track=int(it["DubTrack"].Value),
                        dub_file=it["DubFile"].Text.strip(), dub_start_tc=it["DubStartTC"].Text.strip(),
                        transcripts=it["Transcripts"].Text.strip(), text=it["Text"].Text.strip(),
                        language=it["Language"].Text.strip(), mode=mode,
                        codec=str(it["Codec"].CurrentText) or CODECS[mode][0],
                        handles=int(it["Handles"].Value), face=it["Face"].Text.strip() or "auto",
                        output_dir=it["OutputDir"].Text.strip(), voices=self._read_voices(),
                        cast_file=it["CastFile"].Text.strip() if self._by_character() else "")

    # -- events ---------------------------------------------------------------------------
    def _status(self, text: str):
        self.items["Status"].Text = text

    def _browse(self, ident: str, folder: bool):
        req = getattr(self.fusion, "RequestDir" if folder else "RequestFile", None)
        if req is None:
            return
        picked = req()
        if picked:
            self.items[ident].Text = str(picked)

    def _on_mode(self, ev):
        mode = MODES[int(self.items["Mode"].CurrentIndex)]
        self._fill_codecs(mode, str(self.items["Codec"].CurrentText))

    def _on_find_faces(self, ev):
        c = self.controller
        if c.queue or c.current or c.face_run:
            return
        problems = c.start_faces(self.read(), by_character=self._by_character())
        if problems:
            self.items["FacesNote"].Text = "Cannot find faces: " + "; ".join(problems) + "."
            return
        self.items["FacesNote"].Text = (f"Finding the characters of {c.running[1]}..." if self._by_character()
                                        else f"Finding the faces of {c.running[1]}...")
        timer_factory = getattr(self.ui, "Timer", None)
        if timer_factory is None:
            while c.faces_tick():       # no UI timer in this build: wait for the analysis
                time.sleep(0.1)
            self._show_faces()
            return
        self.face_timer = timer_factory({"ID": "lipflapFaces", "Interval": 250})
        self.disp.On.lipflapFaces.Timeout = self._on_faces_tick
        self.face_timer.Start()

    def _on_faces_tick(self, ev):
        if not self.controller.faces_tick():
            self.face_timer.Stop()
            self._show_faces()

    def _show_faces(self):
        """Each found face in a row, left to right: its picture on the row's button (a ui.Icon,
        FUX), its face spec, and in words where it is and the picture's path (said in words
        too, so the row reads right where a build shows no icon)."""
        it, faces = self.items, self.controller.faces
        if self.controller.cast_file:
            it["CastFile"].Text = self.controller.cast_file
        for i in range(1, voices_mod.SLOTS + 1):
            face = faces[i - 1] if i <= len(faces) else None
            if face is not None:
                if face.file:
                    it[f"FaceIcon{i}"].Icon = self.ui.Icon({"File": face.file})
                # A face spec (by position) or a character's name (by character).
                it[f"VoiceFace{i}"].Text = getattr(face, "face", None) or face.name
            it[f"FaceText{i}"].Text = face.caption() if face is not None else ""
        extra = (f" The dialog has {voices_mod.SLOTS} voice rows: the first {voices_mod.SLOTS} are shown."
                 if len(faces) > voices_mod.SLOTS else "")
        it["FacesNote"].Text = self.controller.faces_note + extra

    def _on_run(self, ev):
        if self.controller.queue or self.controller.current or self.controller.face_run:
            return
        s = self.read()
        problems = self.controller.start(s)
        if problems:
            self._status("Cannot start: " + "; ".join(problems) + ".")
            return
        settings_mod.save(self.config_dir, s)
        self._status(f"Lip-syncing {len(self.controller.queue)} clip(s)...")
        self.items["Run"].Enabled = False
        timer_factory = getattr(self.ui, "Timer", None)
        if timer_factory is None:
            # No UI timer in this build: work through the clips in one go (the UI waits).
            self.controller.run_all()
            self._done()
            return
        self.timer = timer_factory({"ID": "lipflapPoll", "Interval": 250})
        self.disp.On.lipflapPoll.Timeout = self._on_tick
        self.timer.Start()

    def _on_tick(self, ev):
        busy = self.controller.tick()
        if not busy:
            self.timer.Stop()
            self._done()
            return
        done, total, stage = self.controller.progress
        c = self.controller
        n_done = len(c.outcomes)
        n_all = n_done + len(c.queue) + (1 if c.current else 0)
        name = c.current[0].name if c.current else ""
        self._status(f"Clip {n_done + 1} of {n_all}: {name} - {stage} {done}/{total}")

    def _done(self):
        self.items["Run"].Enabled = True
        self._status(self.controller.summary())

    def _on_cancel(self, ev):
        self.controller.cancel()
        self._status("Cancelling...")

    def _on_close(self, ev):
        self.controller.cancel()
        for timer in (self.timer, self.face_timer):
            if timer is not None:
                timer.Stop()
        self.disp.ExitLoop()

    def run(self):
        self.win.Show()
        self.disp.RunLoop()
        self.win.Hide()
