"""lipflap inside DaVinci Resolve: the controller behind Workspace > Scripts > lipflap Lip Sync.

The controller runs one engine process per clip (never inside Resolve's Python), polls it from
the dialog's timer so Resolve's UI stays live, places each finished render on a new track above
the originals, and at the end writes an EDL and an OTIO file of the renders. One clip's failure
is reported and the others go on.
"""
from __future__ import annotations

import json
import os
import sys
import time
from dataclasses import dataclass, field

from lipflap_contract.errors import LipflapError as TranscriptError
from lipflap_contract.rates import rate_string
from lipflap_contract.errors import LipflapError
from lipflap_contract.naming import report_path
from lipflap_contract.report import credentials_summary, read_report
from lipflap_contract.transcripts import load as load_transcripts, text_for_clip

from . import placement, settings as settings_mod, voices as voices_mod
from .timeline import (ClipPlan, PlanError, TimelineInfo, dub_from_audio_track, dub_from_file,
                       plan_clip, record_tc, select_items, timeline_info)


@dataclass
class ClipOutcome:
    plan: ClipPlan
    render: str = ""
    report: dict = field(default_factory=dict)
    placed: bool = False
    error: str = ""
    markers: list = field(default_factory=list)
    note: str = ""        # a clip the engine left as it is (by character: no voiced character shown)


def is_studio(resolve) -> bool:
    """Whether GetProductName says Studio; a build without the call reads as the free edition
    (only the wording of the no-dialog sentence depends on it). Other errors surface."""
    try:
        return "studio" in str(resolve.GetProductName()).lower()
    except AttributeError:
        return False


