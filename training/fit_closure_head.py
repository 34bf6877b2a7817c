"""Fit the audio-only path's second closure read-out (lipflap.speech.closure_head).

python training/fit_closure_head.py --out core/speech/closure_head.npz
    [--items 1200] [--val-items 200] [--seed 11] [--cluster-share 0.5] [--units 32] [--epochs 4]

eSpeak NG speech only (no Festival needed), made like the networks' training set
(training/make_data.py: voices, rates, EQ, reverb, noise), of which `--cluster-share` of the
utterances are phrases of alveolar + bilabial word pairs (texts.cluster_sentence). Targets are
the closure curve of lipflap.speech.articulation from the phone times, with eSpeak's b after a
consonant given back the silence before its burst (make_data.bilabial_closures). Inputs are
the shipped networks' (core/speech/audio_mouth.npz) last hidden layers and the features, at
the head's lags; the head is one layer of `--units` rectified units and a logistic output,
trained by AdamW on one thread, seeded: the same command gives the same file. About 10 minutes on a loaded 2-core machine, most of it
generating speech. The validation set (another seed) is printed for the head and for the
networks' own closure output side by side.
"""
from __future__ import annotations

import argparse
import json
import os
import pickle
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_data  # noqa: E402
from lipflap.speech import audio_only, closure_head  # noqa: E402

# Frames kept for the fit: every frame within this many hops of a closure, and this share of the
# rest (re-weighted by its inverse, so the fitted probabilities are not inflated).
_NEAR = 15
_KEEP_FAR = 0.25


def _item(args):
    i, seed, share = args
    x, phones = make_data.make_item(i, seed, 0.0, share)
    return x, phones


def generate(items: int, seed: int, share: float, workers: int) -> list:
    """[(features (T, F) float16, phones)] for items 0..items-1 of `seed`."""
    jobs = [(i, seed, share) for i in range(items)]
    if workers > 1:
        import multiprocessing as mp
        with mp.get_context("fork").Pool(workers) as pool:
            return pool.map(_item, jobs, chunksize=8)
    return [_item(j) for j in jobs]


def frames(data: list) -> tuple[list, list, list]:
    """Per item: the head's inputs (the networks' hidden units and the features), the closure
    target, and the closure the networks output themselves."""
    net = audio_only._net()
    xs, ys, own = [], [], []
    for x, phones in data:
        feats = x.astype(np.float32)
        out, hidden = net.run(feats)
        y, _ = make_data.targets(len(x), make_data.bilabial_closures(phones))
        xs.append(closure_head.inputs(hidden, feats))
        ys.append(y[:, 4])
        own.append(1.0 / (1.0 + np.exp(-out[:, audio_only._N_REG])))
    return xs, ys, own


