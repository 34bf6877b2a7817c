"""Face Mesh's start-up chatter stays off fd 2 when the still looks start and find their first face.

The still-image Face Mesh's graph opens its two models on threads of its own after the constructor
returns, each writing a feedback-manager warning straight to fd 2, and with the first image in
which it finds a face it writes a landmark-projection warning. The hosts read lipflap's stderr for
its one-sentence errors, so none of those lines may reach it (they did on every fresh analysis of
`lipflap demo`). The capture spans the start: the warnings came after the constructor returned."""
import time

import numpy as np


def test_still_mesh_keeps_start_up_chatter_off_stderr(capfd, monkeypatch):
    from skimage import data
    from lipflap.render.seen import still_mesh
    monkeypatch.delenv("LIPFLAP_DEBUG", raising=False)
    capfd.readouterr()
    mesh = still_mesh()
    time.sleep(0.3)     # in a run the looks come frames after the start
    try:
        blank = np.zeros((256, 256, 3), np.uint8)
        assert not mesh.process(blank).multi_face_landmarks      # no face
        found = [bool(mesh.process(data.astronaut()).multi_face_landmarks) for _ in range(2)]
    finally:
        mesh.close()
    assert all(found), "the astronaut's face was not found"
    err = capfd.readouterr().err
    assert "Feedback manager" not in err, err
    assert "landmark_projection" not in err, err
