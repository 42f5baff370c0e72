"""Fitted models shipped with the package, and their safe file format.

``load_pretrained("paper")`` and ``load_pretrained("best")`` return fitted
pipelines (formulas in, eV/atom out) read from the ``paper/`` and ``best/``
folders next to this module. :func:`save_pipeline` and :func:`load_pipeline`
write and read the same format for your own models: a JSON description and
a file of plain tensors, never a pickle.
"""

from ._persist import (
    FORMAT_VERSION,
    PRETRAINED_NAMES,
    available_pretrained,
    load_metadata,
    load_pipeline,
    load_pretrained,
    load_pretrained_metadata,
    save_pipeline,
)

__all__ = [
    "FORMAT_VERSION",
    "PRETRAINED_NAMES",
    "available_pretrained",
    "load_metadata",
    "load_pipeline",
    "load_pretrained",
    "load_pretrained_metadata",
    "save_pipeline",
]
