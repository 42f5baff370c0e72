"""The composition transformer: pipeline, element embeddings, input checks, persistence."""

import numpy as np
import pytest
from sklearn.metrics import mean_absolute_error
from sklearn.pipeline import make_pipeline

from sklearn_hform import CompositionFractionTransformer, CompositionTransformerRegressor, load_model, save_model
from sklearn_hform.composition import magpie_properties

# Compares fits and predictions that rounding could move: run at 1 thread too.
pytestmark = pytest.mark.numerics

SMALL = dict(d_model=32, n_heads=2, n_layers=1, dim_feedforward=64, max_epochs=4, batch_size=128, device="cpu")


def test_learns_in_a_pipeline_and_round_trips(oqmd_small, tmp_path):
    X, y, Xte, yte = oqmd_small
    pipe = make_pipeline(CompositionFractionTransformer(), CompositionTransformerRegressor(random_state=0, **SMALL))
    pipe.fit(X, y)
    mae = mean_absolute_error(yte, pipe.predict(Xte))
    assert mae < 0.8 * mean_absolute_error(yte, np.full(len(yte), np.mean(y)))
    save_model(pipe, tmp_path)
    np.testing.assert_array_equal(load_model(tmp_path).predict(Xte[:300]), pipe.predict(Xte[:300]))


def test_tokens_are_the_elements_present():
    # A row's prediction depends on its positive entries only: padding a
    # batch to the row with the most elements changes nothing.
    rng = np.random.default_rng(0)
    X = np.zeros((200, 8), dtype=np.float32)
    for i in range(200):
        cols = rng.choice(8, size=1 + i % 5, replace=False)
        X[i, cols] = rng.dirichlet(np.ones(len(cols)))
    y = X @ np.linspace(-1, 1, 8)
    est = CompositionTransformerRegressor(random_state=0, **SMALL).fit(X, y)
    two = X[(X > 0).sum(1) == 2][:3]
    five = X[(X > 0).sum(1) == 5][:1]
    together = est.predict(np.vstack([two, five]))[:3]
    # Masked tokens add exact zeros; what remains is float32 rounding of
    # longer sums (~1e-7), within the 1e-5 that predict promises.
    np.testing.assert_allclose(together, est.predict(two), atol=1e-5)
    # Under bfloat16 autocast the same rows round differently with more
    # padding, but by the precision of bfloat16, not more.
    est.set_params(predict_precision="bfloat16")
    np.testing.assert_allclose(est.predict(np.vstack([two, five]))[:3], est.predict(two), atol=0.05)


def test_magpie_embeddings_start_from_element_properties():
    table = magpie_properties(["H", "O", "Fe", None])
    assert table.shape == (4, 22)
    assert np.all(table[3] == 0) and np.isfinite(table).all()
    X = np.zeros((20, 3), dtype=np.float32)
    X[:, 0], X[:, 1] = 0.5, 0.5
    y = np.linspace(-1, 0, 20)
    names = ["O", "H", "Fe"]
    import pandas as pd

    frame = pd.DataFrame(X, columns=names)
    kw = dict(SMALL, max_epochs=1)
    a = CompositionTransformerRegressor(element_embedding="magpie", random_state=0, **kw).fit(frame, y)
    b = CompositionTransformerRegressor(element_embedding="magpie", random_state=0, **kw).fit(X, y)
    # Column 0 is O in the frame and H for a bare array: its initial
    # embedding follows the element, so the two fits differ.
    assert not np.allclose(a.predict(frame), b.predict(X))
    emb = a._column_elements(3)
    assert emb == names


def test_negative_fraction_is_named_with_its_row():
    X = np.abs(np.random.default_rng(0).random((30, 4))).astype(np.float32)
    est = CompositionTransformerRegressor(**dict(SMALL, max_epochs=1)).fit(X, X.sum(1))
    bad = X.copy()
    bad[7, 2] = -0.25
    with pytest.raises(ValueError, match=r"row 7, column 2 is -0.25"):
        est.predict(bad)
    with pytest.raises(ValueError, match=r"row 7, column 2"):
        CompositionTransformerRegressor(**SMALL).fit(bad, X.sum(1))


def test_a_row_of_zeros_still_gets_a_finite_prediction():
    X = np.abs(np.random.default_rng(1).random((30, 4))).astype(np.float32)
    est = CompositionTransformerRegressor(**dict(SMALL, max_epochs=1)).fit(X, X.sum(1))
    assert np.isfinite(est.predict(np.zeros((2, 4), dtype=np.float32))).all()


def test_heads_must_divide_the_width():
    X = np.abs(np.random.default_rng(1).random((30, 4))).astype(np.float32)
    with pytest.raises(ValueError, match="n_heads=3 must divide d_model=32"):
        CompositionTransformerRegressor(**dict(SMALL, n_heads=3)).fit(X, X.sum(1))


def test_warmup_cosine_schedule():
    from sklearn_hform._training import WarmupCosine

    s = WarmupCosine(40)
    factors = [s(e) for e in range(41)]
    assert s.warmup == 2
    assert factors[0] < factors[1] < factors[2] == 1.0
    assert all(a >= b for a, b in zip(factors[2:], factors[3:]))
    assert factors[40] == pytest.approx(0.0, abs=1e-12)
