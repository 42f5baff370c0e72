"""Saving and loading fitted models: a folder of JSON, safetensors and checksums.

A saved model is a folder with three files:

``model.json``
    The format version, the versions that wrote it, free-form metadata, and
    the model as a tree of records: each names a registered class, its
    parameters and the fitted attributes the estimator exported.
``model.safetensors``
    Every tensor of the model, in the pickle-free safetensors format; keys
    are prefixed by the estimator's place in the tree
    (``"steps.regressor.estimators_.0.hidden.0.weight"``).
``SHA256SUMS``
    The SHA-256 of the two files above, in the format ``sha256sum -c``
    reads. A model whose files do not match is refused.

Loading reads JSON with :mod:`json` and tensors with :mod:`safetensors`, and
builds only registered classes, so a model file cannot run code (a class
named by an installed package's ``sklearn_hform.networks`` entry point is
imported on first use: installed code, never code from the file). Each
estimator writes and reads its own fitted state (``export_state`` and
``restore_state``); this module knows only the format, the checksums and
the registry. A :class:`~sklearn.pipeline.Pipeline` of registered steps is
saved step by step.

Public names: :func:`save_model`, :func:`load_model`,
:func:`load_model_metadata`, :func:`register_estimator`,
:func:`registered_estimators`, :func:`network_entry_points` and
:func:`load_network_entry_point` (the networks installed packages offer
through the entry point group :data:`NETWORK_ENTRY_POINT_GROUP`,
``sklearn_hform.networks``, which :func:`load_model` also consults for a
class it does not know), :func:`encode_estimator`,
:func:`decode_estimator`, :data:`FORMAT_VERSION`, and
:class:`ModuleStateMixin`, the ``export_state``/``restore_state`` of an
estimator whose fitted model is one torch module. Folders written by
sklearn-hform 0.1 are read by ``_legacy.py``.
"""

from ._folder import FORMAT_VERSION, decode_estimator, encode_estimator, load_model, load_model_metadata, save_model
from ._module_state import ModuleStateMixin
from ._registry import (
    NETWORK_ENTRY_POINT_GROUP,
    load_network_entry_point,
    network_entry_points,
    register_estimator,
    registered_estimators,
)

__all__ = ["FORMAT_VERSION", "ModuleStateMixin", "NETWORK_ENTRY_POINT_GROUP", "decode_estimator",
           "encode_estimator", "load_model", "load_model_metadata", "load_network_entry_point",
           "network_entry_points", "register_estimator", "registered_estimators", "save_model"]
