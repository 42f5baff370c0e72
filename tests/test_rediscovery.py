"""Rediscovery outcomes: hidden phases are scored against the hull of the known ones, by hand."""

import pandas as pd
import pytest

from sklearn_hform.stability import rediscovery_outcomes


def test_hidden_phases_are_labelled_by_the_hull_of_the_known_ones():
    known = pd.DataFrame({"formula": ["NaCl"], "formation_enthalpy": [-2.0]})
    hidden = pd.DataFrame({"formula": ["Na2Cl", "NaCl3", "NaCl"], "formation_enthalpy": [-1.5, 0.5, -2.1]})
    table = rediscovery_outcomes(None, ["Na-Cl"], known, hidden).set_index("formula")
    # NaCl is known (its hidden polymorph is not a new compound); the generator makes only NaCl.
    assert set(table.index) == {"Na2Cl", "NaCl3"} and not table["generated"].any()
    # Hull at x(Cl) = 1/3: two thirds of NaCl's -2.0; at 3/4: half of it.
    assert table.loc["Na2Cl", "hull_energy"] == pytest.approx(-4 / 3)
    assert table.loc["Na2Cl", "true_decomposition_energy"] == pytest.approx(-1.5 + 4 / 3)
    assert table.loc["NaCl3", "true_decomposition_energy"] == pytest.approx(0.5 + 1.0)
    assert table["stable"].to_dict() == {"Na2Cl": True, "NaCl3": False}
    # The nearest known phase of both is NaCl.
    assert table.loc["NaCl3", "nearest_known_decomposition_energy"] == pytest.approx(-2.0 + 1.0)


def test_a_model_adds_its_predictions(oqmd_small):
    from sklearn.pipeline import make_pipeline

    from sklearn_hform import CompositionFractionTransformer, FormationEnthalpyRegressor

    X, y, _, _ = oqmd_small
    model = make_pipeline(CompositionFractionTransformer(),
                          FormationEnthalpyRegressor(max_epochs=1, batch_size=256, device="cpu", random_state=0))
    model.fit(X, y)
    known = pd.DataFrame({"formula": ["NaCl"], "formation_enthalpy": [-2.0]})
    hidden = pd.DataFrame({"formula": ["Na2Cl"], "formation_enthalpy": [-1.5]})
    table = rediscovery_outcomes(model, ["Na-Cl"], known, hidden)
    assert table["decomposition_energy"].iloc[0] == pytest.approx(model.predict(["Na2Cl"])[0] + 4 / 3, abs=1e-6)
    assert table["std"].isna().all()


def test_no_candidates_anywhere_is_an_error():
    known = pd.DataFrame({"formula": ["NaCl"], "formation_enthalpy": [-2.0]})
    with pytest.raises(ValueError, match="no candidates"):
        rediscovery_outcomes(None, ["Na-Cl"], known, known.iloc[:0])
