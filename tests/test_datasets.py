import numpy as np
import pandas as pd
import pytest

from sklearn_hform.datasets import load_oqmd_hform


def test_bunch_all_splits_with_outliers():
    b = load_oqmd_hform(drop_outliers=False)
    assert b.data.shape == (341_700, 1) and list(b.data.columns) == ["formula"]
    assert b.target.shape == (341_700,)
    assert b.target.name == "formation_enthalpy"
    counts = pd.Series(b.split).value_counts()
    assert counts.to_dict() == {"train": 239_190, "val": 51_255, "test": 51_255}
    assert list(b.frame.columns) == ["formula", "formation_enthalpy", "split"]
    assert "CC-BY 4.0" in b.DESCR and "crabnet" in b.DESCR.lower()
    assert (b.target.abs() > 5).sum() == 86


def test_outliers_dropped_by_default():
    X, y = load_oqmd_hform(return_X_y=True)
    assert len(X) == 341_700 - 86
    assert y.abs().max() <= 5


@pytest.mark.parametrize("split, n", [("train", 239_190 - 69), ("val", 51_255 - 13), ("test", 51_255 - 4)])
def test_single_split(split, n):
    b = load_oqmd_hform(split=split)
    assert len(b.data) == n and set(b.split) == {split}


def test_arrays_and_list_of_splits():
    X, y = load_oqmd_hform(split=["train", "val"], return_X_y=True, as_frame=False)
    assert X.ndim == 1 and X.dtype == object and isinstance(X[0], str)
    assert y.dtype == np.float64 and len(X) == len(y) == 239_190 + 51_255 - 82


def test_unknown_split():
    with pytest.raises(ValueError, match="unknown split"):
        load_oqmd_hform(split="holdout")


def test_returned_data_is_a_copy():
    X, _ = load_oqmd_hform(split="test", return_X_y=True)
    X.iloc[0, 0] = "changed"
    X2, _ = load_oqmd_hform(split="test", return_X_y=True)
    assert X2.iloc[0, 0] != "changed"


def test_every_bundled_formula_parses():
    from sklearn_hform import CompositionFractionTransformer

    X, _ = load_oqmd_hform(return_X_y=True, drop_outliers=False)
    t = CompositionFractionTransformer()
    Xt = t.fit_transform(X)
    np.testing.assert_allclose(Xt.sum(axis=1), 1.0)
    assert len(t.elements_seen_) == 86


def test_description_states_which_elements_occur():
    from importlib import resources

    from sklearn_hform import CompositionFractionTransformer

    X = load_oqmd_hform(return_X_y=True, drop_outliers=False)[0]
    seen = set(CompositionFractionTransformer().fit(X).elements_seen_)
    absent = [e for e in CompositionFractionTransformer().fit(["H"]).elements_ if e not in seen]
    descr = (resources.files("sklearn_hform.datasets") / "descr" / "oqmd_hform.rst").read_text(encoding="utf-8")
    line = next(line for line in descr.splitlines() if line.startswith(":Elements:"))
    assert line.startswith(f":Elements: {len(seen)} of hydrogen to plutonium")
    assert ", ".join(absent[:-1]) + f" and {absent[-1]} do not occur" in line


def test_licence_terms_ship_with_the_data():
    from importlib import resources

    text = (resources.files("sklearn_hform.datasets") / "data" / "LICENSE.txt").read_text(encoding="utf-8")
    assert "CC BY 4.0" in text and "MIT License" in text and "Sterling G. Baird" in text
