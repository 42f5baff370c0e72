import pickle

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.base import clone
from sklearn.dummy import DummyRegressor
from sklearn.exceptions import DataConversionWarning
from sklearn.metrics import mean_absolute_error
from sklearn.model_selection import GridSearchCV, cross_val_score, learning_curve
from sklearn.pipeline import make_pipeline

from sklearn_hform import CompositionFractionTransformer, FormationEnthalpyRegressor
from sklearn_hform.neural_network import FractionMLP

FAST = dict(max_epochs=8, batch_size=128, lr=3e-3, random_state=0, device="cpu")


def make_pipe(**params):
    return make_pipeline(CompositionFractionTransformer(), FormationEnthalpyRegressor(**{**FAST, **params}))


def test_default_architecture_is_table_1():
    est = FormationEnthalpyRegressor()
    assert est.hidden_layer_sizes == (128, 128, 64, 64, 32)
    assert est.optimizer == "rmsprop" and est.loss == "l1"
    module = FractionMLP(94, est.hidden_layer_sizes, dropout=0.2)
    kinds = [type(m).__name__ for m in module.hidden]
    assert kinds == [
        "Linear", "ReLU", "Linear", "ReLU", "GeneratorDropout",
        "Linear", "ReLU", "Linear", "ReLU", "GeneratorDropout",
        "Linear", "ReLU",
    ]
    widths = [m.out_features for m in module.modules() if isinstance(m, torch.nn.Linear)]
    assert widths == [128, 128, 64, 64, 32, 1]


def test_snippet_fit_predict(oqmd_small):
    X, y, _, _ = oqmd_small
    pipe = make_pipe().fit(X, y)
    pred = pipe.predict(["Fe2O3", "NaCl"])
    assert pred.shape == (2,) and pred.dtype == np.float64
    est = pipe[-1]
    assert est.n_iter_ == 8 and len(est.net_.history) == 8
    assert est.device_ == "cpu"
    # Fe2O3 and NaCl are strongly exothermic; even a short fit gets the sign.
    assert (pred < 0).all()


def test_learns_far_better_than_dummy(oqmd_small):
    X, y, Xte, yte = oqmd_small
    pipe = make_pipe(max_epochs=40).fit(X, y)
    mae = mean_absolute_error(yte, pipe.predict(Xte))
    dummy = mean_absolute_error(yte, DummyRegressor().fit(np.zeros((len(y), 1)), y).predict(np.zeros((len(yte), 1))))
    assert mae < 0.6 * dummy, (mae, dummy)


def test_cross_val_score(oqmd_small):
    X, y, _, _ = oqmd_small
    scores = cross_val_score(make_pipe(max_epochs=3), X, y, cv=3, scoring="neg_mean_absolute_error")
    assert scores.shape == (3,) and np.all(scores < 0) and np.all(scores > -1.0)


def test_grid_search_over_layers_parallel(oqmd_small):
    X, y, _, _ = oqmd_small
    grid = GridSearchCV(
        make_pipe(max_epochs=3),
        {"formationenthalpyregressor__hidden_layer_sizes": [(32, 32, 16, 16, 8), (128, 128, 64, 64, 32)]},
        cv=3,
        scoring="neg_mean_absolute_error",
        n_jobs=2,
    )
    grid.fit(X[:1500], y[:1500])
    assert len(grid.cv_results_["mean_test_score"]) == 2
    assert grid.best_estimator_.predict(["MgO"]).shape == (1,)


def test_learning_curve_absolute_sizes(oqmd_small):
    X, y, _, _ = oqmd_small
    sizes, train, test = learning_curve(
        make_pipe(max_epochs=3), X, y, train_sizes=[300, 1000], cv=3, scoring="neg_mean_absolute_error"
    )
    assert list(sizes) == [300, 1000] and test.shape == (2, 3)


def test_same_seed_same_predictions_and_no_global_rng_side_effect(oqmd_small):
    X, y, Xte, _ = oqmd_small
    torch.manual_seed(123)
    before = torch.rand(1)
    torch.manual_seed(123)
    a = make_pipe(max_epochs=2, dropout=0.1).fit(X, y).predict(Xte)
    after = torch.rand(1)
    b = make_pipe(max_epochs=2, dropout=0.1).fit(X, y).predict(Xte)
    np.testing.assert_array_equal(a, b)
    assert before == after  # fit leaves the caller's torch generator alone
    c = make_pipe(max_epochs=2, random_state=1).fit(X, y).predict(Xte)
    assert not np.array_equal(a, c)


