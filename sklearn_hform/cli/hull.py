"""``hform hull``: screen a chemical system on a composition grid. A thin layer over :mod:`sklearn_hform.stability`."""

import numpy as np

from .common import (SCREENING_MODEL, CommandError, LineFormatter, err, finite_float, format_table, load_model_argument,
                     system_and_step)

__all__ = ["add_arguments", "run"]

HELP = "screen a chemical system for stable compositions"
DESCRIPTION = (
    "With --step: enumerate the compositions of a chemical system on a grid, predict their formation enthalpy, "
    "build the convex hull of the predictions (pymatgen PhaseDiagram, elements at 0) and list the compositions "
    "on or near it. Without --step: the same as 'hform screen SYSTEM' (generated candidates against the hull of "
    "the known phases), which does not list grid artefacts such as Al19Ni."
)
EPILOG = ("examples:\n  hform hull Li-O\n  hform hull Li-Fe-O --step 0.05 --e-above-hull 0.05 --plot hull.png")


def add_arguments(parser):
    """Declare the options of ``hform hull`` on ``parser``."""
    from .predict import MODEL_HELP

    parser.formatter_class = LineFormatter
    parser.description, parser.epilog = DESCRIPTION, EPILOG
    parser.add_argument("system", help="elements joined by '-', e.g. Li-Fe-O")
    parser.add_argument("--model", default=SCREENING_MODEL,
                        help=MODEL_HELP.replace("(default: paper)", f"(default: {SCREENING_MODEL})"))
    parser.add_argument("--step", type=finite_float, default=None,
                        help="grid spacing in atom fraction; must divide 1, e.g. 0.05 (default: no grid, screen)")
    parser.add_argument("--e-above-hull", type=finite_float, default=0.05, metavar="EV",
                        help="list compositions at most this far above the hull, eV/atom (default: 0.05)")
    parser.add_argument("--plot", metavar="PNG", help="save a plot of the hull (systems of 2 to 4 elements)")
    parser.add_argument("-o", "--output", metavar="CSV", help="write every grid composition with its energy above hull")


def run(args):
    """Run ``hform hull``; returns the exit status."""
    from ..stability._grid_screen import MAX_GRID, screen_grid
    from ..stability._plots import plot_hull
    from ..stability._systems import grid_size
    from .predict import PREDICTION, STD

    elements = system_and_step(args.system, args.step)
    if args.step is None:
        return _screen(args)
    size = grid_size(len(elements), args.step)
    if size > MAX_GRID:
        raise CommandError(
            f"{'-'.join(elements)} at --step {args.step:g} has {size:,} compositions, more than "
            f"{MAX_GRID:,} this command builds a hull for; use a coarser --step"
        )
    if args.plot and len(elements) > 4:
        raise CommandError(f"--plot draws systems of up to 4 elements, not {len(elements)}")
    if args.e_above_hull < 0:
        raise CommandError("--e-above-hull must not be negative")

    model = load_model_argument(args.model)
    table, diagram = screen_grid(model, elements, args.step)
    unseen = sorted({e for v in table["unseen_elements"] if v for e in v.split(",")})
    if unseen:
        err(f"warning: the model never saw {unseen} in training; predictions are extrapolations")
    ensemble = "std" in table
    if args.output:
        named = table.drop(columns="unseen_elements").rename(
            columns={"prediction": PREDICTION, "std": STD, "e_above_hull": "e_above_hull_eV_per_atom"}
        )
        named.to_csv(args.output, index=False, float_format="%.6g", lineterminator="\n")

    near = table[table["e_above_hull"] <= args.e_above_hull + 1e-9]
    print(f"{'-'.join(elements)}: {len(table)} compositions at step {args.step:g}; "
          f"{len(near)} predicted within {args.e_above_hull:g} eV/atom of the hull")
    if len(near):
        columns = ["formula", "dHf (eV/atom)", *(["std (eV/atom)"] if ensemble else []), "e_above_hull (eV/atom)"]
        rows = [
            [r.formula, f"{r.prediction:.4f}", *([f"{r.std:.4f}"] if ensemble else []), f"{r.e_above_hull:.4f}"]
            for r in near.itertuples()
        ]
        print(format_table(columns, rows))
    if args.output:
        err(f"wrote all {len(table)} compositions to {args.output}")
    if args.plot:
        try:
            plot_hull(diagram, args.plot, args.e_above_hull)
        except OSError as exc:
            raise CommandError(f"cannot write {args.plot}: {exc}") from None
        err(f"wrote the hull plot to {args.plot}")
    return 0 if np.isfinite(table["prediction"]).all() else 3


def _screen(args):
    """``hform hull SYSTEM`` without a grid: the candidates of ``hform screen`` against the known phases."""
    import argparse

    from . import screen

    err("no --step: screening generated candidates against the known phases (as 'hform screen')")
    options = argparse.Namespace(system=args.system, model=args.model, candidates=None, known=None, mode="hybrid",
                                 max_atoms=8, step=None, show=50, plot=args.plot, output=args.output)
    return screen.run(options)
