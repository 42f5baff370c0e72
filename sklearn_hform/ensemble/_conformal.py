"""Error bars for any regressor: fit on most rows, calibrate the error on the rest.

A single network has no spread, and an ensemble's spread is too narrow
(see :mod:`sklearn_hform.ensemble`). :class:`ConformalRegressor` holds out
a share of the training rows, fits its estimator on the others, and turns
the held-out errors into a calibrated standard deviation and split
conformal intervals with the same machinery as
:meth:`DeepEnsembleRegressor.calibrate`: the spread (zero for a single
model), the prediction and, with enough rows, the input row predict how
large an error is likely to be. It is a regressor, so it can end a
:class:`~sklearn.pipeline.Pipeline` (``pipe.predict(X, return_std=True)``
then reaches it) or wrap a whole one, formulas in.
"""

import inspect
import numbers

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin, clone
from sklearn.utils.validation import check_is_fitted, column_or_1d

from ..utils._constraints import HasMethods, Interval, StrOptions
from ..utils._validation import check_finite_target

__all__ = ["ConformalRegressor", "predict_interval"]


def _takes_return_std(estimator):
    """Whether ``estimator.predict`` (a Pipeline's last step's) accepts ``return_std``."""
    final = estimator.steps[-1][1] if hasattr(estimator, "steps") else estimator
    try:
        return "return_std" in inspect.signature(final.predict).parameters
    except (TypeError, ValueError):
        return False


