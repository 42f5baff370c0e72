"""The module paths of sklearn-hform 0.1, kept for one release: importing one warns and names the new path.

0.2 moved the package's flat modules into subpackages by layer.
``import sklearn_hform.hull`` and ``from sklearn_hform.hull import
screen_grid`` still work, with a ``FutureWarning``: a finder on
:data:`sys.meta_path` (installed by the package's ``__init__``) answers for
the old names, and the module it returns reads every attribute from the
modules that define it now. The objects are the same ones, so
``isinstance`` checks hold and pickles that name an old module load.
Nothing inside the package imports an old path (``tests/test_layout.py``
checks it).
"""

import importlib
import importlib.machinery
import os
import sys
import types
import warnings

__all__ = ["MOVED", "REMOVED_IN", "RENAMED", "install"]

#: The release that will drop the old paths.
REMOVED_IN = "0.3"


def _public(new):
    return f"import from {new} instead"


def _private(new):
    return f"it is private now ({new})"


#: Old module -> (what the warning advises, the modules that now define its names, searched in order).
MOVED = {
    "sklearn_hform.atom_fractions": (_public("sklearn_hform.composition"),
                                     ("sklearn_hform.composition._atom_fractions",)),
    "sklearn_hform.attention": (_public("sklearn_hform.neural_network"),
                                ("sklearn_hform.neural_network._attention_module",)),
    "sklearn_hform.attention_regressor": (_public("sklearn_hform.neural_network"),
                                          ("sklearn_hform.neural_network._attention",)),
    "sklearn_hform.base": (_public("sklearn_hform.neural_network"), ("sklearn_hform.neural_network._base",)),
    "sklearn_hform.batching": (_private("sklearn_hform._training._batching"), ("sklearn_hform._training._batching",)),
    "sklearn_hform.calibration": (_public("sklearn_hform.ensemble"), ("sklearn_hform.ensemble._calibration",)),
    "sklearn_hform.callbacks": (_public("sklearn_hform.neural_network"), ("sklearn_hform._training._callbacks",)),
    "sklearn_hform.devices": ("import check_device and resolve_device from sklearn_hform.neural_network instead; "
                              "the rest is private now (sklearn_hform._training._devices)",
                              ("sklearn_hform._training._devices",)),
    "sklearn_hform.element_data": (_public("sklearn_hform.composition"), ("sklearn_hform.composition._element_data",)),
    "sklearn_hform.evaluation": (_public("sklearn_hform.model_selection"),
                                 ("sklearn_hform.model_selection._evaluation",)),
    "sklearn_hform.featurizer": (_public("sklearn_hform.composition"), ("sklearn_hform.composition._featurizer",)),
    "sklearn_hform.finetune": (_public("sklearn_hform.neural_network"), ("sklearn_hform.neural_network._fine_tune",)),
    "sklearn_hform.formula": (_public("sklearn_hform.composition"), ("sklearn_hform.composition._formula",)),
    "sklearn_hform.graphs": (_private("sklearn_hform._training._cuda_graphs"),
                             ("sklearn_hform._training._cuda_graphs",)),
    "sklearn_hform.hull": (_public("sklearn_hform.stability"),
                           ("sklearn_hform.stability._systems", "sklearn_hform.stability._grid_screen",
                            "sklearn_hform.stability._plots")),
    "sklearn_hform.legacy": (_private("sklearn_hform.persistence._legacy; load_model reads 0.1 folders by itself"),
                             ("sklearn_hform.persistence._legacy",)),
    "sklearn_hform.mlp": (_public("sklearn_hform.neural_network"), ("sklearn_hform.neural_network._mlp_module",)),
    "sklearn_hform.module_state": (_public("sklearn_hform.persistence"), ("sklearn_hform.persistence._module_state",)),
    "sklearn_hform.net": (_private("sklearn_hform._training._tensor_net"), ("sklearn_hform._training._tensor_net",)),
    "sklearn_hform.paper": (_public("sklearn_hform.utils"), ("sklearn_hform.utils._paper",)),
    "sklearn_hform.records": (_public("sklearn_hform.utils"), ("sklearn_hform.utils._records",)),
    "sklearn_hform.regressor": (_public("sklearn_hform.neural_network"), ("sklearn_hform.neural_network._mlp",)),
    "sklearn_hform.schedules": (_private("sklearn_hform._training._schedules"),
                                ("sklearn_hform._training._schedules",)),
    "sklearn_hform.screening": (_public("sklearn_hform.stability"), ("sklearn_hform.stability._screen",)),
    "sklearn_hform.screening_many": (_public("sklearn_hform.stability"),
                                     ("sklearn_hform.stability._screen_many", "sklearn_hform.stability._systems")),
    "sklearn_hform.screening_plot": (_public("sklearn_hform.stability"), ("sklearn_hform.stability._plots",)),
    "sklearn_hform.seeding": ("import GeneratorDropout from sklearn_hform.neural_network instead; use_generator "
                              "and initialize_parameters are private now (sklearn_hform._training._seeding)",
                              ("sklearn_hform.neural_network._layers", "sklearn_hform._training._seeding")),
    "sklearn_hform.stacking": ("import can_stack and fit_stacked from sklearn_hform.neural_network instead; the "
                               "stacked module, data and net are private now (sklearn_hform._training._vmapped)",
                               ("sklearn_hform.neural_network._fit_many", "sklearn_hform._training._vmapped")),
    "sklearn_hform.transformer": (_public("sklearn_hform.composition"),
                                  ("sklearn_hform.composition._fraction_transformer",)),
    "sklearn_hform.validation": (_public("sklearn_hform.utils"), ("sklearn_hform.utils._validation",)),
}

