import hashlib
import io
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from sklearn.exceptions import NotFittedError
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_hform import (
    CompositionFractionTransformer,
    DeepEnsembleRegressor,
    FormationEnthalpyRegressor,
    UnseenElementWarning,
    load_pretrained,
)
from sklearn_hform.pretrained import (
    FORMAT_VERSION,
    PRETRAINED_NAMES,
    _persist,
    available_pretrained,
    load_metadata,
    load_pipeline,
    save_pipeline,
)

REPO = Path(__file__).resolve().parents[1]
MEMBER = dict(max_epochs=2, batch_size=256, device="cpu", random_state=0)


@pytest.fixture(scope="module")
def fitted(oqmd_small):
    """A single network and a two-member ensemble, both behind the transformer."""
    X, y, Xte, _ = oqmd_small
    single = make_pipeline(
        CompositionFractionTransformer(), FormationEnthalpyRegressor(**MEMBER, hidden_layer_sizes=(16, 8), dropout=0.1)
    ).fit(X[:1500], y[:1500])
    ensemble = make_pipeline(
        CompositionFractionTransformer(),
        DeepEnsembleRegressor(FormationEnthalpyRegressor(**MEMBER), n_estimators=2, random_state=3),
    ).fit(X[:1500], y[:1500])
    return single, ensemble, Xte[:300]


def test_round_trip_single_network(fitted, tmp_path):
    single, _, Xte = fitted
    save_pipeline(single, tmp_path, metadata={"seed": 0, "test_mae": 0.5, "layers": (16, 8)})
    loaded = load_pipeline(tmp_path)
    np.testing.assert_array_equal(loaded.predict(Xte), single.predict(Xte))
    t, r = loaded[0], loaded[-1]
    np.testing.assert_array_equal(t.elements_, single[0].elements_)
    np.testing.assert_array_equal(t.elements_seen_, single[0].elements_seen_)
    assert [name for name, _ in loaded.steps] == [name for name, _ in single.steps]
    assert r.get_params() == {**single[-1].get_params(), "device": "cpu"}
    assert r.hidden_layer_sizes == (16, 8)  # a tuple again, not the JSON list
    assert (r.n_iter_, r.n_features_in_, r.device_) == (2, 94, "cpu")
    assert not r.net_.module_.training  # dropout is off when predicting
    assert load_metadata(tmp_path) == {"seed": 0, "test_mae": 0.5, "layers": [16, 8]}


def test_round_trip_ensemble_with_std(fitted, tmp_path):
    _, ensemble, Xte = fitted
    save_pipeline(ensemble, tmp_path)
    loaded = load_pipeline(tmp_path)
    for a, b in zip(loaded.predict(Xte, return_std=True), ensemble.predict(Xte, return_std=True)):
        np.testing.assert_array_equal(a, b)
    members = loaded[-1].estimators_
    assert [m.random_state for m in members] == [m.random_state for m in ensemble[-1].estimators_]
    assert loaded[-1].n_estimators == 2 and loaded[-1].random_state == 3
    unseen = next(e for e in ["He", "Ne", "Ar", "Kr"] if e not in loaded[0].elements_seen_)
    with pytest.warns(UnseenElementWarning):
        loaded.predict([f"{unseen}F2"])


def test_files_are_json_and_plain_tensors(fitted, tmp_path):
    _, ensemble, _ = fitted
    save_pipeline(ensemble, tmp_path)
    record = json.loads((tmp_path / "model.json").read_text())
    assert record["format_version"] == FORMAT_VERSION
    assert record["regressor"]["class"] == "DeepEnsembleRegressor"
    assert [m["n_features_in_"] for m in record["members"]] == [94, 94]
    tensors = torch.load(tmp_path / "model.pt", weights_only=True)
    assert all(isinstance(v, torch.Tensor) for v in tensors.values())
    assert {k.split(".")[0] for k in tensors} == {"0", "1"}


def test_loading_leaves_torch_random_state_alone(fitted, tmp_path):
    single, _, _ = fitted
    save_pipeline(single, tmp_path)
    torch.manual_seed(5)
    expected = torch.rand(3)
    torch.manual_seed(5)
    load_pipeline(tmp_path)
    assert torch.equal(torch.rand(3), expected)


class _Exploit:
    """Unpickling this creates a file: what a hostile model file could do."""

    def __reduce__(self):
        return (open, (_Exploit.target, "w"))


def test_weights_file_cannot_run_code(fitted, tmp_path):
    single, _, _ = fitted
    save_pipeline(single, tmp_path)
    _Exploit.target = str(tmp_path / "pwned")
    buffer = io.BytesIO()
    torch.save({"0.x": _Exploit()}, buffer)
    evil = buffer.getvalue()
    (tmp_path / "model.pt").write_bytes(evil)
    with pytest.raises(ValueError, match="checksum"):
        load_pipeline(tmp_path)
    # Even with a matching checksum, torch's weights-only loader refuses it.
    record = json.loads((tmp_path / "model.json").read_text())
    record["weights_sha256"] = hashlib.sha256(evil).hexdigest()
    (tmp_path / "model.json").write_text(json.dumps(record))
    with pytest.raises(ValueError, match="plain tensors"):
        load_pipeline(tmp_path)
    assert not (tmp_path / "pwned").exists()


