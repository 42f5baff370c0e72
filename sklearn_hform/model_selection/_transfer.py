"""How well a fitted model transfers to new data: fine-tune it on k-1 folds, predict the k-th.

Fine-tuning a pretrained model on a small data set (experimental formation
enthalpies, say) is judged by cross-validation like any fit, but each fold
starts from the same pretrained weights. :func:`cross_val_fine_tune` returns
the out-of-fold predictions and, for an ensemble, the members' spread on
them: the raw material of a calibration against the new data's errors
(:func:`~sklearn_hform.ensemble.fit_calibration`), which a model calibrated
on its pretraining data does not have.
"""

import warnings

import numpy as np
import pandas as pd

__all__ = ["cross_val_fine_tune"]


def cross_val_fine_tune(model, X, y, *, groups=None, cv=10, random_state=0, sample_weight=None, **params):
    """Out-of-fold predictions of ``fine_tune(model, ...)`` on each fold's training rows.

    Parameters
    ----------
    model : Pipeline
        Fitted, as :func:`~sklearn_hform.neural_network.fine_tune` takes it
        (e.g. ``load_pretrained("best")``); never changed.
    X : array-like of shape (n_samples,)
        Formulas.
    y : array-like of shape (n_samples,)
    groups : array-like of shape (n_samples,) or None, default=None
        Keep each group in one fold (e.g. chemical systems, so that every
        fold's compounds come from systems the fine-tuned model has not
        seen); ``None``: plain shuffled folds.
    cv : int, default=10
        Number of folds.
    random_state : int, default=0
        Shuffles the folds, and seeds each fine-tuning (passed on as
        ``random_state``).
    sample_weight : array-like of shape (n_samples,) or None, default=None
    **params
        Training parameters of the fine-tuning, e.g. ``max_epochs=20,
        lr=2e-4``.

    Returns
    -------
    pandas.DataFrame
        One row per sample, in the order of ``X``: ``fold``,
        ``prediction`` and ``std`` (the members' raw spread; NaN for a
        model without one).
    """
    from sklearn.model_selection import GroupKFold, KFold

    from ..neural_network._fine_tune import fine_tune

    X = np.asarray(X, dtype=object).reshape(-1)
    y = np.asarray(y, dtype=np.float64).reshape(-1)
    if len(X) != len(y):
        raise ValueError(f"X has {len(X)} rows but y has {len(y)}")
    weights = None if sample_weight is None else np.asarray(sample_weight, dtype=np.float64).reshape(-1)
    splitter = (GroupKFold(cv, shuffle=True, random_state=random_state) if groups is not None
                else KFold(cv, shuffle=True, random_state=random_state))
    out = pd.DataFrame({"fold": np.full(len(y), -1), "prediction": np.nan, "std": np.nan})
    for k, (train, test) in enumerate(splitter.split(X, y, groups)):
        with warnings.catch_warnings():
            # Each fold's model is used for its raw spread: that its calibration was dropped is the point.
            warnings.filterwarnings("ignore", message="fine_tune dropped the ensemble's calibration")
            tuned = fine_tune(model, list(X[train]), y[train], random_state=random_state,
                              sample_weight=None if weights is None else weights[train], **params)
        if _has_std(tuned):
            mean, std = tuned.predict(list(X[test]), return_std=True)
            out.loc[test, "std"] = std
        else:
            mean = tuned.predict(list(X[test]))
        out.loc[test, "prediction"] = mean
        out.loc[test, "fold"] = k
    return out


def _has_std(model):
    return hasattr(model.steps[-1][1], "estimators_")
