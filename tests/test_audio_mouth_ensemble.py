"""The engine's numpy networks against the torch model they were exported from, alone and packed
into an ensemble (training/train_audio_mouth.py, training/pack_ensemble.py)."""
from __future__ import annotations

import ast
import sys
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "training"))
import pack_ensemble  # noqa: E402
import train_audio_mouth as tam  # noqa: E402

from lipflap.speech import audio_features as af  # noqa: E402
from lipflap.speech import audio_only  # noqa: E402


def _exported(tmp_path, seed):
    torch.manual_seed(seed)
    model = tam.MouthNet(16).eval()
    path = tmp_path / f"m{seed}.npz"
    tam.export(model, str(path), {"seed": seed})
    return model, path


def _torch_out(model, feats):
    # the export stores float16 weights: compare against the model with the same rounding
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(p.half().float())
        return model(torch.from_numpy(feats.T[None]))[0].numpy().T


def test_single_network_file_matches_torch(tmp_path):
    model, path = _exported(tmp_path, 1)
    feats = np.random.default_rng(0).normal(size=(300, af.N_FEATURES)).astype(np.float32)
    got = audio_only._Ensemble(path)(feats)
    assert got.shape == (300, tam.N_OUT)
    np.testing.assert_allclose(got, _torch_out(model, feats), atol=2e-4)


def test_packed_ensemble_is_the_mean_of_its_members(tmp_path):
    (m1, p1), (m2, p2), (m3, p3) = (_exported(tmp_path, s) for s in (1, 2, 3))
    packed = tmp_path / "ens.npz"
    pack_ensemble.pack([str(p1), str(p2), str(p3)], str(packed))
    feats = np.random.default_rng(1).normal(size=(200, af.N_FEATURES)).astype(np.float32)
    ens = audio_only._Ensemble(packed)
    assert len(ens.nets) == 3
    want = np.mean([_torch_out(m, feats) for m in (m1, m2, m3)], axis=0)
    np.testing.assert_allclose(ens(feats), want, atol=2e-4)
    with np.load(packed) as z:
        assert "seed': 2" in str(z["meta"])      # every member's provenance is kept


def test_packing_refuses_mismatched_layouts_and_nested_ensembles(tmp_path):
    _, p1 = _exported(tmp_path, 1)
    odd = tmp_path / "odd.npz"
    with np.load(p1) as z:
        arrays = {k: z[k] for k in z.files}
    arrays["n_features"] = np.int64(af.N_FEATURES + 1)
    np.savez(odd, **arrays)
    with pytest.raises(SystemExit, match="layout"):
        pack_ensemble.pack([str(p1), str(odd)], str(tmp_path / "x.npz"))
    packed = tmp_path / "ens.npz"
    pack_ensemble.pack([str(p1)], str(packed))
    with pytest.raises(SystemExit, match="already an ensemble"):
        pack_ensemble.pack([str(packed)], str(tmp_path / "y.npz"))


def test_shipped_weights_are_an_ensemble_of_seeds():
    ens = audio_only._Ensemble(audio_only.WEIGHTS)
    assert len(ens.nets) >= 2
    with np.load(audio_only.WEIGHTS) as z:
        seeds = [m["seed"] for m in ast.literal_eval(str(z["meta"]))]
    assert len(set(seeds)) == len(seeds) == len(ens.nets)
