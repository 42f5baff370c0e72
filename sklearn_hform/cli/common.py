"""What the ``hform`` commands share: errors, model lookup, CSV reading, argument types, tables."""

import argparse
import contextlib
import csv
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
    "read_csv_chunks",
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
#: The model ``hform screen`` and ``hform hull`` use unless told: the ensemble whose
#: P(stable) ships calibrated (benchmarks/bench_discovery.py).
SCREENING_MODEL = "best"
#: Rows per chunk when :func:`read_csv` reads a whole file through :func:`read_csv_chunks`.
READ_CSV_ROWS = 65_536


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


def read_csv_chunks(path, rows, what="input"):
    """Read a CSV file as text columns, ``rows`` data rows at a time.

    Every value stays text ("NA" or "" must reach the formula parser as
    written, not become NaN). Blank lines are skipped; quoted fields may
    span lines; the reported line numbers are those an editor shows. The
    file is read as the chunks are asked for, never whole, so a file larger
    than memory can be read; an error in it is raised when the reading
    reaches it, after the chunks before it were yielded.

    Parameters
    ----------
    path : str, path-like or text file object
        The file; ``"-"`` reads stdin. An open text file (opened with
        ``newline=""``) is read from where it stands and not closed.
    rows : int
        The most data rows in a chunk, at least 1.
    what : str, default="input"
        What the file is, for the error messages ("input file 'x.csv' ...").

    Yields
    ------
    frame : pandas.DataFrame
        Up to ``rows`` rows, every value a ``str``, the header's columns,
        indexed by the row's position among the file's data rows. A file
        with a header and no data rows yields one empty frame, so its
        columns are known.
    lines : list of int
        The file line on which each row of ``frame`` starts.

    Raises
    ------
    CommandError
        The file is missing, a directory, not UTF-8, not CSV, empty, has a
        repeated column name in its header or a row whose field count is not
        the header's.
    """
    import pandas as pd

    if isinstance(rows, bool) or not isinstance(rows, int) or rows < 1:
        raise ValueError(f"rows must be a positive integer, got {rows!r}")
    name = str(getattr(path, "name", "<stream>")) if hasattr(path, "readline") else str(path)
    with _open_text(path, name, what) as f:
        reader = csv.reader(f)
        header, block, lines, last, done = None, [], [], 0, 0
        try:
            for record in reader:
                start, last = last + 1, reader.line_num
                if not record or record == [""]:
                    continue
                if header is None:
                    header = record
                    # Checked here, not at the end: a stream would otherwise find out after predicting it.
                    if len(set(header)) != len(header):
                        raise CommandError(f"{what} file {name!r}: the header repeats a column name")
                    continue
                if len(record) != len(header):
                    raise CommandError(
                        f"{what} file {name!r}, line {start}: {len(record)} field(s), the header has {len(header)}"
                    )
                block.append(record)
                lines.append(start)
                if len(block) == rows:
                    yield _text_frame(pd, block, header, done), lines
                    done += len(block)
                    block, lines = [], []
        except csv.Error as exc:
            raise CommandError(f"cannot read {what} file {name!r} as CSV, line {reader.line_num}: {exc}") from None
        except UnicodeDecodeError as exc:
            # The text is decoded in blocks ahead of the parser, so the bad byte lies
            # somewhere after the last line parsed; exc's position is within a block.
            after = f" after line {reader.line_num}" if reader.line_num else ""
            byte = exc.object[exc.start : exc.start + 1].hex()
            raise CommandError(
                f"cannot read {what} file {name!r} as UTF-8 text{after}: {exc.reason} (byte 0x{byte})"
            ) from None
    if header is None:
        raise CommandError(f"{what} file {name!r} is empty")
    if block or not done:
        yield _text_frame(pd, block, header, done), lines


@contextlib.contextmanager
def _open_text(path, name, what):
    """``path`` open for reading as UTF-8 CSV text; stdin and open files are lent, not closed."""
    if hasattr(path, "readline"):
        yield path
        return
    if name == "-":
        yield sys.stdin
        return
    try:
        f = open(path, encoding="utf-8", newline="")
    except FileNotFoundError:
        raise CommandError(f"{what} file {name!r} not found") from None
    except IsADirectoryError:
        raise CommandError(f"{what} file {name!r} is a directory") from None
    with f:
        yield f


def _text_frame(pd, block, header, done):
    """The rows of ``block`` as a frame of text, indexed from ``done`` on."""
    return pd.DataFrame(block, columns=header, dtype=object, index=pd.RangeIndex(done, done + len(block)))


def read_csv(path, what="input"):
    """A CSV file as text columns, and the file line on which each data row starts.

    The whole file at once: :func:`read_csv_chunks`, whose rules it
    follows, joined.

    Parameters
    ----------
    path : str or path-like
        The file; ``"-"`` reads stdin.
    what : str, default="input"
        What the file is, for the error messages.

    Returns
    -------
    frame : pandas.DataFrame
    lines : list of int
    """
    import pandas as pd

    frames, lines = [], []
    for frame, chunk_lines in read_csv_chunks(path, READ_CSV_ROWS, what=what):
        frames.append(frame)
        lines.extend(chunk_lines)
    frame = frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)
    return frame, lines


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


def report_rows(items, what, total=None):
    """List ``(where, message)`` items on stderr, the first few in full.

    Parameters
    ----------
    items : list of (str, str)
        The rows, or (with ``total``) the first :data:`MAX_REPORTED` of them.
    what : str
        What the rows are ("bad formula"), the start of each line.
    total : int, default=None
        How many rows there are in all (``None``: ``len(items)``), for a
        reader of a stream that keeps only the first few.
    """
    total = len(items) if total is None else total
    for where, message in items[:MAX_REPORTED]:
        err(f"{what}: {where}: {message}")
    if total > MAX_REPORTED:
        err(f"{what}: ... and {total - MAX_REPORTED} more")


def format_table(columns, rows, left=()):
    """A plain-text table: the first column and those named in ``left`` left-aligned, the others right-aligned."""
    widths = [max(len(c), *(len(r[j]) for r in rows)) if rows else len(c) for j, c in enumerate(columns)]
    flush_left = [j == 0 or c in left for j, c in enumerate(columns)]

    def line(values):
        return "  ".join(v.ljust(w) if lft else v.rjust(w) for v, w, lft in zip(values, widths, flush_left)).rstrip()

    return "\n".join([line(columns), "  ".join("-" * w for w in widths), *(line(r) for r in rows)])


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
