"""``check_network_estimator``: what a network of another package must pass to work with this one."""

import contextlib
import importlib
import io
import tempfile
from pathlib import Path

import numpy as np

from .._training._capabilities import module_capability
from ..composition._fraction_transformer import CompositionFractionTransformer
from ..datasets._oqmd import load_oqmd_hform
from ..ensemble._deep_ensemble import DeepEnsembleRegressor
from ..neural_network._base import BaseTorchRegressor
from ..persistence._folder import load_model, save_model
from ..persistence._registry import load_network_entry_point, network_entry_points, registered_name
from ._expected_failures import expected_failed_checks

__all__ = ["check_network_estimator"]


def _cli_network_name(cls):
    """The name ``hform train --network`` knows ``cls`` by, or None."""
    from ..cli.train import BUILTIN_NETWORKS

    where = f"{cls.__module__}:{cls.__qualname__}"
    for name, target in {**BUILTIN_NETWORKS, **network_entry_points()}.items():
        if target == where:
            return name
        module, _, attribute = target.partition(":")
        try:
            # An entry point may name a re-export of the class rather than its home.
            found = (getattr(importlib.import_module(module), attribute) if name in BUILTIN_NETWORKS
                     else load_network_entry_point(name))
        except (ImportError, AttributeError, ValueError):
            continue
        if found is cls:
            return name
    return None


def _check_cli_training(estimator, name, X, y):
    """Step 5: ``hform train --network name`` trains a saved, loadable two-member ensemble."""
    import pandas as pd

    from ..cli import main

    params = estimator.get_params()
    with tempfile.TemporaryDirectory() as folder:
        data, out = Path(folder) / "data.csv", Path(folder) / "model"
        pd.DataFrame({"formula": np.ravel(X), "formation_enthalpy": y}).to_csv(data, index=False)
        argv = ["train", str(data), "--target", "formation_enthalpy", "-o", str(out), "--network", name,
                "--epochs", "1", "--batch-size", str(params["batch_size"]), "--ensemble", "2",
                "--device", params["device"], "-q"]
        said = io.StringIO()
        with contextlib.redirect_stdout(said), contextlib.redirect_stderr(said):
            status = main(argv)
        if status != 0:
            raise AssertionError(f"hform {' '.join(argv[:1] + argv[6:])} exits {status}:\n{said.getvalue()}")
        members = load_model(out)[-1].estimators_
        if not all(type(m) is type(estimator) for m in members):
            raise AssertionError(f"hform train --network {name} saved {[type(m).__name__ for m in members]}, "
                                 f"not {type(estimator).__name__}")


