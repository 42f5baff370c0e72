"""What a screen found, in counts: known phases on and above the hull, new candidates by P(stable)."""

import numpy as np

__all__ = ["screen_summary"]


def screen_summary(table, thresholds=(0.5, 0.9)):
    """Count the known phases and the new candidates a screen predicts stable.

    Parameters
    ----------
    table : DataFrame
        The result of :func:`~sklearn_hform.stability.screen` (or of
        :func:`~sklearn_hform.stability.screen_many`, counted over all its
        systems).
    thresholds : sequence of float, default=(0.5, 0.9)
        The P(stable) at which new candidates are counted.

    Returns
    -------
    dict
        ``candidates``; ``known_stable`` and ``known_unstable`` (known
        phases on and above the hull of the known phases); ``new``;
        ``new_below_hull`` (predicted ΔHd < 0); ``new_at_p`` (a dict from
        each threshold to the new candidates with ``p_stable`` at or above
        it; NaN probabilities count as below); ``expected_new_stable`` (the
        sum of the new candidates' ``p_stable``: how many of them a
        calibrated P expects to be stable, NaN without probabilities).
    """
    missing = {"status", "decomposition_energy", "p_stable"} - set(table.columns)
    if missing:
        raise ValueError(f"not a screen's table: no column(s) {sorted(missing)}")
    thresholds = [float(t) for t in thresholds]
    bad = [t for t in thresholds if not 0.0 <= t <= 1.0]
    if bad:
        raise ValueError(f"thresholds are probabilities in [0, 1], got {bad}")
    status = table["status"].to_numpy()
    new = status == "new"
    p = table["p_stable"].to_numpy(dtype=np.float64)[new]
    return {
        "candidates": int(len(table)),
        "known_stable": int((status == "known-stable").sum()),
        "known_unstable": int((status == "known-unstable").sum()),
        "new": int(new.sum()),
        "new_below_hull": int((table["decomposition_energy"].to_numpy()[new] < 0).sum()),
        "new_at_p": {t: int(np.sum(np.nan_to_num(p, nan=-1.0) >= t)) for t in thresholds},
        "expected_new_stable": float(p.sum()) if np.isfinite(p).all() else float("nan"),
    }