class ConformalRegressor(RegressorMixin, BaseEstimator):
    """A regressor with a calibrated std and conformal intervals, from rows it did not train on.

    :meth:`fit` splits off ``calibration_size`` of the rows (whole groups
    when ``groups`` is given), fits a clone of ``estimator`` on the others
    and calibrates on the held-out rows (see
    :func:`~sklearn_hform.ensemble.fit_calibration`); the fitted estimator is
    not refitted on them, so the calibration describes the model that
    predicts. :meth:`calibrate` recalibrates on rows of your choosing.

    Parameters
    ----------
    estimator : estimator object
        A regressor, or a Pipeline ending in one (formulas in). Where its
        ``predict`` takes ``return_std`` (a
        :class:`DeepEnsembleRegressor`), its spread informs the error
        model; otherwise the std comes from the error model alone.
    calibration_size : float or int, default=0.1
        The share (float in (0, 1)) or number (int) of rows held out.
        At least 100 rows are needed; 1,000 for ``error_model="features"``.
    error_model : {"auto", "spread", "features"}, default="auto"
        See :func:`~sklearn_hform.ensemble.fit_calibration`. ``"features"``
        reads the input row: the estimator's own features, i.e. for a
        Pipeline the output of all its steps but the last.
    random_state : int or None, default=None
        Seeds the split; ``None`` draws fresh entropy (never NumPy's global
        generator).

    Attributes
    ----------
    estimator_ : estimator
        The clone fitted on the rows not held out.
    calibration_ : dict
        The calibration (error model, scale, floor, conformal quantiles).
    calibration_rows_ : ndarray of int
        The positions in ``X`` of the held-out rows.
    n_features_in_ : int
        Only when ``estimator_`` has it.

    See Also
    --------
    DeepEnsembleRegressor.calibrate : the same calibration for an ensemble
        trained on all rows, given held-out rows separately.

    Examples
    --------
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn_hform import CompositionFractionTransformer, FormationEnthalpyRegressor
    >>> from sklearn_hform.datasets import load_oqmd_hform
    >>> from sklearn_hform.ensemble import ConformalRegressor
    >>> X, y = load_oqmd_hform(split="train", return_X_y=True)
    >>> pipe = make_pipeline(CompositionFractionTransformer(),
    ...                      ConformalRegressor(FormationEnthalpyRegressor(max_epochs=2, device="cpu"),
    ...                                         random_state=0))
    >>> mean, std = pipe.fit(X[:3000], y[:3000]).predict(["Fe2O3", "NaCl"], return_std=True)
    >>> lower, upper = pipe[-1].predict_interval(pipe[:-1].transform(["Fe2O3"]), confidence=0.9)
    """

    _parameter_constraints = {
        "estimator": [HasMethods(["fit", "predict"])],
        "calibration_size": [Interval(numbers.Real, 0, 1, closed="neither"),
                             Interval(numbers.Integral, 100, None, closed="left")],
        "error_model": [StrOptions({"auto", "spread", "features"})],
        "random_state": [numbers.Integral, None],
    }

    def __init__(self, estimator, calibration_size=0.1, error_model="auto", random_state=None):
        self.estimator = estimator
        self.calibration_size = calibration_size
        self.error_model = error_model
        self.random_state = random_state

    def fit(self, X, y, sample_weight=None, groups=None):
        """Fit the estimator on the rows not held out, then calibrate on the held-out ones.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)
            What ``estimator`` takes.
        y : array-like of shape (n_samples,)
        sample_weight : array-like of shape (n_samples,), default=None
            Passed to the estimator's ``fit`` for its rows.
        groups : array-like of shape (n_samples,), default=None
            Hold out whole groups (e.g. chemical systems), so that the
            calibration describes groups the model has not seen.

        Returns
        -------
        self : ConformalRegressor
        """
        from sklearn.model_selection import GroupShuffleSplit, ShuffleSplit

        self._validate_params()
        y = column_or_1d(np.asarray(y, dtype=np.float64), warn=True)
        check_finite_target(y)
        n = len(y)
        if hasattr(X, "__len__") and len(X) != n:
            raise ValueError(f"X has {len(X)} rows but y has {n}")
        # An integer seed or fresh OS entropy: a split never draws from NumPy's global generator.
        seed = self.random_state if self.random_state is not None else int(
            np.random.default_rng().integers(np.iinfo(np.int32).max))
        splitter = (GroupShuffleSplit if groups is not None else ShuffleSplit)(
            n_splits=1, test_size=self.calibration_size, random_state=seed)
        train, held_out = (np.sort(rows) for rows in next(splitter.split(np.zeros((n, 1)), y, groups)))
        fit_params = {} if sample_weight is None else {"sample_weight": np.asarray(sample_weight)[train]}
        if fit_params and hasattr(self.estimator, "steps"):
            fit_params = {f"{self.estimator.steps[-1][0]}__sample_weight": fit_params["sample_weight"]}
        self.estimator_ = clone(self.estimator).fit(_rows(X, train), y[train], **fit_params)
        if hasattr(self.estimator_, "n_features_in_"):
            self.n_features_in_ = self.estimator_.n_features_in_
        self.calibration_rows_ = held_out
        return self.calibrate(_rows(X, self.calibration_rows_), y[self.calibration_rows_])

    def calibrate(self, X, y):
        """(Re)calibrate on rows the fitted estimator did not train on.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)
        y : array-like of shape (n_samples,)

        Returns
        -------
        self : ConformalRegressor
        """
        from ._calibration import fit_calibration

        check_is_fitted(self, "estimator_")
        y = column_or_1d(np.asarray(y, dtype=np.float64), warn=True)
        check_finite_target(y)
        mean, spread = self._mean_and_spread(X)
        if len(y) != len(mean):
            raise ValueError(f"X has {len(mean)} rows but y has {len(y)}")
        features = self._features(X) if self.error_model != "spread" else None
        self.calibration_ = fit_calibration(y, mean, spread, features, error_model=self.error_model)
        return self

    def predict(self, X, return_std=False):
        """The estimator's prediction, optionally with the calibrated std of its error.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)
        return_std : bool, default=False

        Returns
        -------
        y_mean : ndarray of shape (n_samples,)
        y_std : ndarray of shape (n_samples,)
            Only when ``return_std`` is True.
        """
        check_is_fitted(self, "calibration_")
        mean, spread = self._mean_and_spread(X)
        if not return_std:
            return mean
        return mean, self._calibrated_std(X, mean, spread)

    def predict_interval(self, X, confidence=0.95):
        """Split conformal intervals at ``confidence``.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)
        confidence : float, default=0.95

        Returns
        -------
        lower, upper : ndarray of shape (n_samples,)
        """
        from ._calibration import interval_half_width

        check_is_fitted(self, "calibration_")
        mean, spread = self._mean_and_spread(X)
        half = interval_half_width(self._calibrated_std(X, mean, spread), self.calibration_, confidence)
        return mean - half, mean + half

    def _calibrated_std(self, X, mean, spread):
        from ._calibration import apply_calibration

        features = self._features(X) if self.calibration_["error_model"] == "features" else None
        return apply_calibration(spread, self.calibration_, y_mean=mean, X=features)

    def _mean_and_spread(self, X):
        if _takes_return_std(self.estimator_):
            mean, spread = self.estimator_.predict(X, return_std=True)
        else:
            mean = self.estimator_.predict(X)
            # No spread: a constant unit one, which the calibration scales to the errors' 68.27 % quantile.
            spread = np.ones(len(mean))
        return np.asarray(mean, dtype=np.float64).reshape(-1), np.asarray(spread, dtype=np.float64).reshape(-1)

    def _features(self, X):
        """The input rows as the error model reads them: a Pipeline's features before its last step."""
        if hasattr(self.estimator_, "steps") and len(self.estimator_.steps) > 1:
            return np.asarray(self.estimator_[:-1].transform(X), dtype=np.float64)
        try:
            return np.asarray(X, dtype=np.float64)
        except (TypeError, ValueError):
            return None  # not numeric: the spread and the prediction only

    def export_state(self):
        """The fitted state, for :mod:`sklearn_hform.persistence`."""
        from ..persistence._folder import encode_estimator

        check_is_fitted(self, "calibration_")
        record, tensors = encode_estimator(self.estimator_, "estimator_")
        attributes = {"estimator_": record, "calibration_": self.calibration_,
                      "calibration_rows_": [int(i) for i in self.calibration_rows_]}
        if hasattr(self, "n_features_in_"):
            attributes["n_features_in_"] = int(self.n_features_in_)
        return attributes, tensors

    def restore_state(self, attributes, tensors):
        """Become the fitted model described by :meth:`export_state`'s output."""
        from ..persistence._folder import decode_estimator

        self.estimator_ = decode_estimator(attributes["estimator_"], tensors)
        self.calibration_ = dict(attributes["calibration_"])
        self.calibration_rows_ = np.asarray(attributes["calibration_rows_"], dtype=np.intp)
        if "n_features_in_" in attributes:
            self.n_features_in_ = int(attributes["n_features_in_"])
        return self

    def __sklearn_tags__(self):
        from sklearn.utils import get_tags

        tags = super().__sklearn_tags__()
        inner = get_tags(self.estimator)
        tags.input_tags = inner.input_tags
        tags.non_deterministic = inner.non_deterministic
        return tags


