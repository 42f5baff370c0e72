"""Pictures of a screened system: the hull of the known phases with the screen's candidates, and pymatgen's hull plot.

:func:`plot_screen` is drawn for a chemist to read at a glance: the hull of
the known phases as a line (binary) or as tie lines (ternary); known phases
on the hull as filled black markers, known phases above it as hollow grey
ones; new candidates at their predictions, coloured by P(stable) (by ΔHd
without one). Labels are placed greedily and never overlap.
"""

import re

import numpy as np

from ._systems import atom_fractions

__all__ = ["MAX_LABELS", "plot_hull", "plot_screen"]

#: New candidates labelled at most, the most likely stable first (known phases on the hull are labelled too).
MAX_LABELS = 12

#: The three kinds of row in a screen's table.
KNOWN_STABLE, KNOWN_UNSTABLE, NEW = "known-stable", "known-unstable", "new"

# Label offsets tried in turn, in points from the marker: beside it first, then above and below, then further out.
_OFFSETS = [(dx * r, dy * r, ha, va) for r in (1.0, 2.2) for dx, dy, ha, va in (
    (5, 3, "left", "bottom"), (5, -3, "left", "top"), (-5, 3, "right", "bottom"), (-5, -3, "right", "top"),
    (0, 6, "center", "bottom"), (0, -6, "center", "top"), (7, 0, "left", "center"), (-7, 0, "right", "center"))]
# ΔHd colour range: stability is decided within about 0.1 eV/atom of the hull.
_DHD_RANGE = 0.1
# In a binary, the model's ΔHf of a known phase is drawn this far to the right of it (atom fraction).
_PRED_SHIFT = 0.008
_TRIANGLE = np.array([[0.0, 0.0], [1.0, 0.0], [0.5, np.sqrt(3) / 2]])


def _pretty(formula):
    """``Al3Ni`` as Al₃Ni (mathtext subscripts); anything that is not a plain formula as it is."""
    if not re.fullmatch(r"(?:[A-Z][a-z]?[0-9.]*)+", formula):
        return formula
    return re.sub(r"([0-9]+(?:\.[0-9]+)?)", r"$_{\1}$", formula)


def _column(table, name):
    """A numeric column of the table, or NaN throughout where the table has none."""
    if name in table:
        return np.asarray(table[name], dtype=np.float64)
    return np.full(len(table), np.nan)


def _known_hull(x, known, is_known, n_elements):
    """The known phases and the elements (one phase per composition, the lowest), and their lower hull's facets."""
    from ._hull import lower_hull

    lowest = {}
    for row, e in zip(np.r_[np.eye(n_elements), x[is_known]], np.r_[np.zeros(n_elements), known[is_known]]):
        key = tuple(np.round(row, 9))
        if key not in lowest or e < lowest[key][1]:
            lowest[key] = (row, e)
    ref_x = np.array([r for r, _ in lowest.values()])
    ref_e = np.array([e for _, e in lowest.values()])
    _, facets = lower_hull(ref_x, ref_e)
    return ref_x, ref_e, facets


def _kinds(table, x, known):
    """Each row's kind (:data:`KNOWN_STABLE`, :data:`KNOWN_UNSTABLE` or :data:`NEW`) and the hull of the known phases.

    The table's ``status`` column where it has one; otherwise a row with a
    known energy is a known phase, on the hull if it is one of its vertices.
    """
    n = x.shape[1]
    if "status" in table:
        status = np.asarray(table["status"], dtype=object).astype(str)
        # A known phase without a known energy has nowhere else to be drawn than at its prediction.
        status = np.where(np.isin(status, (KNOWN_STABLE, KNOWN_UNSTABLE)) & np.isfinite(known), status, NEW)
    else:
        status = np.where(np.isfinite(known), KNOWN_UNSTABLE, NEW).astype(object)
    ref_x, ref_e, facets = _known_hull(x, known, status != NEW, n)
    if "status" not in table:
        corners = {int(v) for f in facets for v in f}
        on_hull = {tuple(np.round(ref_x[v], 9)): ref_e[v] for v in corners}
        for i in np.flatnonzero(status != NEW):
            e = on_hull.get(tuple(np.round(x[i], 9)))
            if e is not None and known[i] <= e + 1e-9:
                status[i] = KNOWN_STABLE
    return status.astype(str), (ref_x, ref_e, facets)


