import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
from pymatgen.core import Composition
from sklearn.base import clone
from sklearn.compose import ColumnTransformer
from sklearn.pipeline import FeatureUnion, Pipeline

from sklearn_hform import CompositionFractionTransformer, FormulaError, UnseenElementWarning
from sklearn_hform.composition import DEFAULT_ELEMENTS


def test_paper_input_vectors():
    t = CompositionFractionTransformer()
    Xt = t.fit_transform(["Fe2O3", "NaCl"])
    assert Xt.shape == (2, 94) and Xt.dtype == np.float64
    names = list(t.get_feature_names_out())
    assert names == list(DEFAULT_ELEMENTS)
    assert Xt[0, names.index("Fe")] == pytest.approx(0.4)
    assert Xt[0, names.index("O")] == pytest.approx(0.6)
    assert Xt[1, names.index("Na")] == Xt[1, names.index("Cl")] == pytest.approx(0.5)
    np.testing.assert_allclose(Xt.sum(axis=1), 1.0)


@pytest.mark.parametrize(
    "X",
    [
        ["Fe2O3", "NaCl"],
        ("Fe2O3", "NaCl"),
        np.array(["Fe2O3", "NaCl"]),
        np.array([["Fe2O3"], ["NaCl"]], dtype=object),
        pd.Series(["Fe2O3", "NaCl"], index=[10, 11]),
        pd.DataFrame({"formula": ["Fe2O3", "NaCl"]}),
        [Composition("Fe2O3"), Composition("NaCl")],
        [{"Fe": 2, "O": 3}, {"Na": 1.0, "Cl": 1.0}],
        ["Fe2O3", Composition("NaCl")],
    ],
    ids=["list", "tuple", "array", "2d-array", "series", "frame", "compositions", "dicts", "mixed"],
)
def test_input_types(X):
    expected = CompositionFractionTransformer().fit_transform(["Fe2O3", "NaCl"])
    np.testing.assert_allclose(CompositionFractionTransformer().fit_transform(X), expected)


def test_elements_parameter_sorted_by_atomic_number_and_strict():
    t = CompositionFractionTransformer(elements=["O", "Fe", "H"]).fit(["Fe2O3"])
    assert list(t.get_feature_names_out()) == ["H", "O", "Fe"]
    with pytest.raises(FormulaError, match="'Na' is not among the transformer's elements"):
        t.transform(["NaCl"])
    with pytest.raises(ValueError, match="unknown element"):
        CompositionFractionTransformer(elements=["Xx"]).fit(["H2"])


def test_bad_rows_named_with_index():
    X = pd.Series(["Fe2O3", "fe2o3", None, "Xx2O", "NaCl"], index=list("abcde"))
    with pytest.raises(FormulaError) as info:
        CompositionFractionTransformer().fit_transform(X)
    msg = str(info.value)
    assert "3 invalid formulas" in msg
    assert "row 1 (index 'b'): 'fe2o3'" in msg
    assert "row 2 (index 'c'): None: missing value" in msg
    assert "row 3 (index 'd'): 'Xx2O': unknown element symbol 'Xx'" in msg


@pytest.mark.parametrize("bad", ["", "Xx2O", "fe2o3", "Fe(O2", "Fe2O3]", "Fe0", None, float("nan")])
def test_bad_formula_never_becomes_a_row(bad):
    X = ["NaCl"] * 1000 + [bad] + ["Fe2O3"] * 1000
    with pytest.raises(ValueError, match="row 1000"):
        CompositionFractionTransformer().fit_transform(X)


def test_wrong_type_is_type_error():
    with pytest.raises(TypeError, match="row 1: 5: unsupported type int") as info:
        CompositionFractionTransformer().fit_transform(["NaCl", 5])
    assert info.value.problems == [(1, None, 5, "unsupported type int")]
    with pytest.raises(TypeError, match="wrap it in a list"):
        CompositionFractionTransformer().fit_transform("NaCl")


def test_duplicates_parsed_once_and_expanded():
    X = ["NaCl", "Fe2O3", "NaCl", " NaCl "]
    Xt = CompositionFractionTransformer().fit_transform(X)
    np.testing.assert_array_equal(Xt[0], Xt[2])
    np.testing.assert_array_equal(Xt[0], Xt[3])


