"""Parameter constraints for ``_parameter_constraints``, under a public name.

scikit-learn validates an estimator's parameters against
``_parameter_constraints`` with classes it keeps in a private module. An
estimator of this package, or a network written outside it, declares its
constraints with the names exported here (through
:mod:`sklearn_hform.utils`), so that only this module depends on where
scikit-learn keeps them: if it moves them, this file changes and no
extension does.
"""

from sklearn.utils._param_validation import HasMethods, Interval, Options, StrOptions

__all__ = ["HasMethods", "Interval", "Options", "StrOptions"]
