"""Random batches regrouped by element count (the composition transformer's data path)."""

import numpy as np
import pytest
import torch

from sklearn_hform import CompositionFractionTransformer, CompositionTransformerRegressor
from sklearn_hform._training import module_capability
from sklearn_hform._training._batching import (ElementCountBatches, ShuffleSplitTensors, TensorBatches, TensorData,
                                               TokenData, element_tokens, predict_in_chunks, token_lengths)
from sklearn_hform.datasets import load_oqmd_hform
from sklearn_hform.neural_network import ElementAttentionNet


@pytest.fixture(scope="module")
def fractions():
    X, y = load_oqmd_hform(split="train", return_X_y=True)
    return CompositionFractionTransformer().fit_transform(X[:1500]).astype(np.float32), y[:1500].to_numpy()


def test_token_lengths_count_the_elements_and_at_least_one():
    X = np.array([[0.5, 0.5, 0], [0, 0, 0], [0.2, 0.3, 0.5]], dtype=np.float32)
    np.testing.assert_array_equal(token_lengths(X), [2, 1, 3])


def test_each_step_sees_the_rows_the_row_batches_would(fractions):
    # The same permutation from the same generator: the same rows per step
    # as TensorBatches, only regrouped, so training sees the same samples.
    X, _ = fractions
    ids = np.arange(len(X), dtype=np.float32)
    tokens = ElementCountBatches(TokenData(X, ids), 64, shuffle=True, generator=torch.Generator().manual_seed(0))
    rows = TensorBatches(TensorData(X, ids), 64, shuffle=True, generator=torch.Generator().manual_seed(0))
    assert len(tokens) == len(rows)
    n_batches = 0
    for (groups, grouped_ids), (_, row_ids) in zip(tokens, rows, strict=True):
        assert sorted(grouped_ids.tolist()) == sorted(row_ids.tolist())
        lengths = [f.shape[1] for f, _ in groups]
        assert lengths == sorted(set(lengths))  # one group per element count, in increasing order
        start = 0
        for f, e in groups:
            # Exactly the tokens that exist, and they are the row's own elements.
            assert bool((f > 0).all()) and f.shape == e.shape
            for j in (0, len(f) - 1):
                i = int(grouped_ids[start + j])
                np.testing.assert_allclose(np.sort(f[j].numpy()), np.sort(X[i][X[i] > 0]))
                np.testing.assert_array_equal(np.sort(e[j].numpy()), np.flatnonzero(X[i] > 0))
            start += len(f)
        n_batches += 1
    assert n_batches == len(tokens)


def test_the_epochs_are_seeded_and_differ(fractions):
    X, _ = fractions
    data = TokenData(X, np.arange(len(X), dtype=np.float32))

    def epoch_orders(seed):
        batches = ElementCountBatches(data, 100, shuffle=True, generator=torch.Generator().manual_seed(seed))
        return [torch.cat([ids for _, ids in batches]).tolist() for _ in range(2)]

    first, second = epoch_orders(3)
    assert first == epoch_orders(3)[0] and first != second and first != epoch_orders(4)[0]
    assert sorted(first) == list(range(len(X)))


def test_static_width_gives_one_shape_with_its_padding_mask(fractions):
    X, _ = fractions
    data = TokenData(X, np.zeros(len(X), dtype=np.float32))
    shapes = set()
    for groups, _ in ElementCountBatches(data, 256, static_width=True):
        (f, e, padding), = groups
        shapes.add(tuple(f.shape))
        assert torch.equal(padding[:, 1:], f[:, 1:] <= 0) and not padding[:, 0].any()
    assert {s[1] for s in shapes} == {data.width} and len(shapes) <= 2  # full batches and the short last one


def test_the_validation_split_keeps_the_lengths_with_their_rows(fractions):
    X, y = fractions
    train, valid = ShuffleSplitTensors(0.2, seed=0)(TokenData(X, y))
    assert len(train) + len(valid) == len(X) and len(valid) == 300
    for part in (train, valid):
        for groups, _ in ElementCountBatches(part, 50):
            assert all(bool((f > 0).all()) for f, _ in groups)


def test_token_groups_compute_what_the_padded_path_does(fractions):
    X, _ = fractions
    module = ElementAttentionNet(X.shape[1], 32, 4, 2, 64).eval()
    assert module_capability(module, "token_batches")
    tensor = torch.from_numpy(X[:400])
    lengths = token_lengths(X[:400])
    order = np.argsort(lengths, kind="stable")
    groups = tuple(element_tokens(tensor[order[lengths[order] == k]], int(k)) for k in np.unique(lengths))
    with torch.no_grad():
        padded = module(tensor)
        # Masked padding tokens get exactly zero attention: only rounding differs.
        torch.testing.assert_close(module(groups), padded[order], rtol=1e-5, atol=1e-5)
        width = int(lengths.max())
        f, e = element_tokens(tensor, width)
        torch.testing.assert_close(module(((f, e, f <= 0),)), padded, rtol=1e-5, atol=1e-5)
    # predict_in_chunks groups the rows by length too.
    np.testing.assert_allclose(predict_in_chunks(module, X[:400], "cpu", batch_size=128), padded.numpy(),
                               rtol=1e-5, atol=1e-5)


def test_a_transformer_fit_trains_on_element_count_groups(fractions, monkeypatch):
    X, y = fractions
    seen = []
    original = ElementCountBatches.__iter__

    def spy(self):
        for batch in original(self):
            seen.append([f.shape for f, _ in batch[0]])
            yield batch

    monkeypatch.setattr(ElementCountBatches, "__iter__", spy)
    model = CompositionTransformerRegressor(d_model=16, n_heads=2, n_layers=1, dim_feedforward=32, max_epochs=2,
                                            batch_size=128, random_state=0, device="cpu").fit(X, y)
    assert len(seen) == 2 * -(-len(X) // 128) and any(len(groups) > 1 for groups in seen)
    assert sum(s[0] for groups in seen for s in groups) == 2 * len(X)
    assert np.isfinite(model.predict(X)).all()
