"""How well the shipped models screen for stability: hybrid vs model-only, on OQMD test-split compounds.

For a random sample of binary, ternary and quaternary compounds of the OQMD
test split (never trained on), the DFT decomposition energy ΔHd (its DFT
energy minus the hull of all other known phases of its system, Bartel et al.
2020) is compared with the predicted one, computed two ways:

* hybrid: the compound's predicted energy against the hull of the other
  phases at their DFT energies (what ``screen(mode="hybrid")`` does);
* model-only: every phase at its predicted energy.

A compound is stable when ΔHd <= 0. Printed for each shipped model:
precision, recall and F1 of "stable", the MAE of ΔHd, and the accuracy near
the hull (|ΔHd| < 0.1 eV/atom), beside the trivial rule "always unstable";
for an ensemble also the rules ΔHd + k std <= 0 (k = -0.5, -0.25, 1, 2, i.e.
p_stable >= 0.31, 0.40, 0.84, 0.98), and the
coverage table of its calibrated std on the full test split, each row scored
by a calibration fitted on the other half (both error models of
:mod:`sklearn_hform.ensemble`).

    python benchmarks/bench_screening.py     # 6,260 compounds: every test binary, 3,000 ternaries, 800 quaternaries
    python benchmarks/bench_screening.py --binaries 600 --ternaries 600 --quaternaries 200   # a quicker look
    python benchmarks/bench_screening.py --models best    # one model
"""

import argparse
import time

import numpy as np

#: Confidence levels of the conformal intervals in the coverage table.
LEVELS = (0.6827, 0.9, 0.9545)


def sample(frame, n_elements, n, rng):
    from sklearn_hform.composition import parse_formula

    counts = frame["formula"].map(lambda f: len(parse_formula(f)))
    rows = np.flatnonzero(counts.to_numpy() == n_elements)
    return frame.iloc[np.sort(rng.choice(rows, min(n, len(rows)), replace=False))]


def decomposition_energies(model, compounds, mode):
    """DFT and predicted ΔHd of each compound, one screen per chemical system."""
    from sklearn_hform.composition import parse_formula
    from sklearn_hform.stability import screen

    systems = {}
    for formula in compounds["formula"]:
        systems.setdefault(tuple(sorted(parse_formula(formula))), []).append(formula)
    dft, predicted, std = [], [], []
    for elements, formulas in systems.items():
        table = screen(model, list(elements), candidates=formulas, mode=mode)
        # screen reports ΔHd of the prediction; the hull it used gives the DFT ΔHd too (hybrid hull only).
        hull = table["prediction"] - table["decomposition_energy"]
        predicted += list(table["decomposition_energy"])
        std += list(table["std"]) if "std" in table else [np.nan] * len(table)
        if mode == "hybrid":
            dft += list(table["known"] - hull)
    return np.array(dft), np.array(predicted), np.array(std)


def coverage_table(model):
    """Cross-fitted coverage of the calibrated std and conformal intervals on the full test split."""
    import pandas as pd

    from sklearn_hform.datasets import load_oqmd_hform
    from sklearn_hform.ensemble import cross_fitted_coverage

    X, y = load_oqmd_hform(split="test", return_X_y=True, drop_outliers=False)
    Xt = model[0].fractions(X)
    members = model[-1].predict_members(Xt)
    mean, spread = members.mean(axis=0), members.std(axis=0)
    rows = []
    for error_model in ("spread", "features"):
        c = cross_fitted_coverage(y.to_numpy(), mean, spread, Xt, error_model=error_model, confidences=LEVELS)
        rows.append({"error_model": error_model, "within_1_std": c["1_std"], "within_2_std": c["2_std"],
                     **{f"interval_{level:g}": c[f"interval_{level:g}"] for level in LEVELS},
                     **{f"half_width_{level:g}": c[f"half_width_{level:g}"] for level in LEVELS}})
    return pd.DataFrame(rows)


