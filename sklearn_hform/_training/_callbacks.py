"""skorch callbacks for long trainings: progress lines and a held-out error trace.

Pass them through the ``callbacks`` parameter of any of the package's
networks (:class:`~sklearn_hform.FormationEnthalpyRegressor`, ...); they are
cloned with the estimator, so they also work inside ``cross_validate``,
``GridSearchCV`` and ensembles. They are public as
``sklearn_hform.neural_network.EpochProgress`` and ``HeldOutMAE``.
"""

import sys
import time

import numpy as np
from skorch.callbacks import Callback

__all__ = ["EpochProgress", "HeldOutMAE"]


class EpochProgress(Callback):
    """Print a line when a fit starts and every few epochs, instead of skorch's full table.

    Parameters
    ----------
    every : int or None, default=None
        Print every this many epochs (and after the last); ``None`` prints
        ten times per fit.
    columns : sequence of str, default=("train_loss", "valid_loss")
        History columns shown when present (e.g. add ``"test_mae"`` recorded
        by :class:`HeldOutMAE`).
    stream : {"stdout", "stderr"}, default="stdout"
        Where to print. A name rather than a file object, so that the
        callback can be cloned and pickled with the estimator.
    """

    #: It acts on whole epochs and reads only the history, so networks
    #: trained as one stacked model (:func:`~sklearn_hform.neural_network.fit_stacked`) may keep it.
    stackable = True

    def __init__(self, every=None, columns=("train_loss", "valid_loss"), stream="stdout"):
        self.every = every
        self.columns = columns
        self.stream = stream

    def _print(self, text):
        print(text, file=getattr(sys, self.stream), flush=True)

    def on_train_begin(self, net, X=None, y=None, **kwargs):
        self.t0_ = time.perf_counter()
        module = net.module_
        n_weights = sum(p.numel() for p in module.parameters())
        name = type(module).__name__
        if hasattr(module, "n_members"):  # a stacked model: say what each member is
            n_weights //= module.n_members
            name = f"{module.n_members} x {type(module.template[0]).__name__}"
        rows = f" on {len(X):,} rows" if X is not None else ""
        self._print(f"  fit {name} ({n_weights:,} weights){rows}, {net.max_epochs} epochs")

    def on_epoch_end(self, net, **kwargs):
        epoch = len(net.history)
        every = self.every or max(1, net.max_epochs // 10)
        if epoch % every and epoch != net.max_epochs:
            return
        row = net.history[-1]
        shown = "".join(f"  {c} {row[c]:.4f}" for c in self.columns if c in row)
        self._print(f"    epoch {epoch:4d}/{net.max_epochs}{shown}  {time.perf_counter() - self.t0_:7.1f} s")


class HeldOutMAE(Callback):
    """Record the mean absolute error on fixed held-out rows after every epoch.

    skorch's ``valid_loss`` comes from a random split of the training rows;
    this scores a set of your choosing (e.g. the published test split) into
    ``net.history`` under ``name``, together with the cumulative training
    time (``"train_time"``, excluding this evaluation).

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Features as the net sees them (already transformed).
    y : array-like of shape (n_samples,)
    name : str, default="test_mae"
        History key.
    """

    def __init__(self, X, y, name="test_mae"):
        self.X = X
        self.y = y
        self.name = name

    def on_epoch_end(self, net, **kwargs):
        history = net.history
        history.record("train_time", float(np.sum(history[:, "dur"])))
        pred = net.predict(self.X).reshape(-1)
        history.record(self.name, float(np.mean(np.abs(pred - np.asarray(self.y).reshape(-1)))))
