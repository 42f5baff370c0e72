"""Training at the GPU's speed: our epoch, a full paper fit, a 10-fold CV and a wide ensemble, side by side.

Needs a CUDA GPU (prints that it found none and exits 0 otherwise). On the
OQMD train+val splits (|ΔHf| <= 5 eV/atom, 290,363 rows), paper network
(128, 128, 64, 64, 32), batch 1024, float32, scored on the full test split:

1. one epoch: ``FormationEnthalpyRegressor`` with its CUDA-graph step,
   the same with ``cuda_graphs=False``, a bare PyTorch loop (data on the
   GPU, no per-batch sync), and the arithmetic floor (the epoch's
   multiply-adds at the card's measured float32 matrix-product rate);
2. a full paper fit (100 epochs) with the graph step and with the eager
   step, ``--seeds`` seeds each: time and test MAE (the spread over seeds
   is the noise the two are compared against);
3. a 10-fold CV: :func:`sklearn_hform.model_selection.cross_validate`
   (all folds stacked) against scikit-learn's ``cross_val_score``
   (``n_jobs=1``; ``--cv-epochs`` epochs for both);
4. an 8-member ``DeepEnsembleRegressor`` of the wide network
   (1024, 1024, 512, 512, 256, 128), bfloat16, AdamW, batch 512,
   ``--wide-epochs`` epochs (stacked).

Targets on one H100: paper fit <= 8 s, 10-fold CV <= 30 s, 8-member wide
ensemble of 100 epochs <= 120 s.

    python benchmarks/bench_gpu.py [--seeds 2] [--cv-epochs 100] [--wide-epochs 100] [--skip ...]
"""

import argparse
import time

import numpy as np
import torch

ARCH = (128, 128, 64, 64, 32)
WIDE = (1024, 1024, 512, 512, 256, 128)


def synced(fn):
    torch.cuda.synchronize()
    t0 = time.perf_counter()
    out = fn()
    torch.cuda.synchronize()
    return time.perf_counter() - t0, out


def multiply_adds(n_features, arch):
    widths = [n_features, *arch, 1]
    return sum(a * b for a, b in zip(widths, widths[1:]))


def matmul_rate(batch, width):
    """Measured float32 multiply-adds per second of a (batch x width) @ (width x width) product."""
    a = torch.randn(batch, width, device="cuda")
    b = torch.randn(width, width, device="cuda")
    for _ in range(10):
        a @ b
    reps = 200
    t, _ = synced(lambda: [a @ b for _ in range(reps)])
    return reps * batch * width * width / t


def bare_epoch(X, y, batch_size, epochs=3):
    from sklearn_hform.neural_network import FractionMLP

    model = FractionMLP(X.shape[1], ARCH).cuda()
    opt = torch.optim.RMSprop(model.parameters(), lr=3e-3, foreach=True)

    def run():
        for _ in range(epochs):
            order = torch.randperm(len(X), device="cuda")
            for i in range(0, len(X), batch_size):
                rows = order[i:i + batch_size]
                opt.zero_grad()
                (model(X[rows]) - y[rows]).abs().mean().backward()
                opt.step()
    run_time, _ = synced(run)
    return run_time / epochs


def fit_time(make, X, y):
    est = make()
    t, _ = synced(lambda: est.fit(X, y))
    return t, est


