"""``hform predict``: formation enthalpies of formulas given as arguments or in a CSV file.

A thin layer over :func:`sklearn_hform.prediction.predict_formulas`.
"""

import contextlib
import itertools
import os
import shutil
import stat
import sys
import tempfile
from pathlib import Path
from typing import NamedTuple, Optional

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
    read_csv_chunks,
    report_rows,
    target_name,
)

__all__ = ["ERROR", "PREDICTION", "STD", "add_arguments", "run"]

PREDICTION = "dHf_eV_per_atom"
STD = "std_eV_per_atom"
ERROR = "error"
#: Inputs of at least this many rows get a progress bar even when stderr is not a terminal.
LONG_INPUT = 20_000
#: Input files of at least this many bytes get a progress bar from the start, terminal or not.
LONG_INPUT_BYTES = 1 << 20
#: Rows of ``-i`` read, predicted and written at a time: the memory a run needs grows with this, not
#: with the file.
STREAM_ROWS = 65_536
#: How the output CSV writes numbers.
FLOAT_FORMAT = "%.6g"

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
    "'paper', 'best' or 'expt' (pretrained; 'expt' predicts the experimental dHf at 298 K), or a directory "
    "written by 'hform train'; a value with a path separator or naming an existing directory is a directory, "
    "'pretrained:NAME' always the shipped model (default: paper)"
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
        chunks = read_csv_chunks(args.input, STREAM_ROWS)
        # The first chunk holds the header: a wrong --column fails before the model is loaded.
        first = next(chunks)
        column(first[0], args.column, "--column", args.input)
        model, columns = _model_and_columns(args, first[0].columns)
        return _stream(args, model, columns, itertools.chain([first], chunks))
    frame = pd.DataFrame({"formula": args.formulas})
    formulas = np.asarray(args.formulas, dtype=object)
    where = [f"argument {i + 1}" for i in range(len(formulas))]
    model, columns = _model_and_columns(args, frame.columns)
    progress = not args.no_progress and (sys.stderr.isatty() or len(formulas) >= LONG_INPUT)
    result = predict_formulas(model, formulas, return_std=columns.ensemble, confidence=args.confidence,
                              progress=progress)
    errors = result["error"].to_numpy(dtype=object)
    bad = np.flatnonzero(errors != "")
    report_rows([(where[i], f"{formulas[i]!r}: {errors[i]}") for i in bad], "bad formula")
    unseen = np.flatnonzero(result["unseen_elements"].to_numpy(dtype=object) != "")
    if len(unseen):
        elements = {e for i in unseen for e in result["unseen_elements"].iat[i].split(",")}
        _warn_unseen(len(unseen), elements, [where[i] for i in unseen[:MAX_REPORTED]])
    if len(bad) and args.on_error == "fail":
        raise CommandError(f"{len(bad)} of {len(formulas)} formula(s) could not be read; nothing written")
    if args.output:
        destination = sys.stdout if args.output == "-" else args.output
        _output(frame, result, columns).to_csv(destination, index=False, float_format=FLOAT_FORMAT,
                                               lineterminator="\n")
        if args.output != "-":
            err(f"wrote {len(frame)} row(s) to {args.output} ({len(formulas) - len(bad)} predicted, {len(bad)} bad)")
    else:
        label = "dHf (eV/atom)" if columns.target is None else columns.target
        print(format_table(*_table(formulas, result, columns.ensemble, len(bad) > 0, label, args.confidence)))
    return EXIT_BAD_ROWS if len(bad) else EXIT_OK


class _Columns(NamedTuple):
    """The columns ``hform predict`` adds to its input."""

    target: Optional[str]
    prediction: str
    std: Optional[str]
    bounds: list
    ensemble: bool

    @property
    def new(self):
        return [self.prediction, *([self.std] if self.ensemble else []), *self.bounds, ERROR]


