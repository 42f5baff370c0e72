"""scikit-learn's estimator checks over every estimator of the package."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from sklearn_hform import CompositionFractionTransformer, DeepEnsembleRegressor, FormationEnthalpyRegressor

# Small, fast settings: the checks fit dozens of times on tiny data.
ESTIMATORS = [
    CompositionFractionTransformer(),
    FormationEnthalpyRegressor(max_epochs=30, batch_size=32, lr=1e-2, device="cpu"),
    DeepEnsembleRegressor(
        FormationEnthalpyRegressor(max_epochs=30, batch_size=32, lr=1e-2, device="cpu"), n_estimators=2
    ),
]

# Expected failures, each with its reason. None so far.
EXPECTED_FAILED_CHECKS = {}


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=lambda est: EXPECTED_FAILED_CHECKS.get(type(est).__name__, {}))
def test_sklearn_compatible(estimator, check):
    check(estimator)
