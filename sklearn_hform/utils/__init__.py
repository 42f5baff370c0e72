"""Helpers every layer may use: input checks, run records, the paper's published figures.

Nothing here imports another part of the package.

- Input checks shared by the estimators: :func:`check_sample_weight`,
  :func:`normalized_weights`, :func:`check_finite_target`,
  :func:`check_hidden_layer_sizes`, and :func:`validate_fit_inputs`, the
  whole check of a fit's inputs (a failed warm start changes nothing).
- Parameter constraints for ``_parameter_constraints``, the public names
  of scikit-learn's own (an extension imports them from here, never from
  scikit-learn's private modules): :class:`Interval`, :class:`StrOptions`,
  :class:`Options`, :class:`HasMethods`.
- The record of how a model or result was made: :func:`run_record`,
  :func:`hardware`, :func:`cpu_name`, :func:`git_commit`; for a study
  script, :func:`parse_run_options` (``--quick``, ``--out``,
  ``HFORM_QUICK``) and :func:`write_result` (its numbers and run record in
  one JSON file).
- The figures of Ti et al. (2020) and the other published models this
  package compares with: :data:`PAPER_ERRORS`, :data:`PAPER_ROWS`,
  :data:`PUBLISHED_TEST_MAE`, :data:`TABLE_1_LAYERS`, and how to cite them
  (:data:`CITATION`, :data:`CITATION_BIBTEX`, :data:`ELEMNET_BIBTEX`).
"""

from ._paper import (
    CITATION,
    CITATION_BIBTEX,
    ELEMNET_BIBTEX,
    PAPER_ERRORS,
    PAPER_ROWS,
    PUBLISHED_TEST_MAE,
    TABLE_1_LAYERS,
)
from ._constraints import HasMethods, Interval, Options, StrOptions
from ._records import cpu_name, git_commit, hardware, parse_run_options, run_record, write_result
from ._validation import (
    check_finite_target,
    check_hidden_layer_sizes,
    check_sample_weight,
    normalized_weights,
    validate_fit_inputs,
)

__all__ = [
    "CITATION",
    "CITATION_BIBTEX",
    "ELEMNET_BIBTEX",
    "HasMethods",
    "Interval",
    "Options",
    "PAPER_ERRORS",
    "PAPER_ROWS",
    "PUBLISHED_TEST_MAE",
    "StrOptions",
    "TABLE_1_LAYERS",
    "check_finite_target",
    "check_hidden_layer_sizes",
    "check_sample_weight",
    "cpu_name",
    "git_commit",
    "hardware",
    "normalized_weights",
    "parse_run_options",
    "run_record",
    "validate_fit_inputs",
    "write_result",
]
