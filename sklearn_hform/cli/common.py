"""What the ``hform`` commands share: errors, model lookup, CSV reading, argument types, tables."""

import argparse
import csv
import io
import math
import os
import sys
from pathlib import Path

__all__ = [
    "EXIT_BAD_ROWS",
    "EXIT_FAILED",
    "EXIT_OK",
    "EXIT_USAGE",
    "MAX_REPORTED",
    "CommandError",
    "LineFormatter",
    "column",
    "err",
    "finite_float",
    "format_table",
    "fraction",
    "load_model_argument",
    "target_name",
    "positive_int",
    "read_csv",
    "report_rows",
    "system_and_step",
]

#: Exit status: everything done, every row good.
EXIT_OK = 0
#: Exit status: the command failed (bad input file, missing model, ...); nothing written.
EXIT_FAILED = 1
#: Exit status: the command line itself is wrong.
EXIT_USAGE = 2
#: Exit status: the good rows were written, but some rows were bad.
EXIT_BAD_ROWS = 3
#: How many bad rows are listed on stderr before only their count is given.
MAX_REPORTED = 20
#: ``--model pretrained:NAME`` always means the shipped model, whatever folders exist.
PRETRAINED_PREFIX = "pretrained:"


class LineFormatter(argparse.HelpFormatter):
    """Wrap each line of a description or epilog on its own, so examples stay one per line."""

    def _fill_text(self, text, width, indent):
        return "\n".join(super(LineFormatter, self)._fill_text(line, width, indent) for line in text.split("\n"))


class CommandError(Exception):
    """A failure to report on stderr as ``hform: error: ...`` with exit status 1."""


def err(message):
    """Print ``hform: message`` on stderr."""
    print(f"hform: {message}", file=sys.stderr)


def load_model_argument(spec, announce=True):
    """The model ``--model spec`` names, and say on stderr which one was used.

    The rule: ``pretrained:NAME`` is a shipped model; a value that contains a
    path separator or names an existing directory is a folder; any other
    value is the name of a shipped model (``paper``, ``best``).
    """
    from ..persistence._folder import load_model
    from ..pretrained import PRETRAINED_NAMES, load_pretrained

    names = ", ".join(repr(n) for n in PRETRAINED_NAMES)
    is_path = os.sep in spec or "/" in spec or Path(spec).is_dir()
    if spec.startswith(PRETRAINED_PREFIX) or not is_path:
        name = spec.removeprefix(PRETRAINED_PREFIX)
        if name not in PRETRAINED_NAMES:
            raise CommandError(
                f"--model {spec!r} is neither a pretrained model ({names}) nor an existing directory"
            )
        try:
            model = load_pretrained(name)
        except FileNotFoundError as exc:
            raise CommandError(f"{exc}; or pass --model DIR with a model saved by 'hform train'") from None
        if announce:
            err(f"model: pretrained {name!r}")
        return model
    if not Path(spec).is_dir():
        raise CommandError(f"--model {spec!r}: no such directory (pretrained models: {names})")
    try:
        model = load_model(spec)
    except (FileNotFoundError, ValueError) as exc:
        raise CommandError(str(exc)) from None
    if announce:
        shadow = f" (not the pretrained model; use --model {PRETRAINED_PREFIX}{spec} for that)"
        err(f"model: folder {spec}" + (shadow if spec in PRETRAINED_NAMES else ""))
    return model


def target_name(spec):
    """The target column a model folder was trained on by ``hform train``, or None (shipped models: ΔHf)."""
    from ..persistence._folder import load_model_metadata

    path = Path(spec)
    if spec.startswith(PRETRAINED_PREFIX) or not (os.sep in spec or "/" in spec or path.is_dir()):
        return None
    try:
        metadata = load_model_metadata(path)
    except (FileNotFoundError, ValueError):
        return None
    name = (metadata.get("data") or {}).get("target_column") if isinstance(metadata, dict) else None
    return name if isinstance(name, str) and name else None


