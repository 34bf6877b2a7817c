"""A fake of DaVinci Resolve's scripting object model, written from its scripting README.

Reproduced behaviours: 1-based track indexes (out of range -> None), GetEnd exclusive,
GetLeftOffset as the in-point in source frames, rates and timecodes as strings,
AppendToTimeline with an exclusive endFrame that silently drops a placement overlapping an item
already on the track, timeline markers addressed from the timeline's first frame (refused past
its end), GetProductName telling the free edition from Studio, Studio-only calls answering False
in the free edition. Every call is recorded in `calls` so tests can check what the script did.
"""
from __future__ import annotations

import os

STUDIO_ONLY = {"GetCurrentClipThumbnailImage", "AnalyzeDolbyVision"}


class _Recorder:
    calls: list = []

    def _log(self, name, *args):
        _Recorder.calls.append((type(self).__name__, name, args))


class MediaPoolItem(_Recorder):
    def __init__(self, path, fps="23.976", start_tc="00:00:00:00", frames=0, name=None):
        self.props = {"File Path": path, "FPS": fps, "Start TC": start_tc, "Frames": str(frames),
                      "Clip Name": name or os.path.basename(path)}
        self.frames = frames

    def GetName(self):
        return self.props["Clip Name"]

    def GetClipProperty(self, key=None):
        self._log("GetClipProperty", key)
        return dict(self.props) if key is None else self.props.get(key, "")

    def SetClipProperty(self, key, value):
        self._log("SetClipProperty", key, value)
        self.props[key] = value
        return True


class TimelineItem(_Recorder):
    def __init__(self, mpi, start, end, left_offset=0, name=None, source_span=None):
        self.mpi, self.start, self.end, self.left = mpi, start, end, left_offset
        self.name = name or (mpi.GetName() if mpi else "Title")
        self.color = ""
        self.source_span = source_span if source_span is not None else end - start

    def GetName(self):
        return self.name

    def GetStart(self):
        return self.start

    def GetEnd(self):
        return self.end

    def GetDuration(self):
        return self.end - self.start

    def GetLeftOffset(self):
        return self.left

    def GetSourceStartFrame(self):
        # The README's caveat: this can be one frame off the true in-point.
        return self.left + 1

    def GetSourceEndFrame(self):
        return self.left + self.source_span

    def GetMediaPoolItem(self):
        return self.mpi

    def SetClipColor(self, color):
        self._log("SetClipColor", color)
        self.color = color
        return True

    def GetClipColor(self):
        return self.color


class Timeline(_Recorder):
    def __init__(self, name="Cut", rate="23.976", drop=False, start_tc="01:00:00:00", start_frame=86400,
                 video_tracks=1, audio_tracks=1, mark_in_out=None):
        self.name, self.rate, self.drop = name, rate, drop
        self.start_tc, self.start_frame = start_tc, start_frame
        self.tracks = {"video": [[] for _ in range(video_tracks)], "audio": [[] for _ in range(audio_tracks)]}
        self.markers = {}
        self.current_item = None
        self.mark_in_out = mark_in_out

    def GetName(self):
        return self.name

    def GetSetting(self, key):
        return {"timelineFrameRate": self.rate, "timelineDropFrameTimecode": "1" if self.drop else "0"}.get(key, "")

    def GetStartFrame(self):
        return self.start_frame

    def GetEndFrame(self):
        ends = [it.end for tr in self.tracks["video"] + self.tracks["audio"] for it in tr]
        return max(ends, default=self.start_frame)

    def GetStartTimecode(self):
        return self.start_tc

    def GetTrackCount(self, kind):
        return len(self.tracks.get(kind, []))

    def GetItemListInTrack(self, kind, index):
        self._log("GetItemListInTrack", kind, index)
        tracks = self.tracks.get(kind, [])
        if not 1 <= index <= len(tracks):
            return None
        return sorted(tracks[index - 1], key=lambda it: it.start)

    def AddTrack(self, kind, sub=None):
        self._log("AddTrack", kind, sub)
        self.tracks[kind].append([])
        return True

    def GetCurrentVideoItem(self):
        return self.current_item

    def GetMarkInOut(self):
        return self.mark_in_out or {}

    def AddMarker(self, frame_id, color, name, note, duration, custom=""):
        self._log("AddMarker", frame_id, color, name, note, duration, custom)
        if frame_id in self.markers or frame_id < 0 or frame_id >= self.GetEndFrame() - self.start_frame:
            return False
        self.markers[frame_id] = {"color": color, "name": name, "note": note, "duration": duration,
                                  "customData": custom}
        return True

    def GetMarkers(self):
        return dict(self.markers)

    def add(self, kind, track, item):
        self.tracks[kind][track - 1].append(item)
        return item


class Folder(_Recorder):
    def __init__(self, name):
        self.name, self.subfolders, self.clips = name, [], []

    def GetName(self):
        return self.name

    def GetSubFolderList(self):
        return list(self.subfolders)

    def GetClipList(self):
        return list(self.clips)


class MediaPool(_Recorder):
    def __init__(self, project, frame_counter=None):
        self.project = project
        self.root = Folder("Master")
        self.current = self.root
        self.frame_counter = frame_counter or (lambda path: 10 ** 6)

    def GetRootFolder(self):
        return self.root

    def AddSubFolder(self, parent, name):
        self._log("AddSubFolder", parent.name, name)
        f = Folder(name)
        parent.subfolders.append(f)
        return f

    def SetCurrentFolder(self, folder):
        self.current = folder
        return True

    def GetCurrentFolder(self):
        return self.current

    def ImportMedia(self, paths):
        self._log("ImportMedia", list(paths))
        out = []
        for p in paths:
            if not os.path.exists(p):
                continue
            mpi = MediaPoolItem(p, frames=self.frame_counter(p))
            self.current.clips.append(mpi)
            out.append(mpi)
        return out

    def AppendToTimeline(self, infos):
        self._log("AppendToTimeline", infos)
        tl = self.project.timeline
        out = []
        for info in infos:
            mpi, s, e = info["mediaPoolItem"], int(info["startFrame"]), int(info["endFrame"])
            track = int(info.get("trackIndex", 1))
            rec = int(info.get("recordFrame", tl.GetEndFrame()))
            if e <= s or s < 0 or e > mpi.frames or not 1 <= track <= tl.GetTrackCount("video"):
                continue
            new_end = rec + (e - s)
            if any(it.start < new_end and rec < it.end for it in tl.tracks["video"][track - 1]):
                continue  # Resolve drops overlapping placements without a word
            out.append(tl.add("video", track, TimelineItem(mpi, rec, new_end, s)))
        return out


class Project(_Recorder):
    def __init__(self, timeline, frame_counter=None):
        self.timeline = timeline
        self.pool = MediaPool(self, frame_counter)

    def GetName(self):
        return "Dub"

    def GetCurrentTimeline(self):
        return self.timeline

    def GetMediaPool(self):
        return self.pool


class ProjectManager:
    def __init__(self, project):
        self.project = project

    def GetCurrentProject(self):
        return self.project


class Resolve(_Recorder):
    EXPORT_EDL = 1
    EXPORT_NONE = 0

    def __init__(self, project, studio=False):
        self.pm = ProjectManager(project)
        self.studio = studio

    def GetProductName(self):
        return "DaVinci Resolve Studio" if self.studio else "DaVinci Resolve"

    def GetProjectManager(self):
        return self.pm

    def __getattr__(self, name):
        if name in STUDIO_ONLY:
            return lambda *a, **k: self.studio and None
        raise AttributeError(name)
