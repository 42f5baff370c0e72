"""Fine-tuning: continue training a fitted model (a pretrained one, say) on your own, smaller data.

This is ElemNet's transfer-learning use: a network that has learnt the
chemistry of OQMD's 300,000 compounds starts closer to a good fit of a
small data set than random weights do.
"""

import copy

import numpy as np

__all__ = ["fine_tune"]


def fine_tune(model, X, y, *, sample_weight=None, **params):
    """A copy of ``model`` whose networks continued training on ``X``, ``y``.

    Every network of the model (each member of an ensemble) is refitted
    with ``warm_start=True`` from its current weights; the learning-rate
    schedule and the optimiser start afresh. ``model`` itself is not
    changed.

    Parameters
    ----------
    model : Pipeline
        Fitted: a :class:`~sklearn_hform.CompositionFractionTransformer`
        followed by a network of this package or a
        :class:`~sklearn_hform.DeepEnsembleRegressor` of them, as
        :func:`~sklearn_hform.load_pretrained` returns.
    X : array-like of shape (n_samples,)
        Formulas.
    y : array-like of shape (n_samples,)
        Targets, in the units the model predicts.
    sample_weight : array-like of shape (n_samples,), default=None
    **params
        Training parameters for the continued fit, e.g. ``max_epochs=50,
        lr=3e-4``; the networks keep their other parameters.

    Returns
    -------
    Pipeline
        Fitted. Its transformer counts the elements of ``X`` as seen.

    Raises
    ------
    FormulaError
        If a formula of ``X`` cannot be read (nothing is trained).
    ValueError
        For a target or weight that is not finite, or unknown ``params``.
    """
    from .base import BaseTorchRegressor
    from .transformer import CompositionFractionTransformer

    if not (hasattr(model, "steps") and len(model) == 2 and isinstance(model[0], CompositionFractionTransformer)):
        raise TypeError("fine_tune needs a Pipeline of a CompositionFractionTransformer and a network")
    model = copy.deepcopy(model)
    transformer, regressor = model[0], model[-1]
    members = list(getattr(regressor, "estimators_", [regressor]))
    if not all(isinstance(m, BaseTorchRegressor) for m in members):
        raise TypeError(f"fine_tune continues training networks of this package, not {type(regressor).__name__}")
    Xt = transformer.fractions(X)
    y = np.asarray(y, dtype=np.float64)
    for member in members:
        member.set_params(**params, warm_start=True)
        member.fit(Xt, y, sample_weight=sample_weight)
        member.set_params(warm_start=False)
    transformer.partial_fit(X)
    return model
