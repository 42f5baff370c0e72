import json
import shutil
import subprocess
import sys
import warnings
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
from sklearn_hform import pretrained
from sklearn_hform.persistence import FORMAT_VERSION, load_model, load_model_metadata, save_model
from sklearn_hform.pretrained import PRETRAINED_NAMES, available_pretrained

load_pipeline, save_pipeline, load_metadata = load_model, save_model, load_model_metadata

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
    assert r.get_params() == single[-1].get_params()
    assert r.device_ == "cpu" and not hasattr(r, "net_")
    assert r.hidden_layer_sizes == (16, 8)  # a tuple again, not the JSON list
    assert (r.n_iter_, r.n_features_in_, r.device_) == (2, 94, "cpu")
    assert not r.module_.training  # dropout is off when predicting
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
    from safetensors.torch import load_file

    record = json.loads((tmp_path / "model.json").read_text())
    assert record["format_version"] == FORMAT_VERSION
    (_, transformer), (_, regressor) = record["model"]["steps"]
    assert transformer["class"] == "CompositionFractionTransformer"
    assert regressor["class"] == "DeepEnsembleRegressor"
    assert [m["state"]["n_features_in_"] for m in regressor["state"]["estimators_"]] == [94, 94]
    tensors = load_file(tmp_path / "model.safetensors")
    assert all(isinstance(v, torch.Tensor) for v in tensors.values())
    assert {k.split(".")[3] for k in tensors} == {"0", "1"}  # model.<step>.estimators_.<member>.


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


def _rewrite_sums(folder):
    import hashlib

    lines = [f"{hashlib.sha256((folder / n).read_bytes()).hexdigest()}  {n}\n" for n in ("model.json", "model.safetensors")]
    (folder / "SHA256SUMS").write_text("".join(lines))


def test_weights_file_cannot_run_code(fitted, tmp_path):
    import pickle

    single, _, _ = fitted
    save_pipeline(single, tmp_path)
    _Exploit.target = str(tmp_path / "pwned")
    (tmp_path / "model.safetensors").write_bytes(pickle.dumps({"0.x": _Exploit()}))
    with pytest.raises(ValueError, match="model.safetensors does not match its checksum"):
        load_pipeline(tmp_path)
    # Even with matching checksums the safetensors reader only reads tensors.
    _rewrite_sums(tmp_path)
    with pytest.raises(ValueError, match="cannot read model.safetensors"):
        load_pipeline(tmp_path)
    assert not (tmp_path / "pwned").exists()


@pytest.mark.parametrize("swap", [("Fe", "Co"), ("mixed_precision\": false", "mixed_precision\": true")])
def test_any_edit_of_model_json_is_refused(fitted, tmp_path, swap):
    single, _, _ = fitted
    save_pipeline(single, tmp_path)
    text = (tmp_path / "model.json").read_text()
    a, b = swap
    edited = text.replace(f'"{a}', "@@").replace(f'"{b}', f'"{a}').replace("@@", f'"{b}') if a == "Fe" else text.replace(a, b)
    assert edited != text
    (tmp_path / "model.json").write_text(edited)
    with pytest.raises(ValueError, match="model.json does not match its checksum"):
        load_pipeline(tmp_path)


def test_missing_checksum_file_is_refused(fitted, tmp_path):
    single, _, _ = fitted
    save_pipeline(single, tmp_path)
    (tmp_path / "SHA256SUMS").unlink()
    with pytest.raises(FileNotFoundError, match="SHA256SUMS is missing"):
        load_pipeline(tmp_path)


@pytest.mark.parametrize(
    "edit, match",
    [
        (lambda r: r.update(format_version=FORMAT_VERSION + 1), "newer"),
        (lambda r: r.update(format="something-else"), "not a sklearn-hform model"),
        (lambda r: r["model"]["steps"][1][1]["params"].update(evil=1), "unknown parameter"),
        (lambda r: r["model"]["steps"][1][1].update({"class": "os.system"}), "unknown estimator class"),
        (lambda r: r["model"]["steps"][1][1]["params"].update(hidden_layer_sizes=[3]), "do not fit"),
        (lambda r: r["model"]["steps"][0][1].pop("state"), "malformed"),
        (lambda r: r["model"]["steps"][1][1].update(params=[]), "malformed"),
        (lambda r: r["model"].update(steps={}), "malformed"),
    ],
)
def test_bad_model_json_is_rejected(fitted, tmp_path, edit, match):
    single, _, _ = fitted
    save_pipeline(single, tmp_path)
    record = json.loads((tmp_path / "model.json").read_text())
    edit(record)
    (tmp_path / "model.json").write_text(json.dumps(record))
    _rewrite_sums(tmp_path)  # past the checksums: the reader itself must refuse
    with pytest.raises(ValueError, match=match):
        load_pipeline(tmp_path)


