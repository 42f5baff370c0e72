"""The calibrated P(stable): the fit recovers what generated the outcomes, and its scores mean what they say."""

import json

import numpy as np
import pytest

from sklearn_hform.stability import StabilityCalibrator, expected_calibration_error, reliability_curve


def _outcomes(n, bias, scale, floor, seed=0):
    """Outcomes drawn from the calibrator's own model with known parameters."""
    rng = np.random.default_rng(seed)
    d = rng.normal(0.03, 0.08, n)
    std = rng.uniform(0.01, 0.06, n)
    from scipy.stats import norm

    p = norm.cdf((-d - bias) / np.sqrt((scale * std) ** 2 + floor**2))
    return d, std, rng.random(n) < p, p


def test_fit_recovers_the_generating_parameters():
    d, std, stable, _ = _outcomes(20_000, bias=0.04, scale=2.0, floor=0.03)
    cal = StabilityCalibrator().fit(d, std, stable)
    # 20,000 Bernoulli outcomes pin each parameter to a few per cent.
    assert cal.bias_ == pytest.approx(0.04, abs=0.005)
    assert cal.std_scale_ == pytest.approx(2.0, rel=0.15)
    assert cal.std_floor_ == pytest.approx(0.03, abs=0.008)
    assert (cal.n_outcomes_, cal.n_stable_) == (20_000, int(stable.sum()))


def test_calibrated_probabilities_beat_the_raw_gaussian_on_fresh_outcomes():
    d, std, stable, _ = _outcomes(5_000, bias=0.05, scale=1.5, floor=0.02)
    cal = StabilityCalibrator().fit(d, std, stable)
    d2, std2, stable2, _ = _outcomes(5_000, bias=0.05, scale=1.5, floor=0.02, seed=1)
    raw = StabilityCalibrator().predict_proba(d2, std2)  # unfitted: Φ(-ΔHd / σ)
    fitted = cal.predict_proba(d2, std2)
    assert expected_calibration_error(fitted, stable2) < 0.02  # sampling noise of 5,000 outcomes in 10 bins
    assert expected_calibration_error(raw, stable2) > 2 * expected_calibration_error(fitted, stable2)


def test_without_std_only_the_floor_is_fitted():
    d, _, stable, _ = _outcomes(5_000, bias=0.0, scale=0.0, floor=0.04)
    cal = StabilityCalibrator().fit(d, None, stable)
    assert cal.std_scale_ == 0.0
    assert cal.std_floor_ == pytest.approx(0.04, abs=0.01)
    p = cal.predict_proba([-0.3, 0.0, 0.3])
    assert p[0] > 0.99 and p[2] < 0.01 and 0.3 < p[1] < 0.7


def test_probability_falls_with_the_decomposition_energy():
    cal = StabilityCalibrator().fit(*_outcomes(2_000, 0.02, 1.0, 0.02)[:3])
    p = cal.predict_proba(np.linspace(-0.3, 0.3, 61), np.full(61, 0.03))
    assert np.all(np.diff(p) <= 0) and p[0] > 0.99 and p[-1] < 0.01


def test_round_trip_through_json(tmp_path):
    cal = StabilityCalibrator().fit(*_outcomes(2_000, 0.02, 1.0, 0.02)[:3])
    cal.save(tmp_path / "cal.json")
    back = StabilityCalibrator.load(tmp_path / "cal.json")
    x = np.linspace(-0.2, 0.2, 9)
    np.testing.assert_array_equal(back.predict_proba(x, np.full(9, 0.02)), cal.predict_proba(x, np.full(9, 0.02)))
    assert json.loads((tmp_path / "cal.json").read_text())["n_outcomes"] == 2_000


@pytest.mark.parametrize("stable", [np.ones(10, bool), np.zeros(10, bool)])
def test_one_sided_outcomes_are_refused(stable):
    with pytest.raises(ValueError, match="stable and unstable"):
        StabilityCalibrator().fit(np.linspace(-1, 1, 10), None, stable)


def test_bad_rows_are_named():
    d = np.array([0.1, np.nan, -0.1])
    with pytest.raises(ValueError, match="row 1"):
        StabilityCalibrator().fit(d, None, [True, False, True])
    with pytest.raises(ValueError, match="length"):
        StabilityCalibrator().fit([0.1, 0.2], None, [True])


def test_reliability_curve_and_ece_by_hand():
    p = np.array([0.05, 0.05, 0.95, 0.95])
    y = np.array([False, True, True, True])
    mean_p, freq, count = reliability_curve(p, y, n_bins=10)
    assert count[0] == 2 and count[9] == 2 and np.isnan(freq[5])
    assert freq[0] == 0.5 and freq[9] == 1.0 and mean_p[0] == pytest.approx(0.05)
    # (2 * |0.05 - 0.5| + 2 * |0.95 - 1|) / 4
    assert expected_calibration_error(p, y) == pytest.approx(0.25)


def test_fit_recovers_a_ceiling_below_one():
    # Only 40 % of the candidates deep below the hull are stable, as measured in rediscovery.
    d, std, _, p = _outcomes(20_000, bias=0.03, scale=1.5, floor=0.03)
    stable = np.random.default_rng(3).random(len(p)) < 0.4 * p
    cal = StabilityCalibrator().fit(d, std, stable)
    assert cal.ceiling_ == pytest.approx(0.4, abs=0.05)  # ~3,000 stable outcomes
    assert cal.bias_ == pytest.approx(0.03, abs=0.015)
    assert cal.predict_proba([-1.0], [0.03])[0] == pytest.approx(cal.ceiling_)
    fixed = StabilityCalibrator(fit_ceiling=False).fit(d, std, stable)
    assert fixed.ceiling_ == 1.0
    # The ceiling model is the one that generated the outcomes: it must fit them better.
    def loglik(c):
        q = np.clip(c.predict_proba(d, std), 1e-12, 1 - 1e-12)
        return np.mean(np.where(stable, np.log(q), np.log(1 - q)))
    assert loglik(cal) > loglik(fixed)


def test_a_ceiling_outside_zero_one_is_refused():
    d, std, stable, _ = _outcomes(200, 0.0, 1.0, 0.02)
    with pytest.raises(ValueError, match="ceiling"):
        StabilityCalibrator(ceiling=1.5).fit(d, std, stable)
