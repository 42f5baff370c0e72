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


@pytest.mark.parametrize("name, target", [("paper", 0.075), ("best", 0.0489)])
def test_shipped_model_accuracy(name, target, test_split):
    X, y = test_split
    model = load_pretrained(name)
    mae = float(np.mean(np.abs(model.predict(X) - y.to_numpy())))
    recorded = load_pretrained_metadata(name)["test_mae"]
    # The stored weights reproduce the figure recorded when they were trained ...
    assert mae == pytest.approx(recorded, abs=2e-4)
    # ... which meets the paper's headline ("paper") or beats ElemNet's 0.0489
    # on the same split ("best"; its 0.040 goal is not reached, see the docs).
    assert mae <= target


def test_best_is_an_ensemble_with_uncertainty(test_split):
    X, _ = test_split
    model = load_pretrained("best")
    Xt = model[0].transform(X[:100])
    mean, std = model[-1].predict(Xt, return_std=True)
    assert mean.shape == std.shape == (100,)
    assert (std > 0).all()
