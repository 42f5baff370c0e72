"""Loader for the bundled experimental formation enthalpies (half of a public compilation)."""

from functools import lru_cache
from importlib import resources

import numpy as np
import pandas as pd
from sklearn.utils import Bunch

__all__ = ["load_expt_hform"]

_TARGET = "formation_enthalpy"


@lru_cache(maxsize=1)
def _read():
    with resources.as_file(resources.files(__package__) / "data" / "expt_hform_half.csv.gz") as path:
        frame = pd.read_csv(path, dtype={"formula": str})
    return frame.rename(columns={"hform_expt_ev_per_atom": _TARGET, "uncertainty_ev_per_atom": "uncertainty"})


def load_expt_hform(*, return_X_y=False, as_frame=True):
    """Load the experimental formation enthalpies bundled with the package (regression).

    =================   ==========================================
    Samples total       1,062
    Features            one chemical formula per row
    Target              standard formation enthalpy at 298 K, eV/atom
    =================   ==========================================

    Half of the compilation pymatgen ships (Wang et al., Sci. Rep. 11,
    15496, 2021; MIT licence), with the experimental uncertainties; the
    other half is held back for an independent check. See ``DESCR``.

    Parameters
    ----------
    return_X_y : bool, default=False
        Return ``(data, target)`` instead of a Bunch.
    as_frame : bool, default=True
        If True, ``data`` is a one-column DataFrame (column ``"formula"``)
        and ``target`` a Series; otherwise a 1-D array of formula strings and
        a 1-D float array.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        With ``data``, ``target``, ``uncertainty`` (eV/atom, NaN where the
        source gives none), ``frame`` (columns ``formula``,
        ``formation_enthalpy``, ``uncertainty``, ``n_elements``; only when
        ``as_frame=True``), ``feature_names``, ``target_names`` and
        ``DESCR``.

    (data, target) : tuple if ``return_X_y`` is True

    Examples
    --------
    >>> from sklearn_hform.datasets import load_expt_hform
    >>> X, y = load_expt_hform(return_X_y=True)
    >>> X.shape, y.shape
    ((1062, 1), (1062,))
    """
    frame = _read().copy()
    if as_frame:
        data, target = frame[["formula"]], frame[_TARGET]
    else:
        data, target = frame["formula"].to_numpy(dtype=object), frame[_TARGET].to_numpy()
    if return_X_y:
        return data, target
    return Bunch(data=data, target=target, uncertainty=frame["uncertainty"].to_numpy(dtype=np.float64),
                 frame=frame if as_frame else None, feature_names=["formula"], target_names=[_TARGET],
                 DESCR=(resources.files(__package__) / "descr" / "expt_hform.rst").read_text(encoding="utf-8"))
