"""Screening outcomes a model can be judged and calibrated on: hide known phases, screen, compare.

For each chemical system, the phases of ``known`` make the hull, as they
would in a screen; candidates are generated from ``known`` alone, and the
``hidden`` phases of the system (held out from the model's training as
well) join them when the generator missed them. A candidate is *stable*
when it is a hidden phase below the hull of the known ones; a generated
composition that no table holds counts as unstable, which is right for a
well-explored database and makes the scores a lower bound elsewhere.
Each system is scored on its own compositions (all of its elements), so
that a binary's candidates are not counted again in every ternary above it.
"""

import numpy as np
import pandas as pd

from ._hull import hull_at, lower_hull
from ._systems import atom_fractions

__all__ = ["rediscovery_outcomes"]


class _PhaseIndex:
    """The rows of a table of phases by element set, each formula parsed once."""

    def __init__(self, frame):
        from ..composition._formula import parse_formula

        missing = {"formula", "formation_enthalpy"} - set(frame.columns)
        if missing:
            raise ValueError(f"a table of phases needs columns 'formula' and 'formation_enthalpy'; "
                             f"missing {sorted(missing)}")
        self.frame = frame[["formula", "formation_enthalpy"]].reset_index(drop=True)
        self.amounts, self.by_set = [], {}
        for i, f in enumerate(self.frame["formula"]):
            try:
                a = parse_formula(str(f))
            except ValueError as exc:
                raise ValueError(f"phase table, row {i}: {exc}") from None
            self.amounts.append(a)
            self.by_set.setdefault(frozenset(a), []).append(i)

    def within(self, elements):
        """The rows whose elements all lie in ``elements``."""
        import itertools

        sets = (frozenset(c) for k in range(1, len(elements) + 1) for c in itertools.combinations(elements, k))
        return self.frame.iloc[sorted(i for s in sets for i in self.by_set.get(s, ()))]

    def exactly(self, elements):
        """Indices of the rows made of exactly ``elements``."""
        return self.by_set.get(frozenset(elements), [])


def _key(row):
    return tuple(np.round(row, 9))


def _system_outcomes(system, known_index, hidden_index, known, max_atoms, method):
    """The candidates of one system with their hull energy and, where hidden, their true ΔHd."""
    from ._candidates import generate_candidates
    from ._screen import known_phases
    from ._systems import parse_chemical_system

    elements = parse_chemical_system(system)
    refs = known_phases(elements, known_index.within(elements))
    ref_x = refs[[f"x_{e}" for e in elements]].to_numpy()
    ref_e = refs["formation_enthalpy"].to_numpy(dtype=np.float64)
    taken = {_key(r) for r in ref_x}

    rows = {}
    generated = generate_candidates(elements, known=known, max_atoms=max_atoms, method=method)
    for formula, reason in zip(generated["formula"], generated["reason"]):
        x = atom_fractions([formula], elements)[0]
        if (x > 0).sum() == len(elements) and _key(x) not in taken:
            rows.setdefault(_key(x), {"formula": formula, "reason": reason, "x": x, "generated": True})
    for i in hidden_index.exactly(elements):
        x = atom_fractions([hidden_index.amounts[i]], elements)[0]
        if _key(x) in taken:
            continue  # a polymorph of a known composition: not a new compound
        row = rows.setdefault(_key(x), {"formula": hidden_index.frame["formula"][i], "reason": "hidden phase",
                                        "x": x, "generated": False})
        energy = float(hidden_index.frame["formation_enthalpy"][i])
        row["hidden_energy"] = min(energy, row.get("hidden_energy", np.inf))
    if not rows:
        return None
    table = pd.DataFrame(list(rows.values()))
    x = np.stack(table.pop("x").to_numpy())
    planes, vertices = lower_hull(ref_x, ref_e)
    table["hull_energy"] = hull_at(x, planes, vertices, ref_x)[0]
    # The baseline that knows only the table: each candidate at the energy of its nearest known phase.
    nearest = np.abs(x[:, None, :] - ref_x[None, :, :]).sum(axis=2).argmin(axis=1)
    table["nearest_known_decomposition_energy"] = ref_e[nearest] - table["hull_energy"]
    if "hidden_energy" not in table:
        table["hidden_energy"] = np.nan
    table["hidden"] = table["hidden_energy"].notna()
    table["true_decomposition_energy"] = table.pop("hidden_energy") - table["hull_energy"]
    table["stable"] = table["true_decomposition_energy"] < 0
    table.insert(0, "system", "-".join(elements))
    return table


def rediscovery_outcomes(model, systems, known, hidden, *, max_atoms=8, method="auto"):
    """Screen systems with some phases hidden: each candidate's predicted and true decomposition energy.

    Parameters
    ----------
    model : Pipeline or None
        Fitted, formulas in, eV/atom out; it must not have trained on the
        ``hidden`` phases. ``None`` leaves out the predictions (the
        candidates and their outcomes only).
    systems : sequence of str
        Chemical systems, e.g. ``["Al-Ni", "Li-Fe-O"]``.
    known : DataFrame
        Phases the screen knows (columns ``formula`` and
        ``formation_enthalpy``, eV/atom): the hull, and what candidates are
        generated from.
    hidden : DataFrame
        Phases held out (same columns); those below the hull of ``known``
        are the stable compounds to rediscover.
    max_atoms : int, default=8
    method : str, default="auto"
        As :func:`~sklearn_hform.stability.generate_candidates`.

    Returns
    -------
    pandas.DataFrame
        One row per candidate of each system with all its elements:
        ``system``, ``formula``, ``reason``, ``generated`` (False for a
        hidden phase the generator missed), ``hidden``, ``hull_energy``,
        ``true_decomposition_energy`` (NaN unless hidden), ``stable``,
        ``nearest_known_decomposition_energy`` (a baseline) and, with a
        model, ``prediction``, ``std`` (NaN without one) and
        ``decomposition_energy``. A system without candidates has no rows.
    """
    known_index, hidden_index = _PhaseIndex(known), _PhaseIndex(hidden)
    tables = [t for t in (_system_outcomes(s, known_index, hidden_index, known, max_atoms, method)
                          for s in systems) if t is not None]
    if not tables:
        raise ValueError("no candidates in any of the systems given")
    table = pd.concat(tables, ignore_index=True)
    if model is not None:
        from ..prediction import predict_formulas

        predicted = predict_formulas(model, table["formula"].tolist())
        table["prediction"] = predicted["prediction"].to_numpy()
        table["std"] = predicted["std"].to_numpy() if "std" in predicted else np.nan
        table["decomposition_energy"] = table["prediction"] - table["hull_energy"]
    return table
