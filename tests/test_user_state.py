"""No hidden state changes: fitting, predicting, screening, plotting and the CLI leave the user's world alone.

torch's and numpy's global random streams, matplotlib's backend and open
figures and the logging configuration are the caller's; so are a fitted
model's attributes when a warm start fails, a calibration that no longer
describes the networks, and the seeds that make ensemble members differ.
Every estimator here has an integer ``random_state``: with ``None``,
scikit-learn's convention is to draw from numpy's global generator.
"""

import contextlib
import logging
import warnings

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.pipeline import make_pipeline

from sklearn_hform import (
    CompositionFractionTransformer,
    CompositionTransformerRegressor,
    DeepEnsembleRegressor,
    FormationEnthalpyRegressor,
    cli,
    load_model,
    save_model,
)

MLP = dict(hidden_layer_sizes=(16,), max_epochs=1, batch_size=64, device="cpu", random_state=0)
ATTENTION = dict(d_model=16, n_heads=2, n_layers=1, dim_feedforward=16, max_epochs=1, batch_size=64, device="cpu",
                 random_state=0)
# pymatgen's ternary plots log this through matplotlib on every draw.
AXES_LOGGER = "matplotlib.axes._base"


@pytest.fixture(scope="module")
def fractions(oqmd_small):
    X, y, _, _ = oqmd_small
    return CompositionFractionTransformer().fit(X[:300]).transform(X[:300]), y[:300].to_numpy()


@pytest.fixture(scope="module")
def paper():
    from sklearn_hform.pretrained import load_pretrained

    return load_pretrained("paper")


@contextlib.contextmanager
def random_streams_untouched():
    """Fail if the block moved torch's or numpy's global random stream."""
    torch_state, numpy_state = torch.get_rng_state(), np.random.get_state()
    yield
    assert torch.equal(torch.get_rng_state(), torch_state), "torch's global random state changed"
    after = np.random.get_state()
    assert after[0] == numpy_state[0] and np.array_equal(after[1], numpy_state[1]) and after[2:] == numpy_state[2:], \
        "numpy's global random state changed"


@pytest.fixture
def svg_backend():
    """A headless backend that is not Agg, so that a switch to Agg shows; the test's figures are closed after it."""
    import matplotlib
    import matplotlib.pyplot as plt

    previous, already_open = matplotlib.get_backend(), set(plt.get_fignums())
    matplotlib.use("svg")
    yield "svg"
    for number in set(plt.get_fignums()) - already_open:
        plt.close(number)
    matplotlib.use(previous)


def _stacked_ensemble():
    return DeepEnsembleRegressor(FormationEnthalpyRegressor(**MLP), n_estimators=2, random_state=0)


@pytest.mark.parametrize("make", [
    pytest.param(lambda: FormationEnthalpyRegressor(**MLP), id="mlp"),
    pytest.param(lambda: FormationEnthalpyRegressor(**MLP, dropout=0.2, validation_fraction=0.2, n_iter_no_change=1),
                 id="mlp-dropout-validation"),
    # torch's encoder layers drop out through the global generator.
    pytest.param(lambda: CompositionTransformerRegressor(**ATTENTION, dropout=0.2), id="attention-dropout"),
    pytest.param(lambda: CompositionTransformerRegressor(**ATTENTION, element_embedding="magpie"), id="magpie"),
    pytest.param(_stacked_ensemble, id="ensemble-stacked"),
    pytest.param(lambda: DeepEnsembleRegressor(FormationEnthalpyRegressor(**MLP, validation_fraction=0.2),
                                               n_estimators=2, random_state=0), id="ensemble-unstacked"),
    pytest.param(lambda: DeepEnsembleRegressor(CompositionTransformerRegressor(**ATTENTION), n_estimators=2,
                                               random_state=0), id="ensemble-attention"),
])
def test_fit_and_predict_leave_the_global_random_streams_alone(fractions, make):
    X, y = fractions
    with random_streams_untouched():
        est = make().fit(X, y)
    with random_streams_untouched():
        est.predict(X[:50])
        if isinstance(est, DeepEnsembleRegressor):
            est.predict(X[:50], return_std=True)


def test_the_ensemble_fit_checked_above_is_the_stacked_one(fractions):
    X, y = fractions
    assert hasattr(_stacked_ensemble().fit(X, y), "history_")  # set only by the stacked fit