def check_network_estimator(estimator, *, n_rows=300, cli_network="auto"):
    """Check that a network estimator trains, stacks, saves and loads as the package's own do.

    Runs, in order:

    1. scikit-learn's common checks
       (:func:`sklearn.utils.estimator_checks.check_estimator`), with the
       expected failures of its capabilities
       (:func:`expected_failed_checks`, the table the package's own tests
       use);
    2. a fit on ``n_rows`` formulas of the bundled OQMD data, in a pipeline
       after :class:`~sklearn_hform.composition.CompositionFractionTransformer`,
       whose predictions must be finite;
    3. a :class:`~sklearn_hform.DeepEnsembleRegressor` of two of it, which
       must be trained as one stacked model exactly when its module declares
       ``vmap_safe``;
    4. a :func:`~sklearn_hform.persistence.save_model` /
       :func:`~sklearn_hform.persistence.load_model` round trip of both
       fitted models, which must predict identically;
    5. ``hform train --network NAME`` on the same rows (one epoch, two
       members, the estimator's ``batch_size`` and ``device``), whose saved
       model must load as an ensemble of the estimator's class. ``NAME`` is
       the name the command knows the class by: a built-in network, or an
       entry point of the group ``sklearn_hform.networks`` that an
       installed package declares.

    Every fit is as long as the estimator's own parameters say: pass a
    small instance (a narrow network, a few epochs, ``device="cpu"``).

    Parameters
    ----------
    estimator : BaseTorchRegressor subclass or instance
        The network to check; a class is instantiated with its defaults.
        It is cloned, never fitted in place.
    n_rows : int, default=300
        Rows of the bundled data used by the fits of steps 2 to 5.
    cli_network : str, "auto" or None, default="auto"
        The ``--network`` name of step 5. ``"auto"`` looks the class up
        among the built-in networks and the installed entry points and
        skips the step when it is offered by neither (a class defined in a
        test, say); ``None`` skips it.

    Returns
    -------
    None

    Raises
    ------
    ValueError
        ``estimator`` is no network of this package's trainer, or its class
        is not registered (:func:`~sklearn_hform.persistence.register_estimator`),
        or ``cli_network`` names no network ``hform train`` knows.
    AssertionError
        A step failed; the message names the step and what went wrong.

    Examples
    --------
    >>> from sklearn_hform.estimator_checks import check_network_estimator
    >>> from sklearn_hform import FormationEnthalpyRegressor
    >>> check_network_estimator(FormationEnthalpyRegressor(
    ...     hidden_layer_sizes=(8,), max_epochs=2, device="cpu"))  # doctest: +SKIP
    """
    from sklearn.base import clone
    from sklearn.pipeline import make_pipeline
    from sklearn.utils.estimator_checks import check_estimator

    if isinstance(estimator, type):
        estimator = estimator()
    if not isinstance(estimator, BaseTorchRegressor):
        raise ValueError(f"check_network_estimator checks subclasses of BaseTorchRegressor, "
                         f"got {type(estimator).__name__}")
    try:
        registered_name(estimator)
    except TypeError as exc:
        # Told before minutes of checks, not after: saving is the last step.
        raise ValueError(str(exc)) from None
    name = type(estimator).__name__
    if cli_network == "auto":
        cli_network = _cli_network_name(type(estimator))
    elif cli_network is not None:
        from ..cli.train import BUILTIN_NETWORKS

        if cli_network not in BUILTIN_NETWORKS and cli_network not in network_entry_points():
            raise ValueError(f"cli_network={cli_network!r}: hform train knows no such network; built in: "
                             f"{', '.join(BUILTIN_NETWORKS)}; installed: "
                             f"{', '.join(sorted(network_entry_points())) or 'none'}")

    results = check_estimator(clone(estimator), expected_failed_checks=expected_failed_checks(estimator),
                              on_fail=None, on_skip=None)
    failed = [r for r in results if r["status"] == "failed"]
    if failed:
        lines = "\n".join(f"  {r['check_name']}: {type(r['exception']).__name__}: {r['exception']}" for r in failed)
        raise AssertionError(f"{name} fails {len(failed)} of scikit-learn's common checks:\n{lines}")

    X, y = load_oqmd_hform(split="train", return_X_y=True)
    X, y = X[:n_rows].to_numpy(dtype=object), y[:n_rows].to_numpy(dtype=np.float64)

    single = make_pipeline(CompositionFractionTransformer(), clone(estimator)).fit(X, y)
    predicted = single.predict(X)
    if predicted.shape != (len(X),) or not np.all(np.isfinite(predicted)):
        raise AssertionError(f"{name} fitted on {len(X)} formulas predicts an array of shape {predicted.shape} "
                             f"with {np.sum(~np.isfinite(predicted))} non-finite value(s); "
                             f"expected ({len(X)},), all finite")

    n_features = single[0].transform(X[:1]).shape[1]
    vmap_safe = module_capability(estimator.fresh_module(n_features), "vmap_safe")
    ensemble = make_pipeline(CompositionFractionTransformer(), DeepEnsembleRegressor(clone(estimator), n_estimators=2,
                                                                                   random_state=0))
    try:
        ensemble.fit(X, y)
    except Exception as exc:
        where = "stacked (its module declares vmap_safe)" if vmap_safe else "one member at a time"
        raise AssertionError(f"a DeepEnsembleRegressor of two {name} fails to train {where}: "
                             f"{type(exc).__name__}: {exc}") from exc
    # history_ is set by the stacked path alone.
    stacked = hasattr(ensemble[-1], "history_")
    if stacked != vmap_safe:
        raise AssertionError(
            f"a DeepEnsembleRegressor of two {name} was {'' if stacked else 'not '}trained as one stacked model, "
            f"but its module declares vmap_safe={vmap_safe}"
            + ("" if stacked else "; can_stack refuses it: does the class override fit or build_net, or do its "
               "parameters ask for a validation split, a warm start or callbacks that are not stackable?"))

    with tempfile.TemporaryDirectory() as folder:
        for what, model in (("the fitted pipeline", single), ("the fitted ensemble", ensemble)):
            path = f"{folder}/{what.split()[-1]}"
            save_model(model, path)
            loaded = load_model(path)
            before, after = model.predict(X), loaded.predict(X)
            if not np.array_equal(before, after):
                raise AssertionError(f"{what} of {name} predicts differently after save_model and load_model: "
                                     f"max |diff| {np.max(np.abs(before - after)):.3g}")

    if cli_network is not None:
        _check_cli_training(estimator, cli_network, X, y)
