"""GridSearchCV wall time with n_jobs=1 against n_jobs=2 on this machine.

A lone fit uses all of torch's threads; inside joblib's worker processes,
joblib caps each worker's OpenMP/BLAS threads (and so torch's) at
cores // n_jobs, so two parallel fits do not oversubscribe two cores. This
prints the wall time of the same search both ways, the thread count each fit
saw, and the ratio (target: n_jobs=2 no slower than n_jobs=1).

    python benchmarks/bench_gridsearch_threads.py [--rows 100000] [--epochs 10]
"""

import argparse
import os
import time

import numpy as np
import torch
from skorch.callbacks import Callback


class RecordThreads(Callback):
    def on_epoch_end(self, net, **kwargs):
        net.history.record("torch_threads", torch.get_num_threads())


def _worker_threads():
    import torch

    return torch.get_num_threads()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--epochs", type=int, default=10)
    args = parser.parse_args()

    from sklearn.model_selection import GridSearchCV
    from sklearn.pipeline import make_pipeline

    from sklearn_hform import CompositionFractionTransformer, FormationEnthalpyRegressor
    from sklearn_hform.datasets import load_oqmd_hform

    X, y = load_oqmd_hform(split="train", return_X_y=True)
    X, y = X[: args.rows], y[: args.rows]
    grid = {"formationenthalpyregressor__hidden_layer_sizes": [(32, 32, 16, 16, 8), (128, 128, 64, 64, 32)]}
    print(f"{os.cpu_count()} CPUs; {args.rows} rows; 2 configurations x 3 folds; {args.epochs} epochs per fit; "
          f"parent torch threads {torch.get_num_threads()}")
    results = {}
    for n_jobs in (1, 2):
        pipe = make_pipeline(
            CompositionFractionTransformer(),
            FormationEnthalpyRegressor(max_epochs=args.epochs, random_state=0, device="cpu",
                                       callbacks=[("threads", RecordThreads())]),
        )
        search = GridSearchCV(pipe, grid, cv=3, scoring="neg_mean_absolute_error", n_jobs=n_jobs)
        t0 = time.perf_counter()
        search.fit(X, y)
        results[n_jobs] = time.perf_counter() - t0
        threads = search.best_estimator_[-1].net_.history[0, "torch_threads"]
        print(f"n_jobs={n_jobs}: {results[n_jobs]:.1f} s wall; best {search.best_params_}; "
              f"refit saw {threads} torch thread(s); mean test MAE "
              f"{np.round(-search.cv_results_['mean_test_score'], 4).tolist()}")
    from joblib import Parallel, delayed

    seen = Parallel(n_jobs=2)(delayed(_worker_threads)() for _ in range(2))
    print(f"torch threads inside joblib's n_jobs=2 workers: {seen}")
    print(f"n_jobs=2 is {results[1] / results[2]:.2f}x the speed of n_jobs=1 (target >= 1)")


if __name__ == "__main__":
    main()
