"""The CUDA paths: graph-captured steps and stacked fits on a GPU. Skipped without one."""

import numpy as np
import pytest
import torch

from sklearn_hform import DeepEnsembleRegressor, FormationEnthalpyRegressor

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")

FAST = dict(hidden_layer_sizes=(64, 64, 32), device="cuda", random_state=0)


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = rng.dirichlet(np.ones(10), size=3000).astype(np.float32)
    y = (X @ rng.normal(size=10) + 0.1 * np.sin(7 * X[:, 0])).astype(np.float32)
    return X, y


def _fit(X, y, **kw):
    return FormationEnthalpyRegressor(**{**FAST, **kw}).fit(X, y)


def test_graph_step_equals_eager_step(data):
    # 3000 rows at batch 256: 11 full batches replayed from the graph and a
    # short last batch of 184 rows taken eagerly, every epoch.
    X, y = data
    graphed = _fit(X, y, max_epochs=3, batch_size=256, cuda_graphs=True)
    eager = _fit(X, y, max_epochs=3, batch_size=256, cuda_graphs=False)
    assert graphed.net_.graph_step_ is not None and graphed.net_.graph_step_.graph is not None
    # A replayed graph runs the kernels the eager step launches, on the same
    # data in the same order; only cuBLAS's choice of split-K may differ,
    # float32 rounding (~1e-7 per step) that three epochs leave far below 1e-4.
    np.testing.assert_allclose(graphed.predict(X), eager.predict(X), atol=1e-4)
    np.testing.assert_allclose(graphed.net_.history[:, "train_loss"], eager.net_.history[:, "train_loss"], rtol=1e-4)


def test_graph_step_follows_the_schedule(data):
    X, y = data
    est = _fit(X, y, max_epochs=4, batch_size=512, lr_schedule="cosine")
    lr = est.net_.optimizer_.param_groups[0]["lr"]
    assert torch.is_tensor(lr) and float(lr) == pytest.approx(0.0, abs=1e-9)


def test_graph_step_with_early_stopping_and_dropout(data):
    X, y = data
    est = _fit(X, y, max_epochs=40, batch_size=256, validation_fraction=0.2, n_iter_no_change=3, dropout=0.1,
               hidden_layer_sizes=(64, 32))
    assert est.n_iter_ <= 40
    assert np.isfinite(est.predict(X)).all()
    assert est.net_.graph_step_.graph is not None


def test_mixed_precision_graph(data):
    X, y = data
    est = _fit(X, y, max_epochs=3, batch_size=256, mixed_precision=True)
    assert np.isfinite(est.predict(X)).all()


def test_stacked_ensemble_on_the_gpu(data):
    X, y = data
    member = FormationEnthalpyRegressor(hidden_layer_sizes=(64, 64, 32), max_epochs=5, batch_size=256, device="cuda")
    ens = DeepEnsembleRegressor(member, n_estimators=4, random_state=0).fit(X, y)
    assert hasattr(ens, "history_")
    mean, std = ens.predict(X, return_std=True)
    assert np.all(std > 0)
    alone = FormationEnthalpyRegressor(**{**member.get_params(), "random_state": ens.estimators_[0].random_state})
    alone.fit(X, y)
    assert np.mean(np.abs(alone.predict(X) - y)) == pytest.approx(np.mean(np.abs(ens.estimators_[0].predict(X) - y)),
                                                                  rel=0.2)


@pytest.fixture(scope="module")
def compositions():
    # Rows of 1 to 5 elements out of 12: five token lengths, so five graphs.
    rng = np.random.default_rng(1)
    X = np.zeros((3000, 12), dtype=np.float32)
    for i, k in enumerate(rng.integers(1, 6, size=len(X))):
        X[i, rng.choice(12, size=k, replace=False)] = rng.dirichlet(np.ones(k))
    y = (X @ rng.normal(size=12)).astype(np.float32)
    return X, y


TRANSFORMER = dict(d_model=32, n_heads=4, n_layers=2, dim_feedforward=64, batch_size=128, device="cuda",
                   random_state=0)


def test_transformer_steps_replay_one_graph_per_length(compositions):
    from sklearn_hform import CompositionTransformerRegressor

    X, y = compositions
    graphed = CompositionTransformerRegressor(**TRANSFORMER, max_epochs=3, cuda_graphs=True).fit(X, y)
    eager = CompositionTransformerRegressor(**TRANSFORMER, max_epochs=3, cuda_graphs=False).fit(X, y)
    step = graphed.net_.graph_step_
    assert step is not None and not step.failed
    # One graph per (rows, length) of the full batches: a length each.
    assert {shape[0][0][0][1] for shape in step.graphs} == set(range(1, 6))
    # The same kernels on the same batches in the same order; float32
    # rounding differences (~1e-7 a step) stay far below 1e-4 over three epochs.
    np.testing.assert_allclose(graphed.predict(X), eager.predict(X), atol=1e-4)
    np.testing.assert_allclose(graphed.net_.history[:, "train_loss"], eager.net_.history[:, "train_loss"], rtol=1e-4)


def test_transformer_graphs_with_dropout_and_bf16(compositions):
    from sklearn_hform import CompositionTransformerRegressor

    X, y = compositions
    est = CompositionTransformerRegressor(**TRANSFORMER, max_epochs=2, dropout=0.1, mixed_precision=True).fit(X, y)
    assert est.net_.graph_step_.graphs and np.isfinite(est.predict(X)).all()


def test_auto_precision_on_the_gpu(compositions):
    from sklearn_hform import CompositionTransformerRegressor

    X, y = compositions
    est = CompositionTransformerRegressor(**TRANSFORMER, max_epochs=1, mixed_precision="auto").fit(X, y)
    assert est.training_precision_ in ("float32", "bfloat16") and est.precision_choice_["device"].startswith("cuda")