@pytest.mark.parametrize("handle_unknown", ["warn", "error", "ignore"])
def test_handle_unknown(handle_unknown):
    t = CompositionFractionTransformer(handle_unknown=handle_unknown).fit(["Fe2O3", "NaCl"])
    assert set(t.elements_seen_) == {"O", "Na", "Cl", "Fe"}
    X = ["FeO", "LiCl", "NaCl"]
    if handle_unknown == "error":
        with pytest.raises(ValueError, match=r"\['Li'\] never seen during fit \(row 1: 'LiCl'"):
            t.transform(X)
    elif handle_unknown == "warn":
        with pytest.warns(UnseenElementWarning, match="row 1: 'LiCl'") as record:
            t.transform(X)
        assert record[0].filename == __file__  # blames the caller, not sklearn's wrapper
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            t.transform(X)


def test_set_output_pandas_keeps_index():
    t = CompositionFractionTransformer(elements=["O", "Na", "Cl", "Fe"]).set_output(transform="pandas")
    out = t.fit_transform(pd.Series(["Fe2O3", "NaCl"], index=["x", "y"]))
    assert list(out.columns) == ["O", "Na", "Cl", "Fe"]
    assert list(out.index) == ["x", "y"]
    assert out.loc["x", "Fe"] == pytest.approx(0.4)


def test_declares_string_input():
    tags = CompositionFractionTransformer().__sklearn_tags__()
    assert tags.input_tags.string and not tags.input_tags.two_d_array


def test_pickle_and_clone():
    t = CompositionFractionTransformer(elements=["O", "Fe"]).fit(["Fe2O3"])
    t2 = pickle.loads(pickle.dumps(t))
    np.testing.assert_array_equal(t2.transform(["FeO"]), t.transform(["FeO"]))
    assert clone(t).get_params() == t.get_params()


def test_matminer_interface_matches_element_fraction():
    from matminer.featurizers.composition import ElementFraction

    ours = CompositionFractionTransformer()
    theirs = ElementFraction()
    comp = Composition("Li0.5CoO2")
    ref = dict(zip(theirs.feature_labels(), theirs.featurize(comp)))
    got = dict(zip(ours.feature_labels(), ours.featurize(comp)))
    for symbol, value in got.items():
        assert value == pytest.approx(ref[symbol], abs=1e-12)
    assert ours.citations() and ours.implementors()
    df = pd.DataFrame({"formula": ["Fe2O3", "NaCl"], "y": [1.0, 2.0]})
    out = ours.featurize_dataframe(df, "formula")
    assert list(out.columns[:2]) == ["formula", "y"] and out.shape == (2, 2 + 94)
    assert out.loc[0, "Fe"] == pytest.approx(0.4)
    assert "Fe" not in df.columns


def test_combines_with_matminer_featurizer_in_pipeline():
    from matminer.featurizers.composition import ElementProperty
    from sklearn.linear_model import Ridge

    X = [Composition(f) for f in ["Fe2O3", "NaCl", "Al2O3", "MgO", "LiF", "CaTiO3"]]
    y = np.array([-1.7, -2.1, -3.4, -3.1, -3.2, -3.4])
    union = FeatureUnion(
        [("fractions", CompositionFractionTransformer()), ("magpie", ElementProperty.from_preset("magpie"))]
    )
    pipe = Pipeline([("features", union), ("ridge", Ridge())])
    pipe.fit(X, y)
    n_magpie = len(ElementProperty.from_preset("magpie").feature_labels())
    assert pipe.named_steps["features"].transform(X).shape == (6, 94 + n_magpie)
    cloned = clone(pipe).fit(X, y)
    np.testing.assert_allclose(cloned.predict(X), pipe.predict(X))


def test_in_column_transformer():
    df = pd.DataFrame({"formula": ["Fe2O3", "NaCl", "MgO"], "T": [300.0, 400.0, 500.0]})
    ct = ColumnTransformer([("frac", CompositionFractionTransformer(), ["formula"])], remainder="passthrough")
    out = ct.fit_transform(df)
    assert out.shape == (3, 95)
    assert ct.get_feature_names_out()[-1] == "remainder__T"
    assert "frac__Fe" in ct.get_feature_names_out()
