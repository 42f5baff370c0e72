"""Hostile and odd input: a clear error naming the row, or a correct result; never a silent wrong answer."""

import tracemalloc

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sklearn_hform import CompositionFractionTransformer, FormulaError
from sklearn_hform.composition import MAX_DEPTH, MAX_FORMULA_LENGTH

T = CompositionFractionTransformer(elements=["H", "He", "O", "Na", "Cl", "Fe"]).fit(["H2O", "NaCl", "Fe2O3", "He"])


def rows_of(X):
    return T.transform(X)


@pytest.mark.parametrize("order", [["NaCl", "NaCl\x00 garbage"], ["NaCl\x00 garbage", "NaCl"]])
def test_nul_bytes_are_errors_for_their_own_row_only(order):
    bad = order.index("NaCl\x00 garbage")
    with pytest.raises(FormulaError) as info:
        rows_of(order)
    assert [p[0] for p in info.value.problems] == [bad]
    assert "control character '\\x00'" in str(info.value)
    with pytest.raises(FormulaError, match="control character"):
        rows_of(["Fe2O3\x00"])


def test_deep_nesting_is_a_formula_error_not_a_recursion_error():
    deep = "(" * 1000 + "H" + ")" * 1000
    with pytest.raises(FormulaError, match=f"nested more than {MAX_DEPTH} deep"):
        rows_of(["H2O", deep])
    ok = "(" * MAX_DEPTH + "H" + ")" * MAX_DEPTH
    np.testing.assert_allclose(rows_of([ok])[0, 0], 1.0)


def test_one_long_formula_costs_memory_for_itself_only():
    long_one = "H" * 100_000
    batch = ["NaCl"] * 8191 + [long_one]
    tracemalloc.start()
    with pytest.raises(FormulaError, match="longer than"):
        rows_of(batch)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 100e6  # a fixed-width array of the batch would take 3.3 GB
    assert len("H" * MAX_FORMULA_LENGTH) == MAX_FORMULA_LENGTH
    np.testing.assert_allclose(rows_of(["H" * 5000])[0, 0], 1.0)


def test_counts_near_the_float_limit_are_normalised_not_zeroed():
    Xt = rows_of(["H" + "9" * 308 + "He" + "9" * 308, {"Fe": 1e308, "O": 1e308}])
    np.testing.assert_allclose(Xt.sum(axis=1), 1.0)
    np.testing.assert_allclose(Xt[0, :2], [0.5, 0.5])
    with pytest.raises(FormulaError, match="finite"):
        rows_of(["H" + "9" * 400])  # beyond float64: inf


def test_unicode_digits_are_not_counts():
    with pytest.raises(FormulaError):
        rows_of(["Fe\u0663O"])  # ARABIC-INDIC DIGIT THREE


ALPHABET = st.sampled_from(
    ["H", "He", "O", "Na", "Cl", "Fe", "Xx", "q", "2", "0", ".", "1.5", "(", ")", "[", "]", "·", "*", " ",
     "\x00", "\x01", "\x1f", "\x7f", "\t", "\n", "\u0663", "\u00b2", "\u2082", "é", "-", "e", "9" * 40]
)
FORMULAS = st.one_of(
    st.lists(ALPHABET, max_size=12).map("".join),
    st.text(max_size=12),
    st.integers(1, 200).map(lambda n: "(" * n + "H" + ")" * n),
    st.integers(1, 3).map(lambda k: "H" * (MAX_FORMULA_LENGTH - 2 + k)),
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(FORMULAS, min_size=1, max_size=60))
def test_fuzz_only_value_or_type_errors_and_rows_that_sum_to_one(batch):
    # 400 batches of 1 to 60 strings: about 12,000 strings, each also transformed alone.
    try:
        Xt = rows_of(batch)
    except FormulaError as exc:
        bad = {p[0] for p in exc.problems}
        assert bad and bad <= set(range(len(batch)))
        good = [s for i, s in enumerate(batch) if i not in bad]
        Xt = rows_of(good) if good else np.zeros((0, 6))
        batch = good
    except (ValueError, TypeError):
        return
    assert np.all(np.isfinite(Xt)) and np.all(Xt >= 0)
    np.testing.assert_allclose(Xt.sum(axis=1), 1.0)
    # No row takes another row's answer: each equals its own transform.
    for s, row in zip(batch, Xt):
        np.testing.assert_array_equal(rows_of([s])[0], row)


def test_scientific_notation_counts_as_pymatgen_reads_them():
    from pymatgen.core import Composition

    t = CompositionFractionTransformer(elements=["Fe", "Ni"]).fit(["FeNi"])
    expected = Composition("Fe1e-3Ni1").fractional_composition
    np.testing.assert_allclose(t.transform(["Fe1e-3Ni1"])[0], [expected["Fe"], expected["Ni"]])
    with pytest.raises(FormulaError, match="finite"):
        t.transform(["Fe1e400Ni"])