class Controller:
    """Headless core of the script: everything the dialog does, callable from tests."""

    def __init__(self, resolve, hostclient, engine: list[str] | None = None, log=print):
        self.resolve = resolve
        self.hostclient = hostclient
        self.engine = engine
        self.log = log
        project = resolve.GetProjectManager().GetCurrentProject()
        if not project:
            raise PlanError("no project is open; open a project with a timeline first.")
        self.project = project
        self.timeline = project.GetCurrentTimeline()
        if not self.timeline:
            raise PlanError("the project has no current timeline; open one on the Edit page.")
        self.media_pool = project.GetMediaPool()
        self.info: TimelineInfo = timeline_info(self.timeline)
        try:
            version = resolve.GetVersion()
        except AttributeError:
            version = None
        self.end_convention = placement.EndConvention.for_version(version)
        self.queue: list[ClipPlan] = []
        self.outcomes: list[ClipOutcome] = []
        self.current = None          # (plan, EngineRun, render path, report path)
        self.progress = (0, 0, "")
        self.progress_events: list = []
        self.running = (None, "")   # (record start, name) of the clip the engine works on
        self.track_index = None
        self.bin = None
        self.settings = None
        self.cancelled = False
        self.finished = False
        self.summary_paths: dict = {}
        self.faces: list = []        # the faces of the analysed clip (voices_mod.FaceThumb)
        self.face_run = None         # (EngineRun, analysis path, plan) while faces are being found
        self.faces_note = ""         # what the last Find faces found, or why it failed
        self.cast_file = ""          # the cast the last Find faces by character wrote

    # -- planning -------------------------------------------------------------------------
    def plan(self, s) -> list[ClipPlan]:
        transcripts = load_transcripts(s.transcripts) if s.transcripts else None
        # Dialogue: each face's track, found by name once (a missing name stops the start).
        mapped = voices_mod.mapped_tracks(self.timeline, s.voices) if s.voices else None
        plans = []
        for track, item in select_items(self.timeline, s.scope, s.video_track):
            p = plan_clip(self.info, track, item)
            for note in p.notes:
                self.log(f"lipflap: {note}")
            if not p.error:
                try:
                    if mapped is not None:
                        p.voices = voices_mod.clip_voices(self.info, self.timeline, mapped, p)
                    else:
                        p.dub = (dub_from_audio_track(self.info, self.timeline, s.dub_track, p)
                                 if s.dub_kind == "track" else dub_from_file(self.info, s.dub_file, s.dub_start_tc, p))
                except PlanError as e:
                    p.error = str(e)
            if not p.error and transcripts is not None:
                p.text = text_for_clip(transcripts, p.name, record_tc(self.info, p.record_start))
            elif not p.error:
                p.text = s.text if s.scope == "current" else ""
            plans.append(p)
        return plans

    def job_for(self, plan: ClipPlan, s) -> tuple[dict, str, str]:
        clip = os.path.splitext(os.path.basename(plan.path))[0]
        render = self.hostclient.next_version_path(s.output_dir, clip, s.language or None, "mov")
        report = report_path(render)
        job = {"video": plan.path, "start_frame": plan.source_start, "end_frame": plan.source_end,
               "fps": rate_string(plan.clip_rate),
               "output": {"path": render, "mode": s.mode, "codec": s.codec},
               "handles": int(s.handles), "report": report}
        if plan.voices:
            # Dialogue (docs/job.md): the dubs, offsets and faces (or characters) go inside "voices".
            job["voices"] = voices_mod.voices_job(plan.voices, s.language, by_character=bool(s.cast_file))
            if s.cast_file:
                job["cast_file"] = os.path.abspath(s.cast_file)
        else:
            job.update({"audio": plan.dub.path, "audio_offset_s": round(plan.dub.offset_s, 6), "face": s.face})
        if s.language:
            job["language"] = s.language
        if getattr(plan, "text", ""):
            job["text"] = plan.text
        return job, render, report

    # -- running --------------------------------------------------------------------------
    def start(self, s) -> list[str]:
        """Validate settings and queue the clips; returns the problems that stop a start."""
        problems = s.problems()
        if problems:
            return problems
        try:
            plans = self.plan(s)
        except (PlanError, TranscriptError) as e:
            return [str(e)]
        if not plans:
            return ["no clips to process with these settings"]
        os.makedirs(s.output_dir, exist_ok=True)
        self.settings = s
        self.queue = plans
        self.outcomes = []
        self.cancelled = self.finished = False
        self.bin = placement.find_bin(self.media_pool, f"lipflap {s.language or 'dub'}")
        return []

    # -- the faces of a clip, for mapping voices ---------------------------------------------
    def start_faces(self, s, by_character: bool = False) -> list[str]:
        """Start the engine's analysis of the first chosen clip (its faces and their pictures),
        or (by character) `lipflap cast` over every chosen clip's media; returns the problems that
        stop it. `faces_tick` follows it."""
        if not s.output_dir:
            return ["choose an output folder first (the face pictures are written there)"]
        try:
            # The clips alone: their dubs are not needed to see their faces.
            plans = [p for p in (plan_clip(self.info, t, it) for t, it in
                                 select_items(self.timeline, s.scope, s.video_track)) if not p.error]
        except PlanError as e:
            return [str(e)]
        if not plans:
            return ["no clip with media to find faces in with these settings"]
        plan = plans[0]
        if by_character:
            folder = voices_mod.cast_folder(s.output_dir)
            path = os.path.join(folder, "cast.json")
            args = voices_mod.cast_args(plans, path, folder)
        else:
            path, folder = voices_mod.faces_folder(s.output_dir, plan)
            args = voices_mod.analysis_args(plan, path, folder)
        os.makedirs(folder, exist_ok=True)
        self.faces, self.faces_note, self.cast_file = [], "", ""
        try:
            run = self.hostclient.EngineRun(args, engine=self.engine, on_progress=self._on_progress)
        except (RuntimeError, OSError) as e:
            return [str(e)]
        self.running = (plan.record_start, plan.name if not by_character else f"{len(plans)} clip(s)")
        self.face_run = (run, path, plans if by_character else plan)
        return []

    def faces_tick(self) -> bool:
        """Advance Find faces; False when it is over (`faces` filled, `faces_note` says what)."""
        if self.face_run is None:
            return False
        run, analysis, plan = self.face_run
        if run.poll() is None:
            return True
        self.face_run = None
        result = run.wait(10)
        if isinstance(plan, list):
            return self._cast_found(result, analysis, plan)
        where = f"clip '{plan.name}' at {record_tc(self.info, plan.record_start)}"
        if not result.ok:
            self.faces_note = f"finding the faces of {where} failed: {result.error}"
            return False
        try:
            self.faces = voices_mod.read_faces(analysis, lambda s: self.log(f"lipflap: {s}"))
        except PlanError as e:
            self.faces_note = str(e)
            return False
        self.faces_note = (f"{len(self.faces)} face(s) in {where}: "
                           + "; ".join(f.caption() for f in self.faces) if self.faces else
                           f"no face found in {where}; choose a clip that shows the speakers.")
        return False

    def _cast_found(self, result, cast_path: str, plans) -> bool:
        """`lipflap cast` is over: `faces` are its characters (voices_mod.CastThumb) and
        `cast_file` the file the clips' jobs name."""
        where = f"the media of {len(plans)} chosen clip(s)"
        if not result.ok:
            self.faces_note = f"finding the characters in {where} failed: {result.error}"
            return False
        try:
            self.faces = voices_mod.read_cast(result.result, cast_path)
        except PlanError as e:
            self.faces_note = str(e)
            return False
        self.cast_file = cast_path
        self.faces_note = (f"{len(self.faces)} character(s) in {where} (cast {cast_path}): "
                           + "; ".join(f.caption() for f in self.faces))
        return False

    def tick(self) -> bool:
        """Advance the work by one step; returns False when everything is done."""
        if self.finished:
            return False
        if self.current is not None:
            plan, run, render, report_path = self.current
            if run.poll() is None:
                return True
            self._collect(plan, run.wait(10), render, report_path)
            self.current = None
        while self.queue and not self.cancelled:
            plan = self.queue.pop(0)
            if plan.error:
                self._fail(plan, plan.error)
                continue
            job, render, report_path = self.job_for(plan, self.settings)
            job_path = os.path.splitext(render)[0] + ".job.json"
            self.log(f"lipflap: {plan.name}: frames {plan.source_start}-{plan.source_end} -> {os.path.basename(render)}")
            self.progress = (0, 0, "")
            self.running = (plan.record_start, plan.name)
            try:
                run = self.hostclient.run_job(job, job_path, engine=self.engine, on_progress=self._on_progress)
            except (RuntimeError, OSError) as e:
                self._fail(plan, str(e))
                continue
            self.current = (plan, run, render, report_path)
            return True
        if self.cancelled:
            for plan in self.queue:
                self._fail(plan, "cancelled before it started")
            self.queue = []
        self._finish()
        return False

    def run_all(self, poll_s: float = 0.1) -> list[ClipOutcome]:
        while self.tick():
            time.sleep(poll_s)
        return self.outcomes

    def cancel(self) -> None:
        self.cancelled = True
        if self.current is not None:
            self.current[1].cancel()
        if self.face_run is not None:
            self.face_run[0].cancel()

    def _on_progress(self, stage: str, done: int, total: int) -> None:
        # Called from the engine client's reader thread: only plain assignments and appends here;
        # hosts read them from their own thread (the dialog's timer, the console loop).
        self.progress = (done, total, stage)
        self.progress_events.append((*self.running, stage, done, total))

    def _fail(self, plan: ClipPlan, message: str) -> None:
        self.log(f"lipflap: {plan.name}: {message}")
        # SetClipColor answers False for a colour outside the README's set or a locked track.
        if not plan.item.SetClipColor(placement.COLOR_FAILED):
            self.log(f"lipflap: {plan.name}: Resolve would not colour the clip {placement.COLOR_FAILED}.")
        self.outcomes.append(ClipOutcome(plan, error=message))

    def _collect(self, plan: ClipPlan, result, render: str, report_path: str) -> None:
        if not result.ok:
            self._fail(plan, result.error)
            return
        report = self._read_report(plan, report_path)
        if report.get("output", "") is None and report.get("not_rendered"):
            # By character, none of the voiced characters is in the clip: nothing to place.
            self.log(f"lipflap: {plan.name}: {report['not_rendered']}")
            self.outcomes.append(ClipOutcome(plan, report=report, note=str(report["not_rendered"])))
            return
        if not os.path.exists(render):
            self._fail(plan, f"the engine finished but {render} is missing")
            return
        if self.track_index is None:
            self.track_index = placement.add_video_track(self.timeline)
        placed = placement.place_render(self.project, self.timeline, self.info, plan, render, report,
                                        self.track_index, self.bin, self.settings.mode, self.end_convention)
        outcome = ClipOutcome(plan, render, report, placed.ok, "" if placed.ok else placed.message, placed.markers)
        if placed.message:  # why it was not placed, or what Resolve refused on a placed render
            self.log(f"lipflap: {plan.name}: {placed.message}")
        self.outcomes.append(outcome)

    def _read_report(self, plan: ClipPlan, report_path: str) -> dict:
        """The engine's run report, checked once by the contract's reader; one that cannot be
        read is said in the console (its flagged ranges would be lost), never skipped silently."""
        try:
            report = read_report(report_path)
        except LipflapError as e:
            self.log(f"lipflap: {plan.name}: {e} The render is placed without flagged ranges.")
            return {}
        return report.to_dict()

    def _finish(self) -> None:
        self.finished = True
        done = [o for o in self.outcomes if o.render]
        if done:
            from .edl import write_render_list  # noqa: PLC0415 - only needed at the end
            self.summary_paths = write_render_list(self, done)
        self.log(self.summary())

    def summary(self) -> str:
        ok = sum(1 for o in self.outcomes if o.placed)
        failed = [o for o in self.outcomes if o.error]
        lines = [f"lipflap: {ok} of {len(self.outcomes)} clip(s) lip-synced and placed"
                 + (f" on V{self.track_index}" if self.track_index else "") + "."]
        rendered = [o for o in self.outcomes if o.render]
        if rendered:
            # That the renders are lip-synced and who signed their credentials (issue 20): the
            # dialog's result and the console of a run without one both show this summary.
            lines.append("  " + credentials_summary(placement.run_report(o.report) for o in rendered))
        for o in rendered:
            # Dialogue: every face its own figures and flagged ranges (the report's "voices").
            for v in placement.run_report(o.report).voices:
                lines.append(f"  {o.plan.name} at {record_tc(self.info, o.plan.record_start)}, {v.line()}")
        for o in rendered:
            # By character: whom the engine voiced, and who speaks off screen (not lip-synced).
            for said in voices_mod.cast_outcome_lines(o.report):
                lines.append(f"  {o.plan.name} at {record_tc(self.info, o.plan.record_start)}: {said}")
        for o in self.outcomes:
            if o.note:
                lines.append(f"  {o.plan.name} at {record_tc(self.info, o.plan.record_start)}: left as it is: {o.note}")
        for o in failed:
            lines.append(f"  {o.plan.name} at {record_tc(self.info, o.plan.record_start)}: {o.error}")
        for key, path in self.summary_paths.items():
            lines.append(f"  {key}: {path}")
        return "\n".join(lines)


