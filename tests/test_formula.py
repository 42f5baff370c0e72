import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pymatgen.core import Composition

from sklearn_hform import FormulaError
from sklearn_hform.composition import DEFAULT_ELEMENTS, SYMBOLS, parse_formula

COLUMN_OF = {s: j for j, s in enumerate(DEFAULT_ELEMENTS)}


def test_symbol_table_is_ordered_by_atomic_number():
    assert SYMBOLS[0] == "H" and SYMBOLS[25] == "Fe" and SYMBOLS[93] == "Pu"
    assert DEFAULT_ELEMENTS[-1] == "Pu" and len(DEFAULT_ELEMENTS) == 94


@pytest.mark.parametrize(
    "formula, expected",
    [
        ("Fe2O3", {"Fe": 2, "O": 3}),
        ("  NaCl\t", {"Na": 1, "Cl": 1}),
        ("Li0.5CoO2", {"Li": 0.5, "Co": 1, "O": 2}),
        ("Ca(OH)2", {"Ca": 1, "O": 2, "H": 2}),
        ("[Co(NH3)6]Cl3", {"Co": 1, "N": 6, "H": 18, "Cl": 3}),
        ("CuSO4·5H2O", {"Cu": 1, "S": 1, "O": 9, "H": 10}),
        ("CuSO4*5H2O", {"Cu": 1, "S": 1, "O": 9, "H": 10}),
        ("Na2CO3·H2O", {"Na": 2, "C": 1, "O": 4, "H": 2}),
        ("FeOFe", {"Fe": 2, "O": 1}),
        ("Al1Sm1Tm1", {"Al": 1, "Sm": 1, "Tm": 1}),
        ("Fe.5O", {"Fe": 0.5, "O": 1}),
    ],
)
def test_parse_formula(formula, expected):
    assert parse_formula(formula) == pytest.approx(expected)


@pytest.mark.parametrize(
    "formula, reason",
    [
        ("", "empty"),
        ("   ", "empty"),
        ("Xx2O", "unknown element symbol 'Xx'"),
        ("fe2o3", "position 0"),
        ("Fe(O2", "missing ')'"),
        ("Fe2O3)", "unbalanced ')'"),
        ("[Co(NH3]6", "unbalanced ']'"),
        ("Fe0O0", "not positive"),
        ("Fe2-O3", "'-'"),
        ("Fe2O3·", "no element"),
        ("()2", "empty group"),
    ],
)
def test_parse_formula_rejects(formula, reason):
    with pytest.raises(ValueError, match="invalid formula") as info:
        parse_formula(formula)
    assert reason in str(info.value)


# -- pymatgen as the oracle ---------------------------------------------------

counts = st.one_of(
    st.just(""),
    st.integers(1, 40).map(str),
    st.decimals(min_value="0.01", max_value="20", places=2).map(str),
)
elements = st.sampled_from(DEFAULT_ELEMENTS)
terms = st.tuples(elements, counts).map(lambda t: t[0] + t[1])


def groups(depth):
    base = st.lists(terms, min_size=1, max_size=4).map("".join)
    if depth == 0:
        return base
    inner = groups(depth - 1)
    bracketed = st.tuples(st.sampled_from(["()", "[]"]), inner, counts.filter(bool)).map(
        lambda t: t[0][0] + t[1] + t[0][1] + t[2]
    )
    return st.lists(st.one_of(base, bracketed), min_size=1, max_size=3).map("".join)


formulas = st.tuples(st.sampled_from(["", " ", "  "]), groups(2), st.sampled_from(["", " ", "\t"])).map(
    "".join
)


@settings(max_examples=300, deadline=None)
@given(formulas)
def test_fractions_match_pymatgen(formula):
    from sklearn_hform.composition import fraction_matrix

    try:
        expected = Composition(formula).fractional_composition.get_el_amt_dict()
    except Exception:  # outside what pymatgen accepts: nothing to compare
        return
    # The batch path (one regex pass for plain formulas) and the recursive
    # parser must both agree with pymatgen.
    row = fraction_matrix(np.array([formula, "NaCl"], dtype=object), None, COLUMN_OF)[0]
    got = {s: row[j] for s, j in COLUMN_OF.items() if row[j] != 0}
    assert got.keys() == {k for k, v in expected.items() if v != 0}
    for s, v in expected.items():
        assert got.get(s, 0.0) == pytest.approx(v, abs=1e-9, rel=0)
    single = parse_formula(formula)
    total = sum(single.values())
    for s, v in expected.items():
        assert single.get(s, 0.0) / total == pytest.approx(v, abs=1e-9, rel=0)


def test_many_bad_rows_are_reported_together():
    from sklearn_hform.composition import fraction_matrix

    values = np.array(["NaCl"] * 100 + ["Xx"] * 7 + [""] + ["Fe2O3"], dtype=object)
    with pytest.raises(FormulaError) as info:
        fraction_matrix(values, None, COLUMN_OF)
    assert len(info.value.problems) == 8
    message = str(info.value)
    assert "8 invalid formulas" in message
    assert "row 100: 'Xx'" in message
    assert "and 3 more" in message


def test_chemical_system_is_the_sorted_elements():
    from sklearn_hform.composition import chemical_system

    assert chemical_system("Al2O3") == chemical_system("AlO") == "Al-O"
    assert chemical_system("LiFePO4") == "Fe-Li-O-P" and chemical_system("CuSO4·5H2O") == "Cu-H-O-S"
    with pytest.raises(ValueError, match="Qq2"):
        chemical_system("Qq2")
