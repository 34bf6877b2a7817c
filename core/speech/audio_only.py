"""Mouth parameters from the dub's audio alone, in any language, without a script.

Two sources:
- small dilated 1-D convolution networks (trained on synthetic speech with known phone times:
  eSpeak NG in many languages and voices, Festival's recorded-voice diphone and HTS voices;
  see training/train_audio_mouth.py) map 10 ms spectral-envelope frames to mouth curves. The
  weights file holds several, trained alike from different seeds, and their outputs are
  averaged (see _Ensemble). They run in plain numpy: no torch import, far faster than real
  time on one core;
- the phones pocketsphinx's English phone decoder hears (lipflap.speech.phone_recognition),
  drawn as curves by lipflap.speech.articulation. Its acoustic model learned from recorded
  voices, which the network never heard.
On recorded voices the aperture is read out of both sources' curves by a linear map fit to the
mouths of real speakers (lipflap.speech.aperture_readout), in the dub's own range; on speech the
network is sure of (synthetic voices like its training data) it stays the network's own. The
other shapes are the two sources' mean, the closure the largest of the two and of a third
read-out, on the networks' hidden layers, for a b or p right after a consonant
(lipflap.speech.closure_head; see `combine`).
Leave-one-out over nine real speakers (bench/bench_audio_loo.py --loo) the read-out follows the
measured mouth at mean r 0.43 where the two sources' curves alone reached 0.35.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from lipflap.speech import aperture_readout, articulation, closure_head, decay, phone_recognition
from lipflap.speech import audio_features as af
from lipflap.speech.features import frame_energy_db, frame_power
from lipflap.mouth.visemes import VISEME_TARGET

WEIGHTS = Path(__file__).with_name("audio_mouth.npz")
VISEMES = ("sil", "PP", "FF", "TH", "DD", "kk", "CH", "SS", "nn", "RR", "aa", "E", "ih", "oh", "ou")
_N_REG = 4
# A file whose loudest frames stay below this is room tone, not dialogue (speech in a mix sits
# around -30..-10 dBFS RMS; the features are level-normalised, so the network cannot tell).
_QUIET_DBFS = -50.0


@dataclass
class MouthCurves:
    """Per-frame mouth curves, frame i centred at times[i] = i * hop_s seconds.

    aperture: inner-lip opening, 0 closed .. 1 this speaker's widest; width: mouth-corner
    spread (0 puckered .. 1 wide smile); rounding: lip protrusion; jaw: jaw drop; closure:
    probability of a bilabial closure (p/b/m); speech: probability of voice activity;
    classes: (T, 15) probabilities over VISEMES; cluster_closure: the closure head's probability
    (lipflap.speech.closure_head: a b or p right after a consonant), only on the networks'
    curves, kept apart from `closure` because the aperture read-out was fit on the latter.
    """
    hop_s: float
    times: np.ndarray
    aperture: np.ndarray
    width: np.ndarray
    rounding: np.ndarray
    jaw: np.ndarray
    closure: np.ndarray
    speech: np.ndarray
    classes: np.ndarray | None = None
    visemes: tuple = field(default=VISEMES)
    cluster_closure: np.ndarray | None = None
    # How much of the aperture is the networks' own (1) rather than the read-out fit to real
    # mouths (0; recorded voices, see combine): the track draws a frame at the widest opening
    # within its 1/fps as far as it is the networks' (lipflap.mouth.build._frames_from_curves).
    own_aperture: float = 1.0

    def __len__(self) -> int:
        return len(self.times)

    def at(self, times_s) -> dict:
        """Curves linearly interpolated at arbitrary times (e.g. video frame times)."""
        t = np.asarray(times_s, float)
        return {k: np.interp(t, self.times, getattr(self, k)).astype(np.float32)
                for k in ("aperture", "width", "rounding", "jaw", "closure", "speech")}


class _Net:
    """Numpy forward pass of training/train_audio_mouth.py's MouthNet, from the arrays of one
    exported network (`prefix` selects a member of a packed ensemble)."""

    def __init__(self, z, prefix: str = ""):
        self.p = {}
        for k in z.files:
            name = k[len(prefix):]
            if not k.startswith(prefix) or name in _NOT_WEIGHTS or "/" in name:
                continue
            v = z[k].astype(np.float32)
            if v.ndim == 3:   # torch Conv1d (Cout, Cin, K) -> (K*Cin, Cout)
                v = np.ascontiguousarray(v.transpose(2, 1, 0).reshape(-1, v.shape[0]))
            self.p[name] = v
        self.blocks = [tuple(int(v) for v in b) for b in z["blocks"]]

    @staticmethod
    def _conv(x, w, b, dil, left, right):
        # x: (T, Cin); w: (Cin*K, Cout) tap-major. The taps are stacked side by side so that
        # each layer is a single matrix product.
        t = len(x)
        k = w.shape[0] // x.shape[1]
        if k == 1:
            return x @ w + b
        xp = np.pad(x, ((left, right), (0, 0)))
        return np.concatenate([xp[i * dil:i * dil + t] for i in range(k)], axis=1) @ w + b

    def hidden(self, feats: np.ndarray) -> np.ndarray:
        """(T, channels) the rectified last hidden layer, which the output head reads."""
        p = self.p
        h = self._conv(feats, p["inp.weight"], p["inp.bias"], 1, 2, 2)
        for i, (d, lp, rp) in enumerate(self.blocks):
            u = self._conv(np.maximum(h, 0), p[f"dil.{i}.weight"], p[f"dil.{i}.bias"], d, lp, rp)
            h = h + self._conv(np.maximum(u, 0), p[f"pw.{i}.weight"], p[f"pw.{i}.bias"], 1, 0, 0)
        return np.maximum(h, 0)

    def head(self, hidden: np.ndarray) -> np.ndarray:
        return self._conv(hidden, self.p["head.weight"], self.p["head.bias"], 1, 0, 0)

    def __call__(self, feats: np.ndarray) -> np.ndarray:
        return self.head(self.hidden(feats))


_NOT_WEIGHTS = ("blocks", "visemes", "n_features", "meta", "members")


class _Ensemble:
    """The networks of a weights file (one, as train_audio_mouth.py writes it, or several packed
    by training/pack_ensemble.py), their raw outputs averaged. Seeds that agree on synthetic
    speech still differ on recorded speech, which none of them heard; the mean of several
    follows real mouths more steadily than any one (see the README's figures). Each costs
    about 20 ms per minute of audio."""

    def __init__(self, path: Path):
        with np.load(path) as z:
            if int(z["n_features"]) != af.N_FEATURES:
                raise RuntimeError(f"{path} was trained on {int(z['n_features'])} features, "
                                   f"this build computes {af.N_FEATURES}; retrain the model")
            n = int(z["members"]) if "members" in z.files else 0
            self.nets = [_Net(z, f"m{i}/") for i in range(n)] if n else [_Net(z)]

    def __call__(self, feats: np.ndarray) -> np.ndarray:
        return self.run(feats)[0]

    def run(self, feats: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(the members' mean output, their hidden layers side by side: (T, members * channels))."""
        hidden = [net.hidden(feats) for net in self.nets]
        out = sum(net.head(h) for net, h in zip(self.nets, hidden)) / len(self.nets)
        return out, np.concatenate(hidden, axis=1)


_NET: _Ensemble | None = None
_READOUT: aperture_readout.Readout | None = None
_CLOSURE_HEAD: closure_head.ClosureHead | None = None


def _net() -> _Ensemble:
    global _NET
    if _NET is None:
        _NET = _Ensemble(WEIGHTS)
    return _NET


def _closure_head() -> closure_head.ClosureHead:
    global _CLOSURE_HEAD
    if _CLOSURE_HEAD is None:
        _CLOSURE_HEAD = closure_head.load()
    return _CLOSURE_HEAD


def _readout() -> aperture_readout.Readout:
    global _READOUT
    if _READOUT is None:
        _READOUT = aperture_readout.load()
    return _READOUT


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-np.clip(x, -30, 30)))


