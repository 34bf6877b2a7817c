"""A strict fake of DaVinci Resolve's scripting object model, per version and edition.

Every public (CamelCase) method cites what it follows: "README" is Blackmagic's scripting README
(Developer/Scripting/README.txt; public copies: the 3 Oct 2024 edition formatted in
"DaVinci Resolve - Unofficial Scripting Documentation", the 2020 edition in
ynput/OpenPype openpype/hosts/resolve/RESOLVE_API_README_v16.2.0_up.txt, the 31 Aug 2026 edition's
DaVinciResolveScript.pyi enums as quoted in docs/hosts.md); "measured" is a community
measurement recorded in /work/shared/DESIGN.md (host facts) and docs/hosts.md; "modelled" marks
a choice where no measurement exists, made so that a plugin that verifies its work passes either
way. Methods the README does not list do not exist (AttributeError), methods newer than a
profile's version do not exist on that profile, value sets the README enumerates are enforced,
and calls answer False / None / [] where Resolve does instead of raising.

Test-side helpers are lower case and start with `fake_`; the plugins never call them.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from fractions import Fraction

# README 2026 .pyi `ClipColor` (TimelineItem/MediaPoolItem.SetClipColor): no "Red".
CLIP_COLORS = ("Orange", "Apricot", "Yellow", "Lime", "Olive", "Green", "Teal", "Navy", "Blue", "Purple",
               "Violet", "Pink", "Tan", "Beige", "Brown", "Chocolate")
# README 2026 .pyi `MarkerColor` (Timeline.AddMarker).
MARKER_COLORS = ("Blue", "Cyan", "Green", "Yellow", "Red", "Pink", "Purple", "Fuchsia", "Rose", "Lavender",
                 "Sky", "Mint", "Lemon", "Sand", "Cocoa", "Cream")
# README, MediaPool.AppendToTimeline([{clipInfo}, ...]): the 2020-2023 editions list four keys,
# the 2024 (19.x) and later editions add "trackIndex" and "recordFrame".
CLIPINFO_KEYS_OLD = {"mediaPoolItem", "startFrame", "endFrame", "mediaType"}
CLIPINFO_KEYS_NEW = CLIPINFO_KEYS_OLD | {"trackIndex", "recordFrame"}
ALPHA_MODES = ("None", "Straight", "Premultiplied")  # README 2026 .pyi ClipProperties["Alpha mode"]


def _rate(text) -> Fraction:
    s = str(text).replace(" DF", "").strip()
    return {"23.976": Fraction(24000, 1001), "29.97": Fraction(30000, 1001), "59.94": Fraction(60000, 1001),
            "47.952": Fraction(48000, 1001)}.get(s) or Fraction(s)


@dataclass(frozen=True)
class Profile:
    name: str
    version: tuple                 # Resolve.GetVersion()[:4]
    studio: bool
    ui_manager: bool               # fusion.UIManager is None in the free edition from 19.1 (measured)
    source_frames: bool            # TimelineItem.GetSourceStartFrame/EndFrame: README 19.0.2 and later
    mark_in_out: bool              # Timeline.GetMarkInOut: README 19.x and later
    clipinfo_keys: frozenset       # the clipInfo keys this version's README documents
    end_inclusive: bool            # AppendToTimeline endFrame inclusive on 19.1 (measured)
    source_start_off: bool = False  # 19.x: GetSourceStartFrame one low on items at another rate (measured)
    xml_import: bool = False       # timeline imported from FCP 7 XML: source frames 0/0 (measured)
    timeline_rate: str = "23.976"
    clip_rate: str = "23.976"      # the rate of the "A" clips of the test cut


_P = [
    Profile("18.5 Studio", (18, 5, 1, 6), True, True, False, False, frozenset(CLIPINFO_KEYS_OLD), False),
    Profile("19.1 free", (19, 1, 4, 11), False, False, True, True, frozenset(CLIPINFO_KEYS_NEW), True,
            source_start_off=True),
    Profile("19.1 Studio", (19, 1, 4, 11), True, True, True, True, frozenset(CLIPINFO_KEYS_NEW), True,
            source_start_off=True),
    Profile("20 Studio", (20, 2, 3, 7), True, True, True, True, frozenset(CLIPINFO_KEYS_NEW), False),
    Profile("FCP7 XML timeline (20 Studio)", (20, 2, 3, 7), True, True, True, True, frozenset(CLIPINFO_KEYS_NEW),
            False, xml_import=True),
    Profile("25 fps clip on 23.976 (20 Studio)", (20, 2, 3, 7), True, True, True, True,
            frozenset(CLIPINFO_KEYS_NEW), False, timeline_rate="23.976", clip_rate="25"),
    Profile("29.97 clip on 24 (19.1 Studio)", (19, 1, 4, 11), True, True, True, True, frozenset(CLIPINFO_KEYS_NEW),
            True, source_start_off=True, timeline_rate="24", clip_rate="29.97"),
]
PROFILES = {p.name: p for p in _P}


class _Obj:
    """Refuses, per profile, the methods that a version's README does not have yet."""

    _absent_when: dict = {}   # method name -> predicate(profile) that says it is missing

    def __getattribute__(self, name):
        if name[:1].isupper():
            absent = type(self)._absent_when.get(name)
            if absent is not None and absent(object.__getattribute__(self, "profile")):
                raise AttributeError(f"{type(self).__name__} has no {name} in Resolve "
                                     f"{object.__getattribute__(self, 'profile').name}")
        return object.__getattribute__(self, name)


