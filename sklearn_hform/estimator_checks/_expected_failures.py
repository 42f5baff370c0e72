"""The scikit-learn checks an estimator is expected to fail, chosen by what it does, not by its name."""

from ..neural_network._base import BaseTorchRegressor

__all__ = ["CAPABILITY_FAILURES", "expected_failed_checks", "trains_by_weighted_sgd"]


def trains_by_weighted_sgd(estimator):
    """Whether ``estimator`` fits by minibatch SGD on sample-weighted losses.

    True for a network of the package's trainer (a subclass of
    :class:`~sklearn_hform.neural_network.BaseTorchRegressor`, whatever its
    name) and for an estimator whose ``estimator`` parameter is one (an
    ensemble of them).

    Parameters
    ----------
    estimator : estimator instance

    Returns
    -------
    bool
    """
    if isinstance(estimator, BaseTorchRegressor):
        return True
    inner = estimator.get_params(deep=False).get("estimator")
    return inner is not None and trains_by_weighted_sgd(inner)


#: ``(capability, checks, reason)`` triples: an estimator for which
#: ``capability(estimator)`` is true is expected to fail each of ``checks``,
#: for ``reason``. Expected failures follow from what an estimator does, so
#: a network of a third party, under any name, gets the same ones.
CAPABILITY_FAILURES = [
    (trains_by_weighted_sgd, ("check_sample_weight_equivalence_on_dense_data",),
     "stochastic gradient descent visits a row of weight 2 once per epoch with a doubled loss, "
     "not twice with the same loss: the fits differ as any two SGD runs do"),
]


def expected_failed_checks(estimator):
    """The checks ``estimator`` is expected to fail, each with its reason, from its capabilities.

    The form scikit-learn's ``check_estimator`` and
    ``parametrize_with_checks`` take as ``expected_failed_checks``.

    Parameters
    ----------
    estimator : estimator instance

    Returns
    -------
    dict of str to str
        Check name to the reason it fails.
    """
    return {check: reason for applies, checks, reason in CAPABILITY_FAILURES if applies(estimator) for check in checks}