def test_errors_inside_restore_state_are_not_hidden(tmp_path, monkeypatch):
    transformer = CompositionFractionTransformer().fit(["NaCl", "Fe2O3"])
    save_model(transformer, tmp_path)

    def buggy(self, attributes, tensors):
        return self.no_such_attribute

    monkeypatch.setattr(CompositionFractionTransformer, "restore_state", buggy)
    with pytest.raises(AttributeError, match="no_such_attribute"):  # a bug, not a malformed file
        load_model(tmp_path)
    monkeypatch.undo()
    record = json.loads((tmp_path / "model.json").read_text())
    del record["model"]["state"]["elements_seen_"]
    (tmp_path / "model.json").write_text(json.dumps(record))
    _rewrite_sums(tmp_path)
    with pytest.raises(ValueError, match="malformed model file .KeyError: 'elements_seen_'.") as info:
        load_model(tmp_path)
    assert isinstance(info.value.__cause__, KeyError)  # the traceback of the KeyError is kept


def test_save_rejects_what_it_cannot_represent(fitted, tmp_path):
    single, _, _ = fitted
    with pytest.raises(NotFittedError):
        save_pipeline(make_pipeline(CompositionFractionTransformer(), FormationEnthalpyRegressor()), tmp_path)
    with pytest.raises(TypeError, match="StandardScaler cannot be saved: register it"):
        save_pipeline(make_pipeline(single[0], StandardScaler()), tmp_path)
    with pytest.raises(TypeError, match="JSON"):
        save_pipeline(single, tmp_path, metadata={"when": object()})
    with pytest.raises(FileNotFoundError, match="not a directory"):
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
    assert PRETRAINED_NAMES == ("paper", "best", "expt")
    with pytest.raises(ValueError, match="unknown pretrained model 'nope'.*'paper'.*'best'"):
        load_pretrained("nope")
    from importlib import resources

    monkeypatch.setattr(resources, "files", lambda package: tmp_path)
    assert available_pretrained() == []
    with pytest.raises(FileNotFoundError, match="'best' is not installed.*'paper' \\(not installed\\)"):
        load_pretrained("best")
    save_pipeline(single, tmp_path / "paper", metadata={"test_mae": 0.07})
    assert available_pretrained() == ["paper"]
    np.testing.assert_array_equal(load_pretrained("paper").predict(Xte), single.predict(Xte))
    assert pretrained.load_pretrained_metadata("paper") == {"test_mae": 0.07}


def test_train_script_smoke_run(tmp_path):
    out = tmp_path / "best"
    result = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "train_pretrained.py"), "best", "--ensemble", "2",
         "--epochs", "2", "--hidden", "32,16", "--max-rows", "2000", "--device", "cpu", "--out", str(out)],
        capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr
    # The two members train as one stacked model.
    assert result.stdout.count("  fit 2 x FractionMLP (") == 1 and "on 2,000 rows" in result.stdout
    assert "Test MAE" in result.stdout
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


def test_mixed_precision_weights_stored_in_the_precision_they_predict_with(oqmd_small, tmp_path):
    from safetensors.torch import load_file

    X, y, Xte, _ = oqmd_small
    pipe = make_pipeline(
        CompositionFractionTransformer(), FormationEnthalpyRegressor(**MEMBER, mixed_precision=True)
    ).fit(X[:1500], y[:1500])
    prefix = "model.formationenthalpyregressor."
    # Predicting in float32 (the default), the weights are kept in float32.
    save_pipeline(pipe, tmp_path / "float32")
    assert load_file(tmp_path / "float32" / "model.safetensors")[prefix + "hidden.0.weight"].dtype == torch.float32
    np.testing.assert_array_equal(load_pipeline(tmp_path / "float32").predict(Xte[:300]), pipe.predict(Xte[:300]))
    # Predicting under autocast, the hidden layers' weights are stored in
    # bfloat16, the precision they compute in: half the size, same predictions.
    pipe[-1].set_params(predict_precision="bfloat16")
    save_pipeline(pipe, tmp_path / "bfloat16")
    stored = load_file(tmp_path / "bfloat16" / "model.safetensors")
    assert stored[prefix + "hidden.0.weight"].dtype == torch.bfloat16
    assert stored[prefix + "output.weight"].dtype == torch.float32
    np.testing.assert_array_equal(load_pipeline(tmp_path / "bfloat16").predict(Xte[:300]), pipe.predict(Xte[:300]))


