"""Candidate compositions of a chemical system: charge-neutral ones, and the stoichiometries of analogous systems.

A screen is only as good as its candidates. Enumerating small formula units
and keeping those *some* oxidation states balance lets through chemistry
such as Na4Cl5 (Cl in +1 next to Cl in -1). Here an ionic subsystem gets the
compositions that its *common* oxidation states balance, the anion being its
most electronegative element; an intermetallic one, where oxidation states
say little, gets the stoichiometries of the stable known compounds of
analogous systems (elements close to its own on Pettifor's chemical scale).
"""

import itertools
import json
import math
from fractions import Fraction
from functools import lru_cache, reduce
from pathlib import Path

import numpy as np
import pandas as pd

from ._hull import lower_hull
from ._systems import composition_grid, parse_chemical_system

__all__ = ["generate_candidates"]

METHODS = ("auto", "charge_neutral", "analogues", "all")
#: Share of an element's non-zero ICSD (2024) oxidation-state reports an oxidation state needs to be used.
MIN_STATE_SHARE = 0.05
#: Elements taken as analogues of each element, besides itself.
N_SIMILAR = 3
#: Farthest an analogue element may lie on Pettifor's scale (Ni: Rh ... Pd, not Cu).
MAX_SCALE_DISTANCE = 4
#: Largest formula unit of an analogue stoichiometry.
MAX_ANALOGUE_ATOMS = 20
#: Largest ``max_atoms``: beyond it the enumeration of formula units explodes.
MAX_ATOMS_LIMIT = 30
#: Analogues named in a candidate's reason.
MAX_REASONS = 3
#: Tables of known compounds kept indexed at once.
_CACHE_SIZE = 4


