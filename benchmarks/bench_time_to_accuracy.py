"""Time to accuracy: test-split MAE against training wall time on this machine.

Trains FormationEnthalpyRegressor on the OQMD train+val splits (outliers
dropped) and, after every epoch, measures the MAE on the full test split
(51,255 rows, as published). Prints the MAE-vs-time trace and the first time
the MAE reached the target (default 0.075 eV/atom, the paper's headline).
The evaluation time is excluded from the training clock.

    python benchmarks/bench_time_to_accuracy.py [--epochs 100] [--batch-size 1024]
        [--lr 3e-3] [--mixed-precision] [--hidden 128 128 64 64 32] [--threads N]
"""

import argparse
import platform
import time

import numpy as np
import torch


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=100)
    parser.add_argument("--batch-size", type=int, default=1024)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--dropout", type=float, default=0.0)
    parser.add_argument("--optimizer", default="rmsprop")
    parser.add_argument("--hidden", type=int, nargs="+", default=[128, 128, 64, 64, 32])
    parser.add_argument("--mixed-precision", action="store_true")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's)")
    parser.add_argument("--target", type=float, default=0.075)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--every", type=int, default=10, help="print the trace every N epochs")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    from sklearn_hform import CompositionFractionTransformer, FormationEnthalpyRegressor
    from sklearn_hform.datasets import load_oqmd_hform
    from sklearn_hform.neural_network import HeldOutMAE

    Xtr, ytr = load_oqmd_hform(split=["train", "val"], return_X_y=True)
    Xte, yte = load_oqmd_hform(split="test", return_X_y=True, drop_outliers=False)
    featurizer = CompositionFractionTransformer()
    Ftr = featurizer.fit_transform(Xtr).astype(np.float32)
    Fte = featurizer.transform(Xte).astype(np.float32)
    est = FormationEnthalpyRegressor(
        hidden_layer_sizes=tuple(args.hidden), batch_size=args.batch_size, lr=args.lr, dropout=args.dropout,
        optimizer=args.optimizer, max_epochs=args.epochs, mixed_precision=args.mixed_precision,
        random_state=args.seed, device="cpu",
    )
    est.set_params(callbacks=[("test_mae", HeldOutMAE(Fte, yte.to_numpy()))])
    print(f"{platform.processor() or platform.machine()}, torch threads {torch.get_num_threads()}; "
          f"train {len(Ftr)} rows, test {len(Fte)} rows (full test split)")
    print(est)
    t0 = time.perf_counter()
    est.fit(Ftr, ytr)
    wall = time.perf_counter() - t0
    epochs, times, maes = (np.array(est.net_.history[:, k]) for k in ("epoch", "train_time", "test_mae"))
    train_loss = np.array(est.net_.history[:, "train_loss"])
    print(f"{'epoch':>6} {'train s':>8} {'train loss':>10} {'test MAE':>9}")
    for e, t, l, m in zip(epochs, times, train_loss, maes):
        if e % args.every == 0 or e == epochs[-1]:
            print(f"{e:6d} {t:8.1f} {l:10.4f} {m:9.4f}", flush=True)
    hit = np.flatnonzero(maes <= args.target)
    if len(hit):
        print(f"MAE <= {args.target} first at epoch {epochs[hit[0]]}, {times[hit[0]]:.0f} s of training")
    else:
        print(f"MAE never reached {args.target}; best {maes.min():.4f}")
    print(f"final test MAE {maes[-1]:.4f} eV/atom; training {times[-1]:.0f} s; wall incl. evaluation {wall:.0f} s")


if __name__ == "__main__":
    main()