def training_rows(xs, ys, rng) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(lagged input rows, targets, weights): frames near a closure and a share of the others."""
    rows, yt, wt = [], [], []
    for x, y in zip(xs, ys):
        near = np.convolve((y > 0.02).astype(float), np.ones(2 * _NEAR + 1), "same") > 0
        keep = near | (rng.random(len(y)) < _KEEP_FAR)
        rows.append(closure_head.design(x)[keep])
        yt.append(y[keep])
        wt.append(np.where(near[keep], 1.0, 1.0 / _KEEP_FAR))
    return np.concatenate(rows), np.concatenate(yt), np.concatenate(wt)


def fit(x, y, w, n_inputs: int, units: int, epochs: int, seed: int) -> closure_head.ClosureHead:
    """Weighted cross-entropy, AdamW in minibatches of 1024 over standardised inputs (one mean
    and scale per input, shared by its lags)."""
    lags = len(closure_head.LAGS)
    mean = x[:, (lags // 2) * n_inputs:(lags // 2 + 1) * n_inputs].mean(axis=0)
    scale = x[:, (lags // 2) * n_inputs:(lags // 2 + 1) * n_inputs].std(axis=0) + 1e-3
    z = torch.from_numpy(((x - np.tile(mean, lags)) / np.tile(scale, lags)).astype(np.float32))
    yt, wt = torch.from_numpy(y.astype(np.float32)), torch.from_numpy(w.astype(np.float32))
    gen = torch.Generator().manual_seed(seed)
    model = torch.nn.Sequential(torch.nn.Linear(z.shape[1], units), torch.nn.ReLU(),
                                torch.nn.Linear(units, 1))
    opt = torch.optim.AdamW(model.parameters(), lr=2e-3, weight_decay=1e-3)
    for _ in range(epochs):
        perm = torch.randperm(len(z), generator=gen)
        for s in range(0, len(z), 1024):
            idx = perm[s:s + 1024]
            loss = torch.nn.functional.binary_cross_entropy_with_logits(
                model(z[idx])[:, 0], yt[idx], weight=wt[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
    p = {k: v.detach().numpy() for k, v in model.state_dict().items()}
    w1 = p["0.weight"].reshape(units, lags, n_inputs).transpose(1, 2, 0)
    return closure_head.ClosureHead(mean.astype(np.float32), scale.astype(np.float32),
                                    np.ascontiguousarray(w1), p["0.bias"], p["2.weight"][0],
                                    float(p["2.bias"][0]))


def scores(probs: list, ys: list, data: list) -> dict:
    """Mean probability inside closures and outside them; recall of eSpeak's short b after a
    consonant (the largest probability from 40 ms before it to 20 ms after, >= 0.5); frames at
    >= 0.5 with no closure within 50 ms (false alarms) per 1000 frames."""
    p, y = np.concatenate(probs), np.concatenate(ys)
    hits, far, n = [], 0, 0
    for pr, yy, (_, phones) in zip(probs, ys, data):
        for k, (ph, a, b) in enumerate(phones[1:], 1):
            prev = phones[k - 1][0].strip("ˈˌː")
            if ph.strip("ˈˌː") == "b" and prev and prev[0] not in make_data._VOWEL_CHARS:
                i0, i1 = int(a * 100) - 4, int(b * 100) + 3
                hits.append(pr[max(i0, 0):i1].max() >= 0.5 if i1 > max(i0, 0) else False)
        near = np.convolve((yy > 0.02).astype(float), np.ones(11), "same") > 0
        far += int(((pr >= 0.5) & ~near).sum())
        n += len(pr)
    return {"in": round(float(p[y > 0.9].mean()), 3), "out": round(float(p[y < 0.1].mean()), 4),
            "b_after_consonant": round(float(np.mean(hits)), 3) if hits else None,
            "n_b": len(hits), "false_per_1000": round(1000.0 * far / max(n, 1), 2)}


def items(a) -> tuple[list, list]:
    """(train, val) items, from --data when it exists (as this function wrote it)."""
    if a.data and os.path.exists(a.data):
        with open(a.data, "rb") as f:
            return pickle.load(f)
    train = generate(a.items, a.seed, a.cluster_share, a.workers)
    val = generate(a.val_items, a.seed + 1000, a.cluster_share, a.workers)
    if a.data:
        with open(a.data, "wb") as f:
            pickle.dump((train, val), f)
    return train, val


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--out", required=True)
    p.add_argument("--items", type=int, default=1200)
    p.add_argument("--val-items", type=int, default=200)
    p.add_argument("--seed", type=int, default=11)
    p.add_argument("--cluster-share", type=float, default=0.5)
    p.add_argument("--units", type=int, default=32)
    p.add_argument("--epochs", type=int, default=4)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--data", help="a pickle of (train, val) items: read when it exists, else "
                   "generated and written there (generation is most of the run)")
    a = p.parse_args()
    torch.manual_seed(a.seed)
    torch.set_num_threads(1)
    t0 = time.time()
    train, val = items(a)
    print(f"data ready in {time.time() - t0:.0f}s", flush=True)
    xs, ys, _ = frames(train)
    x, y, w = training_rows(xs, ys, np.random.default_rng(a.seed))
    print(f"{len(x)} frames, {x.shape[1]} inputs", flush=True)
    head = fit(x, y, w, xs[0].shape[1], a.units, a.epochs, a.seed)
    del x, y, w
    vh, vy, vown = frames(val)
    ev = {"head": scores([head(h) for h in vh], vy, val), "networks": scores(vown, vy, val)}
    print(json.dumps(ev), f"{time.time() - t0:.0f}s", flush=True)
    closure_head.save(head, a.out, {"val": ev, "args": vars(a),
                                     "command": "python " + " ".join(sys.argv)})
    print("wrote", a.out)


if __name__ == "__main__":
    main()