def _hull_vertices(facets):
    return np.unique(np.concatenate(facets)) if facets else np.zeros(0, dtype=int)


def _binary_frame(ax, elements, ref_x, ref_e, facets):
    """The hull of the known phases as a line through its vertices, the zero line and the axes' labels."""
    v = _hull_vertices(facets)
    v = v[np.argsort(ref_x[v, 1])]
    ax.axhline(0, color="0.8", lw=0.6, zorder=0)
    ax.plot(ref_x[v, 1], ref_e[v], color="k", lw=1.2, zorder=3, gid="hull")
    a, b = elements
    ax.set_xlabel(f"$x$ in {a}$_{{1-x}}${b}$_{{x}}$ (atom fraction of {b})")
    ax.set_ylabel("ΔHf (eV/atom)")
    ax.set_xlim(-0.04, 1.04)
    return []


def _ternary_frame(ax, elements, ref_x, facets):
    """The composition triangle, the tie lines of the known phases' hull, and the elements' names at the corners."""
    ax.plot(*np.r_[_TRIANGLE, _TRIANGLE[:1]].T, color="k", lw=0.8, zorder=1)
    edges = sorted({tuple(sorted((int(f[i]), int(f[j])))) for f in facets for i, j in ((0, 1), (1, 2), (0, 2))})
    xy = ref_x @ _TRIANGLE
    segments = [np.r_[xy[[a, b]], [[np.nan, np.nan]]] for a, b in edges]
    path = np.concatenate(segments) if segments else np.zeros((0, 2))
    ax.plot(path[:, 0], path[:, 1], color="k", lw=0.9, zorder=3, gid="hull")
    names = []
    for corner, e, (dx, dy, ha, va) in zip(_TRIANGLE, elements, [(-0.02, -0.02, "right", "top"),
                                                              (0.02, -0.02, "left", "top"),
                                                              (0.0, 0.025, "center", "bottom")]):
        names.append(ax.text(corner[0] + dx, corner[1] + dy, e, fontsize=12, weight="bold", ha=ha, va=va,
                             gid="element"))
    ax.set(aspect="equal", xlim=(-0.1, 1.1), ylim=(-0.1, 0.97))
    ax.axis("off")
    return names


def _draw_known(ax, pos, status, binary, known_pred):
    """Known phases on the hull (filled black) and above it (hollow grey); in a binary, faintly, their predictions."""
    stable, unstable = status == KNOWN_STABLE, status == KNOWN_UNSTABLE
    ax.scatter(*pos[stable].T, marker="o", s=36, c="k", zorder=5, gid=KNOWN_STABLE)
    ax.scatter(*pos[unstable].T, marker="o", s=30, facecolors="none", edgecolors="0.45", linewidths=1.0,
               zorder=4, gid=KNOWN_UNSTABLE)
    drawn = (stable | unstable) & np.isfinite(known_pred)
    if not binary or not drawn.any():
        return False
    ax.scatter(pos[drawn, 0] + _PRED_SHIFT, known_pred[drawn], marker="x", s=12, c="0.55", linewidths=0.7, zorder=3,
               gid="known-prediction")
    return True


def _draw_new(ax, pos, new, std, colour, by_p, binary):
    """New candidates at their predictions (± std in a binary), coloured by P(stable) or ΔHd; likeliest on top."""
    idx = np.flatnonzero(new)
    idx = idx[np.argsort(colour[idx] if by_p else -colour[idx], kind="stable")]
    if binary:
        bars = idx[np.isfinite(std[idx])]
        if len(bars):
            ax.errorbar(pos[bars, 0], pos[bars, 1], yerr=std[bars], fmt="none", ecolor="0.6", elinewidth=0.8,
                        capsize=2, zorder=2, label="new ± std")
    kw = dict(cmap="viridis", vmin=0, vmax=1) if by_p else dict(cmap="coolwarm", vmin=-_DHD_RANGE, vmax=_DHD_RANGE)
    c = colour[idx] if by_p else np.clip(colour[idx], -_DHD_RANGE, _DHD_RANGE)
    return ax.scatter(*pos[idx].T, c=c, marker="D", s=30, edgecolors="k", linewidths=0.4, zorder=6, gid=NEW, **kw)


