"""The ``hform`` command line: predict formation enthalpies, train a model, screen a hull.

Run ``hform --help`` or ``hform COMMAND --help``. Each command is a module
of this package over library functions Python users can call too
(:func:`sklearn_hform.prediction.predict_formulas`,
:func:`sklearn_hform.stability.screen_grid`, :func:`sklearn_hform.save_model`).
Messages go to stderr, results to stdout or the ``-o`` file.

Exit status: 0 done (every row good), 1 the command failed and wrote
nothing, 2 usage error, 3 done, but some input rows were bad (the good rows
were written).

Options and positional arguments may be mixed in any order
(``hform predict Fe2O3 --model best NaCl``). Nothing here imports torch until
a command needs a model, so ``hform --help`` is quick.

An error from bad input is one line on stderr. With ``--traceback`` (before
or after the command) or the environment variable ``HFORM_DEBUG=1``,
:func:`main` re-raises it instead, so the full traceback shows.
"""

import argparse
import importlib
import os
import sys

from .._version import __version__
from .common import EXIT_FAILED, CommandError, err

__all__ = ["COMMANDS", "DEBUG_VARIABLE", "build_parser", "main"]

#: Environment variable that, set to anything but ``""`` or ``"0"``, acts as ``--traceback``.
DEBUG_VARIABLE = "HFORM_DEBUG"
_TRACEBACK_HELP = f"show the full traceback of an error instead of a one-line message (or set {DEBUG_VARIABLE}=1)"

#: Command name -> (module, one-line help).
COMMANDS = {
    "predict": ("predict", "predict the formation enthalpy of formulas"),
    "train": ("train", "train a model on your own CSV data"),
    "screen": ("screen", "screen a chemical system against the hull of its known phases"),
    "hull": ("hull", "the predicted hull of a composition grid of a chemical system"),
}


def _top_parser():
    listing = "\n".join(f"  {name:<9} {text}" for name, (_, text) in COMMANDS.items())
    parser = argparse.ArgumentParser(
        prog="hform",
        description="Formation enthalpy (eV/atom) of inorganic compounds from their formula.",
        epilog=f"commands:\n{listing}\n\nRun 'hform COMMAND --help' for the options of a command.\n"
        "Exit status: 0 done, 1 failed, 2 usage error, 3 done but some input rows were bad.\n"
        f"To report a bug, run the command again with --traceback (or {DEBUG_VARIABLE}=1).",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("--traceback", action="store_true", help=_TRACEBACK_HELP)
    parser.add_argument("command", choices=list(COMMANDS), metavar="COMMAND", help="one of: " + ", ".join(COMMANDS))
    parser.add_argument("args", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    return parser


def build_parser(command):
    """The argument parser of one command.

    Parameters
    ----------
    command : {"predict", "train", "hull"}

    Returns
    -------
    argparse.ArgumentParser
    """
    module = importlib.import_module(f".{COMMANDS[command][0]}", __name__)
    parser = argparse.ArgumentParser(prog=f"hform {command}")
    module.add_arguments(parser)
    # Also accepted after the command, where users append flags; documented once, in 'hform --help'.
    parser.add_argument("--traceback", action="store_true", help=argparse.SUPPRESS)
    parser.set_defaults(func=module.run)
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
        The exit status (usage errors exit with 2 through
        :class:`SystemExit`, as argparse does).

    Raises
    ------
    Exception
        Any error of the command, when ``--traceback`` is given or
        ``HFORM_DEBUG`` is set (to anything but ``""`` or ``"0"``); without
        them, errors from bad input are reported on stderr in one line.
    """
    argv = sys.argv[1:] if argv is None else list(argv)
    top = _top_parser().parse_args(argv)
    args = build_parser(top.command).parse_intermixed_args(top.args)
    args.argv = argv
    if top.traceback or args.traceback or os.environ.get(DEBUG_VARIABLE, "") not in ("", "0"):
        return args.func(args)
    try:
        return args.func(args)
    except CommandError as exc:
        err(f"error: {exc}")
    except (ValueError, TypeError, OSError) as exc:
        err(f"error: {exc}")
    except KeyboardInterrupt:
        err("interrupted")
        return 130
    return EXIT_FAILED
