"""Turning an ensemble's spread into a calibrated standard deviation and conformal intervals.

A deep ensemble's standard deviation ranks predictions well but is too narrow
as an error bar, and its errors have heavier tails than a Gaussian's. Fitted
on rows the model never trained on, the calibration here maps the raw spread
``s`` to ``sqrt((a s)^2 + b^2)``: a scale ``a`` for the overall width and a
floor ``b`` for the errors a confident ensemble still makes. ``a`` and ``b``
are chosen so that 68.27 % of the calibration errors fall within one
calibrated std and 95.45 % within two, as for a Gaussian. Intervals at any
other confidence come from split conformal prediction: the empirical
quantile of the errors divided by the calibrated std.
"""

import numpy as np
from scipy.stats import norm

__all__ = ["apply_calibration", "fit_calibration", "interval_half_width"]

#: Fractions of the errors within one and two calibrated standard deviations of a Gaussian.
ONE_SIGMA, TWO_SIGMA = norm.cdf(1) - norm.cdf(-1), norm.cdf(2) - norm.cdf(-2)
# Quantile levels kept for conformal intervals: enough to interpolate any confidence.
_LEVELS = np.linspace(0, 1, 1001)


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


def fit_calibration(y_true, y_mean, y_std):
    """Fit the std calibration on held-out rows.

    Parameters
    ----------
    y_true, y_mean, y_std : array-like of shape (n_samples,)
        Targets, and the ensemble's mean and raw std, on rows the ensemble
        was not trained on.

    Returns
    -------
    dict
        ``scale``, ``floor`` (units of the target), the quantiles of the
        normalised errors for conformal intervals, the number of rows and
        the coverages reached on them (JSON-ready).

    Raises
    ------
    ValueError
        With fewer than 100 rows, or non-finite values.
    """
    y_true, y_mean, y_std = (np.asarray(a, dtype=np.float64).ravel() for a in (y_true, y_mean, y_std))
    if not (len(y_true) == len(y_mean) == len(y_std)):
        raise ValueError("y_true, y_mean and y_std must have the same length")
    if len(y_true) < 100:
        raise ValueError(f"calibration needs at least 100 held-out rows, got {len(y_true)}")
    if not (np.isfinite(y_true).all() and np.isfinite(y_mean).all() and np.isfinite(y_std).all()):
        raise ValueError("calibration rows must be finite")
    err = np.abs(y_true - y_mean)
    best = None
    # The floor is searched on a grid of error quantiles; for each, the scale
    # meets 68.27 % and the floor is judged by how close two stds come to 95.45 %.
    for floor in np.r_[0.0, np.quantile(err, np.linspace(0.02, 0.6, 59))]:
        scale = _scale_for_one_sigma(err, y_std, floor)
        one, two = _coverages(err, y_std, scale, floor)
        miss = abs(two - TWO_SIGMA) + abs(one - ONE_SIGMA)
        if best is None or miss < best[0]:
            best = (miss, float(scale), float(floor), float(one), float(two))
    _, scale, floor, one, two = best
    scores = err / np.sqrt((scale * y_std) ** 2 + floor**2)
    return {
        "scale": scale,
        "floor": floor,
        "score_quantiles": np.quantile(scores, _LEVELS).tolist(),
        "n_rows": int(len(err)),
        "coverage_1_std": one,
        "coverage_2_std": two,
    }


def apply_calibration(y_std, calibration):
    """The calibrated standard deviation of raw ensemble spreads ``y_std``."""
    y_std = np.asarray(y_std, dtype=np.float64)
    return np.sqrt((calibration["scale"] * y_std) ** 2 + calibration["floor"] ** 2)


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
