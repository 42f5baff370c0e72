"""``hform predict``: formation enthalpies of formulas given as arguments or in a CSV file.

A thin layer over :func:`sklearn_hform.prediction.predict_formulas`.
"""

import sys

import numpy as np

from .common import (
    EXIT_BAD_ROWS,
    EXIT_OK,
    MAX_REPORTED,
    CommandError,
    LineFormatter,
    column,
    err,
    format_table,
    load_model_argument,
    read_csv,
    report_rows,
    target_name,
)

__all__ = ["ERROR", "PREDICTION", "STD", "add_arguments", "run"]

PREDICTION = "dHf_eV_per_atom"
STD = "std_eV_per_atom"
ERROR = "error"
#: Inputs at least this long get a progress bar even when stderr is not a terminal.
LONG_INPUT = 20_000

HELP = "predict the formation enthalpy of formulas"
DESCRIPTION = (
    "Predict the formation enthalpy (eV/atom) of formulas given as arguments or in a CSV file. Bad "
    "formulas are reported on stderr by line number; with --on-error report (the default) the good rows "
    f"are written and the bad ones get the '{ERROR}' column filled and no prediction; with --on-error fail "
    "nothing is written.\n"
    "exit status: 0 every row predicted, 3 some rows bad (the others written), 1 failure, 2 usage error."
)
EPILOG = (
    "examples:\n  hform predict Fe2O3 NaCl 'Ca(OH)2'\n  hform predict Fe2O3 --model best NaCl\n"
    "  hform predict Fe2O3 --model best --confidence 0.9\n"
    "  hform predict -i formulas.csv -o predictions.csv --column formula"
)
MODEL_HELP = (
    "'paper' or 'best' (pretrained), or a directory written by 'hform train'; a value with a path "
    "separator or naming an existing directory is a directory, 'pretrained:NAME' always the shipped "
    "model (default: paper)"
)


def add_arguments(parser):
    """Declare the options of ``hform predict`` on ``parser``."""
    parser.formatter_class = LineFormatter
    parser.description, parser.epilog = DESCRIPTION, EPILOG
    parser.add_argument("formulas", nargs="*", metavar="FORMULA", help="formulas to predict, e.g. Fe2O3 NaCl")
    parser.add_argument("-i", "--input", metavar="CSV", help="CSV file with a column of formulas ('-': stdin)")
    parser.add_argument("-o", "--output", metavar="CSV", help="write a CSV here ('-': stdout) instead of a "
                        "table; with -i and no -o the CSV goes to stdout")
    parser.add_argument("--column", default="formula", help="formula column of the input CSV (default: formula)")
    parser.add_argument("--model", default="paper", help=MODEL_HELP)
    parser.add_argument("--on-error", choices=["report", "fail"], default="report",
                        help="bad rows: 'report' writes them with an error message (default), "
                        "'fail' writes nothing and exits with status 1")
    parser.add_argument("--confidence", type=float, default=None, metavar="C",
                        help="add the bounds of the prediction interval at confidence C, e.g. 0.9 (calibrated "
                        "ensembles such as 'best')")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar, even on long inputs")


