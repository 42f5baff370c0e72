"""Deep ensembles of networks, and the calibration of their spread into error bars.

- :class:`DeepEnsembleRegressor`: K networks from K seeds, their mean as
  the prediction and their spread as an uncertainty; trained as one
  vmapped model when the members allow it.
- Calibration (``_calibration.py``): the spread turned into a calibrated
  standard deviation and conformal intervals, fitted on held-out rows
  (:func:`fit_calibration`, :func:`apply_calibration`,
  :func:`interval_half_width`, :func:`error_features`,
  :data:`ERROR_MODELS`), and measured out of fold
  (:func:`cross_fitted_coverage`).
- :class:`ConformalRegressor`: the same error bars for any regressor or
  Pipeline, calibrated on a share of the training rows it holds out;
  :func:`predict_interval` reaches the last step's intervals through a
  Pipeline.

Names are imported on first use.
"""

from .._lazy import lazy_exports

__all__, __getattr__, __dir__ = lazy_exports(__name__, {
    "_calibration": ("ERROR_MODELS", "apply_calibration", "cross_fitted_coverage", "error_features",
                     "fit_calibration", "interval_half_width"),
    "_deep_ensemble": ("DeepEnsembleRegressor",),
    "_conformal": ("ConformalRegressor", "predict_interval"),
})