def test_seeded_attention_fits_with_dropout_are_reproducible_whatever_the_global_seed(fractions):
    X, y = fractions
    torch.manual_seed(1)
    a = CompositionTransformerRegressor(**ATTENTION, dropout=0.2).fit(X, y).predict(X[:50])
    torch.manual_seed(2)
    b = CompositionTransformerRegressor(**ATTENTION, dropout=0.2).fit(X, y).predict(X[:50])
    np.testing.assert_array_equal(a, b)


def test_attention_dropout_computes_torch_attention():
    from sklearn_hform.neural_network import ElementAttentionNet

    net = ElementAttentionNet(6, 16, 2, 1, 16, dropout=0.3).train()
    attn = net.encoder.layers[0].self_attn
    x = torch.randn(4, 3, 16, generator=torch.Generator().manual_seed(0))
    padding = torch.tensor([[False, False, False], [False, True, True], [False, False, True], [False, True, True]])
    expected = torch.nn.MultiheadAttention.forward(attn, x, x, x, key_padding_mask=padding, need_weights=False)[0]
    attn.attention_dropout.p = 0.0
    torch.testing.assert_close(attn.attend(x, padding), expected)


def test_screen_and_its_plot_leave_random_streams_backend_and_figures_alone(paper, tmp_path, svg_backend):
    import matplotlib
    import matplotlib.pyplot as plt

    from sklearn_hform.stability import plot_screen, screen

    mine = plt.figure()
    for system in ("Al-Ni", "Li-Fe-O"):
        with random_streams_untouched():
            table = screen(paper, system)
            plot_screen(table, system.split("-"), tmp_path / f"{system}.png")
        assert (tmp_path / f"{system}.png").stat().st_size > 0
    assert matplotlib.get_backend() == svg_backend
    assert plt.get_fignums() == [mine.number] and plt.gcf() is mine


def test_plot_hull_leaves_backend_figures_and_logging_alone(paper, tmp_path, svg_backend):
    import matplotlib
    import matplotlib.pyplot as plt

    from sklearn_hform.stability import plot_hull, screen_grid

    logger = logging.getLogger(AXES_LOGGER)
    level, filters = logger.level, list(logger.filters)
    first, second = plt.figure(), plt.figure()
    plt.figure(first)
    with random_streams_untouched():
        _, diagram = screen_grid(paper, "Li-Fe-O", step=0.25)
    records = []

    class Keep(logging.Handler):
        def emit(self, record):
            records.append(record)

    keep = Keep()
    logger.addHandler(keep)
    try:
        with random_streams_untouched():
            plot_hull(diagram, tmp_path / "hull.png")
        assert not records  # the ternary plot's aspect message is silenced during the call ...
        logger.warning("Ignoring fixed x limits: a message of the user's own")
        assert len(records) == 1  # ... and only then
    finally:
        logger.removeHandler(keep)
    assert (tmp_path / "hull.png").stat().st_size > 0
    assert (logger.level, logger.filters) == (level, filters)
    assert matplotlib.get_backend() == svg_backend
    assert plt.get_fignums() == [first.number, second.number] and plt.gcf() is first


def _calibrated_ensemble(oqmd_small):
    from sklearn_hform import UnseenElementWarning

    X, y, Xte, yte = oqmd_small
    model = make_pipeline(CompositionFractionTransformer(), _stacked_ensemble()).fit(X[:300], y[:300])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnseenElementWarning)
        model[-1].calibrate(model[0].transform(Xte[:200]), yte[:200], error_model="spread")
    return model


def test_fine_tune_drops_a_calibration_that_described_other_networks(oqmd_small):
    from sklearn_hform.neural_network import fine_tune

    X, y, Xte, yte = oqmd_small
    model = _calibrated_ensemble(oqmd_small)
    with pytest.warns(UserWarning, match="calibrat"):
        tuned = fine_tune(model, X[300:400], y[300:400], max_epochs=1)
    assert hasattr(model[-1], "calibration_")  # the original keeps its own
    assert not hasattr(tuned[-1], "calibration_")
    rows = tuned[0].transform(Xte[:20])
    _, std = tuned[-1].predict(rows, return_std=True)
    np.testing.assert_allclose(std, tuned[-1].predict_members(rows).std(axis=0))  # the raw spread
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fine_tune(tuned, X[300:400], y[300:400], max_epochs=1)
    assert not [w for w in caught if "calibration" in str(w.message)]  # nothing stale left to warn about


def _attributes(est):
    return {k: v for k, v in vars(est).items() if k.endswith("_") and not k.startswith("_")}


