"""Whole tracks from timed phones and from audio-only curves."""
import math
from fractions import Fraction

import numpy as np
import pytest

from lipflap.mouth.build import frame_times, track_from_curves, track_from_phones
from lipflap.mouth.phonemes import parse_phone
from lipflap.mouth.rules import closure
from lipflap.speech.types import Phone

RATES = [Fraction(24000, 1001), Fraction(25), Fraction(30000, 1001), Fraction(50),
         Fraction(1350, 61)]
SCRIPTS = [("es", "Hola, me llamo Pablo y bebo mucha agua. Buenos días, amigo mío."),
           ("en", "Bob made a map of my small boat, and then, maybe, we will play."),
           ("de", "Bitte bring mir ein Brot und eine Tomate, Mama."),
           ("fr", "Mon petit bébé mange une pomme. Bon appétit, Pierre.")]


@pytest.fixture(scope="module")
def spoken():
    espeak = pytest.importorskip("lipflap.speech.espeak")
    out = {}
    for lang, text in SCRIPTS:
        _s, _sr, phones = espeak.synthesize(text, lang)
        out[lang] = phones
    return out


def _frames_in(p, fps, n, slack=0):
    a = max(0, math.floor(p.start * fps) - slack)
    b = min(n, math.ceil(p.end * fps) + 1 + slack)
    return range(a, b)


@pytest.mark.parametrize("fps", RATES)
def test_bilabials_sealed_inside_phone(spoken, fps):
    for lang, phones in spoken.items():
        t = track_from_phones(phones, fps)
        ap = t.column("aperture")
        times = frame_times(fps, len(t.frames), 0.0)
        for p in phones:
            if not any(f.closure for f in parse_phone(p.phone)):
                continue
            # an m's lips are sealed while it sounds; a p/b's in its closure, up to the burst
            # (its silent closure before the phone is sealed too, unless a short vowel's only
            # frame is there: tests/test_mouth_closure.py)
            stop = any(f.manner == "stop" for f in parse_phone(p.phone))
            hi = max(p.start, p.end - closure.STOP_BURST_S) if stop else p.end
            inside = (times >= p.start) & (times < hi)
            if inside.any():
                # every frame instant inside the sealed time is sealed: "hit exactly in the span"
                assert (ap[inside] == 0).all(), (lang, p)
            else:
                # shorter than a frame: the sealed frame is within a frame of it (a stop's in
                # its closure, the frame before the burst)
                near = [i for i in _frames_in(p, fps, len(ap), 1) if ap[i] == 0]
                assert near, (lang, float(fps), p)
            assert t.frames[int(np.argmin(np.abs(times - (p.start + p.end) / 2)))].shape in "A" \
                or inside.sum() == 0 or ap[inside].max() == 0


@pytest.mark.parametrize("fps", [Fraction(24000, 1001), Fraction(25)])
def test_open_vowels_open_and_pauses_rest(spoken, fps):
    for lang, phones in spoken.items():
        t = track_from_phones(phones, fps)
        ap = t.column("aperture")
        opened = []
        for p in phones:
            name = p.phone.strip("ˈˌː")
            if name.startswith(("a", "ɑ", "æ", "ɐ")) and p.end - p.start >= 0.06:
                opened.append(ap[list(_frames_in(p, fps, len(ap), 1))].max() > 0.5)
            if p.phone == "_" and p.end - p.start >= 0.35:
                core = [i for i in _frames_in(p, fps, len(ap)) if p.start + 0.12 <= i / fps
                        <= p.end - 0.12]
                assert core and all(t.frames[i].shape == "X" and ap[i] < 0.05 for i in core), \
                    (lang, p)
        assert np.mean(opened) >= 0.9, lang


def test_pause_in_script_rests_and_short_gap_holds():
    phones = [Phone("_", 0, 0.3), Phone("ˈa", 0.3, 0.5), Phone("_", 0.5, 1.1),
              Phone("ˈa", 1.1, 1.3), Phone("_", 1.3, 1.36), Phone("ˈa", 1.36, 1.6),
              Phone("_", 1.6, 2.0)]
    t = track_from_phones(phones, 25)
    ap = t.column("aperture")
    assert (ap[19:24] < 0.02).all() and {t.frames[i].viseme for i in range(19, 24)} == {"sil"}
    assert ap[33] > 0.6 and ap[34] > 0.6                  # 60 ms gap: held open
    assert ap[:3].max() < 0.02 and ap[-3:].max() < 0.05   # rest before and after speech


@pytest.mark.parametrize("fps", RATES)
def test_no_one_frame_shapes_except_closures(spoken, fps):
    for phones in spoken.values():
        t = track_from_phones(phones, fps)
        shapes = [f.shape for f in t.frames]
        for i in range(1, len(shapes) - 1):
            if shapes[i] not in (shapes[i - 1], shapes[i + 1]):
                # a single-frame shape is a closure, or an opening between two closures
                assert shapes[i] == "A" or (shapes[i - 1] == "A" and shapes[i + 1] == "A"), \
                    (float(fps), i, shapes[i - 2:i + 3])


