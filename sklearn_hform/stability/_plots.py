"""Pictures of a screened system: a screen's candidates by decomposition energy, and pymatgen's hull plot."""

import numpy as np

from ..composition._formula import parse_formula

__all__ = ["MAX_LABELS", "plot_hull", "plot_screen"]

#: Candidates labelled at most, the most stable first.
MAX_LABELS = 12


def _fractions(formulas, elements):
    rows = []
    for f in formulas:
        a = parse_formula(f)
        v = np.array([a.get(e, 0.0) for e in elements])
        rows.append(v / v.sum())
    return np.array(rows).reshape(-1, len(elements))


def _label_greedily(ax, points, texts):
    """Label points in order, skipping any whose label box would overlap one already placed."""
    ax.figure.draw_without_rendering()  # fixes the limits the boxes are measured in
    to_axes = ax.transData + ax.transAxes.inverted()
    placed = []
    for point, text in zip(points, texts):
        px, py = to_axes.transform(point)
        width = 0.017 * len(text) + 0.02  # in axes fractions, for 8-point text
        if all(abs(px - qx) > max(width, w) or abs(py - qy) > 0.06 for qx, qy, w in placed):
            ax.annotate(text, point, xytext=(4, 4), textcoords="offset points", fontsize=8)
            placed.append((px, py, width))


def plot_screen(table, elements, path):
    """Save a plot of :func:`~sklearn_hform.stability.screen`'s table for a binary or ternary system.

    Binary: ΔHf against composition, candidates coloured by ΔHd, known
    phases in black. Ternary: the composition triangle, candidates coloured
    by ΔHd. Only the most stable candidates are labelled, and no two labels
    overlap.

    Parameters
    ----------
    table : pandas.DataFrame
    elements : sequence of str
    path : path-like
    """
    # A Figure of our own, outside pyplot: nothing is shown or kept open,
    # and the caller's backend and current figure are left alone.
    from matplotlib.figure import Figure

    if len(elements) not in (2, 3):
        raise ValueError(f"the plot shows binary and ternary systems, not {len(elements)} elements")
    x = _fractions(table["formula"], elements)
    dhd = table["decomposition_energy"].to_numpy()
    order = np.argsort(dhd)[:MAX_LABELS]
    vmax = 0.1  # stability is decided within about 0.1 eV/atom of the hull
    fig = Figure(figsize=(7, 5.5))
    ax = fig.subplots()
    if len(elements) == 2:
        pts = np.c_[x[:, 1], table["prediction"]]
        known = table["known"].notna().to_numpy()
        ax.scatter(pts[known, 0], table["known"][known], marker="s", color="k", s=18, label="known (DFT)")
        ax.axhline(0, color="grey", lw=0.6)
        ax.set(xlabel=f"x({elements[1]})", ylabel="ΔHf (eV/atom)", xlim=(0, 1))
    else:
        corners = np.array([[0, 0], [1, 0], [0.5, np.sqrt(3) / 2]])
        pts = x @ corners
        ax.plot(*np.r_[corners, corners[:1]].T, color="k", lw=0.8)
        for corner, e, (dx, dy) in zip(corners, elements, [(-0.04, -0.04), (0.01, -0.04), (-0.01, 0.02)]):
            ax.text(corner[0] + dx, corner[1] + dy, e, fontsize=11, weight="bold")
        ax.set(aspect="equal", xlim=(-0.08, 1.08), ylim=(-0.08, 0.95))
        ax.axis("off")
    sc = ax.scatter(pts[:, 0], pts[:, 1], c=np.clip(dhd, -vmax, vmax), cmap="coolwarm", vmin=-vmax, vmax=vmax,
                    s=22, edgecolors="k", linewidths=0.3, label="candidates (predicted)")
    fig.colorbar(sc, ax=ax, label="decomposition energy ΔHd (eV/atom); < 0: predicted stable")
    _label_greedily(ax, pts[order], [table["formula"][i] for i in order])
    ax.set_title(f"{'-'.join(elements)}: {len(table)} candidates, {int((dhd < 0).sum())} predicted stable")
    if len(elements) == 2:
        ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)


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