def test_any_pipeline_of_registered_steps_and_bare_estimators(oqmd_small, tmp_path):
    X, y, Xte, _ = oqmd_small
    t = CompositionFractionTransformer().fit(X[:1500])
    Xt, Xtt = t.transform(X[:1500]), t.transform(Xte[:200])
    bare = FormationEnthalpyRegressor(**MEMBER).fit(Xt, y[:1500])
    save_model(bare, tmp_path / "bare")
    np.testing.assert_array_equal(load_model(tmp_path / "bare").predict(Xtt), bare.predict(Xtt))
    three = make_pipeline(
        CompositionFractionTransformer(),
        make_pipeline(FormationEnthalpyRegressor(**MEMBER)),
    )
    # A Pipeline nested in a Pipeline: steps are saved recursively.
    three.fit(X[:1500], y[:1500])
    save_model(three, tmp_path / "nested")
    np.testing.assert_array_equal(load_model(tmp_path / "nested").predict(Xte[:200]), three.predict(Xte[:200]))


def test_extension_network_round_trips(oqmd_small, tmp_path):
    from residual_mlp import ResidualMLPRegressor  # docs/code, on sys.path through conftest.py

    X, y, Xte, _ = oqmd_small
    pipe = make_pipeline(
        CompositionFractionTransformer(), ResidualMLPRegressor(width=16, n_blocks=2, **MEMBER)
    ).fit(X[:1500], y[:1500])
    save_model(pipe, tmp_path)
    np.testing.assert_array_equal(load_model(tmp_path).predict(Xte[:200]), pipe.predict(Xte[:200]))


def _write_format_1(pipe, folder):
    """A model folder as sklearn-hform 0.1 wrote it (model.json + torch.save'd model.pt)."""
    import datetime
    import hashlib
    import io

    t, r = pipe[0], pipe[-1]
    members = r.estimators_ if hasattr(r, "estimators_") else [r]
    tensors, records = {}, []
    for i, m in enumerate(members):
        tensors.update({f"{i}.{k}": v.clone() for k, v in m.module_.state_dict().items()})
        params = m.get_params()
        params.pop("warm_start")  # 0.1 had no warm_start
        records.append({"params": {**params, "hidden_layer_sizes": list(params["hidden_layer_sizes"]),
                                   "callbacks": None},
                        "n_features_in_": m.n_features_in_, "n_iter_": m.n_iter_, "device_": "cpu"})
    buffer = io.BytesIO()
    torch.save(tensors, buffer)
    weights = buffer.getvalue()
    regressor = {"class": "FormationEnthalpyRegressor"}
    if hasattr(r, "estimators_"):
        regressor = {"class": "DeepEnsembleRegressor", "n_features_in_": r.n_features_in_,
                     "params": {"estimator": records[0]["params"], "n_estimators": r.n_estimators,
                                "random_state": r.random_state, "n_jobs": None}}
    record = {"format": "sklearn-hform-pipeline", "format_version": 1, "sklearn_hform_version": "0.1.0",
              "saved_at": datetime.datetime.now().isoformat(), "steps": [n for n, _ in pipe.steps],
              "transformer": {"params": t.get_params(), "elements_": list(t.elements_),
                              "elements_seen_": list(t.elements_seen_)},
              "regressor": regressor, "members": records,
              "weights_sha256": hashlib.sha256(weights).hexdigest(), "metadata": {"seed": 7}}
    folder.mkdir()
    (folder / "model.pt").write_bytes(weights)
    (folder / "model.json").write_text(json.dumps(record))


