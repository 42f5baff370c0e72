"""``hform train``: train a network on a CSV file of formulas and a target, and save it."""

import hashlib
import importlib
import time
import warnings
from pathlib import Path

import numpy as np

from .common import (
    CommandError,
    LineFormatter,
    column,
    err,
    fraction,
    load_model_argument,
    positive_int,
    read_csv,
    report_rows,
)

__all__ = ["add_arguments", "run"]

HELP = "train a model on your own CSV data"
DESCRIPTION = (
    "Train a composition-to-property network on a CSV file (a formula column and a numeric target column) "
    "and save it to a directory that 'hform predict --model DIR' and sklearn_hform.load_model read."
)
EPILOG = (
    "examples:\n  hform train data.csv --target formation_energy -o my_model --epochs 200\n"
    "  hform train small.csv --target dH -o tuned --init best --epochs 50 --lr 3e-4   # fine-tuning\n"
    "  hform train data.csv --target dH -o mine --budget 30min   # the recipe chooses the settings"
)
#: Options the recipe chooses itself.
RECIPE_CHOOSES = ("--epochs", "--lr", "--batch-size", "--init", "--ensemble", "--hidden", "--optimizer", "--network")
#: Options that describe an architecture, which --init keeps.
ARCHITECTURE_OPTIONS = ("--hidden", "--ensemble", "--optimizer", "--network")
#: The networks of the package that --network names, as "module:Class" (imported only when chosen).
#: Installed packages add theirs through the entry point group sklearn_hform.networks.
BUILTIN_NETWORKS = {
    "mlp": "sklearn_hform.neural_network:FormationEnthalpyRegressor",
    "transformer": "sklearn_hform.neural_network:CompositionTransformerRegressor",
}


def _hidden_sizes(text):
    import argparse

    from ..utils._validation import check_hidden_layer_sizes

    try:
        return check_hidden_layer_sizes(tuple(int(w) for w in text.split(",")))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated positive integers, got {text!r}") from None


