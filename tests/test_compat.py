"""What 0.2's new layout keeps from before: model folders, pickles, and the old module paths for one release.

``tests/data/model_format_2`` was written by the code before the layout
changed (commit d1382f7, see its ``make_fixture.py``): two model folders, a
pickle of the same two fitted pipelines, and their predictions on 50 test
formulas.
"""

import importlib
import json
import pickle
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch

from sklearn_hform import (
    CompositionFractionTransformer,
    CompositionTransformerRegressor,
    DeepEnsembleRegressor,
    FormationEnthalpyRegressor,
    load_pretrained,
)
from sklearn_hform.persistence import load_model, registered_estimators, save_model
from sklearn_hform.utils import cpu_name

FIXTURE = Path(__file__).resolve().parent / "data" / "model_format_2"
RECORDED = json.loads((FIXTURE / "predictions.json").read_text(encoding="utf-8"))

# Every name the 0.1 modules exported (their __all__ at d1382f7), by the
# public module it is imported from now: "old: new" where it was renamed.
OLD_PATHS = {
    "atom_fractions": {"composition": "MAX_FORMULA_LENGTH as_formula_array fraction_matrix"},
    "attention": {"neural_network": "ElementAttentionNet"},
    "attention_regressor": {"neural_network": "CompositionTransformerRegressor ELEMENT_EMBEDDINGS"},
    "base": {"neural_network": "BaseTorchRegressor LOSSES LR_SCHEDULES OPTIMIZERS PREDICT_PRECISIONS "
                               "TRAINING_PARAMETERS"},
    "batching": {"_training": "PREDICT_CHUNK ShuffleSplitTensors TensorBatches TensorData predict_in_chunks"},
    "calibration": {"ensemble": "ERROR_MODELS apply_calibration cross_fitted_coverage error_features "
                                "fit_calibration interval_half_width"},
    "callbacks": {"neural_network": "EpochProgress HeldOutMAE"},
    "devices": {"_training": "DEVICE_FORMS cuda_visible", "neural_network": "check_device resolve_device"},
    "element_data": {"composition": "magpie_properties"},
    "evaluation": {"model_selection": "error_summary plot_parity_and_cdf test_split_errors"},
    "featurizer": {"composition": "ElementFractionFeaturizer CHUNK_SIZE:FEATURIZE_MANY_CHUNK_SIZE"},
    "finetune": {"neural_network": "fine_tune"},
    "formula": {"composition": "ATOMIC_NUMBER DEFAULT_ELEMENTS MAX_DEPTH PLAIN_FORMULA SYMBOLS FormulaError "
                               "parse_formula parse_or_reason tokenize_plain"},
    "graphs": {"_training": "CudaGraphStep graphs_possible"},
    "hull": {"stability": "MAX_GRID check_step composition_grid parse_chemical_system plot_hull screen_grid"},
    "legacy": {"persistence._legacy": "is_legacy_model read_legacy_metadata read_legacy_model"},
    "mlp": {"neural_network": "FractionMLP"},
    "module_state": {"persistence": "ModuleStateMixin"},
    "net": {"_training": "LOSS_CLASSES OPTIMIZER_CLASSES TensorNet make_net"},
    "paper": {"utils": "CITATION CITATION_BIBTEX ELEMNET_BIBTEX PAPER_ERRORS PAPER_ROWS PUBLISHED_TEST_MAE "
                       "TABLE_1_LAYERS"},
    "records": {"utils": "cpu_name git_commit hardware run_record"},
    "regressor": {"neural_network": "FormationEnthalpyRegressor"},
    "schedules": {"_training": "WarmupCosine"},
    "screening": {"stability": "MAX_CANDIDATES MAX_ELEMENTS candidate_formulas known_phases screen"},
    "screening_many": {"stability": "chemical_systems screen_many"},
    "screening_plot": {"stability": "plot_screen"},
    "seeding": {"neural_network": "GeneratorDropout", "_training": "initialize_parameters use_generator"},
    "stacking": {"_training": "StackedBatches StackedData StackedModule StackedNet",
                 "neural_network": "can_stack fit_stacked"},
    "transformer": {"composition": "CompositionFractionTransformer UnseenElementWarning"},
    "validation": {"utils": "check_finite_target check_hidden_layer_sizes check_sample_weight normalized_weights"},
}


