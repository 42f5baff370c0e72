"""The gallery examples run top to bottom in quick mode and write their results."""

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = {
    "plot_layer_study.py": "layer_study",
    "plot_learning_curve.py": "learning_curve",
    "plot_training_curve.py": "training_curve",
    "plot_cross_validation.py": "cross_validation",
    "plot_uncertainty.py": "uncertainty",
    "plot_fine_tuning.py": "fine_tuning",
    "plot_screening.py": "screening",
}
# Examples that train nothing print no epochs.
NO_TRAINING = {"screening"}
# Numbers each example's JSON must hold (besides being finite everywhere).
REQUIRED = {
    "layer_study": ["configurations", "largest"],
    "learning_curve": ["train_sizes", "test_mae", "train_mae"],
    "training_curve": ["train_loss", "valid_loss", "test_mae", "final_test_mae"],
    "cross_validation": ["mae", "p80", "p90", "fold_mae"],
    "uncertainty": ["bin_mae", "bin_std", "spearman", "coverage", "test_mae"],
    "fine_tuning": ["held_out_mae", "train_rows", "eval_rows"],
    "screening": ["systems"],
}


def run_example(name, out, *extra, env=None):
    env = {**os.environ, "MPLBACKEND": "Agg", **(env or {})}
    proc = subprocess.run(
        [sys.executable, str(ROOT / "examples" / name), "--out", str(out), *extra],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, f"{name} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc


def numbers(obj):
    """Every int and float in a JSON document."""
    if isinstance(obj, bool):
        return []
    if isinstance(obj, (int, float)):
        return [obj]
    if isinstance(obj, dict):
        return [x for v in obj.values() for x in numbers(v)]
    if isinstance(obj, list):
        return [x for v in obj for x in numbers(v)]
    return []


@pytest.mark.parametrize("name", list(EXAMPLES))
def test_example_quick(name, tmp_path):
    proc = run_example(name, tmp_path, "--quick")
    stem = EXAMPLES[name]
    png, js = tmp_path / f"{stem}.png", tmp_path / f"{stem}.json"
    assert png.is_file() and png.stat().st_size > 10_000
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    record = json.loads(js.read_text())  # json.loads accepts NaN: check below
    assert record["quick"] is True
    for key in REQUIRED[stem]:
        assert key in record, key
        assert numbers(record[key]), key
    values = numbers(record)
    assert values and all(math.isfinite(v) for v in values)
    assert record["wall_seconds"] > 0
    assert "total wall time" in proc.stdout
    assert stem in NO_TRAINING or "epoch" in proc.stdout  # progress is printed
    CHECKS[stem](record)


def check_layer_study(r):
    assert len(r["configurations"]) == 2  # quick: the smallest and the largest
    assert all(0 < c["test_mae"] < 1 for c in r["configurations"])
    assert r["largest"]["hidden_layer_sizes"] == r["configurations"][-1]["hidden_layer_sizes"]
    assert len(r["largest"]["valid_loss"]) == r["epochs"]


def check_learning_curve(r):
    assert len(r["train_sizes"]) == 4 and r["train_sizes"] == sorted(r["train_sizes"])
    assert all(0 < m < 1 for m in r["test_mae"])


def check_training_curve(r):
    assert len(r["train_loss"]) == len(r["valid_loss"]) == len(r["test_mae"]) == r["epochs"]
    assert r["test_mae"][-1] < r["test_mae"][0]


def check_cross_validation(r):
    assert 0 < r["mae"] < 0.5
    assert r["mae"] <= r["p90"] and r["p80"] <= r["p90"]
    assert len(r["fold_mae"]) == r["folds"]
    assert r["paper"] == {"mae": 0.075, "p80": 0.080, "p90": 0.180}


def check_uncertainty(r):
    assert r["members"] == 3  # quick: a small ensemble trained in the example
    assert len(r["bin_mae"]) == len(r["bin_std"]) == len(r["bin_rows"]) == 10
    assert r["bin_std"] == sorted(r["bin_std"])  # equal-count bins of increasing std
    assert sum(r["bin_rows"]) == r["test_rows"]
    assert all(m > 0 for m in r["bin_mae"]) and all(s > 0 for s in r["bin_std"])
    # The point of the example: the error grows with the predicted std.
    assert r["spearman"] > 0
    assert 0 <= r["coverage"]["1_std"] <= r["coverage"]["2_std"] <= 1
    assert 0 < r["test_mae"] < 1


def check_fine_tuning(r):
    assert set(r["held_out_mae"]) == {"best, zero-shot", "fine-tuned", "from scratch"}
    assert all(0 < v < 2 for v in r["held_out_mae"].values())
    # The experimental half split by chemical system, 80 / 20 (groups make the sizes inexact).
    assert r["train_rows"] + r["eval_rows"] == 1062 and 150 < r["eval_rows"] < 280
    # Even three epochs of fine-tuning move best towards experiment.
    assert r["held_out_mae"]["fine-tuned"] < r["held_out_mae"]["best, zero-shot"]


def check_screening(r):
    assert set(r["systems"]) == {"Al-Ni", "Li-Fe-O"}
    al_ni = r["systems"]["Al-Ni"]
    assert set(al_ni["known_stable_formulas"]) == {"Al3Ni", "Al3Ni2", "Al4Ni3", "AlNi", "Al3Ni5", "AlNi3"}
    assert al_ni["new"] > 0 and al_ni["new_at_p_0.5"] == 0 and "Al19Ni" not in al_ni["top"]["formula"]
    for s in r["systems"].values():
        assert s["top"]["decomposition_energy"] == sorted(s["top"]["decomposition_energy"])
        assert s["known_stable"] + s["known_unstable"] + s["new"] == s["candidates"]


CHECKS = {
    "layer_study": check_layer_study,
    "learning_curve": check_learning_curve,
    "training_curve": check_training_curve,
    "cross_validation": check_cross_validation,
    "uncertainty": check_uncertainty,
    "fine_tuning": check_fine_tuning,
    "screening": check_screening,
}


def test_quick_from_environment_and_foreign_argv(tmp_path):
    """HFORM_QUICK=1 selects the quick run and unknown arguments are ignored (sphinx-gallery)."""
    run_example("plot_training_curve.py", tmp_path, "--not-ours", env={"HFORM_QUICK": "1"})
    record = json.loads((tmp_path / "training_curve.json").read_text())
    assert record["quick"] is True
    assert len(record["train_loss"]) == record["epochs"]
