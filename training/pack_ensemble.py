"""Pack networks exported by train_audio_mouth.py into the one weights file the engine reads.

python training/pack_ensemble.py --out core/speech/audio_mouth.npz M1.npz M2.npz ...

Networks trained by the same command with different seeds agree on synthetic speech but each
carries recorded speech, which none of them heard, in its own way; the engine runs them all and
averages their outputs (lipflap.speech.audio_only). Members must share the layer layout and the
feature count. The packed file keeps every member's `meta` (seed, step, command) in order.
"""
from __future__ import annotations

import argparse
import ast

import numpy as np

_SHARED = ("blocks", "visemes", "n_features")


def pack(members: list[str], out: str) -> None:
    if not members:
        raise SystemExit("pack_ensemble: give at least one network .npz")
    arrays, metas, ref = {}, [], None
    for i, path in enumerate(members):
        with np.load(path) as z:
            if "members" in z.files:
                raise SystemExit(f"{path} is already an ensemble; give the single networks")
            shared = {k: z[k] for k in _SHARED}
            if ref is None:
                ref = shared
            elif any(not np.array_equal(ref[k], shared[k]) for k in _SHARED):
                raise SystemExit(f"{path}: layer layout, visemes or feature count differ from "
                                 f"{members[0]}; retrain it with the same code")
            for k in z.files:
                if k not in _SHARED and k != "meta":
                    arrays[f"m{i}/{k}"] = z[k]
            metas.append(ast.literal_eval(str(z["meta"])) if "meta" in z.files else {})
    np.savez_compressed(out, members=np.int32(len(members)), meta=np.array(repr(metas)),
                        **ref, **arrays)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--out", required=True)
    p.add_argument("members", nargs="+", help="networks written by train_audio_mouth.py --out")
    a = p.parse_args()
    pack(a.members, a.out)
    print(f"wrote {a.out}: {len(a.members)} networks")


if __name__ == "__main__":
    main()
