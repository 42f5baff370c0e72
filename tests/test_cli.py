"""End-to-end tests of the ``hform`` command line.

Most commands run in a subprocess, as a user runs them; error paths that
need no model run in-process through :func:`sklearn_hform.cli.main`, which is
much faster.
"""

import io
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.pipeline import make_pipeline

from sklearn_hform import CompositionFractionTransformer, DeepEnsembleRegressor, FormationEnthalpyRegressor, cli
from sklearn_hform.datasets import load_oqmd_hform
from sklearn_hform.persistence import load_model as load_pipeline
from sklearn_hform.persistence import load_model_metadata as load_metadata
from sklearn_hform.persistence import save_model as save_pipeline

MEMBER = dict(max_epochs=3, batch_size=256, device="cpu", random_state=0)


@pytest.fixture(scope="session")
def models(tmp_path_factory):
    """Tiny saved models: one network and a two-member ensemble."""
    X, y = load_oqmd_hform(split="train", return_X_y=True)
    X, y = X[:2000], y[:2000]
    root = tmp_path_factory.mktemp("models")
    single = make_pipeline(CompositionFractionTransformer(), FormationEnthalpyRegressor(**MEMBER)).fit(X, y)
    ensemble = make_pipeline(
        CompositionFractionTransformer(),
        DeepEnsembleRegressor(FormationEnthalpyRegressor(**MEMBER), n_estimators=2, random_state=0),
    ).fit(X, y)
    save_pipeline(single, root / "single")
    save_pipeline(ensemble, root / "ensemble")
    return root / "single", root / "ensemble"


def hform(*args, cwd=None, entry_point=False):
    """Run the command line in a subprocess."""
    script = Path(sys.executable).with_name("hform")
    command = [str(script)] if entry_point else [sys.executable, "-m", "sklearn_hform.cli"]
    return subprocess.run([*command, *map(str, args)], capture_output=True, text=True, cwd=cwd, timeout=300)


def unseen_element(model_dir):
    seen = load_pipeline(model_dir)[0].elements_seen_
    return next(e for e in ["He", "Ne", "Ar", "Kr", "Rn"] if e not in seen)


@pytest.mark.skipif(shutil.which("hform", path=str(Path(sys.executable).parent)) is None,
                    reason="console script not installed (pip install -e .)")
def test_entry_point_help():
    result = hform("--help", entry_point=True)
    assert result.returncode == 0
    for command in cli.COMMANDS:
        assert command in result.stdout


#: One option of each command that only that command has.
COMMAND_OPTIONS = {"predict": "--on-error", "train": "--target", "screen": "--candidates", "hull": "--e-above-hull"}


def test_every_command_has_a_help_test():
    assert set(COMMAND_OPTIONS) == set(cli.COMMANDS)


