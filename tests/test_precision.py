"""``mixed_precision="auto"``: bfloat16 where measured faster, the choice recorded, the fit otherwise unchanged."""

import numpy as np
import pytest
import torch

from sklearn_hform import CompositionFractionTransformer, CompositionTransformerRegressor, FormationEnthalpyRegressor
from sklearn_hform._training import _precision
from sklearn_hform.datasets import load_oqmd_hform
from sklearn_hform.neural_network import ElementAttentionNet, fit_stacked

SMALL = dict(d_model=16, n_heads=2, n_layers=1, dim_feedforward=32, max_epochs=2, batch_size=64, device="cpu")


@pytest.fixture(scope="module")
def data():
    X, y = load_oqmd_hform(split="train", return_X_y=True)
    return CompositionFractionTransformer().fit_transform(X[:600]).astype(np.float32), y[:600].to_numpy()


@pytest.fixture
def forced(monkeypatch):
    """Make bfloat16 measure faster (or slower) than it is: the choice must follow the measurement."""
    _precision._CHOICES.clear()

    def force(bf16_faster):
        def fake(module, X, device, bf16):
            return 1.0 if bf16 == bf16_faster else 2.0
        monkeypatch.setattr(_precision, "_pass_seconds", fake)

    yield force
    _precision._CHOICES.clear()


@pytest.mark.parametrize("bf16_faster", [True, False])
def test_auto_trains_in_what_was_measured_faster_and_says_so(data, forced, bf16_faster):
    forced(bf16_faster)
    X, y = data
    model = CompositionTransformerRegressor(**SMALL, mixed_precision="auto", random_state=0).fit(X, y)
    assert model.training_precision_ == ("bfloat16" if bf16_faster else "float32")
    assert model.precision_choice_["mixed_precision"] is bf16_faster
    assert {"float32_s", "bfloat16_s", "device"} <= set(model.precision_choice_)


@pytest.mark.parametrize("bf16_faster", [True, False])
def test_an_auto_fit_is_the_fit_of_its_choice(data, forced, bf16_faster):
    # The measurement draws nothing from the fit's generators: the same seed
    # gives the same network as asking for the chosen precision outright.
    forced(bf16_faster)
    X, y = data
    auto = CompositionTransformerRegressor(**SMALL, mixed_precision="auto", random_state=0).fit(X, y)
    chosen = CompositionTransformerRegressor(**SMALL, mixed_precision=bf16_faster, random_state=0).fit(X, y)
    np.testing.assert_array_equal(auto.predict(X), chosen.predict(X))
    assert not hasattr(chosen, "precision_choice_")
    assert chosen.training_precision_ == auto.training_precision_


def test_a_stacked_fit_measures_too(data, forced):
    forced(True)
    X, y = data
    members = [FormationEnthalpyRegressor(hidden_layer_sizes=(8,), max_epochs=1, batch_size=64, device="cpu",
                                          mixed_precision="auto", random_state=k) for k in range(2)]
    fit_stacked(members, X, y, [np.arange(len(y))] * 2)
    assert all(m.training_precision_ == "bfloat16" for m in members)


def test_the_measurement_leaves_the_module_as_it_was(data):
    X, _ = data
    module = ElementAttentionNet(X.shape[1], 16, 2, 1, 32).train()
    before = {k: v.clone() for k, v in module.state_dict().items()}
    tokens = (torch.from_numpy(X[:64]).topk(2, dim=1),)
    state = torch.random.get_rng_state()
    choice = _precision.choose_precision(module, tokens, "cpu")
    assert module.training and all(p.grad is None for p in module.parameters())
    assert all(torch.equal(before[k], v) for k, v in module.state_dict().items())
    assert torch.equal(state, torch.random.get_rng_state())
    assert choice["mixed_precision"] == (choice["bfloat16_s"] < _precision.MARGIN * choice["float32_s"])
    # Remembered for the process: the next fit of the same case does not measure again.
    assert _precision.choose_precision(module, tokens, "cpu")["remembered"]


def test_auto_is_the_only_string_accepted(data):
    X, y = data
    with pytest.raises(ValueError, match="mixed_precision"):
        CompositionTransformerRegressor(**SMALL, mixed_precision="fast").fit(X, y)
