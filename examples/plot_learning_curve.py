"""
===============================================
Error against training-set size (paper, Fig. 4)
===============================================

How much data does the Table-1 network need? Ti et al. (2020) train it on
5,000, 10,000, 50,000 and all 275,778 of their compounds and find the error
still falling at the largest size: the model is complex enough to use all of
the data.

Here that is one :func:`sklearn.model_selection.learning_curve` call on a
:class:`~sklearn_hform.CompositionFractionTransformer` ->
:class:`~sklearn_hform.FormationEnthalpyRegressor` pipeline. The training
rows are OQMD's train+val splits (outliers dropped), drawn at random
(``shuffle=True``) at 5,000 / 10,000 / 50,000 rows and all of them; every
model is scored on the test split as published (51,255 compounds) through a
single :class:`~sklearn.model_selection.PredefinedSplit` fold. The paper used
10-fold cross-validation for this figure; one fixed test split costs a tenth
as much and keeps the numbers comparable with the published anchors.

Every size trains for the same number of epochs, so the small sets also take
fewer gradient steps, as in the paper.

Run from the repository root::

    python examples/plot_learning_curve.py            # the full study
    python examples/plot_learning_curve.py --quick    # a smoke run, seconds

``--out DIR`` picks the folder for ``learning_curve.png`` and
``learning_curve.json`` (default ``outputs/plot_learning_curve``).
``HFORM_QUICK=1`` in the environment also selects the quick run.
"""

# %%
# Settings
# --------

import argparse
import time
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
from sklearn.model_selection import PredefinedSplit, learning_curve
from sklearn.pipeline import make_pipeline

from sklearn_hform import CompositionFractionTransformer, FormationEnthalpyRegressor
from sklearn_hform.datasets import load_oqmd_hform
from sklearn_hform.neural_network import EpochProgress
from sklearn_hform.utils import PAPER_ERRORS, PAPER_ROWS, parse_run_options, write_result

t_start = time.perf_counter()
parser = argparse.ArgumentParser(description="Learning curve (Fig. 4 of Ti et al. 2020)")
parser.add_argument("--epochs", type=int, default=None, help="epochs per fit (default 100; quick 6)")
# Adds --quick (or HFORM_QUICK=1) and --out; ignores sphinx-gallery's own arguments.
args = parse_run_options(parser, "outputs/plot_learning_curve")
QUICK = args.quick

if QUICK:
    N_TRAIN, N_TEST, EPOCHS, BATCH = 3000, 1000, 6, 256
    SIZES = [300, 1000, 2000, None]
else:
    N_TRAIN, N_TEST, EPOCHS, BATCH = None, None, 100, 1024
    SIZES = [5000, 10_000, 50_000, None]  # None: all training rows
EPOCHS = args.epochs or EPOCHS
OUT = args.out
DEVICE = "cuda" if torch.cuda.is_available() else "cpu"
PAPER_MAE = PAPER_ERRORS["mae"]  # the paper's headline, all data, 10-fold CV
PAPER_N = PAPER_ROWS


# %%
# Data
# ----

X_train, y_train = load_oqmd_hform(split=["train", "val"], return_X_y=True)
X_test, y_test = load_oqmd_hform(split="test", return_X_y=True, drop_outliers=False)
if QUICK:
    X_train, y_train = X_train[:N_TRAIN], y_train[:N_TRAIN]
    X_test, y_test = X_test[:N_TEST], y_test[:N_TEST]
X = pd.concat([X_train, X_test], ignore_index=True)
y = pd.concat([y_train, y_test], ignore_index=True)
split = PredefinedSplit(np.r_[np.full(len(X_train), -1), np.zeros(len(X_test), dtype=int)])
sizes = [len(X_train) if s is None else s for s in SIZES]
print(f"{'quick' if QUICK else 'full'} run: training sizes {sizes}, {len(X_test):,} test rows, "
      f"{EPOCHS} epochs, batch {BATCH}, {DEVICE}")

# %%
# The learning curve
# ------------------

pipe = make_pipeline(
    CompositionFractionTransformer(),
    FormationEnthalpyRegressor(
        max_epochs=EPOCHS, batch_size=BATCH, random_state=0,
        callbacks=[("progress", EpochProgress(every=1 if QUICK else 10))],
    ),
)
train_sizes, train_scores, test_scores, fit_times, _ = learning_curve(
    pipe, X, y,
    train_sizes=sizes,
    cv=split,
    scoring="neg_mean_absolute_error",
    shuffle=True,
    random_state=0,
    return_times=True,
    verbose=3,
)
test_mae = -test_scores.mean(axis=1)
train_mae = -train_scores.mean(axis=1)
for n, te, tr, t in zip(train_sizes, test_mae, train_mae, fit_times.mean(axis=1)):
    print(f"{n:>8,} rows: test MAE {te:.4f}  train MAE {tr:.4f} eV/atom  ({t:.1f} s)")

# %%
# Plot
# ----

fig, ax = plt.subplots(figsize=(6.5, 4.5))
ax.plot(train_sizes, test_mae, "o-", label="test split")
ax.plot(train_sizes, train_mae, "s--", label="training rows")
for n, m in zip(train_sizes, test_mae):
    ax.annotate(f"{m:.3f}", (n, m), xytext=(4, 6), textcoords="offset points", fontsize=8)
ax.plot([PAPER_N], [PAPER_MAE], "r*", ms=12, label=f"paper, all data: {PAPER_MAE}")
ax.set(xscale="log", xlabel="training rows", ylabel="MAE (eV/atom)",
       title=f"Learning curve{' (quick run)' if QUICK else ''}, {EPOCHS} epochs per fit")
ax.legend()
fig.tight_layout()

# %%
# Results
# -------
# The figure, and the numbers followed by the run record (the command, seed,
# hardware, timings and git commit; :func:`~sklearn_hform.utils.write_result`
# also makes the folder).

result = {
    "study": "learning curve (Ti et al. 2020, Fig. 4)",
    "quick": QUICK,
    "train_sizes": [int(n) for n in train_sizes],
    "test_mae": test_mae.tolist(),
    "train_mae": train_mae.tolist(),
    "fit_seconds": fit_times.mean(axis=1).tolist(),
    "paper": {"mae_all_data": PAPER_MAE, "rows": PAPER_N},
    "test_rows": len(X_test),
    "epochs": EPOCHS,
    "batch_size": BATCH,
}
command = ["python", "examples/plot_learning_curve.py", *args.argv]
record = write_result(OUT / "learning_curve.json", result, command, started=t_start, seed=0, device=DEVICE,
                      repository=Path.cwd(), torch_threads=torch.get_num_threads())
fig.savefig(OUT / "learning_curve.png", dpi=120)
print(f"wrote {OUT / 'learning_curve.png'} and {OUT / 'learning_curve.json'}")
print(f"total wall time {record['wall_seconds']:.1f} s")
