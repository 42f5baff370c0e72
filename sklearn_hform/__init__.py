"""Formation enthalpy of inorganic compounds from their formula, the scikit-learn way.

The public names below are imported on first use, so ``import sklearn_hform``
(and the ``hform`` command's help) stays fast and loads neither torch nor
skorch.
"""

import importlib

from ._version import __version__

# Public name -> module that defines it.
_EXPORTS = {
    "BaseTorchRegressor": "base",
    "CompositionFractionTransformer": "transformer",
    "CompositionTransformerRegressor": "attention_regressor",
    "DeepEnsembleRegressor": "ensemble",
    "FormationEnthalpyRegressor": "regressor",
    "FormulaError": "formula",
    "UnseenElementWarning": "transformer",
    "load_model": "persistence",
    "load_pretrained": "pretrained",
    "save_model": "persistence",
}

__all__ = sorted([*_EXPORTS, "__version__"])


#: Public submodules, imported on first use as well.
_SUBMODULES = ("model_selection",)


def __getattr__(name):
    if name in _SUBMODULES:
        value = importlib.import_module(f".{name}", __name__)
        globals()[name] = value
        return value
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__():
    return __all__
