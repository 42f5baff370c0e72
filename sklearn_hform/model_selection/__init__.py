"""Model selection and evaluation: cross-validation that trains all folds at once, and error summaries.

- :func:`cross_val_predict`, :func:`cross_validate`,
  :func:`cross_val_score`: scikit-learn's functions, with the fold networks
  of this package trained together as one vmapped model when they can be.
- :func:`error_summary`, :func:`test_split_errors` and
  :func:`plot_parity_and_cdf`: the MAE and error percentiles, the errors on
  the bundled test split as published, and the paper's Fig. 6.
- :func:`cross_val_fine_tune`: out-of-fold predictions (and spreads) of a
  pretrained model fine-tuned on each fold's training rows.

Names are imported on first use.
"""

from .._lazy import lazy_exports

__all__, __getattr__, __dir__ = lazy_exports(__name__, {
    "_cross_validation": ("cross_val_predict", "cross_val_score", "cross_validate"),
    "_evaluation": ("error_summary", "plot_parity_and_cdf", "test_split_errors"),
    "_transfer": ("cross_val_fine_tune",),
})
