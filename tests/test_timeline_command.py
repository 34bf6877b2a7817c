"""`lipflap timeline`: a host's placements -> OTIO and CMX 3600 through conform's own writer."""
import json
import subprocess
import sys

import opentimelineio as otio

from lipflap.cli import main
from lipflap.contract.placements import PlacedMarker, Placement, Placements


def _placements(tmp_path, **kw) -> Placements:
    a, b = str(tmp_path / "Café 01_lipflap_es_v001.mov"), str(tmp_path / "B_lipflap_es_v001.mov")
    items = kw.pop("items", [Placement(b, 86448 + 24, 24, 90000), Placement(a, 86400, 48, 86404,
                                                                          markers=[PlacedMarker(86402, 3, "no_face")],
                                                                          metadata={"sync_score": 0.6})])
    return Placements(name="Reel 1 lipflap es", rate="24000/1001", start=86400, track="lipflap es",
                      language="es", placements=items, **kw)


def test_writes_otio_and_edl_with_markers(tmp_path, capsys):
    pl_path = tmp_path / "p.json"
    _placements(tmp_path).save(str(pl_path))
    out, edl = tmp_path / "cut.otio", tmp_path / "cut.edl"
    assert main(["timeline", str(pl_path), "-o", str(out), "--edl", str(edl), "--progress", "json"]) == 0
    result = json.loads(capsys.readouterr().out.splitlines()[-1])["result"]
    assert result["timeline"] == str(out) and result["edls"] == [str(edl)]
    tl = otio.adapters.read_from_file(str(out))
    track = tl.video_tracks()[0]
    assert track.name == "lipflap es" and track.metadata["lipflap"]["render_track"]
    clips = list(track.find_clips())
    assert [c.name for c in clips] == ["Café 01_lipflap_es_v001", "B_lipflap_es_v001"]
    assert clips[0].metadata["lipflap"] == {"sync_score": 0.6}
    marker = clips[0].markers[0]
    assert (marker.name, marker.marked_range.start_time.value, marker.marked_range.duration.value) == ("no_face", 86406, 3)
    text = edl.read_text()
    lines = text.splitlines()
    assert lines[1] == "FCM: NON-DROP FRAME"
    # Event 1 at the timeline's start 01:00:00:00, source = the render's own timecode.
    ev = [ln for ln in lines if ln.startswith("001")][0].split()
    assert ev[-4:] == ["01:00:00:04", "01:00:02:04", "01:00:00:00", "01:00:02:00"]
    ev2 = [ln for ln in lines if ln.startswith("002")][0].split()
    assert ev2[-2:] == ["01:00:03:00", "01:00:04:00"]  # after a 24-frame gap
    assert "* LOC: 01:00:00:06 RED" in text


def test_overlapping_placements_are_refused_in_one_sentence(tmp_path):
    a = str(tmp_path / "a.mov")
    pl = _placements(tmp_path, items=[Placement(a, 86400, 48, 0), Placement(a + "2", 86440, 10, 0)])
    pl.save(str(tmp_path / "p.json"))
    r = subprocess.run([sys.executable, "-m", "lipflap", "timeline", str(tmp_path / "p.json"), "-o",
                        str(tmp_path / "c.otio")], capture_output=True, text=True)
    assert r.returncode == 2
    msg = r.stderr.strip()
    assert msg.startswith("lipflap: error: ") and "overlaps" in msg and msg.count("\n") == 0
    assert not (tmp_path / "c.otio").exists()


def test_a_report_the_timeline_cannot_read_is_said_once(tmp_path, capsys):
    """A placement's report from a newer engine: the timeline is written, and the user hears once
    which report and what to do (the disclosure line is missing from the EDL)."""
    rep = tmp_path / "B_lipflap_es_v001.json"
    rep.write_text(json.dumps({"report_version": 99, "disclosure": {"lip_synced": True}}))
    b = str(tmp_path / "B_lipflap_es_v001.mov")
    pl_path = tmp_path / "p.json"
    _placements(tmp_path, items=[Placement(b, 86400, 24, 90000, metadata={"report": str(rep)})]
                ).save(str(pl_path))
    out, edl = tmp_path / "cut.otio", tmp_path / "cut.edl"
    assert main(["timeline", str(pl_path), "-o", str(out), "--edl", str(edl), "--progress", "json"]) == 0
    said = [json.loads(ln)["message"] for ln in capsys.readouterr().out.splitlines()
            if "message" in json.loads(ln)]
    about = [m for m in said if str(rep) in m]
    assert len(about) == 1 and "lipflap install" in about[0] and "LIP-SYNCED" in about[0]
    assert "LIP-SYNCED" not in edl.read_text()
