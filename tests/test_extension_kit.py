"""The extension kit's target: a network in one file outside the package, using public names only.

The file below is installed as a tiny package, ``hform_conv1d``, in a
temporary folder: its module and a ``.dist-info`` folder whose
``entry_points.txt`` offers the network in the group
``sklearn_hform.networks``, on ``sys.path`` (what ``pip install`` leaves
behind, as :mod:`importlib.metadata` reads it). It must pass
``check_network_estimator``, train stacked, save, load in a process that
never imported it, and train from ``hform train --network`` (which
``check_network_estimator`` runs too, finding the entry point itself).
"""

import importlib
import json
import sys
import textwrap

import numpy as np
import pytest
from sklearn.pipeline import make_pipeline

from sklearn_hform import CompositionFractionTransformer, DeepEnsembleRegressor, FormationEnthalpyRegressor, cli
from sklearn_hform.datasets import load_oqmd_hform
from sklearn_hform.estimator_checks import check_network_estimator, expected_failed_checks
from sklearn_hform.persistence import (NETWORK_ENTRY_POINT_GROUP, load_model, load_network_entry_point,
                                       network_entry_points, save_model)
from sklearn_hform.persistence import _registry

MODULE = "hform_conv1d"

NETWORK_FILE = '''
"""A 1-D convolution over the element fractions, for sklearn-hform: public names only."""

import numbers

from torch import nn

from sklearn_hform.neural_network import BaseTorchRegressor, document_training_parameters
from sklearn_hform.persistence import register_estimator
from sklearn_hform.utils import Interval


class Conv1DNet(nn.Module):
    # Fixed shapes, no host reads: stacked fits (vmap) and CUDA graphs apply.
    vmap_safe = True
    cuda_graph_safe = True

    def __init__(self, n_features, channels, kernel_size):
        super().__init__()
        self.conv = nn.Conv1d(1, channels, kernel_size, padding=kernel_size // 2)
        self.out = nn.Linear(channels * n_features, 1)

    def forward(self, X):
        h = nn.functional.relu(self.conv(X.unsqueeze(-2)))
        return self.out(h.flatten(-2)).squeeze(-1)


@register_estimator
@document_training_parameters()
class Conv1DRegressor(BaseTorchRegressor):
    """A 1-D convolution over element fractions.

    Parameters
    ----------
    channels : int, default=8
        Output channels of the convolution.
    kernel_size : int, default=3
        Width of the convolution; odd, so that the output keeps the input's length.
    {training_parameters}
    """

    _parameter_constraints = {
        "channels": [Interval(numbers.Integral, 1, None, closed="left")],
        "kernel_size": [Interval(numbers.Integral, 1, None, closed="left")],
        **BaseTorchRegressor._parameter_constraints,
    }

    def __init__(self, channels=8, kernel_size=3, *, optimizer="adamw", lr=1e-3, lr_schedule="cosine",
                 weight_decay=0.0, mixed_precision=False,
                 predict_precision="float32", cuda_graphs=True, loss="l1", batch_size=1024,
                 max_epochs=100, validation_fraction=None, n_iter_no_change=None, callbacks=None, warm_start=False,
                 random_state=None, verbose=0, device="auto"):
        self.channels = channels
        self.kernel_size = kernel_size
        super().__init__(**self.training_arguments(locals()))

    def build_module(self, n_features):
        if self.kernel_size % 2 == 0:
            raise ValueError(f"kernel_size must be odd, got {self.kernel_size}")
        return Conv1DNet(n_features, self.channels, self.kernel_size)
'''

# Small, fast settings, as in test_common.py: the common checks fit dozens of times.
FAST = dict(channels=4, kernel_size=3, max_epochs=30, batch_size=32, lr=1e-2, device="cpu")


def _forget_network():
    """Undo the import of the network: as in a process that never imported it."""
    sys.modules.pop(MODULE, None)
    _registry._REGISTRY.pop("Conv1DRegressor", None)


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """The network file installed as the package ``hform_conv1d``, offered as the network ``conv1d``."""
    site = tmp_path_factory.mktemp("site")
    (site / f"{MODULE}.py").write_text(textwrap.dedent(NETWORK_FILE), encoding="utf-8")
    dist = site / f"{MODULE}-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {MODULE}\nVersion: 0.1\n", encoding="utf-8")
    (dist / "entry_points.txt").write_text(
        # A second, broken entry point: an installed package that fails to
        # import must not stop the others from loading.
        f"[{NETWORK_ENTRY_POINT_GROUP}]\nconv1d = {MODULE}:Conv1DRegressor\nbroken = hform_no_such_module:Net\n",
        encoding="utf-8")
    with pytest.MonkeyPatch.context() as patch:
        patch.syspath_prepend(str(site))
        yield site
        _forget_network()


@pytest.fixture
def network(installed):
    """The network class, imported by its module name as a user's code would."""
    return importlib.import_module(MODULE).Conv1DRegressor


def _data(n):
    X, y = load_oqmd_hform(split="train", return_X_y=True)
    return X[:n].to_numpy(dtype=object), y[:n].to_numpy(dtype=np.float64)


def test_the_entry_point_is_found_without_importing_the_network(installed):
    _forget_network()
    assert network_entry_points()["conv1d"] == f"{MODULE}:Conv1DRegressor"
    assert MODULE not in sys.modules


def test_a_network_outside_the_package_passes_check_network_estimator(network):
    check_network_estimator(network(**FAST))
    # Its expected failures come from what it does, as for the package's own networks.
    assert set(expected_failed_checks(network())) == {"check_sample_weight_equivalence_on_dense_data"}


