"""
==============================================================
Screening a chemical system against its known phases
==============================================================

Which compounds of Al-Ni (or Li-Fe-O, ...) might be stable that are not
known yet? :func:`sklearn_hform.stability.screen` generates candidate
stoichiometries (charge-neutral compositions where the system has an anion,
the stoichiometries of known phases of analogous systems otherwise), predicts their formation enthalpy with the shipped
``best`` ensemble, and compares each with the convex hull of the system's
*known* phases (the bundled OQMD energies; your own with ``known=``). The
decomposition energy ΔHd is the candidate's energy minus the hull of the
other phases at its composition (Bartel et al. 2020): below 0, the candidate
is predicted stable. With the calibrated std, ``p_stable`` is the
probability that ΔHd < 0.

This is the "hybrid" screen: known phases stay at their DFT energies and only
the candidate is predicted, which is far more reliable than a hull built from
predictions alone (``mode="model"``), because a composition-only model is
least accurate exactly where stability is decided, within tens of meV of the
hull.

Run from the repository root::

    python examples/plot_screening.py                 # Al-Ni
    python examples/plot_screening.py --system Li-Fe-O

``--out DIR`` picks the folder for ``screening.png`` and ``screening.json``
(default ``outputs/plot_screening``).
"""

# %%
# Screen
# ------

import argparse
import time
from pathlib import Path

from sklearn_hform import load_pretrained
from sklearn_hform.stability import plot_screen, screen
from sklearn_hform.utils import parse_run_options, write_result

parser = argparse.ArgumentParser(description="Screen a chemical system with the shipped ensemble.")
parser.add_argument("--system", default="Al-Ni")
# Adds --quick (or HFORM_QUICK=1) and --out; ignores sphinx-gallery's own arguments.
args = parse_run_options(parser, "outputs/plot_screening", quick_help="the same run (it trains nothing)")
QUICK = args.quick
OUT = args.out
T_START = time.perf_counter()

model = load_pretrained("best")
table = screen(model, args.system)
columns = ["formula", "known", "prediction", "std", "decomposition_energy", "p_stable", "competing_phases"]
print(table[columns].head(12).to_string(index=False, float_format=lambda v: f"{v:.3f}"))

# %%
# Plot
# ----
# Candidates coloured by ΔHd (blue: predicted stable); known phases in black.
# Only the most stable candidates are labelled.
OUT.mkdir(parents=True, exist_ok=True)
elements = args.system.split("-")
if len(elements) in (2, 3):
    plot_screen(table, elements, OUT / "screening.png")

# The numbers, then the run record: the command, hardware and timings
# (:func:`~sklearn_hform.utils.write_result`).
result = {
    "quick": QUICK,
    "system": args.system,
    "candidates": int(len(table)),
    "predicted_stable": int((table["decomposition_energy"] < 0).sum()),
    "top": table[["formula", "decomposition_energy", "p_stable"]].head(10).to_dict(orient="list"),
}
record = write_result(OUT / "screening.json", result, ["python", "examples/plot_screening.py", *args.argv],
                      started=T_START, repository=Path.cwd())
print(f"{record['candidates']} candidates, {record['predicted_stable']} predicted stable; "
      f"total wall time {record['wall_seconds']:.0f} s")

# %%
# Show the plot in the documentation build.
if (OUT / "screening.png").exists():
    import matplotlib.image as mpimg
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 5.5))
    ax.imshow(mpimg.imread(OUT / "screening.png"))
    ax.axis("off")
