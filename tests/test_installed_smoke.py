"""Smoke tests of an installed sklearn-hform, seen from the outside.

They run in the normal suite and, copied alone into a scratch directory, in
the fresh virtual environment where ``.ci/check_wheel.sh`` installs the
wheel. So this file uses no fixture of ``tests/conftest.py``, nothing from
``docs/code`` and no file of the source tree: only what the wheel carries.
Each test takes a few seconds at most.
"""

import importlib.metadata
import math
import re
import shutil
import subprocess
import sys
from importlib import resources
from pathlib import Path

import numpy as np
import pytest

FORMULAS = ["NaCl", "Fe2O3"]


def test_import_and_version():
    import sklearn_hform

    # The version the code reports is the one the installed metadata carries,
    # i.e. the wheel was built from this code.
    assert re.fullmatch(r"\d+\.\d+(\.\d+)?\S*", sklearn_hform.__version__)
    assert importlib.metadata.version("sklearn-hform") == sklearn_hform.__version__
    for name in sklearn_hform.__all__:
        assert getattr(sklearn_hform, name) is not None


def test_bundled_data_and_licences():
    from sklearn_hform.datasets import load_oqmd_hform

    X, y = load_oqmd_hform(split="test", return_X_y=True, as_frame=False)
    assert X.shape == y.shape == (51251,)
    assert np.isfinite(y).all()
    bunch = load_oqmd_hform(split="val")
    assert "CC-BY" in bunch.DESCR or "CC BY" in bunch.DESCR
    # The data licence ships next to the data, the code licence in the metadata.
    data_licence = resources.files("sklearn_hform.datasets") / "data" / "LICENSE.txt"
    assert "CC" in data_licence.read_text(encoding="utf-8")
    dist = importlib.metadata.distribution("sklearn-hform")
    assert dist.metadata["License-Expression"] == "BSD-3-Clause"
    assert dist.metadata.get_all("License-File") == ["LICENSE"]
    # Look the file up in the distribution's file list, not at a fixed path:
    # from the source tree ``python -m pytest`` finds the egg-info there first.
    licences = [f for f in dist.files or () if f.name == "LICENSE"]
    assert licences and "BSD" in licences[0].read_text(encoding="utf-8"), "LICENSE not installed"


def test_pretrained_models_installed():
    from sklearn_hform.pretrained import PRETRAINED_NAMES, available_pretrained

    assert available_pretrained() == list(PRETRAINED_NAMES) == ["paper", "best", "expt"]


@pytest.mark.parametrize("name", ["paper", "best", "expt"])
def test_load_pretrained_predicts(name):
    from sklearn_hform import load_pretrained

    pred = load_pretrained(name).predict(FORMULAS)
    assert pred.shape == (2,)
    assert np.isfinite(pred).all()
    # Both compounds are strongly stable (about -1.9 and -1.7 eV/atom); wrong or
    # zeroed weights would not land in this range.
    assert ((pred > -4) & (pred < -0.5)).all(), pred


def test_best_predicts_std():
    from sklearn_hform import load_pretrained

    mean, std = load_pretrained("best").predict(FORMULAS, return_std=True)
    assert np.isfinite(mean).all() and np.isfinite(std).all()
    assert (std > 0).all()


def _check_predict_output(result):
    assert result.returncode == 0, result.stderr
    line = next(line for line in result.stdout.splitlines() if line.split()[:1] == ["NaCl"])
    assert math.isfinite(float(line.split()[-1])), result.stdout


def test_cli_module(tmp_path):
    # cwd outside the source tree: ``python -m`` puts the cwd on sys.path.
    result = subprocess.run(
        [sys.executable, "-m", "sklearn_hform.cli", "predict", "NaCl"],
        capture_output=True, text=True, cwd=tmp_path, timeout=120,
    )
    _check_predict_output(result)


@pytest.mark.skipif(shutil.which("hform", path=str(Path(sys.executable).parent)) is None,
                    reason="console script not installed next to this python")
def test_cli_entry_point(tmp_path):
    script = shutil.which("hform", path=str(Path(sys.executable).parent))
    version = subprocess.run([script, "--version"], capture_output=True, text=True, cwd=tmp_path, timeout=60)
    assert version.returncode == 0 and version.stdout.strip(), version.stderr
    result = subprocess.run([script, "predict", "NaCl"], capture_output=True, text=True, cwd=tmp_path, timeout=120)
    _check_predict_output(result)


def test_small_fit_save_load(tmp_path):
    from sklearn.pipeline import make_pipeline

    from sklearn_hform import CompositionFractionTransformer, FormationEnthalpyRegressor, load_model, save_model
    from sklearn_hform.datasets import load_oqmd_hform

    X, y = load_oqmd_hform(split="train", return_X_y=True)
    X, y = X[:200], y[:200]
    model = make_pipeline(
        CompositionFractionTransformer(),
        FormationEnthalpyRegressor(max_epochs=2, batch_size=64, device="cpu", random_state=0),
    ).fit(X, y)
    pred = model.predict(X[:20])
    assert pred.shape == (20,) and np.isfinite(pred).all()
    # The package's own format (JSON + safetensors) round-trips.
    save_model(model, tmp_path / "model")
    np.testing.assert_allclose(load_model(tmp_path / "model").predict(X[:20]), pred, rtol=1e-5, atol=1e-6)
