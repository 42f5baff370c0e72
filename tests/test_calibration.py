"""Calibrated std and conformal intervals of the deep ensemble."""

import numpy as np
import pytest
from scipy.stats import norm
from sklearn.exceptions import NotFittedError
from sklearn.pipeline import make_pipeline

from sklearn_hform import CompositionFractionTransformer, DeepEnsembleRegressor, FormationEnthalpyRegressor
from sklearn_hform.ensemble import apply_calibration, cross_fitted_coverage, fit_calibration, interval_half_width
from sklearn_hform.persistence import load_model, save_model

# Compares fits and predictions that rounding could move: run at 1 thread too.
pytestmark = pytest.mark.numerics

MEMBER = dict(max_epochs=3, batch_size=256, device="cpu", random_state=0)
ONE, TWO = norm.cdf(1) - norm.cdf(-1), norm.cdf(2) - norm.cdf(-2)


def test_fit_calibration_recovers_a_misscaled_std_and_conformal_levels():
    rng = np.random.default_rng(0)
    spread = rng.uniform(0.01, 0.1, 20_000)
    # True errors: Gaussian, 1.5x wider than the spread, plus a floor.
    sigma = np.sqrt((1.5 * spread) ** 2 + 0.02**2)
    err = sigma * rng.standard_normal(spread.size)
    cal = fit_calibration(err[:10_000], np.zeros(10_000), spread[:10_000])
    width = np.sqrt((cal["scale"] * spread[10_000:]) ** 2 + cal["floor"] ** 2)
    held_out = np.abs(err[10_000:])
    assert np.mean(held_out <= width) == pytest.approx(norm.cdf(1) - norm.cdf(-1), abs=0.02)
    assert np.mean(held_out <= 2 * width) == pytest.approx(norm.cdf(2) - norm.cdf(-2), abs=0.02)
    # Heavy tails no std can fix: split conformal intervals still hold their level.
    heavy = sigma * rng.standard_t(3, size=spread.size)
    cal = fit_calibration(heavy[:10_000], np.zeros(10_000), spread[:10_000])
    std = apply_calibration(spread[10_000:], cal)
    for confidence in (0.5, 0.9, 0.99):
        inside = np.abs(heavy[10_000:]) <= interval_half_width(std, cal, confidence)
        assert np.mean(inside) == pytest.approx(confidence, abs=0.015)
    with pytest.raises(ValueError, match="at least 100"):
        fit_calibration(err[:10], np.zeros(10), spread[:10])


def test_calibrated_ensemble_std_intervals_and_persistence(oqmd_small, tmp_path):
    X, y, Xte, yte = oqmd_small
    t = CompositionFractionTransformer().fit(X)
    Xt, Xtt = t.transform(X), t.fractions(Xte)
    ens = DeepEnsembleRegressor(FormationEnthalpyRegressor(**MEMBER), n_estimators=3, random_state=0).fit(Xt, y)
    raw = ens.predict(Xtt, return_std=True)[1]
    with pytest.raises(NotFittedError, match="calibrate"):
        ens.predict_interval(Xtt)
    cal_rows, eval_rows = slice(0, 500), slice(500, 1000)
    ens.calibrate(Xtt[cal_rows], yte[cal_rows])
    mean, std = ens.predict(Xtt, return_std=True)
    # The calibrated std replaces the raw spread: it is the calibration
    # applied to that spread, and holds 68.27 % of the errors of the rows it
    # was fitted on within one std (bisection on 500 rows: within a row or two).
    assert not np.allclose(std, raw)
    np.testing.assert_allclose(std, apply_calibration(raw, ens.calibration_, y_mean=mean, X=Xtt), rtol=1e-12)
    err = np.abs(yte[cal_rows] - mean[cal_rows])
    assert np.mean(err <= std[cal_rows]) == pytest.approx(ONE, abs=0.005)
    lower, upper = ens.predict_interval(Xtt[eval_rows], confidence=0.9)
    inside = np.mean((yte[eval_rows] >= lower) & (yte[eval_rows] <= upper))
    assert 0.8 <= inside <= 0.97  # split conformal: about 90 % on rows like the calibration rows
    narrow, wide = ens.predict_interval(Xtt[:5], confidence=0.5), ens.predict_interval(Xtt[:5], confidence=0.99)
    assert np.all(wide[1] - wide[0] > narrow[1] - narrow[0])
    with pytest.raises(ValueError, match="confidence"):
        ens.predict_interval(Xtt, confidence=1.5)
    save_model(make_pipeline(t, ens), tmp_path)
    loaded = load_model(tmp_path)
    np.testing.assert_array_equal(loaded.predict(Xte, return_std=True)[1], std)
    assert loaded[-1].calibration_ == ens.calibration_
    ens.fit(Xt[:500], y[:500])  # a refit forgets the old calibration
    assert not hasattr(ens, "calibration_")


