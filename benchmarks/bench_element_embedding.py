"""Do element embeddings started from Magpie properties help the composition transformer?

Trains ``CompositionTransformerRegressor`` with ``element_embedding="random"``
and ``"magpie"`` side by side on the same rows, seeds and settings, for a
few training-set sizes, and prints the test-split MAE of each (all 51,255
test rows) and the difference. Each run is one seed per setting and size
unless ``--seeds`` says otherwise; the spread over seeds is printed with it.

    python benchmarks/bench_element_embedding.py [--sizes 5000 30000] [--epochs 15] [--seeds 2]
"""

import argparse
import time

import numpy as np


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[5000, 30000])
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--seeds", type=int, default=2)
    parser.add_argument("--d-model", type=int, default=64)
    args = parser.parse_args()

    import torch

    from sklearn_hform import CompositionFractionTransformer, CompositionTransformerRegressor
    from sklearn_hform.datasets import load_oqmd_hform

    Xf, y = load_oqmd_hform(split=["train", "val"], return_X_y=True, as_frame=False)
    Xtf, yt = load_oqmd_hform(split="test", return_X_y=True, as_frame=False, drop_outliers=False)
    t = CompositionFractionTransformer().fit(Xf)
    X, Xt = t.transform(Xf), t.transform(Xtf)
    order = np.random.default_rng(0).permutation(len(X))
    print(f"d_model {args.d_model}, 3 layers, {args.epochs} epochs, torch threads {torch.get_num_threads()}, "
          f"test rows {len(Xt):,}")
    print(f"{'rows':>8} {'random':>16} {'magpie':>16} {'magpie - random':>16}")
    for size in args.sizes:
        rows = order[:size]
        maes = {}
        t0 = time.perf_counter()
        for init in ("random", "magpie"):
            maes[init] = []
            for seed in range(args.seeds):
                est = CompositionTransformerRegressor(d_model=args.d_model, dim_feedforward=4 * args.d_model,
                                                      element_embedding=init, max_epochs=args.epochs,
                                                      mixed_precision=True, random_state=seed, device="cpu")
                est.fit(X[rows], y[rows])
                maes[init].append(float(np.mean(np.abs(est.predict(Xt) - yt))))
        r, m = np.array(maes["random"]), np.array(maes["magpie"])
        print(f"{size:8,d} {r.mean():9.4f} ±{r.std():.4f} {m.mean():9.4f} ±{m.std():.4f} {m.mean() - r.mean():+16.4f}"
              f"   ({time.perf_counter() - t0:.0f} s)", flush=True)


if __name__ == "__main__":
    main()