calls: list = []   # (class, method, args) of every mutating call, for tests


def _log(obj, name, *args):
    calls.append((type(obj).__name__, name, args))


def default_probe(path):
    """(frames, fps string) of a media file as Resolve's media pool sees it. Test renders are
    small JSON files {"frames": n, "fps": "25"}; anything else is a long 23.976 clip."""
    try:
        with open(path, encoding="utf-8") as f:
            d = json.load(f)
        return int(d["frames"]), str(d["fps"])
    except (OSError, ValueError, KeyError, TypeError):
        return 10 ** 6, "23.976"


class MediaPoolItem(_Obj):
    _n = 0

    def __init__(self, profile, path, fps="23.976", start_tc="00:00:00:00", frames=10 ** 6, name=None):
        self.profile = profile
        MediaPoolItem._n += 1
        self.uid = f"mpi-{MediaPoolItem._n}"
        self.props = {"File Path": path, "FPS": fps, "Start TC": start_tc, "Frames": str(frames),
                      "Clip Name": name or os.path.basename(path), "Alpha mode": "None", "Clip Color": ""}
        self.frames = frames

    def GetName(self):                       # README MediaPoolItem.GetName() -> string
        return self.props["Clip Name"]

    def GetUniqueId(self):                   # README MediaPoolItem.GetUniqueId() -> string
        return self.uid

    def GetClipProperty(self, key=None):     # README: a string for a key, a dict without one
        return dict(self.props) if key is None else self.props.get(key, "")

    def SetClipProperty(self, key, value):   # README -> Bool; the .pyi enumerates "Alpha mode"
        _log(self, "SetClipProperty", key, value)
        if key == "Alpha mode" and value not in ALPHA_MODES:
            return False
        if key not in self.props:
            return False
        self.props[key] = value
        return True

    def fake_rate(self) -> Fraction:
        return _rate(self.props["FPS"])


