"""Loader for the bundled OQMD formation-enthalpy data."""

from functools import lru_cache
from importlib import resources

import numpy as np
import pandas as pd
from sklearn.utils import Bunch

__all__ = ["OUTLIER_THRESHOLD", "load_oqmd_hform"]

SPLITS = ("train", "val", "test")
#: Rows with a larger absolute target (eV/atom) are failed DFT calculations.
OUTLIER_THRESHOLD = 5.0
_TARGET = "formation_enthalpy"


@lru_cache(maxsize=1)
def _read_all():
    frames = []
    data = resources.files(__package__) / "data"
    for split in SPLITS:
        with resources.as_file(data / f"{split}.csv.gz") as path:
            df = pd.read_csv(path, dtype={"formula": str, "target": np.float64})
        df["split"] = split
        frames.append(df)
    frame = pd.concat(frames, ignore_index=True)
    frame = frame.rename(columns={"target": _TARGET})
    frame["split"] = pd.Categorical(frame["split"], categories=SPLITS)
    return frame


def _descr():
    return (resources.files(__package__) / "descr" / "oqmd_hform.rst").read_text(encoding="utf-8")


def load_oqmd_hform(split=None, *, return_X_y=False, as_frame=True, drop_outliers=True):
    """Load the OQMD formation enthalpies bundled with the package (regression).

    =================   ==========================================
    Samples total       341,700 (341,614 without outliers)
    Features            one chemical formula per row
    Target              formation enthalpy, eV/atom
    Splits              train 239,190 / val 51,255 / test 51,255
    =================   ==========================================

    Read the full description, provenance and licence (CC-BY 4.0, credit the
    OQMD) in the ``DESCR`` of the returned Bunch.

    Parameters
    ----------
    split : {"train", "val", "test"}, list of them, or None, default=None
        Which of CrabNet's benchmark splits to return; ``None`` returns all
        rows, train then val then test.
    return_X_y : bool, default=False
        Return ``(data, target)`` instead of a Bunch.
    as_frame : bool, default=True
        If True, ``data`` is a one-column DataFrame (column ``"formula"``)
        and ``target`` a Series; otherwise a 1-D array of formula strings and
        a 1-D float array.
    drop_outliers : bool, default=True
        Drop the 86 rows with \\|target\\| > 5 eV/atom (failed DFT
        calculations; ElemNet and Roost drop them too). Pass False for the
        data exactly as published, e.g. to compare test errors with
        published numbers on the full test split.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        Dictionary-like object with attributes

        data : DataFrame of shape (n_samples, 1) or ndarray of shape (n_samples,)
            The formulas.
        target : Series or ndarray of shape (n_samples,)
            Formation enthalpy in eV/atom.
        split : ndarray of shape (n_samples,)
            The split (``"train"``, ``"val"`` or ``"test"``) of each row.
        frame : DataFrame of shape (n_samples, 3)
            Columns ``formula``, ``formation_enthalpy`` and ``split``
            (only when ``as_frame=True``).
        feature_names : list of str
            ``["formula"]``.
        target_names : list of str
            ``["formation_enthalpy"]``.
        DESCR : str
            Description, provenance and licence.

    (data, target) : tuple if ``return_X_y`` is True

    Examples
    --------
    >>> from sklearn_hform.datasets import load_oqmd_hform
    >>> X, y = load_oqmd_hform(split="test", return_X_y=True)
    >>> X.shape, y.shape
    ((51251, 1), (51251,))
    """
    frame = _read_all()
    if split is not None:
        wanted = [split] if isinstance(split, str) else list(split)
        bad = [s for s in wanted if s not in SPLITS]
        if bad:
            raise ValueError(f"unknown split(s) {bad}; choose from {list(SPLITS)} or None")
        frame = frame[frame["split"].isin(wanted)]
    if drop_outliers:
        frame = frame[frame[_TARGET].abs() <= OUTLIER_THRESHOLD]
    frame = frame.reset_index(drop=True)  # also a copy: the cache stays untouched

    if as_frame:
        data, target = frame[["formula"]], frame[_TARGET]
    else:
        data = frame["formula"].to_numpy(dtype=object)
        target = frame[_TARGET].to_numpy()
    if return_X_y:
        return data, target
    return Bunch(
        data=data,
        target=target,
        split=frame["split"].to_numpy(dtype=object),
        frame=frame if as_frame else None,
        feature_names=["formula"],
        target_names=[_TARGET],
        DESCR=_descr(),
    )
