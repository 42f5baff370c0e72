"""Build the shipped ``expt`` model: ``best`` fine-tuned on experimental formation enthalpies.

Every member of ``best`` (trained on OQMD's DFT energies) continues
training on the 1,062 bundled experimental formation enthalpies
(:func:`~sklearn_hform.datasets.load_expt_hform`). Its error bars are
calibrated against experiment: a 10-fold cross-validation grouped by
chemical system (every fold's compounds from systems the fold's model never
saw) gives out-of-fold predictions and spreads, on which the std and the
conformal intervals are fitted; the model shipped is then fine-tuned on all
rows with the same settings. The cross-validation figures (MAE per fold and
overall, coverage of the std and the intervals, cross-fitted) go into its
metadata; ``tests/test_expt_model.py`` recomputes two of the folds.

    python scripts/train_expt.py                      # writes sklearn_hform/pretrained/expt/
    python scripts/train_expt.py --epochs 20 --lr 2e-4 --out DIR

About 4 minutes on 2 CPU cores.
"""

import argparse
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
#: The settings chosen by grouped 10-fold CV on the experimental half (benchmarks/bench_own_data.py).
EPOCHS, LR, FOLDS, SEED = 20, 2e-4, 10, 0
LEVELS = (0.6827, 0.9, 0.95)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=EPOCHS)
    parser.add_argument("--lr", type=float, default=LR)
    parser.add_argument("--folds", type=int, default=FOLDS)
    parser.add_argument("--out", type=Path, default=REPO / "sklearn_hform" / "pretrained" / "expt")
    args = parser.parse_args(argv)

    from sklearn_hform.composition import chemical_system
    from sklearn_hform.datasets import load_expt_hform
    from sklearn_hform.ensemble import cross_fitted_coverage, fit_calibration
    from sklearn_hform.model_selection import cross_val_fine_tune
    from sklearn_hform.neural_network import fine_tune
    from sklearn_hform.persistence import save_model
    from sklearn_hform.pretrained import load_pretrained, load_pretrained_metadata
    from sklearn_hform.utils import run_record

    t0 = time.perf_counter()
    data = load_expt_hform(as_frame=False)
    X, y = list(data.data), data.target
    groups = [chemical_system(f) for f in X]
    best = load_pretrained("best")
    zero_shot = best.predict(X)
    print(f"{len(y)} experimental formation enthalpies, {len(set(groups))} chemical systems; best zero-shot MAE "
          f"{np.mean(np.abs(zero_shot - y)):.4f} eV/atom", flush=True)

    oof = cross_val_fine_tune(best, X, y, groups=groups, cv=args.folds, random_state=SEED,
                              max_epochs=args.epochs, lr=args.lr)
    err = np.abs(oof["prediction"].to_numpy() - y)
    fold_mae = [float(err[oof["fold"] == k].mean()) for k in range(args.folds)]
    print(f"grouped {args.folds}-fold CV: MAE {err.mean():.4f} eV/atom (folds {min(fold_mae):.4f}-"
          f"{max(fold_mae):.4f}) in {time.perf_counter() - t0:.0f} s", flush=True)

    fractions = best[0].transform(X)
    mean, spread = oof["prediction"].to_numpy(), oof["std"].to_numpy()
    # One error model for the shipped calibration and its measured coverage: the spread's (the feature
    # model needs 1,000 rows in each half of the cross-fitting).
    coverage = cross_fitted_coverage(y, mean, spread, fractions, error_model="spread", confidences=LEVELS)
    print(f"calibrated against experiment (cross-fitted): {coverage['1_std']:.1%} within 1 std, "
          + ", ".join(f"{coverage[f'interval_{c:g}']:.1%} inside the {c:.0%} interval" for c in LEVELS), flush=True)
    calibration = fit_calibration(y, mean, spread, fractions, error_model="spread")

    model = fine_tune(best, X, y, random_state=SEED, max_epochs=args.epochs, lr=args.lr)
    model[-1].calibration_ = calibration
    base = load_pretrained_metadata("best")
    metadata = run_record(
        ["python", "scripts/train_expt.py", *(sys.argv[1:] if argv is None else argv)],
        seed=SEED, wall_seconds=time.perf_counter() - t0, repository=REPO, name="expt",
        training_data="best (OQMD train+val), fine-tuned on the 1,062 experimental formation enthalpies of "
                      "load_expt_hform()",
        train_rows=int(len(y)), fine_tune={"max_epochs": args.epochs, "lr": args.lr},
        earlier_commands=[*base.get("earlier_commands", []),
                          {key: base[key] for key in ("command", "test_mae", "train_seconds") if key in base}],
        cv={"folds": args.folds, "grouped_by": "chemical system", "random_state": SEED, "mae": float(err.mean()),
            "fold_mae": fold_mae, "zero_shot_mae": float(np.mean(np.abs(zero_shot - y))),
            "coverage": coverage, "error_model": "spread"},
    )
    save_model(model, args.out, metadata=metadata)
    print(f"wrote {args.out}")
    return metadata


if __name__ == "__main__":
    main()
