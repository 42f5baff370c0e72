"""The library functions under ``hform predict`` and ``hform hull``."""

import warnings

import numpy as np
import pytest
from sklearn.pipeline import make_pipeline

from sklearn_hform import CompositionFractionTransformer, DeepEnsembleRegressor, FormationEnthalpyRegressor
from sklearn_hform.prediction import predict_formulas, supports_std
from sklearn_hform.stability import check_step, composition_grid, parse_chemical_system, screen_grid

MEMBER = dict(max_epochs=2, batch_size=256, device="cpu", random_state=0)


@pytest.fixture(scope="module")
def models(oqmd_small):
    X, y, _, _ = oqmd_small
    single = make_pipeline(CompositionFractionTransformer(handle_unknown="error"),
                           FormationEnthalpyRegressor(**MEMBER)).fit(X[:1500], y[:1500])
    ensemble = make_pipeline(CompositionFractionTransformer(),
                             DeepEnsembleRegressor(FormationEnthalpyRegressor(**MEMBER), n_estimators=2)).fit(
        X[:1500], y[:1500])
    return single, ensemble


def test_bad_rows_are_reported_and_good_rows_predicted(models):
    single, _ = models
    unseen = next(e for e in ["He", "Ne", "Ar", "Kr"] if e not in single[0].elements_seen_)
    formulas = ["NaCl", "Qq2", "MgO", "", f"{unseen}F2", "(Fe"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # reporting unseen elements is the table's job, not a warning's
        table = predict_formulas(single, formulas, chunk_size=2)
    assert list(table.columns) == ["prediction", "error", "unseen_elements"]
    good = table["error"] == ""
    assert list(np.flatnonzero(~good)) == [1, 3, 5]
    assert table["prediction"][~good].isna().all()
    np.testing.assert_array_equal(table["prediction"][[0, 2]], single.predict(["NaCl", "MgO"]))
    assert list(table["unseen_elements"]) == ["", "", "", "", unseen, ""]
    # The model is left as it was: its transformer still refuses unseen elements.
    assert single[0].handle_unknown == "error"
    with pytest.raises(ValueError, match="never seen"):
        single.predict([f"{unseen}F2"])


def test_std_column_follows_the_model(models):
    single, ensemble = models
    assert not supports_std(single) and supports_std(ensemble)
    table = predict_formulas(ensemble, ["NaCl", "MgO"])
    mean, std = ensemble.predict(["NaCl", "MgO"], return_std=True)
    np.testing.assert_array_equal(table["prediction"], mean)
    np.testing.assert_array_equal(table["std"], std)
    with pytest.raises(ValueError, match="return_std"):
        predict_formulas(single, ["NaCl"], return_std=True)
    with pytest.raises(TypeError, match="CompositionFractionTransformer"):
        predict_formulas(single[-1], ["NaCl"])


def test_intervals_come_from_the_calibrated_ensemble_and_skip_bad_rows(models, oqmd_small):
    from sklearn.base import clone

    single, ensemble = models
    _, _, Xte, yte = oqmd_small
    with pytest.raises(ValueError, match="calibrated ensemble"):
        predict_formulas(ensemble, ["NaCl"], confidence=0.9)
    with pytest.raises(ValueError, match="predict_interval"):
        predict_formulas(single, ["NaCl"], confidence=0.9)
    calibrated = clone(ensemble).fit(Xte[:200], yte[:200])
    calibrated[-1].calibrate(calibrated[0].fractions(Xte[200:]), yte[200:])
    for bad in (0, 1, 1.5, float("nan"), "0.9", True):
        with pytest.raises(ValueError, match="confidence"):
            predict_formulas(calibrated, ["NaCl"], confidence=bad)
    table = predict_formulas(calibrated, ["NaCl", "Qq2", "MgO", "LiF"], confidence=0.9, chunk_size=3)
    assert list(table.columns) == ["prediction", "std", "lower", "upper", "error", "unseen_elements"]
    assert table.loc[1, ["prediction", "lower", "upper"]].isna().all()
    lower, upper = calibrated[-1].predict_interval(calibrated[0].fractions(["NaCl", "MgO", "LiF"]), confidence=0.9)
    np.testing.assert_array_equal(table["lower"][[0, 2, 3]], lower)
    np.testing.assert_array_equal(table["upper"][[0, 2, 3]], upper)
    good = table.drop(index=1)
    assert (good["lower"] < good["prediction"]).all() and (good["prediction"] < good["upper"]).all()


@pytest.mark.parametrize("step", [0, -0.1, 0.7, float("nan"), float("inf"), 1e-400, 0.3, "x"])
def test_bad_grid_steps_are_value_errors(step):
    with pytest.raises(ValueError, match="step"):
        check_step(step)


def test_grid_and_system_parsing():
    assert parse_chemical_system("Li-Fe-O") == ["Li", "Fe", "O"]
    for bad in ("Li", "Li-Li", "Li-Xx"):
        with pytest.raises(ValueError):
            parse_chemical_system(bad)
    counts, formulas = composition_grid(["Na", "Cl"], 0.25)
    assert formulas == ["NaCl3", "NaCl", "Na3Cl"]
    np.testing.assert_array_equal(counts, [[1, 3], [1, 1], [3, 1]])


def test_screen_grid_table_matches_the_model(models):
    single, _ = models
    table, diagram = screen_grid(single, "Na-Cl", step=0.25)
    assert list(table["formula"].sort_values()) == ["Na3Cl", "NaCl", "NaCl3"]
    np.testing.assert_allclose(table["prediction"], single.predict(list(table["formula"])))
    assert (table["e_above_hull"] >= -1e-9).all() and table["e_above_hull"].is_monotonic_increasing
    assert len(diagram.elements) == 2


def test_fine_tune_continues_every_member_and_leaves_the_model_alone(models, oqmd_small):
    from sklearn_hform.neural_network import fine_tune

    _, ensemble = models
    X, y, Xte, yte = oqmd_small
    before = ensemble.predict(Xte[:200])
    tuned = fine_tune(ensemble, Xte[:300], yte[:300], max_epochs=3, lr=1e-3)
    np.testing.assert_array_equal(ensemble.predict(Xte[:200]), before)  # the original is untouched
    assert all(m.warm_start is False and m.n_iter_ == 3 for m in tuned[-1].estimators_)
    assert not np.array_equal(tuned.predict(Xte[:200]), before)
    seen = set(ensemble[0].elements_seen_) | set(CompositionFractionTransformer().fit(Xte[:300]).elements_seen_)
    assert set(tuned[0].elements_seen_) == seen


def test_fine_tune_only_the_members_asked_for(models, oqmd_small):
    from sklearn_hform.neural_network import fine_tune

    _, ensemble = models
    _, _, Xte, yte = oqmd_small
    Xt = ensemble[0].transform(Xte[:200])
    tuned = fine_tune(ensemble, Xte[:300], yte[:300], members=[1], max_epochs=2, lr=1e-3)
    old, new = ensemble[-1].estimators_, tuned[-1].estimators_
    np.testing.assert_array_equal(new[0].predict(Xt), old[0].predict(Xt))
    assert not np.array_equal(new[1].predict(Xt), old[1].predict(Xt)) and new[1].n_iter_ == 2
    with pytest.raises(ValueError, match="members must be positions"):
        fine_tune(ensemble, Xte[:300], yte[:300], members=[len(old)])