class TimelineItem(_Obj):
    _absent_when = {"GetSourceStartFrame": lambda p: not p.source_frames,
                    "GetSourceEndFrame": lambda p: not p.source_frames}

    def __init__(self, profile, timeline, mpi, start, end, source_in=0, name=None, source_frames=None):
        self.profile, self.timeline, self.mpi = profile, timeline, mpi
        self.start, self.end, self.source_in = int(start), int(end), int(source_in)   # source_in: media frames
        self.name = name or (mpi.GetName() if mpi else "Title")
        self.color = ""
        if source_frames is None and mpi is not None:
            source_frames = round((self.end - self.start) * mpi.fake_rate() / timeline.fake_rate())
        self.source_frames = source_frames or 0   # media frames the item plays (differs under a speed change)

    def _ratio(self) -> Fraction:
        return (self.mpi.fake_rate() / self.timeline.fake_rate()) if self.mpi else Fraction(1)

    def GetName(self):                       # README -> string
        return self.name

    def GetStart(self):                      # README: timeline frame where the item starts
        return self.start

    def GetEnd(self):                        # README: timeline frame where it ends (exclusive)
        return self.end

    def GetDuration(self):                   # README -> int, timeline frames
        return self.end - self.start

    def GetLeftOffset(self):
        # README: "maximum extension by frame for clip from left side". Measured (21.1, and
        # DESIGN.md): it counts timeline frames, so it is the in-point only when the rates match.
        return int(round(self.source_in / self._ratio()))

    def GetSourceStartFrame(self):
        # README 19.0.2+. Measured: 0 on FCP 7 XML imports; one low on 19.x for items at another rate.
        if self.profile.xml_import:
            return 0
        off = 1 if (self.profile.source_start_off and self._ratio() != 1) else 0
        return self.source_in - off

    def GetSourceEndFrame(self):
        # Measured: 0 on FCP 7 XML imports; inclusive when the rates match, exclusive otherwise.
        if self.profile.xml_import:
            return 0
        last = self.source_in + self.source_frames
        return last - 1 if self._ratio() == 1 else last

    def GetMediaPoolItem(self):              # README -> MediaPoolItem (None for titles/generators)
        return self.mpi

    def SetClipColor(self, color):           # README -> Bool; the .pyi `ClipColor` set
        _log(self, "SetClipColor", color)
        if color not in CLIP_COLORS:
            return False
        self.color = color
        return True

    def GetClipColor(self):                  # README -> string
        return self.color

    def ClearClipColor(self):                # README -> Bool
        self.color = ""
        return True