def predict_curves(samples: np.ndarray, rate: int, *, phones: bool = True) -> MouthCurves:
    """Mouth curves every 10 ms from mono float samples at any rate (8-96 kHz and beyond).

    `phones=False` leaves out the phone decoder (the network alone, its own aperture; the
    aperture read-out needs both sources). Stereo (2-D with more than one channel) is refused
    with a ValueError: mix it down first, so that a channel choice is never made silently.
    """
    x16, times = prepare(samples, rate)
    mel = af.power_mel(x16)
    if len(x16) == 0 or _quiet(mel):
        return rest_curves(times)
    if not phones:
        return speech_ends_at_decay(_net_curves(af.features_from_mel(mel), times), x16)
    # the decoder's forked children start first and run beside the network (about 0.2 s of the
    # ~1.5 s a minute of dub takes on 2 cores)
    with phone_recognition.start(x16) as pending:
        net = _net_curves(af.features_from_mel(mel), times)
        heard = phone_curves(pending.result(), times)
    return speech_ends_at_decay(combine(net, heard, _readout()), x16)


# A phrase's speech ends where its sound falls into its decay tail (lipflap.speech.decay): the
# networks hear a voice's ringing after the phrase as speech, so the pause that follows measured
# short of a rest. Held-out female dub (o_de_f2_p80, "... am Meer. Morgens ...", a 0.30 s pause)
# rendered on the turn clip: speech to 2.33 s where the tap ends at 2.026 and the tail begins at
# 2.03, frames 51-57 drawn 0.12-0.25 open, pause rest 0.33. Speech probability from
# _DECAY_RUN_P is a run; from its tail on, and through the fall of the probability after it
# (down to _DECAY_FALL_P), the frames are silence.
_DECAY_RUN_P = 0.5
_DECAY_FALL_P = 0.05


