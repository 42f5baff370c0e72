"""The lower convex hull of phases in composition-energy space, and the hull energy at any composition."""

import numpy as np

__all__ = ["hull_at", "lower_hull"]


def lower_hull(x, energy):
    """Planes (chemical potentials) and vertex indices of the lower hull of points ``x`` (fractions) at ``energy``.

    A lower convex hull is the maximum of its facets' planes, so the hull
    energy at fractions ``x`` is ``(x @ planes.T).max(axis=1)``.

    Parameters
    ----------
    x : ndarray of shape (n_phases, n_elements)
        Atom fractions of the phases (rows sum to 1).
    energy : ndarray of shape (n_phases,)
        Their formation energies.

    Returns
    -------
    planes : ndarray of shape (n_facets, n_elements)
    vertices : list of ndarray of int
        The phases at the corners of each facet.
    """
    from scipy.spatial import ConvexHull, QhullError

    k = x.shape[1]
    # A point far above the centre keeps qhull full-dimensional when the
    # phases alone are not (a binary with no compound, coplanar phases);
    # it only ever makes upper facets.
    top = np.r_[np.full(k - 1, 1.0 / k), energy.max() + 1e3]
    points = np.vstack([np.c_[x[:, : k - 1], energy], top])
    try:
        hull = ConvexHull(points)
    except QhullError:
        hull = ConvexHull(points, qhull_options="QJ")
    planes, vertices = [], []
    for simplex, normal in zip(hull.simplices, hull.equations):
        if normal[-2] > -1e-12 or len(x) in simplex:
            continue  # not a lower facet
        X_f, E_f = x[simplex], energy[simplex]
        if abs(np.linalg.det(X_f)) < 1e-12:
            continue
        planes.append(np.linalg.solve(X_f, E_f))
        vertices.append(np.asarray(simplex))
    return np.array(planes).reshape(-1, k), vertices


def hull_at(x, planes, vertices, ref_x):
    """Hull energy at each row of ``x``, and the reference phases (index: weight) that make it there.

    Parameters
    ----------
    x : ndarray of shape (n, n_elements)
    planes, vertices
        From :func:`lower_hull` of the phases ``ref_x``.
    ref_x : ndarray of shape (n_phases, n_elements)

    Returns
    -------
    energy : ndarray of shape (n,)
    weights : list of dict of int to float
    """
    values = x @ planes.T
    best = values.argmax(axis=1)
    weights = []
    for i, f in enumerate(best):
        w = np.linalg.lstsq(ref_x[vertices[f]].T, x[i], rcond=None)[0]
        weights.append({int(v): float(wi) for v, wi in zip(vertices[f], w) if wi > 1e-6})
    return values[np.arange(len(x)), best], weights
