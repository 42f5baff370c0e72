"""Chemical systems and the compositions of one: parsing ``"Li-Fe-O"``, every k-element system, grids."""

import itertools
import math
from functools import reduce

import numpy as np

from ..composition._formula import ATOMIC_NUMBER

__all__ = ["atom_fractions", "chemical_systems", "check_step", "composition_grid", "grid_size", "parse_chemical_system"]


def atom_fractions(entries, elements):
    """The atom fractions of formulas (or ``{element: amount}`` mappings) over the elements of a system.

    Parameters
    ----------
    entries : sequence of str, Composition or mapping
    elements : sequence of str
        The columns, in order; an entry with another element is an error.

    Returns
    -------
    ndarray of shape (len(entries), len(elements))
        Each row sums to 1.
    """
    from ..composition._atom_fractions import fraction_matrix

    values = np.empty(len(entries), dtype=object)
    values[:] = list(entries)
    return fraction_matrix(values, None, {e: j for j, e in enumerate(elements)})


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


def chemical_systems(elements, size=3):
    """Every chemical system of ``size`` elements drawn from ``elements``, as ``"A-B-C"`` strings.

    Parameters
    ----------
    elements : sequence of str
    size : int, default=3

    Returns
    -------
    list of str
    """
    if size < 2 or size > len(elements):
        raise ValueError(f"size must be between 2 and the {len(elements)} elements given, got {size}")
    return ["-".join(c) for c in itertools.combinations(elements, size)]
