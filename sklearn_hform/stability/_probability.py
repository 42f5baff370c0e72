"""The probability that a screened candidate is stable, calibrated on held-out outcomes.

A screen predicts a candidate's decomposition energy ΔHd (its predicted
ΔHf minus the hull of the known phases) with the ensemble's std σ. Taking
P(stable) as a Gaussian of σ, ``Φ(-ΔHd / σ)``, assumes the candidate's error
is centred and as large as the members disagree. Neither holds: a smooth
model dips below the tie lines next to line compounds and pure elements,
where nothing stable is; and the ensemble's members share their errors.
:class:`StabilityCalibrator` keeps the Gaussian's form, which is monotone in
ΔHd and σ and has three parameters a few hundred outcomes can fix, and fits
it by maximum likelihood on held-out outcomes (DFT-stable or not)::

    P(stable) = ceiling · Φ((-ΔHd - bias) / sqrt((std_scale · σ)² + std_floor²))

``bias`` is how far a candidate's ΔHd must sit below zero before it is
half as likely stable as the deepest candidates; ``std_scale`` scales the
ensemble's std and ``std_floor`` is the error the members do not see (all
of it for a single network, which has no std). ``ceiling`` is the share of
candidates predicted far below the hull that are stable: measured on OQMD
rediscovery (``benchmarks/bench_discovery.py``) it is well below one,
because a composition model cannot tell a composition that has a stable
structure from one that has none, and a probit without a ceiling could only
express that with a spread of tenths of an eV/atom.
"""

import json
import math

import numpy as np

__all__ = ["StabilityCalibrator", "expected_calibration_error", "reliability_curve"]


def _z(decomposition_energy, std, bias, std_scale, std_floor):
    std = np.nan_to_num(np.asarray(std, dtype=np.float64), nan=0.0)
    spread = np.sqrt((std_scale * std) ** 2 + std_floor**2)
    return (-np.asarray(decomposition_energy, dtype=np.float64) - bias) / spread


