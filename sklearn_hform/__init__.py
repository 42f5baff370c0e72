"""Formation enthalpy of inorganic compounds from their formula, the scikit-learn way."""

from ._formula import FormulaError
from .ensemble import DeepEnsembleRegressor
from .pretrained import load_pretrained
from .regressor import FormationEnthalpyRegressor
from .transformer import CompositionFractionTransformer, UnseenElementWarning

from ._version import __version__

__all__ = [
    "CompositionFractionTransformer",
    "DeepEnsembleRegressor",
    "FormationEnthalpyRegressor",
    "FormulaError",
    "UnseenElementWarning",
    "load_pretrained",
    "__version__",
]
