"""Turning an ensemble's spread into a calibrated standard deviation and conformal intervals.

A deep ensemble's standard deviation ranks predictions well but is too narrow
as an error bar, and its errors have heavier tails than a Gaussian's. Fitted
on rows the model never trained on, the calibration here turns the raw
spread ``s`` into ``sqrt((a u)^2 + b^2)``, where ``u`` is the error's scale:

* ``error_model="spread"``: ``u = s``;
* ``error_model="features"``: ``u = exp(w . phi)``, a log-linear model of the
  absolute error, fitted by ridge regression on the calibration rows, where
  ``phi`` holds ``log s``, the prediction, and descriptors of the input row
  (for atom fractions: which elements, how many and in what proportions; see
  :func:`error_features`). Some elements' DFT energies are much noisier than
  others', which the spread of networks trained on the same data cannot see.

``a`` (the overall width) and ``b`` (a floor for the errors a confident model
still makes) are chosen so that 68.27 % of the calibration errors fall within
one calibrated std and as close as possible to 95.45 % within two. With the
feature model they are chosen on out-of-fold scales, so that they describe
rows the log-linear model has not seen. Intervals at any other confidence come
from split conformal prediction: the empirical quantile of the errors divided
by the calibrated std.
"""

import numpy as np
from scipy.stats import norm

__all__ = ["ERROR_MODELS", "apply_calibration", "cross_fitted_coverage", "error_features", "fit_calibration",
           "interval_half_width"]

#: Fractions of the errors within one and two calibrated standard deviations of a Gaussian.
ONE_SIGMA, TWO_SIGMA = norm.cdf(1) - norm.cdf(-1), norm.cdf(2) - norm.cdf(-2)
#: The error models :func:`fit_calibration` knows.
ERROR_MODELS = ("spread", "features")
# Quantile levels kept for conformal intervals: enough to interpolate any confidence.
_LEVELS = np.linspace(0, 1, 1001)
# Fewest calibration rows of each error model: the feature model has two coefficients per input feature.
_MIN_ROWS = {"spread": 100, "features": 1000}
# Spreads and errors are floored here (eV/atom) before their logarithm: far below any real error.
_TINY = 1e-4
# Row descriptors count elements up to this many (more share the last count).
_MAX_COUNT = 6
# Folds of the out-of-fold scales the width and floor are fitted on.
_FOLDS = 5
# A new row's log-scale is kept within the calibration rows' range widened by this much (e-folds).
_LOG_MARGIN = 1.0
# Columns of the design besides the two per input feature: log spread, mean, |mean|, counts, four largest.
_N_FIXED = 3 + _MAX_COUNT + 1 + 4


def error_features(X):
    """Descriptors of an input row that an error model may weigh.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        For the shipped models, atom fractions.

    Returns
    -------
    ndarray of shape (n_samples, 2 * n_features + 11)
        One-hot count of non-zero features (1 to 6 or more), which features
        are non-zero, the features themselves, and the four largest values
        of each row in decreasing order.
    """
    X = np.asarray(X, dtype=np.float64)
    present = X != 0
    count = np.minimum(present.sum(axis=1), _MAX_COUNT)
    one_hot = (count[:, None] == np.arange(_MAX_COUNT + 1)).astype(np.float64)
    largest = -np.sort(-np.abs(X), axis=1)[:, :4]
    largest = np.pad(largest, ((0, 0), (0, 4 - largest.shape[1])))
    return np.hstack([one_hot, present, X, largest])


def _design(y_mean, y_std, X):
    return np.column_stack([np.log(np.maximum(y_std, 0) + _TINY), y_mean, np.abs(y_mean), error_features(X)])


def _fit_log_scale(design, err):
    """A ridge fit of log|error| on the design, as plain coefficients (the penalty chosen by cross-validation)."""
    from sklearn.linear_model import RidgeCV
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    fit = make_pipeline(StandardScaler(), RidgeCV(alphas=np.logspace(-2, 4, 13))).fit(design, np.log(err + _TINY))
    scaler, ridge = fit[0], fit[-1]
    coef = ridge.coef_ / scaler.scale_
    return coef, float(ridge.intercept_ - coef @ scaler.mean_)


def _coverages(err, std, scale, floor):
    width = np.sqrt((scale * std) ** 2 + floor**2)
    return np.mean(err <= width), np.mean(err <= 2 * width)


def _scale_for_one_sigma(err, std, floor):
    # Coverage grows with the scale: bisect for 68.27 %.
    lo, hi = 0.0, 1.0
    while _coverages(err, std, hi, floor)[0] < ONE_SIGMA and hi < 1e6:
        hi *= 2
    for _ in range(60):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if _coverages(err, std, mid, floor)[0] < ONE_SIGMA else (lo, mid)
    return hi


