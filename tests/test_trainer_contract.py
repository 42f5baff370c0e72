"""The trainer contract: capability flags, the hooks both fit paths honour, the shared parameter docs."""

import inspect
import pydoc
import warnings
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from numpydoc.docscrape import ClassDoc
from residual_mlp import ResidualMLPRegressor  # docs/code, put on sys.path by conftest.py
from skorch.callbacks import Callback, LRScheduler
from torch import nn

from sklearn_hform import CompositionTransformerRegressor, FormationEnthalpyRegressor
from sklearn_hform._training import StackedModule, graphs_possible, module_capability
from sklearn_hform.neural_network import (TRAINING_PARAMETER_DOCS, TRAINING_PARAMETERS, BaseTorchRegressor,
                                          ElementAttentionNet, FractionMLP, can_stack, document_training_parameters,
                                          fit_stacked)

FAST = dict(hidden_layer_sizes=(8,), batch_size=16, max_epochs=1, lr_schedule="constant", device="cpu")


class _Linear(nn.Module):
    """One linear layer; subclasses declare the flags under test."""

    def __init__(self, n_features):
        super().__init__()
        self.linear = nn.Linear(n_features, 1)

    def forward(self, X):
        return self.linear(X).squeeze(-1)


class VmapOnly(_Linear):
    vmap_safe = True


class BothFlags(_Linear):
    vmap_safe = True
    cuda_graph_safe = True


class Legacy(_Linear):
    static_forward = True


class LegacyButNotVmap(_Linear):
    static_forward = True
    vmap_safe = False


class LinearRegressor(FormationEnthalpyRegressor):
    """The MLP estimator with a module of the test's choosing (``module_class``)."""

    module_class = _Linear

    def build_module(self, n_features):
        return self.module_class(n_features)


def _regressors(module_class, n=2, **kw):
    cls = type(f"{module_class.__name__}Regressor", (LinearRegressor,), {"module_class": module_class})
    return [cls(random_state=i, **{**FAST, **kw}) for i in range(n)]


def _graph_net(module):
    # What graphs_possible reads of a TensorNet; a CUDA device name needs no GPU to be read.
    return SimpleNamespace(cuda_graphs=True, device="cuda", module_=module)


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = rng.random((64, 4)).astype(np.float32)
    return X, X @ np.linspace(-1, 1, 4)


def test_a_vmap_safe_module_stacks_but_is_not_graph_captured():
    assert can_stack(_regressors(VmapOnly), 4)
    assert not graphs_possible(_graph_net(VmapOnly(4)))
    # The stacked model inherits the members' graph capability, not its own vmapping.
    assert not graphs_possible(_graph_net(StackedModule([VmapOnly(4), VmapOnly(4)])))
    assert graphs_possible(_graph_net(BothFlags(4)))
    assert graphs_possible(_graph_net(StackedModule([BothFlags(4), BothFlags(4)])))
    # Off CUDA, or when asked not to, no graph whatever the module says.
    assert not graphs_possible(SimpleNamespace(cuda_graphs=True, device="cpu", module_=BothFlags(4)))
    assert not graphs_possible(SimpleNamespace(cuda_graphs=False, device="cuda", module_=BothFlags(4)))


def test_a_module_without_flags_gets_neither_path():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert not can_stack(_regressors(_Linear), 4)
        assert not graphs_possible(_graph_net(_Linear(4)))


def test_static_forward_still_means_both_with_a_future_warning():
    with pytest.warns(FutureWarning, match="static_forward.*vmap_safe and cuda_graph_safe"):
        assert can_stack(_regressors(Legacy), 4)
    with pytest.warns(FutureWarning, match="static_forward"):
        assert graphs_possible(_graph_net(Legacy(4)))
    # A declared flag wins over the old attribute; the undeclared one still reads it.
    assert not module_capability(LegacyButNotVmap(4), "vmap_safe")
    with pytest.warns(FutureWarning):
        assert module_capability(LegacyButNotVmap(4), "cuda_graph_safe")
    with pytest.raises(ValueError, match="capability must be one of"):
        module_capability(Legacy(4), "static_forward")


