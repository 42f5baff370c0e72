"""Formulas to element-fraction vectors."""

import os
import sys
import warnings

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from ..utils._constraints import StrOptions
from ._atom_fractions import as_formula_array, fraction_matrix
from ._formula import ATOMIC_NUMBER, element_columns

__all__ = ["CompositionFractionTransformer", "UnseenElementWarning"]


class UnseenElementWarning(UserWarning):
    """A formula contains an element absent from the data the model was fitted on."""


def _caller_stacklevel():
    """Stack level of the first frame outside scikit-learn, joblib and this package.

    ``transform`` is reached through scikit-learn's ``set_output`` wrapper
    and often through a Pipeline, so a fixed level would blame their code
    instead of the user's line.
    """
    import joblib
    import sklearn

    inside = tuple(os.path.dirname(m.__file__) + os.sep for m in (sklearn, joblib)) + (
        os.path.dirname(__file__) + os.sep,
    )
    frame, level = sys._getframe(1), 1
    while frame is not None and frame.f_code.co_filename.startswith(inside):
        frame, level = frame.f_back, level + 1
    return level


class CompositionFractionTransformer(TransformerMixin, BaseEstimator):
    """Turn chemical formulas into atom-fraction vectors.

    Each output row holds the atom fraction of every element in ``elements``
    (ordered by atomic number), so it sums to 1. This is the input
    representation of ElemNet and of Ti et al. (2020).

    The transformer also speaks matminer's featurizer interface
    (:meth:`featurize`, :meth:`feature_labels`, :meth:`featurize_dataframe`,
    :meth:`citations`, :meth:`implementors`), so code written for matminer's
    ``ElementFraction`` keeps working.

    Parameters
    ----------
    elements : sequence of str, default=None
        Element symbols that make up the output columns; they are sorted by
        atomic number. ``None`` means hydrogen to plutonium (94 columns).
        A formula with an element outside this list is an error: its
        fractions could not be represented without loss.
    handle_unknown : {"warn", "error", "ignore"}, default="warn"
        What :meth:`transform` does with a formula containing an element that
        is in ``elements`` but never occurred in the data seen by :meth:`fit`
        (a model fitted downstream has learnt nothing about it). As with
        :class:`~sklearn.preprocessing.OneHotEncoder`, ``"error"`` raises,
        ``"warn"`` emits an :class:`UnseenElementWarning` naming the rows and
        ``"ignore"`` transforms silently.

    Attributes
    ----------
    elements_ : ndarray of str
        The output columns' element symbols, by atomic number.
    elements_seen_ : ndarray of str
        Elements with a non-zero fraction in at least one formula seen in
        :meth:`fit`.
    n_features_in_ : int
        Always 1: one column of formulas.
    feature_names_in_ : ndarray of str
        The column name, when fitted on a DataFrame with a string column name.

    Examples
    --------
    >>> from sklearn_hform import CompositionFractionTransformer
    >>> t = CompositionFractionTransformer(elements=["H", "O", "Na", "Cl", "Fe"])
    >>> t.fit_transform(["Fe2O3", "NaCl", "H2O"])
    array([[0.        , 0.6       , 0.        , 0.        , 0.4       ],
           [0.        , 0.        , 0.5       , 0.5       , 0.        ],
           [0.66666667, 0.33333333, 0.        , 0.        , 0.        ]])
    """

    _parameter_constraints = {
        "elements": ["array-like", None],
        "handle_unknown": [StrOptions({"warn", "error", "ignore"})],
    }

    def __init__(self, elements=None, handle_unknown="warn"):
        self.elements = elements
        self.handle_unknown = handle_unknown

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.string = True
        tags.input_tags.two_d_array = False
        return tags

    def _element_columns(self):
        return element_columns(self.elements)

    def _featurize(self, X, elements):
        values, labels = as_formula_array(X)
        column_of = {s: j for j, s in enumerate(elements)}
        return fraction_matrix(values, labels, column_of)

    def fit(self, X, y=None):
        """Record the element columns and the elements present in ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples,) or (n_samples, 1)
            Formulas (str), pymatgen ``Composition`` objects or
            ``{element: amount}`` dicts.
        y : None
            Ignored.

        Returns
        -------
        self : CompositionFractionTransformer
        """
        self._fit_transform(X)
        return self

    def partial_fit(self, X, y=None):
        """Count the elements of ``X`` as seen too, keeping the output columns.

        For a model whose network continued training on ``X`` (see
        :func:`sklearn_hform.neural_network.fine_tune`). Unfitted, this is :meth:`fit`.

        Parameters
        ----------
        X : array-like of shape (n_samples,) or (n_samples, 1)
        y : None
            Ignored.

        Returns
        -------
        self : CompositionFractionTransformer
        """
        if not hasattr(self, "elements_"):
            return self.fit(X)
        present = (self.fractions(X) > 0).any(axis=0)
        self.elements_seen_ = self.elements_[np.isin(self.elements_, self.elements_seen_) | present]
        return self

    def fit_transform(self, X, y=None):
        """Fit to ``X`` and return its fraction matrix (parsing ``X`` once).

        Parameters
        ----------
        X : array-like of shape (n_samples,) or (n_samples, 1)
            Formulas, ``Composition`` objects or ``{element: amount}`` dicts.
        y : None
            Ignored.

        Returns
        -------
        ndarray of shape (n_samples, n_elements)
        """
        return self._fit_transform(X)

    def _fit_transform(self, X):
        self._validate_params()
        elements = self._element_columns()
        if isinstance(X, pd.DataFrame) or getattr(X, "ndim", 1) == 2:
            self.n_features_in_ = 1
            columns = getattr(X, "columns", None)
            if columns is not None and isinstance(columns[0], str):
                self.feature_names_in_ = np.asarray(columns, dtype=object)
            elif hasattr(self, "feature_names_in_"):
                del self.feature_names_in_
        Xt = self._featurize(X, elements)
        if Xt.shape[0] == 0:
            raise ValueError("Found array with 0 sample(s) while a minimum of 1 is required.")
        self.elements_ = elements
        self.elements_seen_ = elements[(Xt > 0).any(axis=0)]
        self.n_features_in_ = 1
        return Xt

    def transform(self, X):
        """Atom fractions of each formula.

        Parameters
        ----------
        X : array-like of shape (n_samples,) or (n_samples, 1)
            Formulas, ``Composition`` objects or ``{element: amount}`` dicts.

        Returns
        -------
        ndarray of shape (n_samples, n_elements)
            Float64 fractions, one column per element of ``elements_``.

        Raises
        ------
        FormulaError
            Listing the bad rows (index and value) of ``X``.
        """
        Xt = self.fractions(X)
        if self.handle_unknown != "ignore":
            mask = self.unseen_element_mask(Xt)
            bad = np.flatnonzero(mask.any(axis=1))
            if len(bad):
                values, _ = as_formula_array(X)
                syms = sorted(set(self.elements_[mask[bad].any(axis=0)]), key=ATOMIC_NUMBER.get)
                shown = ", ".join(f"row {i}: {values[i]!r}" for i in bad[:5])
                more = f" and {len(bad) - 5} more" if len(bad) > 5 else ""
                msg = (
                    f"{len(bad)} formula(s) contain element(s) {syms} never seen "
                    f"during fit ({shown}{more}); predictions for them are "
                    "extrapolations."
                )
                if self.handle_unknown == "error":
                    raise ValueError(msg)
                warnings.warn(msg, UnseenElementWarning, stacklevel=_caller_stacklevel())
        return Xt

    def fractions(self, X):
        """The fraction matrix of ``X``, without :meth:`transform`'s unseen-element check.

        For code that reports unseen elements itself, with
        :meth:`unseen_element_mask`, whatever ``handle_unknown`` says.

        Parameters
        ----------
        X : array-like of shape (n_samples,) or (n_samples, 1)

        Returns
        -------
        ndarray of shape (n_samples, n_elements)

        Raises
        ------
        FormulaError
            Listing the bad rows (index and value) of ``X``.
        """
        check_is_fitted(self)
        return self._featurize(X, self.elements_)

    def unseen_element_mask(self, Xt):
        """Where a fraction matrix holds elements never seen during :meth:`fit`.

        Parameters
        ----------
        Xt : ndarray of shape (n_samples, n_elements)
            Output of :meth:`transform` or :meth:`fractions`.

        Returns
        -------
        ndarray of bool, shape (n_samples, n_elements)
            True where the row contains the column's element and the element
            did not occur in the data seen by :meth:`fit`;
            ``elements_[mask[i]]`` are row ``i``'s unseen elements.
        """
        check_is_fitted(self)
        unseen = ~np.isin(self.elements_, self.elements_seen_)
        return (np.asarray(Xt) > 0) & unseen

    def get_feature_names_out(self, input_features=None):
        """Element symbols of the output columns.

        Parameters
        ----------
        input_features : array-like of str or None
            Ignored; present for API consistency.

        Returns
        -------
        ndarray of str
        """
        check_is_fitted(self)
        return np.asarray(self.elements_, dtype=object)

    def export_state(self):
        """The fitted state, for :mod:`sklearn_hform.persistence`.

        Returns
        -------
        attributes : dict
            ``elements_``, ``elements_seen_`` (and ``feature_names_in_``).
        tensors : dict
            Empty: the transformer has no tensors.
        """
        check_is_fitted(self)
        attributes = {"elements_": list(map(str, self.elements_)), "elements_seen_": list(map(str, self.elements_seen_))}
        if hasattr(self, "feature_names_in_"):
            attributes["feature_names_in_"] = list(map(str, self.feature_names_in_))
        return attributes, {}

    def restore_state(self, attributes, tensors):
        """Become the fitted transformer described by :meth:`export_state`'s output.

        Parameters
        ----------
        attributes : dict
        tensors : dict
            Ignored.

        Returns
        -------
        self : CompositionFractionTransformer
        """
        elements = self._element_columns()
        saved = np.asarray(attributes["elements_"], dtype=object)
        if not np.array_equal(saved, elements):
            raise ValueError("saved elements_ do not match the transformer's elements parameter")
        seen = np.asarray(attributes["elements_seen_"], dtype=object)
        if not np.isin(seen, elements).all():
            raise ValueError("saved elements_seen_ are not among the transformer's elements")
        self.elements_ = elements
        self.elements_seen_ = seen
        self.n_features_in_ = 1
        if "feature_names_in_" in attributes:
            self.feature_names_in_ = np.asarray(attributes["feature_names_in_"], dtype=object)
        return self

    # matminer's featurizer interface, for code written for ElementFraction;
    # sklearn_hform.composition.ElementFractionFeaturizer is the full one.

    def _featurizer(self):
        from ._featurizer import ElementFractionFeaturizer

        return ElementFractionFeaturizer(elements=self.elements)

    def featurize(self, composition):
        """Fractions of one formula, ``Composition`` or dict (matminer API).

        Parameters
        ----------
        composition : str, pymatgen Composition or dict

        Returns
        -------
        list of float
        """
        return self._featurizer().featurize(composition)

    def feature_labels(self):
        """Element symbols of the features (matminer API).

        Returns
        -------
        list of str
        """
        return list(self._element_columns())

    def featurize_dataframe(self, df, col_id, inplace=False):
        """Append the fraction columns to ``df`` (matminer API).

        Parameters
        ----------
        df : pandas.DataFrame
        col_id : str
            Column holding the formulas or ``Composition`` objects.
        inplace : bool, default=False
            Add the columns to ``df`` itself instead of a copy.

        Returns
        -------
        pandas.DataFrame
        """
        out = self._featurizer().featurize_dataframe(df, col_id, inplace=inplace, pbar=False)
        return df if inplace else out

    def citations(self):
        """References for the representation (matminer API).

        Returns
        -------
        list of str
        """
        return self._featurizer().citations()

    def implementors(self):
        """Who wrote this featurizer (matminer API).

        Returns
        -------
        list of str
        """
        return self._featurizer().implementors()
