"""Epoch time of FormationEnthalpyRegressor against its peers.

Paper architecture (128, 128, 64, 64, 32), 100,000 OQMD rows, side by side in
one process with one intra-op thread (and one BLAS thread for scikit-learn):

- scikit-learn ``MLPRegressor`` (adam; its fastest solver for mini-batches),
- a plain skorch ``NeuralNetRegressor`` with its default DataLoader,
- a bare PyTorch loop slicing one in-memory tensor,
- ``FormationEnthalpyRegressor`` (skorch with the tensor-slicing data path),
  in float32 and with ``mixed_precision=True`` (bfloat16 hidden layers).

Prints the mean epoch time of each and the ratios. Targets: ours <= MLPRegressor,
and >= 3x faster than plain skorch. With a GPU, also times an epoch on it and,
with ``--cv``, a full 10-fold cross-validation of the paper model.

    python benchmarks/bench_epoch.py [--rows 100000] [--epochs 3] [--threads 1] [--cv]
"""

import argparse
import time
import warnings

import numpy as np
import torch
from threadpoolctl import threadpool_limits

ARCH = (128, 128, 64, 64, 32)


def epoch_mlpregressor(X, y, batch_size, epochs):
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPRegressor

    est = MLPRegressor(hidden_layer_sizes=ARCH, solver="adam", batch_size=batch_size, max_iter=epochs, shuffle=True,
                       random_state=0, tol=0, n_iter_no_change=10**9)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        t0 = time.perf_counter()
        est.fit(X, y)
    return (time.perf_counter() - t0) / epochs


def epoch_plain_skorch(X, y, batch_size, epochs):
    from skorch import NeuralNetRegressor

    from sklearn_hform.mlp import FractionMLP

    net = NeuralNetRegressor(FractionMLP, module__n_features=X.shape[1], module__hidden_layer_sizes=ARCH,
                             criterion=torch.nn.L1Loss, optimizer=torch.optim.RMSprop, lr=3e-3,
                             batch_size=batch_size, max_epochs=epochs, train_split=None,
                             iterator_train__shuffle=True, verbose=0)
    net.fit(X, y)
    return float(np.mean(net.history[:, "dur"]))


def epoch_bare_torch(X, y, batch_size, epochs):
    from sklearn_hform.mlp import FractionMLP

    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
    model = FractionMLP(X.shape[1], ARCH)
    opt = torch.optim.RMSprop(model.parameters(), lr=3e-3)
    loss_fn = torch.nn.L1Loss()
    t0 = time.perf_counter()
    for _ in range(epochs):
        order = torch.randperm(len(Xt))
        Xs, ys = Xt[order], yt[order]
        for i in range(0, len(Xs), batch_size):
            opt.zero_grad()
            loss = loss_fn(model(Xs[i:i + batch_size]), ys[i:i + batch_size])
            loss.backward()
            opt.step()
    return (time.perf_counter() - t0) / epochs


def epoch_ours(X, y, batch_size, epochs, device="cpu", mixed_precision=False):
    from sklearn_hform import FormationEnthalpyRegressor

    est = FormationEnthalpyRegressor(batch_size=batch_size, max_epochs=epochs, random_state=0, device=device,
                                     mixed_precision=mixed_precision)
    est.fit(X, y)
    return float(np.mean(est.net_.history[:, "dur"]))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--cv", action="store_true", help="with a GPU: time a 10-fold CV of the paper model")
    args = parser.parse_args()

    from sklearn_hform import CompositionFractionTransformer
    from sklearn_hform.datasets import load_oqmd_hform

    Xf, y = load_oqmd_hform(split=["train", "val"], return_X_y=True, as_frame=False)
    X = CompositionFractionTransformer().fit_transform(Xf[: args.rows]).astype(np.float32)
    y = y[: args.rows].astype(np.float32)
    torch.set_num_threads(args.threads)
    print(f"rows {len(X)}, features {X.shape[1]}, architecture {ARCH}, torch threads {torch.get_num_threads()}, "
          f"epochs averaged {args.epochs}")
    trainers = [("sklearn MLPRegressor", epoch_mlpregressor), ("plain skorch", epoch_plain_skorch),
                ("bare torch loop", epoch_bare_torch), ("FormationEnthalpyRegressor", epoch_ours),
                ("  same, mixed_precision=True", lambda *a: epoch_ours(*a, mixed_precision=True))]
    for batch_size in (256, 1024):
        times = {}
        with threadpool_limits(args.threads):
            for name, fn in trainers:
                torch.manual_seed(0)
                times[name] = fn(X, y, batch_size, args.epochs)
        ours = times["FormationEnthalpyRegressor"]
        print(f"\nbatch {batch_size} (CPU)")
        for name, t in times.items():
            print(f"  {name:28s} {t:7.3f} s/epoch   {t / ours:5.2f}x ours")
        print(f"  ours vs MLPRegressor: {times['sklearn MLPRegressor'] / ours:.2f}x faster (target >= 1)")
        print(f"  ours vs plain skorch: {times['plain skorch'] / ours:.2f}x faster (target >= 3)")
        bf16 = times["  same, mixed_precision=True"]
        print(f"  ours with bfloat16: {times['sklearn MLPRegressor'] / bf16:.2f}x MLPRegressor, "
              f"{times['plain skorch'] / bf16:.2f}x plain skorch")

    if torch.cuda.is_available():
        print(f"\nGPU: {torch.cuda.get_device_name()}")
        for batch_size in (1024, 4096):
            epoch_ours(X, y, batch_size, 2, device="cuda")  # warm-up
            print(f"  batch {batch_size}: {epoch_ours(X, y, batch_size, args.epochs, device='cuda'):.3f} s/epoch")
        if args.cv:
            from sklearn.model_selection import KFold, cross_val_score
            from sklearn.pipeline import make_pipeline

            from sklearn_hform import FormationEnthalpyRegressor

            Xa, ya = load_oqmd_hform(return_X_y=True)
            pipe = make_pipeline(CompositionFractionTransformer(), FormationEnthalpyRegressor(device="cuda"))
            t0 = time.perf_counter()
            scores = cross_val_score(pipe, Xa, ya, cv=KFold(10, shuffle=True, random_state=0),
                                     scoring="neg_mean_absolute_error")
            print(f"  10-fold CV of the paper model on {len(Xa)} rows: {time.perf_counter() - t0:.0f} s, "
                  f"MAE {-scores.mean():.4f} eV/atom")


if __name__ == "__main__":
    main()