def test_a_legacy_module_trains_stacked(data):
    X, y = data
    with pytest.warns(FutureWarning, match="static_forward"):
        members, net = fit_stacked(_regressors(Legacy), X, y, [np.arange(len(y))] * 2)
    assert all(m.n_iter_ == 1 for m in members) and len(net.history) == 1


def test_the_package_modules_declare_their_capabilities():
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no module of the package leans on static_forward
        mlp = FractionMLP(4, (8,))
        attention = ElementAttentionNet(4, 8, 2, 1, 16)
        assert module_capability(mlp, "vmap_safe") and module_capability(mlp, "cuda_graph_safe")
        assert not module_capability(mlp, "token_batches")
        # Trained on batches of one length, as tokens: one shape per length, no host reads.
        assert module_capability(attention, "token_batches") and module_capability(attention, "cuda_graph_safe")
        assert not module_capability(attention, "vmap_safe")
    assert not hasattr(FractionMLP, "static_forward") and not hasattr(ElementAttentionNet, "static_forward")


class TwoEpochs(FormationEnthalpyRegressor):
    """Trains two epochs whatever ``max_epochs`` says: an override only the net's arguments reveal."""

    def net_kwargs(self, device, seed, generator):
        return {**super().net_kwargs(device, seed, generator), "max_epochs": 2}


def test_single_and_stacked_fits_build_the_net_from_the_same_hook(data):
    X, y = data
    single = TwoEpochs(random_state=0, **FAST).fit(X, y)
    assert single.n_iter_ == 2 and len(single.net_.history) == 2
    members = [TwoEpochs(random_state=i, **FAST) for i in range(2)]
    assert can_stack(members, X.shape[1])
    members, net = fit_stacked(members, X, y, [np.arange(len(y))] * 2)
    assert len(net.history) == 2 and all(m.n_iter_ == 2 for m in members)
    # The same seed through either path starts and trains alike (one member against its single fit).
    np.testing.assert_allclose(members[0].predict(X), single.predict(X), atol=1e-4)


class OverridesFit(FormationEnthalpyRegressor):
    def fit(self, X, y, sample_weight=None):
        return super().fit(X, y, sample_weight)


class OverridesBuildNet(FormationEnthalpyRegressor):
    def build_net(self, module, device, seed, generator):
        return super().build_net(module, device, seed, generator)


class _NotStackable(Callback):
    pass


class ExtraCallbacks(FormationEnthalpyRegressor):
    """Adds ``extra`` (a class attribute) to the callbacks the base builds."""

    extra = []

    def build_callbacks(self, seed):
        return super().build_callbacks(seed) + list(self.extra)


def test_single_fit_hooks_send_a_class_to_single_fits():
    # A stacked fit cannot run these; the class trains one network at a time instead of losing its override.
    assert can_stack([FormationEnthalpyRegressor(random_state=i, **FAST) for i in range(2)], 4)
    assert not can_stack([OverridesFit(random_state=i, **FAST) for i in range(2)], 4)
    assert not can_stack([OverridesBuildNet(random_state=i, **FAST) for i in range(2)], 4)


def test_stacking_judges_the_callbacks_the_net_gets():
    epochs = type("EpochSchedule", (ExtraCallbacks,), {"extra": [("s", LRScheduler(torch.optim.lr_scheduler.StepLR,
                                                                                   step_size=1))]})
    batches = type("BatchSchedule", (ExtraCallbacks,), {"extra": [("s", LRScheduler(
        torch.optim.lr_scheduler.StepLR, step_size=1, step_every="batch"))]})
    other = type("Other", (ExtraCallbacks,), {"extra": [("x", _NotStackable())]})
    assert can_stack([epochs(random_state=i, **FAST) for i in range(2)], 4)
    assert not can_stack([batches(random_state=i, **FAST) for i in range(2)], 4)
    assert not can_stack([other(random_state=i, **FAST) for i in range(2)], 4)


