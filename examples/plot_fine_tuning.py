"""
==============================================================
Fine-tuning a pretrained model on a small data set
==============================================================

With a thousand compounds of one chemistry, a network trained from random
weights has little to learn from. ElemNet's answer is transfer learning:
start from a network that already learnt OQMD's chemistry and continue
training it on the small set. :func:`sklearn_hform.neural_network.fine_tune` does
that for any fitted model of the package (``hform train --init best`` on the
command line).

Here the small data set is made of oxides (compounds containing O) from the
OQMD *test* split, which the pretrained ``paper`` model never saw: 1,000 of
them to train on, the other test-split oxides to measure the error. Three
models are compared on those held-out oxides:

* the pretrained ``paper`` network as it is;
* the same network fine-tuned on the 1,000 oxides;
* the same architecture trained from scratch on the 1,000 oxides only
  (a larger learning rate and twice the epochs, as random weights need).

What to expect: fine-tuning keeps the pretrained network's accuracy, which a
network trained on the 1,000 oxides alone is far from (the measured figures
are in the docs' reproduction page). Here the oxides come from the same
distribution as the pretraining data, so the pretrained network is already
about as good as it gets on them; fine-tuning pays when your data differ from
OQMD's (another functional, another property, a chemistry OQMD covers thinly).

Run from the repository root::

    python examples/plot_fine_tuning.py            # 1,000 oxides, 50 epochs
    python examples/plot_fine_tuning.py --quick    # a smoke run, seconds

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
from sklearn.base import clone
from sklearn.pipeline import make_pipeline

from sklearn_hform import CompositionFractionTransformer, load_pretrained
from sklearn_hform.datasets import load_oqmd_hform
from sklearn_hform.neural_network import EpochProgress, fine_tune
from sklearn_hform.utils import parse_run_options, write_result

parser = argparse.ArgumentParser(description="Fine-tune the pretrained network on 1,000 oxides.")
parser.add_argument("--rows", type=int, default=None, help="training oxides (default 1000; quick 300)")
# Adds --quick (or HFORM_QUICK=1) and --out; ignores sphinx-gallery's own arguments.
args = parse_run_options(parser, "outputs/plot_fine_tuning", quick_help="fewer rows and epochs: a smoke run")
QUICK = args.quick
N_TRAIN = args.rows or (300 if QUICK else 1000)
EPOCHS = 10 if QUICK else 50
N_EVAL = 2000 if QUICK else None
OUT = args.out
torch.set_num_threads(min(2, os.cpu_count() or 1))
T_START = time.perf_counter()

# %%
# The small data set
# ------------------
frame = load_oqmd_hform(split="test").frame
oxides = frame[frame["formula"].str.contains(r"O(?![a-z])", regex=True)].sample(frac=1.0, random_state=0)
train, held_out = oxides.iloc[:N_TRAIN], oxides.iloc[N_TRAIN:]
if N_EVAL is not None:
    held_out = held_out.iloc[:N_EVAL]
X, y = train["formula"].to_numpy(), train["formation_enthalpy"].to_numpy()
X_eval, y_eval = held_out["formula"].to_numpy(), held_out["formation_enthalpy"].to_numpy()
print(f"{len(X):,} oxides to train on, {len(X_eval):,} held-out oxides to score")

# %%
# Three models
# ------------
pretrained = load_pretrained("paper")
progress = [("progress", EpochProgress(every=max(1, EPOCHS // 5), columns=("train_loss",)))]
# A small learning rate: the pretrained weights are a good start, not noise to forget.
settings = dict(max_epochs=EPOCHS, batch_size=64, lr=3e-5, random_state=0, device="cpu", callbacks=progress)
scores, seconds, curves = {}, {}, {}


def mae(model):
    return float(np.mean(np.abs(model.predict(X_eval) - y_eval)))


scores["pretrained, as is"] = mae(pretrained)
t0 = time.perf_counter()
tuned = fine_tune(pretrained, X, y, **settings)
seconds["fine-tuned"] = time.perf_counter() - t0
scores["fine-tuned"] = mae(tuned)
curves["fine-tuned"] = tuned[-1].net_.history[:, "train_loss"]

scratch_net = clone(pretrained[-1]).set_params(**{**settings, "lr": 3e-3, "max_epochs": 2 * EPOCHS})
scratch = make_pipeline(CompositionFractionTransformer(), scratch_net)
t0 = time.perf_counter()
scratch.fit(X, y)
seconds["from scratch"] = time.perf_counter() - t0
scores["from scratch"] = mae(scratch)
curves["from scratch"] = scratch[-1].net_.history[:, "train_loss"]
for name, value in scores.items():
    print(f"  {name:<18} held-out MAE {value:.4f} eV/atom")

# %%
# Plot
# ----
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.2))
ax1.bar(list(scores), list(scores.values()), color=["C7", "C0", "C3"])
for i, v in enumerate(scores.values()):
    ax1.text(i, v, f"{v:.3f}", ha="center", va="bottom")
ax1.set(ylabel="MAE on held-out oxides (eV/atom)", title=f"{len(X):,} training oxides")
for name, curve in curves.items():
    ax2.plot(np.arange(1, len(curve) + 1), curve, label=name)
ax2.set(xlabel="epoch", ylabel="training loss (MAE, eV/atom)", yscale="log", title="training")
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
