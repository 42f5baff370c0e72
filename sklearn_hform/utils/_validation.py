"""Checks of user input shared by the estimators: each names the bad value and its row."""

import numbers

import numpy as np

__all__ = ["check_finite_target", "check_hidden_layer_sizes", "check_sample_weight", "normalized_weights",
           "validate_fit_inputs"]


def check_sample_weight(sample_weight, n_samples):
    """``sample_weight`` as a float64 array, or ``ValueError`` naming the bad row.

    Parameters
    ----------
    sample_weight : array-like of shape (n_samples,), scalar or None
    n_samples : int

    Returns
    -------
    ndarray of shape (n_samples,) or None
    """
    if sample_weight is None:
        return None
    try:
        w = np.asarray(sample_weight, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError("sample_weight must be numbers; it holds a value that is not") from None
    if w.ndim == 0:
        w = np.full(n_samples, float(w))
    if w.shape != (n_samples,):
        raise ValueError(f"sample_weight has shape {w.shape}, expected ({n_samples},)")
    bad = np.flatnonzero(~np.isfinite(w) | (w < 0))
    if len(bad):
        raise ValueError(f"sample_weight must be finite and non-negative; row {bad[0]} is {w[bad[0]]!r}")
    if not w.sum() > 0:
        raise ValueError("sample_weight sums to zero: no row would be trained on")
    return w


def normalized_weights(weight):
    """Positive sample weights scaled to mean 1, or ``None`` when they are all equal.

    Equal weights then train exactly as no weights, and other weights keep
    the learning rate's meaning.
    """
    return None if np.all(weight == weight[0]) else weight / weight.mean()


def check_finite_target(y):
    """``ValueError`` naming the first row whose target is missing or not finite.

    Parameters
    ----------
    y : ndarray of shape (n_samples,), float
    """
    bad = np.flatnonzero(~np.isfinite(y))
    if len(bad):
        raise ValueError(
            f"y must be finite numbers; {len(bad)} row(s) are not, the first is row {bad[0]} ({float(y[bad[0]])})"
        )


def check_hidden_layer_sizes(sizes):
    """``sizes`` as a tuple of positive ints, or ``ValueError`` naming the value.

    Parameters
    ----------
    sizes : sequence of int

    Returns
    -------
    tuple of int
    """
    try:
        widths = tuple(sizes)
    except TypeError:
        raise ValueError(f"hidden_layer_sizes must be a sequence of positive integers, got {sizes!r}") from None
    if not widths or not all(isinstance(w, numbers.Integral) and not isinstance(w, bool) and w >= 1 for w in widths):
        raise ValueError(f"hidden_layer_sizes must be a non-empty sequence of positive integers, got {sizes!r}")
    return tuple(int(w) for w in widths)


def validate_fit_inputs(estimator, X, y, sample_weight, *, dtype, warm, takes):
    """``X``, ``y`` and ``sample_weight`` of a fit, checked; a failed warm start leaves ``estimator`` as it was.

    :func:`~sklearn.utils.validation.validate_data` describes the new ``X``
    in ``n_features_in_`` and ``feature_names_in_`` (setting or deleting the
    names) before any check can fail, so on a failure during a warm start
    both are put back, present or absent as before.

    Parameters
    ----------
    estimator : estimator
        The estimator being fitted.
    X : array-like of shape (n_samples, n_features)
    y : array-like of shape (n_samples,) or (n_samples, 1)
        A single-column 2-D ``y`` is flattened with one ``DataConversionWarning``.
    sample_weight : array-like of shape (n_samples,) or None
    dtype : list of dtypes
        Accepted by ``validate_data``.
    warm : bool
        A warm start: ``X`` must have the fitted number of features.
    takes : str
        Who takes the features, for the message (``"the fitted network takes"``).

    Returns
    -------
    X : ndarray
    y : ndarray of shape (n_samples,), dtype float64
    sample_weight : ndarray of shape (n_samples,)

    Raises
    ------
    ValueError
        For a warm start with another number of features, a non-finite target
        or bad weights (see :func:`check_sample_weight`).
    """
    from sklearn.utils.validation import column_or_1d, validate_data

    described = ("n_features_in_", "feature_names_in_")
    kept = {name: getattr(estimator, name) for name in described if hasattr(estimator, name)}
    try:
        X, y = validate_data(estimator, X, y, dtype=dtype, y_numeric=True, multi_output=True)
        if warm and X.shape[1] != kept["n_features_in_"]:
            raise ValueError(f"warm_start: {takes} {kept['n_features_in_']} features, X has {X.shape[1]}")
        y = column_or_1d(y, warn=True).astype(np.float64)
        check_finite_target(y)
        sample_weight = check_sample_weight(sample_weight, len(y))
    except BaseException:
        if warm:
            for name in described:
                if name in kept:
                    setattr(estimator, name, kept[name])
                elif hasattr(estimator, name):
                    delattr(estimator, name)
        raise
    return X, y, sample_weight
