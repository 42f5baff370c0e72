"""Screening a chemical system on a grid: predicted formation enthalpies of every grid composition, and their hull.

:func:`screen_grid` enumerates the compositions of a system on a grid of
atom fractions, predicts their formation enthalpy with a fitted model, and
builds the convex hull with pymatgen's :class:`PhaseDiagram` (elements at
0 eV/atom). ``hform hull --step`` is a thin layer over it; without a step,
``hform hull`` runs :func:`~sklearn_hform.stability.screen` instead.
"""

from ..prediction import predict_formulas
from ._systems import composition_grid, grid_size, parse_chemical_system

__all__ = ["MAX_GRID", "screen_grid"]

#: The largest composition grid :func:`screen_grid` builds a hull for.
MAX_GRID = 20_000


def screen_grid(model, system, step=0.05):
    """Predict every grid composition of ``system`` and its energy above the predicted hull.

    Parameters
    ----------
    model : Pipeline
        Fitted, formulas in, eV/atom out (starting with a
        :class:`~sklearn_hform.CompositionFractionTransformer`).
    system : str or sequence of str
        The chemical system, e.g. ``"Li-Fe-O"``.
    step : float, default=0.05
        Grid spacing in atom fraction; must divide 1.

    Returns
    -------
    table : pandas.DataFrame
        One row per composition, sorted by energy above hull: ``formula``,
        the atom fraction ``x_<El>`` of each element, ``prediction``
        (eV/atom), ``std`` (when the model gives one), ``e_above_hull``
        (eV/atom) and ``unseen_elements``.
    diagram : pymatgen.analysis.phase_diagram.PhaseDiagram
        The hull of the predictions, for plotting.

    Raises
    ------
    ValueError
        For a bad system or step, a grid larger than :data:`MAX_GRID`, or
        compositions the model cannot read.
    """
    from pymatgen.analysis.phase_diagram import PDEntry, PhaseDiagram
    from pymatgen.core import Composition

    elements = parse_chemical_system(system)
    size = grid_size(len(elements), step)
    if size > MAX_GRID:
        raise ValueError(
            f"{'-'.join(elements)} at step {step:g} has {size:,} compositions, more than the "
            f"{MAX_GRID:,} a hull is built for; use a coarser step"
        )
    counts, formulas = composition_grid(elements, step)
    table = predict_formulas(model, formulas)
    failed = table["error"] != ""
    if failed.any():
        raise ValueError(f"the model cannot read {'-'.join(elements)}: {table['error'][failed].iloc[0]}")
    entries = [PDEntry(Composition({e: 1}), 0.0, name=e) for e in elements]
    grid_entries = []
    for formula, row, dhf in zip(formulas, counts, table["prediction"]):
        comp = Composition({e: int(c) for e, c in zip(elements, row) if c})
        grid_entries.append(PDEntry(comp, float(dhf) * comp.num_atoms, name=formula))
    diagram = PhaseDiagram(entries + grid_entries)
    table.insert(0, "formula", formulas)
    for j, e in enumerate(elements):
        table.insert(1 + j, f"x_{e}", counts[:, j] / counts.sum(axis=1))
    table.insert(table.columns.get_loc("error"), "e_above_hull",
                 [diagram.get_e_above_hull(entry) for entry in grid_entries])
    table = table.drop(columns="error").sort_values(["e_above_hull", "prediction"], kind="stable")
    return table.reset_index(drop=True), diagram
