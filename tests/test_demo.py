"""`lipflap demo` end to end, small: short lines at 256 px so the whole pipeline runs in about
half a minute on two cores (the real demo is the same code with the default lines and size)."""
from __future__ import annotations

import json
import os
import re

from lipflap.media.probe import probe
from lipflap.contract.progress import Progress


def test_demo_end_to_end(tmp_path):
    from lipflap.commands.demo import NAMES, describe, run_demo
    out = tmp_path / "demo"
    res = run_demo(str(out), Progress("none"), english="Hello, mom.", spanish="Hola, mamá.",
                   size=256)
    for key, name in NAMES.items():
        assert (out / name).is_file(), key
    src, dst, prev = (probe(str(out / NAMES[k])) for k in ("source", "output", "preview"))
    n = res["frames"]
    assert src.frame_count == dst.frame_count == prev.frame_count == n
    assert (dst.width, dst.height) == (256, 256)
    assert prev.width == 2 * 256 + 8 and prev.audio, "preview: side by side, with the dub's sound"
    qc = json.load(open(out / NAMES["qc_json"]))
    f = qc["figures"]
    assert f["frames_dropped"]["value"] == 0 and f["frames_added"]["value"] == 0
    assert f["face_found"]["value"] >= 0.9
    assert f["psnr_outside_lower_face_db"]["value"] >= 40
    assert f["bilabial_closure"]["n"] >= 2          # m, m of "mamá"
    html = open(out / NAMES["qc_html"], encoding="utf-8").read()
    assert html.count("data:image/png;base64,") == 3 and not re.search(r"https?://", html)
    run = json.load(open(out / NAMES["run_report"]))
    assert run["frames_rendered"] > 0
    text = describe({**res, "seconds": 1.0})
    assert str(out / NAMES["preview"]) in text and res["verdict"] in text
    # nothing else is left in the folder (intermediates live in work/)
    assert sorted(os.listdir(out)) == sorted(list(NAMES.values()) + ["work"])
