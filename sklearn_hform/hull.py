"""Screening a chemical system: predicted formation enthalpies on a composition grid, and their hull.

:func:`screen_grid` enumerates the compositions of a system on a grid of
atom fractions, predicts their formation enthalpy with a fitted model, and
builds the convex hull with pymatgen's :class:`PhaseDiagram` (elements at
0 eV/atom). ``hform hull`` is a thin layer over it.
"""

import itertools
import math
from functools import reduce

import numpy as np

__all__ = ["MAX_GRID", "check_step", "composition_grid", "parse_chemical_system", "plot_hull", "screen_grid"]

#: The largest composition grid :func:`screen_grid` builds a hull for.
MAX_GRID = 20_000


def parse_chemical_system(system):
    """The element symbols of a chemical system written ``"Li-Fe-O"`` (or given as a list).

    Parameters
    ----------
    system : str or sequence of str

    Returns
    -------
    list of str

    Raises
    ------
    ValueError
        For an unknown symbol, a repeated element or fewer than two elements.
    """
    from .formula import ATOMIC_NUMBER

    elements = [e.strip() for e in system.split("-")] if isinstance(system, str) else [str(e) for e in system]
    unknown = [e for e in elements if e not in ATOMIC_NUMBER]
    if unknown:
        raise ValueError(f"{system!r}: not element symbol(s): {unknown} (write a system as Li-Fe-O)")
    if len(set(elements)) != len(elements):
        raise ValueError(f"{system!r}: an element appears twice")
    if len(elements) < 2:
        raise ValueError(f"{system!r}: a chemical system needs at least two elements, e.g. Li-O")
    return elements


def check_step(step):
    """The number of grid parts ``1 / step``, or ``ValueError`` for a step that does not divide 1.

    Parameters
    ----------
    step : float
        Grid spacing in atom fraction, e.g. 0.1, 0.05 or 0.02.

    Returns
    -------
    int
    """
    try:
        step = float(step)
    except (TypeError, ValueError):
        raise ValueError(f"step must be a number, got {step!r}") from None
    if not (math.isfinite(step) and 0 < step <= 0.5):
        raise ValueError(f"step={step:g} must lie in (0, 0.5] and divide 1 (e.g. 0.1, 0.05, 0.02)")
    parts = round(1 / step)
    if abs(parts * step - 1) > 1e-6:
        raise ValueError(f"step={step:g} does not divide 1 into equal parts (e.g. 0.1, 0.05, 0.02)")
    return parts


def composition_grid(elements, step):
    """Integer compositions of ``elements`` on a grid of spacing ``step``, at least binary.

    Parameters
    ----------
    elements : sequence of str
    step : float

    Returns
    -------
    counts : ndarray of int, shape (n_compositions, n_elements)
        Reduced by their greatest common divisor (0.5/0.5 is 1:1).
    formulas : list of str
        Elements in order of electronegativity, as chemists and pymatgen
        write them (``LiFeO2``).
    """
    from pymatgen.core import Element

    k, parts = len(elements), check_step(step)
    # Stars and bars: each choice of k - 1 separators among parts + k - 1
    # slots is one composition.
    slots = parts + k - 1
    counts = []
    for bars in itertools.combinations(range(slots), k - 1):
        edges = (-1, *bars, slots)
        c = [edges[j + 1] - edges[j] - 1 for j in range(k)]
        if sum(v > 0 for v in c) >= 2:
            counts.append(c)
    counts = np.array(counts, dtype=int).reshape(-1, k)
    counts //= np.array([reduce(math.gcd, row) for row in counts], dtype=int).reshape(-1, 1)
    order = sorted(range(k), key=lambda j: (Element(elements[j]).X, elements[j]))
    formulas = ["".join(f"{elements[j]}{c[j] if c[j] > 1 else ''}" for j in order if c[j]) for c in counts]
    return counts, formulas


def grid_size(n_elements, step):
    """How many compositions :func:`composition_grid` makes, without making them."""
    parts = check_step(step)
    return math.comb(parts + n_elements - 1, n_elements - 1) - n_elements


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

    from .prediction import predict_formulas

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


def plot_hull(diagram, path, e_above_hull=0.05):
    """Save pymatgen's plot of ``diagram`` (2 to 4 elements) to ``path``.

    Parameters
    ----------
    diagram : PhaseDiagram
    path : path-like
    e_above_hull : float, default=0.05
        Unstable compositions up to this far above the hull are drawn.
    """
    import logging

    import matplotlib.pyplot as plt
    from pymatgen.analysis.phase_diagram import PDPlotter

    if not 2 <= len(diagram.elements) <= 4:
        raise ValueError(f"a hull plot shows systems of 2 to 4 elements, not {len(diagram.elements)}")
    # pymatgen draws through pyplot, in whatever backend the caller runs
    # (matplotlib picks Agg where there is no display); the figures it opens
    # are closed afterwards, even after a failure, and the caller's stay.
    before = set(plt.get_fignums())
    # pymatgen fixes both the limits and the aspect of ternary plots, and
    # matplotlib logs a warning about it as the plot is drawn; the filter
    # hides that one message for the length of this call only.
    logger = logging.getLogger("matplotlib.axes._base")
    quiet = _DropMessages("Ignoring fixed")
    logger.addFilter(quiet)
    try:
        plotter = PDPlotter(diagram, show_unstable=e_above_hull, backend="matplotlib")
        # Grid points off the hull are many and unnamed by chemistry: no labels.
        ax = plotter.get_plot(label_unstable=False)
        ax.figure.savefig(path, dpi=120, bbox_inches="tight")
    finally:
        logger.removeFilter(quiet)
        for number in set(plt.get_fignums()) - before:
            plt.close(number)


class _DropMessages:
    """A logging filter that drops the records whose message starts with ``prefix``.

    Parameters
    ----------
    prefix : str
    """

    def __init__(self, prefix):
        self.prefix = prefix

    def filter(self, record):
        return not record.getMessage().startswith(self.prefix)