def test_it_trains_stacked_saves_and_loads_where_it_was_never_imported(network, tmp_path):
    X, y = _data(200)
    model = make_pipeline(CompositionFractionTransformer(),
                          DeepEnsembleRegressor(network(**{**FAST, "max_epochs": 2}), n_estimators=2,
                                                random_state=0)).fit(X, y)
    assert hasattr(model[-1], "history_")  # set by the stacked path alone
    save_model(model, tmp_path / "model")
    expected = model.predict(X)

    _forget_network()
    loaded = load_model(tmp_path / "model")  # the registry finds the class through the entry point
    assert MODULE in sys.modules
    assert type(loaded[-1].estimators_[0]).__module__ == MODULE
    np.testing.assert_array_equal(loaded.predict(X), expected)


def test_hform_train_trains_a_network_of_the_entry_point_group(installed, tmp_path, capsys):
    _forget_network()
    frame = load_oqmd_hform(split="train").frame.iloc[:200][["formula", "formation_enthalpy"]]
    frame.to_csv(tmp_path / "data.csv", index=False)
    out = tmp_path / "model"
    argv = ["train", str(tmp_path / "data.csv"), "--target", "formation_enthalpy", "-o", str(out),
            "--network", "conv1d", "--epochs", "1", "--batch-size", "64", "--ensemble", "2", "--device", "cpu", "-q"]
    assert cli.main(argv) == 0, capsys.readouterr().err
    assert "saved to" in capsys.readouterr().out
    document = json.loads((out / "model.json").read_text())
    assert "Conv1DRegressor" in json.dumps(document)

    _forget_network()
    model = load_model(out)
    assert type(model[-1].estimators_[0]).__name__ == "Conv1DRegressor"
    assert model[-1].estimators_[0].max_epochs == 1
    assert np.isfinite(model.predict(["Fe2O3", "NaCl"])).all()


def test_hform_train_refuses_an_unknown_network_and_hidden_for_another(installed, tmp_path, capsys):
    frame = load_oqmd_hform(split="train").frame.iloc[:20][["formula", "formation_enthalpy"]]
    frame.to_csv(tmp_path / "data.csv", index=False)
    base = ["train", str(tmp_path / "data.csv"), "--target", "formation_enthalpy", "-o", str(tmp_path / "m"), "-q"]
    assert cli.main([*base, "--network", "nonesuch"]) == 1
    message = capsys.readouterr().err
    assert "no such network" in message and "mlp, transformer" in message and "conv1d" in message
    assert cli.main([*base, "--network", "conv1d", "--hidden", "8"]) == 1
    assert "--hidden sets the layers of the mlp network" in capsys.readouterr().err
    assert not (tmp_path / "m").exists()


def test_check_network_estimator_says_what_is_wrong(network):
    with pytest.raises(ValueError, match="subclasses of BaseTorchRegressor"):
        check_network_estimator(CompositionFractionTransformer())

    class Unregistered(FormationEnthalpyRegressor):
        pass

    with pytest.raises(ValueError, match="register it with"):
        check_network_estimator(Unregistered(hidden_layer_sizes=(4,), max_epochs=1, device="cpu"))
    with pytest.raises(ValueError, match="cli_network='nonesuch': hform train knows no such network"):
        check_network_estimator(network(**FAST), cli_network="nonesuch")


def test_check_network_estimator_trains_the_network_from_the_cli(network, monkeypatch):
    # Step 5 must catch an hform train that trains another class than the network's.
    from sklearn.utils import estimator_checks

    from sklearn_hform.cli import train

    monkeypatch.setattr(estimator_checks, "check_estimator", lambda *a, **k: [])
    monkeypatch.setattr(train, "_network_class", lambda name: FormationEnthalpyRegressor)
    with pytest.raises(AssertionError, match=r"hform train --network conv1d saved \['FormationEnthalpyRegressor'"):
        check_network_estimator(network(**{**FAST, "max_epochs": 1}))


def test_check_network_estimator_catches_a_vmap_claim_the_stacked_path_does_not_take(network, monkeypatch):
    # A validation split keeps the stacked path closed, whatever the module
    # declares: the check must say the ensemble was not stacked.
    from sklearn.utils import estimator_checks

    monkeypatch.setattr(estimator_checks, "check_estimator", lambda *a, **k: [])
    with pytest.raises(AssertionError, match="not trained as one stacked model, but its module declares vmap_safe"):
        check_network_estimator(network(**{**FAST, "max_epochs": 1, "validation_fraction": 0.2}))


def test_an_unknown_class_is_still_refused_after_the_entry_points(installed):
    with pytest.raises(ValueError, match="unknown estimator class 'NoSuchRegressor'") as raised:
        _registry.resolve_class("NoSuchRegressor")
    # The broken package is named, with why it failed.
    assert "broken (hform_no_such_module:Net): ModuleNotFoundError" in str(raised.value)
    with pytest.raises(ValueError, match="no network 'nonesuch'"):
        load_network_entry_point("nonesuch")


def test_the_cli_name_of_a_network_is_found_among_builtins_and_entry_points(installed, network):
    from sklearn_hform import CompositionTransformerRegressor
    from sklearn_hform.estimator_checks._network_checks import _cli_network_name

    assert _cli_network_name(FormationEnthalpyRegressor) == "mlp"
    assert _cli_network_name(CompositionTransformerRegressor) == "transformer"
    assert _cli_network_name(network) == "conv1d"

    class NotOffered(FormationEnthalpyRegressor):
        pass

    assert _cli_network_name(NotOffered) is None
