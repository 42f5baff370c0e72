"""The candidate generator: charge-neutral ionic compositions, analogue stoichiometries from the known table only."""

import itertools
import re

import pandas as pd
import pytest

from sklearn_hform.composition import parse_formula
from sklearn_hform.stability import candidate_formulas, generate_candidates

# Deliberately small and independent of SMACT: the states a chemist would allow.
COMMON_STATES = {"Li": (1,), "Na": (1,), "Fe": (2, 3), "O": (-2,), "Cl": (-1,)}


def balanced(formula):
    """Whether some choice of one common state per element makes ``formula`` neutral."""
    amounts = parse_formula(formula)
    choices = itertools.product(*(COMMON_STATES[e] for e in amounts))
    return any(abs(sum(s * n for s, n in zip(states, amounts.values()))) < 1e-9 for states in choices)


def test_na_cl_is_only_nacl():
    table = generate_candidates("Na-Cl")
    assert list(table.columns) == ["formula", "reason"]
    assert table["formula"].tolist() == ["NaCl"]
    assert table["reason"][0] == "charge-neutral: Na+ Cl-"
    assert not {"Na4Cl5", "Na2Cl17", "NaCl6"} & set(candidate_formulas(["Na", "Cl"]))


def test_li_fe_o_is_charge_neutral_with_its_oxidation_states():
    table = generate_candidates("Li-Fe-O")
    formulas = set(table["formula"])
    assert {"Li2O", "FeO", "Fe2O3", "LiFeO2"} <= formulas
    oxides = [f for f in formulas if "O" in parse_formula(f)]
    assert len(oxides) == len(formulas)  # Li-Fe has no stable analogue compound
    assert all(balanced(f) for f in oxides), [f for f in oxides if not balanced(f)]
    assert table.set_index("formula").loc["LiFeO2", "reason"] == "charge-neutral: Li+ Fe3+ O2-"
    assert all(sum(parse_formula(f).values()) <= 8 for f in formulas)
    assert "Li5FeO4" in set(generate_candidates("Li-Fe-O", max_atoms=10)["formula"])


def test_intermetallics_get_analogue_stoichiometries_of_other_systems():
    table = generate_candidates(["Al", "Ni"])
    assert 5 <= len(table) <= 25
    assert {"AlNi", "Al3Ni", "AlNi3"} <= set(table["formula"])
    for formula, reason in zip(table["formula"], table["reason"]):
        assert reason.startswith("as "), reason
        systems = re.findall(r" in ([A-Z][a-z]?(?:-[A-Z][a-z]?)+)", reason)
        assert systems and all(set(s.split("-")) != {"Al", "Ni"} for s in systems), reason
        assert set(parse_formula(formula)) == {"Al", "Ni"}


def test_analogues_come_from_the_known_table_only():
    known = pd.DataFrame({"formula": ["Ga3Ni", "GaPt", "Al2Cu"], "formation_enthalpy": [-0.4, -0.8, -0.3]})
    table = generate_candidates("Al-Ni", known=known)
    assert dict(zip(table["formula"], table["reason"])) == {"Al3Ni": "as Ga3Ni in Ga-Ni", "AlNi": "as GaPt in Ga-Pt"}
    # A compound above the hull of its system, or above 0, is no analogue.
    above = pd.DataFrame({"formula": ["GaNi", "Ga3Ni", "GaNi3"], "formation_enthalpy": [-0.6, -0.1, 0.2]})
    assert generate_candidates("Al-Ni", known=above)["formula"].tolist() == ["AlNi"]
    # The system's own compounds are never their own analogues.
    itself = pd.DataFrame({"formula": ["Al3Ni"], "formation_enthalpy": [-0.5]})
    assert generate_candidates("Al-Ni", known=itself).empty
    # The cache is by frame: a new frame is read afresh.
    assert generate_candidates("Al-Ni", known=known.iloc[:1].copy())["formula"].tolist() == ["Al3Ni"]


def test_methods_grid_and_subsystems():
    ionic = generate_candidates("Al-O", method="analogues")
    assert all(r.startswith("as ") for r in ionic["reason"])
    both = generate_candidates("Al-O", method="all")
    assert set(ionic["formula"]) <= set(both["formula"]) and "Al2O3" in set(both["formula"])
    assert generate_candidates("Al-Ni", method="charge_neutral").empty
    grid = generate_candidates("Na-Cl", grid_step=0.25)
    assert set(grid["formula"]) == {"NaCl", "Na3Cl", "NaCl3"}
    assert grid.set_index("formula").loc["Na3Cl", "reason"] == "grid 0.25"
    ternary = generate_candidates("Li-Mn-Ni-O")
    assert {"Li2O", "NiO", "MnO2", "LiMnO2", "LiNiO2"} <= set(ternary["formula"])
    assert ternary["formula"].is_unique
    assert (ternary["reason"].str.len() > 0).all()


@pytest.mark.parametrize("kwargs, message", [
    ({"method": "magic"}, "'magic'"),
    ({"max_atoms": 1}, "got 1"),
    ({"max_atoms": 2.5}, "got 2.5"),
    ({"max_atoms": 31}, "got 31"),
    ({"known": pd.DataFrame({"formula": ["NaCl"]})}, "formation_enthalpy"),
    ({"grid_step": 0.3}, "0.3"),
])
def test_bad_arguments_are_value_errors_naming_the_value(kwargs, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        generate_candidates("Al-Ni", **kwargs)
    with pytest.raises(ValueError, match="Qq"):
        generate_candidates("Al-Qq")
