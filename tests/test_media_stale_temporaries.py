"""A run killed outright leaves a hidden temporary; the next write to that folder removes it,
but never a temporary that a live process (or another host) is still writing."""
import os
import subprocess
import sys

import numpy as np

from lipflap.media.encode import VideoWriter, _owner_tag


def _dead_pid() -> int:
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


def test_stale_temporaries_of_dead_runs_are_removed(tmp_path):
    host = _owner_tag().split(".")[0]
    dead = tmp_path / f".shot.lipflap-tmp-{host}.{_dead_pid()}-0123abcd.mov"
    live = tmp_path / f".shot.lipflap-tmp-{host}.{os.getppid()}-4567abcd.mov"
    other_host = tmp_path / f".shot.lipflap-tmp-farmnode7.{_dead_pid()}-89abcdef.mov"
    os.mkdir(tmp_path / "seq")
    dead_seq = tmp_path / "seq" / f".lipflap-tmp-{host}.{_dead_pid()}-fedcba98"
    for p in (dead, live, other_host):
        p.write_bytes(b"half a render")
    dead_seq.mkdir()
    (dead_seq / "f.000001.png").write_bytes(b"x")
    img = np.zeros((64, 64, 3), np.uint8)
    with VideoWriter(str(tmp_path / "shot.mov"), codec="prores_hq", fps=25, width=64, height=64) as w:
        w.write(img)
    assert not dead.exists()
    assert live.exists() and other_host.exists()
    with VideoWriter(str(tmp_path / "seq"), codec="png", fps=25, width=64, height=64) as w:
        w.write(img)
    assert not dead_seq.exists()
    assert (tmp_path / "shot.mov").exists()