def _model_and_columns(args, input_columns):
    """The model of ``--model`` and the columns the output adds, checked against ``input_columns``."""
    from ..prediction import supports_std

    if args.confidence is not None and not 0 < args.confidence < 1:
        raise CommandError(f"--confidence must lie between 0 and 1, got {args.confidence!r}")
    model = load_model_argument(args.model)
    if args.confidence is not None and not hasattr(model[-1], "calibration_"):
        raise CommandError(f"--confidence needs a calibrated ensemble (such as --model best); "
                           f"{args.model!r} gives no intervals")
    target = target_name(args.model)
    # A model trained by 'hform train' predicts the column it was trained on.
    prediction, std = (PREDICTION, STD) if target is None else (target, f"{target}_std")
    bounds = [f"{prediction}_lower", f"{prediction}_upper"] if args.confidence is not None else []
    # Whether predict_formulas will add a std (its return_std=None rule), known before predicting.
    columns = _Columns(target, prediction, std, bounds, supports_std(model))
    clash = [c for c in columns.new if c in input_columns]
    if clash:
        raise CommandError(f"the input already has column(s) {clash}, which the output would overwrite")
    return model, columns


def _output(frame, result, columns):
    """``frame`` with the columns of ``predict_formulas``' ``result`` added."""
    out = frame.copy()
    out[columns.prediction] = result["prediction"].to_numpy()
    if columns.ensemble:
        out[columns.std] = result["std"].to_numpy()
    for name, side in zip(columns.bounds, ("lower", "upper")):
        out[name] = result[side].to_numpy()
    out[ERROR] = result["error"].to_numpy(dtype=object)
    return out


def _warn_unseen(count, elements, shown):
    """Warn that ``count`` formulas hold ``elements`` the model never saw; ``shown``: where the first are."""
    where = ", ".join(shown) + (" ..." if count > len(shown) else "")
    err(f"warning: {count} formula(s) contain element(s) {sorted(elements)} absent from the model's "
        f"training data; their predictions are extrapolations ({where})")


def _stream(args, model, columns, chunks):
    """Predict ``-i``'s rows chunk by chunk and write each chunk when predicted; returns the exit status.

    The output goes to a temporary file renamed into place at the end, so an
    interrupted or failed run leaves no output that looks complete, and
    ``--on-error fail`` writes nothing; only ``--on-error report`` to stdout
    streams straight out.
    """
    from ..prediction import predict_formulas

    to_stdout = args.output in (None, "-")
    staged = None if to_stdout and args.on_error == "report" else _Staged(None if to_stdout else args.output)
    bar = _Progress(args.input, enabled=not args.no_progress)
    n_rows = n_bad = n_unseen = 0
    bad_items, unseen_where, elements = [], [], set()
    try:
        handle = sys.stdout if staged is None else staged.open()
        for frame, lines in chunks:
            formulas = frame[args.column].to_numpy(dtype=object)
            result = predict_formulas(model, formulas, return_std=columns.ensemble, confidence=args.confidence,
                                      progress=False)
            errors = result["error"].to_numpy(dtype=object)
            bad = np.flatnonzero(errors != "")
            # Only the first few rows are kept for the messages: the file may not fit in memory.
            for i in bad[: MAX_REPORTED - len(bad_items)]:
                bad_items.append((f"line {lines[i]}", f"{formulas[i]!r}: {errors[i]}"))
            unseen_column = result["unseen_elements"].to_numpy(dtype=object)
            unseen = np.flatnonzero(unseen_column != "")
            unseen_where += [f"line {lines[i]}" for i in unseen[: MAX_REPORTED - len(unseen_where)]]
            elements.update(e for i in unseen for e in unseen_column[i].split(","))
            # In fail mode, once a row is bad the output will be thrown away: stop writing it.
            if not (n_bad + len(bad) and args.on_error == "fail"):
                _output(frame, result, columns).to_csv(handle, header=n_rows == 0, index=False,
                                                       float_format=FLOAT_FORMAT, lineterminator="\n")
                handle.flush()
            n_rows, n_bad, n_unseen = n_rows + len(frame), n_bad + len(bad), n_unseen + len(unseen)
            bar.update(n_rows, len(frame))
        bar.finish()
        bar.close()
        report_rows(bad_items, "bad formula", total=n_bad)
        if n_unseen:
            _warn_unseen(n_unseen, elements, unseen_where)
        if n_bad and args.on_error == "fail":
            raise CommandError(f"{n_bad} of {n_rows} formula(s) could not be read; nothing written")
        if staged is not None:
            staged.commit()
    finally:
        bar.close()
        if staged is not None:
            staged.discard()
    if not to_stdout:
        err(f"wrote {n_rows} row(s) to {args.output} ({n_rows - n_bad} predicted, {n_bad} bad)")
    return EXIT_BAD_ROWS if n_bad else EXIT_OK


