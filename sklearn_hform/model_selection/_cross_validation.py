"""Cross-validation that trains all folds at once.

:func:`cross_val_predict`, :func:`cross_validate` and :func:`cross_val_score`
take scikit-learn's arguments and return what scikit-learn's functions of
the same names return. When the estimator is one of this package's
stackable networks, or a :class:`~sklearn.pipeline.Pipeline` ending in one
whose other steps transform every fold's rows the same way (as
:class:`~sklearn_hform.CompositionFractionTransformer` does), the fold
networks are trained together as one batched model
(:func:`~sklearn_hform.neural_network.fit_stacked`). Anything else is handed
to scikit-learn unchanged; when that happens to one of this package's
networks, a ``UserWarning`` says why.
"""

import numbers
import time
import warnings
from collections.abc import Iterable

import numpy as np
from sklearn import model_selection as sk
from sklearn.base import clone, is_classifier
from sklearn.metrics import check_scoring
from sklearn.pipeline import Pipeline
from sklearn.utils import _safe_indexing, indexable

__all__ = ["cross_val_predict", "cross_val_score", "cross_validate"]


class _Declined(Exception):
    """The folds cannot be trained as one stacked model; the message says why."""


def _reusable(cv):
    """``cv``, or the list of its splits when it is a one-shot iterable.

    The stacked path reads the splits before it may decline and hand ``cv``
    to scikit-learn, which would then find a spent generator.
    """
    if cv is None or isinstance(cv, (numbers.Integral, str)) or hasattr(cv, "split") or not isinstance(cv, Iterable):
        return cv
    return list(cv)


def _stacking_plan(estimator, X, y, groups, cv, params, method):
    from ..neural_network._base import BaseTorchRegressor

    pre, final = None, estimator
    if isinstance(estimator, Pipeline):
        pre, final = (estimator[:-1] if len(estimator) > 1 else None), estimator.steps[-1][1]
    if not isinstance(final, BaseTorchRegressor):
        return None  # not one of this package's networks: there is no stacked path to miss
    if method != "predict":
        raise _Declined(f"method={method!r} (only 'predict' is stacked)")
    weight_key = "sample_weight" if pre is None else f"{estimator.steps[-1][0]}__sample_weight"
    params = dict(params or {})
    sample_weight = params.pop(weight_key, None)
    if params:
        raise _Declined(f"params {sorted(params)} (only {weight_key!r} is passed to a stacked fit)")
    # Errors in the arguments themselves propagate from here: scikit-learn
    # would raise the same ones, so a retry there would only repeat them.
    X, y, groups = indexable(X, y, groups)
    splitter = sk.check_cv(cv, y, classifier=is_classifier(estimator))
    folds = list(splitter.split(X, y, groups))
    if len(folds) < 2:
        raise _Declined(f"the splitter gave {len(folds)} fold(s); stacking needs at least 2")
    return pre, final, X, y, folds, sample_weight


def _fit_folds(estimator, pre, final, X, y, folds, sample_weight):
    from ..neural_network._fit_many import can_stack, fit_stacked

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
            raise _Declined("the preprocessing steps transform the rows differently in different folds, "
                            "so no one feature matrix serves every fold")
        pres.append(fitted)
    Xt = X if pre is None else Xt
    members = [clone(final) for _ in folds]
    n_features = np.shape(Xt)[1] if np.ndim(Xt) == 2 else -1
    if n_features < 1:
        raise _Declined(f"the network's input has shape {np.shape(Xt)}, not (n_samples, n_features)")
    if not can_stack(members, n_features):
        raise _Declined(
            f"sklearn_hform.neural_network.can_stack refuses these {type(final).__name__} settings (stacking "
            "needs no validation split or early stopping, no warm start, only stackable callbacks, no "
            "override of fit or build_net, and a module that declares vmap_safe)"
        )
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


def _stacked_folds(estimator, X, y, groups, cv, params, method="predict", fit_errors="raise"):
    """Fitted fold pipelines and networks, or ``None`` when scikit-learn is to fit the folds.

    ``None`` comes silently for an estimator that is not one of this
    package's networks, and otherwise with a ``UserWarning`` that says why
    the folds are not stacked. Errors in the arguments (``cv``, lengths of
    ``X``, ``y`` and ``groups``) propagate. An error while fitting the folds
    propagates when ``fit_errors="raise"``; with ``"fallback"`` it is named in
    the warning and ``None`` is returned, so that scikit-learn refits the
    folds one by one and gives a failing fold ``error_score``.
    """
    try:
        plan = _stacking_plan(estimator, X, y, groups, cv, params, method)
        if plan is None:
            return None
        try:
            return _fit_folds(estimator, *plan)
        except _Declined:
            raise
        except Exception as exc:
            # Not narrowed on purpose: scikit-learn's error_score contract
            # covers any exception a fit raises, and only a per-fold rerun can
            # tell which folds fail.
            if fit_errors == "raise":
                raise
            raise _Declined(f"fitting them as one model raised {type(exc).__name__}: {exc}") from exc
    except _Declined as why:
        warnings.warn(
            f"sklearn_hform.model_selection: the folds are fitted one by one by scikit-learn, not as one "
            f"stacked model: {why}",
            UserWarning,
            stacklevel=3,
        )
        return None


def cross_val_predict(estimator, X, y=None, *, groups=None, cv=None, n_jobs=None, verbose=0, params=None,
                      pre_dispatch="2*n_jobs", method="predict"):
    """Out-of-fold predictions, as :func:`sklearn.model_selection.cross_val_predict`.

    The fold networks are trained as one stacked model when the estimator
    allows it (see the module's description); ``n_jobs``, ``verbose`` and
    ``pre_dispatch`` then have no effect. Otherwise scikit-learn's function
    runs with all the arguments, after a ``UserWarning`` that says why
    when the estimator is one of this package's networks.

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
    cv = _reusable(cv)
    folds = None if y is None else _stacked_folds(estimator, X, y, groups, cv, params, method)
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
    fold gets ``error_score`` as there. Whenever one of this package's
    networks is not trained the stacked way, a ``UserWarning`` says why.

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
    cv = _reusable(cv)
    sklearn_args = dict(groups=groups, scoring=scoring, cv=cv, n_jobs=n_jobs, verbose=verbose, params=params,
                        pre_dispatch=pre_dispatch, return_train_score=return_train_score,
                        return_estimator=return_estimator, return_indices=return_indices, error_score=error_score)
    fit_errors = "raise" if error_score == "raise" else "fallback"
    folds = None if y is None else _stacked_folds(estimator, X, y, groups, cv, params, fit_errors=fit_errors)
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
