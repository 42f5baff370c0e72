"""The element-fraction representation as a real matminer featurizer.

:class:`ElementFractionFeaturizer` is a :class:`matminer.featurizers.base.BaseFeaturizer`,
so ``featurize_dataframe``, ``featurize_many`` (with ``ignore_errors``,
``return_errors`` and ``pbar``), ``MultipleFeaturizer``, ``set_n_jobs`` and
``citations`` work as in any matminer featurizer, while the many-entry path
uses the vectorized parser of :class:`~sklearn_hform.CompositionFractionTransformer`.
"""

import numpy as np
from matminer.featurizers.base import BaseFeaturizer

from ..utils._paper import CITATION_BIBTEX, ELEMNET_BIBTEX
from ._atom_fractions import as_formula_array, fraction_matrix
from ._formula import FormulaError, element_columns

__all__ = ["FEATURIZE_MANY_CHUNK_SIZE", "ElementFractionFeaturizer"]

#: Entries featurized at a time by :meth:`ElementFractionFeaturizer.featurize_many`.
FEATURIZE_MANY_CHUNK_SIZE = 8192


class ElementFractionFeaturizer(BaseFeaturizer):
    """Atom fraction of each element, by atomic number: ElemNet's input (matminer API).

    Parameters
    ----------
    elements : sequence of str, default=None
        The feature columns, as in
        :class:`~sklearn_hform.CompositionFractionTransformer` (``None``:
        hydrogen to plutonium).

    Notes
    -----
    Entries may be formulas, pymatgen ``Composition`` objects or
    ``{element: amount}`` dicts. ``featurize_many`` featurizes all entries
    in one vectorized pass (``n_jobs`` is accepted but a process pool would
    only be slower); with ``ignore_errors=True`` a bad entry gets NaN
    features (and, with ``return_errors=True``, the reason in the error
    column) while the other entries are featurized as usual.

    Examples
    --------
    >>> import pandas as pd
    >>> from sklearn_hform.composition import ElementFractionFeaturizer
    >>> f = ElementFractionFeaturizer(elements=["O", "Na", "Cl", "Fe"])
    >>> f.featurize_dataframe(pd.DataFrame({"formula": ["NaCl", "Fe2O3"]}), "formula", pbar=False)
      formula    O   Na   Cl   Fe
    0    NaCl  0.0  0.5  0.5  0.0
    1   Fe2O3  0.6  0.0  0.0  0.4
    """

    def __init__(self, elements=None):
        self.elements = elements

    def _columns(self):
        return {s: j for j, s in enumerate(self.feature_labels())}

    def featurize(self, composition):
        """Fractions of one formula, ``Composition`` or dict.

        Parameters
        ----------
        composition : str, pymatgen Composition or dict

        Returns
        -------
        list of float
        """
        entry = np.empty(1, dtype=object)
        entry[0] = composition  # np.array([...]) would unpack a Composition into its elements
        return fraction_matrix(entry, None, self._columns())[0].tolist()

    def featurize_many(self, entries, ignore_errors=False, return_errors=False, pbar=True):
        """Featurize many entries at once; see :meth:`matminer.featurizers.base.BaseFeaturizer.featurize_many`.

        Parameters
        ----------
        entries : list-like
            Formulas, ``Composition`` objects or dicts (or one-element tuples
            of them, as matminer passes a DataFrame's column).
        ignore_errors : bool, default=False
            Give bad entries NaN features instead of raising.
        return_errors : bool, default=False
            Append the reason of each bad entry as a last column (NaN for the
            good ones). Needs ``ignore_errors=True``.
        pbar : bool, default=True
            Show a progress bar.

        Returns
        -------
        list of list
        """
        from tqdm import tqdm

        if return_errors and not ignore_errors:
            raise ValueError("Please set ignore_errors to True to use return_errors.")
        values, _ = as_formula_array(_flatten(entries))
        columns = self._columns()
        out = np.full((len(values), len(columns)), np.nan)
        errors = np.full(len(values), np.nan, dtype=object)
        with tqdm(total=len(values), disable=not pbar, desc=type(self).__name__) as bar:
            for start in range(0, len(values), FEATURIZE_MANY_CHUNK_SIZE):
                chunk = values[start : start + FEATURIZE_MANY_CHUNK_SIZE]
                try:
                    out[start : start + len(chunk)] = fraction_matrix(chunk, None, columns)
                except (FormulaError, TypeError) as exc:
                    if not ignore_errors:
                        raise
                    bad = {row: reason for row, _, _, reason in exc.problems}
                    good = np.setdiff1d(np.arange(len(chunk)), list(bad))
                    if len(good):
                        out[start + good] = fraction_matrix(chunk[good], None, columns)
                    for row, reason in bad.items():
                        errors[start + row] = f"{chunk[row]!r}: {reason}"
                bar.update(len(chunk))
        rows = out.tolist()
        if return_errors:
            rows = [row + [error] for row, error in zip(rows, errors)]
        return rows

    def feature_labels(self):
        """Element symbols of the features, by atomic number.

        Returns
        -------
        list of str
        """
        return list(element_columns(self.elements))

    def citations(self):
        """The paper this representation reproduces, and ElemNet.

        Returns
        -------
        list of str
        """
        return [CITATION_BIBTEX, ELEMNET_BIBTEX]

    def implementors(self):
        """Who wrote this featurizer.

        Returns
        -------
        list of str
        """
        return ["sklearn-hform developers"]


def _flatten(entries):
    """matminer hands a DataFrame column over as rows of one-element arrays; take the element."""
    import pandas as pd

    if isinstance(entries, pd.DataFrame):
        if entries.shape[1] != 1:
            raise ValueError(f"ElementFractionFeaturizer takes one column of entries, got {entries.shape[1]}")
        return entries.iloc[:, 0].to_numpy(dtype=object)
    if isinstance(entries, np.ndarray) and entries.ndim == 2 and entries.shape[1] == 1:
        return entries[:, 0]
    entries = list(entries)
    if entries and isinstance(entries[0], tuple) and len(entries[0]) == 1:
        return [e[0] for e in entries]
    return entries
