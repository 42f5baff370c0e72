"""plot_screen on hand-written screen tables: the hull of the known phases, the three kinds, error bars, labels."""

import itertools

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("matplotlib")

from sklearn_hform.stability import MAX_LABELS, plot_screen  # noqa: E402

TRIANGLE = np.array([[0.0, 0.0], [1.0, 0.0], [0.5, np.sqrt(3) / 2]])


def binary_table():
    """Al-Ni: three known phases on the hull, one above it, five new candidates with a std and P(stable)."""
    return pd.DataFrame({
        "formula": ["AlNi", "AlNi3", "Al3Ni", "Al3Ni2", "AlNi2", "Al2Ni", "Al5Ni", "AlNi5", "Al4Ni3"],
        "status": ["known-stable"] * 3 + ["known-unstable"] + ["new"] * 5,
        "known": [-0.68, -0.45, -0.40, -0.55] + [np.nan] * 5,
        "known_decomposition_energy": [-0.10, -0.05, -0.02, 0.04] + [np.nan] * 5,
        "prediction": [-0.65, -0.47, -0.38, -0.50, -0.60, -0.58, -0.20, -0.25, -0.66],
        "std": [0.02, 0.03, 0.02, 0.03, 0.04, 0.05, 0.03, 0.04, 0.03],
        "decomposition_energy": [-0.10, -0.05, -0.02, 0.04, 0.02, -0.01, 0.05, 0.04, -0.01],
        "p_stable": [1.0, 0.9, 0.8, 0.1, 0.3, 0.6, 0.05, 0.1, 0.62],
    })


def ternary_table():
    """Li-Fe-O: known binaries and one ternary on the hull, one binary above it, four new candidates."""
    return pd.DataFrame({
        "formula": ["Li2O", "FeO", "Fe2O3", "LiFeO2", "LiO2", "Li2FeO3", "LiFe5O8", "LiFeO3", "Li3FeO3"],
        "status": ["known-stable"] * 4 + ["known-unstable"] + ["new"] * 4,
        "known": [-2.1, -1.6, -1.8, -1.95, -1.0] + [np.nan] * 4,
        "prediction": [-2.05, -1.45, -1.82, -1.9, -1.1, -1.95, -1.8, -1.5, -1.99],
        "std": [0.05] * 9,
        "decomposition_energy": [-0.2, -0.1, -0.1, -0.05, 0.3, -0.02, 0.01, 0.2, 0.0],
        "p_stable": [1.0, 1.0, 1.0, 0.9, 0.0, 0.7, 0.4, 0.0, 0.5],
    })


def by_gid(fig, gid):
    ax = fig.axes[0]
    return [a for a in ax.get_children() if a.get_gid() == gid]


def fractions(formulas, elements):
    from sklearn_hform.composition._formula import parse_formula

    rows = [[parse_formula(f).get(e, 0.0) for e in elements] for f in formulas]
    return np.array(rows) / np.sum(rows, axis=1, keepdims=True)


def hull_points(fig):
    (line,) = by_gid(fig, "hull")
    xy = line.get_xydata()
    return {tuple(np.round(p, 6)) for p in xy[np.isfinite(xy).all(axis=1)]}


def labels(fig):
    fig.draw_without_rendering()
    return [t for t in fig.axes[0].texts if t.get_gid() == "label"]


def assert_no_overlap(boxes):
    for a, b in itertools.combinations(boxes, 2):
        assert not a.overlaps(b), (a, b)