def _reduce(counts):
    g = reduce(math.gcd, counts)
    return tuple(c // g for c in counts)


def _name(elements, counts):
    from pymatgen.core import Composition

    return Composition(dict(zip(elements, counts))).reduced_formula


# --- oxidation states ------------------------------------------------------


@lru_cache(maxsize=1)
def _icsd_counts():
    """``{symbol: {state: reports}}`` of SMACT's ICSD (2024) oxidation-state counts, zero states left out."""
    import smact

    rows = json.loads((Path(smact.data_directory) / "oxidation_states_icsd24_counts.json").read_text())
    counts = {}
    for row in rows:
        if row["oxidation_state"] and row["results_count"] > 0:
            counts.setdefault(row["element"], {})[int(row["oxidation_state"])] = int(row["results_count"])
    return counts


@lru_cache(maxsize=None)
def _oxidation_states(symbol):
    """The common oxidation states of an element, most reported first.

    SMACT's full lists admit every state ever reported (Cl +1 ... +7, Fe -2
    ... +6), which balances almost any formula; the states that make at
    least :data:`MIN_STATE_SHARE` of the element's ICSD reports are the ones
    its compounds actually show (Na +1, Cl -1, Fe +2/+3, Mn +2/+3/+4).
    """
    import smact

    counts = _icsd_counts().get(symbol)
    if not counts:  # no ICSD statistics: SMACT's most common states
        return tuple(smact.Element(symbol).oxidation_states_icsd24 or ())
    total = sum(counts.values())
    return tuple(s for s, n in sorted(counts.items(), key=lambda t: (-t[1], t[0])) if n >= MIN_STATE_SHARE * total)


def _electronegativity(symbol):
    from pymatgen.core import Element

    x = Element(symbol).X
    return x if math.isfinite(x) else None


def _is_ionic(elements):
    """Whether oxidation states describe a subsystem: its most electronegative element is a common anion.

    The rule: the most electronegative element (Pauling) is not a metal in
    SMACT's list and has a negative common oxidation state. So Na-Cl and
    Li-Fe-O are ionic; Al-Ni (all metals), Mg-Si (Si is practically never
    -4 in the ICSD) and Na-Sb (Sb counts as a metal) are not, and get the
    analogues instead. Elements without an electronegativity (noble gases)
    make a subsystem non-ionic.
    """
    import smact

    enegs = [_electronegativity(e) for e in elements]
    if any(x is None for x in enegs):
        return False
    anion = elements[int(np.argmax(enegs))]
    return anion not in smact.metals and any(s < 0 for s in _oxidation_states(anion))


def _ion(symbol, state):
    return f"{symbol}{abs(state) if abs(state) > 1 else ''}{'+' if state > 0 else '-'}"


def _charge_neutral(sub, max_atoms):
    """(counts, reason) of each formula unit of ``sub`` up to ``max_atoms`` atoms balanced by common states.

    Each element takes one state, and every cation must be less
    electronegative than every anion (SMACT's Pauling test): so O is -2
    next to Li and Fe, never Fe -2 next to O +2.
    """
    import smact
    from smact.screening import pauling_test

    enegs = [_electronegativity(e) for e in sub]
    # Each element at least once: the largest count any one element can take.
    stoichs = [range(1, max_atoms - len(sub) + 2)] * len(sub)
    found = {}
    for states in itertools.product(*(_oxidation_states(e) for e in sub)):
        if not (any(s < 0 for s in states) and pauling_test(states, enegs)):
            continue
        for counts in smact.neutral_ratios(states, stoichs=stoichs):
            if sum(counts) <= max_atoms and counts not in found:
                found[counts] = "charge-neutral: " + " ".join(_ion(e, s) for e, s in zip(sub, states))
    return sorted(found.items(), key=lambda t: (sum(t[0]), t[0]))


# --- known compounds and analogues -----------------------------------------


class _KnownIndex:
    """A table of known compounds, parsed once: the integer counts of each compound by element set, hulls on demand."""

    def __init__(self, frame):
        from ..composition._formula import parse_formula

        energy = pd.to_numeric(frame["formation_enthalpy"], errors="coerce").to_numpy(dtype=np.float64)
        self.rows, self.energy, self.by_set = [], [], {}
        for i, (formula, e) in enumerate(zip(frame["formula"], energy)):
            try:
                amounts = parse_formula(str(formula))
            except ValueError as exc:
                raise ValueError(f"known compounds, row {i}: {exc}") from None
            if not np.isfinite(e) or len(amounts) < 2:
                continue
            self.by_set.setdefault(frozenset(amounts), []).append(len(self.rows))
            self.rows.append(amounts)
            self.energy.append(e)
        self.energy = np.asarray(self.energy, dtype=np.float64)
        self.elements = frozenset(e for s in self.by_set for e in s)
        self._hulls = {}

    def stable(self, system):
        """``(counts, formula)`` of the compounds with every element of ``system`` on its lower hull, below 0.

        ``counts`` follow the order of ``system``; formula units above
        :data:`MAX_ANALOGUE_ATOMS` atoms (dilute, defect-like cells) are left out.
        """
        key = tuple(system)
        if key not in self._hulls:
            self._hulls[key] = self._stable(key)
        return self._hulls[key]

    def _stable(self, system):
        k = len(system)
        if frozenset(system) not in self.by_set:
            return ()
        subsets = (frozenset(c) for n in range(2, k + 1) for c in itertools.combinations(system, n))
        keep = [i for s in subsets for i in self.by_set.get(s, ())]
        x = np.array([[self.rows[i].get(e, 0.0) for e in system] for i in keep], dtype=np.float64)
        x = np.vstack([np.eye(k), x / x.sum(axis=1, keepdims=True)])
        energy = np.r_[np.zeros(k), self.energy[keep]]
        _, vertices = lower_hull(x, energy)
        on_hull = sorted({int(v) for f in vertices for v in f if v >= k and energy[v] < 0 and (x[v] > 0).all()})
        out = {}
        for v in on_hull:
            counts = _integer_counts([self.rows[keep[v - k]][e] for e in system])
            if counts is not None and sum(counts) <= MAX_ANALOGUE_ATOMS:
                out.setdefault(counts, _name(system, counts))
        return tuple(out.items())


def _integer_counts(amounts):
    """The smallest integer counts in the ratio of ``amounts`` (decimals as in ``Al0.5Ni0.5``), or None."""
    fractions = [Fraction(a).limit_denominator(100) for a in amounts]
    lcm = reduce(math.lcm, (f.denominator for f in fractions))
    counts = [int(f * lcm) for f in fractions]
    return _reduce(counts) if all(c > 0 for c in counts) else None


_KNOWN = []  # (frame, index) of the latest tables, newest last


@lru_cache(maxsize=1)
def _bundled_index():
    from ..datasets._oqmd import load_oqmd_hform

    return _KnownIndex(load_oqmd_hform().frame)


def _known_index(known):
    """The index of ``known`` (None: the bundled OQMD data); a frame is read once while it stays cached."""
    if known is None:
        return _bundled_index()
    if not isinstance(known, pd.DataFrame):
        raise ValueError(f"known must be a DataFrame with columns 'formula' and 'formation_enthalpy' or None, "
                         f"got {type(known).__name__}")
    missing = {"formula", "formation_enthalpy"} - set(known.columns)
    if missing:
        raise ValueError(f"known compounds need columns 'formula' and 'formation_enthalpy'; missing {sorted(missing)}")
    # By identity, not content: hashing 10^5 rows per system would cost more than the candidates.
    for i, (frame, index) in enumerate(_KNOWN):
        if frame is known and index.n_frame_rows == len(known):
            _KNOWN.append(_KNOWN.pop(i))
            return index
    index = _KnownIndex(known)
    index.n_frame_rows = len(known)
    _KNOWN.append((known, index))
    del _KNOWN[:-_CACHE_SIZE]
    return index


@lru_cache(maxsize=4096)
def _similar_elements(symbol, candidates):
    """The :data:`N_SIMILAR` elements of ``candidates`` nearest ``symbol`` on Pettifor's scale, within :data:`MAX_SCALE_DISTANCE`.

    Pettifor's chemical scale (pymatgen's ``mendeleev_no``) orders the
    elements so that neighbours form the same structures, which is what an
    analogue must do (Al: Ga, In, Tl; Ni: Ir, Pt, Rh). Ties go to the
    element closer in atomic number. The distance cap keeps a table that
    lacks the close elements from offering far ones (Cu for Al).
    """
    from pymatgen.core import Element

    def scale(e):
        return Element(e).mendeleev_no

    here = scale(symbol)
    if here is None:
        return ()
    others = [e for e in candidates if e != symbol and scale(e) is not None
              and abs(scale(e) - here) <= MAX_SCALE_DISTANCE]
    z = Element(symbol).Z
    others.sort(key=lambda e: (abs(scale(e) - here), abs(Element(e).Z - z), e))
    return tuple(others[:N_SIMILAR])


def _analogues(sub, index):
    """(counts, reason) of each stoichiometry of ``sub`` that a stable compound of an analogous system has.

    Each element is replaced by itself or one of its similar elements; the
    system itself is left out (a screen asks what is new). The analogue
    compound's counts keep each element's role: Ga3Ni in Ga-Ni gives Al3Ni.
    """
    choices = [(e, *_similar_elements(e, index.elements)) for e in sub]
    found = {}
    for system in itertools.product(*choices):
        if len(set(system)) < len(sub) or set(system) == set(sub):
            continue
        for counts, formula in index.stable(system):
            found.setdefault(counts, []).append(f"{formula} in {'-'.join(system)}")
    # The stoichiometries most analogues share first.
    ranked = sorted(found.items(), key=lambda t: (-len(t[1]), sum(t[0]), t[0]))
    return [(c, "as " + ", ".join(r[:MAX_REASONS]) + (f" (+{len(r) - MAX_REASONS} more)" if len(r) > MAX_REASONS
                                                         else "")) for c, r in ranked]


# --- the generator ----------------------------------------------------------


def _check(method, max_atoms):
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(map(repr, METHODS))}, got {method!r}")
    if isinstance(max_atoms, bool) or not isinstance(max_atoms, (int, np.integer)) or not (
            2 <= max_atoms <= MAX_ATOMS_LIMIT):
        raise ValueError(f"max_atoms must be an integer from 2 to {MAX_ATOMS_LIMIT}, got {max_atoms!r}")


