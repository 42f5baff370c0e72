"""Formation enthalpy of inorganic compounds from their formula, the scikit-learn way.

The public names below are imported on first use, so ``import sklearn_hform``
(and the ``hform`` command's help) stays fast and loads neither torch nor
skorch. They live in subpackages by layer, each importing only those below
it (see the architecture page of the documentation):

``utils``, ``composition``, ``persistence``, ``datasets``, (``_training``),
``neural_network``, ``ensemble``, ``model_selection``, ``prediction``,
``stability``, ``pretrained``, ``recipes``, ``cli``.

The module paths of 0.1 (``sklearn_hform.hull``, ``sklearn_hform.base``, ...)
still import, with a ``FutureWarning`` naming the new one, until 0.3.
"""

from ._deprecated_modules import install as _install_old_paths
from ._lazy import lazy_exports
from ._version import __version__

_install_old_paths()

_names, __getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "composition": ("CompositionFractionTransformer", "FormulaError", "UnseenElementWarning"),
        "neural_network": ("BaseTorchRegressor", "CompositionTransformerRegressor", "FormationEnthalpyRegressor"),
        "ensemble": ("DeepEnsembleRegressor",),
        "persistence": ("load_model", "save_model"),
        "pretrained": ("load_pretrained",),
    },
    submodules=("cli", "composition", "datasets", "ensemble", "model_selection", "neural_network", "persistence",
                "prediction", "pretrained", "recipes", "stability", "utils"),
)
__all__ = sorted([*_names, "__version__"])
