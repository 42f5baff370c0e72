"""Cross-validation that trains all folds at once.

:func:`cross_val_predict`, :func:`cross_validate` and :func:`cross_val_score`
take scikit-learn's arguments and return what scikit-learn's functions of
the same names return. When the estimator is one of this package's
stackable networks, or a :class:`~sklearn.pipeline.Pipeline` ending in one
whose other steps transform every fold's rows the same way (as
:class:`~sklearn_hform.CompositionFractionTransformer` does), the fold
networks are trained together as one batched model
(:mod:`sklearn_hform.stacking`). Anything else is handed to scikit-learn
unchanged.
"""

import time

import numpy as np
from sklearn import model_selection as sk
from sklearn.base import clone, is_classifier
from sklearn.metrics import check_scoring
from sklearn.pipeline import Pipeline
from sklearn.utils import _safe_indexing, indexable

__all__ = ["cross_val_predict", "cross_val_score", "cross_validate"]


def _stacked_folds(estimator, X, y, groups, cv, params):
    """Fitted fold pipelines and networks, or ``None`` when the folds cannot be stacked."""
    from .base import BaseTorchRegressor
    from .stacking import can_stack, fit_stacked

    pre, final = None, estimator
    if isinstance(estimator, Pipeline):
        pre, final = (estimator[:-1] if len(estimator) > 1 else None), estimator.steps[-1][1]
    if not isinstance(final, BaseTorchRegressor):
        return None
    weight_key = "sample_weight" if pre is None else f"{estimator.steps[-1][0]}__sample_weight"
    params = dict(params or {})
    sample_weight = params.pop(weight_key, None)
    if params:
        return None
    X, y, groups = indexable(X, y, groups)
    splitter = sk.check_cv(cv, y, classifier=is_classifier(estimator))
    folds = list(splitter.split(X, y, groups))
    if len(folds) < 2:
        return None
    t0 = time.perf_counter()
    pres, Xt = [], None
    for train, _ in folds:
        if pre is None:
            pres.append(None)
            continue
        fitted = clone(pre).fit(_safe_indexing(X, train), _safe_indexing(y, train))
        Xk = fitted.transform(X)
        if Xt is None:
            Xt = Xk
        elif not np.array_equal(np.asarray(Xk), np.asarray(Xt)):
            return None  # the preprocessing depends on the fold: one shared matrix would be wrong
        pres.append(fitted)
    Xt = X if pre is None else Xt
    members = [clone(final) for _ in folds]
    n_features = np.shape(Xt)[1] if np.ndim(Xt) == 2 else -1
    if n_features < 1 or not can_stack(members, n_features):
        return None
    fit_stacked(members, Xt, y, [train for train, _ in folds], sample_weight)
    fit_time = (time.perf_counter() - t0) / len(folds)
    pipelines = []
    for fitted_pre, member in zip(pres, members):
        if fitted_pre is None:
            pipelines.append(member)
            continue
        pipe = clone(estimator)
        pipe.steps = list(fitted_pre.steps) + [(estimator.steps[-1][0], member)]
        pipelines.append(pipe)
    return folds, Xt, members, pipelines, fit_time


def cross_val_predict(estimator, X, y=None, *, groups=None, cv=None, n_jobs=None, verbose=0, params=None,
                      pre_dispatch="2*n_jobs", method="predict"):
    """Out-of-fold predictions, as :func:`sklearn.model_selection.cross_val_predict`.

    The fold networks are trained as one stacked model when the estimator
    allows it (see the module's description); ``n_jobs``, ``verbose`` and
    ``pre_dispatch`` then have no effect. Otherwise scikit-learn's function
    runs with all the arguments.

    Parameters
    ----------
    estimator : estimator object
    X : array-like of shape (n_samples, ...)
    y : array-like of shape (n_samples,)
    groups, cv, n_jobs, verbose, params, pre_dispatch, method
        As in scikit-learn. On the stacked path ``params`` may hold the
        final step's ``sample_weight`` (``"sample_weight"``, or
        ``"<step>__sample_weight"`` for a pipeline); other parameters use
        scikit-learn's path.

    Returns
    -------
    ndarray of shape (n_samples,)
    """
    folds = None
    if method == "predict" and y is not None:
        folds = _stacked_folds(estimator, X, y, groups, cv, params)
    if folds is None:
        return sk.cross_val_predict(estimator, X, y, groups=groups, cv=cv, n_jobs=n_jobs, verbose=verbose,
                                    params=params, pre_dispatch=pre_dispatch, method=method)
    folds, Xt, members, _, _ = folds
    test = np.concatenate([t for _, t in folds])
    if len(test) != len(np.unique(test)) or len(test) != len(y):
        raise ValueError("cross_val_predict only works for partitions")
    out = np.empty(len(y))
    for (_, rows), member in zip(folds, members):
        out[rows] = member.predict(_safe_indexing(Xt, rows))
    return out


