"""
====================================================
Depth and width of the network (paper, Fig. 2 and 3)
====================================================

Ti et al. (2020) compare four fully connected networks, from
``32x2 + 16x2 + 8`` to ``256x2 + 128x2 + 64x2 + 32``, and keep
``128x2 + 64x2 + 32`` (their Table 1): it has the lowest error, while the
largest one overfits, its validation loss rising as its training loss keeps
falling (Fig. 3).

Here the comparison is one :class:`~sklearn.model_selection.GridSearchCV`
over ``hidden_layer_sizes`` of a
:class:`~sklearn_hform.CompositionFractionTransformer` ->
:class:`~sklearn_hform.FormationEnthalpyRegressor` pipeline. The single
"fold" is a :class:`~sklearn.model_selection.PredefinedSplit`: every
configuration trains on the OQMD train+val splits (outliers dropped) and is
scored on the test split, exactly as published (51,255 compounds), so the
numbers sit next to the published anchors on that split. Nothing is selected
on the test split (``refit=False``): this is the paper's comparison, not a
model selection. The largest network is then trained once more with 10 % of
its training rows held out, so that ``net_.history`` holds the training and
validation loss of every epoch.

Run from the repository root::

    python examples/plot_layer_study.py            # the full study
    python examples/plot_layer_study.py --quick    # a smoke run, seconds

``--out DIR`` picks the folder for ``layer_study.png`` and
``layer_study.json`` (default ``outputs/plot_layer_study``). ``HFORM_QUICK=1``
in the environment also selects the quick run (the documentation build uses
it).
"""

# %%
# Settings
# --------
# The full run uses the regressor's default schedule (batches of 1024, RMSprop,
# learning rate 3e-3 decayed by a cosine over 100 epochs). The quick run uses a
# few thousand rows, a few epochs and two of the four configurations.

import argparse
import time
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, PredefinedSplit
from sklearn.pipeline import make_pipeline

from sklearn_hform import CompositionFractionTransformer, FormationEnthalpyRegressor
from sklearn_hform.datasets import load_oqmd_hform
from sklearn_hform.neural_network import EpochProgress
from sklearn_hform.utils import parse_run_options, write_result

t_start = time.perf_counter()
parser = argparse.ArgumentParser(description="Layer study (Fig. 2 and 3 of Ti et al. 2020)")
parser.add_argument("--epochs", type=int, default=None, help="epochs per fit (default 100; quick 6)")
# Adds --quick (or HFORM_QUICK=1) and --out; ignores sphinx-gallery's own arguments.
args = parse_run_options(parser, "outputs/plot_layer_study")
QUICK = args.quick

LADDER = [
    (32, 32, 16, 16, 8),
    (64, 64, 32, 32, 16),
    (128, 128, 64, 64, 32),
    (256, 256, 128, 128, 64, 64, 32),
]
if QUICK:
    LADDER = [LADDER[0], LADDER[-1]]
    N_TRAIN, N_TEST, EPOCHS, BATCH = 3000, 1000, 6, 256
else:
    N_TRAIN, N_TEST, EPOCHS, BATCH = None, None, 100, 1024
EPOCHS = args.epochs or EPOCHS
OUT = args.out
DEVICE = "cuda" if torch.cuda.is_available() else "cpu"


def label(sizes):
    """``(128, 128, 64, 64, 32)`` -> ``"128x2+64x2+32"``, the paper's notation."""
    runs, out = [], []
    for s in sizes:
        if runs and runs[-1][0] == s:
            runs[-1][1] += 1
        else:
            runs.append([s, 1])
    for s, k in runs:
        out.append(f"{s}x{k}" if k > 1 else f"{s}")
    return "+".join(out)


# %%
# Data
# ----
# Training rows: OQMD train+val with the 86 failed calculations
# (\|y\| > 5 eV/atom) dropped. Test rows: the test split as published.

X_train, y_train = load_oqmd_hform(split=["train", "val"], return_X_y=True)
X_test, y_test = load_oqmd_hform(split="test", return_X_y=True, drop_outliers=False)
if QUICK:
    X_train, y_train = X_train[:N_TRAIN], y_train[:N_TRAIN]
    X_test, y_test = X_test[:N_TEST], y_test[:N_TEST]
X = pd.concat([X_train, X_test], ignore_index=True)
y = pd.concat([y_train, y_test], ignore_index=True)
# -1: always in the training set; 0: the one test fold.
split = PredefinedSplit(np.r_[np.full(len(X_train), -1), np.zeros(len(X_test), dtype=int)])
print(f"{'quick' if QUICK else 'full'} run: {len(X_train):,} training rows, {len(X_test):,} test rows, "
      f"{len(LADDER)} configurations, {EPOCHS} epochs, batch {BATCH}, "
      f"{DEVICE}")