class _Staged:
    """A temporary output file, moved into place (or copied to stdout) only when the run succeeds.

    Parameters
    ----------
    destination : str or None
        The output file; ``None``: stdout.
    """

    def __init__(self, destination):
        self.destination, self.path, self.handle = destination, None, None

    def open(self):
        """Create the temporary file and return it open for writing."""
        if self.destination is None:
            fd, self.path = tempfile.mkstemp(prefix="hform-predict-", suffix=".csv")
        else:
            # Beside the file the link points to, so the rename writes through a symbolic link.
            target = Path(os.path.realpath(self.destination))
            if target.is_dir():
                raise CommandError(f"output file {self.destination!r} is a directory")
            try:
                fd, self.path = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
            except OSError as exc:
                raise CommandError(f"cannot write output file {self.destination!r}: {exc.strerror}") from None
            # mkstemp makes the file private; give it the mode a plain open() would have.
            os.chmod(self.path, stat.S_IMODE(os.stat(target).st_mode) if target.exists() else 0o666 & ~_umask())
        self.handle = open(fd, "w", encoding="utf-8", newline="")
        return self.handle

    def commit(self):
        """Move the finished file into place, or copy it to stdout."""
        self.handle.close()
        if self.destination is None:
            with open(self.path, encoding="utf-8", newline="") as f:
                shutil.copyfileobj(f, sys.stdout)
            sys.stdout.flush()
        else:
            os.replace(self.path, os.path.realpath(self.destination))
            self.path = None

    def discard(self):
        """Remove the temporary file if it is still there (failure, interruption, or stdout copied)."""
        if self.handle is not None:
            self.handle.close()
        if self.path is not None:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.path)
            self.path = None


def _umask():
    """The process's umask (reading it means setting it: set it straight back)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


class _Progress:
    """The progress bar of ``hform predict -i``, on stderr.

    Shown from the start when stderr is a terminal or the input file is at
    least :data:`LONG_INPUT_BYTES`; otherwise (a pipe, stdin, a short file of
    many rows) from the moment :data:`LONG_INPUT` rows have been read. Its
    total is the file's line count, which is the row count but for blank
    lines and quoted line breaks; unknown for stdin.
    """

    def __init__(self, path, enabled):
        self.path, self.enabled, self.bar = path, enabled, None
        if enabled and (sys.stderr.isatty() or (_regular_size(path) or 0) >= LONG_INPUT_BYTES):
            self._start(0)

    def _start(self, initial):
        from tqdm import tqdm

        lines = _count_lines(self.path) if _regular_size(self.path) is not None else None
        total = None if lines is None else max(lines - 1, initial)  # less the header
        self.bar = tqdm(total=total, initial=initial, unit="formula", desc="predicting", file=sys.stderr)

    def update(self, done, n):
        """``n`` more rows predicted, ``done`` in all."""
        if self.bar is None and self.enabled and done >= LONG_INPUT:
            self._start(done - n)
        if self.bar is not None:
            self.bar.update(n)

    def finish(self):
        """End at 100%: the line count only approximates the rows."""
        if self.bar is not None and self.bar.total is not None and self.bar.n != self.bar.total:
            self.bar.total = self.bar.n
            self.bar.refresh()

    def close(self):
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def _regular_size(path):
    """The size in bytes of ``path`` if it is a regular file (not stdin, a pipe, ...), else None."""
    if str(path) == "-":
        return None
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_size if stat.S_ISREG(st.st_mode) else None


def _count_lines(path):
    """The number of lines of a file, counted in binary blocks (fast; never the whole file in memory)."""
    count, last = 0, b"\n"
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            count += block.count(b"\n")
            last = block[-1:]
    return count + (last != b"\n")


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