@pytest.mark.parametrize(
    "edit, match",
    [
        (lambda r: r.update(format_version=FORMAT_VERSION + 1), "newer"),
        (lambda r: r.update(format="something-else"), "not a sklearn-hform model"),
        (lambda r: r["members"][0]["params"].update(evil=1), "unknown parameter"),
        (lambda r: r["regressor"].update({"class": "os.system"}), "unknown regressor class"),
        (lambda r: r["members"][0]["params"].update(hidden_layer_sizes=[3]), "do not fit"),
        (lambda r: r.pop("transformer"), "malformed"),
    ],
)
def test_bad_model_json_is_rejected(fitted, tmp_path, edit, match):
    single, _, _ = fitted
    save_pipeline(single, tmp_path)
    record = json.loads((tmp_path / "model.json").read_text())
    edit(record)
    (tmp_path / "model.json").write_text(json.dumps(record))
    with pytest.raises(ValueError, match=match):
        load_pipeline(tmp_path)


def test_save_rejects_what_it_cannot_represent(fitted, tmp_path):
    single, _, _ = fitted
    with pytest.raises(NotFittedError):
        save_pipeline(make_pipeline(CompositionFractionTransformer(), FormationEnthalpyRegressor()), tmp_path)
    with pytest.raises(TypeError, match="FormationEnthalpyRegressor"):
        save_pipeline(make_pipeline(CompositionFractionTransformer(), StandardScaler()), tmp_path)
    with pytest.raises(TypeError, match="JSON"):
        save_pipeline(single, tmp_path, metadata={"when": object()})
    with pytest.raises(FileNotFoundError, match="model.json"):
        load_pipeline(tmp_path / "nowhere")


def test_training_only_params_are_dropped(oqmd_small, tmp_path):
    from skorch.callbacks import PrintLog

    X, y, _, _ = oqmd_small
    est = FormationEnthalpyRegressor(max_epochs=1, device="cpu", random_state=np.random.RandomState(0),
                                     callbacks=[("log", PrintLog())])
    pipe = make_pipeline(CompositionFractionTransformer(), est).fit(X[:300], y[:300])
    save_pipeline(pipe, tmp_path)
    loaded = load_pipeline(tmp_path)
    assert loaded[-1].callbacks is None and loaded[-1].random_state is None
    np.testing.assert_array_equal(loaded.predict(X[:50]), pipe.predict(X[:50]))


def test_load_pretrained_names_and_missing_models(fitted, tmp_path, monkeypatch):
    single, _, Xte = fitted
    assert PRETRAINED_NAMES == ("paper", "best")
    with pytest.raises(ValueError, match="unknown pretrained model 'nope'.*'paper'.*'best'"):
        load_pretrained("nope")
    monkeypatch.setattr(_persist, "_pretrained_root", lambda: tmp_path)
    assert available_pretrained() == []
    with pytest.raises(FileNotFoundError, match="'best' is not installed.*'paper' \\(not installed\\)"):
        load_pretrained("best")
    save_pipeline(single, tmp_path / "paper", metadata={"test_mae": 0.07})
    assert available_pretrained() == ["paper"]
    np.testing.assert_array_equal(load_pretrained("paper").predict(Xte), single.predict(Xte))
    assert _persist.load_pretrained_metadata("paper") == {"test_mae": 0.07}


def test_train_script_smoke_run(tmp_path):
    out = tmp_path / "best"
    result = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "train_pretrained.py"), "best", "--ensemble", "2",
         "--epochs", "2", "--hidden", "32,16", "--max-rows", "2000", "--device", "cpu", "--out", str(out)],
        capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("  fit (32, 16) on 2,000 rows") == 2 and "Test MAE" in result.stdout
    meta = load_metadata(out)
    assert meta["train_rows"] == 2000 and meta["smoke_run"] and meta["seed"] == 0
    assert meta["test_rows"] == 51255 and meta["test_rows_without_outliers"] < 51255
    assert 0 < meta["test_mae_without_outliers"] <= meta["test_mae"]
    assert {"platform", "cpu_count", "device", "device_name"} <= set(meta["hardware"])
    assert "--max-rows 2000" in meta["command"] and meta["wall_seconds"] > 0
    model = load_pipeline(out)
    assert model[-1].n_estimators == 2 and model[-1].estimators_[0].hidden_layer_sizes == (32, 16)
    assert model[-1].estimators_[0].callbacks is None  # the progress printer is not saved

    bad = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "train_pretrained.py"), "paper", "--ensemble", "3"],
        capture_output=True, text=True, timeout=300,
    )
    assert bad.returncode == 2 and "only apply to 'best'" in bad.stderr


def test_mixed_precision_weights_stored_in_bfloat16_without_changing_predictions(oqmd_small, tmp_path):
    X, y, Xte, _ = oqmd_small
    pipe = make_pipeline(
        CompositionFractionTransformer(), FormationEnthalpyRegressor(**MEMBER, mixed_precision=True)
    ).fit(X[:1500], y[:1500])
    save_pipeline(pipe, tmp_path)
    stored = torch.load(tmp_path / "model.pt", weights_only=True)
    assert stored["0.hidden.0.weight"].dtype == torch.bfloat16
    assert stored["0.output.weight"].dtype == torch.float32
    np.testing.assert_array_equal(load_pipeline(tmp_path).predict(Xte[:300]), pipe.predict(Xte[:300]))
