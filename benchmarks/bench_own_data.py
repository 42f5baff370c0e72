"""Learning from data the shipped models were not trained on: the experimental formation enthalpies.

On the 1,062 bundled experimental formation enthalpies
(:func:`~sklearn_hform.datasets.load_expt_hform`), repeated 10-fold
cross-validation grouped by chemical system (no system in two folds), side by
side:

* ``best`` zero-shot (OQMD-trained: it predicts DFT's formation enthalpy);
* OQMD's DFT value itself, on the compounds the bundled OQMD holds;
* a residual correction: gradient-boosted trees on the atom fractions, the
  fraction-weighted Magpie element properties, and ``best``'s prediction and
  std, fitted to experiment minus ``best`` (the "simple correction" of the
  issue; not shipped: trees are not in the model format);
* the ``expt`` recipe (``scripts/train_expt.py``): every member of ``best``
  fine-tuned on the training folds (transfer learning).

For the recipe, the coverage of its std and conformal intervals calibrated
against experiment on out-of-fold predictions (cross-fitted), against the
targets: MAE <= 0.075 eV/atom, 68 +- 5 % within 1 std, 95 +- 3 % inside the
95 % intervals. Published for comparison: ElemNet with transfer learning
0.06 eV/atom on 1,963 experimental values (Jha et al., Nat. Commun. 10, 5316,
2019, random split); cross-property transfer 0.071 (Gupta et al., Nat.
Commun. 12, 6595, 2021); DFT vs experiment 0.096 and experiment vs
experiment 0.082 (Kirklin et al., npj Comput. Mater. 1, 15010, 2015).

    python benchmarks/bench_own_data.py [--repeats 3] [--epochs 20] [--lr 2e-4]

About 4 minutes per repeat on 2 CPU cores.

``--aflow DIR --budget 30min`` instead runs the own-data recipe
(:func:`~sklearn_hform.recipes.train_own_data`, what ``hform train --budget``
runs) on CrabNet's ``aflow__energy_atom`` benchmark (AFLOW's total energy per
atom; DIR holds its ``train.csv``, ``val.csv`` and ``test.csv``, from the
``crabnet==2.0.8`` wheel's ``crabnet/data/benchmark_data/aflow__energy_atom``):
trained on train+val within the budget, scored on test, beside the published
Roost 0.0864, CrabNet 0.0929 and ElemNet 0.122 eV/atom (CrabNet's
``metrics/all_metrics.csv``).
"""

import argparse
import time
from pathlib import Path

import numpy as np

TARGET_MAE = 0.075
TARGET_1_STD = (0.63, 0.73)
TARGET_95 = (0.92, 0.98)


def dft_energies(formulas, elements):
    """OQMD's lowest bundled DFT formation enthalpy at each formula's composition, NaN where it has none."""
    import pandas as pd

    from sklearn_hform.datasets import load_oqmd_hform
    from sklearn_hform.stability import atom_fractions

    oqmd = load_oqmd_hform().frame

    def keys(matrix):
        return [tuple(np.round(row, 6)) for row in matrix]

    lowest = pd.Series(oqmd["formation_enthalpy"].to_numpy(),
                       index=keys(atom_fractions(oqmd["formula"].tolist(), elements))).groupby(level=0).min()
    return np.array([lowest.get(k, np.nan) for k in keys(atom_fractions(formulas, elements))])


def residual_correction(features, target, train, test, seed):
    from sklearn.ensemble import HistGradientBoostingRegressor

    trees = HistGradientBoostingRegressor(learning_rate=0.05, max_iter=300, loss="absolute_error", random_state=seed)
    return trees.fit(features[train], target[train]).predict(features[test])


#: Published test MAEs (eV/atom) on aflow__energy_atom, CrabNet's metrics/all_metrics.csv.
AFLOW_PUBLISHED = {"Roost": 0.0864, "CrabNet": 0.0929, "ElemNet": 0.122}