def speech_ends_at_decay(curves: MouthCurves, x16: np.ndarray) -> MouthCurves:
    """`curves` with the speech probability 0 in each run's decay tail (see above)."""
    speech = np.asarray(curves.speech, float)
    n = len(speech)
    if not n or not len(x16):
        return curves
    power, freqs = frame_power(x16, af.RATE, af.HOP_S)
    level = frame_energy_db(power, freqs)[:n]
    level = np.pad(level, (0, n - len(level)), mode="edge")
    on = np.concatenate([[False], speech >= _DECAY_RUN_P, [False]])
    starts = np.flatnonzero(on[1:] & ~on[:-1])
    stops = np.flatnonzero(~on[1:] & on[:-1])
    out = speech.copy()
    for a, b in zip(starts, stops):
        first = decay.tail_start(level, int(a), int(b), af.HOP_S)
        if first is None:
            continue
        k = int(b)
        while k < n and _DECAY_FALL_P <= speech[k] <= speech[k - 1]:
            k += 1
        out[first:k] = 0.0
    if np.array_equal(out, speech):
        return curves
    return replace(curves, speech=out.astype(np.float32))


def prepare(samples: np.ndarray, rate: int) -> tuple[np.ndarray, np.ndarray]:
    """(16 kHz mono float samples, the times of their 10 ms frames)."""
    x = af.to_mono(samples)
    rate = int(rate)
    if rate < 4000:
        raise ValueError(f"sample rate {rate} Hz is too low for speech; expected 8000 Hz or more")
    x16 = af.resample(x, rate)
    return x16, (np.arange(af.n_frames(len(x16))) * af.HOP_S).astype(np.float64)


def _quiet(mel: np.ndarray) -> bool:
    """Digital silence or room tone (the network would only see normalised noise)."""
    return np.percentile(af.frame_dbfs(mel), 98) < _QUIET_DBFS


def rest_curves(times: np.ndarray) -> MouthCurves:
    """All rest: closed lips, no speech."""
    t = len(times)
    z = np.zeros(t, np.float32)
    cls = np.zeros((t, len(VISEMES)), np.float32)
    cls[:, 0] = 1.0
    return MouthCurves(af.HOP_S, times, z, z + 0.5, z.copy(), z.copy(), z.copy(), z.copy(), cls)


def network_curves(x16: np.ndarray, times: np.ndarray) -> MouthCurves:
    """The averaged networks' curves from 16 kHz samples."""
    return _net_curves(af.features_from_mel(af.power_mel(x16)), times)


def _net_curves(feats: np.ndarray, times: np.ndarray) -> MouthCurves:
    out, hidden = _net().run(feats)
    reg = _sigmoid(out[:, :_N_REG]).astype(np.float32)
    closure = _sigmoid(out[:, _N_REG]).astype(np.float32)
    speech = _sigmoid(out[:, _N_REG + 1]).astype(np.float32)
    logits = out[:, _N_REG + 2:]
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    cls = (e / e.sum(axis=1, keepdims=True)).astype(np.float32)
    return MouthCurves(af.HOP_S, times, reg[:, 0], reg[:, 1], reg[:, 2], reg[:, 3], closure, speech,
                       cls, cluster_closure=_closure_head()(closure_head.inputs(hidden, feats)))