class StabilityCalibrator:
    """P(stable) from a predicted decomposition energy and its std, fitted on held-out outcomes.

    Parameters
    ----------
    bias, std_scale, std_floor, ceiling : float, default=0.0, 1.0, 0.0, 1.0
        Starting values; :meth:`fit` replaces them. With the defaults and a
        std, ``predict_proba`` is the uncalibrated ``Φ(-ΔHd / σ)``.
    fit_ceiling : bool, default=True
        Fit ``ceiling`` too; ``False`` keeps it at ``ceiling``.

    Attributes
    ----------
    bias_, std_scale_, std_floor_, ceiling_ : float
        The fitted parameters (eV/atom for ``bias_`` and ``std_floor_``).
    n_outcomes_, n_stable_ : int
        The outcomes it was fitted on, and how many of them were stable.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_hform.stability import StabilityCalibrator
    >>> rng = np.random.default_rng(0)
    >>> true = rng.normal(0.05, 0.05, 500)
    >>> predicted = true + rng.normal(0, 0.03, 500)
    >>> cal = StabilityCalibrator().fit(predicted, None, true < 0)
    >>> cal.predict_proba([-0.2, 0.3]).round(3)
    array([1., 0.])
    """

    def __init__(self, bias=0.0, std_scale=1.0, std_floor=0.0, ceiling=1.0, fit_ceiling=True):
        self.bias = bias
        self.std_scale = std_scale
        self.std_floor = std_floor
        self.ceiling = ceiling
        self.fit_ceiling = fit_ceiling

    def fit(self, decomposition_energy, std, stable):
        """Fit the parameters by maximum likelihood.

        Parameters
        ----------
        decomposition_energy : array-like of shape (n,)
            Predicted ΔHd (eV/atom) of candidates whose outcome is known.
        std : array-like of shape (n,) or None
            Their predicted std; ``None`` or NaN for a model without one.
        stable : array-like of bool, shape (n,)
            Whether each is stable in the reference (e.g. DFT ΔHd < 0).

        Returns
        -------
        self
        """
        from scipy.optimize import minimize
        from scipy.special import expit, log_ndtr, logit, ndtr

        d = np.asarray(decomposition_energy, dtype=np.float64).ravel()
        s = np.full(d.shape, np.nan) if std is None else np.asarray(std, dtype=np.float64).ravel()
        y = np.asarray(stable, dtype=bool).ravel()
        if not (len(d) == len(s) == len(y)):
            raise ValueError(f"decomposition_energy, std and stable differ in length: {len(d)}, {len(s)}, {len(y)}")
        if not np.isfinite(d).all():
            raise ValueError(f"decomposition_energy must be finite; row {int(np.flatnonzero(~np.isfinite(d))[0])} "
                             "is not")
        if y.all() or not y.any():
            raise ValueError("calibration needs stable and unstable outcomes; got only "
                             f"{'stable' if y.all() else 'unstable'} ones ({len(y)})")
        if not 0.0 < self.ceiling <= 1.0:
            raise ValueError(f"ceiling must lie in (0, 1], got {self.ceiling!r}")
        has_std = bool(np.isfinite(s).any())
        fixed_ceiling = None if self.fit_ceiling else float(self.ceiling)

        def loss(theta):
            bias, log_scale, log_floor, logit_ceiling = theta
            z = _z(d, s, bias, math.exp(log_scale) if has_std else 0.0, math.exp(log_floor))
            if fixed_ceiling == 1.0:
                # log Φ(z) for stable rows, log Φ(-z) for the others: exact in the tails.
                return -(log_ndtr(z[y]).sum() + log_ndtr(-z[~y]).sum()) / len(y)
            ceiling = fixed_ceiling or expit(logit_ceiling)
            # log(1 - c·Φ(z)) for the unstable rows, kept finite where c·Φ(z) rounds to 1.
            unstable = np.log(np.clip(1.0 - ceiling * ndtr(z[~y]), 1e-300, None))
            return -(log_ndtr(z[y]).sum() + len(z[y]) * math.log(ceiling) + unstable.sum()) / len(y)

        start = [float(self.bias), math.log(max(self.std_scale, 1e-3)), math.log(max(self.std_floor, 0.01)),
                 float(logit(min(max(self.ceiling, 0.02), 0.98)))]
        result = minimize(loss, start, method="Nelder-Mead", options={"xatol": 1e-6, "fatol": 1e-10,
                                                                       "maxiter": 8000})
        bias, log_scale, log_floor, logit_ceiling = result.x
        self.bias_ = float(bias)
        self.std_scale_ = float(math.exp(log_scale)) if has_std else 0.0
        self.std_floor_ = float(math.exp(log_floor))
        self.ceiling_ = float(expit(logit_ceiling)) if fixed_ceiling is None else fixed_ceiling
        self.n_outcomes_, self.n_stable_ = int(len(y)), int(y.sum())
        return self

    def _parameters(self):
        if hasattr(self, "bias_"):
            return self.bias_, self.std_scale_, self.std_floor_, self.ceiling_
        return self.bias, self.std_scale, self.std_floor, self.ceiling

    def predict_proba(self, decomposition_energy, std=None):
        """P(stable) of each candidate.

        Parameters
        ----------
        decomposition_energy : array-like of shape (n,)
        std : array-like of shape (n,) or None

        Returns
        -------
        ndarray of shape (n,)
        """
        from scipy.special import ndtr

        d = np.asarray(decomposition_energy, dtype=np.float64)
        s = np.full(d.shape, np.nan) if std is None else np.asarray(std, dtype=np.float64)
        bias, scale, floor, ceiling = self._parameters()
        with np.errstate(divide="ignore", invalid="ignore"):
            z = _z(d, s, bias, scale, floor)
        # No spread at all: the step function of the sign of ΔHd + bias.
        return ceiling * ndtr(np.where(np.isnan(z), -np.inf, z))

    def to_dict(self):
        """The fitted parameters and counts, JSON-ready."""
        bias, scale, floor, ceiling = self._parameters()
        out = {"bias": bias, "std_scale": scale, "std_floor": floor, "ceiling": ceiling}
        for name in ("n_outcomes_", "n_stable_"):
            if hasattr(self, name):
                out[name.rstrip("_")] = getattr(self, name)
        return out

    @classmethod
    def from_dict(cls, values):
        """A fitted calibrator from :meth:`to_dict`'s output."""
        ceiling = float(values.get("ceiling", 1.0))
        cal = cls(values["bias"], values["std_scale"], values["std_floor"], ceiling)
        cal.bias_, cal.std_scale_, cal.std_floor_ = (float(values[k]) for k in ("bias", "std_scale", "std_floor"))
        cal.ceiling_ = ceiling
        cal.n_outcomes_, cal.n_stable_ = int(values.get("n_outcomes", 0)), int(values.get("n_stable", 0))
        return cal

    def save(self, path):
        """Write the parameters to a JSON file."""
        with open(path, "w", encoding="utf-8") as f:
            json.dump(self.to_dict(), f, indent=2)
            f.write("\n")

    @classmethod
    def load(cls, path):
        """Read a calibrator written by :meth:`save`."""
        with open(path, encoding="utf-8") as f:
            return cls.from_dict(json.load(f))

    def __repr__(self):
        bias, scale, floor, ceiling = self._parameters()
        return (f"StabilityCalibrator(bias={bias:.4g}, std_scale={scale:.4g}, std_floor={floor:.4g}, "
                f"ceiling={ceiling:.4g})")


def reliability_curve(probability, outcome, n_bins=10):
    """Mean predicted probability, observed frequency and count in equal-width probability bins.

    Parameters
    ----------
    probability : array-like of shape (n,)
    outcome : array-like of bool, shape (n,)
    n_bins : int, default=10

    Returns
    -------
    mean_probability, frequency, count : ndarray of shape (n_bins,)
        NaN where a bin is empty.
    """
    p = np.asarray(probability, dtype=np.float64)
    y = np.asarray(outcome, dtype=np.float64)
    bins = np.minimum((p * n_bins).astype(int), n_bins - 1)
    count = np.bincount(bins, minlength=n_bins).astype(np.float64)
    with np.errstate(invalid="ignore"):
        mean_p = np.bincount(bins, weights=p, minlength=n_bins) / count
        freq = np.bincount(bins, weights=y, minlength=n_bins) / count
    return mean_p, freq, count


def expected_calibration_error(probability, outcome, n_bins=10):
    """The count-weighted mean gap between predicted probability and observed frequency over equal-width bins."""
    mean_p, freq, count = reliability_curve(probability, outcome, n_bins)
    full = count > 0
    return float((count[full] * np.abs(mean_p[full] - freq[full])).sum() / count.sum())
