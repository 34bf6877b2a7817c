"""Face Mesh's start-up chatter stays off fd 2 when the still looks find their first face.

The still-image Face Mesh's landmark models start, and MediaPipe writes its feedback-manager
warnings straight to fd 2, with the first image in which it finds a face. The hosts read
lipflap's stderr for its one-sentence errors, so those lines must not reach it (they did on every
fresh analysis of `lipflap demo`)."""
import numpy as np


def test_still_mesh_keeps_start_up_chatter_off_stderr(capfd, monkeypatch):
    from skimage import data
    from lipflap.render.seen import still_mesh
    monkeypatch.delenv("LIPFLAP_DEBUG", raising=False)
    mesh = still_mesh()
    try:
        capfd.readouterr()
        blank = np.zeros((256, 256, 3), np.uint8)
        assert not mesh.process(blank).multi_face_landmarks      # no face: nothing starts yet
        found = [bool(mesh.process(data.astronaut()).multi_face_landmarks) for _ in range(2)]
    finally:
        mesh.close()
    assert all(found), "the astronaut's face was not found"
    err = capfd.readouterr().err
    assert "Feedback manager" not in err, err