def find_resolve(resolve, fusion, bmd):
    """Resolve's scripting object: the `resolve` global, else bmd.scriptapp("Resolve") (README,
    "Using a script"), else fusion.GetResolve(); None when none answers."""
    if resolve is not None:
        return resolve
    for get in (lambda: bmd.scriptapp("Resolve"), lambda: fusion.GetResolve()):
        try:
            found = get()
        except Exception:  # noqa: BLE001 - a missing global or method just means "try the next"
            found = None
        if found is not None:
            return found
    return None


def has_dialogs(fusion) -> bool:
    """From 19.1 the free edition gives scripts fusion.UIManager = None (measured)."""
    return fusion is not None and getattr(fusion, "UIManager", None) is not None


def sandbox_note() -> str:
    """The Mac App Store build runs sandboxed (its home is a container): paths outside it fail."""
    home = os.path.expanduser("~")
    if sys.platform == "darwin" and "/Library/Containers/" in home:
        return ("lipflap: this is the Mac App Store build of Resolve, which is sandboxed: files outside "
                f"{home} may be refused, so keep the footage, the dub and the output folder there, or use "
                "the build from Blackmagic's website.")
    return ""


def no_dialog_note(resolve, used: str | None, to_write: str, saved: str) -> str:
    """The free edition's one console sentence: no dialog, which settings file the run uses (or
    that there is none), how to write one, and the round trip that needs no script."""
    edition = "the free edition of DaVinci Resolve" if not is_studio(resolve) else "this DaVinci Resolve"
    source = f"from the settings in {used}" if used else "from a settings file, and there is none yet"
    fallback = f"; without it the dialog's last saved {saved} is used" if saved != to_write else ""
    return (f"lipflap: {edition} gives scripts no dialogs (fusion.UIManager is None), so lipflap runs here "
            f"without one {source}, printing its progress in this console (to choose the settings, write "
            f"{to_write} with the dialog's keys, e.g. {{\"output_dir\": \"/renders\", \"dub_track\": 2, "
            f"\"language\": \"es\"}}, and run the script again{fallback}); or use the round trip Resolve "
            f"does natively: File > Export > Timeline (OpenTimelineIO), `lipflap conform CUT.otio -o RENDERS`, "
            f"then File > Import > Timeline.")


