"""The base class's promises: validation, seeding, sample weights, warm starts, lazy imports."""

import ast
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from joblib import Parallel, delayed
from sklearn.pipeline import make_pipeline

from sklearn_hform import CompositionFractionTransformer, DeepEnsembleRegressor, FormationEnthalpyRegressor
from sklearn_hform.neural_network import BaseTorchRegressor

# Compares fits and predictions that rounding could move: run at 1 thread too.
pytestmark = pytest.mark.numerics

PACKAGE = Path(__file__).resolve().parents[1] / "sklearn_hform"
FAST = dict(max_epochs=3, batch_size=64, device="cpu", random_state=0)


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = rng.random((600, 6))
    return X, X @ np.linspace(-1, 1, 6)


def test_base_is_abstract():
    with pytest.raises(TypeError):
        BaseTorchRegressor()


@pytest.mark.parametrize("device", ["gpu", "tpu", "", "cuda:", "cuda:x", "CPU", "cuda0"])
def test_bad_device_is_rejected_before_any_work(device, data, monkeypatch):
    X, y = data
    est = FormationEnthalpyRegressor(max_epochs=1, device=device)
    monkeypatch.setattr(est, "_train", lambda *a: pytest.fail("training started"))
    with pytest.raises(ValueError, match=r'"auto", "cpu", "cuda", "cuda:N", "mps"') as info:
        est.fit(X, y)
    assert repr(device) in str(info.value)


@pytest.mark.parametrize("device", ["auto", "cpu", "cuda", "cuda:0", "cuda:12", "mps"])
def test_valid_device_spellings(device):
    from sklearn_hform.neural_network import check_device

    assert check_device(device) == device


@pytest.mark.parametrize("dropout", [0.0, 0.2])
def test_seeded_fits_in_threads_are_reproducible(data, dropout):
    X, y = data
    est = FormationEnthalpyRegressor(dropout=dropout, hidden_layer_sizes=(32, 16), **FAST)
    serial = est.fit(X, y).predict(X)
    fits = Parallel(n_jobs=4, backend="threading")(
        delayed(lambda: FormationEnthalpyRegressor(**est.get_params()).fit(X, y).predict(X))() for _ in range(4)
    )
    for pred in fits:
        np.testing.assert_array_equal(pred, serial)


@pytest.mark.parametrize("Estimator", [FormationEnthalpyRegressor, DeepEnsembleRegressor])
@pytest.mark.parametrize("bad", [None, np.nan, np.inf, "x"])
def test_missing_or_non_finite_targets_are_rejected(Estimator, bad, data):
    X, y = data
    y = list(y[:50])
    y[7] = bad
    est = Estimator(**FAST) if Estimator is FormationEnthalpyRegressor else Estimator(
        FormationEnthalpyRegressor(**FAST), n_estimators=2)
    with pytest.raises(ValueError, match="row 7|could not convert|infinity|NaN"):
        est.fit(X[:50], y)


def test_none_target_error_names_the_row(data):
    X, y = data
    y = list(y[:20])
    y[4] = None
    with pytest.raises(ValueError, match=r"row 4 \(nan\)"):
        FormationEnthalpyRegressor(**FAST).fit(X[:20], y)


def test_zero_weight_rows_do_not_move_the_fit(data):
    X, y = data
    noise = np.random.default_rng(1).normal(size=len(y)) * 10
    X2, y2 = np.vstack([X, X[:200] + 1]), np.concatenate([y, noise[:200]])
    w = np.r_[np.ones(len(y)), np.zeros(200)]
    plain = FormationEnthalpyRegressor(**FAST).fit(X, y).predict(X)
    weighted = FormationEnthalpyRegressor(**FAST).fit(X2, y2, sample_weight=w).predict(X)
    np.testing.assert_array_equal(weighted, plain)


def test_weights_change_the_fit_and_reach_through_pipelines(data):
    X, y = data
    w = np.where(np.arange(len(y)) % 2, 5.0, 0.5)
    a = FormationEnthalpyRegressor(**FAST).fit(X, y).predict(X)
    b = FormationEnthalpyRegressor(**FAST).fit(X, y, sample_weight=w).predict(X)
    assert not np.array_equal(a, b)
    with pytest.raises(ValueError, match="row 3"):
        FormationEnthalpyRegressor(**FAST).fit(X, y, sample_weight=np.where(np.arange(len(y)) == 3, -1.0, 1.0))
    with pytest.raises(ValueError, match="sums to zero"):
        FormationEnthalpyRegressor(**FAST).fit(X, y, sample_weight=np.zeros(len(y)))


