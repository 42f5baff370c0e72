import numpy as np
from sklearn.base import clone

from sklearn_hform import FormationEnthalpyRegressor
from sklearn_hform.neural_network import EpochProgress, HeldOutMAE


def _data():
    rng = np.random.default_rng(0)
    X = rng.random((300, 4))
    return X, X @ np.array([1.0, -1.0, 0.5, 0.0])


def test_epoch_progress_prints_every_n_epochs(capsys):
    X, y = _data()
    est = FormationEnthalpyRegressor(max_epochs=6, device="cpu", random_state=0, validation_fraction=0.2,
                                     callbacks=[("progress", EpochProgress(every=3, stream="stderr"))])
    clone(est).fit(X, y)
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert lines[0].startswith("  fit FractionMLP (31,681 weights) on 300 rows, 6 epochs")
    assert [line.split()[1] for line in lines[1:]] == ["3/6", "6/6"]
    assert "valid_loss" in lines[-1]


def test_held_out_mae_matches_predictions_and_survives_clone():
    X, y = _data()
    est = FormationEnthalpyRegressor(max_epochs=3, device="cpu", random_state=0,
                                     callbacks=[("held_out", HeldOutMAE(X[:50], y[:50]))])
    est = clone(est).fit(X, y)
    history = est.net_.history
    assert len(history[:, "test_mae"]) == 3
    final = np.mean(np.abs(est.predict(X[:50]) - y[:50]))
    assert abs(history[-1, "test_mae"] - final) < 1e-6
    assert np.all(np.diff(history[:, "train_time"]) > 0)