def add_arguments(parser):
    """Declare the options of ``hform train`` on ``parser``."""
    from ..neural_network._base import OPTIMIZERS
    from ..neural_network._mlp import FormationEnthalpyRegressor

    parser.formatter_class = LineFormatter
    parser.description, parser.epilog = DESCRIPTION, EPILOG
    parser.add_argument("data", help="CSV file ('-': stdin)")
    parser.add_argument("--target", required=True, help="name of the target column")
    parser.add_argument("--column", default="formula", help="name of the formula column (default: formula)")
    parser.add_argument("-o", "--output", required=True, metavar="DIR", help="directory to save the model in")
    # Defaults come from the estimator itself, so the command cannot drift from it.
    defaults = FormationEnthalpyRegressor().get_params()
    parser.add_argument("--epochs", type=positive_int, default=defaults["max_epochs"],
                        help=f"training epochs (default: {defaults['max_epochs']})")
    parser.add_argument("--network", default="mlp", metavar="NAME",
                        help=f"the network to train: {', '.join(BUILTIN_NETWORKS)}, or the name of a network an "
                        "installed package offers through the entry point group sklearn_hform.networks "
                        "(default: mlp, the paper's network)")
    parser.add_argument("--hidden", type=_hidden_sizes, default=defaults["hidden_layer_sizes"], metavar="W1,W2,...",
                        help=f"hidden layer widths (default: {','.join(map(str, defaults['hidden_layer_sizes']))})")
    parser.add_argument("--lr", type=float, default=defaults["lr"],
                        help=f"initial learning rate (default: {defaults['lr']:g})")
    parser.add_argument("--batch-size", type=positive_int, default=defaults["batch_size"],
                        help=f"rows per step (default: {defaults['batch_size']})")
    parser.add_argument("--optimizer", choices=OPTIMIZERS, default=defaults["optimizer"],
                        help=f"(default: {defaults['optimizer']})")
    parser.add_argument("--ensemble", type=positive_int, default=1, metavar="N",
                        help="train N independently seeded networks; predictions then come with a std (default: 1)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    parser.add_argument("--device", default="auto", help="'auto', 'cpu', 'cuda', 'cuda:N' or 'mps' (default: auto)")
    parser.add_argument("--test-fraction", type=fraction, default=None, metavar="F",
                        help="hold out this fraction of the rows and report the MAE on it")
    parser.add_argument("--skip-bad-rows", action="store_true",
                        help="train on the good rows when some are bad (default: fail)")
    parser.add_argument("--init", metavar="MODEL", help="fine-tune: start from the networks of this model ('paper', "
                        "'best' or a folder) instead of random weights; its architecture is kept")
    parser.add_argument("--recipe", choices=("auto", "transfer", "scratch"), default=None,
                        help="choose the settings from the data (sklearn_hform.recipes.train_own_data): transfer "
                        "fine-tunes best, scratch trains composition transformers, auto picks by size; it "
                        "reports its choices and calibrates the std on held-out chemical systems")
    parser.add_argument("--budget", metavar="TIME", default=None,
                        help="with the recipe (implies --recipe auto): finish within TIME, e.g. 30min, 2h, 600s")
    parser.add_argument("--force", action="store_true", help="replace a model already in the output directory")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress lines")


def _network_class(name):
    """The estimator class ``--network NAME`` names: a built-in network or an installed package's."""
    from ..neural_network._base import BaseTorchRegressor
    from ..persistence._registry import load_network_entry_point, network_entry_points

    if name in BUILTIN_NETWORKS:
        module, _, attribute = BUILTIN_NETWORKS[name].partition(":")
        return getattr(importlib.import_module(module), attribute)
    installed = network_entry_points()
    if name not in installed:
        raise CommandError(f"--network {name}: no such network; built in: {', '.join(BUILTIN_NETWORKS)}; "
                           f"installed: {', '.join(sorted(installed)) or 'none'}")
    try:
        # Registered too, so that save_model can write it and load_model build it.
        cls = load_network_entry_point(name)
    except (ImportError, AttributeError, ValueError) as exc:
        raise CommandError(f"--network {name} ({installed[name]}): {exc}") from None
    if not issubclass(cls, BaseTorchRegressor):
        # The training options below are BaseTorchRegressor's parameters.
        raise CommandError(f"--network {name} ({installed[name]}) is not a subclass of "
                           "sklearn_hform.neural_network.BaseTorchRegressor")
    return cls


def _check_output(out, force):
    """Refuse a destination that cannot take the model before any training is done."""
    if out.exists() and not out.is_dir():
        raise CommandError(f"-o {out}: exists and is not a directory")
    if (out / "model.json").exists() and not force:
        raise CommandError(f"{out} already holds a model; pass --force to replace it")
    parent = out if out.is_dir() else next((p for p in out.parents if p.exists()), Path("."))
    import os

    if not os.access(parent, os.W_OK):
        raise CommandError(f"-o {out}: {parent} is not writable")


def run(args):
    """Run ``hform train``; returns the exit status."""
    from ..persistence._folder import save_model

    out = Path(args.output)
    _check_output(out, args.force)
    _check_option_combinations(args)
    network = None if args.init or args.recipe else _network_class(args.network)
    device = _device(args.device)
    frame, lines = read_csv(args.data, what="data")
    formulas = column(frame, args.column, "--column", args.data).to_numpy(dtype=object)
    raw_target = column(frame, args.target, "--target", args.data)
    target = _numeric_target(raw_target)
    problems = _bad_rows(formulas, raw_target, target)
    _report_bad_rows(problems, lines, args)
    X, y, X_test, y_test = _usable_rows(formulas, target, problems, args)

    report = None
    if args.recipe:
        model, seconds, report = _recipe(args, X, y, device)
    elif args.init:
        model, seconds = _fine_tuned(args, X, y, _training_options(args, device), device)
    else:
        model, seconds = _trained(args, network, X, y, _training_options(args, device), device)
    scores = _scores(model, X, y, X_test, y_test)
    metadata = _metadata(args, device, seconds, frame, problems, y, scores)
    if report is not None:
        metadata["recipe"] = report
    save_model(model, out, metadata=metadata)
    summary = f"trained in {seconds:.1f} s; training MAE {scores['train_mae']:.4f}"
    if "test_mae" in scores:
        summary += f", held-out MAE {scores['test_mae']:.4f} on {scores['test_rows']} row(s)"
    print(f"{summary}; saved to {out}")
    return 0


def _check_option_combinations(args):
    """Refuse the options that do not go together, before any data is read."""
    if args.budget is not None:
        from ..recipes import parse_budget

        try:
            parse_budget(args.budget)
        except ValueError as exc:
            raise CommandError(f"--budget: {exc}") from None
        args.recipe = args.recipe or "auto"
    chosen = [f for f in RECIPE_CHOOSES if any(a == f or a.startswith(f + "=") for a in args.argv)]
    if args.recipe and chosen:
        raise CommandError(f"--recipe chooses {', '.join(chosen)} itself; drop them, or drop --recipe/--budget")
    fixed = [f for f in ARCHITECTURE_OPTIONS if any(a == f or a.startswith(f + "=") for a in args.argv)]
    if args.init and fixed:
        raise CommandError(f"--init keeps the model's architecture; {', '.join(fixed)} cannot be given with it")
    if args.network != "mlp" and any(a == "--hidden" or a.startswith("--hidden=") for a in args.argv):
        raise CommandError(f"--hidden sets the layers of the mlp network, not of --network {args.network}")


def _recipe(args, X, y, device):
    """The recipe's model of ``X, y``, the seconds it took and its report."""
    from ..recipes import train_own_data

    t0 = time.perf_counter()
    model, report = train_own_data(X, y, start=args.recipe, budget=args.budget, random_state=args.seed,
                                   device=device, log=None if args.quiet else (lambda line: err(f"recipe: {line}")))
    return model, time.perf_counter() - t0, report


def _device(name):
    """The concrete device ``--device NAME`` names (``"auto"`` resolved)."""
    from .._training._devices import resolve_device

    try:
        return resolve_device(name)
    except ValueError as exc:
        raise CommandError(str(exc)) from None


def _numeric_target(raw_target):
    """The target column as floats, NaN where it is not a number."""
    import pandas as pd

    return pd.to_numeric(raw_target, errors="coerce").to_numpy(dtype=np.float64)


def _bad_rows(formulas, raw_target, target):
    """``{row: reason}`` for every row with a target that is not a finite number or an unreadable formula."""
    from ..composition._formula import FormulaError
    from ..composition._fraction_transformer import CompositionFractionTransformer

    problems = {}
    for i in np.flatnonzero(~np.isfinite(target)):
        problems[i] = f"target {raw_target.iloc[i]!r} is not a finite number"
    try:
        CompositionFractionTransformer().fit(formulas)
    except FormulaError as exc:
        for row, _, value, reason in exc.problems:
            problems.setdefault(row, f"{value!r}: {reason}")
    return problems


def _report_bad_rows(problems, lines, args):
    """List the bad rows by line; fail unless ``--skip-bad-rows``."""
    if not problems:
        return
    rows = sorted(problems)
    report_rows([(f"line {lines[i]}", problems[i]) for i in rows], "bad row")
    if not args.skip_bad_rows:
        raise CommandError(f"{len(rows)} bad row(s) in {args.data}; fix them or pass --skip-bad-rows")
    err(f"skipping {len(rows)} bad row(s)")


def _usable_rows(formulas, target, problems, args):
    """``X, y, X_test, y_test`` from the good rows (the test pair None without ``--test-fraction``)."""
    from sklearn.model_selection import train_test_split

    keep = np.setdiff1d(np.arange(len(formulas)), list(problems))
    X, y = formulas[keep], target[keep]
    if len(y) < 2:
        raise CommandError(f"{args.data}: {len(y)} usable row(s); need at least 2 to train")
    X_test = y_test = None
    if args.test_fraction:
        X, X_test, y, y_test = train_test_split(X, y, test_size=args.test_fraction, random_state=args.seed)
    return X, y, X_test, y_test


def _training_options(args, device):
    """The training parameters of the networks, a progress line per epoch unless ``--quiet``."""
    training = dict(lr=args.lr, batch_size=args.batch_size, max_epochs=args.epochs, random_state=args.seed,
                    device=device, callbacks=None)
    if not args.quiet:
        from .._training._callbacks import EpochProgress

        training["callbacks"] = [("progress", EpochProgress(columns=("train_loss",), stream="stderr"))]
    return training


def _fine_tuned(args, X, y, training, device):
    """The ``--init`` model fine-tuned on ``X, y``, and the seconds it took."""
    from ..neural_network._fine_tune import fine_tune

    start = load_model_argument(args.init)
    if not args.quiet:
        err(f"fine-tuning {args.init} for {args.epochs} epochs on {len(y):,} row(s) on {device}")
    t0 = time.perf_counter()
    calibrated = hasattr(start, "steps") and hasattr(start[-1], "calibration_")
    try:
        with warnings.catch_warnings():
            # Said below as a message of this command, not as a Python warning.
            warnings.filterwarnings("ignore", message="fine_tune dropped", category=UserWarning)
            model = fine_tune(start, X, y, **training)
    except TypeError as exc:
        raise CommandError(f"--init {args.init}: {exc}") from None
    if calibrated:
        err(f"warning: the calibration of {args.init} described its networks before fine-tuning and was "
            "dropped; the std is the members' raw spread until DeepEnsembleRegressor.calibrate is run "
            "on held-out rows")
    return model, time.perf_counter() - t0


def _trained(args, network, X, y, training, device):
    """A new pipeline of ``network`` (an ensemble with ``--ensemble``) fitted on ``X, y``, and the seconds it took."""
    from sklearn.pipeline import make_pipeline

    from ..composition._fraction_transformer import CompositionFractionTransformer
    from ..ensemble._deep_ensemble import DeepEnsembleRegressor

    architecture = {"hidden_layer_sizes": args.hidden} if args.network == "mlp" else {}
    member = network(optimizer=args.optimizer, **architecture, **training)
    regressor = member
    if args.ensemble > 1:
        regressor = DeepEnsembleRegressor(member, n_estimators=args.ensemble, random_state=args.seed)
    model = make_pipeline(CompositionFractionTransformer(), regressor)
    if not args.quiet:
        shape = args.hidden if args.network == "mlp" else args.network
        err(f"training {args.ensemble} x network {shape} for {args.epochs} epochs on {len(y):,} row(s) "
            f"on {device}")
    t0 = time.perf_counter()
    model.fit(X, y)
    return model, time.perf_counter() - t0


def _scores(model, X, y, X_test, y_test):
    """Training MAE, and the held-out MAE and row count where rows were held out."""
    from sklearn.metrics import mean_absolute_error

    scores = {"train_mae": float(mean_absolute_error(y, model.predict(X)))}
    if X_test is not None:
        scores["test_mae"] = float(mean_absolute_error(y_test, model.predict(X_test)))
        scores["test_rows"] = int(len(y_test))
    return scores


def _metadata(args, device, seconds, frame, problems, y, scores):
    """The run record saved with the model: command, data file, rows and scores."""
    from ..utils._records import run_record

    data_path = Path(args.data)
    return run_record(
        ["hform", *args.argv], seed=args.seed, device=device, train_seconds=seconds,
        data={
            "file": str(data_path),
            "sha256": hashlib.sha256(data_path.read_bytes()).hexdigest() if data_path.is_file() else None,
            "formula_column": args.column,
            "target_column": args.target,
            "rows": int(len(frame)),
            "skipped_rows": int(len(problems)),
        },
        train_rows=int(len(y)),
        initial_model=args.init,
        **scores,
    )
