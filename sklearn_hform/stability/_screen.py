"""Stability screening: candidates of a chemical system against the hull of its known phases.

For each candidate the model predicts the formation enthalpy ΔHf (with a
std when it is an ensemble); the candidate's decomposition energy ΔHd is that
energy minus the convex hull of the *other* phases of the system at its
composition (Bartel et al., npj Comput. Mater. 6, 97, 2020): negative means
predicted stable. The reference hull is built from known phases (by default
the bundled OQMD energies of the system and all its subsystems, elements at
0), so a screen is a question about new compounds, not about artefacts of a
composition grid.

The hull is computed once per system: a lower convex hull is the maximum of
its facets' planes, so the hull energy of all candidates is one matrix
product. Only a phase that is itself a hull vertex needs a second hull
without it (for its own ΔHd).
"""

import itertools
from functools import lru_cache

import numpy as np
import pandas as pd

from ._candidates import generate_candidates
from ._hull import hull_at, lower_hull
from ._systems import atom_fractions

__all__ = ["MAX_CANDIDATES", "MAX_ELEMENTS", "candidate_formulas", "known_phases", "screen"]

#: Largest chemical system screened (number of elements).
MAX_ELEMENTS = 6
#: Largest number of candidates screened at once.
MAX_CANDIDATES = 50_000


@lru_cache(maxsize=1)
def _bundled():
    """Every bundled OQMD compound (outliers dropped), its counts, and the rows of each element set; parsed once."""
    from ..datasets._oqmd import load_oqmd_hform
    from ..composition._formula import parse_formula

    frame = load_oqmd_hform().frame[["formula", "formation_enthalpy"]].reset_index(drop=True)
    amounts = [parse_formula(f) for f in frame["formula"]]
    by_set = {}
    for i, a in enumerate(amounts):
        by_set.setdefault(frozenset(a), []).append(i)
    return frame, amounts, by_set


def known_phases(elements, data=None):
    """Known phases of a chemical system and of all its subsystems, with their formation enthalpies.

    Parameters
    ----------
    elements : sequence of str
    data : DataFrame, path-like or None, default=None
        ``None``: the bundled OQMD data (all splits, outliers dropped).
        Otherwise a table (or CSV file) with columns ``formula`` and
        ``formation_enthalpy`` (eV/atom), e.g. your own DFT or experimental
        values. Compounds with elements outside the system are ignored.

    Returns
    -------
    pandas.DataFrame
        ``formula``, ``formation_enthalpy`` and the atom fraction of each
        element (``x_<El>``); the lowest energy of each composition, elements
        included at 0.
    """
    from ..composition._formula import parse_formula

    system = frozenset(elements)
    if data is None:
        frame, amounts, by_set = _bundled()
        subsets = (frozenset(c) for k in range(1, len(elements) + 1) for c in itertools.combinations(elements, k))
        keep = sorted(i for s in subsets for i in by_set.get(s, ()))
        frame, amounts = frame.iloc[keep], [amounts[i] for i in keep]
    else:
        frame = pd.read_csv(data) if not isinstance(data, pd.DataFrame) else data
        missing = {"formula", "formation_enthalpy"} - set(frame.columns)
        if missing:
            raise ValueError(f"known phases need columns 'formula' and 'formation_enthalpy'; missing {sorted(missing)}")
        amounts = []
        for i, f in enumerate(frame["formula"]):
            try:
                amounts.append(parse_formula(str(f)))
            except ValueError as exc:
                raise ValueError(f"known phases, row {i}: {exc}") from None
        keep = [i for i, a in enumerate(amounts) if set(a) <= system]
        frame, amounts = frame.iloc[keep], [amounts[i] for i in keep]
        energy = pd.to_numeric(frame["formation_enthalpy"], errors="coerce")
        if not np.isfinite(energy).all():
            raise ValueError("known phases: formation_enthalpy must be finite numbers")
    x = atom_fractions(amounts, list(elements)) if amounts else np.zeros((0, len(elements)))
    table = pd.DataFrame({"formula": frame["formula"].to_numpy(), "formation_enthalpy": frame["formation_enthalpy"]
                          .to_numpy(dtype=np.float64)})
    for j, e in enumerate(elements):
        table[f"x_{e}"] = x[:, j]
    pure = pd.DataFrame({"formula": list(elements), "formation_enthalpy": 0.0,
                         **{f"x_{e}": np.eye(len(elements))[:, j] for j, e in enumerate(elements)}})
    table = pd.concat([pure, table], ignore_index=True)
    key = table[[f"x_{e}" for e in elements]].round(9).apply(tuple, axis=1)
    table = table.assign(_key=key).sort_values("formation_enthalpy", kind="stable").drop_duplicates("_key")
    return table.drop(columns="_key").reset_index(drop=True)


