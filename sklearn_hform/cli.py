"""The ``hform`` command line: predict formation enthalpies, train a model, screen a hull.

Run ``hform --help`` or ``hform COMMAND --help``. Exit status is 0 on
success, 1 when the command fails (bad input, missing model, ...) and 2 on a
usage error; messages go to stderr, results to stdout or the ``-o`` file.
"""

import argparse
import datetime
import hashlib
import itertools
import math
import os
import platform
import shlex
import sys
from functools import reduce
from pathlib import Path

import numpy as np

PREDICTION = "dHf_eV_per_atom"
STD = "std_eV_per_atom"
ERROR = "error"
E_ABOVE_HULL = "e_above_hull_eV_per_atom"
#: Inputs at least this long get a progress bar even when stderr is not a terminal.
LONG_INPUT = 20_000
#: Rows featurized and predicted at a time (and the progress bar's step).
CHUNK = 8192
#: How many bad rows are listed on stderr before only their count is given.
MAX_REPORTED = 20
#: The largest composition grid ``hform hull`` accepts.
MAX_GRID = 20_000


class _LineFormatter(argparse.HelpFormatter):
    """Wrap each line of a description or epilog on its own, so examples stay one per line."""

    def _fill_text(self, text, width, indent):
        return "\n".join(super(_LineFormatter, self)._fill_text(line, width, indent) for line in text.split("\n"))


class CommandError(Exception):
    """A failure to report on stderr as ``hform: error: ...`` with exit status 1."""


def _err(message):
    print(f"hform: {message}", file=sys.stderr)


# -- models ----------------------------------------------------------------


def _load_model(spec):
    from .pretrained import PRETRAINED_NAMES, load_pipeline, load_pretrained

    if spec in PRETRAINED_NAMES:
        try:
            return load_pretrained(spec)
        except FileNotFoundError as exc:
            raise CommandError(f"{exc}; or pass --model DIR with a model saved by 'hform train'") from None
    path = Path(spec)
    if not path.is_dir():
        names = ", ".join(repr(n) for n in PRETRAINED_NAMES)
        raise CommandError(f"--model must be {names} or a directory written by 'hform train'; no directory {spec!r}")
    try:
        return load_pipeline(path)
    except (FileNotFoundError, ValueError) as exc:
        raise CommandError(str(exc)) from None


def _is_ensemble(model):
    from .ensemble import DeepEnsembleRegressor

    return isinstance(model[-1], DeepEnsembleRegressor)


def _predict_rows(model, formulas, progress=False):
    """Predict every formula that parses; report the others instead of failing.

    Returns
    -------
    mean, std : ndarray of float (NaN where a row failed); std is None
        unless the model is an ensemble.
    errors : ndarray of str, "" where the row was predicted.
    unseen : dict, row -> elements absent from the model's training data.
    """
    from tqdm import tqdm

    from ._formula import FormulaError

    transformer, regressor = model[0], model[-1]
    # Unseen elements are reported below with line numbers, which the
    # transformer's own warning (row positions within a chunk) cannot give.
    transformer.set_params(handle_unknown="ignore")
    ensemble = _is_ensemble(model)
    unseen_columns = ~np.isin(transformer.elements_, transformer.elements_seen_)

    formulas = np.asarray(formulas, dtype=object)
    n = len(formulas)
    mean = np.full(n, np.nan)
    std = np.full(n, np.nan) if ensemble else None
    errors = np.full(n, "", dtype=object)
    unseen = {}
    with tqdm(total=n, disable=not progress, unit="formula", file=sys.stderr, desc="predicting") as bar:
        for start in range(0, n, CHUNK):
            chunk = formulas[start : start + CHUNK]
            rows = np.arange(len(chunk))
            try:
                Xt = transformer.transform(chunk)
            except FormulaError as exc:
                bad = {row: reason for row, _, _, reason in exc.problems}
                errors[start + np.fromiter(bad, int, len(bad))] = list(bad.values())
                rows = np.setdiff1d(rows, list(bad))
                Xt = transformer.transform(chunk[rows]) if len(rows) else None
            if Xt is not None:
                if ensemble:
                    mean[start + rows], std[start + rows] = regressor.predict(Xt, return_std=True)
                else:
                    mean[start + rows] = regressor.predict(Xt)
                hits = Xt[:, unseen_columns] > 0
                for i in np.flatnonzero(hits.any(axis=1)):
                    unseen[start + rows[i]] = list(transformer.elements_[unseen_columns][hits[i]])
            bar.update(len(chunk))
    return mean, std, errors, unseen