def test_mae(est, X, y):
    return float(np.mean(np.abs(est.predict(X) - y)))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=2)
    parser.add_argument("--cv-epochs", type=int, default=100)
    parser.add_argument("--wide-epochs", type=int, default=100)
    parser.add_argument("--skip", nargs="*", default=[], choices=["epoch", "fit", "cv", "wide"])
    args = parser.parse_args()
    if not torch.cuda.is_available():
        print("no CUDA GPU visible: nothing to measure")
        return

    from sklearn.model_selection import KFold, cross_val_score
    from sklearn.pipeline import make_pipeline

    from sklearn_hform import CompositionFractionTransformer, DeepEnsembleRegressor, FormationEnthalpyRegressor
    from sklearn_hform.datasets import load_oqmd_hform
    from sklearn_hform.model_selection import cross_validate

    print(f"GPU: {torch.cuda.get_device_name()}, torch {torch.__version__}")
    torch.backends.cuda.matmul.allow_tf32 = False
    Xf, y = load_oqmd_hform(split=["train", "val"], return_X_y=True, as_frame=False)
    Xtf, yt = load_oqmd_hform(split="test", return_X_y=True, as_frame=False, drop_outliers=False)
    t = CompositionFractionTransformer().fit(Xf)
    X, Xt = t.transform(Xf).astype(np.float32), t.transform(Xtf).astype(np.float32)
    y, yt = y.astype(np.float32), yt.astype(np.float64)
    print(f"train rows {len(X):,}, test rows {len(Xt):,}, features {X.shape[1]}")

    def paper(**kw):
        return lambda: FormationEnthalpyRegressor(device="cuda", **kw)

    if "epoch" not in args.skip:
        Xg, yg = torch.tensor(X, device="cuda"), torch.tensor(y, device="cuda")
        flops = 3 * multiply_adds(X.shape[1], ARCH) * len(X)  # forward + backward, multiply-adds
        floor = flops / matmul_rate(1024, 128)
        bare_epoch(Xg, yg, 1024, epochs=1)  # warm-up
        bare = bare_epoch(Xg, yg, 1024)
        rows = {}
        for name, graphs in (("ours, CUDA graph", True), ("ours, eager", False)):
            fit_time(paper(max_epochs=2, cuda_graphs=graphs), X, y)  # warm-up
            _, est = fit_time(paper(max_epochs=5, cuda_graphs=graphs), X, y)
            rows[name] = float(np.median(est.net_.history[:, "dur"][1:]))
        rows["bare PyTorch loop"] = bare
        rows["arithmetic floor"] = floor
        print(f"\n1. one epoch, {len(X):,} rows, batch 1024")
        for name, sec in rows.items():
            print(f"   {name:20s} {sec * 1e3:9.1f} ms   {sec / rows['ours, CUDA graph']:6.2f}x ours")

    if "fit" not in args.skip:
        print("\n2. full paper fit, 100 epochs (target <= 8 s)")
        for name, graphs in (("CUDA graph", True), ("eager", False)):
            times, maes = [], []
            for seed in range(args.seeds):
                sec, est = fit_time(paper(random_state=seed, cuda_graphs=graphs), X, y)
                times.append(sec)
                maes.append(test_mae(est, Xt, yt))
            print(f"   {name:10s} {np.mean(times):7.1f} s   test MAE {np.mean(maes):.4f} "
                  f"(seeds: {', '.join(f'{m:.4f}' for m in maes)})")

    if "cv" not in args.skip:
        print(f"\n3. 10-fold CV, {args.cv_epochs} epochs (target <= 30 s for 100 epochs)")
        pipe = make_pipeline(CompositionFractionTransformer(),
                             FormationEnthalpyRegressor(max_epochs=args.cv_epochs, random_state=0, device="cuda"))
        cv = KFold(10, shuffle=True, random_state=0)
        sec, ours = synced(lambda: cross_validate(pipe, Xf, y, cv=cv, scoring="neg_mean_absolute_error"))
        print(f"   sklearn_hform cross_validate (stacked) {sec:7.1f} s   MAE {-ours['test_score'].mean():.4f}")
        sec2, theirs = synced(lambda: cross_val_score(pipe, Xf, y, cv=cv, scoring="neg_mean_absolute_error"))
        print(f"   scikit-learn cross_val_score          {sec2:7.1f} s   MAE {-theirs.mean():.4f}")
        print(f"   stacked is {sec2 / sec:.1f}x faster")

    if "wide" not in args.skip:
        print(f"\n4. 8-member wide ensemble {WIDE}, {args.wide_epochs} epochs (target <= 120 s for 100)")
        member = FormationEnthalpyRegressor(hidden_layer_sizes=WIDE, optimizer="adamw", lr=1e-3, weight_decay=1e-4,
                                            batch_size=512, max_epochs=args.wide_epochs, mixed_precision=True,
                                            device="cuda")
        sec, ens = fit_time(lambda: DeepEnsembleRegressor(member, n_estimators=8, random_state=0), X, y)
        members = [test_mae(m, Xt, yt) for m in ens.estimators_]
        print(f"   {sec:7.1f} s   ensemble test MAE {test_mae(ens, Xt, yt):.4f}, "
              f"members {min(members):.4f}-{max(members):.4f}")


if __name__ == "__main__":
    main()
