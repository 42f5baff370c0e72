"""Chemical compositions: the formula grammar, element data, and formulas to atom fractions.

- The formula grammar and the element table: :func:`parse_formula`,
  :class:`FormulaError`, :data:`SYMBOLS`, :data:`ATOMIC_NUMBER`,
  :data:`DEFAULT_ELEMENTS`, :func:`element_columns`.
- Many formulas to a fraction matrix at once (the hot path, where hostile
  strings are refused): :func:`fraction_matrix`, :func:`as_formula_array`.
- Element properties of the installed matminer: :func:`magpie_properties`.
- :class:`CompositionFractionTransformer`, the scikit-learn transformer
  from formulas to fraction vectors, and :class:`UnseenElementWarning`.
- :class:`ElementFractionFeaturizer`, the same representation as a matminer
  featurizer.

matminer is imported by the featurizer and the element data only, on first
use of either.
"""

from .._lazy import lazy_exports

__all__, __getattr__, __dir__ = lazy_exports(__name__, {
    "_formula": ("ATOMIC_NUMBER", "DEFAULT_ELEMENTS", "MAX_DEPTH", "PLAIN_FORMULA", "SYMBOLS", "FormulaError",
                 "chemical_system", "element_columns", "parse_formula", "parse_or_reason", "tokenize_plain"),
    "_element_data": ("magpie_properties",),
    "_atom_fractions": ("MAX_FORMULA_LENGTH", "as_formula_array", "fraction_matrix"),
    "_featurizer": ("FEATURIZE_MANY_CHUNK_SIZE", "ElementFractionFeaturizer"),
    "_fraction_transformer": ("CompositionFractionTransformer", "UnseenElementWarning"),
})
