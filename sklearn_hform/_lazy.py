"""Public names of a package that are imported from its modules on first use.

Several subpackages hold modules that import torch, skorch or matminer
when they are imported, which takes seconds. Their ``__init__`` exports
names through :func:`lazy_exports` instead of importing them, so that
``import sklearn_hform`` and ``hform --help`` stay fast and a user pays
only for what they touch.
"""

import importlib
import sys

__all__ = ["lazy_exports"]


def lazy_exports(package, exports, submodules=()):
    """``__all__``, ``__getattr__`` and ``__dir__`` for a package that exports names lazily.

    Parameters
    ----------
    package : str
        The package's ``__name__``.
    exports : dict of str to sequence of str
        For each module of the package, relative to it (``"_formula"``),
        the names the package exports from it.
    submodules : sequence of str, default=()
        Subpackages or modules reachable as attributes of the package,
        also imported on first use.

    Returns
    -------
    names : list of str
        The exported names, sorted: the package's ``__all__``.
    getattr : callable
        The package's ``__getattr__`` (PEP 562).
    dir : callable
        The package's ``__dir__``.
    """
    home = {name: module for module, names in exports.items() for name in names}
    names = sorted(home)

    def __getattr__(name):
        if name in submodules:
            value = importlib.import_module(f".{name}", package)
        elif name in home:
            value = getattr(importlib.import_module(f".{home[name]}", package), name)
        else:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        # Found once: later lookups are plain attribute reads.
        setattr(sys.modules[package], name, value)
        return value

    def __dir__():
        return sorted({*names, *submodules, *vars(sys.modules[package])})

    return names, __getattr__, __dir__