def run(args):
    """Run ``hform predict``; returns the exit status."""
    import pandas as pd

    from ..prediction import predict_formulas

    if args.formulas and args.input:
        raise CommandError("give formulas on the command line or -i FILE, not both")
    if not args.formulas and not args.input:
        raise CommandError("nothing to predict: give formulas (hform predict Fe2O3 NaCl) or -i FILE")
    if args.input:
        frame, lines = read_csv(args.input)
        formulas = column(frame, args.column, "--column", args.input).to_numpy(dtype=object)
        where = [f"line {n}" for n in lines]
    else:
        frame = pd.DataFrame({"formula": args.formulas})
        formulas = np.asarray(args.formulas, dtype=object)
        where = [f"argument {i + 1}" for i in range(len(formulas))]
    if args.confidence is not None and not 0 < args.confidence < 1:
        raise CommandError(f"--confidence must lie between 0 and 1, got {args.confidence!r}")
    model = load_model_argument(args.model)
    if args.confidence is not None and not hasattr(model[-1], "calibration_"):
        raise CommandError(f"--confidence needs a calibrated ensemble (such as --model best); "
                           f"{args.model!r} gives no intervals")
    target = target_name(args.model)
    # A model trained by 'hform train' predicts the column it was trained on.
    prediction, std_column = (PREDICTION, STD) if target is None else (target, f"{target}_std")
    progress = not args.no_progress and (sys.stderr.isatty() or len(formulas) >= LONG_INPUT)
    result = predict_formulas(model, formulas, confidence=args.confidence, progress=progress)
    ensemble = "std" in result
    bounds = [f"{prediction}_lower", f"{prediction}_upper"] if args.confidence is not None else []
    new_columns = [prediction, *([std_column] if ensemble else []), *bounds, ERROR]
    clash = [c for c in new_columns if c in frame.columns]
    if clash:
        raise CommandError(f"the input already has column(s) {clash}, which the output would overwrite")

    errors = result["error"].to_numpy(dtype=object)
    bad = np.flatnonzero(errors != "")
    report_rows([(where[i], f"{formulas[i]!r}: {errors[i]}") for i in bad], "bad formula")
    unseen = np.flatnonzero(result["unseen_elements"].to_numpy(dtype=object) != "")
    if len(unseen):
        elements = sorted({e for i in unseen for e in result["unseen_elements"].iat[i].split(",")})
        shown = ", ".join(where[i] for i in unseen[:MAX_REPORTED]) + (" ..." if len(unseen) > MAX_REPORTED else "")
        err(f"warning: {len(unseen)} formula(s) contain element(s) {elements} absent from the model's "
            f"training data; their predictions are extrapolations ({shown})")
    if len(bad) and args.on_error == "fail":
        raise CommandError(f"{len(bad)} of {len(formulas)} formula(s) could not be read; nothing written")

    out = frame.copy()
    out[prediction] = result["prediction"].to_numpy()
    if ensemble:
        out[std_column] = result["std"].to_numpy()
    for name, side in zip(bounds, ("lower", "upper")):
        out[name] = result[side].to_numpy()
    out[ERROR] = errors
    if args.output or args.input:
        destination = sys.stdout if args.output in (None, "-") else args.output
        out.to_csv(destination, index=False, float_format="%.6g", lineterminator="\n")
        if args.output not in (None, "-"):
            err(f"wrote {len(out)} row(s) to {args.output} ({len(formulas) - len(bad)} predicted, {len(bad)} bad)")
    else:
        label = "dHf (eV/atom)" if target is None else target
        print(format_table(*_table(formulas, result, ensemble, len(bad) > 0, label, args.confidence)))
    return EXIT_BAD_ROWS if len(bad) else EXIT_OK


def _table(formulas, result, ensemble, with_errors, label, confidence):
    std_label = "std (eV/atom)" if label == "dHf (eV/atom)" else "std"
    bounds = [f"{confidence:.0%} lower", f"{confidence:.0%} upper"] if confidence is not None else []
    columns = ["formula", label, *([std_label] if ensemble else []), *bounds, *(["error"] if with_errors else [])]
    rows = []
    for i, f in enumerate(formulas):
        mean = result["prediction"].iat[i]
        row = [str(f), "" if np.isnan(mean) else f"{mean:.4f}"]
        if ensemble:
            std = result["std"].iat[i]
            row.append("" if np.isnan(std) else f"{std:.4f}")
        for side in ("lower", "upper") if confidence is not None else ():
            value = result[side].iat[i]
            row.append("" if np.isnan(value) else f"{value:.4f}")
        if with_errors:
            row.append(result["error"].iat[i])
        rows.append(row)
    return columns, rows
