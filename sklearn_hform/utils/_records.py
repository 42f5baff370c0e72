"""How a model or a result was made: one record shared by the demo, the CLI and the training script.

A run record is a JSON-ready dict (command, seed, hardware, timings, the
time it finished) stored beside a saved model (``save_model(metadata=...)``)
or a result file, so that every published number can be traced to the
command and machine that produced it.
"""

import datetime
import os
import platform
import shlex
import subprocess
from pathlib import Path

__all__ = ["cpu_name", "git_commit", "hardware", "run_record"]


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