def test_pickle_and_clone_round_trip(oqmd_small):
    X, y, Xte, _ = oqmd_small
    pipe = make_pipe(max_epochs=2).fit(X, y)
    restored = pickle.loads(pickle.dumps(pipe))
    np.testing.assert_array_equal(restored.predict(Xte), pipe.predict(Xte))
    cloned = clone(pipe)
    assert cloned.get_params()["formationenthalpyregressor__max_epochs"] == 2
    np.testing.assert_array_equal(cloned.fit(X, y).predict(Xte), pipe.predict(Xte))


def test_set_params_reaches_network():
    rng = np.random.default_rng(0)
    X, y = rng.random((200, 5)), rng.random(200)
    est = FormationEnthalpyRegressor(max_epochs=1, device="cpu").set_params(hidden_layer_sizes=(7, 3))
    est.fit(X, y)
    widths = [m.out_features for m in est.net_.module_.modules() if isinstance(m, torch.nn.Linear)]
    assert widths == [7, 3, 1]


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.int64])
def test_numeric_inputs_and_targets(dtype):
    rng = np.random.default_rng(0)
    X = (rng.random((100, 4)) * 10).astype(dtype)
    y = pd.Series(rng.random(100))
    est = FormationEnthalpyRegressor(max_epochs=1, device="cpu").fit(pd.DataFrame(X, columns=list("abcd")), y)
    assert list(est.feature_names_in_) == list("abcd")
    assert est.predict(pd.DataFrame(X, columns=list("abcd"))).dtype == np.float64
    est.fit(X, list(y))


def test_column_y_trains_like_1d_y():
    rng = np.random.default_rng(0)
    X = rng.random((300, 4))
    y = X @ np.array([1.0, -2.0, 0.5, 0.0])
    kwargs = dict(max_epochs=5, random_state=0, device="cpu", batch_size=32)
    flat = FormationEnthalpyRegressor(**kwargs).fit(X, y)
    with pytest.warns(DataConversionWarning):
        column = FormationEnthalpyRegressor(**kwargs).fit(X, y.reshape(-1, 1))
    np.testing.assert_array_equal(flat.predict(X), column.predict(X))
    # The loss really is per-sample: an (n, n) broadcast would stay near the
    # mean absolute deviation instead of falling.
    history = flat.net_.history[:, "train_loss"]
    assert history[-1] < 0.5 * history[0]


def test_errors_like_sklearn():
    rng = np.random.default_rng(0)
    X, y = rng.random((20, 3)), rng.random(20)
    est = FormationEnthalpyRegressor(max_epochs=1, device="cpu")
    Xnan = X.copy()
    Xnan[3, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        est.fit(Xnan, y)
    with pytest.raises(ValueError, match="infinity"):
        est.fit(X, np.where(np.arange(20) == 2, np.inf, y))
    with pytest.raises(ValueError, match="0 sample"):
        est.fit(np.zeros((0, 3)), np.zeros(0))
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        est.fit(X, y[:-1])
    est.fit(X, y)
    with pytest.raises(ValueError, match="3 features"):
        est.predict(X[:, :2])
    with pytest.raises(ValueError, match="hidden_layer_sizes"):
        FormationEnthalpyRegressor(hidden_layer_sizes=(4, 0), device="cpu").fit(X, y)


def test_validation_and_early_stopping():
    rng = np.random.default_rng(0)
    X = rng.random((400, 4))
    y = X.sum(axis=1)
    est = FormationEnthalpyRegressor(
        max_epochs=200, validation_fraction=0.25, n_iter_no_change=3, lr=0.1, random_state=0, device="cpu"
    ).fit(X, y)
    hist = est.net_.history
    assert "valid_loss" in hist[-1]
    assert est.n_iter_ < 200  # stopped early


def test_device_auto_and_cuda_validation():
    from sklearn_hform.neural_network import resolve_device

    assert resolve_device("auto") == ("cuda" if torch.cuda.is_available() else "cpu")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="no CUDA device"):
            resolve_device("cuda")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_cuda_fit_then_cpu_predict(oqmd_small):
    X, y, Xte, _ = oqmd_small
    pipe = make_pipe(device="cuda").fit(X, y)
    assert pipe[-1].device_ == "cuda"
    assert next(pipe[-1].net_.module_.parameters()).is_cuda
    pred = pipe.predict(Xte)
    assert pred.shape == (len(Xte),) and np.isfinite(pred).all()
