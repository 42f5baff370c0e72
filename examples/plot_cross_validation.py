"""
=======================================================
Ten-fold cross-validation, the headline (paper, Fig. 6)
=======================================================

The paper's headline numbers come from 10-fold cross-validation of the
Table-1 network: a mean absolute error of 0.075 eV/atom, 80 % of the errors
below 0.080 eV/atom and 90 % below 0.180 eV/atom. Fig. 6 shows the
prediction against the DFT value and the cumulative distribution of the
absolute errors.

Here that is one :func:`sklearn_hform.model_selection.cross_val_predict`
call (scikit-learn's signature and result; the ten fold networks are
trained together as one stacked model, see :func:`~sklearn_hform.neural_network.fit_stacked`): a
:class:`~sklearn_hform.CompositionFractionTransformer` ->
:class:`~sklearn_hform.FormationEnthalpyRegressor` pipeline with the
regressor's defaults (the Table-1 network and schedule), 10 shuffled folds
over all the bundled OQMD compounds (train, val and test splits together,
the 86 failed calculations with \\|y\\| > 5 eV/atom dropped). Every compound
is predicted once, by the model that did not see it.

Run from the repository root::

    python examples/plot_cross_validation.py            # the full study
    python examples/plot_cross_validation.py --quick    # a smoke run, seconds

``--out DIR`` picks the folder for ``cross_validation.png`` and
``cross_validation.json`` (default ``outputs/plot_cross_validation``).
``HFORM_QUICK=1`` in the environment also selects the quick run.
"""

# %%
# Settings
# --------

import argparse
import time
from pathlib import Path

import numpy as np
import torch
from sklearn.model_selection import KFold
from sklearn.pipeline import make_pipeline

from sklearn_hform import CompositionFractionTransformer, FormationEnthalpyRegressor
from sklearn_hform.datasets import load_oqmd_hform
from sklearn_hform.model_selection import cross_val_predict, error_summary, plot_parity_and_cdf
from sklearn_hform.utils import PAPER_ERRORS, parse_run_options, write_result

t_start = time.perf_counter()
parser = argparse.ArgumentParser(description="10-fold cross-validation (Fig. 6 of Ti et al. 2020)")
parser.add_argument("--epochs", type=int, default=None, help="epochs per fit (default 100; quick 6)")
parser.add_argument("--folds", type=int, default=None, help="number of folds (default 10; quick 3)")
# Adds --quick (or HFORM_QUICK=1) and --out; ignores sphinx-gallery's own arguments.
args = parse_run_options(parser, "outputs/plot_cross_validation",
                         quick_help="a few thousand rows, 3 folds, a few epochs")
QUICK = args.quick

if QUICK:
    N_ROWS, FOLDS, EPOCHS, BATCH = 4000, 3, 6, 256
else:
    N_ROWS, FOLDS, EPOCHS, BATCH = None, 10, 100, 1024
EPOCHS = args.epochs or EPOCHS
FOLDS = args.folds or FOLDS
OUT = args.out
PAPER = PAPER_ERRORS
DEVICE = "cuda" if torch.cuda.is_available() else "cpu"


# %%
# Data
# ----

X, y = load_oqmd_hform(return_X_y=True)  # all three splits, outliers dropped
if QUICK:
    rows = np.random.default_rng(0).choice(len(X), N_ROWS, replace=False)
    X, y = X.iloc[rows], y.iloc[rows]
y_true = y.to_numpy()
print(f"{'quick' if QUICK else 'full'} run: {len(X):,} compounds, {FOLDS} folds, {EPOCHS} epochs, "
      f"batch {BATCH}, {DEVICE}")

# %%
# Cross-validated predictions
# ---------------------------

pipe = make_pipeline(
    CompositionFractionTransformer(),
    FormationEnthalpyRegressor(max_epochs=EPOCHS, batch_size=BATCH, random_state=0),
)
cv = KFold(FOLDS, shuffle=True, random_state=0)
t0 = time.perf_counter()
y_pred = cross_val_predict(pipe, X, y, cv=cv)
train_seconds = time.perf_counter() - t0
print(f"{FOLDS} folds trained and predicted in {train_seconds:.0f} s")

err = np.abs(y_pred - y_true)
summary = error_summary(y_true, y_pred)
# The same predictions, grouped by the fold that made them.
summary["fold_mae"] = [float(err[test].mean()) for _, test in cv.split(X)]
print(f"{FOLDS}-fold cross-validation over {summary['n']:,} compounds:")
print(f"  MAE             {summary['mae']:.4f} eV/atom   (paper: {PAPER['mae']:.3f})")
print(f"  80% of errors < {summary['p80']:.4f} eV/atom   (paper: {PAPER['p80']:.3f})")
print(f"  90% of errors < {summary['p90']:.4f} eV/atom   (paper: {PAPER['p90']:.3f})")
print(f"  MAE per fold    {np.round(summary['fold_mae'], 4).tolist()}")

# %%
# Plot
# ----
# Left, the parity plot (a log-density hexbin: there are too many points for
# a scatter); right, the cumulative distribution of the absolute errors with
# our 80th and 90th percentiles (circles) and the paper's (squares).

fig = plot_parity_and_cdf(y_true, y_pred, title=f"{FOLDS}-fold CV")
fig.suptitle(f"Table-1 network{' (quick run)' if QUICK else ''}, {EPOCHS} epochs per fold")
fig.tight_layout()

# %%
# Results
# -------
# The figure, and the numbers followed by the run record (the command, seed,
# hardware, timings and git commit; :func:`~sklearn_hform.utils.write_result`
# also makes the folder).

record = write_result(
    OUT / "cross_validation.json",
    {
        "study": "10-fold cross-validation (Ti et al. 2020, Fig. 6)",
        "quick": QUICK,
        **summary,
        "paper": PAPER,
        "folds": FOLDS,
        "epochs": EPOCHS,
        "batch_size": BATCH,
    },
    ["python", "examples/plot_cross_validation.py", *args.argv],
    started=t_start, seed=0, device=DEVICE, train_seconds=train_seconds, repository=Path.cwd(),
    torch_threads=torch.get_num_threads(),
)
fig.savefig(OUT / "cross_validation.png", dpi=120)
print(f"wrote {OUT / 'cross_validation.png'} and {OUT / 'cross_validation.json'}")
print(f"total wall time {record['wall_seconds']:.1f} s")