@pytest.mark.parametrize("command, option", COMMAND_OPTIONS.items())
def test_command_help(command, option, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main([command, "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: hform {command}") and option in out


def test_predict_formulas_table_with_std(models):
    _, ensemble = models
    unseen = unseen_element(ensemble)
    # Options may come between the formulas.
    result = hform("predict", "Fe2O3", "NaCl", "--model", ensemble, "Ca(OH)2", "Zz3", f"{unseen}F2")
    assert result.returncode == 3, result.stderr  # done, but a row was bad
    header, rule, *rows = result.stdout.splitlines()
    assert header.split()[:2] == ["formula", "dHf"] and "std" in header and "error" in header
    assert [r.split()[0] for r in rows] == ["Fe2O3", "NaCl", "Ca(OH)2", "Zz3", f"{unseen}F2"]
    assert float(rows[0].split()[1]) < 0 and float(rows[0].split()[2]) > 0
    assert "unknown element symbol 'Zz'" in rows[3]
    assert "argument 4: 'Zz3': unknown element symbol 'Zz'" in result.stderr
    assert "warning" in result.stderr and unseen in result.stderr and "argument 5" in result.stderr


@pytest.fixture
def formulas_csv(tmp_path):
    path = tmp_path / "formulas.csv"
    path.write_text('id,formula\n1,Fe2O3\n2,NaCl\n3,Xx2O\n4,\n5,"Ca(OH)2"\n6,Og2\n7,H2O\n')
    return path


def test_predict_csv_reports_bad_rows_and_keeps_them(models, formulas_csv, tmp_path):
    single, _ = models
    out = tmp_path / "out.csv"
    result = hform("predict", "-i", formulas_csv, "-o", out, "--model", single)
    assert result.returncode == 3, result.stderr
    for line in (4, 5, 7):
        assert f"line {line}:" in result.stderr
    assert "line 2:" not in result.stderr
    frame = pd.read_csv(out, keep_default_na=False)
    assert list(frame.columns) == ["id", "formula", "dHf_eV_per_atom", "error"]
    assert list(frame["id"]) == [1, 2, 3, 4, 5, 6, 7]  # nothing dropped, order kept
    bad = frame["error"] != ""
    assert list(frame["id"][bad]) == [3, 4, 6]
    assert (frame["dHf_eV_per_atom"][bad] == "").all()
    predicted = frame["dHf_eV_per_atom"][~bad].astype(float)
    expected = load_pipeline(single).predict(["Fe2O3", "NaCl", "Ca(OH)2", "H2O"])
    np.testing.assert_allclose(predicted, expected, rtol=1e-5)


def test_predict_csv_fail_mode_writes_nothing(models, formulas_csv, tmp_path):
    single, _ = models
    out = tmp_path / "out.csv"
    result = hform("predict", "-i", formulas_csv, "-o", out, "--model", single, "--on-error", "fail")
    assert result.returncode == 1
    assert "line 4: 'Xx2O'" in result.stderr and "nothing written" in result.stderr
    assert not out.exists() and result.stdout == ""


def test_predict_intervals_at_a_confidence(models, tmp_path, capsys):
    single, ensemble = models
    assert cli.main(["predict", "NaCl", "--model", str(ensemble), "--confidence", "0.9"]) == 1
    assert "calibrated ensemble" in capsys.readouterr().err
    for bad in ("0", "1", "nan", "-0.5"):
        assert cli.main(["predict", "NaCl", "--model", str(ensemble), "--confidence", bad]) == 1
        assert "--confidence must lie between 0 and 1" in capsys.readouterr().err
    model = load_pipeline(ensemble)
    Xte, yte = load_oqmd_hform(split="test", return_X_y=True)
    model[-1].calibrate(model[0].fractions(Xte[:300]), yte[:300])
    save_pipeline(model, tmp_path / "calibrated")
    out = tmp_path / "out.csv"
    args = ["predict", "NaCl", "Qq", "MgO", "--model", str(tmp_path / "calibrated"), "--confidence", "0.9"]
    assert cli.main([*args, "-o", str(out)]) == 3
    frame = pd.read_csv(out, keep_default_na=False)
    assert list(frame.columns) == ["formula", "dHf_eV_per_atom", "std_eV_per_atom", "dHf_eV_per_atom_lower",
                                   "dHf_eV_per_atom_upper", "error"]
    lower, upper = model[-1].predict_interval(model[0].fractions(["NaCl", "MgO"]), confidence=0.9)
    np.testing.assert_allclose(frame["dHf_eV_per_atom_lower"][[0, 2]].astype(float), lower, rtol=1e-5)
    np.testing.assert_allclose(frame["dHf_eV_per_atom_upper"][[0, 2]].astype(float), upper, rtol=1e-5)
    assert frame["dHf_eV_per_atom_lower"][1] == ""
    capsys.readouterr()
    assert cli.main(args) == 3
    header = capsys.readouterr().out.splitlines()[0]
    assert "90% lower" in header and "90% upper" in header


def test_predict_reports_bad_rows_across_chunks_in_process(models, tmp_path, monkeypatch, capsys):
    single, ensemble = models
    from sklearn_hform import prediction

    monkeypatch.setattr(prediction, "PREDICT_FORMULAS_CHUNK_SIZE", 3)
    formulas = ["NaCl", "Qq", "MgO", "Fe2O3", "LiF", "(Fe", "KCl", "Al2O3"]
    src = tmp_path / "in.csv"
    pd.DataFrame({"name": formulas}).to_csv(src, index=False)
    assert cli.main(["predict", "-i", str(src), "--column", "name", "--model", str(ensemble)]) == 3
    captured = capsys.readouterr()
    frame = pd.read_csv(io.StringIO(captured.out), keep_default_na=False)
    assert list(frame.columns) == ["name", "dHf_eV_per_atom", "std_eV_per_atom", "error"]
    assert list(np.flatnonzero(frame["error"] != "")) == [1, 5]
    assert "line 3: 'Qq'" in captured.err and "line 7: '(Fe'" in captured.err
    good = frame[frame["error"] == ""]
    mean, std = load_pipeline(ensemble).predict(list(good["name"]), return_std=True)
    np.testing.assert_allclose(good["dHf_eV_per_atom"].astype(float), mean, rtol=1e-5)
    np.testing.assert_allclose(good["std_eV_per_atom"].astype(float), std, rtol=1e-5)


@pytest.mark.slow
def test_train_then_predict_with_the_trained_model(tmp_path):
    data = load_oqmd_hform(split="val").frame.iloc[:1500][["formula", "formation_enthalpy"]]
    data = data.rename(columns={"formula": "composition", "formation_enthalpy": "dH"})
    csv = tmp_path / "data.csv"
    data.to_csv(csv, index=False)
    with open(csv, "a") as f:
        f.write("Fe2Qq3,-1.0\nNaCl,n/a\n")
    model_dir = tmp_path / "model"
    args = ["train", csv, "--target", "dH", "--column", "composition", "-o", model_dir, "--epochs", "2",
            "--batch-size", "256", "--hidden", "32,16", "--device", "cpu", "--ensemble", "2"]

    failed = hform(*args)
    assert failed.returncode == 1 and not model_dir.exists()
    assert "line 1502: 'Fe2Qq3'" in failed.stderr and "line 1503: target 'n/a'" in failed.stderr

    trained = hform(*args, "--skip-bad-rows", "--test-fraction", "0.2")
    assert trained.returncode == 0, trained.stderr
    assert "saved to" in trained.stdout and "epoch    2/2" in trained.stderr
    meta = load_metadata(model_dir)
    assert meta["data"]["skipped_rows"] == 2 and meta["train_rows"] == 1200 and meta["test_rows"] == 300
    assert meta["command"].startswith("hform train")

    predicted = hform("predict", "MgO", "--model", model_dir)
    assert predicted.returncode == 0, predicted.stderr
    assert "MgO" in predicted.stdout and "std" in predicted.stdout
    # The value column is named after the target the model was trained on.
    assert predicted.stdout.split()[:3] == ["formula", "dH", "std"]

    again = hform(*args, "--skip-bad-rows")
    assert again.returncode == 1 and "--force" in again.stderr


def test_hull_on_a_coarse_grid(models, tmp_path):
    single, _ = models
    png, table = tmp_path / "hull.png", tmp_path / "hull.csv"
    result = hform("hull", "Li-Fe-O", "--model", single, "--step", "0.25", "--e-above-hull", "0.1",
                   "--plot", png, "-o", table)
    assert result.returncode == 0, result.stderr
    # 15 grid points at step 1/4, minus the 3 pure elements (the references).
    assert result.stdout.startswith("Li-Fe-O: 12 compositions at step 0.25")
    frame = pd.read_csv(table)
    assert len(frame) == 12 and set(frame["formula"]) >= {"LiFeO2", "Li3O", "FeO3", "LiFe3"}
    np.testing.assert_allclose(frame[["x_Li", "x_Fe", "x_O"]].sum(axis=1), 1.0)
    assert (frame["e_above_hull_eV_per_atom"] >= -1e-9).all()
    listed = [line.split()[0] for line in result.stdout.splitlines()[3:]]
    near = frame[frame["e_above_hull_eV_per_atom"] <= 0.1 + 1e-9]
    assert listed == list(near["formula"])
    assert png.stat().st_size > 1000 and png.read_bytes()[:4] == b"\x89PNG"


@pytest.mark.parametrize(
    "args, message",
    [
        (["hull", "Li-Xx"], "not element symbol"),
        (["hull", "Li"], "at least two elements"),
        (["hull", "Li-Fe-O", "--step", "0.001"], "use a coarser --step"),
        (["hull", "Li-Fe-O", "--step", "0.3"], "divide 1"),
        (["hull", "Li-O", "--step", "0"], "must lie in (0, 0.5]"),
        (["hull", "Li-O", "--step", "1e-400"], "must lie in (0, 0.5]"),
        (["train", "no_such.csv", "--target", "y", "-o", __file__], "not a directory"),
        (["hull", "Li-Na-K-Rb-Cs", "--step", "0.5", "--plot", "x.png"], "up to 4 elements"),
        (["predict"], "nothing to predict"),
        (["predict", "NaCl", "--model", "no/such/dir"], "no such directory"),
        (["predict", "NaCl", "--model", "nonsense"], "neither a pretrained model"),
        (["predict", "-i", "no_such.csv", "--model", "no/such/dir"], "not found"),
    ],
)
def test_errors_exit_1_on_stderr(args, message, capsys):
    assert cli.main(args) == 1
    captured = capsys.readouterr()
    assert captured.out == "" and message in captured.err and captured.err.startswith("hform: error:")


def _deep_type_error(args):
    raise TypeError("unsupported operand type(s) for +: 'int' and 'str'")


@pytest.mark.parametrize("where", ["flag first", "flag last", "environment"])
def test_traceback_on_request(where, monkeypatch, capsys):
    from sklearn_hform.cli import predict

    monkeypatch.setattr(predict, "run", _deep_type_error)  # a bug that looks like bad input
    monkeypatch.delenv("HFORM_DEBUG", raising=False)
    assert cli.main(["predict", "NaCl"]) == 1
    assert capsys.readouterr().err == "hform: error: unsupported operand type(s) for +: 'int' and 'str'\n"
    argv = {"flag first": ["--traceback", "predict", "NaCl"], "flag last": ["predict", "NaCl", "--traceback"],
            "environment": ["predict", "NaCl"]}[where]
    if where == "environment":
        monkeypatch.setenv("HFORM_DEBUG", "0")  # "0" means off
        assert cli.main(argv) == 1
        monkeypatch.setenv("HFORM_DEBUG", "1")
    with pytest.raises(TypeError, match="unsupported operand") as info:
        cli.main(argv)
    assert info.traceback[-1].name == "_deep_type_error"  # raised where it happened, not re-wrapped


def test_traceback_flag_shows_the_traceback_in_a_shell():
    plain = hform("predict", "NaCl", "--model", "no/such/dir")
    assert plain.returncode == 1 and "Traceback" not in plain.stderr and "no such directory" in plain.stderr
    debug = hform("--traceback", "predict", "NaCl", "--model", "no/such/dir")
    assert debug.returncode == 1 and "Traceback (most recent call last)" in debug.stderr
    assert "no such directory" in debug.stderr.splitlines()[-1]


def test_missing_pretrained_model_and_usage_errors(tmp_path, monkeypatch, capsys):
    from importlib import resources

    monkeypatch.setattr(resources, "files", lambda package: tmp_path)
    assert cli.main(["predict", "NaCl"]) == 1  # the default, "paper", is not there
    assert "'paper' is not installed" in capsys.readouterr().err
    usage_errors = ([], ["predict", "--on-error", "ignore", "NaCl"], ["train", "data.csv"], ["fly"],
                    ["hull", "Li-O", "--step", "nan"], ["hull", "Li-O", "--e-above-hull", "nan"])
    for argv in usage_errors:
        with pytest.raises(SystemExit) as exit_info:
            cli.main(argv)
        assert exit_info.value.code == 2
    assert "usage:" in capsys.readouterr().err


def test_column_errors(models, formulas_csv, capsys):
    single, _ = models
    assert cli.main(["predict", "-i", str(formulas_csv), "--column", "smiles", "--model", str(single)]) == 1
    assert "no column 'smiles'" in capsys.readouterr().err


@pytest.mark.parametrize("stream_rows", [None, 1, 2, 3])  # None: one chunk; else through chunk boundaries
def test_csv_line_numbers_survive_blank_lines_and_multiline_fields(models, tmp_path, monkeypatch, capsys,
                                                                   stream_rows):
    from sklearn_hform.cli import predict

    single, _ = models
    if stream_rows is not None:
        monkeypatch.setattr(predict, "STREAM_ROWS", stream_rows)
    src = tmp_path / "gaps.csv"
    # A blank line (file line 3) and a quoted field spanning lines 4-5: the
    # bad formula on line 7 must be reported as line 7.
    src.write_text('formula,note\nNaCl,a\n\nMgO,"two\nlines"\nLiF,b\nXx2O,c\n')
    assert cli.main(["predict", "-i", str(src), "--model", str(single)]) == 3
    captured = capsys.readouterr()
    assert "line 7: 'Xx2O'" in captured.err
    frame = pd.read_csv(io.StringIO(captured.out), keep_default_na=False)
    assert list(frame["formula"]) == ["NaCl", "MgO", "LiF", "Xx2O"] and frame["note"][1] == "two\nlines"


def test_model_spec_rule_folder_or_pretrained(models, tmp_path, monkeypatch, capsys):
    single, _ = models
    shutil.copytree(single, tmp_path / "paper")
    monkeypatch.chdir(tmp_path)
    # An existing folder named like a pretrained model is the folder, and the
    # command says so; "pretrained:paper" is always the shipped model.
    assert cli.main(["predict", "NaCl", "--model", "paper"]) == 0
    err = capsys.readouterr().err
    assert "model: folder paper" in err and "pretrained:paper" in err
    assert cli.main(["predict", "NaCl", "--model", "pretrained:paper"]) == 0
    assert "model: pretrained 'paper'" in capsys.readouterr().err


def test_train_refuses_an_unusable_output_before_training(tmp_path, capsys):
    data = tmp_path / "d.csv"
    data.write_text("formula,y\nNaCl,-2\nMgO,-3\n")
    (tmp_path / "taken").write_text("a file")
    assert cli.main(["train", str(data), "--target", "y", "-o", str(tmp_path / "taken"), "-q"]) == 1
    assert "not a directory" in capsys.readouterr().err


def test_train_init_fine_tunes_an_existing_model(models, tmp_path, capsys):
    single, _ = models
    data = load_oqmd_hform(split="test").frame.iloc[:300][["formula", "formation_enthalpy"]]
    csv = tmp_path / "small.csv"
    data.to_csv(csv, index=False)
    out = tmp_path / "tuned"
    argv = ["train", str(csv), "--target", "formation_enthalpy", "-o", str(out), "--init", str(single),
            "--epochs", "2", "--lr", "1e-4", "--device", "cpu", "-q"]
    assert cli.main(argv) == 0
    tuned, start = load_pipeline(out), load_pipeline(single)
    assert load_metadata(out)["initial_model"] == str(single)
    assert tuned[-1].hidden_layer_sizes == start[-1].hidden_layer_sizes
    X = data["formula"].to_numpy()
    change = np.abs(tuned.predict(X) - start.predict(X))
    assert 0 < change.max() < 0.5  # moved, but from the pretrained network, not from random weights
    capsys.readouterr()
    assert cli.main([*argv, "--force", "--hidden", "8"]) == 1
    assert "--init keeps the model's architecture" in capsys.readouterr().err


def test_hostile_rows_are_reported_and_the_good_rows_still_written(models, tmp_path, capsys):
    single, _ = models
    src = tmp_path / "hostile.csv"
    deep = "(" * 1000 + "H" + ")" * 1000
    src.write_text(f"formula\nNaCl\nNaCl\x00garbage\n{deep}\nMgO\n", encoding="utf-8")
    out = tmp_path / "out.csv"
    assert cli.main(["predict", "-i", str(src), "-o", str(out), "--model", str(single)]) == 3
    err = capsys.readouterr().err
    assert "line 3:" in err and "control character" in err and "line 4:" in err and "nested" in err
    frame = pd.read_csv(out, keep_default_na=False)
    assert list(frame["error"] != "") == [False, True, True, False]
    np.testing.assert_allclose(frame["dHf_eV_per_atom"][[0, 3]].astype(float),
                               load_pipeline(single).predict(["NaCl", "MgO"]), rtol=1e-5)
    # Any bad row makes the exit status non-zero, also when it is the only row.
    assert cli.main(["predict", "Xx2O", "--model", str(single)]) == 3
    assert cli.main(["predict", "Fe2O3", "Xx2O", "--model", str(single)]) == 3


# --- hform predict -i streams ----------------------------------------------------------------


def _count_calls(monkeypatch):
    """Count the calls of predict_formulas (one per chunk streamed)."""
    from sklearn_hform import prediction

    calls = []
    original = prediction.predict_formulas

    def counted(model, formulas, **kwargs):
        calls.append(len(formulas))
        return original(model, formulas, **kwargs)

    monkeypatch.setattr(prediction, "predict_formulas", counted)
    return calls


@pytest.fixture
def long_csv(tmp_path):
    """40 data rows: bad formulas in several 7-row chunks, a blank line and a quoted line break."""
    good = ["NaCl", "MgO", "Fe2O3", "LiF", "KCl", "Al2O3", "CaO", "ZnS", "CuO", "TiO2"]
    lines, bad_lines, line = ["id,formula,note"], {}, 1
    for i in range(40):
        if i in (3, 11, 25, 39):
            formula = f"Xx{i}"
        else:
            formula = good[i % len(good)]
        note = '"two\nlines"' if i == 13 else "n"
        if i == 20:
            lines.append("")  # a blank line
            line += 1
        lines.append(f"{i},{formula},{note}")
        line += 1
        if formula.startswith("Xx"):
            bad_lines[formula] = line
        if i == 13:
            line += 1
    path = tmp_path / "long.csv"
    path.write_text("\n".join(lines) + "\n")
    return path, bad_lines


def test_predict_streams_in_chunks_byte_identical(models, long_csv, tmp_path, monkeypatch, capsys):
    from sklearn_hform.cli import predict

    single, _ = models
    src, bad_lines = long_csv
    calls = _count_calls(monkeypatch)
    whole, chunked = tmp_path / "whole.csv", tmp_path / "chunked.csv"
    assert cli.main(["predict", "-i", str(src), "-o", str(whole), "--model", str(single)]) == 3
    assert calls == [40]
    err_whole = capsys.readouterr().err
    monkeypatch.setattr(predict, "STREAM_ROWS", 7)
    assert cli.main(["predict", "-i", str(src), "-o", str(chunked), "--model", str(single)]) == 3
    assert calls[1:] == [7, 7, 7, 7, 7, 5]
    err_chunked = capsys.readouterr().err
    assert chunked.read_bytes() == whole.read_bytes()
    assert err_chunked.replace(str(chunked), "OUT") == err_whole.replace(str(whole), "OUT")
    # True file lines, though the bad rows lie in different chunks, after a blank line and a quoted line break.
    for formula, line in bad_lines.items():
        assert f"bad formula: line {line}: '{formula}'" in err_chunked
    assert bad_lines == {"Xx3": 5, "Xx11": 13, "Xx25": 29, "Xx39": 43}
    assert f"wrote 40 row(s) to {chunked} (36 predicted, 4 bad)" in err_chunked
    frame = pd.read_csv(chunked, keep_default_na=False)
    assert list(frame["id"]) == list(range(40)) and frame["note"][13] == "two\nlines"
    assert list(frame["error"] != "").count(True) == 4
    # To stdout, streamed, the same bytes.
    assert cli.main(["predict", "-i", str(src), "--model", str(single)]) == 3
    assert capsys.readouterr().out == whole.read_text()


def test_predict_streams_the_bad_row_report_over_all_chunks(models, tmp_path, monkeypatch, capsys):
    from sklearn_hform import cli as cli_package
    from sklearn_hform.cli import predict

    single, _ = models
    monkeypatch.setattr(predict, "STREAM_ROWS", 7)
    n_bad = cli_package.common.MAX_REPORTED + 5
    src = tmp_path / "many_bad.csv"
    src.write_text("formula\n" + "".join(f"Qq{i}\nNaCl\n" for i in range(n_bad)))
    out = tmp_path / "out.csv"
    assert cli.main(["predict", "-i", str(src), "-o", str(out), "--model", str(single)]) == 3
    err = capsys.readouterr().err
    reported = [line for line in err.splitlines() if line.startswith("hform: bad formula: line")]
    assert len(reported) == cli_package.common.MAX_REPORTED
    assert "line 2: 'Qq0'" in reported[0]
    assert "line 40: 'Qq19'" in reported[-1]
    assert "hform: bad formula: ... and 5 more" in err
    assert f"({n_bad} predicted, {n_bad} bad)" in err
    assert len(pd.read_csv(out, keep_default_na=False)) == 2 * n_bad


def test_predict_stream_unseen_warning_is_for_the_whole_file(models, tmp_path, monkeypatch, capsys):
    from sklearn_hform.cli import predict

    single, _ = models
    unseen = unseen_element(single)
    monkeypatch.setattr(predict, "STREAM_ROWS", 2)
    src = tmp_path / "unseen.csv"
    src.write_text(f"formula\nNaCl\n{unseen}F2\nMgO\nLiF\n{unseen}O\n")
    assert cli.main(["predict", "-i", str(src), "-o", str(tmp_path / "out.csv"), "--model", str(single)]) == 0
    warnings = [line for line in capsys.readouterr().err.splitlines() if "warning" in line]
    assert len(warnings) == 1
    assert "2 formula(s)" in warnings[0] and f"['{unseen}']" in warnings[0] and "(line 3, line 6)" in warnings[0]


@pytest.mark.parametrize("to_stdout", [False, True])
def test_predict_stream_fail_mode_with_a_bad_last_chunk_writes_nothing(models, tmp_path, monkeypatch, capsys,
                                                                       to_stdout):
    from sklearn_hform.cli import predict

    single, _ = models
    monkeypatch.setattr(predict, "STREAM_ROWS", 3)
    src = tmp_path / "in.csv"
    src.write_text("formula\n" + "NaCl\n" * 9 + "Xx2O\n")
    out = tmp_path / "out.csv"
    argv = ["predict", "-i", str(src), "--model", str(single), "--on-error", "fail"]
    assert cli.main(argv if to_stdout else [*argv, "-o", str(out)]) == 1
    captured = capsys.readouterr()
    assert "line 11: 'Xx2O'" in captured.err and "1 of 10 formula(s) could not be read; nothing written" in captured.err
    assert captured.out == ""
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.csv"]  # no output, no temporary file left


def test_predict_stream_interrupted_leaves_the_old_output(models, tmp_path, monkeypatch, capsys):
    from sklearn_hform import prediction
    from sklearn_hform.cli import predict

    single, _ = models
    monkeypatch.setattr(predict, "STREAM_ROWS", 2)
    calls = _count_calls(monkeypatch)
    counted = prediction.predict_formulas

    def interrupted(model, formulas, **kwargs):
        if len(calls) == 2:
            raise KeyboardInterrupt
        return counted(model, formulas, **kwargs)

    monkeypatch.setattr(prediction, "predict_formulas", interrupted)
    src = tmp_path / "in.csv"
    src.write_text("formula\nNaCl\nMgO\nLiF\nKCl\nCaO\n")
    out = tmp_path / "out.csv"
    out.write_text("old\n")
    assert cli.main(["predict", "-i", str(src), "-o", str(out), "--model", str(single)]) == 130
    assert out.read_text() == "old\n"  # never half-written
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.csv", "out.csv"]
    capsys.readouterr()


def test_predict_stream_checks_columns_before_predicting(models, tmp_path, monkeypatch, capsys):
    single, _ = models
    calls = _count_calls(monkeypatch)
    src = tmp_path / "clash.csv"
    src.write_text("formula,dHf_eV_per_atom\nNaCl,1\n")
    out = tmp_path / "out.csv"
    assert cli.main(["predict", "-i", str(src), "-o", str(out), "--model", str(single)]) == 1
    assert "already has column(s) ['dHf_eV_per_atom']" in capsys.readouterr().err
    assert calls == [] and not out.exists()
    src.write_text("formula\nNaCl\n")
    assert cli.main(["predict", "-i", str(src), "-o", str(tmp_path / "no" / "dir.csv"), "--model", str(single)]) == 1
    assert "cannot write output file" in capsys.readouterr().err and calls == []


def test_predict_stream_header_only_file(models, tmp_path, capsys):
    single, _ = models
    src = tmp_path / "header.csv"
    src.write_text("id,formula\n")
    out = tmp_path / "out.csv"
    assert cli.main(["predict", "-i", str(src), "-o", str(out), "--model", str(single)]) == 0
    assert out.read_text() == "id,formula,dHf_eV_per_atom,error\n"
    assert "wrote 0 row(s)" in capsys.readouterr().err


def test_predict_stream_progress_bar(models, tmp_path, monkeypatch, capsys):
    from sklearn_hform.cli import predict

    single, _ = models
    monkeypatch.setattr(predict, "STREAM_ROWS", 2)
    monkeypatch.setattr(predict, "LONG_INPUT_BYTES", 1)  # every file is "long"
    src = tmp_path / "in.csv"
    src.write_text("formula\nNaCl\nMgO\nLiF\n")
    argv = ["predict", "-i", str(src), "-o", str(tmp_path / "out.csv"), "--model", str(single)]
    assert cli.main(argv) == 0
    err = capsys.readouterr().err
    assert "predicting" in err and "3/3" in err
    assert cli.main([*argv, "--no-progress"]) == 0
    assert "predicting" not in capsys.readouterr().err


class _NoRead(io.StringIO):
    """A stream that fails if anything reads it whole."""

    def read(self, *args):
        raise AssertionError("read() called: the file was read whole")


def test_read_csv_chunks_reads_lazily():
    from sklearn_hform.cli.common import CommandError, read_csv_chunks

    stream = _NoRead('formula,note\nNaCl,a\n\nMgO,"two\nlines"\nLiF,b\nXx2O,c,extra\n', newline="")
    chunks = read_csv_chunks(stream, 2)
    frame, lines = next(chunks)  # before the bad line is reached
    assert list(frame["formula"]) == ["NaCl", "MgO"] and frame["note"][1] == "two\nlines" and lines == [2, 4]
    assert list(frame.index) == [0, 1]
    with pytest.raises(CommandError, match=r"line 7: 3 field\(s\), the header has 2"):
        next(chunks)


@pytest.mark.parametrize("rows", [1, 2, 3, 100])
def test_read_csv_is_read_csv_chunks_joined(tmp_path, rows):
    from sklearn_hform.cli.common import read_csv, read_csv_chunks

    src = tmp_path / "gaps.csv"
    src.write_text('formula,note\r\nNaCl,\r\n\r\nMgO,"two\nlines"\r\nNA,b\r\nXx2O,c\r\n', newline="")
    frame, lines = read_csv(src)
    assert lines == [2, 4, 6, 7] and list(frame["formula"]) == ["NaCl", "MgO", "NA", "Xx2O"]
    assert frame["note"][0] == "" and (frame.dtypes == object).all()
    chunks = list(read_csv_chunks(src, rows))
    assert all(len(f) <= rows for f, _ in chunks) and sum(len(f) for f, _ in chunks) == 4
    assert [n for _, chunk_lines in chunks for n in chunk_lines] == lines
    pd.testing.assert_frame_equal(pd.concat([f for f, _ in chunks]), frame)


def test_read_csv_chunks_errors(tmp_path):
    from sklearn_hform.cli.common import CommandError, read_csv, read_csv_chunks

    header_only = tmp_path / "header.csv"
    header_only.write_text("formula,note\n\n")
    [(frame, lines)] = read_csv_chunks(header_only, 5)
    assert list(frame.columns) == ["formula", "note"] and len(frame) == 0 and lines == []
    assert list(read_csv(header_only)[0].columns) == ["formula", "note"]
    cases = {"empty.csv": ("\n\n", "is empty"), "twice.csv": ("a,a\n1,2\n", "the header repeats a column name"),
             "huge.csv": ("a\n" + "x" * 200_000 + "\n", "as CSV, line 2")}
    for name, (text, message) in cases.items():
        (tmp_path / name).write_text(text)
        with pytest.raises(CommandError, match=message):
            read_csv(tmp_path / name)
    (tmp_path / "latin1.csv").write_bytes(b"formula\nNaCl\n" + b"Caf\xe9\n")
    with pytest.raises(CommandError, match=r"as UTF-8 text: invalid continuation byte \(byte 0xe9\)"):
        read_csv(tmp_path / "latin1.csv")
    with pytest.raises(CommandError, match="input file 'no_such.csv' not found"):
        next(read_csv_chunks("no_such.csv", 5))
    with pytest.raises(CommandError, match="is a directory"):
        next(read_csv_chunks(tmp_path, 5))


def test_read_csv_chunks_yields_before_a_late_decoding_error(tmp_path):
    from sklearn_hform.cli.common import CommandError, read_csv_chunks

    late = tmp_path / "late.csv"
    late.write_bytes(b"formula\n" + b"NaCl\n" * 5000 + b"Caf\xe9\n")
    chunks = read_csv_chunks(late, 10)
    frame, lines = next(chunks)
    assert lines == list(range(2, 12))
    with pytest.raises(CommandError, match=r"'.*late\.csv' as UTF-8 text after line \d+: invalid continuation"):
        list(chunks)
