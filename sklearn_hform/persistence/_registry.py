"""The registry of classes a model file may name: the only classes :func:`load_model` builds.

Besides the classes registered in this process, the registry knows the
networks of installed packages: each entry point of the group
:data:`NETWORK_ENTRY_POINT_GROUP` names a network estimator class
(``name = "package.module:Class"``). They are read only when a name is not
known otherwise, so that loading a model of the package's own classes
imports no other package.
"""

import importlib
from importlib.metadata import entry_points

# registered_name and resolve_class serve the package (_folder.py, the estimator checks): not exported.
__all__ = ["NETWORK_ENTRY_POINT_GROUP", "load_network_entry_point", "network_entry_points", "register_estimator",
           "registered_estimators"]

#: The entry point group through which an installed package offers network estimator classes.
NETWORK_ENTRY_POINT_GROUP = "sklearn_hform.networks"

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
    "ConformalRegressor": "sklearn_hform.ensemble:ConformalRegressor",
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


def network_entry_points():
    """The network estimator classes installed packages offer, by entry point name.

    Read from the entry point group :data:`NETWORK_ENTRY_POINT_GROUP`
    (``sklearn_hform.networks``) without importing anything.

    Returns
    -------
    dict of str to str
        Entry point name to ``"module:Class"``.
    """
    return {ep.name: ep.value for ep in entry_points(group=NETWORK_ENTRY_POINT_GROUP)}


def load_network_entry_point(name):
    """Import the network estimator class of the entry point ``name`` and register it.

    The class is registered (see :func:`register_estimator`) under its
    class name, unless the imported module already registered it, under
    whatever name it chose; then :func:`save_model` can save it and
    :func:`load_model` build it.

    Parameters
    ----------
    name : str
        An entry point name of the group :data:`NETWORK_ENTRY_POINT_GROUP`.

    Returns
    -------
    cls : type

    Raises
    ------
    ValueError
        No such entry point, or it does not name a class that can be registered.
    """
    found = [ep for ep in entry_points(group=NETWORK_ENTRY_POINT_GROUP) if ep.name == name]
    if not found:
        raise ValueError(f"no network {name!r} in the entry point group {NETWORK_ENTRY_POINT_GROUP!r}; "
                         f"installed: {sorted(network_entry_points())}")
    cls = found[0].load()
    if not isinstance(cls, type):
        raise ValueError(f"entry point {name!r} ({found[0].value}) names {cls!r}, not a class")
    if not _is_registered(cls):
        try:
            register_estimator(cls)
        except TypeError as exc:
            raise ValueError(f"entry point {name!r} ({found[0].value}): {exc}") from None
    return cls


def _is_registered(cls):
    return any(_REGISTRY[key] is cls for key in _REGISTRY)


def _register_from_entry_points(name):
    """Look for the class a model file calls ``name`` among the installed networks.

    An entry point whose name or class name is ``name`` is imported first;
    failing that, every entry point is, since an imported module may
    register its class under a name of its own choosing.

    Returns
    -------
    problems : list of str
        The entry points that could not be loaded, each with its error.
    """
    candidates = entry_points(group=NETWORK_ENTRY_POINT_GROUP)
    likely = [ep for ep in candidates if name in (ep.name, ep.value.rpartition(":")[2])]
    problems = []
    for ep in [*likely, *(ep for ep in candidates if ep not in likely)]:
        try:
            load_network_entry_point(ep.name)
        except (ImportError, AttributeError, ValueError) as exc:
            # A broken package must not stop a model of another one from
            # loading; it is named if the class is not found at all.
            problems.append(f"{ep.name} ({ep.value}): {type(exc).__name__}: {exc}")
            continue
        if name in _REGISTRY:
            break
    return problems


def resolve_class(name):
    """The class registered as ``name``, imported on first use."""
    problems = [] if name in _REGISTRY else _register_from_entry_points(name)
    entry = _REGISTRY.get(name)
    if entry is None:
        broken = f"; these failed to load: {'; '.join(problems)}" if problems else ""
        raise ValueError(f"unknown estimator class {name!r} in the model file; known: {registered_estimators()} "
                         f"and the installed networks of {NETWORK_ENTRY_POINT_GROUP!r}{broken}")
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
