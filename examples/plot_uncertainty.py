"""
==========================================================
Uncertainty: the error grows with the ensemble's spread
==========================================================

A :class:`~sklearn_hform.DeepEnsembleRegressor` averages several
independently seeded networks; ``predict(X, return_std=True)`` also returns
the standard deviation of their predictions, as
:class:`~sklearn.gaussian_process.GaussianProcessRegressor` does for its
posterior. This example checks, on the OQMD test split (all 51,255 compounds
as published, ``drop_outliers=False``), that the predicted standard
deviation says something about the actual error:

* the test compounds are sorted by predicted std and cut into 10 bins of
  equal size; the mean absolute error of each bin is plotted against its mean
  predicted std (a binned calibration plot). A calibrated Gaussian std would
  put the bins on the line MAE = sqrt(2/pi) std; the fitted ratio shows how
  far off the ensemble's spread is as an absolute scale;
* the Spearman rank correlation between the std and the absolute error of
  each compound;
* the fraction of compounds whose absolute error is within 1 and 2 predicted
  std (68.3 % and 95.4 % for a calibrated Gaussian), and the whole coverage
  curve;
* the same after calibrating the spread (both error models of
  :mod:`sklearn_hform.ensemble`), each compound scored out of fold.

The full run loads the shipped ensemble, ``load_pretrained("best")``, and
trains nothing. The quick run (``--quick`` or ``HFORM_QUICK=1``, used by the
documentation build) trains a small ensemble of 3 networks for 5 epochs on
5,000 training compounds and evaluates it on 3,000 test compounds: its
numbers show that the code runs, not how well the shipped model does.

Run from the repository root::

    python examples/plot_uncertainty.py            # the shipped "best" ensemble
    python examples/plot_uncertainty.py --quick    # a smoke run, seconds

``--out DIR`` picks the folder for ``uncertainty.png`` and
``uncertainty.json`` (default ``outputs/plot_uncertainty``).
"""

# %%
# Settings
# --------

import argparse
import time
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.ticker import FormatStrFormatter, LogLocator, NullFormatter
from scipy.stats import norm, spearmanr
from sklearn.pipeline import make_pipeline

from sklearn_hform import (
    CompositionFractionTransformer,
    DeepEnsembleRegressor,
    FormationEnthalpyRegressor,
    load_pretrained,
)
from sklearn_hform.datasets import load_oqmd_hform
from sklearn_hform.neural_network import EpochProgress
from sklearn_hform.pretrained import load_pretrained_metadata
from sklearn_hform.utils import parse_run_options, write_result

t_start = time.perf_counter()
parser = argparse.ArgumentParser(description="Predicted std against actual error on the OQMD test split")
parser.add_argument("--bins", type=int, default=10, help="number of equal-count bins of predicted std (default 10)")
# Adds --quick (or HFORM_QUICK=1) and --out; ignores sphinx-gallery's own arguments.
args = parse_run_options(parser, "outputs/plot_uncertainty",
                         quick_help="train a small ensemble on a few thousand rows instead of loading 'best'")
QUICK = args.quick

N_TRAIN, N_TEST, EPOCHS, BATCH, MEMBERS = 3000, 2000, 4, 128, 3  # quick run only
N_BINS = args.bins
OUT = args.out
DEVICE = "cuda" if QUICK and torch.cuda.is_available() else "cpu"  # the full run trains nothing
# For a Gaussian error of standard deviation s: E|error| = sqrt(2/pi) s, and
# P(|error| <= k s) = 2 Phi(k) - 1.
GAUSS_MAE_PER_STD = float(np.sqrt(2 / np.pi))
K_COVERAGE = (1, 2)


# %%
# Data and model
# --------------
# The test split exactly as published. The full run loads the shipped
# ensemble; the quick run trains a small one on the first training rows and
# scores a random sample of the test rows.

X_test, y_test = load_oqmd_hform(split="test", return_X_y=True, drop_outliers=False)
if QUICK:
    rows = np.sort(np.random.default_rng(0).choice(len(X_test), N_TEST, replace=False))
    X_test, y_test = X_test.iloc[rows], y_test.iloc[rows]
    X_train, y_train = load_oqmd_hform(split="train", return_X_y=True)
    X_train, y_train = X_train[:N_TRAIN], y_train[:N_TRAIN]
    model = make_pipeline(
        CompositionFractionTransformer(),
        DeepEnsembleRegressor(
            FormationEnthalpyRegressor(max_epochs=EPOCHS, batch_size=BATCH,
                                       callbacks=[("progress", EpochProgress(every=1))]),
            n_estimators=MEMBERS, random_state=0,
        ),
    )
    print(f"quick run: training {MEMBERS} networks for {EPOCHS} epochs on {len(X_train):,} rows, "
          f"{DEVICE}")
    model.fit(X_train, y_train)
    model_name, model_metadata = "quick ensemble", {"train_rows": len(X_train), "epochs": EPOCHS}
