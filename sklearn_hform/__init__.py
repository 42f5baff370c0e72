"""Formation enthalpy of inorganic compounds from their formula, the scikit-learn way."""

from ._formula import FormulaError
from .ensemble import DeepEnsembleRegressor
from .pretrained import load_pretrained
from .regressor import FormationEnthalpyRegressor
from .transformer import CompositionFractionTransformer, UnseenElementWarning

__version__ = "0.1.0"

__all__ = [
    "CompositionFractionTransformer",
    "DeepEnsembleRegressor",
    "FormationEnthalpyRegressor",
    "FormulaError",
    "UnseenElementWarning",
    "load_pretrained",
    "__version__",
]