def _assert_same_attributes(before, after):
    assert before.keys() == after.keys()
    for name, value in before.items():
        if isinstance(value, np.ndarray):
            np.testing.assert_array_equal(after[name], value)
        else:
            assert after[name] is value or after[name] == value, name


@pytest.mark.parametrize("make", [
    pytest.param(lambda: FormationEnthalpyRegressor(**MLP), id="network"),
    pytest.param(lambda: DeepEnsembleRegressor(FormationEnthalpyRegressor(**MLP), n_estimators=1, random_state=0),
                 id="ensemble"),
])
@pytest.mark.parametrize("named", [True, False], ids=["fitted-with-names", "fitted-without-names"])
def test_a_failed_warm_start_leaves_the_fitted_model_as_it_was(fractions, make, named):
    X, y = fractions
    columns = [f"x{i}" for i in range(X.shape[1])]
    est = make().fit(pd.DataFrame(X, columns=columns) if named else X, y)
    grow = {"n_estimators": 2} if isinstance(est, DeepEnsembleRegressor) else {}
    est.set_params(warm_start=True, **grow)
    before = _attributes(est)
    attempts = [
        # fewer features, with names or without
        (pd.DataFrame(X[:, :-1], columns=columns[:-1]), y, "features"),
        (X[:, :-1], y, "features"),
        # the right width, other names (or none), a target that cannot be fitted
        (pd.DataFrame(X, columns=[c.upper() for c in columns]), np.full(len(y), np.nan), "finite|NaN"),
        (X, np.full(len(y), np.inf), "finite|infinity"),
    ]
    for X_bad, y_bad, message in attempts:
        with pytest.raises(ValueError, match=message):
            est.fit(X_bad, y_bad)
        _assert_same_attributes(before, _attributes(est))


def test_an_ensemble_whose_new_members_fail_to_train_keeps_its_calibration_and_history(oqmd_small):
    from skorch.callbacks import Callback

    class Fails(Callback):
        def on_train_begin(self, net, **kwargs):
            raise RuntimeError("training failed")

    X, _, _, _ = oqmd_small
    model = _calibrated_ensemble(oqmd_small)
    ensemble = model[-1]
    assert hasattr(ensemble, "history_")
    before = _attributes(ensemble)
    ensemble.set_params(warm_start=True, n_estimators=3, estimator__callbacks=[("fails", Fails())])
    with pytest.raises(RuntimeError, match="training failed"):
        ensemble.fit(model[0].transform(X[:300]), model.predict(X[:300]))
    _assert_same_attributes(before, _attributes(ensemble))


def test_train_init_gives_the_members_distinct_seeds(oqmd_small, tmp_path, capsys):
    X, y, _, _ = oqmd_small
    start = _calibrated_ensemble(oqmd_small)
    save_model(start, tmp_path / "start")
    csv = tmp_path / "small.csv"
    pd.DataFrame({"formula": np.ravel(X[300:360]), "y": y[300:360]}).to_csv(csv, index=False)
    argv = ["train", str(csv), "--target", "y", "-o", str(tmp_path / "tuned"), "--init", str(tmp_path / "start"),
            "--epochs", "1", "--seed", "7", "--device", "cpu", "-q"]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert cli.main(argv) == 0
    # The dropped calibration is said as a message of the command, not as a Python warning.
    assert "calibration" in capsys.readouterr().err
    assert not [w for w in caught if "calibration" in str(w.message)]
    seeds = [m.random_state for m in load_model(tmp_path / "tuned")[-1].estimators_]
    assert len(set(seeds)) == len(seeds)


def test_fine_tune_seeds_a_member_alike_whether_or_not_the_others_are_tuned(oqmd_small):
    from sklearn_hform.neural_network import fine_tune

    X, y, _, _ = oqmd_small
    start = make_pipeline(CompositionFractionTransformer(), _stacked_ensemble()).fit(X[:300], y[:300])
    every = fine_tune(start, X[300:360], y[300:360], max_epochs=1, random_state=7)
    one = fine_tune(start, X[300:360], y[300:360], members=[1], max_epochs=1, random_state=7)
    seeds = [m.random_state for m in every[-1].estimators_]
    assert len(set(seeds)) == len(seeds)
    assert one[-1].estimators_[1].random_state == seeds[1]
    rows = start[0].transform(X[:20])
    np.testing.assert_array_equal(one[-1].estimators_[1].predict(rows), every[-1].estimators_[1].predict(rows))
