"""The own-data recipe: what it chooses from the data's size and budget, and that its model works."""

import numpy as np
import pandas as pd
import pytest

from sklearn_hform import cli
from sklearn_hform.datasets import load_expt_hform
from sklearn_hform.ensemble import predict_interval
from sklearn_hform.recipes import _plan, parse_budget, train_own_data


@pytest.mark.parametrize("text, seconds", [("30min", 1800), ("2h", 7200), ("90s", 90), ("600", 600),
                                           ("1.5 h", 5400), ("45m", 2700)])
def test_budgets_are_read(text, seconds):
    assert parse_budget(text) == seconds


@pytest.mark.parametrize("text", ["soon", "-5min", "0", "30 days", ""])
def test_bad_budgets_are_refused(text):
    with pytest.raises(ValueError, match="budget"):
        parse_budget(text)


def test_the_plan_fits_the_budget():
    # No budget: every network, the cap.
    assert _plan(2.0, None, 4, 60, 3) == (4, 60)
    # 4 networks x 2 s per epoch in 90 % of 200 s: 22 epochs each.
    assert _plan(2.0, 200, 4, 60, 3) == (4, 22)
    # Too little for 3 epochs of 4 networks: fewer networks, not fewer than 3 epochs while one can be dropped.
    members, epochs = _plan(10.0, 100, 4, 60, 3)
    assert members * epochs * 10.0 <= 0.9 * 100 and epochs >= 3 and members < 4
    # Whatever is left, at least one epoch of one network.
    assert _plan(50.0, 10, 4, 60, 3) == (1, 1)


@pytest.fixture(scope="module")
def small():
    data = load_expt_hform(as_frame=False)
    return np.asarray(data.data, dtype=object)[:500], data.target[:500]


@pytest.fixture(scope="module")
def transferred(small):
    lines = []
    model, report = train_own_data(*small, budget=60, log=lines.append)
    return model, report, lines


def test_small_data_is_fine_tuned_from_best_and_calibrated(transferred, small):
    model, report, lines = transferred
    X, y = small
    assert report["start"] == "transfer" and "OQMD's chemistry" in report["start_reason"]
    # 500 rows: 100 held out for calibration (whole chemical systems), too few left for early stopping.
    assert report["held_out_rows"] >= 100 and report["train_rows"] + report["held_out_rows"] == 500
    assert report["early_stopping"].startswith("off") and report["lr"] == 2e-4
    assert 1 <= report["members"] <= 4 and 1 <= report["max_epochs"] <= 20
    assert report["held_out_mae"] < 0.2 and report["calibrated_on"] == report["held_out_rows"]
    assert any("fine-tuning" in line for line in lines) and lines[-1].startswith("done in")
    mean, std = model.predict(list(X[:10]), return_std=True)
    lower, upper = predict_interval(model, list(X[:10]), confidence=0.9)
    assert (std > 0).all() and (lower < mean).all() and (mean < upper).all()


def test_a_tight_budget_cuts_epochs_and_networks(small):
    _, report = train_own_data(*small, budget=8)
    # The probe epoch is timed: the plan then fits what is left of 8 s.
    assert report["members"] * report["max_epochs"] * report["epoch_seconds"] <= 0.9 * 8
    assert report["members"] < 4 or report["max_epochs"] < 20


def test_scratch_trains_transformers(small):
    X, y = small
    model, report = train_own_data(X, y, start="scratch", budget=10)
    assert report["start"] == "scratch" and report["layers_adapted"].startswith("all (new")
    assert np.isfinite(model.predict(list(X[:5]))).all()


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="row 1"):
        train_own_data(["NaCl"] * 60, [0.1, np.nan] + [0.0] * 58)
    with pytest.raises(ValueError, match="start"):
        train_own_data(["NaCl"] * 60, [0.0] * 60, start="warm")
    with pytest.raises(ValueError, match="too few"):
        train_own_data(["NaCl"] * 10, [0.0] * 10)
    with pytest.raises(ValueError, match="row 2: 'Qq2'"):
        train_own_data(["NaCl", "KCl", "Qq2"] + ["NaCl"] * 57, [0.0] * 60)


def test_hform_train_with_a_budget(tmp_path, small, capsys):
    X, y = small
    data = tmp_path / "mine.csv"
    pd.DataFrame({"formula": X, "dH": y}).to_csv(data, index=False)
    out = tmp_path / "model"
    assert cli.main(["train", str(data), "--target", "dH", "-o", str(out), "--budget", "40s"]) == 0
    captured = capsys.readouterr()
    assert "recipe: 500 rows: transfer" in captured.err and "saved to" in captured.out
    from sklearn_hform.persistence import load_model_metadata

    assert load_model_metadata(out)["recipe"]["start"] == "transfer"
    assert cli.main(["train", str(data), "--target", "dH", "-o", str(tmp_path / "m1"), "--budget", "soon"]) == 1
    assert "--budget" in capsys.readouterr().err
    assert cli.main(["train", str(data), "--target", "dH", "-o", str(tmp_path / "m2"), "--recipe", "auto",
                     "--epochs", "5"]) == 1
    assert "--recipe chooses --epochs" in capsys.readouterr().err