def _report_rows(items, what):
    """List ``(where, message)`` items on stderr, the first few in full."""
    for where, message in items[:MAX_REPORTED]:
        _err(f"{what}: {where}: {message}")
    if len(items) > MAX_REPORTED:
        _err(f"{what}: ... and {len(items) - MAX_REPORTED} more")


def _format_table(columns, rows):
    widths = [max(len(c), *(len(r[j]) for r in rows)) if rows else len(c) for j, c in enumerate(columns)]
    lines = ["  ".join(c.ljust(w) if j == 0 else c.rjust(w) for j, (c, w) in enumerate(zip(columns, widths)))]
    lines.append("  ".join("-" * w for w in widths))
    for r in rows:
        lines.append("  ".join(v.ljust(w) if j == 0 else v.rjust(w) for j, (v, w) in enumerate(zip(r, widths))))
    return "\n".join(lines)


def _read_csv(path, what="input"):
    import pandas as pd

    source = sys.stdin if str(path) == "-" else path
    try:
        # Everything as text: "NA" or "" must reach the formula parser as
        # written, not become NaN.
        return pd.read_csv(source, dtype=str, keep_default_na=False)
    except FileNotFoundError:
        raise CommandError(f"{what} file {str(path)!r} not found") from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise CommandError(f"cannot read {what} file {str(path)!r} as CSV: {exc}") from None


def _column(frame, name, option, path):
    if name not in frame.columns:
        raise CommandError(
            f"{path}: no column {name!r} (columns: {', '.join(map(repr, frame.columns))}); choose one with {option}"
        )
    return frame[name]


# -- predict ---------------------------------------------------------------


def cmd_predict(args):
    import pandas as pd

    if args.formulas and args.input:
        raise CommandError("give formulas on the command line or -i FILE, not both")
    if not args.formulas and not args.input:
        raise CommandError("nothing to predict: give formulas (hform predict Fe2O3 NaCl) or -i FILE")
    if args.input:
        frame = _read_csv(args.input)
        formulas = _column(frame, args.column, "--column", args.input).to_numpy(dtype=object)
        # Line numbers as an editor shows them: the header is line 1.
        where = [f"line {i + 2}" for i in range(len(frame))]
    else:
        frame = pd.DataFrame({"formula": args.formulas})
        formulas = np.asarray(args.formulas, dtype=object)
        where = [f"argument {i + 1}" for i in range(len(formulas))]
    model = _load_model(args.model)
    ensemble = _is_ensemble(model)
    new_columns = [PREDICTION, *([STD] if ensemble else []), ERROR]
    clash = [c for c in new_columns if c in frame.columns]
    if clash:
        raise CommandError(f"the input already has column(s) {clash}, which the output would overwrite")

    progress = not args.no_progress and (sys.stderr.isatty() or len(formulas) >= LONG_INPUT)
    mean, std, errors, unseen = _predict_rows(model, formulas, progress=progress)

    bad = np.flatnonzero(errors != "")
    _report_rows([(where[i], f"{formulas[i]!r}: {errors[i]}") for i in bad], "bad formula")
    if unseen:
        elements = sorted({e for els in unseen.values() for e in els})
        rows = sorted(unseen)
        shown = ", ".join(where[i] for i in rows[:MAX_REPORTED]) + (" ..." if len(rows) > MAX_REPORTED else "")
        _err(
            f"warning: {len(rows)} formula(s) contain element(s) {elements} absent from the "
            f"model's training data; their predictions are extrapolations ({shown})"
        )
    if len(bad) and args.on_error == "fail":
        raise CommandError(f"{len(bad)} of {len(formulas)} formula(s) could not be read; nothing written")

    out = frame.copy()
    out[PREDICTION] = mean
    if ensemble:
        out[STD] = std
    out[ERROR] = errors
    if args.output or args.input:
        destination = sys.stdout if args.output in (None, "-") else args.output
        out.to_csv(destination, index=False, float_format="%.6g", lineterminator="\n")
        if args.output not in (None, "-"):
            _err(f"wrote {len(out)} row(s) to {args.output} ({len(formulas) - len(bad)} predicted, {len(bad)} bad)")
    else:
        columns = ["formula", "dHf (eV/atom)", *(["std (eV/atom)"] if ensemble else [])]
        if len(bad):
            columns.append("error")
        rows = []
        for i, f in enumerate(formulas):
            row = [str(f), "" if np.isnan(mean[i]) else f"{mean[i]:.4f}"]
            if ensemble:
                row.append("" if np.isnan(std[i]) else f"{std[i]:.4f}")
            if len(bad):
                row.append(errors[i])
            rows.append(row)
        print(_format_table(columns, rows))
    return 0