def generate_candidates(elements, *, known=None, max_atoms=8, method="auto", grid_step=None):
    """Chemically sensible candidate compositions of a system and of its subsystems (two elements or more).

    Each subsystem gets, depending on ``method``:

    - *charge-neutral* compositions: when the subsystem is ionic (its most
      electronegative element is a non-metal with a negative common
      oxidation state), the formula units up to ``max_atoms`` atoms that
      the elements' common oxidation states balance (at least 5% of the
      element's ICSD reports, via SMACT), cations less electronegative than
      anions. Na-Cl gives NaCl only; Li-Fe-O gives Li2O, FeO, Fe2O3,
      LiFeO2, ... Mixed valence (Fe3O4) is not generated.
    - *analogues*: the stoichiometries of the compounds on the lower hull
      of analogous systems in ``known``, each element replaced by itself or
      one of its 3 nearest elements on Pettifor's chemical scale, the system
      itself left out: Al-Ni gets Al3Ni from Ga3Ni in Ga-Ni.

    Parameters
    ----------
    elements : str or sequence of str
        The system, e.g. ``"Li-Fe-O"`` or ``["Li", "Fe", "O"]``.
    known : DataFrame or None, default=None
        Known compounds (columns ``formula``, ``formation_enthalpy`` in
        eV/atom) the analogues come from; nothing else is read. ``None``:
        the bundled OQMD data, all splits. A frame is indexed once and kept
        (the last 4, by identity): do not change it in place between calls.
    max_atoms : int, default=8
        Largest formula unit of the charge-neutral candidates (2 to 30);
        analogue stoichiometries go up to 20 atoms.
    method : {"auto", "charge_neutral", "analogues", "all"}, default="auto"
        ``"auto"``: charge-neutral compositions for the ionic subsystems,
        analogues for the others. ``"charge_neutral"`` or ``"analogues"``:
        only that rule, on every subsystem (charge-neutral ones exist only
        where some element can be an anion). ``"all"``: both on every
        subsystem.
    grid_step : float or None, default=None
        Also every composition of a grid of atom fractions (see
        :func:`~sklearn_hform.stability.composition_grid`).

    Returns
    -------
    pandas.DataFrame
        One row per distinct composition: ``formula`` (reduced, elements in
        order of electronegativity as pymatgen writes them) and ``reason``
        (why it was generated, e.g. ``"charge-neutral: Li+ Fe3+ O2-"``,
        ``"as Ga3Ni in Ga-Ni"`` or ``"grid 0.1"``).

    Raises
    ------
    ValueError
        For a bad system, ``method``, ``max_atoms``, ``grid_step`` or
        ``known`` table.
    """
    elements = parse_chemical_system(elements)
    _check(method, max_atoms)
    index = _known_index(known) if method != "charge_neutral" else None
    rows = {}

    def add(sub, counts, reason):
        rows.setdefault(_name(sub, counts), reason)

    for k in range(2, len(elements) + 1):
        for sub in itertools.combinations(elements, k):
            ionic = _is_ionic(sub)
            if method in ("charge_neutral", "all") or (method == "auto" and ionic):
                for counts, reason in _charge_neutral(sub, max_atoms):
                    add(sub, counts, reason)
            if method in ("analogues", "all") or (method == "auto" and not ionic):
                for counts, reason in _analogues(sub, index):
                    add(sub, counts, reason)
    if grid_step is not None:
        grid, _ = composition_grid(elements, grid_step)
        for row in grid:
            present = [j for j, c in enumerate(row) if c]
            add([elements[j] for j in present], [int(row[j]) for j in present], f"grid {grid_step:g}")
    return pd.DataFrame({"formula": list(rows), "reason": list(rows.values())}, columns=["formula", "reason"])
