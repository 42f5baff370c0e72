"""Deep ensembles: independently seeded networks whose spread estimates uncertainty."""

import numbers
import warnings

import numpy as np
from joblib import Parallel, delayed
from sklearn.base import BaseEstimator, RegressorMixin, clone
from sklearn.utils import check_random_state, get_tags
from sklearn.utils.validation import check_is_fitted, column_or_1d, validate_data

from ..neural_network._mlp import FormationEnthalpyRegressor
from ..utils._constraints import HasMethods, Interval
from ..utils._validation import check_finite_target, validate_fit_inputs

__all__ = ["DeepEnsembleRegressor"]


def _fit_member(estimator, X, y, sample_weight):
    if sample_weight is None:
        return estimator.fit(X, y)
    return estimator.fit(X, y, sample_weight=sample_weight)


class DeepEnsembleRegressor(RegressorMixin, BaseEstimator):
    """Average of independently seeded regressors, with their spread as uncertainty.

    Each member is a clone of ``estimator`` with its own ``random_state``
    drawn from the ensemble's, trained on all the rows: a deep ensemble
    (Lakshminarayanan et al., 2017), not bagging. For a neural network the
    members differ through their initial weights and the order of the
    batches, and where they disagree the prediction is less trustworthy:
    ``predict(X, return_std=True)`` returns that disagreement as a standard
    deviation, as :class:`~sklearn.gaussian_process.GaussianProcessRegressor`
    does for its posterior.

    Parameters
    ----------
    estimator : estimator object, default=None
        The regressor to replicate. ``None`` means
        :class:`FormationEnthalpyRegressor` with its default parameters.
        Its ``random_state`` parameter, if it has one, is overwritten in
        each member.
    n_estimators : int, default=5
        Number of members.
    random_state : int, RandomState instance or None, default=None
        Draws the members' seeds. A fixed value makes the whole ensemble
        reproducible (within the determinism of the members).
    n_jobs : int or None, default=None
        Members fitted in parallel through :mod:`joblib`, when they are not
        trained as one stacked model (members of this package's networks
        whose module declares ``vmap_safe``, e.g.
        :class:`FormationEnthalpyRegressor` without a validation split or
        extra callbacks, are: all of them in one batched fit, see
        :func:`~sklearn_hform.neural_network.fit_stacked`).
        ``None`` means 1 unless in a :func:`joblib.parallel_config` context;
        -1 means all processors. Members of this package draw all their randomness from
        generators of their own, so seeded ensembles are reproducible with
        threads as well as processes.
    warm_start : bool, default=False
        Keep the members of the previous fit and train only the ones
        ``n_estimators`` adds, with the seeds a single fit would give them
        (as in :class:`~sklearn.ensemble.BaggingRegressor`): an ensemble can
        be grown one member at a time, e.g. across time-limited jobs.

    Attributes
    ----------
    estimators_ : list of estimators
        The fitted members.
    n_features_in_ : int
        Number of input features.
    feature_names_in_ : ndarray of str
        Input column names, when fitted on a DataFrame with string columns.
    history_ : skorch.history.History
        When the members were trained as one stacked model: per epoch,
        ``train_loss`` (the members' mean) and ``train_member_loss``.
    calibration_ : dict
        Set by :meth:`calibrate`: the error model, the std's scale and
        floor and the conformal quantiles (see
        :func:`~sklearn_hform.ensemble.fit_calibration`).

    See Also
    --------
    FormationEnthalpyRegressor : the default member.
    sklearn.ensemble.BaggingRegressor : members on bootstrap samples instead.

    References
    ----------
    Lakshminarayanan, B., Pritzel, A. and Blundell, C. (2017). Simple and
    scalable predictive uncertainty estimation using deep ensembles.
    NeurIPS 30.

    Examples
    --------
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn_hform import (CompositionFractionTransformer,
    ...                            DeepEnsembleRegressor, FormationEnthalpyRegressor)
    >>> from sklearn_hform.datasets import load_oqmd_hform
    >>> X, y = load_oqmd_hform(split="train", return_X_y=True)
    >>> member = FormationEnthalpyRegressor(max_epochs=2, device="cpu")
    >>> pipe = make_pipeline(CompositionFractionTransformer(),
    ...                      DeepEnsembleRegressor(member, n_estimators=3, random_state=0))
    >>> mean, std = pipe.fit(X[:2000], y[:2000]).predict(["Fe2O3", "NaCl"], return_std=True)
    >>> mean.shape, std.shape
    ((2,), (2,))
    """

    _parameter_constraints = {
        "estimator": [HasMethods(["fit", "predict"]), None],
        "n_estimators": [Interval(numbers.Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
        "n_jobs": [numbers.Integral, None],
        "warm_start": ["boolean"],
    }

    def __init__(self, estimator=None, n_estimators=5, random_state=None, n_jobs=None, warm_start=False):
        self.estimator = estimator
        self.n_estimators = n_estimators
        self.random_state = random_state
        self.n_jobs = n_jobs
        self.warm_start = warm_start

    def _base_estimator(self):
        return FormationEnthalpyRegressor() if self.estimator is None else self.estimator

    def fit(self, X, y, sample_weight=None):
        """Fit ``n_estimators`` independently seeded clones on all of ``X``, ``y``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Numeric features, typically element fractions.
        y : array-like of shape (n_samples,)
            Finite target values. A single-column 2-D ``y`` is accepted with
            a ``DataConversionWarning``.
        sample_weight : array-like of shape (n_samples,), default=None
            Passed to every member's ``fit``.

        Returns
        -------
        self : DeepEnsembleRegressor
        """
        self._validate_params()
        kept = list(self.estimators_) if self.warm_start and hasattr(self, "estimators_") else []
        if len(kept) > self.n_estimators:
            raise ValueError(f"n_estimators={self.n_estimators} must be at least len(estimators_)={len(kept)} "
                             "when warm_start=True")
        if kept and len(kept) == self.n_estimators:
            warnings.warn("warm_start=True without increasing n_estimators fits no new member", UserWarning,
                          stacklevel=2)
            return self
        # Flattened here, so the warning about a column y is given once, not by every member.
        X, y, sample_weight = validate_fit_inputs(self, X, y, sample_weight, dtype=[np.float64, np.float32],
                                                  warm=bool(kept), takes="the members take")
        rng = check_random_state(self.random_state)
        base = self._base_estimator()
        seeded = "random_state" in base.get_params(deep=False)
        members = []
        for i in range(self.n_estimators):
            # Drawn even when unused so the seeds do not depend on the member
            # type, and for kept members too, so that adding members by warm
            # starts gives the members of one fit.
            seed = int(rng.randint(np.iinfo(np.int32).max))
            if i < len(kept):
                continue
            member = clone(base)
            if seeded:
                member.set_params(random_state=seed)
            members.append(member)
        from ..neural_network._fit_many import can_stack, fit_stacked

        history = None
        if can_stack(members, X.shape[1]):
            # One batched model instead of n_estimators fits: same members, a fraction of the time.
            members, net = fit_stacked(members, X, y, [np.arange(len(y))] * len(members), sample_weight)
            history = net.history
        else:
            members = Parallel(n_jobs=self.n_jobs)(delayed(_fit_member)(m, X, y, sample_weight) for m in members)
        # Only now that the new members are trained: the calibration and the
        # loss history described the members of an earlier fit.
        for name in ("calibration_", "history_"):
            if hasattr(self, name):
                delattr(self, name)
        if history is not None:
            self.history_ = history
        self.estimators_ = kept + list(members)
        return self

    def predict(self, X, return_std=False):
        """Mean prediction of the members, optionally with their spread.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        return_std : bool, default=False
            Also return a standard deviation.

        Returns
        -------
        y_mean : ndarray of shape (n_samples,)
            Mean of the members' predictions.
        y_std : ndarray of shape (n_samples,)
            Only when ``return_std`` is True. After :meth:`calibrate`, the
            calibrated standard deviation of the error; before, the raw
            spread of the members (``ddof=0``; 0 for a single member).
        """
        X, mean, spread = self._mean_and_spread(X)
        if not return_std:
            return mean
        if hasattr(self, "calibration_"):
            from ._calibration import apply_calibration

            return mean, apply_calibration(spread, self.calibration_, y_mean=mean, X=X)
        return mean, spread

    def predict_interval(self, X, confidence=0.95):
        """Prediction intervals at ``confidence``, by split conformal prediction.

        Needs :meth:`calibrate`: the interval is the mean plus or minus the
        quantile of the calibration rows' errors in units of the calibrated
        std, so that a fraction ``confidence`` of new errors falls inside
        (for rows like the calibration rows).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        confidence : float, default=0.95

        Returns
        -------
        lower, upper : ndarray of shape (n_samples,)
        """
        from sklearn.exceptions import NotFittedError

        from ._calibration import apply_calibration, interval_half_width

        if not hasattr(self, "calibration_"):
            check_is_fitted(self)
            raise NotFittedError("predict_interval needs a calibrated ensemble: call calibrate(X_held_out, y) first")
        X, mean, spread = self._mean_and_spread(X)
        std = apply_calibration(spread, self.calibration_, y_mean=mean, X=X)
        half = interval_half_width(std, self.calibration_, confidence)
        return mean - half, mean + half

    def calibrate(self, X, y, *, error_model="auto"):
        """Calibrate the std on rows the ensemble was **not** trained on.

        Sets ``calibration_``: afterwards ``predict(X, return_std=True)``
        returns a std within which 68 % of errors fall (and as close to 95 %
        within two as the errors' tails allow), and :meth:`predict_interval`
        gives intervals at any confidence. Calibrating on training rows would
        give far too narrow a std.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            At least 100 held-out rows (1,000 for ``error_model="features"``).
        y : array-like of shape (n_samples,)
        error_model : {"auto", "spread", "features"}, default="auto"
            ``"spread"`` scales the members' spread (plus a floor);
            ``"features"`` first models the size of the error from the
            spread, the prediction and the input row (which features are
            non-zero, how many, their values), so that, say, compounds of
            elements with noisy reference data get wider error bars.
            ``"auto"``: ``"features"`` with at least 1,000 rows. See
            :func:`~sklearn_hform.ensemble.fit_calibration`.

        Returns
        -------
        self : DeepEnsembleRegressor
        """
        from ._calibration import fit_calibration

        X, mean, spread = self._mean_and_spread(X)
        y = column_or_1d(np.asarray(y, dtype=np.float64), warn=True)
        check_finite_target(y)
        if len(y) != len(mean):
            raise ValueError(f"X has {len(mean)} rows but y has {len(y)}")
        self.calibration_ = fit_calibration(y, mean, spread, X, error_model=error_model)
        return self

    def predict_members(self, X):
        """Every member's prediction: the raw material of the mean and the (uncalibrated) spread.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_estimators, n_samples)
        """
        check_is_fitted(self)
        X = validate_data(self, X, dtype=[np.float64, np.float32], reset=False)
        return self._member_predictions(X)

    def _mean_and_spread(self, X):
        """The validated ``X``, and the members' mean and spread on it."""
        check_is_fitted(self)
        X = validate_data(self, X, dtype=[np.float64, np.float32], reset=False)
        predictions = self._member_predictions(X)
        return X, predictions.mean(axis=0), predictions.std(axis=0)

    def _member_predictions(self, X):
        return np.stack([np.asarray(m.predict(X), dtype=np.float64).reshape(-1) for m in self.estimators_])

    def export_state(self):
        """The fitted state, for :mod:`sklearn_hform.persistence`.

        Returns
        -------
        attributes : dict
            ``n_features_in_`` (and ``feature_names_in_``) and one record
            per member, written by :func:`~sklearn_hform.persistence.encode_estimator`.
        tensors : dict of str to torch.Tensor
            The members' tensors, keys prefixed ``"<member>."``.
        """
        from ..persistence._folder import encode_estimator

        check_is_fitted(self)
        attributes = {"n_features_in_": int(self.n_features_in_), "estimators_": []}
        if hasattr(self, "feature_names_in_"):
            attributes["feature_names_in_"] = [str(n) for n in self.feature_names_in_]
        if hasattr(self, "calibration_"):
            attributes["calibration_"] = self.calibration_
        tensors = {}
        for i, member in enumerate(self.estimators_):
            record, member_tensors = encode_estimator(member, f"estimators_.{i}")
            attributes["estimators_"].append(record)
            tensors.update(member_tensors)
        return attributes, tensors

    def restore_state(self, attributes, tensors):
        """Become the fitted ensemble described by :meth:`export_state`'s output.

        Parameters
        ----------
        attributes : dict
        tensors : dict of str to torch.Tensor

        Returns
        -------
        self : DeepEnsembleRegressor
        """
        from ..persistence._folder import decode_estimator

        self.estimators_ = [decode_estimator(record, tensors) for record in attributes["estimators_"]]
        self.n_features_in_ = int(attributes["n_features_in_"])
        if "feature_names_in_" in attributes:
            self.feature_names_in_ = np.asarray(attributes["feature_names_in_"], dtype=object)
        if "calibration_" in attributes:
            self.calibration_ = dict(attributes["calibration_"])
        return self

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = get_tags(self._base_estimator()).non_deterministic
        return tags