def run_without_dialog(controller: Controller, config_dir: str, script_dir: str | None = None,
                       log=print) -> Controller:
    """The free edition's run: lipflap_settings.json next to the script, else the last saved
    settings; progress lines in Resolve's console."""
    candidates = settings_mod.headless_paths(config_dir, script_dir)
    path = next((p for p in candidates if os.path.isfile(p)), None)
    log(no_dialog_note(controller.resolve, path, candidates[0], candidates[-1]))
    if path is None:
        return controller
    s, unusable = settings_mod.read(path)
    problems = unusable + controller.start(s)
    if problems:
        log(f"lipflap: cannot start with {path}: {'; '.join(problems)}.")
        return controller
    controller.log = log
    shown = set()

    def report():
        while controller.progress_events:
            at, name, stage, done, total = controller.progress_events.pop(0)
            quarter = (4 * done // total) if total else 0
            if total and (at, stage, quarter) not in shown:   # a line per clip, stage and quarter
                shown.add((at, stage, quarter))
                log(f"lipflap: {name}: {stage} {done}/{total}")
    while True:
        report()
        if not controller.tick():
            break
        time.sleep(0.1)
    report()
    return controller


def main(resolve, fusion, bmd, hostclient, engine=None, config_dir=None, script_dir=None):
    """Entry point from the installed menu script (Resolve's globals passed in, any may be None;
    `script_dir`, the script's own folder, where a run without a dialog looks for its settings)."""
    resolve = find_resolve(resolve, fusion, bmd)
    if resolve is None:
        print("lipflap: Resolve's scripting object is not available here; run lipflap from "
              "Workspace > Scripts inside DaVinci Resolve.")
        return None
    note = sandbox_note()
    if note:
        print(note)
    config_dir = config_dir or hostclient.user_config_dir()
    try:
        controller = Controller(resolve, hostclient, engine=engine)
    except PlanError as e:
        print(f"lipflap: {e}")
        return None
    if not has_dialogs(fusion):
        return run_without_dialog(controller, config_dir, script_dir)
    from .dialog import Dialog  # noqa: PLC0415 - only where there is a UIManager
    dialog = Dialog(fusion, bmd, controller, settings_mod.load(config_dir), config_dir)
    dialog.run()
    return controller
