"""Fuzzing the readers a user's files reach: any input gives a result or one clear error."""
import json
import os
import shutil
import string

import pytest

from hypothesis import HealthCheck, given, settings, strategies as st

from lipflap.contract.errors import LipflapError
from lipflap.contract.jobspec import parse_job
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


# ---- transcripts (lipflap conform --transcripts) -------------------------------------------

tc_like = st.from_regex(r"\A\d{1,3}[:;.]\d{1,2}[:;.]\d{1,2}[:;.]\d{1,3}\Z", fullmatch=True)
keys = tc_like | st.text(max_size=12)
text_blocks = st.lists(st.tuples(keys, st.lists(st.text(alphabet=string.printable + "éñ¿日", max_size=30),
                                                max_size=3)), max_size=5)


def _transcript_text(blocks, prefix):
    lines = [prefix] if prefix else []
    for key, body in blocks:
        lines.append(f"[{key}]")
        lines.extend(body)
    return "\n".join(lines)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                   HealthCheck.function_scoped_fixture])
@given(st.one_of(
    text_blocks.map(lambda b: ("text", b)),
    st.dictionaries(keys, json_values, max_size=5).map(lambda d: ("json", d)),
    st.lists(st.dictionaries(st.sampled_from(["clip", "record_in", "text", "x"]), json_values, max_size=4),
             max_size=4).map(lambda d: ("json", d)),
    json_values.map(lambda d: ("json", d)),
    st.binary(max_size=80).map(lambda b: ("bytes", b))),
    st.sampled_from(["", "# a comment", "stray text", "\ufeff"]))
def test_transcripts_reader_never_crashes(tmp_path, kind_data, prefix):
    from lipflap.contract import transcripts as tr
    kind, data = kind_data
    path = tmp_path / "transcripts.txt"
    if kind == "text":
        path.write_text(_transcript_text(data, prefix), encoding="utf-8")
    elif kind == "json":
        path.write_text(json.dumps(data, allow_nan=True, ensure_ascii=False), encoding="utf-8")
    else:
        path.write_bytes(data)
    try:
        table = tr.load(str(path))
    except LipflapError as e:
        _clear(e)
        assert str(path) in str(e)
        return
    for k, v in table.items():
        assert isinstance(k, str) and isinstance(v, str) and v.strip()
        assert tr.lookup(table, k, "00:00:00:00") is not None


# ---- conform's inputs: OTIO timelines, CMX 3600 EDLs, .lipflap job lists --------------------
# conform must end in a result or one LipflapError whatever the timeline says. The engine is
# /bin/false (every job fails fast), so each example plans, "runs" and assembles the EDL.

@pytest.fixture(scope="module")
def conform_media(tmp_path_factory):
    from mediagen import make_clip, make_wav
    d = tmp_path_factory.mktemp("fuzz_conform")
    clip = make_clip(d / "A001.mov", fps="25", frames=30, width=32, height=32, timecode="10:00:00:00")
    dub = make_wav(d / "dub.wav", seconds=3.0, rate=8000)
    return {"dir": d, "clip": clip, "dub": dub}


def _conform_clear(path, outdir, **kw):
    from lipflap.conform import conform
    from lipflap.contract.progress import Progress
    try:
        res = conform(str(path), str(outdir), n_procs=1, progress=Progress("none"),
                      cmd=[shutil.which("false") or "/bin/false"], **kw)
    except LipflapError as e:
        _clear(e)
        return None
    assert os.path.exists(res.edl_path) or not res.edls
    return res


rates = st.sampled_from([24000 / 1001, 24.0, 25.0, 30000 / 1001, 50.0, 1.0, 1000.0, 0.5])
frames_n = st.integers(-5, 200)


@st.composite
def otio_timelines(draw, media):
    import opentimelineio as otio
    from opentimelineio import opentime
    rate = draw(rates)

    def rt(n):
        return opentime.RationalTime(n, rate)

    def rng():
        return opentime.TimeRange(rt(draw(frames_n) + 250000 * draw(st.booleans())), rt(draw(frames_n)))

    tl = otio.schema.Timeline(name=draw(st.text(max_size=8)))
    if draw(st.booleans()):
        tl.global_start_time = rt(draw(st.integers(0, 100000)))
    for t in range(draw(st.integers(0, 3))):
        kind = draw(st.sampled_from([otio.schema.TrackKind.Video, otio.schema.TrackKind.Audio]))
        tr_ = otio.schema.Track(name=draw(st.sampled_from(["V1", "Dub", "A1", ""])), kind=kind)
        for _ in range(draw(st.integers(0, 4))):
            what = draw(st.sampled_from(["clip", "clip", "gap", "transition", "missing", "seq"]))
            if what == "gap":
                tr_.append(otio.schema.Gap(source_range=rng()))
            elif what == "transition":
                tr_.append(otio.schema.Transition(in_offset=rt(draw(st.integers(-2, 6))),
                                                  out_offset=rt(draw(st.integers(-2, 6)))))
            else:
                if what == "missing":
                    ref = otio.schema.MissingReference()
                elif what == "seq":
                    ref = otio.schema.ImageSequenceReference(target_url_base=str(media["dir"]),
                                                             name_prefix="f.", name_suffix=".png")
                else:
                    url = draw(st.sampled_from([media["clip"], media["dub"], "/nonexistent/x.mov",
                                                "file://" + media["clip"], ""]))
                    ref = otio.schema.ExternalReference(target_url=url)
                    if draw(st.booleans()):
                        ref.available_range = rng()
                clip = otio.schema.Clip(name=draw(st.text(max_size=10)), media_reference=ref,
                                        source_range=rng() if draw(st.booleans()) else None)
                if draw(st.booleans()):
                    clip.effects.append(otio.schema.LinearTimeWarp(time_scalar=draw(
                        st.sampled_from([1.0, 2.0, -1.0, 0.0]))))
                if draw(st.booleans()):
                    clip.markers.append(otio.schema.Marker(name="m", marked_range=rng()))
                tr_.append(clip)
        tl.tracks.append(tr_)
    return tl


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.function_scoped_fixture])
@given(st.data(), st.sampled_from(["audio", "track", "none"]))
def test_conform_otio_input_never_crashes(tmp_path_factory, conform_media, data, dub):
    import opentimelineio as otio
    tl = data.draw(otio_timelines(conform_media))
    d = tmp_path_factory.mktemp("c")
    path = d / "cut.otio"
    try:
        otio.adapters.write_to_file(tl, str(path))
    except Exception:  # noqa: BLE001 - OTIO itself refuses to serialise some drawn values
        return
    kw = {"dub_audio": conform_media["dub"]} if dub == "audio" else \
        {"dub_track": "Dub"} if dub == "track" else {}
    _conform_clear(path, d / "out", **kw)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.function_scoped_fixture])