# -- train -----------------------------------------------------------------


def _hidden_sizes(text):
    try:
        sizes = tuple(int(w) for w in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {text!r}") from None
    if not sizes or min(sizes) < 1:
        raise argparse.ArgumentTypeError(f"layer widths must be positive, got {text!r}")
    return sizes


def _positive_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


def _fraction(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"expected a fraction between 0 and 1, got {value}")
    return value


def cmd_train(args):
    import pandas as pd
    from sklearn.metrics import mean_absolute_error
    from sklearn.model_selection import train_test_split
    from sklearn.pipeline import make_pipeline

    from . import CompositionFractionTransformer, DeepEnsembleRegressor, FormationEnthalpyRegressor
    from ._formula import FormulaError
    from .callbacks import EpochProgress
    from .pretrained import save_pipeline
    from .regressor import resolve_device

    out = Path(args.output)
    if (out / "model.json").exists() and not args.force:
        raise CommandError(f"{out} already holds a model; pass --force to replace it")
    frame = _read_csv(args.data, what="data")
    formulas = _column(frame, args.column, "--column", args.data).to_numpy(dtype=object)
    raw_target = _column(frame, args.target, "--target", args.data)
    target = pd.to_numeric(raw_target, errors="coerce").to_numpy(dtype=np.float64)

    problems = {}
    for i in np.flatnonzero(~np.isfinite(target)):
        problems[i] = f"target {raw_target.iloc[i]!r} is not a finite number"
    try:
        CompositionFractionTransformer().fit(formulas)
    except FormulaError as exc:
        for row, _, value, reason in exc.problems:
            problems.setdefault(row, f"{value!r}: {reason}")
    if problems:
        rows = sorted(problems)
        _report_rows([(f"line {i + 2}", problems[i]) for i in rows], "bad row")
        if not args.skip_bad_rows:
            raise CommandError(f"{len(rows)} bad row(s) in {args.data}; fix them or pass --skip-bad-rows")
        _err(f"skipping {len(rows)} bad row(s)")
    keep = np.setdiff1d(np.arange(len(frame)), list(problems))
    X, y = formulas[keep], target[keep]
    if len(y) < 2:
        raise CommandError(f"{args.data}: {len(y)} usable row(s); need at least 2 to train")

    X_test = y_test = None
    if args.test_fraction:
        X, X_test, y, y_test = train_test_split(X, y, test_size=args.test_fraction, random_state=args.seed)

    try:
        device = resolve_device(args.device)
    except ValueError as exc:
        raise CommandError(str(exc)) from None
    member = FormationEnthalpyRegressor(
        hidden_layer_sizes=args.hidden,
        optimizer=args.optimizer,
        lr=args.lr,
        batch_size=args.batch_size,
        max_epochs=args.epochs,
        random_state=args.seed,
        device=device,
        callbacks=None if args.quiet else [("progress", EpochProgress(columns=("train_loss",), stream="stderr"))],
    )
    regressor = member
    if args.ensemble > 1:
        regressor = DeepEnsembleRegressor(member, n_estimators=args.ensemble, random_state=args.seed)
    model = make_pipeline(CompositionFractionTransformer(), regressor)
    if not args.quiet:
        _err(
            f"training {args.ensemble} x network {args.hidden} for {args.epochs} epochs "
            f"on {len(y):,} row(s) on {device}"
        )
    start = datetime.datetime.now(datetime.timezone.utc)
    model.fit(X, y)
    seconds = (datetime.datetime.now(datetime.timezone.utc) - start).total_seconds()

    scores = {"train_mae": float(mean_absolute_error(y, model.predict(X)))}
    if X_test is not None:
        scores["test_mae"] = float(mean_absolute_error(y_test, model.predict(X_test)))
        scores["test_rows"] = int(len(y_test))
    data_path = Path(args.data)
    metadata = {
        "command": shlex.join(["hform", *args.argv]),
        "data": {
            "file": str(data_path),
            "sha256": hashlib.sha256(data_path.read_bytes()).hexdigest() if data_path.is_file() else None,
            "formula_column": args.column,
            "target_column": args.target,
            "rows": int(len(frame)),
            "skipped_rows": int(len(problems)),
        },
        "train_rows": int(len(y)),
        "seed": args.seed,
        "hardware": {
            "platform": platform.platform(),
            "cpu_count": os.cpu_count(),
            "device": device,
        },
        "train_seconds": round(seconds, 1),
        "finished_at": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        **scores,
    }
    save_pipeline(model, out, metadata=metadata)
    summary = f"trained in {seconds:.1f} s; training MAE {scores['train_mae']:.4f}"
    if "test_mae" in scores:
        summary += f", held-out MAE {scores['test_mae']:.4f} on {scores['test_rows']} row(s)"
    print(f"{summary}; saved to {out}")
    return 0


# -- hull ------------------------------------------------------------------


def _chemical_system(text):
    from ._formula import ATOMIC_NUMBER

    elements = [e.strip() for e in text.split("-")]
    unknown = [e for e in elements if e not in ATOMIC_NUMBER]
    if unknown:
        raise CommandError(f"{text!r}: not element symbol(s): {unknown} (write a system as Li-Fe-O)")
    if len(set(elements)) != len(elements):
        raise CommandError(f"{text!r}: an element appears twice")
    if len(elements) < 2:
        raise CommandError(f"{text!r}: a chemical system needs at least two elements, e.g. Li-O")
    return elements


def _grid(n_elements, parts):
    """Integer compositions summing to ``parts`` with at least two elements present.

    Stars and bars: each choice of ``n_elements - 1`` separators among
    ``parts + n_elements - 1`` slots is one composition.
    """
    slots = parts + n_elements - 1
    counts = []
    for bars in itertools.combinations(range(slots), n_elements - 1):
        edges = (-1, *bars, slots)
        c = [edges[j + 1] - edges[j] - 1 for j in range(n_elements)]
        if sum(v > 0 for v in c) >= 2:
            counts.append(c)
    return np.array(counts, dtype=int).reshape(-1, n_elements)


def cmd_hull(args):
    elements = _chemical_system(args.system)
    k = len(elements)
    parts = round(1 / args.step)
    if not 0 < args.step <= 0.5 or abs(parts * args.step - 1) > 1e-6:
        raise CommandError(f"--step {args.step:g} must divide 1 into at least two parts (e.g. 0.1, 0.05, 0.02)")
    size = math.comb(parts + k - 1, k - 1) - k
    if size > MAX_GRID:
        raise CommandError(
            f"{'-'.join(elements)} at --step {args.step:g} has {size:,} compositions, more than "
            f"{MAX_GRID:,} this command builds a hull for; use a coarser --step"
        )
    if args.plot and k > 4:
        raise CommandError(f"--plot draws systems of up to 4 elements, not {k}")
    if args.e_above_hull < 0:
        raise CommandError("--e-above-hull must not be negative")

    model = _load_model(args.model)
    from pymatgen.analysis.phase_diagram import PDEntry, PhaseDiagram
    from pymatgen.core import Composition, Element

    counts = _grid(k, parts)
    counts //= np.array([reduce(math.gcd, row) for row in counts])[:, None]
    # Electronegativity order, as chemists (and pymatgen) write formulas: LiFeO2.
    order = sorted(range(k), key=lambda j: (Element(elements[j]).X, elements[j]))
    formulas = ["".join(f"{elements[j]}{c[j] if c[j] > 1 else ''}" for j in order if c[j]) for c in counts]

    mean, std, errors, unseen = _predict_rows(model, formulas)
    if (errors != "").any():
        raise CommandError(f"the model cannot read {args.system}: {errors[errors != ''][0]}")
    if unseen:
        missing = sorted({e for els in unseen.values() for e in els})
        _err(f"warning: the model never saw {missing} in training; predictions are extrapolations")

    entries = [PDEntry(Composition({e: 1}), 0.0, name=e) for e in elements]
    grid_entries = []
    for formula, row, dhf in zip(formulas, counts, mean):
        comp = Composition({e: int(c) for e, c in zip(elements, row) if c})
        grid_entries.append(PDEntry(comp, float(dhf) * comp.num_atoms, name=formula))
    diagram = PhaseDiagram(entries + grid_entries)
    e_hull = np.array([diagram.get_e_above_hull(entry) for entry in grid_entries], dtype=float)

    ensemble = std is not None
    if args.output:
        import pandas as pd

        table = pd.DataFrame({"formula": formulas})
        for j, e in enumerate(elements):
            table[f"x_{e}"] = counts[:, j] / counts.sum(axis=1)
        table[PREDICTION] = mean
        if ensemble:
            table[STD] = std
        table[E_ABOVE_HULL] = e_hull
        table.sort_values([E_ABOVE_HULL, PREDICTION]).to_csv(
            args.output, index=False, float_format="%.6g", lineterminator="\n"
        )

    near = np.flatnonzero(e_hull <= args.e_above_hull + 1e-9)
    near = near[np.lexsort((mean[near], e_hull[near]))]
    print(
        f"{'-'.join(elements)}: {len(formulas)} compositions at step {args.step:g}; "
        f"{len(near)} predicted within {args.e_above_hull:g} eV/atom of the hull"
    )
    if len(near):
        columns = ["formula", "dHf (eV/atom)", *(["std (eV/atom)"] if ensemble else []), "e_above_hull (eV/atom)"]
        rows = [
            [formulas[i], f"{mean[i]:.4f}", *([f"{std[i]:.4f}"] if ensemble else []), f"{e_hull[i]:.4f}"]
            for i in near
        ]
        print(_format_table(columns, rows))
    if args.output:
        _err(f"wrote all {len(formulas)} compositions to {args.output}")
    if args.plot:
        _plot_hull(diagram, args.plot, args.e_above_hull)
        _err(f"wrote the hull plot to {args.plot}")
    return 0


def _plot_hull(diagram, path, e_above_hull):
    import logging

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from pymatgen.analysis.phase_diagram import PDPlotter

    # pymatgen fixes both the limits and the aspect of ternary plots, and
    # matplotlib logs a warning about it on every plot.
    logging.getLogger("matplotlib.axes._base").setLevel(logging.ERROR)
    plotter = PDPlotter(diagram, show_unstable=e_above_hull, backend="matplotlib")
    # Grid points off the hull are many and unnamed by chemistry: no labels.
    ax = plotter.get_plot(label_unstable=False)
    try:
        ax.figure.savefig(path, dpi=120, bbox_inches="tight")
    except OSError as exc:
        raise CommandError(f"cannot write {path}: {exc}") from None
    finally:
        plt.close(ax.figure)


# -- argument parsing ------------------------------------------------------


def build_parser():
    from . import __version__

    parser = argparse.ArgumentParser(
        prog="hform",
        description="Formation enthalpy (eV/atom) of inorganic compounds from their formula.",
        epilog="Run 'hform COMMAND --help' for the options of a command.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    model_help = "'paper', 'best' (pretrained) or a directory written by 'hform train' (default: paper)"

    p = commands.add_parser(
        "predict",
        help="predict the formation enthalpy of formulas",
        description="Predict the formation enthalpy (eV/atom) of formulas given as arguments or in a CSV "
        "file. Bad formulas are reported on stderr by line number; with --on-error report they are written "
        f"with the '{ERROR}' column filled and no prediction, with --on-error fail nothing is written.",
        epilog="examples:\n  hform predict Fe2O3 NaCl 'Ca(OH)2'\n"
        "  hform predict -i formulas.csv -o predictions.csv --column formula",
        formatter_class=_LineFormatter,
    )
    p.add_argument("formulas", nargs="*", metavar="FORMULA", help="formulas to predict, e.g. Fe2O3 NaCl")
    p.add_argument("-i", "--input", metavar="CSV", help="CSV file with a column of formulas ('-': stdin)")
    p.add_argument("-o", "--output", metavar="CSV", help="write a CSV here ('-': stdout) instead of a table; "
                   "with -i and no -o the CSV goes to stdout")
    p.add_argument("--column", default="formula", help="formula column of the input CSV (default: formula)")
    p.add_argument("--model", default="paper", help=model_help)
    p.add_argument(
        "--on-error",
        choices=["report", "fail"],
        default="report",
        help="bad rows: 'report' writes them with an error message (default), 'fail' exits with status 1",
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bar, even on long inputs")
    p.set_defaults(func=cmd_predict)

    p = commands.add_parser(
        "train",
        help="train a model on your own CSV data",
        description="Train a composition-to-property network on a CSV file (a formula column and a numeric "
        "target column) and save it to a directory that 'hform predict --model DIR' and "
        "sklearn_hform.pretrained.load_pipeline read.",
        epilog="example:\n  hform train data.csv --target formation_energy -o my_model --epochs 200",
        formatter_class=_LineFormatter,
    )
    p.add_argument("data", help="CSV file ('-': stdin)")
    p.add_argument("--target", required=True, help="name of the target column")
    p.add_argument("--column", default="formula", help="name of the formula column (default: formula)")
    p.add_argument("-o", "--output", required=True, metavar="DIR", help="directory to save the model in")
    # Defaults come from the estimator itself, so the CLI cannot drift from it.
    from .regressor import FormationEnthalpyRegressor

    defaults = FormationEnthalpyRegressor().get_params()
    p.add_argument("--epochs", type=_positive_int, default=defaults["max_epochs"],
                   help=f"training epochs (default: {defaults['max_epochs']})")
    p.add_argument(
        "--hidden",
        type=_hidden_sizes,
        default=defaults["hidden_layer_sizes"],
        metavar="W1,W2,...",
        help=f"hidden layer widths (default: {','.join(map(str, defaults['hidden_layer_sizes']))})",
    )
    p.add_argument("--lr", type=float, default=defaults["lr"], help=f"initial learning rate (default: {defaults['lr']:g})")
    p.add_argument("--batch-size", type=_positive_int, default=defaults["batch_size"],
                   help=f"rows per step (default: {defaults['batch_size']})")
    p.add_argument("--optimizer", choices=["rmsprop", "adam", "adamw"], default=defaults["optimizer"],
                   help=f"(default: {defaults['optimizer']})")
    p.add_argument(
        "--ensemble", type=_positive_int, default=1, metavar="N",
        help="train N independently seeded networks; predictions then come with a std (default: 1)",
    )
    p.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    p.add_argument("--device", default="auto", help="'auto', 'cpu' or 'cuda' (default: auto)")
    p.add_argument("--test-fraction", type=_fraction, default=None, metavar="F",
                   help="hold out this fraction of the rows and report the MAE on it")
    p.add_argument("--skip-bad-rows", action="store_true",
                   help="train on the good rows when some are bad (default: fail)")
    p.add_argument("--force", action="store_true", help="replace a model already in the output directory")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress lines")
    p.set_defaults(func=cmd_train)

    p = commands.add_parser(
        "hull",
        help="screen a chemical system for stable compositions",
        description="Enumerate the compositions of a chemical system on a grid, predict their formation "
        "enthalpy, build the convex hull (pymatgen PhaseDiagram, elements at 0) and list the compositions "
        "on or near it.",
        epilog="example:\n  hform hull Li-Fe-O --step 0.05 --e-above-hull 0.05 --plot hull.png",
        formatter_class=_LineFormatter,
    )
    p.add_argument("system", help="elements joined by '-', e.g. Li-Fe-O")
    p.add_argument("--model", default="paper", help=model_help)
    p.add_argument("--step", type=float, default=0.05,
                   help="grid spacing in atom fraction; must divide 1 (default: 0.05)")
    p.add_argument("--e-above-hull", type=float, default=0.05, metavar="EV",
                   help="list compositions at most this far above the hull, eV/atom (default: 0.05)")
    p.add_argument("--plot", metavar="PNG", help="save a plot of the hull (systems of 2 to 4 elements)")
    p.add_argument("-o", "--output", metavar="CSV", help="write every grid composition with its energy above hull")
    p.set_defaults(func=cmd_hull)
    return parser


def main(argv=None):
    """Run the ``hform`` command line.

    Parameters
    ----------
    argv : list of str, default=None
        Arguments without the program name; ``None`` reads ``sys.argv``.

    Returns
    -------
    int
        Exit status: 0 on success, 1 on failure (usage errors exit with 2
        through :class:`SystemExit`).
    """
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser()
    args = parser.parse_args(argv)
    args.argv = argv
    try:
        return args.func(args)
    except CommandError as exc:
        _err(f"error: {exc}")
    except (ValueError, TypeError, OSError) as exc:
        _err(f"error: {exc}")
    except KeyboardInterrupt:
        _err("interrupted")
        return 130
    return 1


if __name__ == "__main__":
    sys.exit(main())
