"""The registry of classes a model file may name: the only classes :func:`load_model` builds."""

import importlib

# registered_name and resolve_class serve _folder.py only: not exported.
__all__ = ["register_estimator", "registered_estimators"]

# Classes by the name written in files. Values are "module:attribute" until
# first use, so that reading the registry imports no estimator (or torch).
# They name public paths, which outlive a move between private modules. These
# strings are the one place this layer refers to the layers above it: by
# name, resolved only when a file asks for the class.
_REGISTRY = {
    "CompositionFractionTransformer": "sklearn_hform.composition:CompositionFractionTransformer",
    "FormationEnthalpyRegressor": "sklearn_hform.neural_network:FormationEnthalpyRegressor",
    "CompositionTransformerRegressor": "sklearn_hform.neural_network:CompositionTransformerRegressor",
    "DeepEnsembleRegressor": "sklearn_hform.ensemble:DeepEnsembleRegressor",
}


def register_estimator(cls=None, *, name=None):
    """Let :func:`save_model` and :func:`load_model` handle ``cls``.

    Usable as a class decorator. The class must implement
    ``export_state()`` and ``restore_state(attributes, tensors)`` (every
    subclass of :class:`~sklearn_hform.neural_network.BaseTorchRegressor` does).

    Parameters
    ----------
    cls : type
    name : str, default=None
        The name written in files; the class name by default. It must stay
        stable for saved models to load.

    Returns
    -------
    cls : type
    """
    def register(cls):
        for method in ("export_state", "restore_state", "get_params"):
            if not callable(getattr(cls, method, None)):
                raise TypeError(f"{cls.__name__} cannot be registered: it has no {method}()")
        key = name or cls.__name__
        known = _REGISTRY.get(key)
        if known is not None and resolve_class(key) is not cls:
            raise ValueError(f"another class is already registered as {key!r}")
        _REGISTRY[key] = cls
        return cls

    return register if cls is None else register(cls)


def registered_estimators():
    """Names of the classes :func:`load_model` can build.

    Returns
    -------
    list of str
    """
    return sorted(_REGISTRY)


def resolve_class(name):
    """The class registered as ``name``, imported on first use."""
    entry = _REGISTRY.get(name)
    if entry is None:
        raise ValueError(f"unknown estimator class {name!r} in the model file; known: {registered_estimators()}")
    if isinstance(entry, str):
        module, _, attribute = entry.partition(":")
        entry = _REGISTRY[name] = getattr(importlib.import_module(module), attribute)
    return entry


def registered_name(estimator):
    """The name ``estimator``'s class is registered under."""
    for name in list(_REGISTRY):
        if type(estimator) is resolve_class(name):
            return name
    raise TypeError(
        f"{type(estimator).__name__} cannot be saved: register it with "
        "sklearn_hform.persistence.register_estimator"
    )
