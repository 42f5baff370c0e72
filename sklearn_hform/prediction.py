"""Predicting many formulas at once without letting the bad ones stop the good ones.

``model.predict(formulas)`` is all or nothing: one unreadable formula among
100,000 raises a :class:`~sklearn_hform.FormulaError` and nothing is
predicted. :func:`predict_formulas` predicts every row that can be read and
reports the others row by row, as a screening run or a command line needs.
"""

import inspect
import warnings

import numpy as np

__all__ = ["PREDICT_FORMULAS_CHUNK_SIZE", "predict_formulas", "supports_std"]

#: Rows featurized and predicted at a time by :func:`predict_formulas`.
PREDICT_FORMULAS_CHUNK_SIZE = 8192


def __getattr__(name):
    # CHUNK_SIZE was renamed in 0.2: the featurizer had a constant of that name too.
    if name == "CHUNK_SIZE":
        warnings.warn("sklearn_hform.prediction.CHUNK_SIZE is deprecated and will be removed in 0.3; use "
                      "PREDICT_FORMULAS_CHUNK_SIZE", FutureWarning, stacklevel=2)
        return PREDICT_FORMULAS_CHUNK_SIZE
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def supports_std(estimator):
    """Whether ``estimator.predict`` accepts ``return_std`` (a Pipeline asks its last step).

    Parameters
    ----------
    estimator : estimator or Pipeline

    Returns
    -------
    bool
    """
    final = estimator[-1] if hasattr(estimator, "steps") else estimator
    try:
        return "return_std" in inspect.signature(final.predict).parameters
    except (TypeError, ValueError, AttributeError):
        return False


def _split_pipeline(model):
    from .composition._fraction_transformer import CompositionFractionTransformer

    if not hasattr(model, "steps") or not isinstance(model[0], CompositionFractionTransformer):
        raise TypeError(
            "predict_formulas needs a Pipeline whose first step is a CompositionFractionTransformer, "
            f"got {type(model).__name__}"
        )
    if len(model) < 2:
        raise TypeError("the Pipeline has no step after its CompositionFractionTransformer")
    return model[0], model[1:]


def _check_intervals(model, confidence):
    final = model[-1]
    if not hasattr(final, "predict_interval"):
        raise ValueError(f"intervals need a model whose last step has predict_interval (a calibrated "
                         f"DeepEnsembleRegressor); {type(final).__name__} has none")
    if not hasattr(final, "calibration_"):
        raise ValueError("intervals need a calibrated ensemble: call calibrate(X_held_out, y) on its last step")
    if isinstance(confidence, bool) or not isinstance(confidence, (int, float, np.floating)) or not (
            0 < confidence < 1):
        raise ValueError(f"confidence must be a number in (0, 1), got {confidence!r}")


def predict_formulas(model, formulas, *, return_std=None, confidence=None, chunk_size=None, progress=False):
    """Predict every formula that can be read; report the others instead of raising.

    The model is not changed: unseen elements are reported in the
    ``unseen_elements`` column whatever the transformer's ``handle_unknown``
    says, and no warning is emitted for them.

    Parameters
    ----------
    model : Pipeline
        Fitted, starting with a
        :class:`~sklearn_hform.CompositionFractionTransformer` (as every
        model of :func:`~sklearn_hform.load_pretrained` does).
    formulas : array-like of shape (n_samples,)
        Formulas, ``Composition`` objects or ``{element: amount}`` dicts.
    return_std : bool or None, default=None
        Add the predicted ``std`` column. ``None`` adds it when the model's
        last step can give one (``predict(X, return_std=True)``).
    confidence : float or None, default=None
        Add ``lower`` and ``upper``, the bounds of the prediction interval at
        this confidence, in (0, 1). Needs a last step with
        ``predict_interval`` (a calibrated
        :class:`~sklearn_hform.DeepEnsembleRegressor`, such as ``"best"``).
    chunk_size : int, default=None
        Rows featurized and predicted at a time (``None``:
        :data:`PREDICT_FORMULAS_CHUNK_SIZE`, 8192): the memory a call needs
        grows with this, not with the number of formulas.
    progress : bool, default=False
        Show a :mod:`tqdm` progress bar on stderr.

    Returns
    -------
    pandas.DataFrame
        One row per input row, in order, with columns ``prediction``
        (NaN where the row failed), ``std`` (with ``return_std``),
        ``lower`` and ``upper`` (with ``confidence``),
        ``error`` (the reason a row failed, ``""`` where it was predicted)
        and ``unseen_elements`` (elements of the formula absent from the
        model's training data, comma-separated, ``""`` if none).

    Examples
    --------
    >>> from sklearn_hform import load_pretrained
    >>> from sklearn_hform.prediction import predict_formulas
    >>> predict_formulas(load_pretrained("paper"), ["NaCl", "Xx2O"])  # doctest: +SKIP
       prediction                        error unseen_elements
    0   -1.9...
    1         NaN  unknown element symbol 'Xx'
    """
    import pandas as pd
    from tqdm import tqdm

    from .composition._atom_fractions import as_formula_array

    transformer, rest = _split_pipeline(model)
    return_std = _resolve_return_std(model, return_std)
    if confidence is not None:
        _check_intervals(model, confidence)
    chunk_size = _check_chunk_size(chunk_size)
    values, _ = as_formula_array(formulas)
    columns = _empty_columns(len(values), return_std, confidence)
    with tqdm(total=len(values), disable=not progress, unit="formula", desc="predicting") as bar:
        for start in range(0, len(values), chunk_size):
            chunk = values[start : start + chunk_size]
            _predict_chunk(transformer, rest, model[-1], chunk, start, columns, return_std, confidence)
            bar.update(len(chunk))
    return pd.DataFrame(columns)