def _width_and_floor(err, u):
    best = None
    # The floor is searched on a grid of error quantiles; for each, the scale
    # meets 68.27 % and the floor is judged by how close two stds come to 95.45 %.
    for floor in np.r_[0.0, np.quantile(err, np.linspace(0.02, 0.6, 59))]:
        scale = _scale_for_one_sigma(err, u, floor)
        one, two = _coverages(err, u, scale, floor)
        miss = abs(two - TWO_SIGMA) + abs(one - ONE_SIGMA)
        if best is None or miss < best[0]:
            best = (miss, float(scale), float(floor), float(one), float(two))
    return best[1:]


def _check(y_true, y_mean, y_std, X):
    y_true, y_mean, y_std = (np.asarray(a, dtype=np.float64).ravel() for a in (y_true, y_mean, y_std))
    if not (len(y_true) == len(y_mean) == len(y_std)):
        raise ValueError("y_true, y_mean and y_std must have the same length")
    if not (np.isfinite(y_true).all() and np.isfinite(y_mean).all() and np.isfinite(y_std).all()):
        raise ValueError("calibration rows must be finite")
    if X is not None:
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2 or len(X) != len(y_true):
            raise ValueError(f"X must be 2-D with one row per target; got shape {X.shape} for {len(y_true)} targets")
        if not np.isfinite(X).all():
            raise ValueError("calibration rows must be finite")
    return y_true, y_mean, y_std, X


def fit_calibration(y_true, y_mean, y_std, X=None, *, error_model="auto", random_state=0):
    """Fit the std calibration on held-out rows.

    Parameters
    ----------
    y_true, y_mean, y_std : array-like of shape (n_samples,)
        Targets, and the ensemble's mean and raw std, on rows the ensemble
        was not trained on.
    X : array-like of shape (n_samples, n_features) or None, default=None
        The rows' inputs (the ensemble's features); needed by
        ``error_model="features"``.
    error_model : {"auto", "spread", "features"}, default="auto"
        See the module description. ``"auto"``: ``"features"`` when ``X`` is
        given and there are at least 1,000 rows, otherwise ``"spread"``.
    random_state : int, default=0
        Seeds the folds of the out-of-fold scales.

    Returns
    -------
    dict
        ``error_model``, ``scale``, ``floor`` (units of the target), for the
        feature model its coefficients, the quantiles of the normalised errors
        for conformal intervals, the number of rows and the coverages reached
        on them (JSON-ready).

    Raises
    ------
    ValueError
        With fewer than 100 rows (1,000 for the feature model), non-finite
        values, or an unknown ``error_model``.
    """
    y_true, y_mean, y_std, X = _check(y_true, y_mean, y_std, X)
    if error_model == "auto":
        error_model = "features" if X is not None and len(y_true) >= _MIN_ROWS["features"] else "spread"
    if error_model not in ERROR_MODELS:
        raise ValueError(f"error_model must be 'auto' or one of {ERROR_MODELS}, got {error_model!r}")
    need = _MIN_ROWS[error_model]
    if len(y_true) < need:
        raise ValueError(f"calibration with error_model={error_model!r} needs at least {need} held-out rows, "
                         f"got {len(y_true)}")
    err = np.abs(y_true - y_mean)
    extra = {}
    if error_model == "spread":
        u = y_std
    else:
        if X is None:
            raise ValueError("error_model='features' needs the rows' inputs X")
        from sklearn.model_selection import KFold

        design = _design(y_mean, y_std, X)
        log_u = np.empty(len(err))
        for fit_rows, out_rows in KFold(_FOLDS, shuffle=True, random_state=random_state).split(design):
            coef, intercept = _fit_log_scale(design[fit_rows], err[fit_rows])
            log_u[out_rows] = design[out_rows] @ coef + intercept
        coef, intercept = _fit_log_scale(design, err)
        fitted = design @ coef + intercept
        extra = {"coef": coef.tolist(), "intercept": intercept,
                 "log_scale_range": [float(fitted.min() - _LOG_MARGIN), float(fitted.max() + _LOG_MARGIN)]}
        u = np.exp(np.clip(log_u, *extra["log_scale_range"]))
    scale, floor, one, two = _width_and_floor(err, u)
    scores = err / np.sqrt((scale * u) ** 2 + floor**2)
    return {
        "error_model": error_model,
        "scale": scale,
        "floor": floor,
        **extra,
        "score_quantiles": np.quantile(scores, _LEVELS).tolist(),
        "n_rows": int(len(err)),
        "coverage_1_std": one,
        "coverage_2_std": two,
    }