#: Names that changed as they moved: old module -> {old name: new name}.
RENAMED = {"sklearn_hform.featurizer": {"CHUNK_SIZE": "FEATURIZE_MANY_CHUNK_SIZE"}}


class _MovedModule(types.ModuleType):
    """An old module path: every attribute is read from the modules that define it now."""

    def __getattr__(self, name):
        old = self.__name__
        targets = [importlib.import_module(m) for m in MOVED[old][1]]
        if name == "__all__":
            return sorted({n for t in targets for n in getattr(t, "__all__", ())} | set(RENAMED.get(old, {})))
        if name.startswith("__"):
            # Probes such as __path__ or __wrapped__ must fail: this module is no package and wraps nothing.
            raise AttributeError(f"module {old!r} has no attribute {name!r}")
        name = RENAMED.get(old, {}).get(name, name)
        for target in targets:
            if hasattr(target, name):
                return getattr(target, name)
        raise AttributeError(f"module {old!r} has no attribute {name!r}")

    def __dir__(self):
        return self.__all__


def _importer_stacklevel():
    """The ``stacklevel`` that blames the line that imported, for a warning issued by the loader."""
    frame, level = sys._getframe(2), 2
    while frame is not None:
        name = frame.f_code.co_filename
        if "importlib" in name and "_bootstrap" in name:
            # warnings skips the import system's own frames by itself: not counted.
            frame = frame.f_back
        elif name.endswith(os.path.join("importlib", "__init__.py")):
            # importlib.import_module: blame its caller.
            frame, level = frame.f_back, level + 1
        else:
            return level
    return 1


class _MovedFinder:
    """Finds and loads the old module paths of :data:`MOVED` (a meta path finder and its loader)."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname not in MOVED:
            return None
        return importlib.machinery.ModuleSpec(fullname, self)

    def create_module(self, spec):
        return _MovedModule(spec.name)

    def exec_module(self, module):
        warnings.warn(f"{module.__name__} is deprecated and will be removed in {REMOVED_IN}; "
                      f"{MOVED[module.__name__][0]}", FutureWarning, stacklevel=_importer_stacklevel())


def install():
    """Put the finder of the old module paths on :data:`sys.meta_path`, once."""
    if not any(type(f).__name__ == _MovedFinder.__name__ for f in sys.meta_path):
        # First: a stale file of an old installation must not shadow the forwarding module.
        sys.meta_path.insert(0, _MovedFinder())
