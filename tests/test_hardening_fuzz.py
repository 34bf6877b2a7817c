"""Fuzzing the readers a user's files reach: any input gives a result or one clear error."""
import json
import string

from hypothesis import HealthCheck, given, settings, strategies as st

from lipflap.errors import LipflapError
from lipflap.jobspec import parse_job
from lipflap.mouth.track import MouthTrack

json_scalars = st.none() | st.booleans() | st.integers(-10 ** 6, 10 ** 6) | \
    st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=20)
json_values = st.recursive(json_scalars, lambda inner: st.lists(inner, max_size=4) |
                           st.dictionaries(st.text(max_size=10), inner, max_size=4), max_leaves=12)
JOB_KEYS = ["video", "audio", "output", "start_frame", "end_frame", "in_tc", "out_tc", "fps", "audio_offset_s",
            "text", "transcript", "language", "face", "handles", "strength", "shapes", "report", "bogus"]
jobs = st.dictionaries(st.sampled_from(JOB_KEYS), json_values, max_size=8)


def _clear(e: Exception) -> None:
    msg = str(e)
    assert msg and "\n" not in msg and len(msg) < 600, msg


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(jobs | json_values)
def test_job_parser_never_crashes(data):
    try:
        job = parse_job(data)
    except LipflapError as e:
        _clear(e)
        return
    assert isinstance(job.video, str)
    assert job.start_frame is None or job.start_frame >= 0
    assert 0.0 <= job.strength <= 1.0


frame_entry = st.dictionaries(st.sampled_from(["frame", "time", "aperture", "width", "rounding", "jaw",
                                               "viseme", "shape", "x"]), json_values, max_size=6)
tracks = st.fixed_dictionaries({"fps": json_values, "frames": st.lists(frame_entry, max_size=6) | json_values},
                               optional={"phonemes": json_values, "cues": json_values, "warnings": json_values})


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tracks | json_values)
def test_mouth_track_reader_never_crashes(data):
    try:
        t = MouthTrack.from_json(json.dumps(data, allow_nan=True), name="edited.json")
    except LipflapError as e:
        _clear(e)
        assert "edited.json" in str(e)
        return
    for f in t.frames:
        for v in f.params():
            assert 0.0 <= v <= 1.0


@settings(max_examples=80, deadline=None)
@given(st.text(alphabet=string.printable + "éñ¿ü日本", max_size=200))
def test_mouth_track_reader_on_arbitrary_text(text):
    try:
        MouthTrack.from_json(text, name="t.json")
    except LipflapError as e:
        _clear(e)