def _legend(fig, status, binary, known_predictions, new_colour):
    from matplotlib.lines import Line2D

    handles = [Line2D([], [], color="k", lw=1.2, label="hull of the known phases" if binary else
                      "tie lines of the known phases' hull")]
    # The elements are always on the hull: this entry is always there.
    handles.append(Line2D([], [], ls="", marker="o", ms=6, color="k", label="known, on the hull"))
    if (status == KNOWN_UNSTABLE).any():
        handles.append(Line2D([], [], ls="", marker="o", ms=6, mfc="none", mec="0.45", label="known, above the hull"))
    if known_predictions:
        handles.append(Line2D([], [], ls="", marker="x", ms=4, color="0.55", label="model's ΔHf of a known phase"))
    if (status == NEW).any():
        handles.append(Line2D([], [], ls="", marker="D", ms=5, mfc=new_colour, mec="k", mew=0.4,
                              label="new candidate, predicted" + (" ± std" if binary else "")))
    fig.legend(handles=handles, loc="outside lower center", ncol=3, fontsize=8, frameon=False)


def _label_order(status, known, p, dhd, by_p):
    """The rows to label, in order: known phases on the hull (deepest first), then the likeliest new candidates."""
    stable = np.flatnonzero(status == KNOWN_STABLE)
    stable = stable[np.argsort(known[stable], kind="stable")]
    new = np.flatnonzero(status == NEW)
    key = -np.nan_to_num(p[new], nan=-1.0) if by_p else np.nan_to_num(dhd[new], nan=np.inf)
    new = new[np.lexsort((np.nan_to_num(dhd[new], nan=np.inf), key))][:MAX_LABELS]
    return stable, new


def _place_labels(ax, points, texts, colours, markers, obstacles=()):
    """Label ``points`` in order, trying each offset of ``_OFFSETS`` in turn.

    A label takes the first offset at which its box lies inside the axes,
    overlaps no label placed before (nor ``obstacles``) and covers no marker;
    failing that, the first at which it only covers markers; a label with no
    room at all is left out. Boxes are measured after the figure's layout is
    done and frozen, so they stay where they are measured.
    """
    fig = ax.get_figure(root=True)
    fig.draw_without_rendering()
    fig.set_layout_engine("none")
    ax.set_xlim(ax.get_xlim())
    ax.set_ylim(ax.get_ylim())
    frame = ax.get_window_extent()
    placed = [t.get_window_extent().padded(2) for t in obstacles]
    markers = ax.transData.transform(markers) if len(markers) else np.zeros((0, 2))
    markers = markers[np.isfinite(markers).all(axis=1)]
    r = 3.0  # a marker's radius, in pixels
    out = []
    for point, text, colour in zip(points, texts, colours):
        own = ax.transData.transform(point)
        others = markers[np.hypot(*(markers - own).T) > 0.5]
        label = ax.annotate(text, point, xytext=(0, 0), textcoords="offset points", fontsize=8, color=colour,
                            zorder=7, gid="label", annotation_clip=False)
        choice = None
        for dx, dy, ha, va in _OFFSETS:
            label.xyann = (dx, dy)
            label.set(ha=ha, va=va)
            box = label.get_window_extent()
            if not (frame.x0 <= box.x0 and box.x1 <= frame.x1 and frame.y0 <= box.y0 and box.y1 <= frame.y1):
                continue
            if any(box.overlaps(b) for b in placed):
                continue
            covers = ((others[:, 0] > box.x0 - r) & (others[:, 0] < box.x1 + r)
                      & (others[:, 1] > box.y0 - r) & (others[:, 1] < box.y1 + r)).any()
            if choice is None or not covers:
                choice = (dx, dy, ha, va, box)
            if not covers:
                break
        if choice is None:
            label.remove()
            continue
        label.xyann = choice[:2]
        label.set(ha=choice[2], va=choice[3])
        placed.append(choice[4].padded(2))
        out.append(label)
    return out


