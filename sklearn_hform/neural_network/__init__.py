"""The networks: torch modules, the scikit-learn estimators that train them, and their base class.

- :class:`FormationEnthalpyRegressor`, the paper's fully connected network
  over element fractions (its module: :class:`FractionMLP`).
- :class:`CompositionTransformerRegressor`, a transformer encoder over the
  elements present (its module: :class:`ElementAttentionNet`).
- :class:`BaseTorchRegressor`, the base class of both: training
  parameters (:data:`TRAINING_PARAMETERS`, :data:`OPTIMIZERS`,
  :data:`LOSSES`, :data:`LR_SCHEDULES`, :data:`PREDICT_PRECISIONS`),
  validation, seeding, ``fit`` and ``predict``. A new network is one
  subclass (see the developer guide), its docstring completed with the
  shared training parameters (:data:`TRAINING_PARAMETER_DOCS`) by
  :func:`document_training_parameters`.
- Layers torch lacks: :class:`GeneratorDropout`.
- Many networks of one class trained as one vmapped model:
  :func:`fit_stacked`, :func:`can_stack`.
- :func:`fine_tune`: continue training a fitted model on new data.
- What the ``callbacks`` and ``device`` parameters take:
  :class:`EpochProgress`, :class:`HeldOutMAE`, :func:`check_device`,
  :func:`resolve_device`.

The training engine itself (the skorch net, batching, CUDA graphs) is the
private ``sklearn_hform._training``. torch and skorch are imported on first
use of a name that needs them.
"""

from .._lazy import lazy_exports

__all__, __getattr__, __dir__ = lazy_exports(__name__, {
    "_layers": ("GeneratorDropout",),
    "_mlp_module": ("FractionMLP",),
    "_attention_module": ("ElementAttentionNet",),
    "_parameter_docs": ("TRAINING_PARAMETER_DOCS", "document_training_parameters"),
    "_base": ("BaseTorchRegressor", "LOSSES", "LR_SCHEDULES", "OPTIMIZERS", "PREDICT_PRECISIONS",
              "TRAINING_PARAMETERS"),
    "_mlp": ("FormationEnthalpyRegressor",),
    "_attention": ("CompositionTransformerRegressor", "ELEMENT_EMBEDDINGS"),
    "_fit_many": ("can_stack", "fit_stacked"),
    "_fine_tune": ("fine_tune",),
    "._training._callbacks": ("EpochProgress", "HeldOutMAE"),
    "._training._devices": ("check_device", "resolve_device"),
})
