"""One naming rule: what the Resolve script renders, conform plans and lipflap_relink finds."""
import json
import os
import subprocess
import sys

import pytest

import lipflap_resolve  # noqa: F401 - loads the engine's contract package by path as lipflap_contract
from lipflap.contract.naming import clip_base, next_version, next_version_path, report_path, safe_name
from tests.fakes import resolve as fr
from tests.mediagen import make_clip


def test_unicode_names_survive_and_one_rule_serves_all():
    assert clip_base("Café 01.mov") == "Café_01"
    assert clip_base("Cafe\u0301 01") == "Café_01"   # a macOS (NFD) file name, the same stem
    assert clip_base("It's a take.mov") == "It_s_a_take"
    assert clip_base("../..") == "clip"
    assert safe_name("pt-BR") == "pt-BR"
    import lipflap_contract
    assert lipflap_contract.naming.clip_base is not clip_base                    # loaded by path ...
    assert lipflap_contract.naming.__file__ == sys.modules[clip_base.__module__].__file__  # ... same file


def test_versions_count_past_names_with_dots(tmp_path):
    # A name with a dot once hid every earlier version (the old rule split at the first dot).
    first = next_version_path(str(tmp_path), "A.001", "es", "mov")
    assert os.path.basename(first) == "A.001_lipflap_es_v001.mov"
    open(first, "w").close()
    assert os.path.basename(next_version_path(str(tmp_path), "A.001", "es", "mov")) == "A.001_lipflap_es_v002.mov"
    os.mkdir(tmp_path / "A.001_lipflap_es_v005")  # an image-sequence folder counts too
    assert next_version(str(tmp_path), "A.001", "es") == 6


@pytest.mark.parametrize("clip_name", ["Café 01.mov", "It's a take.mov"])
def test_a_render_named_by_the_resolve_script_is_found_by_lipflap_relink(tmp_path, clip_name):
    import opentimelineio as otio
    from opentimelineio import opentime

    from lipflap_otio.linker import link_media_reference
    from lipflap_resolve.app import Controller
    from lipflap_resolve.settings import Settings
    from lipflap_resolve.timeline import plan_clip, timeline_info

    import lipflap_contract
    media = tmp_path / "media"
    media.mkdir()
    src = str(media / clip_name)
    make_clip(src, fps="24", frames=60, timecode="01:00:00:00")
    profile = fr.PROFILES["20 Studio"]
    tl = fr.Timeline(profile, "Cut", rate="24", start_tc="01:00:00:00", start_frame=86400)
    mpi = fr.MediaPoolItem(profile, src, fps="24", start_tc="01:00:00:00", frames=60)
    tl.fake_clip("video", 1, mpi, 86400, 86424, 10)
    c = Controller(fr.Resolve(profile, fr.Project(profile, [tl])), lipflap_contract, engine=[sys.executable],
                   log=lambda s: None)
    plan = plan_clip(timeline_info(tl), 1, tl.GetItemListInTrack("video", 1)[0])
    plan.dub = type("Dub", (), {"path": src, "offset_s": 0.0})()
    s = Settings(scope="track", video_track=1, dub_kind="track", dub_track=1, language="es", mode="full",
                 codec="prores_hq", handles=0, output_dir=str(tmp_path / "renders"))
    os.makedirs(s.output_dir)
    _job, render, _report = c.job_for(plan, s)
    assert os.path.basename(render) == clip_base(clip_name) + "_lipflap_es_v001.mov"
    # The render the engine would write: the cut's frames in the source's own timecode.
    make_clip(render, fps="24", frames=24, timecode="01:00:00:10")
    clip = otio.schema.Clip(name=clip_name, media_reference=otio.schema.ExternalReference(target_url=src),
                            source_range=opentime.TimeRange(opentime.RationalTime(86410, 24),
                                                            opentime.RationalTime(24, 24)))
    new = link_media_reference(clip, {"renders": s.output_dir, "language": "es"})
    assert new.target_url == os.path.abspath(render)
    assert clip.metadata["lipflap"]["version"] == 1


def test_conform_imports_without_the_otio_plugin():
    code = ('import sys; sys.modules["lipflap_otio"] = None\n'
            'import lipflap.conform, lipflap.conform.plan, lipflap.conform.assemble, '
            'lipflap.conform.joblist, lipflap.conform.runner, lipflap.commands.conform, '
            'lipflap.commands.timeline\n'
            'print(lipflap.conform.conform.__module__)')
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "lipflap.conform.cut"


def test_engine_code_never_imports_the_otio_plugin():
    import ast
    core = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "core")
    bad = []
    for root, _dirs, files in os.walk(core):
        for f in files:
            if f.endswith(".py"):
                path = os.path.join(root, f)
                for node in ast.walk(ast.parse(open(path, encoding="utf-8").read())):
                    names = ([a.name for a in node.names] if isinstance(node, ast.Import) else
                             [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
                    if any(n.split(".")[0] == "lipflap_otio" for n in names):
                        bad.append(os.path.relpath(path, core))
    assert not bad, bad


def test_placements_round_trip(tmp_path):
    from lipflap.contract.errors import JobError
    from lipflap.contract.placements import PlacedMarker, Placement, Placements
    pl = Placements(name="Reel 1", rate="24000/1001", start=86400, language="es",
                    placements=[Placement("/r/a.mov", 86410, 24, 86400, markers=[PlacedMarker(86412, 2, "no_face")])])
    p = tmp_path / "p.json"
    pl.save(str(p))
    assert Placements.load(str(p)) == Placements.from_dict(json.loads(p.read_text()))
    assert Placements.load(str(p)).placements[0].markers == [PlacedMarker(86412, 2, "no_face")]
    bad = pl.to_dict()
    bad["placements"][0]["duration"] = "24"
    with pytest.raises(JobError, match="placement 1: \"duration\""):
        Placements.from_dict(bad, "p.json")


@pytest.mark.parametrize("language", ["pt_BR", "zh.Hans", "sr-Latn", "日本語"])
def test_any_language_the_name_rule_keeps_is_found_when_none_is_given(language):
    """language_tag keeps `_` and `.` (and letters of any script); the relinker's any-language
    pattern must find what it writes, or a `pt_BR` render is never relinked without --language."""
    from lipflap.contract.naming import movie_render_re, render_stem
    for tagged in ("A001", "A001_01000012"):
        name = render_stem(tagged, language, 3) + ".mov"
        m = movie_render_re("A001").match(name)
        assert m and m.group("lang") == language and m.group("ver") == "003", name
        assert movie_render_re("A001", language).match(name)
    assert not movie_render_re("A001").match("A001_lipflap__v001.mov")


def test_report_names_follow_the_render():
    """The one rule `lipflap run` writes a render's report by, conform names it by and `lipflap
    qc`, the hosts and the OTIO linker look for it by."""
    assert report_path("renders/shot_lipflap_es_v001.mov") == os.path.join(
        "renders", "shot_lipflap_es_v001.json")
    assert report_path("/r/A001.C002_lipflap_es_v001") == "/r/A001.C002_lipflap_es_v001.json"
    assert report_path("/r/A001.C002_lipflap_es_v001.MOV") == "/r/A001.C002_lipflap_es_v001.json"
    assert report_path("out/shot_%04d.png") == os.path.join("out", "shot.json")
    assert report_path("out/%06d.exr") == "out.json"
    # a clip name with dots, rendered as a sequence folder: only a render's extension goes
    assert report_path("/r/A001.C002_lipflap_es_v001/") == "/r/A001.C002_lipflap_es_v001.json"
