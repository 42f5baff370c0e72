"""``hform screen``: candidates of a chemical system against the hull of its known phases.

A thin layer over :func:`sklearn_hform.stability.screen`.
"""

from .common import (
    CommandError,
    LineFormatter,
    err,
    finite_float,
    format_table,
    load_model_argument,
    positive_int,
    system_and_step,
)

__all__ = ["add_arguments", "run"]

DESCRIPTION = (
    "Screen a chemical system for new stable compounds: generate candidates (charge-neutral compositions where "
    "the system has an anion, the stoichiometries of known phases of analogous systems otherwise; a grid only with --step) or read yours, predict their "
    "formation enthalpy, and compare each with the convex hull of the system's known phases (the bundled OQMD "
    "energies by default, or --known CSV). Lists the candidates with their decomposition energy dHd (< 0: "
    "predicted stable), the competing phases and, for an ensemble, the probability of being stable."
)
EPILOG = (
    "examples:\n  hform screen Li-Fe-O --model best\n  hform screen Al-Ni --candidates Al3Ni AlNi Al19Ni -o al_ni.csv\n"
    "  hform screen Na-Cl --known my_dft.csv --plot na_cl.png"
)


def add_arguments(parser):
    """Declare the options of ``hform screen`` on ``parser``."""
    from .predict import MODEL_HELP

    parser.formatter_class = LineFormatter
    parser.description, parser.epilog = DESCRIPTION, EPILOG
    parser.add_argument("system", help="elements joined by '-', e.g. Li-Fe-O")
    parser.add_argument("--model", default="best", help=MODEL_HELP.replace("(default: paper)", "(default: best)"))
    parser.add_argument("--candidates", nargs="+", metavar="FORMULA", help="screen these formulas only")
    parser.add_argument("--known", metavar="CSV", help="known phases: columns formula, formation_enthalpy (eV/atom)")
    parser.add_argument("--mode", choices=["hybrid", "model"], default="hybrid",
                        help="hybrid: known phases at their known energies (default); model: all predicted")
    parser.add_argument("--max-atoms", type=positive_int, default=8, metavar="N",
                        help="largest formula unit of generated charge-neutral candidates (default: 8)")
    parser.add_argument("--step", type=finite_float, default=None, help="add a composition grid of this spacing")
    parser.add_argument("--show", type=positive_int, default=20, metavar="N", help="rows shown (default: 20)")
    parser.add_argument("--plot", metavar="PNG", help="save a plot (binary and ternary systems)")
    parser.add_argument("-o", "--output", metavar="CSV", help="write every candidate to a CSV file")


def run(args):
    """Run ``hform screen``; returns the exit status."""
    from ..stability._screen import screen

    elements = system_and_step(args.system, args.step)
    model = load_model_argument(args.model)
    table = screen(model, elements, candidates=args.candidates, known=args.known, mode=args.mode,
                   max_atoms=args.max_atoms, grid_step=args.step)
    unseen = sorted({e for v in table["unseen_elements"] if v for e in v.split(",")})
    if unseen:
        err(f"warning: the model never saw {unseen} in training; predictions are extrapolations")
    stable = int((table["decomposition_energy"] < 0).sum())
    print(f"{'-'.join(elements)}: {len(table)} candidates ({args.mode}); {stable} predicted below the hull of "
          "the other phases")
    ensemble = "std" in table
    columns = ["formula", "dHf", *(["std"] if ensemble else []), "known", "dHd", *(["P(stable)"] if ensemble else []),
               "competing phases"]
    rows = []
    for r in table.head(args.show).itertuples():
        known = "" if r.known != r.known else f"{r.known:.3f}"
        rows.append([r.formula, f"{r.prediction:.3f}", *([f"{r.std:.3f}"] if ensemble else []), known,
                     f"{r.decomposition_energy:+.3f}", *([f"{r.p_stable:.2f}"] if ensemble else []),
                     r.competing_phases])
    print(format_table(columns, rows))
    if args.output:
        table.to_csv(args.output, index=False, float_format="%.6g", lineterminator="\n")
        err(f"wrote {len(table)} candidates to {args.output}")
    if args.plot:
        from ..stability._plots import plot_screen

        try:
            plot_screen(table, elements, args.plot)
        except OSError as exc:
            raise CommandError(f"cannot write {args.plot}: {exc}") from None
        err(f"wrote the plot to {args.plot}")
    return 0
