"""The models shipped in the package meet their targets (no training here)."""

import numpy as np
import pytest

from sklearn_hform import load_pretrained
from sklearn_hform.datasets import load_oqmd_hform
from sklearn_hform.pretrained import load_pretrained_metadata


@pytest.fixture(scope="module")
def test_split():
    # The full test split, as the published numbers are computed.
    return load_oqmd_hform(split="test", return_X_y=True, drop_outliers=False)


@pytest.mark.parametrize("name, target", [("paper", 0.075), ("best", 0.0315)])
def test_shipped_model_accuracy(name, target, test_split):
    X, y = test_split
    model = load_pretrained(name)
    mae = float(np.mean(np.abs(model.predict(X) - y.to_numpy())))
    recorded = load_pretrained_metadata(name)["test_mae"]
    # The stored weights reproduce the figure recorded when they were trained ...
    assert mae == pytest.approx(recorded, abs=2e-4)
    # ... which meets the paper's headline ("paper") or beats Roost's published
    # 0.0315 on this split ("best"; CrabNet's 0.0311 is not reached, see the docs).
    assert mae <= target


def test_best_is_an_ensemble_with_uncertainty(test_split):
    X, _ = test_split
    model = load_pretrained("best")
    Xt = model[0].transform(X[:100])
    mean, std = model[-1].predict(Xt, return_std=True)
    assert mean.shape == std.shape == (100,)
    assert (std > 0).all()


def test_best_calibration_is_reproducible_and_covers_held_out_errors(test_split):
    from sklearn_hform.calibration import cross_fitted_coverage

    X, y = test_split
    model = load_pretrained("best")
    shipped = model[-1].calibration_
    ensemble = model[-1]
    Xt = model[0].fractions(X)
    members = ensemble.predict_members(Xt)
    mean, spread = members.mean(axis=0), members.std(axis=0)
    levels = (0.5, 0.9, 0.99)
    by_spread = cross_fitted_coverage(y.to_numpy(), mean, spread, error_model="spread", confidences=levels)
    coverage = cross_fitted_coverage(y.to_numpy(), mean, spread, Xt, error_model="features", confidences=levels)
    # Every row scored by a calibration fitted on the other half of the test split.
    assert coverage["1_std"] == pytest.approx(0.6827, abs=0.03)
    for level in levels:
        assert coverage[f"interval_{level:g}"] == pytest.approx(level, abs=0.03)
    # The errors are heavier-tailed than a Gaussian: two calibrated std cover
    # fewer than 95 % (see the docs); intervals come from predict_interval.
    assert coverage["2_std"] < 0.95
    # Modelling the error from the composition puts more errors within two
    # std and narrows the wide intervals, at the same coverage.
    assert coverage["2_std"] > by_spread["2_std"]
    assert coverage["spearman"] > by_spread["spearman"] + 0.02
    assert coverage["half_width_0.99"] < 0.95 * by_spread["half_width_0.99"]
    # The shipped calibration is the one the script fits on all test rows.
    assert shipped["error_model"] == "features"
    ensemble.calibrate(Xt, y.to_numpy())
    for key in ("scale", "floor", "intercept"):
        assert ensemble.calibration_[key] == pytest.approx(shipped[key], rel=1e-6, abs=1e-9)
    np.testing.assert_allclose(ensemble.calibration_["coef"], shipped["coef"], rtol=1e-6, atol=1e-9)


def test_test_split_errors_as_the_training_scripts_record_them(test_split):
    from sklearn_hform.datasets import OUTLIER_THRESHOLD
    from sklearn_hform.evaluation import test_split_errors

    X, y = test_split
    model = load_pretrained("paper")
    err = np.abs(model.predict(X) - y.to_numpy())
    inlier = np.abs(y.to_numpy()) <= OUTLIER_THRESHOLD
    errors = test_split_errors(model)
    assert errors["test_rows"] == len(y) == 51255 and errors["test_rows_without_outliers"] == inlier.sum() < len(y)
    assert errors["test_mae"] == pytest.approx(err.mean(), rel=1e-12)
    assert errors["test_mae_without_outliers"] == pytest.approx(err[inlier].mean(), rel=1e-12)
    assert errors["test_mae"] == pytest.approx(load_pretrained_metadata("paper")["test_mae"], abs=2e-4)
