"""Checks for network estimators, the package's own and those of other packages.

- :func:`check_network_estimator`: scikit-learn's common checks, a short
  fit, a stacked fit and a save/load round trip on one network estimator;
  what a third-party network runs in its own tests.
- The checks of scikit-learn an estimator is expected to fail, chosen by
  its capabilities, not its class name: :func:`expected_failed_checks`
  (the form ``parametrize_with_checks`` takes), from the table
  :data:`CAPABILITY_FAILURES`, with its capability
  :func:`trains_by_weighted_sgd`.

Names are imported on first use (they import torch).
"""

from .._lazy import lazy_exports

__all__, __getattr__, __dir__ = lazy_exports(__name__, {
    "_expected_failures": ("CAPABILITY_FAILURES", "expected_failed_checks", "trains_by_weighted_sgd"),
    "_network_checks": ("check_network_estimator",),
})