def candidate_formulas(elements, *, max_atoms=8, method="auto", grid_step=None, known=None):
    """Candidate compositions of a system and its subsystems (at least two elements each), as formulas.

    The formulas of :func:`~sklearn_hform.stability.generate_candidates`,
    which also says why each one was generated.

    Parameters
    ----------
    elements : str or sequence of str
    max_atoms : int, default=8
        Largest formula unit of the charge-neutral candidates.
    method : {"auto", "charge_neutral", "analogues", "all"}, default="auto"
        Charge-neutral compositions of ionic subsystems, stoichiometries of
        analogous systems for the others (see ``generate_candidates``).
    grid_step : float or None, default=None
        Add a grid of atom fractions (see
        :func:`~sklearn_hform.stability.composition_grid`).
    known : DataFrame or None, default=None
        Known compounds the analogues come from (default: the bundled OQMD).

    Returns
    -------
    list of str
        Reduced formulas, without duplicates.
    """
    table = generate_candidates(elements, known=known, max_atoms=max_atoms, method=method, grid_step=grid_step)
    return table["formula"].tolist()


def _display_name(formula):
    from pymatgen.core import Composition

    return Composition(formula).reduced_formula


def _unique_compositions(formulas, elements):
    """One formula per composition (``LiO3`` and ``Li1O3`` are the same), named as pymatgen reduces it.

    Returns the formulas and, for each, the position in ``formulas`` it came from.
    """
    from pymatgen.core import Composition

    from ..composition._formula import parse_formula

    out, kept, seen = [], [], set()
    for i, f in enumerate(formulas):
        try:
            amounts = parse_formula(f)  # strict: pymatgen would take "Qq" for a dummy species
        except ValueError as exc:
            raise ValueError(f"candidate {f!r} is not a formula: {exc}") from None
        comp = Composition(amounts)
        outside = sorted(e for e in amounts if e not in elements)
        if outside:
            raise ValueError(f"candidate {f!r} has element(s) {outside} outside {'-'.join(elements)}")
        if len(comp.elements) < 2:
            continue  # an element is a reference, not a candidate
        key = tuple(round(comp.get_atomic_fraction(e), 9) for e in elements)
        if key not in seen:
            seen.add(key)
            out.append(comp.reduced_formula)
            kept.append(i)
    return out, kept