def test_frame_clock_offset_and_rest_past_the_end():
    phones = [Phone("_", 0, 1.0), Phone("m", 1.0, 1.1), Phone("ˈa", 1.1, 1.4), Phone("_", 1.4, 1.5)]
    fps = Fraction(24000, 1001)
    t = track_from_phones(phones, fps, n_frames=48, start_s=0.9)
    assert len(t.frames) == 48
    assert t.frames[10].time == pytest.approx(10 * 1001 / 24000)
    # m at audio 1.0-1.1 = track 0.1-0.2 s: frames 3 and 4 (0.125, 0.167)
    assert t.frames[3].aperture == 0 and t.frames[4].aperture == 0
    assert max(f.aperture for f in t.frames[6:12]) > 0.6
    assert all(f.shape == "X" and f.aperture < 0.02 for f in t.frames[24:])
    assert t.phonemes[1].phone == "m" and t.phonemes[1].start == pytest.approx(0.1)
    assert t.cues[0][0] == 0.0 and t.cues[-1][1] == pytest.approx(48 * 1001 / 24000)


def test_empty_and_silent():
    t = track_from_phones([], 25, n_frames=10)
    assert len(t.frames) == 10 and {f.shape for f in t.frames} == {"X"}
    t = track_from_phones([Phone("_", 0, 2.0)], 25)
    assert len(t.frames) == 50 and max(f.aperture for f in t.frames) == 0


class Curves:
    def __init__(self, hop, aperture, speech, closure=None):
        n = len(aperture)
        self.hop_s = hop
        self.times = np.arange(n) * hop
        self.aperture = np.asarray(aperture, float)
        self.width = np.full(n, 0.5)
        self.rounding = np.full(n, 0.1)
        self.jaw = self.aperture * 0.9
        self.closure = np.zeros(n) if closure is None else np.asarray(closure, float)
        self.speech = np.asarray(speech, float)
        self.classes = None


def test_curves_keep_variation_rest_in_silence_and_close():
    hop = 0.01
    t = np.arange(400) * hop                       # 4 s
    ap = 0.45 + 0.4 * np.sin(2 * np.pi * 3.0 * t)  # syllable-rate opening
    speech = ((t > 0.5) & (t < 1.8)) | ((t > 2.4) & (t < 3.5))
    ap = np.where(speech, ap, 0.05)
    clo = np.zeros_like(t)
    clo[(t > 1.0) & (t < 1.04)] = 0.9             # a bilabial inside speech
    track = track_from_curves(Curves(hop, ap, speech.astype(float), clo), 25)
    a = track.column("aperture")
    ft = np.arange(len(a)) / 25
    assert len(a) == 100
    sp = ((ft > 0.6) & (ft < 0.95)) | ((ft > 1.1) & (ft < 1.7)) | ((ft > 2.5) & (ft < 3.4))
    # the track follows the curve where it is speech (rules do not flatten it)
    assert np.corrcoef(a[sp], np.interp(ft[sp], t, ap))[0, 1] > 0.9
    assert a[sp].std() > 0.2
    # the 0.6 s pause rests, the edges rest
    assert (a[(ft > 1.95) & (ft < 2.25)] < 0.02).all() and (a[:10] < 0.02).all()
    assert all(f.shape == "X" for f in track.frames if 1.95 < f.time < 2.25)
    # the closure is sealed on a frame at it
    closed = [f.frame for f in track.frames if f.aperture == 0 and 0.9 < f.time < 1.1]
    assert closed and all(track.frames[i].shape == "A" for i in closed)
    assert track.source == "audio"


def test_curves_leave_and_enter_a_pause_their_own_way_and_rest_in_its_core():
    """The curves carry the lips' release after a phrase and their opening before the next; the
    rest rule only owns the pause's core, like the script path's release and onset."""
    hop = 0.01
    t = np.arange(300) * hop
    speech = (t < 1.0) | (t >= 2.0)
    # the mouth closes over 150 ms after the sound stops and opens 150 ms ahead of the next
    ap = np.interp(t, [0, 1.0, 1.15, 1.85, 2.0, 3.0], [0.6, 0.6, 0.0, 0.0, 0.6, 0.6])
    track = track_from_curves(Curves(hop, ap, speech.astype(float)), 25)
    a = track.column("aperture")
    ft = np.arange(len(a)) / 25
    assert a[ft == 1.04][0] > 0.3            # 40 ms into the pause: still on its way out
    assert a[ft == 1.92][0] > 0.2            # 80 ms before the sound: already opening
    core = (ft > 1.2) & (ft < 1.8)
    assert (a[core] < 0.02).all()
    assert all(f.viseme == "sil" for f in track.frames if 1.2 < f.time < 1.8)


