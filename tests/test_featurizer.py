"""ElementFractionFeaturizer: a real matminer featurizer over the fast parser."""

import numpy as np
import pandas as pd
import pytest
from matminer.featurizers.base import BaseFeaturizer, MultipleFeaturizer
from matminer.featurizers.composition import ElementFraction
from pymatgen.core import Composition

from sklearn_hform import CompositionFractionTransformer, FormulaError
from sklearn_hform.composition import ElementFractionFeaturizer


def test_is_a_matminer_featurizer_equal_to_the_transformer_and_matminer():
    f = ElementFractionFeaturizer()
    assert isinstance(f, BaseFeaturizer)
    formulas = ["Fe2O3", "NaCl", "Ca(OH)2", "Li0.5CoO2"]
    df = f.featurize_dataframe(pd.DataFrame({"formula": formulas}), "formula", pbar=False)
    ours = df[f.feature_labels()].to_numpy()
    np.testing.assert_allclose(ours, CompositionFractionTransformer().fit_transform(formulas))
    theirs = np.array([ElementFraction().featurize(Composition(s))[:94] for s in formulas])
    np.testing.assert_allclose(ours, theirs, atol=1e-12)
    assert f.featurize("NaCl") == ours[1].tolist()
    assert any("Ti, Lei" in c for c in f.citations()) and any("ElemNet" in c for c in f.citations())


def test_ignore_and_return_errors_keep_the_good_rows():
    f = ElementFractionFeaturizer(elements=["O", "Na", "Cl", "Fe"])
    df = pd.DataFrame({"formula": ["NaCl", "Xx2", "Fe2O3"]})
    with pytest.raises(FormulaError, match="row 1"):
        f.featurize_dataframe(df, "formula", pbar=False)
    out = f.featurize_dataframe(df, "formula", ignore_errors=True, return_errors=True, pbar=False)
    assert out.shape == (3, 1 + 4 + 1)
    assert out.iloc[1, 1:5].isna().all() and "unknown element symbol 'Xx'" in out.iloc[1, -1]
    np.testing.assert_allclose(out.iloc[[0, 2], 1:5].to_numpy(dtype=float), [[0, 0.5, 0.5, 0], [0.6, 0, 0, 0.4]])
    assert out.iloc[[0, 2], -1].isna().all()
    with pytest.raises(ValueError, match="ignore_errors"):
        f.featurize_many(["NaCl"], return_errors=True)


def test_multiple_featurizer_and_n_jobs():
    f = ElementFractionFeaturizer(elements=["O", "Na", "Cl"])
    f.set_n_jobs(2)
    assert f.n_jobs == 2
    both = MultipleFeaturizer([f, ElementFractionFeaturizer(elements=["Na", "Cl", "Fe"])])
    both.set_n_jobs(1)
    rows = both.featurize_many([Composition("NaCl"), {"Na": 1, "Cl": 1}], pbar=False)
    np.testing.assert_allclose(rows, [[0, 0.5, 0.5, 0.5, 0.5, 0], [0, 0.5, 0.5, 0.5, 0.5, 0]])
    assert both.feature_labels() == ["O", "Na", "Cl", "Na", "Cl", "Fe"]
    # An element outside a featurizer's columns is an error naming it, also through matminer's wrapper.
    with pytest.raises(FormulaError, match="'Na' is not among"):
        MultipleFeaturizer([ElementFractionFeaturizer(elements=["Fe"])]).featurize_many(["NaCl"], pbar=False)