def screen(model, system, *, candidates=None, known=None, mode="hybrid", max_atoms=8, grid_step=None,
           calibration="auto"):
    """Screen a chemical system: ΔHf, ΔHd against the known phases, competing phases and P(stable).

    Parameters
    ----------
    model : Pipeline
        Fitted, formulas in, eV/atom out: for screening, the shipped
        ``load_pretrained("best")`` (what ``hform screen`` and ``hform hull``
        use), whose ``p_stable`` is calibrated.
    system : str or sequence of str
        E.g. ``"Li-Fe-O"``; at most :data:`MAX_ELEMENTS` elements.
    candidates : sequence of str or None, default=None
        Formulas to screen. ``None`` generates them with
        :func:`generate_candidates` (charge-neutral compositions of ionic
        subsystems, stoichiometries of the known phases of analogous
        systems for intermetallic ones, a grid only with ``grid_step``);
        the known phases
        of the system are screened too.
    known : DataFrame, path-like or None, default=None
        Known phases, see :func:`known_phases` (default: the bundled OQMD).
    mode : {"hybrid", "model"}, default="hybrid"
        ``"hybrid"``: the known phases stay at their known energies and only
        the candidate is predicted. ``"model"``: the known phases are
        predicted too (a model-only hull).
    max_atoms : int, default=8
    grid_step : float or None, default=None
    calibration : "auto", StabilityCalibrator or None, default="auto"
        How ``p_stable`` is computed from ΔHd and the std: a
        :class:`~sklearn_hform.stability.StabilityCalibrator` fitted on
        held-out outcomes; ``"auto"``, the model's own
        (``model.stability_calibration_``, which ``load_pretrained`` sets
        where one ships), else ``None``: a Gaussian of the std.

    Returns
    -------
    pandas.DataFrame
        One row per candidate, most stable first (by predicted ΔHd):

        - ``formula``;
        - ``status``: ``"known-stable"`` (a known phase on the hull of the
          known phases), ``"known-unstable"`` (a known phase above it) or
          ``"new"``;
        - ``reason``: why it was screened (``"known phase"``, the charge
          assignment or the analogous phases it was generated from,
          ``"given"``);
        - ``known`` and ``known_decomposition_energy``: its known ΔHf and
          ΔHd against the other known phases (NaN for a new candidate);
        - ``prediction`` and ``std`` (for ensembles): the model's ΔHf;
        - ``decomposition_energy``: the predicted ΔHd (eV/atom; < 0 is
          predicted stable) and ``e_above_hull``, ΔHd clipped at 0;
        - ``competing_phases``: the phases it would decompose into, with
          their shares;
        - ``p_stable``: the probability that it is stable, from the
          calibrator (for the shipped models, fitted on held-out OQMD
          outcomes by ``benchmarks/bench_discovery.py``), else a Gaussian
          of the std (NaN without one);
        - ``unseen_elements``: elements the model never trained on.

        A known phase is judged by what is known of it (``status``); its
        prediction is beside it to show how well the model knows the
        system.

    Raises
    ------
    ValueError
        For a bad system, too many elements or candidates, an unknown
        ``mode``, or candidates outside the system or unreadable.
    """
    elements = _check_system(system, mode)
    refs = known_phases(elements, known)
    pure = refs[[f"x_{e}" for e in elements]].to_numpy().max(axis=1) > 1 - 1e-9
    candidates, reasons = _screened_candidates(candidates, elements, refs, pure, max_atoms, grid_step)
    table = _predict_candidates(model, candidates)
    x = _candidate_fractions(candidates, elements)

    ref_x, ref_e = _reference_energies(model, refs, elements, pure, mode)
    match = _matching_references(x, ref_x)
    hull_e, weights = _hull_energies(x, ref_x, ref_e, match)
    known_e = _known_energies(refs, match)
    known_hull_e = hull_e if mode == "hybrid" else _hull_energies(
        x, ref_x, refs["formation_enthalpy"].to_numpy(dtype=np.float64), match)[0]
    calibrator = getattr(model, "stability_calibration_", None) if calibration == "auto" else calibration
    out = _screen_table(candidates, known_e, table, hull_e, weights, refs, known_e - known_hull_e, calibrator)
    out.insert(2, "reason", np.asarray(reasons, dtype=object)[out.pop("_order").to_numpy()])
    return out


def _check_system(system, mode):
    """The elements of ``system``, once it and ``mode`` are known to be screenable."""
    from ._systems import parse_chemical_system

    elements = parse_chemical_system(system)
    if len(elements) > MAX_ELEMENTS:
        raise ValueError(f"screening handles systems of up to {MAX_ELEMENTS} elements, not {len(elements)}")
    if mode not in ("hybrid", "model"):
        raise ValueError(f"mode must be 'hybrid' or 'model', got {mode!r}")
    return elements


def _screened_candidates(candidates, elements, refs, pure, max_atoms, grid_step):
    """The distinct compositions to screen (those given, or the known compounds and generated ones) and why each."""
    if candidates is None:
        generated = generate_candidates(elements, max_atoms=max_atoms, grid_step=grid_step)
        candidates = list(refs["formula"][~pure]) + generated["formula"].tolist()
        reasons = ["known phase"] * int((~pure).sum()) + generated["reason"].tolist()
    else:
        reasons = ["given"] * len(candidates)
    candidates, kept = _unique_compositions([str(c) for c in candidates], elements)
    reasons = [reasons[i] for i in kept]
    if not candidates:
        raise ValueError(f"no candidates to screen in {'-'.join(elements)}")
    if len(candidates) > MAX_CANDIDATES:
        raise ValueError(f"{len(candidates):,} candidates, more than the {MAX_CANDIDATES:,} screened at once")
    return candidates, reasons