def read_csv(path, what="input"):
    """A CSV file as text columns, and the file line on which each data row starts.

    Every value stays text ("NA" or "" must reach the formula parser as
    written, not become NaN). Blank lines are skipped; quoted fields may
    span lines; the reported line numbers are those an editor shows.

    Returns
    -------
    frame : pandas.DataFrame
    lines : list of int
    """
    import pandas as pd

    try:
        if str(path) == "-":
            text = sys.stdin.read()
        else:
            with open(path, encoding="utf-8", newline="") as f:
                text = f.read()
    except FileNotFoundError:
        raise CommandError(f"{what} file {str(path)!r} not found") from None
    except IsADirectoryError:
        raise CommandError(f"{what} file {str(path)!r} is a directory") from None
    except UnicodeDecodeError as exc:
        raise CommandError(f"cannot read {what} file {str(path)!r} as UTF-8 text: {exc}") from None
    reader = csv.reader(io.StringIO(text, newline=""))
    header, rows, lines, last = None, [], [], 0
    try:
        for record in reader:
            start, last = last + 1, reader.line_num
            if not record or record == [""]:
                continue
            if header is None:
                header = record
                continue
            if len(record) != len(header):
                raise CommandError(
                    f"{what} file {str(path)!r}, line {start}: {len(record)} field(s), the header has {len(header)}"
                )
            rows.append(record)
            lines.append(start)
    except csv.Error as exc:
        raise CommandError(f"cannot read {what} file {str(path)!r} as CSV, line {reader.line_num}: {exc}") from None
    if header is None:
        raise CommandError(f"{what} file {str(path)!r} is empty")
    if len(set(header)) != len(header):
        raise CommandError(f"{what} file {str(path)!r}: the header repeats a column name")
    return pd.DataFrame(rows, columns=header, dtype=object), lines


def system_and_step(system, step):
    """The elements of ``system`` after checking it and the grid ``step`` (None: no grid), or a ``CommandError``."""
    from ..stability._systems import check_step, parse_chemical_system

    try:
        elements = parse_chemical_system(system)
        if step is not None:
            check_step(step)
    except ValueError as exc:
        raise CommandError(str(exc).replace("step=", "--step ")) from None
    return elements


def column(frame, name, option, path):
    """``frame[name]``, or a ``CommandError`` listing the columns and the option that picks one."""
    if name not in frame.columns:
        raise CommandError(
            f"{path}: no column {name!r} (columns: {', '.join(map(repr, frame.columns))}); choose one with {option}"
        )
    return frame[name]


def report_rows(items, what):
    """List ``(where, message)`` items on stderr, the first few in full."""
    for where, message in items[:MAX_REPORTED]:
        err(f"{what}: {where}: {message}")
    if len(items) > MAX_REPORTED:
        err(f"{what}: ... and {len(items) - MAX_REPORTED} more")


def format_table(columns, rows):
    """A plain-text table: the first column left-aligned, the others right-aligned."""
    widths = [max(len(c), *(len(r[j]) for r in rows)) if rows else len(c) for j, c in enumerate(columns)]
    lines = ["  ".join(c.ljust(w) if j == 0 else c.rjust(w) for j, (c, w) in enumerate(zip(columns, widths)))]
    lines.append("  ".join("-" * w for w in widths))
    for r in rows:
        lines.append("  ".join(v.ljust(w) if j == 0 else v.rjust(w) for j, (v, w) in enumerate(zip(r, widths))).rstrip())
    return "\n".join(lines)


def positive_int(text):
    """argparse type: an integer >= 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


def finite_float(text):
    """argparse type: a finite number (no nan, no inf)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
    return value


def fraction(text):
    """argparse type: a number strictly between 0 and 1."""
    value = finite_float(text)
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"expected a fraction between 0 and 1, got {value}")
    return value
