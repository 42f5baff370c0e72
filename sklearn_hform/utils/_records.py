"""How a model or a result was made: one record shared by the demo, the CLI and the training script.

A run record is a JSON-ready dict (command, seed, hardware, timings, the
time it finished) stored beside a saved model (``save_model(metadata=...)``)
or a result file, so that every published number can be traced to the
command and machine that produced it. A study script (the gallery examples)
reads its options with :func:`parse_run_options` and writes its numbers with
their run record through :func:`write_result`.
"""

import datetime
import json
import os
import platform
import shlex
import subprocess
import sys
import time
from pathlib import Path

__all__ = ["cpu_name", "git_commit", "hardware", "parse_run_options", "run_record", "write_result"]


def cpu_name():
    """The processor's model name (Linux ``/proc/cpuinfo``), else what :mod:`platform` knows.

    Returns
    -------
    str
    """
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def hardware(device="cpu"):
    """The machine and the device a run used.

    Parameters
    ----------
    device : str, default="cpu"
        The resolved torch device (``"cpu"``, ``"cuda:0"``, ...).

    Returns
    -------
    dict
        ``platform``, ``processor``, ``cpu_count``, ``python``, ``torch``
        (when torch is installed), ``device`` and ``device_name``.
    """
    info = {
        "platform": platform.platform(),
        "processor": cpu_name(),
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "device": device,
        "device_name": None,
    }
    try:
        import torch
    except ImportError:  # a record can describe a run that used no torch
        torch = None
    if torch is not None:
        info["torch"] = torch.__version__
        if device.startswith("cuda") and torch.cuda.is_available():
            info["device_name"] = torch.cuda.get_device_name(torch.device(device))
    if info["device_name"] is None:
        info["device_name"] = info["processor"]
    return info


def git_commit(directory):
    """The commit checked out in ``directory`` (``+dirty`` with local changes), or None.

    Parameters
    ----------
    directory : path-like

    Returns
    -------
    str or None
    """
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=directory, capture_output=True, text=True, timeout=10)
        dirty = subprocess.run(["git", "status", "--porcelain"], cwd=directory, capture_output=True, text=True,
                               timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    if head.returncode != 0:
        return None
    return head.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")


def run_record(command, *, seed=None, device="cpu", train_seconds=None, wall_seconds=None, repository=None,
               **fields):
    """The record of one run, ready for JSON.

    Parameters
    ----------
    command : str or sequence of str
        The command as typed; a sequence is quoted for a POSIX shell.
    seed : int or None, default=None
    device : str, default="cpu"
        The resolved device the run trained on.
    train_seconds, wall_seconds : float or None, default=None
        Rounded to 0.1 s.
    repository : path-like or None, default=None
        A git checkout whose commit is recorded as ``git_commit``.
    **fields
        Anything else to record (errors, row counts, ...); JSON types only.

    Returns
    -------
    dict
    """
    if not isinstance(command, str):
        command = shlex.join([str(c) for c in command])
    record = {"command": command, "seed": seed}
    if repository is not None:
        record["git_commit"] = git_commit(Path(repository))
    record["hardware"] = hardware(device)
    for key, value in (("train_seconds", train_seconds), ("wall_seconds", wall_seconds)):
        if value is not None:
            record[key] = round(float(value), 1)
    record["finished_at"] = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    record.update(fields)
    return record


def parse_run_options(parser, out, *, quick_help="a smoke run: a few thousand rows and a few epochs", args=None,
                      environ=None):
    """Parse a study script's options, adding the common ``--quick`` and ``--out DIR``.

    Arguments the parser does not know are ignored (sphinx-gallery runs a
    script with its own ``sys.argv``). The quick run is selected by
    ``--quick`` or by ``HFORM_QUICK`` set in the environment to anything but
    ``""`` or ``"0"`` (the documentation build and the test suite use it).

    Parameters
    ----------
    parser : argparse.ArgumentParser
        The script's parser with its own options; ``--quick`` and ``--out``
        are added to it.
    out : path-like
        The default of ``--out``: the folder the script writes its results to.
    quick_help : str, default="a smoke run: a few thousand rows and a few epochs"
        The help text of ``--quick``.
    args : sequence of str or None, default=None
        The arguments to parse; None reads ``sys.argv[1:]``.
    environ : mapping or None, default=None
        Where to look ``HFORM_QUICK`` up; None reads :data:`os.environ`.

    Returns
    -------
    argparse.Namespace
        The parsed options, with ``quick`` (bool, the environment taken into
        account), ``out`` (a :class:`~pathlib.Path`) and ``argv``: the
        arguments that were recognised, as typed, with ``--quick`` appended
        when only the environment selected it, ready for a run record's
        command.

    Examples
    --------
    >>> import argparse
    >>> from sklearn_hform.utils import parse_run_options
    >>> parser = argparse.ArgumentParser()
    >>> _ = parser.add_argument("--epochs", type=int, default=100)
    >>> options = parse_run_options(parser, "outputs/study", args=["--epochs", "5", "--foreign"],
    ...                             environ={"HFORM_QUICK": "1"})
    >>> options.quick, options.epochs, str(options.out), options.argv
    (True, 5, 'outputs/study', ['--epochs', '5', '--quick'])
    """
    parser.add_argument("--quick", action="store_true", help=quick_help)
    parser.add_argument("--out", type=Path, default=Path(out),
                        help="folder for the results (default: %(default)s)")
    argv = list(sys.argv[1:] if args is None else args)
    options, unknown = parser.parse_known_args(argv)
    # What was recognised: argv less the unknown arguments (kept in their order by argparse).
    known, rest = [], list(unknown)
    for arg in argv:
        if rest and arg == rest[0]:
            rest.pop(0)
        else:
            known.append(arg)
    environ = os.environ if environ is None else environ
    if not options.quick and environ.get("HFORM_QUICK", "0") not in ("", "0"):
        options.quick = True
        known.append("--quick")
    options.argv = known
    return options


def write_result(path, result, command, *, started=None, **record):
    """Write a result and the run record of the run that made it to one JSON file.

    Parameters
    ----------
    path : path-like
        The JSON file; its folder is made if missing.
    result : dict
        The numbers of the run (JSON types only); they come first in the file.
    command : str or sequence of str
        The command as typed, as for :func:`run_record`.
    started : float or None, default=None
        The :func:`time.perf_counter` reading when the run began: the wall
        time is measured from it, unless ``wall_seconds`` is given.
    **record
        The other arguments of :func:`run_record` (``seed``, ``device``,
        ``train_seconds``, ``wall_seconds``, ``repository``) and any further
        fields of the record.

    Returns
    -------
    dict
        What was written: ``result`` followed by the run record.

    Raises
    ------
    ValueError
        If ``result`` holds a key of the run record.

    Examples
    --------
    >>> import tempfile, time
    >>> from pathlib import Path
    >>> from sklearn_hform.utils import write_result
    >>> started = time.perf_counter()
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     written = write_result(Path(folder) / "study.json", {"mae": 0.075}, "python study.py",
    ...                            started=started, seed=0)
    >>> written["mae"], written["command"], written["seed"], "hardware" in written
    (0.075, 'python study.py', 0, True)
    """
    if started is not None and record.get("wall_seconds") is None:
        record["wall_seconds"] = time.perf_counter() - started
    run = run_record(command, **record)
    overlap = sorted(set(result) & set(run))
    if overlap:
        raise ValueError(f"the result holds keys of the run record: {overlap}")
    document = {**result, **run}
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2), encoding="utf-8")
    return document