def apply_calibration(y_std, calibration, *, y_mean=None, X=None):
    """The calibrated standard deviation of raw ensemble spreads ``y_std``.

    Parameters
    ----------
    y_std : array-like of shape (n_samples,)
    calibration : dict
        From :func:`fit_calibration`.
    y_mean : array-like of shape (n_samples,) or None, default=None
    X : array-like of shape (n_samples, n_features) or None, default=None
        Both needed by a calibration with ``error_model="features"``.

    Returns
    -------
    ndarray of shape (n_samples,)
    """
    y_std = np.asarray(y_std, dtype=np.float64)
    u = y_std
    if calibration.get("error_model", "spread") == "features":
        if y_mean is None or X is None:
            raise ValueError("this calibration models the error from the inputs: pass y_mean and X")
        X = np.asarray(X, dtype=np.float64)
        width = (len(calibration["coef"]) - _N_FIXED) // 2
        if X.ndim != 2 or X.shape[1] != width:
            raise ValueError(f"X has shape {X.shape}; this calibration was fitted on rows of {width} features")
        design = _design(np.asarray(y_mean, dtype=np.float64), y_std, X)
        u = np.exp(np.clip(design @ np.asarray(calibration["coef"]) + calibration["intercept"],
                           *calibration["log_scale_range"]))
    return np.sqrt((calibration["scale"] * u) ** 2 + calibration["floor"] ** 2)


def interval_half_width(calibrated_std, calibration, confidence):
    """Half-width of the split-conformal interval at ``confidence`` around the mean.

    Parameters
    ----------
    calibrated_std : ndarray
    calibration : dict
        From :func:`fit_calibration`.
    confidence : float
        In (0, 1).

    Returns
    -------
    ndarray
    """
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must lie in (0, 1), got {confidence!r}")
    n = calibration["n_rows"]
    # The finite-sample correction of split conformal prediction.
    level = min(1.0, np.ceil((n + 1) * confidence) / n)
    q = np.interp(level, _LEVELS, calibration["score_quantiles"])
    return q * np.asarray(calibrated_std, dtype=np.float64)


def cross_fitted_coverage(y_true, y_mean, y_std, X=None, *, error_model="auto", confidences=(0.6827, 0.9545),
                          random_state=0):
    """Coverage of a calibration *procedure*, every row scored by a calibration fitted without it.

    The rows are split into two random halves; each half is scored with a
    calibration fitted on the other.

    Parameters
    ----------
    y_true, y_mean, y_std : array-like of shape (n_samples,)
        Held-out targets and the ensemble's mean and raw spread.
    X : array-like of shape (n_samples, n_features) or None, default=None
    error_model : {"auto", "spread", "features"}, default="auto"
        As in :func:`fit_calibration`.
    confidences : sequence of float, default=(0.6827, 0.9545)
        Levels of the conformal intervals whose coverage is reported.
    random_state : int, default=0

    Returns
    -------
    dict
        ``"1_std"`` and ``"2_std"``: the fractions of errors within one and
        two calibrated stds; ``"interval_<c>"``: within the conformal interval
        at confidence ``c``; ``"half_width_<c>"``: that interval's mean
        half-width (units of the target; narrower is better at equal coverage);
        ``"spearman"``: the rank correlation of the calibrated std with the
        absolute error.
    """
    y_true, y_mean, y_std, X = _check(y_true, y_mean, y_std, X)
    err = np.abs(y_true - y_mean)
    order = np.random.default_rng(random_state).permutation(len(err))
    halves = [order[::2], order[1::2]]
    inside = {"1_std": np.zeros(len(err), bool), "2_std": np.zeros(len(err), bool)}
    inside.update({f"interval_{c:g}": np.zeros(len(err), bool) for c in confidences})
    widths = {f"half_width_{c:g}": np.zeros(len(err)) for c in confidences}
    stds = np.zeros(len(err))
    for fit_on, score in ((halves[0], halves[1]), (halves[1], halves[0])):
        X_fit, X_score = (None, None) if X is None else (X[fit_on], X[score])
        cal = fit_calibration(y_true[fit_on], y_mean[fit_on], y_std[fit_on], X_fit, error_model=error_model,
                              random_state=random_state)
        std = apply_calibration(y_std[score], cal, y_mean=y_mean[score], X=X_score)
        stds[score] = std
        inside["1_std"][score] = err[score] <= std
        inside["2_std"][score] = err[score] <= 2 * std
        for c in confidences:
            widths[f"half_width_{c:g}"][score] = half = interval_half_width(std, cal, c)
            inside[f"interval_{c:g}"][score] = err[score] <= half
    from scipy.stats import spearmanr

    return {**{k: float(v.mean()) for k, v in {**inside, **widths}.items()},
            "spearman": float(spearmanr(stds, err).statistic)}
