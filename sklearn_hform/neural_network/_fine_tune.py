"""Fine-tuning: continue training a fitted model (a pretrained one, say) on your own, smaller data.

This is ElemNet's transfer-learning use: a network that has learnt the
chemistry of OQMD's 300,000 compounds starts closer to a good fit of a
small data set than random weights do.
"""

import copy
import warnings

import numpy as np
from sklearn.utils import check_random_state

__all__ = ["fine_tune"]


def fine_tune(model, X, y, *, sample_weight=None, members=None, **params):
    """A copy of ``model`` whose networks continued training on ``X``, ``y``.

    Every network of the model (each member of an ensemble, or those in
    ``members``) is refitted
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
    members : sequence of int or None, default=None
        For an ensemble: the positions of the members to continue (the
        others are kept as they are), e.g. one at a time to save progress
        in between. Default: every member.
    **params
        Training parameters for the continued fit, e.g. ``max_epochs=50,
        lr=3e-4``; the networks keep their other parameters. For an
        ensemble, ``random_state`` seeds the members as
        :class:`~sklearn_hform.DeepEnsembleRegressor` does: member ``k`` gets
        the ``k``-th seed drawn from it (whichever ``members`` are
        continued), so no two members shuffle alike.

    Returns
    -------
    Pipeline
        Fitted. Its transformer counts the elements of ``X`` as seen. A
        calibrated ensemble comes back uncalibrated: its ``calibration_``
        described the networks before this fit, so ``predict(...,
        return_std=True)`` gives the members' raw spread until
        ``calibrate`` is called again on held-out rows.

    Raises
    ------
    FormulaError
        If a formula of ``X`` cannot be read (nothing is trained).
    ValueError
        For a target or weight that is not finite, unknown ``params``, or a
        position in ``members`` that the model does not have.

    Warns
    -----
    UserWarning
        When the calibration of an ensemble is dropped.
    """
    from ..composition._fraction_transformer import CompositionFractionTransformer
    from ._base import BaseTorchRegressor

    if not (hasattr(model, "steps") and len(model) == 2 and isinstance(model[0], CompositionFractionTransformer)):
        raise TypeError("fine_tune needs a Pipeline of a CompositionFractionTransformer and a network")
    model = copy.deepcopy(model)
    transformer, regressor = model[0], model[-1]
    networks = list(getattr(regressor, "estimators_", [regressor]))
    if not all(isinstance(m, BaseTorchRegressor) for m in networks):
        raise TypeError(f"fine_tune continues training networks of this package, not {type(regressor).__name__}")
    positions = range(len(networks)) if members is None else list(members)
    if not all(isinstance(k, (int, np.integer)) and 0 <= k < len(networks) for k in positions):
        raise ValueError(f"members must be positions among the model's {len(networks)} networks, got {members!r}")
    Xt = transformer.fractions(X)
    y = np.asarray(y, dtype=np.float64)
    seeds = None
    if "random_state" in params and len(networks) > 1:
        # One random_state on every member would give them all the same shuffles.
        rng = check_random_state(params["random_state"])
        seeds = [int(rng.randint(np.iinfo(np.int32).max)) for _ in networks]
    for k in positions:
        member = networks[k]
        member.set_params(**params, warm_start=True)
        if seeds is not None:
            member.set_params(random_state=seeds[k])
        member.fit(Xt, y, sample_weight=sample_weight)
        member.set_params(warm_start=False)
    transformer.partial_fit(X)
    if len(positions) and hasattr(regressor, "calibration_"):
        del regressor.calibration_
        warnings.warn(
            "fine_tune dropped the ensemble's calibration, which described its networks before this fit: "
            "predict(return_std=True) now gives the members' raw spread until calibrate(X_held_out, y) "
            "is called again", UserWarning, stacklevel=2,
        )
    return model