def fresh_import(name, monkeypatch):
    """Import ``name`` as if for the first time in this process (the warning comes once per import)."""
    monkeypatch.delitem(sys.modules, name, raising=False)
    return importlib.import_module(name)


def same_machine():
    # Bit-for-bit equal float32 predictions need the kernels that made them:
    # the same processor model and thread count.
    return cpu_name() == RECORDED["processor"] and torch.get_num_threads() == RECORDED["torch_threads"]


def assert_predictions_equal(actual, recorded, exact=True):
    if exact and same_machine():
        np.testing.assert_array_equal(actual, recorded)
    else:
        # Elsewhere float32 kernels sum in another order: ~1e-6 eV/atom (see test_pretrained_models).
        np.testing.assert_allclose(actual, recorded, rtol=0, atol=1e-5)


@pytest.fixture(scope="module")
def folders():
    return load_model(FIXTURE / "ensemble"), load_model(FIXTURE / "attention")


@pytest.fixture(scope="module")
def pickled():
    with warnings.catch_warnings():
        # The pickle names the 0.1 modules; their FutureWarnings are tested below.
        warnings.simplefilter("ignore", FutureWarning)
        with open(FIXTURE / "pickled.pkl", "rb") as f:
            return pickle.load(f)


def test_folders_written_before_the_layout_load_as_the_new_classes(folders):
    ensemble, attention = folders
    assert type(ensemble[0]) is CompositionFractionTransformer
    assert type(ensemble[-1]) is DeepEnsembleRegressor
    assert all(type(m) is FormationEnthalpyRegressor for m in ensemble[-1].estimators_)
    assert type(attention[-1]) is CompositionTransformerRegressor


def test_folders_written_before_the_layout_predict_as_then(folders):
    ensemble, attention = folders
    mean, std = ensemble.predict(RECORDED["formulas"], return_std=True)
    assert_predictions_equal(mean, RECORDED["ensemble"])
    assert_predictions_equal(std, RECORDED["ensemble_std"])
    # Since 0.2 the transformer predicts each element count as its own group,
    # without the padding tokens it used to mask: they weighed exactly zero, so
    # only the rounding of the shorter sums moves (~1e-7), not the function.
    assert_predictions_equal(attention.predict(RECORDED["formulas"]), RECORDED["attention"], exact=False)


@pytest.mark.parametrize("name", ["ensemble", "attention"])
def test_loaded_state_is_the_saved_state(name, folders, tmp_path):
    # Saved again by this code, a loaded model is the same model record with the same tensors.
    from safetensors.torch import load_file

    model = dict(zip(["ensemble", "attention"], folders))[name]
    save_model(model, tmp_path)
    old = json.loads((FIXTURE / name / "model.json").read_text(encoding="utf-8"))
    new = json.loads((tmp_path / "model.json").read_text(encoding="utf-8"))
    assert new["model"] == old["model"] and new["format_version"] == old["format_version"]
    old_tensors = load_file(FIXTURE / name / "model.safetensors")
    new_tensors = load_file(tmp_path / "model.safetensors")
    assert old_tensors.keys() == new_tensors.keys()
    for key, tensor in old_tensors.items():
        assert torch.equal(new_tensors[key], tensor), key


def test_pickles_naming_the_old_modules_load_and_predict_as_the_folders(pickled, folders):
    ensemble, attention = folders
    assert type(pickled["ensemble"][-1]) is DeepEnsembleRegressor
    assert type(pickled["attention"][-1]) is CompositionTransformerRegressor
    # Both predicted here and now: equal to the bit on any machine.
    for a, b in zip(pickled["ensemble"].predict(RECORDED["formulas"], return_std=True),
                    ensemble.predict(RECORDED["formulas"], return_std=True)):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(pickled["attention"].predict(RECORDED["formulas"]),
                                  attention.predict(RECORDED["formulas"]))


def test_unpickling_an_old_path_says_where_it_moved(monkeypatch):
    monkeypatch.delitem(sys.modules, "sklearn_hform.regressor", raising=False)
    with pytest.warns(FutureWarning, match=r"sklearn_hform\.regressor is deprecated .*sklearn_hform\.neural_network"):
        loaded = pickle.loads(b"csklearn_hform.regressor\nFormationEnthalpyRegressor\n.")
    assert loaded is FormationEnthalpyRegressor