def test_binary_hull_kinds_error_bars_and_labels(tmp_path):
    from matplotlib.container import ErrorbarContainer

    table = binary_table()
    path = tmp_path / "binary.png"
    fig = plot_screen(table, ["Al", "Ni"], path)
    assert path.stat().st_size > 0
    x = fractions(table["formula"], ["Al", "Ni"])[:, 1]

    # The hull line runs through the elements and the known phases on the hull, nothing else, left to right.
    stable = (table["status"] == "known-stable").to_numpy()
    on_hull = zip(x[stable], table["known"][stable])
    expected = {(0.0, 0.0), (1.0, 0.0)} | {(round(a, 6), round(e, 6)) for a, e in on_hull}
    assert hull_points(fig) == expected
    (line,) = by_gid(fig, "hull")
    assert np.all(np.diff(line.get_xdata()) > 0)

    # Known phases at their known ΔHf, new candidates at their predictions.
    (ks,) = by_gid(fig, "known-stable")
    (ku,) = by_gid(fig, "known-unstable")
    (nw,) = by_gid(fig, "new")
    np.testing.assert_allclose(sorted(map(tuple, ks.get_offsets())), sorted(zip(x[stable], table["known"][stable])))
    unstable = (table["status"] == "known-unstable").to_numpy()
    np.testing.assert_allclose(ku.get_offsets(), np.c_[x[unstable], table["known"][unstable]])
    new = (table["status"] == "new").to_numpy()
    np.testing.assert_allclose(sorted(map(tuple, nw.get_offsets())), sorted(zip(x[new], table["prediction"][new])))

    # Distinguishable: filled black, hollow, and coloured diamonds (coloured by P(stable), with a colourbar).
    np.testing.assert_allclose(ks.get_facecolors()[0], [0, 0, 0, 1])
    assert ku.get_facecolors().size == 0 or np.all(ku.get_facecolors()[:, 3] == 0)
    diamond, circle = nw.get_paths()[0].vertices, ks.get_paths()[0].vertices
    assert diamond.shape != circle.shape or not np.allclose(diamond, circle)
    np.testing.assert_allclose(sorted(nw.get_array()), sorted(table["p_stable"][new]))
    assert "P(stable)" in fig.axes[1].get_ylabel()
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    for kind in ("on the hull", "above the hull", "new candidate"):
        assert sum(kind in t for t in legend) == 1, legend

    # ± std error bars on every new candidate, on none of the known phases.
    (bars,) = [c for c in fig.axes[0].containers if isinstance(c, ErrorbarContainer)]
    segments = bars.lines[2][0].get_segments()
    assert len(segments) == new.sum()
    np.testing.assert_allclose(sorted(s[1, 1] - s[0, 1] for s in segments), sorted(2 * table["std"][new]))

    # Labels: every known phase on the hull and the new candidates, no two overlapping, all inside the axes.
    placed = labels(fig)
    texts = {t.get_text().replace("$_{", "").replace("}$", "") for t in placed}
    assert set(table["formula"][stable]) <= texts
    assert "Al4Ni3" in texts  # the most likely new candidate
    boxes = [t.get_window_extent() for t in placed]
    assert_no_overlap(boxes)
    frame = fig.axes[0].get_window_extent()
    assert all(frame.x0 <= b.x0 and b.x1 <= frame.x1 and frame.y0 <= b.y0 and b.y1 <= frame.y1 for b in boxes)


def test_ternary_tie_lines_kinds_and_labels(tmp_path):
    from matplotlib.container import ErrorbarContainer

    from sklearn_hform.stability import lower_hull

    table = ternary_table()
    elements = ["Li", "Fe", "O"]
    fig = plot_screen(table, elements, tmp_path / "ternary.png")
    x = fractions(table["formula"], elements)
    stable = (table["status"] == "known-stable").to_numpy()

    # Tie lines: the edges of the hull facets of the known phases and the elements.
    known = (table["status"] != "new").to_numpy()
    ref_x = np.r_[np.eye(3), x[known]]
    _, facets = lower_hull(ref_x, np.r_[np.zeros(3), table["known"][known]])
    edges = {frozenset(map(int, e)) for f in facets for e in itertools.combinations(f, 2)}
    (line,) = by_gid(fig, "hull")
    xy = line.get_xydata()
    drawn = [frozenset(tuple(np.round(p, 6)) for p in seg) for seg in xy.reshape(-1, 3, 2)[:, :2]]
    proj = np.round(ref_x @ TRIANGLE, 6)
    assert set(drawn) == {frozenset(tuple(proj[i]) for i in e) for e in edges}
    assert hull_points(fig) == {tuple(p) for p in np.round(np.r_[TRIANGLE, x[stable] @ TRIANGLE], 6)}

    (ks,) = by_gid(fig, "known-stable")
    np.testing.assert_allclose(sorted(map(tuple, ks.get_offsets())), sorted(map(tuple, x[stable] @ TRIANGLE)))
    assert by_gid(fig, "known-unstable") and by_gid(fig, "new")
    assert not [c for c in fig.axes[0].containers if isinstance(c, ErrorbarContainer)]
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert any("above the hull" in t for t in legend) and any("new candidate" in t for t in legend)

    placed = labels(fig)
    assert len(placed) >= stable.sum()
    names = [t for t in fig.axes[0].texts if t.get_gid() == "element"]
    assert_no_overlap([t.get_window_extent() for t in placed + names])