def _predict_candidates(model, candidates):
    """The model's predictions of the candidates; the first one it cannot predict is an error."""
    from ..prediction import predict_formulas

    table = predict_formulas(model, candidates)
    if (table["error"] != "").any():
        bad = table.index[table["error"] != ""][0]
        raise ValueError(f"candidate {candidates[bad]!r}: {table['error'][bad]}")
    return table


def _candidate_fractions(candidates, elements):
    """Atom fractions of the candidates over ``elements``, one row each."""
    from ..composition._formula import parse_formula

    amounts = [parse_formula(c) for c in candidates]
    outside = [c for c, a in zip(candidates, amounts) if not set(a) <= set(elements)]
    if outside:
        raise ValueError(f"candidate(s) outside {'-'.join(elements)}: {outside[:5]}")
    return atom_fractions(amounts, elements)


def _reference_energies(model, refs, elements, pure, mode):
    """Fractions and energies of the reference phases: known ones, or predicted compounds in ``"model"`` mode."""
    from ..prediction import predict_formulas

    ref_x = refs[[f"x_{e}" for e in elements]].to_numpy()
    ref_e = refs["formation_enthalpy"].to_numpy(dtype=np.float64)
    if mode == "model":
        ref_e = ref_e.copy()
        ref_e[~pure] = predict_formulas(model, refs["formula"][~pure].tolist())["prediction"]
    return ref_x, ref_e


def _matching_references(x, ref_x):
    """For each row of ``x``, the index of the reference phase of the same composition, or None."""
    match = {tuple(np.round(r, 9)): i for i, r in enumerate(ref_x)}
    return [match.get(tuple(np.round(row, 9))) for row in x]


def _hull_energies(x, ref_x, ref_e, match):
    """Hull energy at each candidate and the reference phases (index: weight) that make it there."""
    planes, vertices = lower_hull(ref_x, ref_e)
    hull_e, weights = hull_at(x, planes, vertices, ref_x)
    # A candidate that is itself a hull vertex is judged against the hull of the others.
    on_hull = {int(v) for f in vertices for v in f}
    for i, (row, j) in enumerate(zip(x, match)):
        if j is not None and j in on_hull:
            others = np.delete(np.arange(len(ref_x)), j)
            p, v = lower_hull(ref_x[others], ref_e[others])
            e, w = hull_at(row[None], p, [others[f] for f in v], ref_x)
            hull_e[i], weights[i] = e[0], w[0]
    return hull_e, weights


def _known_energies(refs, match):
    """Known ΔHf of each candidate that is a reference phase, NaN for the others."""
    known_e = np.full(len(match), np.nan)
    for i, j in enumerate(match):
        if j is not None:
            known_e[i] = refs["formation_enthalpy"][j]
    return known_e


def _screen_table(candidates, known_e, table, hull_e, weights, refs, known_d, calibrator):
    """The result of :func:`screen`: one row per candidate, most stable first (``_order``: its input position)."""
    from ._probability import StabilityCalibrator

    status = np.where(np.isnan(known_e), "new", np.where(known_d <= 1e-9, "known-stable", "known-unstable"))
    out = pd.DataFrame({"formula": candidates, "status": status, "known": known_e,
                        "known_decomposition_energy": known_d, "prediction": table["prediction"]})
    if "std" in table:
        out["std"] = table["std"]
    out["decomposition_energy"] = out["prediction"] - hull_e
    out["e_above_hull"] = out["decomposition_energy"].clip(lower=0)
    names = [_display_name(f) for f in refs["formula"]]
    out["competing_phases"] = [
        " + ".join(f"{w:.2f} {names[j]}" for j, w in sorted(ws.items(), key=lambda t: -t[1])) for ws in weights
    ]
    std = out["std"].to_numpy() if "std" in out else np.full(len(out), np.nan)
    out["p_stable"] = (calibrator or StabilityCalibrator()).predict_proba(out["decomposition_energy"], std)
    if calibrator is None:
        out.loc[np.isnan(std), "p_stable"] = np.nan  # no std, no Gaussian
    out["unseen_elements"] = table["unseen_elements"]
    out["_order"] = np.arange(len(out))
    return out.sort_values(["decomposition_energy", "formula"], kind="stable").reset_index(drop=True)