else:
    model = load_pretrained("best")
    model_name = 'load_pretrained("best")'
    metadata = load_pretrained_metadata("best")
    model_metadata = {k: metadata[k] for k in ("command", "train_rows", "test_mae") if k in metadata}
    print(f"full run: {model_name}, {len(model[-1].estimators_)} networks")
y_true = y_test.to_numpy()

# %%
# Mean and standard deviation
# ---------------------------
# ``model.predict(X_test, return_std=True)`` would do it in one call (the
# pipeline passes ``return_std`` on to the ensemble, its last step). Here the
# formulas go through the transformer separately, to count the compounds with
# an element the ensemble never saw in training: they would each get an
# :class:`~sklearn_hform.UnseenElementWarning` (the quick run, trained on few
# compounds, has some).

transformer, ensemble = model[0], model[-1]
Xt = transformer.fractions(X_test)
t0 = time.perf_counter()
# The members' raw spread, as the ensemble gives it before any calibration
# (the shipped one's calibrated std is ``ensemble.predict(Xt, return_std=True)[1]``).
members = ensemble.predict_members(Xt)
mean, std = members.mean(axis=0), members.std(axis=0)
predict_seconds = time.perf_counter() - t0
unseen = transformer.unseen_element_mask(Xt).any(axis=1)
err = np.abs(mean - y_true)
print(f"predicted {len(err):,} test compounds in {predict_seconds:.1f} s: MAE {err.mean():.4f} eV/atom, "
      f"mean std {std.mean():.4f} eV/atom ({int(unseen.sum())} with an element unseen in training)")

# %%
# Binned calibration and coverage
# -------------------------------
# Equal-count bins of predicted std: sort by std and split into ``N_BINS``
# consecutive groups of (nearly) the same size.

order = np.argsort(std, kind="stable")
bins = np.array_split(order, N_BINS)
bin_std = [float(std[b].mean()) for b in bins]
bin_mae = [float(err[b].mean()) for b in bins]
bin_rows = [int(len(b)) for b in bins]
rho, p_value = spearmanr(std, err)
# The single factor that turns the std into the MAE on average: the ratio of
# the means (every compound weighs the same).
ratio = float(err.mean() / std.mean())
z = err / np.maximum(std, np.finfo(float).tiny)  # error in units of the predicted std
# The coverage curve runs far enough to reach 95 % of the compounds.
ks = np.linspace(0, max(5.0, float(np.ceil(np.quantile(z, 0.95)))), 201)
coverage_curve = [(z <= k).mean() for k in ks]
coverage = {f"{k}_std": float((z <= k).mean()) for k in K_COVERAGE}
gaussian_coverage = {f"{k}_std": float(2 * norm.cdf(k) - 1) for k in K_COVERAGE}
# The factor the std would need to be multiplied by to cover 68.3 % of the errors.
scale_for_1_std = float(np.quantile(z, gaussian_coverage["1_std"]))

print(f"Spearman correlation between std and |error|: {rho:.3f} (p = {p_value:.2g})")
print(f"MAE / mean std = {ratio:.2f} (a calibrated Gaussian std: {GAUSS_MAE_PER_STD:.2f})")
print(" bin  rows   mean std     MAE")
for i, (s, m, n) in enumerate(zip(bin_std, bin_mae, bin_rows)):
    print(f" {i + 1:3d}  {n:5d}  {s:9.4f}  {m:8.4f}")
for k in K_COVERAGE:
    print(f"|error| <= {k} std: {coverage[f'{k}_std']:.1%} of the compounds "
          f"(calibrated Gaussian: {gaussian_coverage[f'{k}_std']:.1%})")
print(f"the std times {scale_for_1_std:.2f} would cover {gaussian_coverage['1_std']:.1%} of the errors")

# %%
# Calibrating the spread
# ----------------------
# ``ensemble.calibrate(X_held_out, y_held_out)`` turns the spread into an
# error bar, fitted on compounds the ensemble never trained on; with
# ``error_model="features"`` it also learns from the composition which
# compounds are hard. Fitting and judging it on the same compounds would
# flatter it, so :func:`~sklearn_hform.ensemble.cross_fitted_coverage`
# scores each test compound with a calibration fitted on the other half.