def phone_curves(phones: list, times: np.ndarray) -> MouthCurves:
    """Curves drawn from [(ipa, start_s, end_s)] phones ('' = pause) at the given 10 ms times,
    with the same coarticulation, lead and smoothing as the network's training targets."""
    n = len(times)
    # frame_targets covers 0 .. total_s in hop steps: exactly n frames
    tg = articulation.frame_targets(phones, (n - 1) * af.HOP_S + 1e-6, hop_s=af.HOP_S)
    return MouthCurves(af.HOP_S, times, *(np.asarray(tg[k][:n], np.float32) for k in
                                          ("aperture", "width", "rounding", "jaw", "closure",
                                           "speech")))


# Before the dub's first speech and after its last the read-out's lips are shut: it learned from
# pauses inside speech, where real mouths stay parted (gating every low-speech frame cost 0.02-0.05
# of the leave-one-out mean r), and has no example of a silent head or tail. The lips part
# _EDGE_S before the first frame that is speech at _EDGE_P (the rest rule's onset, 0.1 s) and
# close as long after the last; measured leave-one-out cost: none (0.423 with and without).
_EDGE_S = 0.10
_EDGE_P = 0.5


def _inside_speech(speech: np.ndarray) -> np.ndarray:
    """1 from _EDGE_S before the first speech frame to _EDGE_S after the last, 0 outside, with a
    50 ms ramp; all 0 when nothing is speech."""
    on = np.flatnonzero(speech >= _EDGE_P)
    gate = np.zeros(len(speech))
    if not len(on):
        return gate
    margin = int(round(_EDGE_S / af.HOP_S))
    gate[max(on[0] - margin, 0):on[-1] + margin + 1] = 1.0
    k = int(round(0.05 / af.HOP_S))
    return np.minimum(gate, np.convolve(np.pad(gate, k // 2, mode="edge"), np.ones(k) / k, "valid"))


# How sure the network is of its viseme classes over the dub's speech (the mean of the top class
# probability where its speech probability passes 0.5) tells speech like its training data from
# recorded voices: clean eSpeak NG dubs in es/de/en/fr/it/ru/ja read 0.70-0.78 (0.70-0.83 with
# noise at 20-30 dB SNR; English at 10 dB SNR fell to 0.66), the ten real speakers' own speech
# 0.54-0.64. On the former the network's own aperture is kept (crisp openings and rests: the
# read-out, fit to real mouths, smooths a short open vowel away there and dropped the rendered
# opening rate to 0.70-0.89 and the pause rest to 0 on talk_a/talk_c es/de dubs); on the latter
# the read-out. Between _SURE_LO and _SURE_HI the two are mixed, so a dub near the gap gets a
# blend, never a jump. eSpeak NG's other voices read lower: f1-f5 0.665-0.71 and the default
# voices of other texts down to 0.678, many of them inside the band 0.65-0.69 the gap first gave
# (blended toward the read-out: 20 de/fr dubs in the default, f1, f3, f5 and Klatt voices, timing
# r0 0.731 against script-aware's 0.803). The band's top now sits at the lowest of those voices
# (0.665, rounded up); its foot stays where it was, 0.015 over the highest recorded voice
# (expr_sad, crying, 0.635; then speech_a 0.625 and talk_h 0.617), so no recorded voice measured
# moves. Those 20 dubs 0.731 -> 0.740, the dev set's 12 0.775 -> 0.779, and fifteen dubs in
# voices and pitches no choice was made on (f2, f4, m3, the default voice at pitch 90, f2 at
# pitch 80; bench/bench_audio_closures.py --set others) 0.772 -> 0.785, script-aware 0.800. A
# foot at 0.64 read 0.750 and 0.795 but leaves 0.005 over expr_sad: a recorded voice is what the
# product is for, and the read-out's loss there is the larger (in-sample r0 0.493 -> 0.322 with
# the network's aperture throughout). Klatt voices (0.59-0.65) still read as recorded, and so do
# some female dubs of some texts (de+f2 and f4 on "Im Winter trinken wir gerne Tee.": 0.639-0.642).
_SURE_LO, _SURE_HI = 0.65, 0.67


def network_certainty(net: MouthCurves) -> float:
    """Mean top viseme-class probability of the network over the frames it hears as speech
    (0 when none)."""
    sp = net.speech > 0.5
    if net.classes is None or not sp.any():
        return 0.0
    return float(net.classes[sp].max(axis=1).mean())


# The networks regress to the middle what their classes tell apart: on eSpeak NG dubs with true
# phone times (the three talk dubs and four hard-set dubs, 25 fps track against the script-aware
# track drawn from the true phones; scratch aoapm.py / aowid.py) their vowels open 0.33 and open
# vowels 0.55 where script-aware draws 0.41 and 0.68 (consonants 0.32 against 0.34), and their
# rounded vowels are 0.38 wide where script-aware draws 0.30 (spread vowels 0.64 in both). Adding
# back the contrast the classes carry, in proportion to their probability: the vowel classes'
# probability times _VOWEL_OPEN to the aperture (vowels 0.33 -> 0.41 or so, open vowels 0.55 ->
# 0.65; timing r of the track against the true phones 0.767 -> 0.786, every dub up), the rounded
# classes' times _ROUND_NARROW off the width (rounded vowels 0.38 -> 0.31, spread 0.64 -> 0.635).
# The two values bring those class means to script-aware's; fit leaving each dub out they come
# out 0.12-0.14 and 0.10-0.12 (docs/quality.md 'Closing the gap'). The aperture's contrast is the
# network's own aperture's, which `combine` weighs against the read-out by `sure`; the width,
# which has no read-out, is cut as far as the network is sure (on recorded voices its classes are
# less reliable).
_VOWEL_OPEN = 0.12
_ROUND_NARROW = 0.1
_VOWEL_CLASSES = ("aa", "E", "ih", "oh", "ou")
_ROUNDED_CLASSES = ("oh", "ou")
_ROUNDED_WIDTH = VISEME_TARGET["ou"][1]


# The classes' own aperture: each frame's viseme probabilities times the opening the track draws
# for that viseme (lipflap.mouth.visemes.VISEME_TARGET), given half the weight. The classes
# change where the phones change, the regressed curve a few frames either side (the contrast
# above brings its levels apart, not its edges). Track timing r0 against the true phones
# (`python bench/bench_audio_closures.py --set eval`, lipeval's rule on the track's aperture;
# docs/quality.md 'The classes' own aperture'): 27 eval dubs 0.808 -> 0.819 (script-aware
# 0.836), more than 0.05 under on 7 -> 5; the weight chosen there (0.3 0.820, 0.5 0.819, 0.7
# 0.812; 0.5 for the fewer dubs under); the dev, others and hard sets held out.
_CLASS_APERTURE = 0.5


def class_aperture(net: MouthCurves) -> np.ndarray:
    """(T,) the aperture the network's viseme classes expect: their probabilities times each
    viseme's opening (VISEME_TARGET)."""
    names = tuple(net.visemes)
    opening = np.array([VISEME_TARGET[v][0] for v in names], np.float32)
    return (np.asarray(net.classes, np.float32) @ opening).astype(np.float32)


def _class_contrast(net: MouthCurves, aperture: np.ndarray, width: np.ndarray,
                    sure: float) -> tuple[np.ndarray, np.ndarray]:
    """(aperture, width) with the vowel and rounded classes' contrast restored and the aperture
    taken _CLASS_APERTURE of the way to the classes' own (see above); sealed frames (the
    network's closure) stay sealed."""
    if net.classes is None:
        return aperture, width
    names = tuple(net.visemes)
    vowel = net.classes[:, [names.index(v) for v in _VOWEL_CLASSES]].sum(axis=1)
    rounded = net.classes[:, [names.index(v) for v in _ROUNDED_CLASSES]].sum(axis=1)
    aperture = np.clip(aperture + _VOWEL_OPEN * vowel * (1.0 - net.closure), 0.0, 1.0)
    aperture = ((1.0 - _CLASS_APERTURE) * aperture
                + _CLASS_APERTURE * class_aperture(net) * (1.0 - net.closure))
    # never past the rounded viseme's own width, where script-aware's narrowest is drawn (its
    # tracks' narrowest frame on those seven dubs: 0.22-0.30): the cut took five frames of the
    # talk_b and smallface dubs to 0.11-0.17
    floor = np.minimum(width, _ROUNDED_WIDTH)
    width = np.maximum(width - sure * _ROUND_NARROW * rounded, floor)
    return aperture, width


def combine(net: MouthCurves, heard: MouthCurves,
            readout: aperture_readout.Readout | None = None) -> MouthCurves:
    """The two sources as one set of curves: the mean of their shapes other than the aperture,
    and of their speech; the largest closure (see _closure);
    the network's classes (the decoder's English labels are too coarse a guide for other
    languages); the network's aperture, widened toward the mean of the two sources but never
    narrowed, nor opened where the network hears sealed lips.

    On speech the network is unsure of (recorded voices, see _SURE_LO) and with a `readout`
    (the linear map fit to real mouths, lipflap.speech.aperture_readout): the aperture is the
    read-out's, shut where the network hears sealed lips (the read-out spreads a closure over
    its +-200 ms kernel; the gate costs 0.002 of the leave-one-out mean r) and outside the
    speech (_inside_speech), and the speech is the larger of the two sources'."""
    mean = {k: ((getattr(net, k) + getattr(heard, k)) / 2).astype(np.float32)
            for k in ("aperture", "width", "rounding", "jaw", "speech")}
    wider = np.maximum(mean["aperture"] - net.aperture, 0.0) * (1.0 - net.closure)
    aperture = net.aperture + wider
    sure = np.clip((network_certainty(net) - _SURE_LO) / (_SURE_HI - _SURE_LO), 0.0, 1.0)
    aperture, width = _class_contrast(net, aperture, mean["width"], sure)
    speech = mean["speech"]
    own = 1.0
    if readout is not None and sure < 1.0:
        own = float(sure)
        gate = (1.0 - net.closure) * _inside_speech(speech)
        aperture = sure * aperture + (1.0 - sure) * readout(net, heard) * gate
        # on recorded voices a frame is speech where either source hears speech (real mouths
        # rarely rest inside a phrase: leave-one-out mean r 0.419 -> 0.428, no clip lower by
        # more than 0.007)
        speech = sure * speech + (1.0 - sure) * np.maximum(net.speech, heard.speech)
    return MouthCurves(net.hop_s, net.times, aperture.astype(np.float32), width.astype(np.float32),
                       mean["rounding"], mean["jaw"],
                       _closure(net, heard),
                       speech.astype(np.float32), net.classes, own_aperture=own)


# The closure head (lipflap.speech.closure_head) only adds closures the other sources missed: a
# run of its frames at _HEAD_P or more counts where neither the networks nor the phone decoder
# reach _FOUND_P (the track's seal threshold, lipflap.mouth.rules.closure) within _HEAD_MARGIN
# frames of it. Taken as a plain maximum it lengthened and joined the others' closures (a seal a
# frame early; two runs of "mamá" made one, so one seal fewer). Runs the head alone has, on the
# synthetic dubs of talk_a-e (make_dub.py, three sentences per language, 135-170 words a
# minute): 0.96 on the b of "mit Brot" (missed before), 0.71-0.82 on b's already sealed, and at
# most 0.83 where script-aware is open (Spanish intervocalic β in "bajo": 0.81-0.83; else
# 0.54-0.66); _HEAD_P sits above them. Held out, talk_f-i: "mit Brot" 0.95-0.98, the rest at most
# 0.72. A lower bar lets the β through; a head fit without the partial closures of β in its
# target separated worse (0.92 on "packt die").
_HEAD_P = 0.85
_FOUND_P = 0.5
_HEAD_MARGIN = 3


def _closure(net: MouthCurves, heard: MouthCurves) -> np.ndarray:
    """The larger closure of the networks and the phone decoder (each may hear a sealed p the
    other missed), with the closure head's runs that neither of them has."""
    out = np.maximum(net.closure, heard.closure).astype(np.float32)
    head = net.cluster_closure
    if head is None or not len(out):
        return out
    hot = np.concatenate([[0], (head >= _HEAD_P).astype(np.int8), [0]])
    starts, ends = np.flatnonzero(np.diff(hot) == 1), np.flatnonzero(np.diff(hot) == -1)
    found = out >= _FOUND_P
    for a, b in zip(starts, ends):
        if not found[max(a - _HEAD_MARGIN, 0):b + _HEAD_MARGIN].any():
            out[a:b] = np.maximum(out[a:b], head[a:b])
    return out