def _resolve_return_std(model, return_std):
    """``return_std``, ``None`` meaning whether the model can give a std; refused where it cannot."""
    if return_std is None:
        return supports_std(model)
    if return_std and not supports_std(model):
        raise ValueError(f"{type(model[-1]).__name__}.predict does not accept return_std")
    return return_std


def _check_chunk_size(chunk_size):
    """``chunk_size``, ``None`` meaning :data:`PREDICT_FORMULAS_CHUNK_SIZE`; refused unless a positive integer."""
    chunk_size = PREDICT_FORMULAS_CHUNK_SIZE if chunk_size is None else chunk_size
    if not (isinstance(chunk_size, (int, np.integer)) and chunk_size >= 1):
        raise ValueError(f"chunk_size must be a positive integer, got {chunk_size!r}")
    return chunk_size


def _empty_columns(n, return_std, confidence):
    """The columns of the result, in order: NaN predictions and empty strings until rows are done."""
    columns = {"prediction": np.full(n, np.nan)}
    if return_std:
        columns["std"] = np.full(n, np.nan)
    if confidence is not None:
        columns["lower"], columns["upper"] = np.full((2, n), np.nan)
    columns["error"] = np.full(n, "", dtype=object)
    columns["unseen_elements"] = np.full(n, "", dtype=object)
    return columns


def _predict_chunk(transformer, rest, final, chunk, start, columns, return_std, confidence):
    """Fill ``columns`` at the rows of ``chunk`` (``start`` on): predictions, or the reason a row failed."""
    rows, Xt = _readable_fractions(transformer, chunk, start, columns["error"])
    if Xt is None:
        return
    at = start + rows
    for name, predicted in _predict_fractions(rest, final, Xt, return_std, confidence).items():
        columns[name][at] = predicted
    mask = transformer.unseen_element_mask(Xt)
    for i in np.flatnonzero(mask.any(axis=1)):
        columns["unseen_elements"][at[i]] = ",".join(transformer.elements_[mask[i]])


def _readable_fractions(transformer, chunk, start, errors):
    """Positions in ``chunk`` of the rows that can be read and their fractions (None if no row can).

    The reasons of the others go into ``errors`` at ``start`` on.
    """
    from .composition._formula import FormulaError

    rows = np.arange(len(chunk))
    try:
        Xt = transformer.fractions(chunk)
    except FormulaError as exc:
        bad = {row: reason for row, _, _, reason in exc.problems}
        errors[start + np.fromiter(bad, int, len(bad))] = list(bad.values())
        rows = np.setdiff1d(rows, list(bad))
        Xt = transformer.fractions(chunk[rows]) if len(rows) else None
    return rows, Xt


def _predict_fractions(rest, final, Xt, return_std, confidence):
    """Predicted columns for the fractions ``Xt``: ``prediction``, with ``std``, ``lower`` and ``upper`` as asked."""
    from .ensemble._calibration import interval_half_width

    if not (return_std or confidence is not None):
        return {"prediction": rest.predict(Xt)}
    m, s = rest.predict(Xt, return_std=True)
    predicted = {"prediction": m}
    if return_std:
        predicted["std"] = s
    if confidence is not None:
        # predict_interval's bounds from the same calibrated std: the members run once.
        half = interval_half_width(s, final.calibration_, confidence)
        predicted["lower"], predicted["upper"] = m - half, m + half
    return predicted