def test_crowded_binary_labels_never_overlap(tmp_path):
    rng = np.random.default_rng(0)
    counts = [(a, b) for a in range(1, 12) for b in range(1, 12) if np.gcd(a, b) == 1]
    formulas = [f"Al{a}Ni{b}" for a, b in counts]
    x = np.array([b / (a + b) for a, b in counts])
    pred = -2.4 * x * (1 - x) + rng.normal(0, 0.03, len(x))
    table = pd.DataFrame({"formula": formulas, "status": "new", "known": np.nan, "prediction": pred,
                          "std": 0.03, "decomposition_energy": pred + 0.6 * x * (1 - x) * 4,
                          "p_stable": rng.uniform(0, 1, len(x))})
    fig = plot_screen(table, ["Al", "Ni"], tmp_path / "crowded.png")
    placed = labels(fig)
    assert 0 < len(placed) <= MAX_LABELS
    assert_no_overlap([t.get_window_extent() for t in placed])


def test_old_tables_without_status_std_or_p_still_plot(tmp_path):
    table = binary_table().drop(columns=["status", "known_decomposition_energy", "std", "p_stable"])
    fig = plot_screen(table, ["Al", "Ni"], tmp_path / "old.png")
    x = fractions(table["formula"], ["Al", "Ni"])[:, 1]
    # Known phases are the rows with a known ΔHf; on the hull where they are its vertices.
    (ks,) = by_gid(fig, "known-stable")
    (ku,) = by_gid(fig, "known-unstable")
    assert sorted(np.round(ks.get_offsets()[:, 0], 6)) == sorted(np.round(x[:3], 6))
    np.testing.assert_allclose(ku.get_offsets(), [[x[3], -0.55]])
    assert "ΔHd" in fig.axes[1].get_ylabel()  # coloured by ΔHd without P(stable)
    assert not fig.axes[0].containers  # no std, no error bars

    # No known column at all: everything is new, the hull is the line between the elements.
    bare = table.drop(columns="known")
    fig = plot_screen(bare, ["Al", "Ni"], tmp_path / "bare.png")
    assert hull_points(fig) == {(0.0, 0.0), (1.0, 0.0)}
    assert len(by_gid(fig, "new")[0].get_offsets()) == len(bare)
    fig = plot_screen(ternary_table().drop(columns=["status", "std", "p_stable"]), ["Li", "Fe", "O"],
                      tmp_path / "old3.png")
    assert len(by_gid(fig, "known-stable")[0].get_offsets()) == 4


def test_plot_leaves_backend_and_rcparams_alone(tmp_path):
    import matplotlib

    backend, params = matplotlib.get_backend(), dict(matplotlib.rcParams)
    plot_screen(binary_table(), ["Al", "Ni"], tmp_path / "b.png")
    plot_screen(ternary_table(), ["Li", "Fe", "O"], tmp_path / "t.png")
    assert matplotlib.get_backend() == backend
    assert dict(matplotlib.rcParams) == params


def test_four_elements_are_refused(tmp_path):
    with pytest.raises(ValueError, match="binary and ternary"):
        plot_screen(binary_table(), ["Al", "Ni", "Fe", "O"], tmp_path / "x.png")