def plot_screen(table, elements, path):
    """Save a plot of :func:`~sklearn_hform.stability.screen`'s table for a binary or ternary system.

    Binary: ΔHf against the atom fraction of the second element. The hull
    of the known phases (and the elements at 0) is a line; known phases on
    it are filled black markers and those above it hollow grey ones, at
    their known ΔHf, with the model's ΔHf beside them as small crosses. New
    candidates are diamonds at their predicted ΔHf with ± std error bars,
    coloured by P(stable), or by ΔHd where the table has no P(stable).
    Ternary: the composition triangle with the tie lines of that hull and
    the same markers (no error bars: P(stable) already weighs the std).
    Known phases on the hull and the most likely new candidates (at most
    :data:`MAX_LABELS`) are labelled; no two labels overlap.

    The table's ``status`` column (``"known-stable"``, ``"known-unstable"``,
    ``"new"``) says which row is which; a table without one is read from
    ``known`` (a known phase is one with a known ΔHf).

    Parameters
    ----------
    table : pandas.DataFrame
        ``formula``, ``prediction`` and ``decomposition_energy``; ``status``,
        ``known``, ``std`` and ``p_stable`` where it has them.
    elements : sequence of str
    path : path-like

    Returns
    -------
    matplotlib.figure.Figure
    """
    # A Figure of our own, outside pyplot: nothing is shown or kept open,
    # and the caller's backend, rcParams and current figure are left alone.
    from matplotlib import colormaps
    from matplotlib.figure import Figure

    elements = list(elements)
    if len(elements) not in (2, 3):
        raise ValueError(f"the plot shows binary and ternary systems, not {len(elements)} elements")
    binary = len(elements) == 2
    x = atom_fractions(table["formula"].tolist(), elements)
    known, pred, std = _column(table, "known"), _column(table, "prediction"), _column(table, "std")
    p, dhd = _column(table, "p_stable"), _column(table, "decomposition_energy")
    status, (ref_x, ref_e, facets) = _kinds(table, x, known)
    new = status == NEW
    by_p = bool(new.any()) and bool(np.isfinite(p[new]).all())

    fig = Figure(figsize=(7.5, 6.2), layout="constrained")
    ax = fig.subplots()
    if binary:
        obstacles = _binary_frame(ax, elements, ref_x, ref_e, facets)
        pos = np.where(new[:, None], np.c_[x[:, 1], pred], np.c_[x[:, 1], known])
        elem_pos = np.c_[np.eye(2)[:, 1], np.zeros(2)]
    else:
        obstacles = _ternary_frame(ax, elements, ref_x, facets)
        pos = x @ _TRIANGLE
        elem_pos = _TRIANGLE
    ax.scatter(*elem_pos.T, marker="o", s=36, c="k", zorder=5, gid="element")
    known_predictions = _draw_known(ax, pos, status, binary, pred)
    if new.any():
        sc = _draw_new(ax, pos, new, std, p if by_p else dhd, by_p, binary)
        fig.colorbar(sc, ax=ax, shrink=0.85, label="P(stable) of a new candidate" if by_p else
                     "predicted decomposition energy ΔHd (eV/atom); < 0: stable")
    cmap = colormaps["viridis" if by_p else "coolwarm"]
    _legend(fig, status, binary, known_predictions, cmap(0.85 if by_p else 0.15))

    n_new, n_known = int(new.sum()), int((~new).sum())
    likely = f", {int((new & (p >= 0.5)).sum())} at P(stable) >= 0.5" if by_p else ""
    title = (f"{'-'.join(elements)}: {n_new} new candidates, {int((new & (dhd < 0)).sum())} below the hull{likely}; "
             f"{n_known} known phases, {int((status == KNOWN_STABLE).sum())} on the hull")
    if not binary and new.any():
        title += ("\nno error bars here: P(stable) weighs each prediction's std" if by_p else
                  "\ncolour: predicted ΔHd against the known phases")
    ax.set_title(title, fontsize=10)

    stable, top = _label_order(status, known, p, dhd, by_p)
    rows = np.r_[stable, top].astype(int)
    texts = [_pretty(str(f)) for f in np.asarray(table["formula"], dtype=object)[rows]]
    colours = ["k"] * len(stable) + ["#8b1a1a"] * len(top)
    markers = np.r_[pos, elem_pos, np.c_[x[:, 1] + _PRED_SHIFT, pred][~new]] if binary else np.r_[pos, elem_pos]
    _place_labels(ax, pos[rows], texts, colours, markers, obstacles)
    fig.savefig(path, dpi=120)
    return fig


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