class Timeline(_Obj):
    _absent_when = {"GetMarkInOut": lambda p: not p.mark_in_out}
    _n = 0

    def __init__(self, profile, name="Cut", rate=None, drop=False, start_tc="01:00:00:00", start_frame=86400,
                 video_tracks=1, audio_tracks=1, mark_in_out=None):
        self.profile = profile
        Timeline._n += 1
        self.uid = f"tl-{Timeline._n}"
        self.name, self.rate, self.drop = name, rate or profile.timeline_rate, drop
        self.start_tc, self.start_frame = start_tc, start_frame
        self.tracks = {"video": [[] for _ in range(video_tracks)], "audio": [[] for _ in range(audio_tracks)]}
        # Track names; Resolve's own default is "Audio N" / "Video N" (as its OTIO exports
        # name them, docs/hosts.md OT); an editor renames them ("Dub ES ANNA").
        self.track_names = {"video": {}, "audio": {}}
        self.markers = {}
        self.current_item = None
        self.mark_in_out = mark_in_out

    def fake_rate(self) -> Fraction:
        return _rate(self.rate)

    def GetName(self):                       # README -> string
        return self.name

    def GetUniqueId(self):                   # README -> string
        return self.uid

    def GetSetting(self, key):               # README: Project/Timeline settings as strings
        return {"timelineFrameRate": self.rate, "timelineDropFrameTimecode": "1" if self.drop else "0"}.get(key, "")

    def GetStartFrame(self):                 # README: frame number at the start of the timeline
        return self.start_frame

    def GetEndFrame(self):                   # README: frame number at the end of the timeline
        ends = [it.end for tr in self.tracks["video"] + self.tracks["audio"] for it in tr]
        return max(ends, default=self.start_frame)

    def GetStartTimecode(self):              # README -> string
        return self.start_tc

    def GetTrackCount(self, kind):           # README: "audio", "video" or "subtitle"
        if kind not in ("audio", "video", "subtitle"):
            return 0
        return len(self.tracks.get(kind, []))

    def GetTrackName(self, kind, index):
        # README (16.2+): the name of track `index` of "audio", "video" or "subtitle",
        # 1 <= trackIndex <= GetTrackCount(trackType). Out of range: None (modelled, as
        # GetItemListInTrack).
        tracks = self.tracks.get(kind, [])
        if not 1 <= int(index) <= len(tracks):
            return None
        return self.track_names[kind].get(int(index), f"{kind.capitalize()} {int(index)}")

    def SetTrackName(self, kind, index, name):   # README (16.2+) -> Bool; the tests name tracks with it
        _log(self, "SetTrackName", kind, index, name)
        if kind not in self.track_names or not 1 <= int(index) <= len(self.tracks[kind]) or not name:
            return False
        self.track_names[kind][int(index)] = str(name)
        return True

    def GetItemListInTrack(self, kind, index):   # README: 1 <= index <= GetTrackCount(trackType)
        tracks = self.tracks.get(kind, [])
        if not 1 <= int(index) <= len(tracks):
            return None
        return sorted(tracks[int(index) - 1], key=lambda it: it.start)

    def AddTrack(self, kind, sub=None):      # README -> Bool
        _log(self, "AddTrack", kind, sub)
        if kind not in ("video", "audio"):
            return False
        self.tracks[kind].append([])
        return True

    def DeleteClips(self, items, ripple=False):   # README: DeleteClips([timelineItems], Bool) -> Bool
        _log(self, "DeleteClips", list(items), ripple)
        gone = False
        for tr in self.tracks["video"] + self.tracks["audio"]:
            for it in list(tr):
                if any(it is x for x in items):
                    tr.remove(it)
                    gone = True
        return gone

    def GetCurrentVideoItem(self):           # README -> TimelineItem
        return self.current_item

    def GetMarkInOut(self):                  # README 19.x+: {"video": {"in", "out"}, "audio": {...}}
        return dict(self.mark_in_out or {})

    def AddMarker(self, frame_id, color, name, note, duration, custom=""):
        # README: frameId counts from the timeline's first frame; colours are the .pyi MarkerColor
        # set; a second marker on the same frame or one past the end is refused (False).
        _log(self, "AddMarker", frame_id, color, name, note, duration, custom)
        if color not in MARKER_COLORS:
            return False
        if frame_id in self.markers or frame_id < 0 or frame_id >= self.GetEndFrame() - self.start_frame:
            return False
        self.markers[frame_id] = {"color": color, "name": name, "note": note, "duration": duration,
                                  "customData": custom}
        return True

    def GetMarkers(self):                    # README -> {frameId: {...}}
        return dict(self.markers)

    def fake_add(self, kind, track, item):
        self.tracks[kind][track - 1].append(item)
        return item

    def fake_clip(self, kind, track, mpi, start, end, source_in=0, **kw):
        return self.fake_add(kind, track, TimelineItem(self.profile, self, mpi, start, end, source_in, **kw))


class Folder(_Obj):
    def __init__(self, profile, name):
        self.profile, self.name, self.subfolders, self.clips = profile, name, [], []

    def GetName(self):                       # README -> string
        return self.name

    def GetSubFolderList(self):              # README -> [folders...]
        return list(self.subfolders)

    def GetClipList(self):                   # README -> [clips...]
        return list(self.clips)