def test_feature_error_model_learns_noise_the_spread_cannot_see():
    rng = np.random.default_rng(1)
    n = 12_000
    # Fractions of three "elements"; rows containing the third have 4x noisier targets.
    X = rng.dirichlet(np.ones(3), n) * (rng.random((n, 3)) < 0.7)
    X[X.sum(axis=1) == 0, 0] = 1.0
    X /= X.sum(axis=1, keepdims=True)
    spread = rng.uniform(0.01, 0.03, n)
    sigma = np.where(X[:, 2] > 0, 0.08, 0.02)
    err = sigma * rng.standard_normal(n)
    mean = rng.normal(0, 1, n)
    fit, held = slice(0, 8000), slice(8000, None)
    cal = fit_calibration(err[fit] + mean[fit], mean[fit], spread[fit], X[fit])
    assert cal["error_model"] == "features"
    std = apply_calibration(spread[held], cal, y_mean=mean[held], X=X[held])
    inside = np.abs(err[held])
    assert np.mean(inside <= std) == pytest.approx(ONE, abs=0.02)
    assert np.mean(inside <= 2 * std) == pytest.approx(TWO, abs=0.02)
    # The noisy element's rows get about 4x the std of the others.
    ratio = np.median(std[X[held, 2] > 0]) / np.median(std[X[held, 2] == 0])
    assert 3 < ratio < 5
    # The spread alone cannot reach 95 % within two std on this mixture.
    by_spread = fit_calibration(err[fit] + mean[fit], mean[fit], spread[fit], error_model="spread")
    wide = apply_calibration(spread[held], by_spread)
    assert np.mean(inside <= 2 * wide) < TWO - 0.02
    with pytest.raises(ValueError, match="pass y_mean and X"):
        apply_calibration(spread[held], cal)
    with pytest.raises(ValueError, match="3 features"):
        apply_calibration(spread[held], cal, y_mean=mean[held], X=X[held, :2])
    with pytest.raises(ValueError, match="at least 1000"):
        fit_calibration(err[:500], mean[:500], spread[:500], X[:500], error_model="features")
    with pytest.raises(ValueError, match="error_model"):
        fit_calibration(err, mean, spread, X, error_model="gaussian")
    # With too few rows for the feature model, "auto" falls back to the spread.
    assert fit_calibration(err[:500], mean[:500], spread[:500], X[:500])["error_model"] == "spread"


def test_cross_fitted_coverage_scores_every_row_out_of_fold():
    rng = np.random.default_rng(2)
    spread = rng.uniform(0.01, 0.1, 6000)
    err = 2 * spread * rng.standard_normal(6000)
    coverage = cross_fitted_coverage(err, np.zeros(6000), spread, confidences=(0.8,))
    assert set(coverage) == {"1_std", "2_std", "interval_0.8", "half_width_0.8", "spearman"}
    assert 0.2 < coverage["spearman"] < 0.6  # |N(0, 4 s^2)| against s
    assert coverage["1_std"] == pytest.approx(ONE, abs=0.02)
    assert coverage["2_std"] == pytest.approx(TWO, abs=0.02)
    assert coverage["interval_0.8"] == pytest.approx(0.8, abs=0.02)
    assert coverage["half_width_0.8"] == pytest.approx(np.mean(2 * spread) * 1.2816, rel=0.05)


def test_ensemble_feature_calibration_persists(oqmd_small, tmp_path):
    X, y, Xte, yte = oqmd_small
    t = CompositionFractionTransformer().fit(X)
    Xt, Xtt = t.transform(X), t.fractions(Xte)
    ens = DeepEnsembleRegressor(FormationEnthalpyRegressor(**MEMBER), n_estimators=2, random_state=0).fit(Xt, y)
    ens.calibrate(Xtt, yte)  # 1,000 rows: the feature model
    assert ens.calibration_["error_model"] == "features"
    mean, std = ens.predict(Xtt[:50], return_std=True)
    lower, upper = ens.predict_interval(Xtt[:50], confidence=0.9)
    np.testing.assert_allclose((upper - lower) / 2 / std, (upper[0] - lower[0]) / 2 / std[0])
    save_model(make_pipeline(t, ens), tmp_path)
    loaded = load_model(tmp_path)
    np.testing.assert_array_equal(loaded.predict(Xte[:50], return_std=True)[1], std)
    ens.calibrate(Xtt, yte, error_model="spread")
    assert ens.calibration_["error_model"] == "spread"