@given(json_values, st.sampled_from(["timeline", "tracks", "clip"]))
def test_conform_mangled_otio_json_never_crashes(tmp_path_factory, conform_media, value, where):
    """A valid .otio file with one value replaced by arbitrary JSON."""
    import opentimelineio as otio
    from opentimelineio import opentime
    rate = 25.0
    ref = otio.schema.ExternalReference(target_url=conform_media["clip"])
    clip = otio.schema.Clip(name="A001", media_reference=ref, source_range=opentime.TimeRange(
        opentime.RationalTime(250000 + 2, rate), opentime.RationalTime(10, rate)))
    tl = otio.schema.Timeline(name="cut", global_start_time=opentime.RationalTime(90000, rate))
    tl.tracks.append(otio.schema.Track(name="V1", children=[clip]))
    doc = json.loads(otio.adapters.write_to_string(tl, "otio_json"))
    if where == "timeline":
        doc["global_start_time"] = value
    elif where == "tracks":
        doc["tracks"]["children"] = value
    else:
        doc["tracks"]["children"][0]["children"][0]["source_range"] = value
    d = tmp_path_factory.mktemp("m")
    path = d / "cut.otio"
    path.write_text(json.dumps(doc, allow_nan=True), encoding="utf-8")
    _conform_clear(path, d / "out", dub_audio=conform_media["dub"])


def _edl_text(draw, media):
    tcs = st.from_regex(r"\A\d\d:\d\d:\d\d[:;]\d\d\Z", fullmatch=True) | st.text(max_size=12)
    lines = [draw(st.sampled_from(["TITLE: cut", "", "TITLE:"])),
             draw(st.sampled_from(["FCM: NON-DROP FRAME", "FCM: DROP FRAME", "", "FCM: bogus"]))]
    for n in range(1, draw(st.integers(0, 4)) + 1):
        num = draw(st.sampled_from([f"{n:03d}", "abc", "9999", f"{n:03d}"]))
        reel = draw(st.sampled_from(["A001", "AX", "BL", "A001_C003_long_reel_name", ""]))
        chan = draw(st.sampled_from(["V", "A", "A2", "AA/V", "B", "V"]))
        trans = draw(st.sampled_from(["C", "C", "D 010", "W001 012", "X"]))
        lines.append(f"{num}  {reel} {chan} {trans} " + " ".join(draw(tcs) for _ in range(4)))
        for _ in range(draw(st.integers(0, 2))):
            lines.append(draw(st.sampled_from([
                f"* FROM CLIP NAME: {draw(st.text(max_size=12))}",
                f"* SOURCE FILE: {media['clip']}", "* SOURCE FILE: /nonexistent/a.mov",
                f"M2   {reel}       {draw(st.sampled_from(['050.0', '-25.0', '000.0', 'x']))}  10:00:00:00",
                f"* LOC: {draw(tcs)} RED {draw(st.text(max_size=8))}", draw(st.text(max_size=30))])))
    return "\n".join(lines) + "\n"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.function_scoped_fixture])
@given(st.data(), st.sampled_from([None, "25", "23.976", "bogus"]))
def test_conform_edl_input_never_crashes(tmp_path_factory, conform_media, data, rate):
    d = tmp_path_factory.mktemp("e")
    path = d / "cut.edl"
    path.write_text(_edl_text(data.draw, conform_media), encoding="utf-8")
    _conform_clear(path, d / "out", dub_audio=conform_media["dub"], dub_start="01:00:00:00",
                   rate=rate)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.function_scoped_fixture])
@given(st.fixed_dictionaries({"lipflap_joblist": st.sampled_from([1, 1, 2, "1"])},
                             optional={"language": json_values, "dub": json_values,
                                       "timeline": json_values,
                                       "jobs": st.lists(st.dictionaries(st.sampled_from(
                                           ["key", "clip_name", "record_in_tc", "job", "status", "error",
                                            "render", "report", "clip_index", "rate"]), json_values,
                                           max_size=6), max_size=3) | json_values}))
def test_conform_job_list_input_never_crashes(tmp_path_factory, data):
    d = tmp_path_factory.mktemp("j")
    path = d / "cut_lipflap_es.lipflap"
    path.write_text(json.dumps(data, allow_nan=True), encoding="utf-8")
    _conform_clear(path, d / "out")