NETWORKS = [BaseTorchRegressor, FormationEnthalpyRegressor, CompositionTransformerRegressor, ResidualMLPRegressor]


def _words(text):
    return " ".join(text.split())


@pytest.mark.parametrize("cls", NETWORKS, ids=lambda c: c.__name__)
def test_each_network_documents_every_parameter_with_its_own_default(cls):
    signature = inspect.signature(cls.__init__).parameters
    documented = {p.name: p for p in ClassDoc(cls)["Parameters"]}
    assert list(documented) == [name for name in signature if name != "self"]
    for name, (kind, text) in TRAINING_PARAMETER_DOCS.items():
        default = signature[name].default
        if default is inspect.Parameter.empty:
            assert documented[name].type == kind
        else:
            shown = f'"{default}"' if isinstance(default, str) else repr(default)
            assert documented[name].type == f"{kind}, default={shown}"
        assert _words(" ".join(documented[name].desc)).startswith(_words(text))
    shown = pydoc.render_doc(cls, renderer=pydoc.plaintext)
    assert all(f"{name} : " in shown for name in signature if name != "self")


def test_every_training_parameter_has_its_shared_text():
    assert list(TRAINING_PARAMETER_DOCS) == list(TRAINING_PARAMETERS)


def test_defaults_differ_between_networks_and_the_text_follows():
    mlp = {p.name: p.type for p in ClassDoc(FormationEnthalpyRegressor)["Parameters"]}
    attention = {p.name: p.type for p in ClassDoc(CompositionTransformerRegressor)["Parameters"]}
    assert mlp["optimizer"].endswith('default="rmsprop"') and attention["optimizer"].endswith('default="adamw"')
    assert mlp["batch_size"].endswith("default=1024") and attention["batch_size"].endswith("default=512")


def test_class_specific_notes_join_the_shared_text():
    doc = {p.name: _words(" ".join(p.desc)) for p in ClassDoc(CompositionTransformerRegressor)["Parameters"]}
    assert "every full batch has one shape" in doc["cuda_graphs"]
    assert "never captured" not in _words(FormationEnthalpyRegressor.__doc__)


def test_the_decorator_refuses_what_it_cannot_document():
    with pytest.raises(TypeError, match="no training parameter"):
        document_training_parameters(notes={"width": "x"})

    class NoMarker(FormationEnthalpyRegressor):
        """Parameters are not listed here."""

    with pytest.raises(TypeError, match="has no {training_parameters} line"):
        document_training_parameters()(NoMarker)

    class MissingParameter(FormationEnthalpyRegressor):
        """{training_parameters}"""

        def __init__(self, lr=0.1):
            pass

    with pytest.raises(TypeError, match="lacks the training parameters"):
        document_training_parameters()(MissingParameter)


def test_a_subclass_hands_its_training_parameters_on_in_one_line():
    # The one-line pass-through keeps every value as given (clone rebuilds from get_params).
    model = ResidualMLPRegressor(width=16, lr=3e-3, max_epochs=7, device="cpu", random_state=5)
    assert model.get_params()["lr"] == 3e-3 and model.max_epochs == 7 and model.random_state == 5
    params = FormationEnthalpyRegressor().get_params()
    assert BaseTorchRegressor.training_arguments(params) == {name: params[name] for name in TRAINING_PARAMETERS}


def test_a_signature_that_forgets_a_training_parameter_is_told_which():
    class Forgetful(FormationEnthalpyRegressor):
        def __init__(self, hidden_layer_sizes=(8,), lr=1e-3):
            self.hidden_layer_sizes = hidden_layer_sizes
            super().__init__(**self.training_arguments(locals()))

    with pytest.raises(TypeError, match="missing: optimizer, lr_schedule"):
        Forgetful()
