"""Screening against known phases: the vectorised hull equals pymatgen's, candidates are chemistry, errors are clear."""

import numpy as np
import pandas as pd
import pytest
from sklearn.pipeline import make_pipeline

from sklearn_hform import CompositionFractionTransformer, DeepEnsembleRegressor, FormationEnthalpyRegressor, cli
from sklearn_hform.stability import candidate_formulas, known_phases, screen

MEMBER = dict(max_epochs=2, batch_size=256, device="cpu", random_state=0)


@pytest.fixture(scope="module")
def ensemble(oqmd_small):
    X, y, _, _ = oqmd_small
    return make_pipeline(CompositionFractionTransformer(),
                         DeepEnsembleRegressor(FormationEnthalpyRegressor(**MEMBER), n_estimators=2)).fit(X, y)


def test_decomposition_energy_equals_pymatgen(ensemble):
    from pymatgen.analysis.phase_diagram import PDEntry, PhaseDiagram
    from pymatgen.core import Composition

    table = screen(ensemble, "Li-Fe-O")
    refs = known_phases(["Li", "Fe", "O"])
    entries = [PDEntry(Composition(f), e * Composition(f).num_atoms) for f, e in
               zip(refs["formula"], refs["formation_enthalpy"])]
    for row in table.sample(25, random_state=0).itertuples():
        comp = Composition(row.formula)
        # Bartel's decomposition energy: against the hull of all *other* phases.
        others = [e for e in entries if e.composition.reduced_composition != comp.reduced_composition]
        hull = PhaseDiagram(others).get_hull_energy_per_atom(comp)
        assert row.decomposition_energy == pytest.approx(row.prediction - hull, abs=1e-6), row.formula
    assert (table["e_above_hull"] >= 0).all() and table["decomposition_energy"].is_monotonic_increasing
    assert table["p_stable"].between(0, 1).all()
    np.testing.assert_allclose(table["prediction"], ensemble.predict(list(table["formula"])))


def test_candidates_are_stoichiometries_not_grid_artefacts():
    binary = candidate_formulas(["Al", "Ni"])
    assert {"AlNi", "Al3Ni", "AlNi3"} <= set(binary) and "Al19Ni" not in binary
    assert "Li2O" in candidate_formulas(["Li", "O"])
    assert "Al19Ni" in candidate_formulas(["Al", "Ni"], grid_step=0.05)  # a grid only when asked for


def test_hybrid_uses_known_energies_and_user_phases(ensemble, tmp_path):
    known = pd.DataFrame({"formula": ["NaCl", "Na2Cl"], "formation_enthalpy": [-2.0, -1.0]})
    table = screen(ensemble, "Na-Cl", candidates=["NaCl", "NaCl3", "Na3Cl"], known=known)
    assert set(table["formula"]) == {"NaCl", "NaCl3", "Na3Cl"}
    row = table.set_index("formula").loc["NaCl3"]
    # x(Cl) = 0.75: halfway between NaCl (-2.0) and Cl (0) on the hull.
    assert row["decomposition_energy"] == pytest.approx(row["prediction"] + 1.0, abs=1e-9)
    assert "NaCl" in row["competing_phases"] and "Cl" in row["competing_phases"]
    assert table.set_index("formula").loc["NaCl", "known"] == -2.0
    path = tmp_path / "known.csv"
    known.to_csv(path, index=False)
    pd.testing.assert_frame_equal(screen(ensemble, "Na-Cl", candidates=["NaCl3"], known=path),
                                  screen(ensemble, "Na-Cl", candidates=["NaCl3"], known=known))


@pytest.mark.parametrize("system, candidates, message", [
    ("Li", None, "at least two elements"),
    ("Li-Xx", None, "not element symbol"),
    ("H-He-Li-Be-B-C-N", None, "up to 6 elements"),
    ("Li-O", ["LiF"], "outside Li-O"),
    ("Li-O", ["Qq2"], "not a formula"),
    ("Li-O", ["Li"], "no candidates"),
])
def test_bad_systems_and_candidates_are_clear_errors(ensemble, system, candidates, message):
    with pytest.raises(ValueError, match=message):
        screen(ensemble, system, candidates=candidates)


def test_screen_command_end_to_end(ensemble, tmp_path, capsys):
    from sklearn_hform.persistence import save_model

    save_model(ensemble, tmp_path / "model")
    out, png = tmp_path / "s.csv", tmp_path / "s.png"
    assert cli.main(["screen", "Al-Ni", "--model", str(tmp_path / "model"), "-o", str(out), "--plot", str(png)]) == 0
    printed = capsys.readouterr().out
    assert printed.startswith("Al-Ni:") and "P(stable)" in printed and "Al19Ni" not in printed
    frame = pd.read_csv(out)
    assert {"AlNi", "Al3Ni"} <= set(frame["formula"]) and png.read_bytes()[:4] == b"\x89PNG"
    assert cli.main(["screen", "Li-O", "--model", str(tmp_path / "model"), "--step", "0"]) == 1
    assert "--step" in capsys.readouterr().err


def test_hull_without_a_grid_lists_real_stoichiometries(ensemble, tmp_path, capsys):
    from sklearn_hform.persistence import save_model

    save_model(ensemble, tmp_path / "model")
    assert cli.main(["hull", "Al-Ni", "--model", str(tmp_path / "model")]) == 0
    captured = capsys.readouterr()
    listed = [line.split()[0] for line in captured.out.splitlines()[3:] if line.strip()]
    assert {"AlNi", "Al3Ni"} <= set(listed) and not any(f.startswith("Al19") for f in listed)
    assert "as 'hform screen'" in captured.err
    assert cli.main(["hull", "Li-O", "--model", str(tmp_path / "model")]) == 0
    assert "Li2O" in capsys.readouterr().out
