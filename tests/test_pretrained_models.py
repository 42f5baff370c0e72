"""The models shipped in the package meet their targets (no training here).

The shipped models predict in float32 from their stored weights, so their
predictions agree between CPUs, thread counts and batches to about 1e-6
eV/atom (the summation order of float32 kernels); the tolerances below are
sized against that, never against one machine's digits.
"""

import numpy as np
import pytest

pytestmark = pytest.mark.numerics

from sklearn_hform import load_pretrained
from sklearn_hform.datasets import load_oqmd_hform
from sklearn_hform.pretrained import load_pretrained_metadata


@pytest.fixture(scope="module")
def test_split():
    # The full test split, as the published numbers are computed.
    return load_oqmd_hform(split="test", return_X_y=True, drop_outliers=False)


@pytest.fixture(scope="module")
def best_on_test_split(test_split):
    """``best``, the test split's fractions and the members' predictions on them (predicted once)."""
    X, y = test_split
    model = load_pretrained("best")
    Xt = model[0].fractions(X)
    return model, Xt, y.to_numpy(), model[-1].predict_members(Xt)


@pytest.mark.parametrize("name, target", [("paper", 0.075), ("best", 0.0315)])
def test_shipped_model_accuracy(name, target, test_split, request):
    X, y = test_split
    if name == "best":  # the ensemble's mean is its prediction; predicted once for the module
        model, _, _, members = request.getfixturevalue("best_on_test_split")
        prediction = members.mean(axis=0)
        np.testing.assert_allclose(model.predict(X[:500]), prediction[:500], atol=1e-5)  # float32 batch rounding
    else:
        prediction = load_pretrained(name).predict(X)
    mae = float(np.mean(np.abs(prediction - y.to_numpy())))
    recorded = load_pretrained_metadata(name)["test_mae"]
    # The stored weights reproduce the figure recorded with them: float32
    # predictions move by ~1e-6 between CPUs, the MAE by less.
    assert mae == pytest.approx(recorded, abs=1e-5)
    # ... which meets the paper's headline ("paper") or beats Roost's published
    # 0.0315 on this split ("best", 0.03133: 100x the CPU-to-CPU spread below
    # it; CrabNet's 0.0311 is not reached, see the docs).
    assert mae <= target


def test_best_is_an_ensemble_with_uncertainty(test_split):
    X, _ = test_split
    model = load_pretrained("best")
    Xt = model[0].transform(X[:100])
    mean, std = model[-1].predict(Xt, return_std=True)
    assert mean.shape == std.shape == (100,)
    assert (std > 0).all()


@pytest.mark.slow
def test_best_calibration_covers_held_out_errors(best_on_test_split):
    from sklearn_hform.ensemble import cross_fitted_coverage

    _, Xt, y, members = best_on_test_split
    mean, spread = members.mean(axis=0), members.std(axis=0)
    levels = (0.5, 0.9, 0.99)
    by_spread = cross_fitted_coverage(y, mean, spread, error_model="spread", confidences=levels)
    coverage = cross_fitted_coverage(y, mean, spread, Xt, error_model="features", confidences=levels)
    # Every row scored by a calibration fitted on the other half of the test
    # split; 0.03 is ten binomial standard errors on 25,000 rows per half.
    assert coverage["1_std"] == pytest.approx(0.6827, abs=0.03)
    for level in levels:
        assert coverage[f"interval_{level:g}"] == pytest.approx(level, abs=0.03)
    # The errors are heavier-tailed than a Gaussian: two calibrated std cover
    # fewer than 95 % (88.5 %, see the docs); intervals come from predict_interval.
    assert coverage["2_std"] < 0.95
    # Modelling the error from the composition puts more errors within two
    # std (88.5 % against 87.6 %) and ranks them better (Spearman 0.60 against
    # 0.55), and narrows the 99 % intervals (0.315 against 0.364 eV/atom).
    assert coverage["2_std"] > by_spread["2_std"]
    assert coverage["spearman"] > by_spread["spearman"] + 0.02
    assert coverage["half_width_0.99"] < 0.95 * by_spread["half_width_0.99"]


@pytest.mark.slow
def test_best_calibration_is_the_one_fitted_on_the_test_split(best_on_test_split):
    from sklearn_hform.ensemble import apply_calibration, fit_calibration

    model, Xt, y, members = best_on_test_split
    ensemble = model[-1]
    assert ensemble.calibration_["error_model"] == "features"
    mean, spread = members.mean(axis=0), members.std(axis=0)
    shipped = apply_calibration(spread, ensemble.calibration_, y_mean=mean, X=Xt)
    # predict's std is that calibration of the spread (up to float32 rounding
    # between a batch of 300 rows and one of 51,255).
    np.testing.assert_allclose(ensemble.predict(Xt[:300], return_std=True)[1], shipped[:300], atol=1e-5)
    err = np.abs(mean - y)
    # Fitted on these rows, the shipped std holds 68.27 % of their errors
    # within one std (the bisection's target, met to a few rows).
    assert np.mean(err <= shipped) == pytest.approx(0.6827, abs=0.002)
    # Refitting gives the same widths, not the same digits: the fit has
    # discrete steps (a grid of floors, RidgeCV's choice of alpha) that
    # another CPU's last bits may tip; either side of a step the widths
    # agree within a few percent.
    refit = fit_calibration(y, mean, spread, Xt, error_model="features")  # what calibrate(Xt, y) fits
    refitted = apply_calibration(spread, refit, y_mean=mean, X=Xt)
    ratio = refitted / shipped
    assert np.median(np.abs(ratio - 1)) < 0.02
    assert np.quantile(np.abs(ratio - 1), 0.99) < 0.10
    assert np.mean(err <= refitted) == pytest.approx(0.6827, abs=0.002)


def test_test_split_errors_as_the_training_scripts_record_them(test_split):
    from sklearn_hform.datasets import OUTLIER_THRESHOLD
    from sklearn_hform.model_selection import test_split_errors

    X, y = test_split
    model = load_pretrained("paper")
    err = np.abs(model.predict(X) - y.to_numpy())
    inlier = np.abs(y.to_numpy()) <= OUTLIER_THRESHOLD
    errors = test_split_errors(model)
    assert errors["test_rows"] == len(y) == 51255 and errors["test_rows_without_outliers"] == inlier.sum() < len(y)
    assert errors["test_mae"] == pytest.approx(err.mean(), rel=1e-12)
    assert errors["test_mae_without_outliers"] == pytest.approx(err[inlier].mean(), rel=1e-12)
    assert errors["test_mae"] == pytest.approx(load_pretrained_metadata("paper")["test_mae"], abs=1e-5)