def _rows(X, rows):
    """Rows of an array, DataFrame, Series or list."""
    if hasattr(X, "iloc"):
        return X.iloc[rows]
    if isinstance(X, (list, tuple)):
        return [X[i] for i in rows]
    return np.asarray(X)[rows] if not hasattr(X, "shape") else X[rows]


def predict_interval(model, X, confidence=0.95):
    """Prediction intervals of a fitted model, a Pipeline included, at ``confidence``.

    For a Pipeline, ``X`` goes through all its steps but the last, whose
    ``predict_interval`` gives the interval: so ``predict_interval(pipe,
    formulas)`` works for a Pipeline ending in a calibrated
    :class:`DeepEnsembleRegressor` (``load_pretrained("best")``) or a
    :class:`ConformalRegressor`, as ``pipe.predict(formulas,
    return_std=True)`` does for the std.

    Parameters
    ----------
    model : estimator or Pipeline
        Fitted; it (or its last step) has ``predict_interval``.
    X : array-like
    confidence : float, default=0.95

    Returns
    -------
    lower, upper : ndarray of shape (n_samples,)

    Raises
    ------
    TypeError
        If the model (or its last step) has no ``predict_interval``.
    """
    final, Xt = model, X
    if hasattr(model, "steps"):
        final = model.steps[-1][1]
        if len(model.steps) > 1:
            Xt = model[:-1].transform(X)
    if not hasattr(final, "predict_interval"):
        raise TypeError(f"{type(final).__name__} has no predict_interval: wrap the model in a ConformalRegressor, "
                        "or end the Pipeline with a calibrated DeepEnsembleRegressor")
    return final.predict_interval(Xt, confidence=confidence)
