"""
==============================================================
Fine-tuning a pretrained model on experimental data
==============================================================

The shipped ``best`` ensemble was trained on OQMD's DFT formation
enthalpies, and it has learnt DFT, errors included: against experiment it is
off by about 0.11 eV/atom, as much as DFT itself. A thousand experimental
values are too few to train a network from random weights, but enough to
correct one that already knows the chemistry: ElemNet's transfer learning.
:func:`sklearn_hform.neural_network.fine_tune` continues the training of
every member of a fitted model on your data (``hform train --init best`` on
the command line).

The data are the bundled experimental formation enthalpies
(:func:`~sklearn_hform.datasets.load_expt_hform`), split by chemical system:
the held-out compounds come from systems the fine-tuned model never saw.
Three models are compared on them:

* ``best`` as it is (zero-shot);
* ``best`` fine-tuned on the training compounds (the ``expt`` recipe,
  ``scripts/train_expt.py``: 20 epochs at a learning rate of 2e-4);
* the paper's network trained from scratch on the training compounds alone.

What to expect: fine-tuning brings the error against experiment from about
0.11 to about 0.07 eV/atom; from scratch, a thousand compounds give a far
worse model. The shipped ``load_pretrained("expt")`` is this recipe on all
the compounds, with error bars calibrated against experiment (see the docs'
"Your own data" page).

Run from the repository root::

    python examples/plot_fine_tuning.py            # the recipe, about a minute
    python examples/plot_fine_tuning.py --quick    # fewer epochs: a smoke run

``--out DIR`` picks the folder for ``fine_tuning.png`` and
``fine_tuning.json`` (default ``outputs/plot_fine_tuning``).
"""

# %%
# Settings
# --------

import argparse
import os
import time
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import torch
from sklearn.model_selection import GroupShuffleSplit
from sklearn.pipeline import make_pipeline

from sklearn_hform import CompositionFractionTransformer, FormationEnthalpyRegressor, load_pretrained
from sklearn_hform.composition import chemical_system
from sklearn_hform.datasets import load_expt_hform
from sklearn_hform.neural_network import EpochProgress, fine_tune
from sklearn_hform.utils import parse_run_options, write_result

parser = argparse.ArgumentParser(description="Fine-tune the shipped ensemble on experimental data.")
# Adds --quick (or HFORM_QUICK=1) and --out; ignores sphinx-gallery's own arguments.
args = parse_run_options(parser, "outputs/plot_fine_tuning", quick_help="fewer epochs: a smoke run")
QUICK = args.quick
EPOCHS = 3 if QUICK else 20
SCRATCH_EPOCHS = 30 if QUICK else 300
OUT = args.out
torch.set_num_threads(min(2, os.cpu_count() or 1))
T_START = time.perf_counter()

# %%
# The experimental data, split by chemical system
# ------------------------------------------------
data = load_expt_hform(as_frame=False)
X_all, y_all = np.asarray(data.data, dtype=object), data.target
systems = [chemical_system(f) for f in X_all]
train, held_out = next(GroupShuffleSplit(n_splits=1, test_size=0.2, random_state=0).split(X_all, y_all, systems))
X, y, X_eval, y_eval = list(X_all[train]), y_all[train], list(X_all[held_out]), y_all[held_out]
print(f"{len(X):,} experimental compounds to train on, {len(X_eval):,} held out (other chemical systems)")

# %%
# Three models
# ------------
best = load_pretrained("best")
scores, seconds, predictions = {}, {}, {}


def progress(epochs):
    return [("progress", EpochProgress(every=max(1, epochs // 4), columns=("train_loss",)))]



def score(name, model):
    predictions[name] = model.predict(X_eval)
    scores[name] = float(np.mean(np.abs(predictions[name] - y_eval)))


score("best, zero-shot", best)
t0 = time.perf_counter()
# A small learning rate: the pretrained weights are a good start, not noise to forget.
tuned = fine_tune(best, X, y, max_epochs=EPOCHS, lr=2e-4, random_state=0, callbacks=progress(EPOCHS))
seconds["fine-tuned"] = time.perf_counter() - t0
score("fine-tuned", tuned)

scratch = make_pipeline(CompositionFractionTransformer(),
                        FormationEnthalpyRegressor(max_epochs=SCRATCH_EPOCHS, batch_size=64, lr=1e-3,
                                                   device="cpu", random_state=0,
                                                   callbacks=progress(SCRATCH_EPOCHS)))
t0 = time.perf_counter()
scratch.fit(X, y)
seconds["from scratch"] = time.perf_counter() - t0
score("from scratch", scratch)
for name, value in scores.items():
    print(f"  {name:<16} MAE against experiment {value:.4f} eV/atom")

# %%
# Plot
# ----
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.4))
ax1.bar(list(scores), list(scores.values()), color=["C7", "C0", "C3"])
for i, v in enumerate(scores.values()):
    ax1.text(i, v, f"{v:.3f}", ha="center", va="bottom")
ax1.set(ylabel="MAE against experiment, held-out systems (eV/atom)",
        title=f"{len(X):,} experimental training compounds")
for name, colour in (("best, zero-shot", "C7"), ("fine-tuned", "C0")):
    ax2.scatter(y_eval, predictions[name], s=8, color=colour, alpha=0.7, label=name)
lims = [min(y_eval.min(), -5), max(y_eval.max(), 0.5)]
ax2.plot(lims, lims, color="0.5", lw=1, ls="--")
ax2.set(xlabel="experimental ΔHf (eV/atom)", ylabel="predicted ΔHf (eV/atom)", title="held-out compounds")
ax2.legend()
fig.tight_layout()

# %%
# Results
# -------
# The figure, and the numbers followed by the run record (the command, seed,
# hardware, timings and git commit; :func:`~sklearn_hform.utils.write_result`
# also makes the folder).
result = {
    "quick": QUICK,
    "train_rows": int(len(X)),
    "eval_rows": int(len(X_eval)),
    "epochs": EPOCHS,
    "held_out_mae": scores,
    "train_seconds": {k: round(v, 1) for k, v in seconds.items()},
}
record = write_result(OUT / "fine_tuning.json", result, ["python", "examples/plot_fine_tuning.py", *args.argv],
                      started=T_START, seed=0, device="cpu", repository=Path.cwd(),
                      torch_threads=torch.get_num_threads())
fig.savefig(OUT / "fine_tuning.png", dpi=120)
print(f"wrote {OUT / 'fine_tuning.png'} and {OUT / 'fine_tuning.json'}; "
      f"total wall time {record['wall_seconds']:.0f} s")