@pytest.mark.parametrize("kind", ["single", "ensemble"])
def test_format_1_folders_still_load_and_migrate(fitted, tmp_path, kind):
    single, ensemble, Xte = fitted
    pipe = single if kind == "single" else ensemble
    old = tmp_path / "old"
    _write_format_1(pipe, old)
    with pytest.warns(FutureWarning, match="save it again"):
        loaded = load_model(old)
    np.testing.assert_array_equal(loaded.predict(Xte), pipe.predict(Xte))
    assert load_model_metadata(old) == {"seed": 7}
    # The migration script converts the folder in place and checks predictions.
    result = subprocess.run([sys.executable, str(REPO / "scripts" / "migrate_pretrained.py"), str(old)],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "-> OK" in result.stdout
    assert sorted(p.name for p in old.iterdir()) == ["SHA256SUMS", "model.json", "model.safetensors"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        np.testing.assert_array_equal(load_model(old).predict(Xte), pipe.predict(Xte))


def test_shipped_models_are_in_the_current_format():
    root = REPO / "sklearn_hform" / "pretrained"
    for name in PRETRAINED_NAMES:
        assert sorted(p.name for p in (root / name).iterdir()) == ["SHA256SUMS", "model.json", "model.safetensors"]
    assert shutil.which("sha256sum") is None or subprocess.run(
        ["sha256sum", "-c", "--quiet", "SHA256SUMS"], cwd=root / "paper"
    ).returncode == 0


def test_train_script_resumes_an_ensemble(tmp_path):
    def run(n):
        return subprocess.run(
            [sys.executable, str(REPO / "scripts" / "train_pretrained.py"), "best", "--ensemble", str(n),
             "--epochs", "1", "--hidden", "16", "--max-rows", "1000", "--device", "cpu",
             "--out", str(tmp_path / f"out{n}"), "--resume-dir", str(tmp_path / "resume")],
            capture_output=True, text=True, timeout=300,
        )

    first = run(2)
    assert first.returncode == 0, first.stderr
    assert "member 2 of 2 trained" in first.stdout
    second = run(3)  # e.g. the same job rerun after a time limit, with one member more
    assert second.returncode == 0, second.stderr
    assert "resuming from" in second.stdout and "2 of 3 members trained" in second.stdout
    assert "member 3 of 3 trained" in second.stdout and "member 2 of" not in second.stdout
    two, three = load_pipeline(tmp_path / "out2"), load_pipeline(tmp_path / "out3")
    assert len(three[-1].estimators_) == 3
    X = two[0].transform(["NaCl", "Fe2O3"])
    for a, b in zip(two[-1].estimators_, three[-1].estimators_):
        np.testing.assert_array_equal(a.predict(X), b.predict(X))


@pytest.mark.slow
def test_fine_tune_script_continues_every_member_and_resumes(tmp_path):
    def run(*extra):
        return subprocess.run(
            [sys.executable, str(REPO / "scripts" / "fine_tune_pretrained.py"), "best", "--epochs", "1",
             "--lr", "1e-5", "--max-rows", "200", "--device", "cpu", "--out", str(tmp_path / "out"), *extra],
            capture_output=True, text=True, timeout=600,
        )

    first = run("--resume-dir", str(tmp_path / "resume"))
    assert first.returncode == 0, first.stderr
    assert "member 4 of 4 fine-tuned" in first.stdout and "smoke run" in first.stdout
    shipped, tuned = pretrained.load_pretrained("best"), load_pipeline(tmp_path / "out")
    X = shipped[0].transform(["NaCl", "Fe2O3", "LiFePO4"])
    for before, after in zip(shipped[-1].estimators_, tuned[-1].estimators_):
        assert after.max_epochs == 1 and after.callbacks is None and not after.warm_start
        assert not np.array_equal(before.predict(X), after.predict(X))  # it trained from the shipped weights ...
        np.testing.assert_allclose(before.predict(X), after.predict(X), atol=0.05)  # ... not from scratch
    assert not hasattr(tuned[-1], "calibration_")  # it described the old members
    meta = load_metadata(tmp_path / "out")
    assert meta["smoke_run"] and meta["train_rows"] == 200 and meta["test_rows"] == 51255
    assert meta["earlier_commands"][-1]["command"] == pretrained.load_pretrained_metadata("best")["command"]
    assert meta["train_seconds"] > meta["fine_tune_seconds"] > 0

    again = run("--resume-dir", str(tmp_path / "resume"))  # every member done: nothing is trained twice
    assert again.returncode == 0, again.stderr
    assert "4 members done" in again.stdout and "fine-tuned;" not in again.stdout
    np.testing.assert_array_equal(load_pipeline(tmp_path / "out").predict(["NaCl"]), tuned.predict(["NaCl"]))


def test_train_script_trains_the_transformer_ensemble(tmp_path):
    out = tmp_path / "best"
    result = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "train_pretrained.py"), "best", "--network", "transformer",
         "--ensemble", "2", "--epochs", "1", "--d-model", "16", "--heads", "2", "--feedforward", "32",
         "--layers", "1", "--element-embedding", "magpie", "--max-rows", "1000", "--device", "cpu",
         "--out", str(out)],
        capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("  fit ElementAttentionNet (") == 2
    model = load_pipeline(out)
    member = model[-1].estimators_[0]
    assert type(member).__name__ == "CompositionTransformerRegressor" and member.element_embedding == "magpie"
    mean, std = model.predict(["NaCl", "Fe2O3"], return_std=True)
    assert np.isfinite(mean).all() and (std >= 0).all()
    bad = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "train_pretrained.py"), "best", "--d-model", "16"],
        capture_output=True, text=True, timeout=300,
    )
    assert bad.returncode == 2 and "need --network transformer" in bad.stderr
