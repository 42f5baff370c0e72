"""Error bars for any model: ConformalRegressor on a Pipeline, intervals through a Pipeline, and MAPIE over ours."""

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.pipeline import make_pipeline

from sklearn_hform import CompositionFractionTransformer, FormationEnthalpyRegressor
from sklearn_hform.composition import chemical_system
from sklearn_hform.ensemble import ConformalRegressor, predict_interval

NET = dict(max_epochs=8, batch_size=128, lr=3e-3, device="cpu", random_state=0)


@pytest.fixture(scope="module")
def data(oqmd_small):
    X, y, Xte, yte = oqmd_small
    return np.asarray(X).ravel(), y, np.asarray(Xte).ravel(), yte


@pytest.fixture(scope="module")
def last_step(data):
    X, y, _, _ = data
    return make_pipeline(CompositionFractionTransformer(),
                         ConformalRegressor(FormationEnthalpyRegressor(**NET), calibration_size=0.2,
                                            random_state=0)).fit(X, y)


def _coverage(lower, upper, y):
    return float(np.mean((y >= lower) & (y <= upper)))


def test_std_and_intervals_through_the_pipeline(last_step, data):
    _, _, Xte, yte = data
    mean, std = last_step.predict(Xte, return_std=True)
    np.testing.assert_array_equal(mean, last_step.predict(Xte))
    assert std.shape == mean.shape and (std > 0).all()
    lower, upper = predict_interval(last_step, Xte, confidence=0.9)
    np.testing.assert_allclose((lower + upper) / 2, mean)
    # 600 calibration rows, 1,000 test rows from another split: sampling noise of a few per cent either way.
    assert 0.83 <= _coverage(lower, upper, yte) <= 0.96
    assert 0.60 <= float(np.mean(np.abs(yte - mean) <= std)) <= 0.80
    wide = predict_interval(last_step, Xte, confidence=0.99)
    assert (wide[1] - wide[0] >= upper - lower - 1e-12).all()


def test_it_holds_out_rows_and_never_trains_on_them(last_step, data):
    X, y, _, _ = data
    model = last_step[-1]
    assert len(model.calibration_rows_) == 600 and model.calibration_["n_rows"] == 600
    # The fitted network saw 2,400 rows: it is the same network as one fitted on exactly those.
    train = np.setdiff1d(np.arange(len(y)), model.calibration_rows_)
    alone = make_pipeline(CompositionFractionTransformer(), FormationEnthalpyRegressor(**NET)).fit(X[train], y[train])
    np.testing.assert_allclose(last_step.predict(X[:50]), alone.predict(X[:50]), atol=1e-5)


def test_wrapping_a_whole_pipeline_with_groups(data):
    X, y, Xte, _ = data
    systems = np.array([chemical_system(f) for f in X])
    pipe = make_pipeline(CompositionFractionTransformer(), FormationEnthalpyRegressor(**{**NET, "max_epochs": 2}))
    model = ConformalRegressor(pipe, calibration_size=0.2, random_state=1).fit(X, y, groups=systems)
    held = set(systems[model.calibration_rows_])
    trained = set(np.delete(systems, model.calibration_rows_))
    assert held and not held & trained  # whole chemical systems held out
    mean, std = model.predict(Xte[:20], return_std=True)
    lower, upper = model.predict_interval(Xte[:20], confidence=0.8)
    assert (lower < mean).all() and (mean < upper).all() and std.shape == (20,)
    assert not hasattr(pipe[-1], "module_")  # the user's pipeline is cloned, never fitted


def test_no_global_random_draw_and_a_seed_reproduces(data):
    X, y, _, _ = data
    model = ConformalRegressor(make_pipeline(CompositionFractionTransformer(),
                                             FormationEnthalpyRegressor(**{**NET, "max_epochs": 1})))
    state = np.random.get_state()[1].copy()
    model.fit(X[:1500], y[:1500])
    np.testing.assert_array_equal(np.random.get_state()[1], state)
    seeded = clone(model).set_params(random_state=3)
    rows = [clone(seeded).fit(X[:1500], y[:1500]).calibration_rows_ for _ in range(2)]
    np.testing.assert_array_equal(*rows)


def test_too_few_held_out_rows_and_bad_parameters_are_clear(data):
    X, y, _, _ = data
    pipe = make_pipeline(CompositionFractionTransformer(), FormationEnthalpyRegressor(**{**NET, "max_epochs": 1}))
    with pytest.raises(ValueError, match="at least 100 held-out rows"):
        ConformalRegressor(pipe, calibration_size=0.05, random_state=0).fit(X[:1000], y[:1000])
    with pytest.raises(ValueError, match="error_model"):
        ConformalRegressor(pipe, error_model="gaussian").fit(X[:1000], y[:1000])
    with pytest.raises(TypeError, match="no predict_interval"):
        predict_interval(pipe.fit(X[:500], y[:500]), X[:5])


def test_save_and_load_round_trip(last_step, data, tmp_path):
    from sklearn_hform.persistence import load_model, save_model

    _, _, Xte, _ = data
    save_model(last_step, tmp_path / "model")
    back = load_model(tmp_path / "model")
    for a, b in zip(back.predict(Xte[:100], return_std=True), last_step.predict(Xte[:100], return_std=True)):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(predict_interval(back, Xte[:100], 0.9), predict_interval(last_step, Xte[:100], 0.9)):
        np.testing.assert_array_equal(a, b)


def test_mapie_split_conformal_over_our_pipeline(data):
    mapie = pytest.importorskip("mapie.regression")
    X, y, Xte, yte = data
    # A plain Pipeline of ours, fitted on one part; MAPIE conformalizes it on rows it did not train on.
    pipe = make_pipeline(CompositionFractionTransformer(), FormationEnthalpyRegressor(**NET)).fit(X[:2000], y[:2000])
    conformal = mapie.SplitConformalRegressor(estimator=pipe, confidence_level=0.9, prefit=True)
    conformal.conformalize(X[2000:].reshape(-1, 1), y[2000:])
    point, intervals = conformal.predict_interval(Xte.reshape(-1, 1))
    np.testing.assert_allclose(point, pipe.predict(Xte), rtol=1e-6)
    lower, upper = intervals[:, 0, 0], intervals[:, 1, 0]
    # 1,000 conformalization rows: the coverage of new rows is 0.9 within sampling noise.
    assert 0.85 <= _coverage(lower, upper, yte) <= 0.95