def scores(dft, predicted):
    true, pred = dft <= 0, predicted <= 0
    tp = np.sum(true & pred)
    precision = tp / max(pred.sum(), 1)
    recall = tp / max(true.sum(), 1)
    near = np.abs(dft) < 0.1
    return {
        "precision": precision,
        "recall": recall,
        "f1": 2 * precision * recall / max(precision + recall, 1e-12),
        "dHd_mae": float(np.mean(np.abs(dft - predicted))),
        "near_hull_accuracy": float(np.mean(true[near] == pred[near])),
        "near_hull_always_unstable": float(np.mean(~true[near])),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--binaries", type=int, default=2460)
    parser.add_argument("--ternaries", type=int, default=3000)
    parser.add_argument("--quaternaries", type=int, default=800)
    parser.add_argument("--models", default="paper,best")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    import pandas as pd

    from scipy.stats import norm

    from sklearn_hform import load_pretrained
    from sklearn_hform.datasets import load_oqmd_hform

    rng = np.random.default_rng(args.seed)
    test = load_oqmd_hform(split="test").frame
    compounds = pd.concat([sample(test, 2, args.binaries, rng), sample(test, 3, args.ternaries, rng),
                           sample(test, 4, args.quaternaries, rng)])
    print(f"{len(compounds):,} test-split compounds ({args.binaries} binaries, {args.ternaries} ternaries, "
          f"{args.quaternaries} quaternaries requested)")
    rows = []
    for name in args.models.split(","):
        model = load_pretrained(name)
        t0 = time.perf_counter()
        dft, hybrid, std = decomposition_energies(model, compounds, "hybrid")
        t1 = time.perf_counter()
        _, model_only, _ = decomposition_energies(model, compounds, "model")
        t2 = time.perf_counter()
        for mode, predicted, seconds in (("hybrid", hybrid, t1 - t0), ("model", model_only, t2 - t1)):
            s = scores(dft, predicted)
            rows.append({"model": name, "mode": mode, **s, "seconds": seconds, "dft_stable": int(np.sum(dft <= 0))})
            print(f"  {name:<6} {mode:<7} precision {s['precision']:.3f}  recall {s['recall']:.3f}  "
                  f"F1 {s['f1']:.3f}  ΔHd MAE {s['dHd_mae']:.4f}  near-hull accuracy "
                  f"{s['near_hull_accuracy']:.3f} (always unstable {s['near_hull_always_unstable']:.3f})  "
                  f"[{seconds:.0f} s]", flush=True)
        # Where the hybrid screen goes wrong: how far the misjudged compounds lie from the hull, and
        # the bias of the stable ones (the compounds DFT puts unusually low, which a smooth model misses).
        stable, wrong = dft <= 0, (dft <= 0) != (hybrid <= 0)
        near_unstable = ~stable & (dft < 0.1)
        print(f"  {name:<6} hybrid: of {wrong.sum()} misjudged compounds {np.mean(np.abs(dft[wrong]) < 0.02):.0%} lie "
              f"within 0.02 and {np.mean(np.abs(dft[wrong]) < 0.05):.0%} within 0.05 eV/atom of the hull; predicted "
              f"minus DFT ΔHd {np.mean((hybrid - dft)[stable]):+.4f} eV/atom on average for the DFT-stable, "
              f"{np.mean((hybrid - dft)[near_unstable]):+.4f} for the unstable within 0.1 eV/atom", flush=True)
        # Stricter or looser rules on the calibrated std: ΔHd + k std <= 0 is p_stable >= Φ(k).
        for k in (-0.5, -0.25, 1, 2) if np.isfinite(std).all() else ():
            s = scores(dft, hybrid + k * std)
            print(f"  {name:<6} hybrid, ΔHd {k:+g} std <= 0 (p_stable >= {norm.cdf(k):.2f}): precision "
                  f"{s['precision']:.3f}  recall {s['recall']:.3f}  F1 {s['f1']:.3f}", flush=True)
    print(pd.DataFrame(rows).to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    for name in args.models.split(","):
        model = load_pretrained(name)
        if hasattr(model[-1], "calibration_"):
            print(f"\n{name}: coverage on the full OQMD test split (cross-fitted; a Gaussian: 68.3 % / 95.4 %)")
            print(coverage_table(model).to_string(index=False, float_format=lambda v: f"{v:.3f}"))


if __name__ == "__main__":
    main()
