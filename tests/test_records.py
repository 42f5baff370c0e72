"""The helpers of a study script: its common options and its result file with the run record."""

import argparse
import json
import time
from pathlib import Path

import pytest

from sklearn_hform.utils import parse_run_options, write_result


def parser_with(*options):
    parser = argparse.ArgumentParser()
    for option in options:
        parser.add_argument(option, type=int, default=None)
    return parser


def test_parse_run_options_defaults():
    options = parse_run_options(parser_with("--epochs"), "outputs/study", args=[], environ={})
    assert options.quick is False
    assert options.out == Path("outputs/study")
    assert options.epochs is None
    assert options.argv == []


def test_parse_run_options_reads_quick_out_and_the_scripts_own_options(tmp_path):
    options = parse_run_options(parser_with("--epochs"), "outputs/study",
                                args=["--quick", "--out", str(tmp_path), "--epochs", "3"], environ={})
    assert options.quick is True and options.out == tmp_path and options.epochs == 3
    assert options.argv == ["--quick", "--out", str(tmp_path), "--epochs", "3"]


@pytest.mark.parametrize(("value", "quick"), [("1", True), ("yes", True), ("0", False), ("", False)])
def test_parse_run_options_honours_hform_quick(value, quick):
    options = parse_run_options(parser_with(), "out", args=[], environ={"HFORM_QUICK": value})
    assert options.quick is quick
    # The command of the run record says what the environment selected.
    assert options.argv == (["--quick"] if quick else [])


def test_parse_run_options_quick_from_both_is_recorded_once():
    options = parse_run_options(parser_with(), "out", args=["--quick"], environ={"HFORM_QUICK": "1"})
    assert options.quick is True and options.argv == ["--quick"]


def test_parse_run_options_reads_os_environ_by_default(monkeypatch):
    monkeypatch.setenv("HFORM_QUICK", "1")
    assert parse_run_options(parser_with(), "out", args=[]).quick is True
    monkeypatch.delenv("HFORM_QUICK")
    assert parse_run_options(parser_with(), "out", args=[]).quick is False


def test_parse_run_options_ignores_foreign_arguments():
    # sphinx-gallery runs a script with its own argv.
    options = parse_run_options(parser_with("--epochs"), "out",
                                args=["-b", "html", "--epochs", "2", "--not-ours"], environ={})
    assert options.epochs == 2
    assert options.argv == ["--epochs", "2"]


def test_parse_run_options_help_names_the_common_options():
    parser = parser_with("--epochs")
    parse_run_options(parser, "outputs/study", quick_help="seconds, not hours", args=[], environ={})
    text = parser.format_help()
    assert "--quick" in text and "seconds, not hours" in text
    assert "--out" in text and "outputs/study" in text


def test_write_result_writes_the_numbers_then_the_run_record(tmp_path):
    started = time.perf_counter() - 2.0
    path = tmp_path / "new" / "folder" / "study.json"  # the folder is made
    written = write_result(path, {"quick": True, "mae": 0.075}, ["python", "study.py", "--out", "a b"],
                           started=started, seed=0, device="cpu", train_seconds=1.234, torch_threads=2)
    assert json.loads(path.read_text(encoding="utf-8")) == written
    assert list(written)[:2] == ["quick", "mae"]  # the numbers first
    assert written["command"] == "python study.py --out 'a b'"
    assert written["seed"] == 0 and written["torch_threads"] == 2
    assert written["hardware"]["device"] == "cpu" and written["hardware"]["cpu_count"]
    assert written["train_seconds"] == 1.2
    assert written["wall_seconds"] >= 2.0
    assert "finished_at" in written
    assert "git_commit" not in written  # only when a repository is named


def test_write_result_wall_seconds_given_wins_over_started(tmp_path):
    written = write_result(tmp_path / "r.json", {}, "run", started=time.perf_counter() - 100, wall_seconds=3.04)
    assert written["wall_seconds"] == 3.0


def test_write_result_without_timings_records_none(tmp_path):
    written = write_result(tmp_path / "r.json", {"n": 1}, "run")
    assert "wall_seconds" not in written and "train_seconds" not in written


def test_write_result_records_the_commit_of_a_repository(tmp_path):
    root = Path(__file__).resolve().parents[1]
    written = write_result(tmp_path / "r.json", {}, "run", repository=root)
    assert "git_commit" in written  # None where git or the checkout is missing


def test_write_result_refuses_a_result_key_of_the_run_record(tmp_path):
    path = tmp_path / "r.json"
    with pytest.raises(ValueError, match="command"):
        write_result(path, {"command": "mine"}, "run")
    assert not path.exists()