def test_curves_any_rate_and_offset():
    hop = 0.01
    n = 300
    speech = np.ones(n)
    ap = np.linspace(0.1, 0.9, n)
    for fps in RATES:
        tr = track_from_curves(Curves(hop, ap, speech), fps, start_s=0.5)
        assert len(tr.frames) == math.ceil((3.0 - 0.5) * fps - 1e-6)
        mid = len(tr.frames) // 2
        t_audio = 0.5 + mid / float(fps)
        assert tr.frames[mid].aperture == pytest.approx(np.interp(t_audio, np.arange(n) * hop, ap),
                                                        abs=0.03)


def test_curves_viseme_classes_name_open_frames():
    hop = 0.01
    n = 200
    speech = np.ones(n)
    ap = np.full(n, 0.5)
    c = Curves(hop, ap, speech)
    from lipflap.mouth.visemes import VISEMES
    cls = np.zeros((n, 15))
    cls[:100, VISEMES.index("FF")] = 0.6
    cls[100:, VISEMES.index("oh")] = 0.6
    cls[:, VISEMES.index("sil")] = 0.9          # never a label for an open frame
    c.classes = cls
    c.visemes = VISEMES
    t = track_from_curves(c, 25)
    vis = [f.viseme for f in t.frames]
    assert set(vis[3:22]) == {"FF"} and set(vis[28:47]) == {"oh"}


def _fake_curves(samples, rate):
    n = int(len(samples) / rate / 0.01)
    t = np.arange(n) * 0.01
    ap = 0.5 + 0.3 * np.sin(2 * np.pi * 2 * t)
    return Curves(0.01, ap, np.ones(n))


def test_for_audio_chooses_script_audio_or_both(monkeypatch):
    from lipflap.mouth import build
    from lipflap.speech import align, audio_only
    from lipflap.speech.types import AlignmentResult

    rate = 16000
    samples = np.zeros(rate * 3, np.float32)
    phones = [Phone("_", 0, 0.5), Phone("m", 0.5, 0.6), Phone("ˈa", 0.6, 0.9), Phone("_", 0.9, 1.5),
              Phone("p", 1.5, 1.6), Phone("a", 1.6, 2.0), Phone("_", 2.0, 3.0)]
    monkeypatch.setattr(audio_only, "predict_curves", _fake_curves)

    def aligned(method, fallback=(), warnings=()):
        res = AlignmentResult(phones if method != "mismatch" else [], [(0.5, 0.9), (1.5, 2.0)],
                              method, list(warnings), list(fallback))
        monkeypatch.setattr(align, "align_script", lambda *a, **k: res)

    aligned("script")
    t = build.mouth_track_for_audio(samples, 25, rate=rate, text="ma pa", language="es")
    assert t.source == "script" and len(t.frames) == 75 and t.frames[13].aperture == 0
    assert [p.phone for p in t.phonemes][:2] == ["_", "m"]

    aligned("mismatch", warnings=["the script does not match"])
    t = build.mouth_track_for_audio(samples, 25, rate=rate, text="ma pa", language="es")
    assert t.source == "audio" and "the script does not match" in t.warnings
    assert any("audio alone" in w for w in t.warnings)

    aligned("script", fallback=[1], warnings=["speech 1.50-2.00 s: alignment not trusted"])
    t = build.mouth_track_for_audio(samples, 25, rate=rate, text="ma pa", language="es")
    assert t.source == "script+audio" and t.warnings
    ap = t.column("aperture")
    assert ap[13] == 0                                        # m from the script
    curve = _fake_curves(samples, rate)
    for i in range(38, 50):                                   # 1.52-1.96 s from the curves
        # what the curve shows within the frame's 1/fps (its mean, or toward its widest)
        seen = curve.aperture[np.abs(curve.times - (i + 0.5) / 25) <= 0.5 / 25]
        assert seen.min() - 0.01 <= ap[i] <= seen.max() + 0.01

    # audio-only without a script; frames past the audio's end rest
    t = build.mouth_track_for_audio(samples, 25, rate=rate, n_frames=100)
    assert t.source == "audio" and all(f.shape == "X" for f in t.frames[77:])


def test_for_audio_errors():
    from lipflap.contract.errors import LipflapError
    from lipflap.mouth.build import mouth_track_for_audio
    x = np.zeros(16000, np.float32)
    with pytest.raises(LipflapError, match="language"):
        mouth_track_for_audio(x, 25, rate=16000, text="hola")
    with pytest.raises(LipflapError, match="rate"):
        mouth_track_for_audio(x, 25, text=None)
    with pytest.raises(LipflapError, match="empty"):
        mouth_track_for_audio(x, 25, rate=16000, text="  ", language="es")
