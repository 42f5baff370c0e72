"""Epoch time of FormationEnthalpyRegressor against its peers.

Paper architecture (128, 128, 64, 64, 32), 100,000 OQMD rows, side by side in
one process with the same number of threads for every trainer (torch's
default unless ``--threads`` is given; BLAS threads for scikit-learn):

- scikit-learn ``MLPRegressor`` (adam; its fastest solver for mini-batches),
- a plain skorch ``NeuralNetRegressor`` with its default DataLoader,
- a bare PyTorch loop slicing one in-memory tensor,
- ``FormationEnthalpyRegressor`` (skorch with the tensor-slicing data path),
  in float32 and with ``mixed_precision=True`` (bfloat16 hidden layers).

Then five networks trained one after the other against the same five
trained as one stacked model (:func:`~sklearn_hform.neural_network.fit_stacked`, what
``DeepEnsembleRegressor`` and ``sklearn_hform.model_selection`` do).

Prints the mean epoch time of each and the ratios. Targets: ours <= MLPRegressor,
and >= 3x faster than plain skorch. GPU figures: ``benchmarks/bench_gpu.py``.

    python benchmarks/bench_epoch.py [--rows 100000] [--epochs 3] [--threads N]
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

    from sklearn_hform.neural_network import FractionMLP

    net = NeuralNetRegressor(FractionMLP, module__n_features=X.shape[1], module__hidden_layer_sizes=ARCH,
                             criterion=torch.nn.L1Loss, optimizer=torch.optim.RMSprop, lr=3e-3,
                             batch_size=batch_size, max_epochs=epochs, train_split=None,
                             iterator_train__shuffle=True, verbose=0)
    net.fit(X, y)
    return float(np.mean(net.history[:, "dur"]))


def epoch_bare_torch(X, y, batch_size, epochs):
    from sklearn_hform.neural_network import FractionMLP

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


def epoch_stacked(X, y, batch_size, epochs, n_networks):
    from sklearn_hform import FormationEnthalpyRegressor
    from sklearn_hform.neural_network import fit_stacked

    members = [FormationEnthalpyRegressor(batch_size=batch_size, max_epochs=epochs, random_state=i, device="cpu")
               for i in range(n_networks)]
    _, net = fit_stacked(members, X, y, [np.arange(len(y))] * n_networks)
    return float(np.mean(net.history[:, "dur"]))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--threads", type=int, default=None, help="default: torch's own default")
    parser.add_argument("--networks", type=int, default=5, help="networks in the stacked comparison")
    args = parser.parse_args()
    args.threads = args.threads or torch.get_num_threads()

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

    k = args.networks
    print(f"\n{k} networks, one after the other vs stacked (CPU)")
    for batch_size in (256, 1024):
        with threadpool_limits(args.threads):
            one = epoch_ours(X, y, batch_size, args.epochs)
            stacked = epoch_stacked(X, y, batch_size, args.epochs, k)
        print(f"  batch {batch_size}: {k} x {one:.3f} s = {k * one:.3f} s/epoch separately, "
              f"{stacked:.3f} s/epoch stacked ({k * one / stacked:.2f}x faster)")


if __name__ == "__main__":
    main()
