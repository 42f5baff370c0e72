"""``hform screen``: candidates of a chemical system against the hull of its known phases.

A thin layer over :func:`sklearn_hform.stability.screen`.
"""

from .common import (
    SCREENING_MODEL,
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
    "energies by default, or --known CSV). Lists the known phases apart (on the hull of the known phases or "
    "above it, with the model's prediction beside them) and the new candidates with their decomposition energy "
    "dHd (< 0: predicted stable), the competing phases, why each was generated and, for the shipped models, a "
    "P(stable) calibrated on held-out OQMD outcomes; counts how many new ones are predicted stable at P >= 0.5 "
    "and 0.9."
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
    parser.add_argument("--model", default=SCREENING_MODEL,
                        help=MODEL_HELP.replace("(default: paper)", f"(default: {SCREENING_MODEL})"))
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
    from ..stability._summary import screen_summary

    elements = system_and_step(args.system, args.step)
    model = load_model_argument(args.model)
    table = screen(model, elements, candidates=args.candidates, known=args.known, mode=args.mode,
                   max_atoms=args.max_atoms, grid_step=args.step)
    unseen = sorted({e for v in table["unseen_elements"] if v for e in v.split(",")})
    if unseen:
        err(f"warning: the model never saw {unseen} in training; predictions are extrapolations")
    ensemble = "std" in table
    calibrated = getattr(model, "stability_calibration_", None) is not None
    counts = screen_summary(table)
    print(f"{'-'.join(elements)}: {counts['candidates']} candidates ({args.mode}); P(stable) "
          + ("calibrated on held-out OQMD outcomes" if calibrated else
             "a Gaussian of the ensemble std, not calibrated" if ensemble else "not available (no std, no calibration)"))
    print(f"known phases: {counts['known_stable'] + counts['known_unstable']}, {counts['known_stable']} on the hull "
          f"of the known phases, {counts['known_unstable']} above it")
    at = ", ".join(f"{n} at P(stable) >= {t:g}" for t, n in counts["new_at_p"].items())
    print(f"new candidates: {counts['new']}; {counts['new_below_hull']} predicted below the hull"
          + (f"; {at}" if calibrated or ensemble else ""))
    known = table[table["status"] != "new"]
    if len(known):
        shown = "" if len(known) <= args.show else f"; {args.show} of {len(known)} shown"
        print(f"\nknown phases (judged by their known energies, the model's beside them{shown})")
        columns = ["formula", "status", "known dHf", "known dHd", "dHf", *(["std"] if ensemble else []), "dHd"]
        rows = [[r.formula, r.status, f"{r.known:.3f}", f"{r.known_decomposition_energy:+.3f}", f"{r.prediction:.3f}",
                 *([f"{r.std:.3f}"] if ensemble else []), f"{r.decomposition_energy:+.3f}"]
                for r in known.sort_values("known_decomposition_energy", kind="stable").head(args.show).itertuples()]
        print(format_table(columns, rows, left=("status",)))
    new = table[table["status"] == "new"]
    if len(new):
        shown = "" if len(new) <= args.show else f", {args.show} of {len(new)} shown"
        print(f"\nnew candidates (most stable first{shown})")
        probability = calibrated or ensemble
        columns = ["formula", "dHf", *(["std"] if ensemble else []), "dHd", *(["P(stable)"] if probability else []),
                   "competing phases", "reason"]
        rows = [[r.formula, f"{r.prediction:.3f}", *([f"{r.std:.3f}"] if ensemble else []),
                 f"{r.decomposition_energy:+.3f}", *([f"{r.p_stable:.2f}"] if probability else []),
                 r.competing_phases, r.reason] for r in new.head(args.show).itertuples()]
        print(format_table(columns, rows, left=("competing phases", "reason")))
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