class MediaPool(_Obj):
    def __init__(self, profile, project, probe=None):
        self.profile, self.project = profile, project
        self.root = Folder(profile, "Master")
        self.current = self.root
        self.probe = probe or default_probe

    def _all_paths(self, folder=None):
        folder = folder or self.root
        out = {c.props["File Path"] for c in folder.clips}
        for f in folder.subfolders:
            out |= self._all_paths(f)
        return out

    def GetRootFolder(self):                 # README -> Folder
        return self.root

    def AddSubFolder(self, parent, name):    # README -> Folder
        _log(self, "AddSubFolder", parent.name, name)
        f = Folder(self.profile, name)
        parent.subfolders.append(f)
        return f

    def SetCurrentFolder(self, folder):      # README -> Bool
        self.current = folder
        return True

    def GetCurrentFolder(self):              # README -> Folder
        return self.current

    def ImportMedia(self, paths):
        # README -> [MediaPoolItems]; measured: a file already in the pool is not imported again ([]).
        _log(self, "ImportMedia", list(paths))
        out = []
        known = self._all_paths()
        for p in paths:
            if not os.path.exists(p) or p in known:
                continue
            frames, fps = self.probe(p)
            mpi = MediaPoolItem(self.profile, p, fps=fps, frames=frames)
            self.current.clips.append(mpi)
            out.append(mpi)
        return out

    def AppendToTimeline(self, infos):
        """README: appends to the CURRENT timeline; startFrame/endFrame are frames of the media.
        Measured: endFrame inclusive on 19.1, exclusive otherwise; recordFrame is an absolute
        timeline frame; an overlapping placement is dropped without a word. Keys the version's
        README does not document are ignored (modelled); keys no README documents are a TypeError."""
        _log(self, "AppendToTimeline", infos)
        tl = self.project.current
        out = []
        for info in infos:
            unknown = set(info) - CLIPINFO_KEYS_NEW
            if unknown:
                raise TypeError(f"AppendToTimeline: clipInfo keys {sorted(unknown)} are not in any README")
            honoured = {k: v for k, v in info.items() if k in self.profile.clipinfo_keys}
            mpi = honoured["mediaPoolItem"]
            s, e = int(honoured["startFrame"]), int(honoured["endFrame"])
            n = e - s + (1 if self.profile.end_inclusive else 0)
            track = int(honoured.get("trackIndex", 1))
            if n <= 0 or s < 0 or s + n > mpi.frames or not 1 <= track <= tl.GetTrackCount("video"):
                continue
            rec_len = int(round(n * tl.fake_rate() / mpi.fake_rate()))
            if "recordFrame" in honoured:
                rec = int(honoured["recordFrame"])
            else:
                rec = max((it.end for it in tl.tracks["video"][track - 1]), default=tl.start_frame)
            if any(it.start < rec + rec_len and rec < it.end for it in tl.tracks["video"][track - 1]):
                continue
            out.append(tl.fake_clip("video", track, mpi, rec, rec + rec_len, s, source_frames=n))
        return out


class Project(_Obj):
    def __init__(self, profile, timelines, probe=None):
        self.profile = profile
        self.timelines = list(timelines) if isinstance(timelines, (list, tuple)) else [timelines]
        self.current = self.timelines[0]
        self.pool = MediaPool(profile, self, probe)

    def GetName(self):                       # README -> string
        return "Dub"

    def GetCurrentTimeline(self):            # README -> Timeline
        return self.current

    def SetCurrentTimeline(self, timeline):  # README -> Bool
        _log(self, "SetCurrentTimeline", timeline.name)
        if not any(timeline is t for t in self.timelines):
            return False
        self.current = timeline
        return True

    def GetTimelineCount(self):              # README -> int
        return len(self.timelines)

    def GetTimelineByIndex(self, i):         # README: 1 <= idx <= GetTimelineCount()
        return self.timelines[i - 1] if 1 <= i <= len(self.timelines) else None

    def GetMediaPool(self):                  # README -> MediaPool
        return self.pool


class ProjectManager(_Obj):
    def __init__(self, profile, project):
        self.profile, self.project = profile, project

    def GetCurrentProject(self):             # README -> Project
        return self.project


class Resolve(_Obj):
    EXPORT_EDL = 1
    EXPORT_NONE = 0

    def __init__(self, profile, project, fusion=None):
        self.profile = profile
        self.pm = ProjectManager(profile, project)
        self.fusion = fusion

    def GetProductName(self):                # README -> string
        return "DaVinci Resolve Studio" if self.profile.studio else "DaVinci Resolve"

    def GetVersion(self):                    # README -> [major, minor, patch, build, suffix]
        return list(self.profile.version) + [""]

    def GetVersionString(self):              # README -> "major.minor.patch[suffix].build"
        v = self.profile.version
        return f"{v[0]}.{v[1]}.{v[2]}.{v[3]}"

    def GetProjectManager(self):             # README -> ProjectManager
        return self.pm

    def Fusion(self):                        # README -> Fusion
        return self.fusion