def cross_validate(estimator, X, y=None, *, groups=None, scoring=None, cv=None, n_jobs=None, verbose=0,
                   params=None, pre_dispatch="2*n_jobs", return_train_score=False, return_estimator=False,
                   return_indices=False, error_score=np.nan):
    """Scores of every fold, as :func:`sklearn.model_selection.cross_validate`.

    The fold networks are trained as one stacked model when the estimator
    allows it (see the module's description); each fold's ``fit_time`` is
    then the stacked fit's time divided by the number of folds, and
    ``n_jobs``, ``verbose`` and ``pre_dispatch`` have no effect. If the
    stacked fit fails and ``error_score`` is not ``"raise"``,
    scikit-learn's function reruns the folds one by one, so that a failing
    fold gets ``error_score`` as there.

    Parameters
    ----------
    estimator : estimator object
    X : array-like of shape (n_samples, ...)
    y : array-like of shape (n_samples,)
    groups, scoring, cv, n_jobs, verbose, params, pre_dispatch, return_train_score, return_estimator,
    return_indices, error_score
        As in scikit-learn.

    Returns
    -------
    dict of str to ndarray
        The keys scikit-learn returns: ``fit_time``, ``score_time``,
        ``test_score`` (or ``test_<name>`` per metric), and on request
        ``train_*``, ``estimator`` and ``indices``.
    """
    sklearn_args = dict(groups=groups, scoring=scoring, cv=cv, n_jobs=n_jobs, verbose=verbose, params=params,
                        pre_dispatch=pre_dispatch, return_train_score=return_train_score,
                        return_estimator=return_estimator, return_indices=return_indices, error_score=error_score)
    try:
        folds = None if y is None else _stacked_folds(estimator, X, y, groups, cv, params)
    except Exception:
        if error_score == "raise":
            raise
        folds = None
    if folds is None:
        return sk.cross_validate(estimator, X, y, **sklearn_args)
    folds, _, _, pipelines, fit_time = folds
    scorer = check_scoring(estimator, scoring=scoring)
    X, y, _ = indexable(X, y, None)
    scores = {"test": [], "train": []}
    score_times = []
    for (train, test), pipe in zip(folds, pipelines):
        t0 = time.perf_counter()
        scores["test"].append(scorer(pipe, _safe_indexing(X, test), _safe_indexing(y, test)))
        score_times.append(time.perf_counter() - t0)
        if return_train_score:
            scores["train"].append(scorer(pipe, _safe_indexing(X, train), _safe_indexing(y, train)))
    result = {"fit_time": np.full(len(folds), fit_time), "score_time": np.asarray(score_times)}
    for part in ("test", "train") if return_train_score else ("test",):
        values = scores[part]
        if isinstance(values[0], dict):
            for name in values[0]:
                result[f"{part}_{name}"] = np.asarray([v[name] for v in values])
        else:
            result[f"{part}_score"] = np.asarray(values)
    if return_estimator:
        result["estimator"] = pipelines
    if return_indices:
        result["indices"] = {"train": [t for t, _ in folds], "test": [t for _, t in folds]}
    return result


def cross_val_score(estimator, X, y=None, *, groups=None, scoring=None, cv=None, n_jobs=None, verbose=0,
                    params=None, pre_dispatch="2*n_jobs", error_score=np.nan):
    """The test score of every fold, as :func:`sklearn.model_selection.cross_val_score`.

    Runs :func:`cross_validate` with a single metric.

    Returns
    -------
    ndarray of shape (n_folds,)
    """
    result = cross_validate(estimator, X, y, groups=groups, scoring=scoring, cv=cv, n_jobs=n_jobs,
                            verbose=verbose, params=params, pre_dispatch=pre_dispatch, error_score=error_score)
    return result["test_score"]