from sklearn_hform.ensemble import cross_fitted_coverage  # noqa: E402

calibrated = {name: cross_fitted_coverage(y_true, mean, std, Xt, error_model=name, confidences=(0.9,))
              for name in ("spread", "features")}
for name, c in calibrated.items():
    print(f"calibrated ({name!r}), out of fold: {c['1_std']:.1%} within 1 std, {c['2_std']:.1%} within 2, "
          f"90 % interval covers {c['interval_0.9']:.1%} (mean half-width {c['half_width_0.9']:.4f} eV/atom)")

# %%
# Plot
# ----
# Left, MAE per bin against mean predicted std (log axes; each point is a
# tenth of the compounds), with the calibrated-Gaussian line and the fitted
# ratio. Right, the fraction of compounds with \|error\| <= k std, against the
# Gaussian expectation.

fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.8))
ax1.plot(bin_std, bin_mae, "o-", label=f"{N_BINS} equal-count bins of std")
lo, hi = min(bin_std) / 1.5, max(bin_std) * 1.5
line = np.geomspace(lo, hi, 50)
ax1.plot(line, GAUSS_MAE_PER_STD * line, "k--", lw=1, label="calibrated Gaussian: MAE = 0.80 std")
ax1.plot(line, ratio * line, "C3:", lw=1, label=f"fitted: MAE = {ratio:.2f} std")
ax1.set(xscale="log", yscale="log", xlim=(lo, hi), xlabel="mean predicted std in bin (eV/atom)",
        ylabel="MAE in bin (eV/atom)", title=f"binned calibration, Spearman ρ = {rho:.2f}")
for axis in (ax1.xaxis, ax1.yaxis):  # plain numbers at 1, 2 and 5 of each decade
    axis.set_major_locator(LogLocator(subs=(1, 2, 5)))
    axis.set_major_formatter(FormatStrFormatter("%g"))
    axis.set_minor_formatter(NullFormatter())
ax1.legend(loc="upper left", fontsize=8)
ax2.plot(ks, coverage_curve, label="this ensemble")
ax2.plot(ks, 2 * norm.cdf(ks) - 1, "k--", lw=1, label="calibrated Gaussian")
for k in K_COVERAGE:
    ax2.plot([k], [coverage[f"{k}_std"]], "o", color="C0")
    ax2.annotate(f"{coverage[f'{k}_std']:.0%} within {k} std", (k, coverage[f"{k}_std"]),
                 xytext=(8, -12), textcoords="offset points")
ax2.set(xlim=(0, ks[-1]), ylim=(0, 1), xlabel="k", ylabel="fraction with |error| <= k std",
        title="coverage")
ax2.legend(loc="lower right")
fig.suptitle(f"{model_name}: {len(err):,} OQMD test compounds, MAE {err.mean():.4f} eV/atom"
             + (" (quick run)" if QUICK else ""))
fig.tight_layout()

# %%
# Results
# -------
# The figure, and the numbers followed by the run record (the command,
# hardware, timings and git commit; :func:`~sklearn_hform.utils.write_result`
# also makes the folder).

result = {
    "study": "deep-ensemble std against absolute error, OQMD test split",
    "quick": QUICK,
    "model": model_name,
    "model_metadata": model_metadata,
    "members": len(ensemble.estimators_),
    "test_rows": int(len(err)),
    "test_mae": float(err.mean()),
    "mean_std": float(std.mean()),
    "unseen_element_rows": int(unseen.sum()),
    "bin_std": bin_std,
    "bin_mae": bin_mae,
    "bin_rows": bin_rows,
    "spearman": float(rho),
    "spearman_p_value": float(p_value),
    "mae_to_std_ratio": ratio,
    "gaussian_mae_to_std_ratio": GAUSS_MAE_PER_STD,
    "coverage": coverage,
    "gaussian_coverage": gaussian_coverage,
    "std_scale_for_1_std_coverage": scale_for_1_std,
    "calibrated_cross_fitted": calibrated,
    "predict_seconds": round(predict_seconds, 2),
}
record = write_result(
    OUT / "uncertainty.json", result, ["python", "examples/plot_uncertainty.py", *args.argv],
    started=t_start, seed=0 if QUICK else None, device=DEVICE, repository=Path.cwd(),
    torch_threads=torch.get_num_threads(),
)
fig.savefig(OUT / "uncertainty.png", dpi=120)
print(f"wrote {OUT / 'uncertainty.png'} and {OUT / 'uncertainty.json'}")
print(f"total wall time {record['wall_seconds']:.1f} s")