def aflow(folder, budget, start):
    """The recipe on aflow__energy_atom within ``budget``, against the published models."""
    import pandas as pd

    from sklearn_hform.recipes import train_own_data

    folder = Path(folder)
    train = pd.concat([pd.read_csv(folder / f"{s}.csv") for s in ("train", "val")], ignore_index=True)
    test = pd.read_csv(folder / "test.csv")
    print(f"aflow__energy_atom: {len(train):,} rows to train on (train+val), {len(test):,} test rows; "
          f"budget {budget}", flush=True)
    model, report = train_own_data(train["formula"], train["target"], start=start, budget=budget,
                                   log=lambda line: print(f"  {line}", flush=True))
    mae = float(np.mean(np.abs(model.predict(test["formula"].tolist()) - test["target"].to_numpy())))
    print(f"\n  {'model':<28} {'test MAE (eV/atom)':>20}")
    print(f"  {'our recipe, ' + report['start']:<28} {mae:20.4f}   ({report['seconds']:.0f} s on this CPU)")
    for name, value in AFLOW_PUBLISHED.items():
        print(f"  {name + ' (published, GPU)':<28} {value:20.4f}")
    verdict = "met" if mae <= AFLOW_PUBLISHED["Roost"] else "NOT met"
    print(f"  target: <= Roost's {AFLOW_PUBLISHED['Roost']} within the budget: {mae:.4f}, {verdict}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--aflow", metavar="DIR", help="run the recipe on aflow__energy_atom from DIR instead")
    parser.add_argument("--budget", default="30min", help="with --aflow (default: 30min)")
    parser.add_argument("--start", default="auto", choices=("auto", "transfer", "scratch"), help="with --aflow")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=None, help="default: the shipped recipe's")
    parser.add_argument("--lr", type=float, default=None, help="default: the shipped recipe's")
    args = parser.parse_args()
    if args.aflow:
        return aflow(args.aflow, args.budget, args.start)

    import importlib.util

    from sklearn.model_selection import GroupKFold

    from sklearn_hform import load_pretrained
    from sklearn_hform.composition import DEFAULT_ELEMENTS, chemical_system, magpie_properties
    from sklearn_hform.datasets import load_expt_hform
    from sklearn_hform.ensemble import cross_fitted_coverage
    from sklearn_hform.model_selection import cross_val_fine_tune

    spec = importlib.util.spec_from_file_location("train_expt", Path(__file__).parents[1] / "scripts" / "train_expt.py")
    recipe = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(recipe)
    epochs, lr = args.epochs or recipe.EPOCHS, args.lr or recipe.LR

    data = load_expt_hform(as_frame=False)
    X, y = list(data.data), data.target
    groups = [chemical_system(f) for f in X]
    best = load_pretrained("best")
    zero_shot, zero_std = best.predict(X, return_std=True)
    elements = list(DEFAULT_ELEMENTS)
    fractions = best[0].transform(X)
    features = np.column_stack([fractions, fractions @ magpie_properties(elements), zero_shot, zero_std])
    dft = dft_energies(X, elements)
    has_dft = np.isfinite(dft)
    print(f"{len(y)} experimental formation enthalpies in {len(set(groups))} chemical systems; "
          f"{has_dft.sum()} of them in the bundled OQMD; {args.repeats} x grouped 10-fold CV; "
          f"recipe: fine-tune best, {epochs} epochs, lr {lr:g}", flush=True)

    rows = {"best, zero-shot": [], "residual correction (trees)": [], "expt recipe (fine-tuned best)": []}
    on_dft = {name: [] for name in rows}
    coverages = []
    for seed in range(args.repeats):
        t0 = time.perf_counter()
        correction = np.empty(len(y))
        for train, test in GroupKFold(10, shuffle=True, random_state=seed).split(X, y, groups):
            correction[test] = zero_shot[test] + residual_correction(features, y - zero_shot, train, test, seed)
        oof = cross_val_fine_tune(best, X, y, groups=groups, cv=10, random_state=seed, max_epochs=epochs, lr=lr)
        tuned, spread = oof["prediction"].to_numpy(), oof["std"].to_numpy()
        for name, p in zip(rows, (zero_shot, correction, tuned)):
            rows[name].append(np.mean(np.abs(p - y)))
            on_dft[name].append(np.mean(np.abs(p[has_dft] - y[has_dft])))
        coverages.append(cross_fitted_coverage(y, tuned, spread, fractions, error_model="spread",
                                               confidences=(0.6827, 0.95), random_state=seed))
        print(f"  repeat {seed + 1}: recipe MAE {rows['expt recipe (fine-tuned best)'][-1]:.4f}, correction "
              f"{rows['residual correction (trees)'][-1]:.4f} ({time.perf_counter() - t0:.0f} s)", flush=True)

    print(f"\n  {'model':<34} {'MAE, all':>14} {'MAE, where OQMD has it':>24}")
    print(f"  {'OQMD DFT':<34} {'':>14} {np.mean(np.abs(dft[has_dft] - y[has_dft])):24.4f}")
    for name in rows:
        print(f"  {name:<34} {np.mean(rows[name]):8.4f} +- {np.std(rows[name]):.4f} {np.mean(on_dft[name]):24.4f}")
    one = float(np.mean([c["1_std"] for c in coverages]))
    inside = float(np.mean([c["interval_0.95"] for c in coverages]))
    width = float(np.mean([c["half_width_0.95"] for c in coverages]))
    mae = float(np.mean(rows["expt recipe (fine-tuned best)"]))
    print(f"\n  recipe's error bars, calibrated against experiment (cross-fitted on out-of-fold predictions): "
          f"{one:.1%} within 1 std, {inside:.1%} inside the 95 % interval (mean half-width {width:.3f} eV/atom)")
    print(f"  target: MAE <= {TARGET_MAE}: {mae:.4f}, {'met' if mae <= TARGET_MAE else 'NOT met'}")
    print(f"  target: 68 +- 5 % within 1 std: {one:.1%}, "
          f"{'met' if TARGET_1_STD[0] <= one <= TARGET_1_STD[1] else 'NOT met'}")
    print(f"  target: 95 +- 3 % inside the 95 % interval: {inside:.1%}, "
          f"{'met' if TARGET_95[0] <= inside <= TARGET_95[1] else 'NOT met'}")


if __name__ == "__main__":
    main()
