"""Many networks of one estimator class trained as one vmapped model, then taken out one by one.

Fitting K small networks one after the other leaves a GPU (and, less so, a
CPU) mostly idle. :func:`fit_stacked` trains K estimators of one class
(the members of an ensemble, the folds of a cross-validation) as one
:class:`~sklearn_hform._training.StackedModule`, each on its own rows, and
hands each back as an ordinary fitted estimator; :func:`can_stack` says
when that is possible.

:class:`~sklearn_hform.DeepEnsembleRegressor` and
:mod:`sklearn_hform.model_selection` use this path by themselves when they
can.
"""

import numpy as np
import torch
from skorch.callbacks import LRScheduler

from .._training._capabilities import module_capability
from .._training._devices import resolve_device
from .._training._seeding import use_generator
from .._training._tensor_net import make_net
from .._training._vmapped import StackedBatches, StackedData, StackedModule, StackedNet
from ..utils._validation import normalized_weights
from ._base import BaseTorchRegressor

__all__ = ["can_stack", "fit_stacked"]

# Parameters that may differ between the members of one stacked fit.
_MEMBER_PARAMETERS = ("random_state",)
# Hooks of a single fit that a stacked fit cannot run: it trains every member
# in one net of its own, so an override of these would be skipped, silently.
_SINGLE_FIT_HOOKS = ("fit", "build_net")


def _stackable_callback(callback):
    # An epoch schedule acts on the one optimiser every member shares, as it
    # would on each member's own; anything else must say it copes.
    if isinstance(callback, LRScheduler) and callback.step_every == "epoch":
        return True
    return bool(getattr(callback, "stackable", False))


def _same(a, b):
    if type(a) is not type(b):
        return False
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if callable(getattr(a, "get_params", None)) and not isinstance(a, type):
        # Estimators and callbacks: equal when their parameters are.
        mine, theirs = a.get_params(deep=False), b.get_params(deep=False)
        return mine.keys() == theirs.keys() and all(_same(mine[k], theirs[k]) for k in mine)
    return repr(a) == repr(b)


def can_stack(estimators, n_features):
    """Whether :func:`fit_stacked` can train ``estimators`` as one model.

    They must be unfitted (or not warm-starting) instances of one subclass
    of :class:`~sklearn_hform.neural_network.BaseTorchRegressor` that
    overrides neither ``fit`` nor ``build_net`` (the hooks of a single fit
    alone), with equal parameters except ``random_state``, no validation
    split or early stopping, a net whose callbacks
    (:meth:`~sklearn_hform.neural_network.BaseTorchRegressor.net_kwargs`)
    are epoch-stepped learning-rate schedules or declare ``stackable =
    True`` (as :class:`~sklearn_hform.neural_network.EpochProgress`), and a
    module that declares ``vmap_safe = True`` (as
    :class:`~sklearn_hform.neural_network.FractionMLP`).

    Parameters
    ----------
    estimators : list of estimators
    n_features : int

    Returns
    -------
    bool
    """
    first = estimators[0]
    if not isinstance(first, BaseTorchRegressor) or len(estimators) < 2:
        return False
    cls = type(first)
    if any(getattr(cls, hook) is not getattr(BaseTorchRegressor, hook) for hook in _SINGLE_FIT_HOOKS):
        return False
    params = first.get_params(deep=False)
    if params["validation_fraction"] is not None or params["warm_start"]:
        return False
    for other in estimators[1:]:
        if type(other) is not cls:
            return False
        theirs = other.get_params(deep=False)
        if any(not _same(params[k], theirs[k]) for k in params if k not in _MEMBER_PARAMETERS):
            return False
    try:
        first._validate_params()
        # Seed 0 and no generator stand in for the fit's: only which
        # callbacks the net gets is asked, and fit_seed would draw from a
        # RandomState instance the caller owns.
        kwargs = first.net_kwargs(resolve_device(first.device), 0, None)
        # Only the architecture is asked about; fresh_module builds it
        # without drawing from the caller's random stream.
        module = first.fresh_module(n_features)
    except (ValueError, TypeError):
        return False
    if kwargs.get("validation_fraction") is not None:
        return False
    if not all(_stackable_callback(cb) for _, cb in kwargs.get("callbacks") or []):
        return False
    return module_capability(module, "vmap_safe")


def fit_stacked(estimators, X, y, index_sets, sample_weight=None):
    """Fit each of ``estimators`` on its own rows of ``X``, ``y``, all as one batched model.

    Member ``k`` ends as if ``estimators[k].fit(X[index_sets[k]],
    y[index_sets[k]])`` had been called: the same seed-derived initial
    weights and shuffles, so the same fit up to the rounding of batched
    arithmetic (and dropout masks, which come from one generator here).

    Parameters
    ----------
    estimators : list of estimators
        Accepted by :func:`can_stack`; fitted in place.
    X : array-like of shape (n_samples, n_features)
    y : array-like of shape (n_samples,)
    index_sets : list of array-like of int
        One per estimator.
    sample_weight : array-like of shape (n_samples,), default=None

    Returns
    -------
    estimators : list
        The same objects, fitted.
    net : StackedNet
        The net that trained them, with the per-epoch ``history``.
    """
    if len(index_sets) != len(estimators):
        raise ValueError(f"{len(estimators)} estimators but {len(index_sets)} index sets")
    first = estimators[0]
    X, y, weight = first.validate_fit_data(X, y, sample_weight)
    if not can_stack(estimators, X.shape[1]):
        raise ValueError("these estimators cannot be trained as one stacked model (see can_stack)")
    rows, weights = [], []
    for index in index_sets:
        index = np.asarray(index, dtype=np.int64)
        if index.ndim != 1 or len(index) == 0 or index.min() < 0 or index.max() >= len(y):
            raise ValueError(f"an index set must list rows of X (0 to {len(y) - 1}); got {len(index)} entries")
        w = None
        if weight is not None:
            index = index[weight[index] > 0]
            if len(index) == 0:
                raise ValueError("sample_weight is zero on every row of an index set")
            w = normalized_weights(weight[index])
        rows.append(index)
        weights.append(w)
    device = resolve_device(first.device)
    seeds = [e.fit_seed() for e in estimators]
    n_features = X.shape[1]
    modules = [e.initial_module(n_features, s) for e, s in zip(estimators, seeds)]
    stacked = StackedModule(modules)
    generators = [torch.Generator(device=device).manual_seed(s + 1) for s in seeds]
    # The same hook as a single fit's build_net: one member's settings stand
    # for all (can_stack checked they are equal), each member its own shuffles.
    net = make_net(stacked, **first.net_kwargs(device, seeds[0], generators), net_class=StackedNet)
    net.set_params(iterator_train=StackedBatches)
    data = StackedData(X.astype(np.float32, copy=False), y.astype(np.float32), rows, weights, device)
    with use_generator(stacked.template[0], generators[0]):
        net.fit(data, None)
    for k, (estimator, module) in enumerate(zip(estimators, modules)):
        module.load_state_dict(net.module_.member_state(k))
        if estimator is not first:
            estimator.n_features_in_ = first.n_features_in_
            if hasattr(first, "feature_names_in_"):
                estimator.feature_names_in_ = first.feature_names_in_
            elif hasattr(estimator, "feature_names_in_"):
                del estimator.feature_names_in_
        if hasattr(estimator, "net_"):
            del estimator.net_  # it trained an earlier fit; this one was trained by the stacked net
        estimator.record_training_precision(net)
        estimator.set_fitted_module(module.to(device), device, len(net.history))
    return estimators, net