@pytest.mark.parametrize("old", sorted(OLD_PATHS))
def test_old_module_path_warns_and_gives_the_new_objects(old, monkeypatch):
    with pytest.warns(FutureWarning, match=rf"^sklearn_hform\.{old} is deprecated and will be removed in 0\.3; "):
        module = fresh_import(f"sklearn_hform.{old}", monkeypatch)
    expected = {}
    for new, names in OLD_PATHS[old].items():
        home = importlib.import_module(f"sklearn_hform.{new}")
        for entry in names.split():
            name, _, renamed = entry.partition(":")
            expected[name] = getattr(home, renamed or name)
    with warnings.catch_warnings():
        warnings.simplefilter("error", FutureWarning)  # reading the names warns no more
        for name, obj in expected.items():
            assert getattr(module, name) is obj, f"sklearn_hform.{old}.{name}"
    with pytest.raises(AttributeError):
        module.no_such_name  # noqa: B018
    assert not hasattr(module, "__path__")


@pytest.mark.parametrize("old", sorted(OLD_PATHS))
def test_old_module_warning_names_the_new_path(old, monkeypatch):
    with pytest.warns(FutureWarning) as record:
        fresh_import(f"sklearn_hform.{old}", monkeypatch)
    message = str(record[0].message)
    for new in OLD_PATHS[old]:
        assert f"sklearn_hform.{new}" in message
    # The warning blames the caller of import_module, not the import machinery.
    assert record[0].filename == __file__


def test_from_old_path_import_name_warns_at_the_importing_line(monkeypatch):
    monkeypatch.delitem(sys.modules, "sklearn_hform.hull", raising=False)
    with pytest.warns(FutureWarning, match="import from sklearn_hform.stability instead") as record:
        from sklearn_hform.hull import screen_grid  # noqa: PLC0415
    from sklearn_hform.stability import screen_grid as new

    assert screen_grid is new
    assert record[0].filename == __file__


def test_star_import_of_an_old_path_gives_its_names(monkeypatch):
    monkeypatch.delitem(sys.modules, "sklearn_hform.screening", raising=False)
    namespace = {}
    with pytest.warns(FutureWarning):
        exec("from sklearn_hform.screening import *", namespace)
    from sklearn_hform.stability import screen

    assert namespace["screen"] is screen


def test_renamed_prediction_chunk_size_still_reads(monkeypatch):
    from sklearn_hform import prediction

    with pytest.warns(FutureWarning, match="PREDICT_FORMULAS_CHUNK_SIZE"):
        assert prediction.CHUNK_SIZE == prediction.PREDICT_FORMULAS_CHUNK_SIZE == 8192


def test_names_of_the_package_import_as_before():
    import sklearn_hform

    before = ["BaseTorchRegressor", "CompositionFractionTransformer", "CompositionTransformerRegressor",
              "DeepEnsembleRegressor", "FormationEnthalpyRegressor", "FormulaError", "UnseenElementWarning",
              "__version__", "load_model", "load_pretrained", "save_model"]
    assert set(before) <= set(sklearn_hform.__all__)
    for name in before:
        assert getattr(sklearn_hform, name) is not None
    assert sklearn_hform.model_selection.cross_validate is not None


def test_registered_names_resolve_to_the_public_classes():
    from sklearn_hform.persistence._registry import resolve_class

    expected = {"CompositionFractionTransformer": CompositionFractionTransformer,
                "CompositionTransformerRegressor": CompositionTransformerRegressor,
                "DeepEnsembleRegressor": DeepEnsembleRegressor,
                "FormationEnthalpyRegressor": FormationEnthalpyRegressor}
    assert set(expected) <= set(registered_estimators())
    for name, cls in expected.items():
        assert resolve_class(name) is cls


@pytest.mark.parametrize("name", ["paper", "best", "expt"])
def test_shipped_models_load_by_registered_name_as_the_new_classes(name):
    model = load_pretrained(name)
    assert type(model[0]) is CompositionFractionTransformer
    regressor = model[-1]
    networks = getattr(regressor, "estimators_", [regressor])
    assert all(type(n).__module__.startswith("sklearn_hform.neural_network.") for n in networks)
