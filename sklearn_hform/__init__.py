"""Formation enthalpy of inorganic compounds from their formula, the scikit-learn way."""

from ._formula import FormulaError
from .regressor import FormationEnthalpyRegressor
from .transformer import CompositionFractionTransformer, UnseenElementWarning

__version__ = "0.1.0"

__all__ = [
    "CompositionFractionTransformer",
    "FormationEnthalpyRegressor",
    "FormulaError",
    "UnseenElementWarning",
    "__version__",
]
