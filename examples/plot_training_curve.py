"""
====================================
Error epoch by epoch (paper, Fig. 5)
====================================

Ti et al. (2020) train the Table-1 network on 90 % of their data and follow
the training loss and the test error over the epochs until the test error
settles at 0.075 eV/atom.

Here the pipeline is fitted once; the per-epoch numbers come from the
fitted skorch net's ``net_.history``:

* ``train_loss``: the mean L1 loss (MAE) over the epoch's training batches;
* ``valid_loss``: the MAE on a random 10 % of the training rows that
  ``validation_fraction=0.1`` holds out;
* ``test_mae``: the MAE on the OQMD test split as published (51,255
  compounds), recorded into the history after each epoch by a small skorch
  callback passed through the regressor's ``callbacks`` parameter;
* ``event_lr``: the learning rate of the epoch (the cosine schedule).

The test-split curve is comparable with the published anchors on the same
split, drawn as thin lines.

Run from the repository root::

    python examples/plot_training_curve.py            # the full run
    python examples/plot_training_curve.py --quick    # a smoke run, seconds

``--out DIR`` picks the folder for ``training_curve.png`` and
``training_curve.json`` (default ``outputs/plot_training_curve``).
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
import torch
from sklearn.pipeline import make_pipeline

from sklearn_hform import CompositionFractionTransformer, FormationEnthalpyRegressor
from sklearn_hform.datasets import load_oqmd_hform
from sklearn_hform.neural_network import EpochProgress, HeldOutMAE
from sklearn_hform.utils import PAPER_ERRORS, PUBLISHED_TEST_MAE, parse_run_options, write_result

t_start = time.perf_counter()
parser = argparse.ArgumentParser(description="Training curve (Fig. 5 of Ti et al. 2020)")
parser.add_argument("--epochs", type=int, default=None, help="epochs (default 100; quick 6)")
# Adds --quick (or HFORM_QUICK=1) and --out; ignores sphinx-gallery's own arguments.
args = parse_run_options(parser, "outputs/plot_training_curve")
QUICK = args.quick

if QUICK:
    N_TRAIN, N_TEST, EPOCHS, BATCH = 3000, 1000, 6, 256
else:
    N_TRAIN, N_TEST, EPOCHS, BATCH = None, None, 100, 1024
EPOCHS = args.epochs or EPOCHS
OUT = args.out
PAPER_MAE = PAPER_ERRORS["mae"]
# MAE (eV/atom) on the same test split, from the CrabNet authors' published predictions.
ANCHORS = PUBLISHED_TEST_MAE


# %%
# Data
# ----
# Training rows: OQMD train+val, outliers dropped. The test rows are turned
# into element fractions once, up front, for the callback: the net inside the
# pipeline sees fractions, not formulas. The fraction columns are fixed
# (hydrogen to plutonium), so they are the pipeline's own.

X_train, y_train = load_oqmd_hform(split=["train", "val"], return_X_y=True)
X_test, y_test = load_oqmd_hform(split="test", return_X_y=True, drop_outliers=False)
if QUICK:
    X_train, y_train = X_train[:N_TRAIN], y_train[:N_TRAIN]
    X_test, y_test = X_test[:N_TEST], y_test[:N_TEST]
F_test = CompositionFractionTransformer().fit_transform(X_test).astype(np.float32)
print(f"{'quick' if QUICK else 'full'} run: {len(X_train):,} training rows (10 % held out for validation), "
      f"{len(X_test):,} test rows, {EPOCHS} epochs, batch {BATCH}, "
      f"{'cuda' if torch.cuda.is_available() else 'cpu'}")

# %%
# Fit
# ---

model = make_pipeline(
    CompositionFractionTransformer(),
    FormationEnthalpyRegressor(
        max_epochs=EPOCHS, batch_size=BATCH, random_state=0, validation_fraction=0.1,
        callbacks=[
            ("test_mae", HeldOutMAE(F_test, y_test.to_numpy())),
            ("progress", EpochProgress(every=1 if QUICK else 10, columns=("train_loss", "valid_loss", "test_mae"))),
        ],
    ),
)
t0 = time.perf_counter()
model.fit(X_train, y_train)
train_seconds = time.perf_counter() - t0
history = model[-1].net_.history
curves = {key: np.asarray(history[:, key], dtype=float).tolist()
          for key in ("train_loss", "valid_loss", "test_mae", "event_lr", "dur")}
final_test_mae = curves["test_mae"][-1]
# The pipeline's own prediction gives the same number as the callback's last one.
check_mae = float(np.mean(np.abs(model.predict(X_test) - y_test)))
print(f"final test MAE {final_test_mae:.4f} eV/atom (pipeline.predict: {check_mae:.4f})")

# %%
# Plot
# ----

epochs = np.arange(1, len(curves["train_loss"]) + 1)
fig, ax = plt.subplots(figsize=(7.5, 4.8))
ax.plot(epochs, curves["train_loss"], label="loss (training batches)")
ax.plot(epochs, curves["valid_loss"], label="val loss (10 % held out)")
ax.plot(epochs, curves["test_mae"], label=f"test split: final {final_test_mae:.4f}")
ax.axhline(PAPER_MAE, color="C3", ls="--", lw=1, label=f"paper: {PAPER_MAE}")
# The published anchors, one grey line each; near-equal ones share a label.
labels = {}
for name, mae in sorted(ANCHORS.items(), key=lambda kv: kv[1]):
    ax.axhline(mae, color="grey", ls=":", lw=0.8)
    near = next((m for m in labels if abs(m - mae) < 0.005), mae)
    labels[near] = labels.get(near, []) + [f"{name} {mae}"]
for mae, names in labels.items():
    ax.annotate(", ".join(names), (epochs[-1], mae), xytext=(0, 1), textcoords="offset points",
                fontsize=7, color="grey", ha="right", va="bottom")
ax.set(xlabel="epoch", ylabel="MAE (eV/atom)", ylim=(0, None),
       title=f"Table-1 network{' (quick run)' if QUICK else ''}: {len(X_train):,} training rows")
lr_ax = ax.twinx()
lr_ax.plot(epochs, curves["event_lr"], color="k", alpha=0.25, lw=1)
lr_ax.set_ylabel("learning rate (grey)")
ax.legend(loc="upper right")
fig.tight_layout()

# %%
# Results
# -------
# The figure, and the numbers followed by the run record (the command, seed,
# hardware, timings and git commit; :func:`~sklearn_hform.utils.write_result`
# also makes the folder).

result = {
    "study": "training curve (Ti et al. 2020, Fig. 5)",
    "quick": QUICK,
    **curves,
    "final_test_mae": final_test_mae,
    "final_valid_loss": curves["valid_loss"][-1],
    "best_valid_epoch": int(np.argmin(curves["valid_loss"])) + 1,
    "paper": {"mae": PAPER_MAE},
    "anchors_test_mae": ANCHORS,
    "train_rows": len(X_train),
    "validation_fraction": 0.1,
    "test_rows": len(X_test),
    "epochs": EPOCHS,
    "batch_size": BATCH,
}
record = write_result(
    OUT / "training_curve.json", result, ["python", "examples/plot_training_curve.py", *args.argv],
    started=t_start, seed=0, device=model[-1].device_, train_seconds=train_seconds,
    repository=Path.cwd(), torch_threads=torch.get_num_threads(),
)
fig.savefig(OUT / "training_curve.png", dpi=120)
print(f"wrote {OUT / 'training_curve.png'} and {OUT / 'training_curve.json'}")
print(f"total wall time {record['wall_seconds']:.1f} s")