# %%
# The grid search
# ---------------

pipe = make_pipeline(
    CompositionFractionTransformer(),
    FormationEnthalpyRegressor(
        max_epochs=EPOCHS, batch_size=BATCH, random_state=0,
        callbacks=[("progress", EpochProgress(every=1 if QUICK else 10))],
    ),
)
search = GridSearchCV(
    pipe,
    {"formationenthalpyregressor__hidden_layer_sizes": LADDER},
    cv=split,
    scoring="neg_mean_absolute_error",
    refit=False,
    return_train_score=True,
    verbose=3,
)
search.fit(X, y)
res = search.cv_results_
configs = [
    {
        "hidden_layer_sizes": list(sizes),
        "label": label(sizes),
        "test_mae": float(-res["mean_test_score"][i]),
        "train_mae": float(-res["mean_train_score"][i]),
        "fit_seconds": float(res["mean_fit_time"][i]),
    }
    for i, sizes in enumerate(res["param_formationenthalpyregressor__hidden_layer_sizes"])
]
for c in configs:
    print(f"{c['label']:>24s}: test MAE {c['test_mae']:.4f}  train MAE {c['train_mae']:.4f} eV/atom  "
          f"({c['fit_seconds']:.1f} s)")

# %%
# The largest network, epoch by epoch
# -----------------------------------
# The same pipeline with the largest configuration, holding out a random 10 %
# of the training rows: skorch then records ``valid_loss`` (the MAE on them)
# next to ``train_loss`` after every epoch.

largest = clone(pipe).set_params(
    formationenthalpyregressor__hidden_layer_sizes=LADDER[-1],
    formationenthalpyregressor__validation_fraction=0.1,
).fit(X_train, y_train)
history = largest[-1].net_.history
train_loss = np.asarray(history[:, "train_loss"], dtype=float)
valid_loss = np.asarray(history[:, "valid_loss"], dtype=float)
best_epoch = int(np.argmin(valid_loss)) + 1

# %%
# Plot
# ----

fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.5))
pos = np.arange(len(configs))
ax1.bar(pos - 0.2, [c["test_mae"] for c in configs], 0.4, label="test split")
ax1.bar(pos + 0.2, [c["train_mae"] for c in configs], 0.4, label="training rows")
for p, c in zip(pos, configs):
    ax1.annotate(f"{c['test_mae']:.3f}", (p - 0.2, c["test_mae"]), ha="center", va="bottom", fontsize=8)
ax1.set_xticks(pos, [c["label"] for c in configs], rotation=15, fontsize=8)
ax1.set(ylabel="MAE (eV/atom)", title="error per configuration")
ax1.legend()
epochs = np.arange(1, len(train_loss) + 1)
ax2.plot(epochs, train_loss, label="loss (training rows)")
ax2.plot(epochs, valid_loss, label="val loss (10 % held out)")
ax2.axvline(best_epoch, color="grey", ls=":", lw=0.8)
ax2.set(xlabel="epoch", ylabel="MAE (eV/atom)", title=f"{label(LADDER[-1])}: training curve")
ax2.legend()
fig.suptitle(f"Layer study{' (quick run)' if QUICK else ''}: {len(X_train):,} training rows, {EPOCHS} epochs")
fig.tight_layout()

# %%
# Results
# -------
# The figure, and the numbers followed by the run record (the command, seed,
# hardware, timings and git commit; :func:`~sklearn_hform.utils.write_result`
# also makes the folder).

result = {
    "study": "layer study (Ti et al. 2020, Fig. 2 and 3)",
    "quick": QUICK,
    "configurations": configs,
    "largest": {
        "hidden_layer_sizes": list(LADDER[-1]),
        "validation_fraction": 0.1,
        "train_loss": train_loss.tolist(),
        "valid_loss": valid_loss.tolist(),
        "best_epoch": best_epoch,
        "final_valid_loss": float(valid_loss[-1]),
    },
    "train_rows": len(X_train),
    "test_rows": len(X_test),
    "epochs": EPOCHS,
    "batch_size": BATCH,
}
record = write_result(OUT / "layer_study.json", result, ["python", "examples/plot_layer_study.py", *args.argv],
                      started=t_start, seed=0, device=DEVICE, repository=Path.cwd(),
                      torch_threads=torch.get_num_threads())
fig.savefig(OUT / "layer_study.png", dpi=120)
print(f"largest network: best validation epoch {best_epoch}/{len(valid_loss)}, "
      f"final val loss {valid_loss[-1]:.4f}")
print(f"wrote {OUT / 'layer_study.png'} and {OUT / 'layer_study.json'}")
print(f"total wall time {record['wall_seconds']:.1f} s")