def test_sample_weight_with_metadata_routing():
    import sklearn
    from sklearn.model_selection import cross_validate

    from sklearn_hform.datasets import load_oqmd_hform

    X, y = load_oqmd_hform(split="train", return_X_y=True)
    X, y = X[:600], y[:600]
    w = np.linspace(0.1, 2, len(y))
    with sklearn.config_context(enable_metadata_routing=True):
        pipe = make_pipeline(
            CompositionFractionTransformer(),
            FormationEnthalpyRegressor(**FAST).set_fit_request(sample_weight=True),
        )
        routed = pipe.fit(X, y, sample_weight=w).predict(X[:20])
        scores = cross_validate(pipe, X, y, cv=2, params={"sample_weight": w})
    direct = FormationEnthalpyRegressor(**FAST).fit(pipe[0].transform(X), y, sample_weight=w)
    np.testing.assert_array_equal(routed, direct.predict(pipe[0].transform(X[:20])))
    assert len(scores["test_score"]) == 2


def test_warm_start_continues_from_the_fitted_network(data):
    X, y = data
    est = FormationEnthalpyRegressor(**{**FAST, "max_epochs": 5}).fit(X, y)
    start = est.predict(X)
    est.set_params(warm_start=True, max_epochs=1, lr=1e-7)
    # A tiny learning rate barely moves a continued network ...
    assert np.abs(est.fit(X, y).predict(X) - start).max() < 1e-3
    # ... while a cold start with the same settings is an untrained network.
    cold = FormationEnthalpyRegressor(**{**FAST, "max_epochs": 1, "lr": 1e-6}).fit(X, y)
    assert np.abs(cold.predict(X) - start).max() > 1e-2
    with pytest.raises(ValueError, match="warm_start"):
        est.fit(X[:, :4], y)


def test_layers_that_draw_from_the_fit_generator_are_found_by_their_declaration():
    import torch
    from torch import nn

    from sklearn_hform._training import fit_generator_layers, use_generator
    from sklearn_hform.neural_network import FractionMLP, GeneratorDropout

    class Noise(nn.Module):
        # A layer of a user's own: the class attribute is all the trainer looks at.
        uses_fit_generator = True
        generator = None

    module = nn.Sequential(FractionMLP(4, (8, 4), dropout=0.5), Noise(), nn.Dropout(0.5))
    layers = fit_generator_layers(module)
    kinds = [type(layer) for layer in layers]
    # torch's own Dropout draws from the global generator: not one of them.
    assert GeneratorDropout in kinds and kinds[-1] is Noise and nn.Dropout not in kinds
    generator = torch.Generator()
    with use_generator(module, generator):
        assert all(layer.generator is generator for layer in layers)
    assert all(layer.generator is None for layer in layers)


def test_import_loads_neither_torch_nor_skorch():
    code = (
        "import sys, sklearn_hform\n"
        "from sklearn_hform import FormationEnthalpyRegressor, CompositionFractionTransformer\n"
        "from sklearn_hform.persistence import save_model\n"
        "import sklearn_hform.pretrained, sklearn_hform.ensemble, sklearn_hform.neural_network\n"
        "import sklearn_hform.composition, sklearn_hform.stability, sklearn_hform.model_selection\n"
        "import sklearn_hform.utils, sklearn_hform.datasets, sklearn_hform._training, sklearn_hform.prediction\n"
        "from sklearn_hform.neural_network import BaseTorchRegressor, check_device, resolve_device\n"
        "import warnings; warnings.simplefilter('ignore', FutureWarning); import sklearn_hform.hull, sklearn_hform.base\n"
        "print(sorted(m for m in ('torch', 'skorch') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def _private_imports():
    """(module, name) for every private name imported from another module of the package."""
    found = []
    for path in PACKAGE.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.level or (node.module or "").startswith("sklearn_hform")):
                for alias in node.names:
                    if alias.name.startswith("_") and not alias.name.startswith("__"):
                        found.append((str(path.relative_to(PACKAGE)), alias.name))
    return found


def test_no_private_name_imported_across_modules():
    assert _private_imports() == []


def test_no_module_over_400_lines():
    long = {str(p.relative_to(PACKAGE)): n for p in PACKAGE.rglob("*.py")
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > 400}
    assert long == {}
