"""The own-data recipe: a model of your composition data, its settings chosen from the data and a time budget.

:func:`train_own_data` fine-tunes the shipped ``best`` ensemble on your
rows (transfer) or trains an ensemble of composition transformers from
random weights (scratch), and returns the fitted Pipeline with a report of
what it chose and why. The choices, from the data's size:

* **start**: transfer up to 100,000 rows, where OQMD's chemistry is worth
  more than what a fresh network can learn in CPU time; scratch above.
* **held-out rows**: 10 % (at least 100) of the chemical systems are kept
  out of training to calibrate the std and conformal intervals of the
  model against *your* errors, and to report its error on them; below 334
  rows there are too few, and the model comes back uncalibrated.
* **early stopping**: from 2,000 training rows, each network keeps 10 % of
  its rows as a validation split and stops after 5 epochs (10 from
  scratch) without improvement, keeping its best epoch; below that the
  epochs are fixed (20 for transfer: the experimental recipe, chosen by
  grouped cross-validation).
* **epochs and ensemble size** from ``budget``: one epoch of one network is
  timed, and the number of epochs (and, if even a few epochs of four
  networks do not fit, of networks) is set so that the whole fit ends
  within the budget. Without a budget: 4 networks, up to 60 epochs
  (transfer) or 100 (scratch).
* **learning rate**: 2e-4 for transfer (the pretrained weights are a good
  start, not noise to forget; all layers adapt), the transformer's own for
  scratch.
"""

import re
import time

import numpy as np

__all__ = ["parse_budget", "train_own_data"]

#: Rows up to which the recipe fine-tunes ``best`` rather than training from scratch.
TRANSFER_MAX_ROWS = 100_000
# Training rows from which the networks early-stop on a validation split of their own.
_EARLY_STOPPING_ROWS = 2_000
# Fewest held-out rows a calibration takes (ensemble.fit_calibration).
_MIN_CALIBRATION_ROWS = 100
_UNITS = {"s": 1, "sec": 1, "min": 60, "m": 60, "h": 3600, "hour": 3600}


def parse_budget(text):
    """Seconds in a time budget written ``"30min"``, ``"2h"``, ``"90s"`` or ``"600"`` (seconds).

    Raises
    ------
    ValueError
        For anything else, or a budget that is not positive.
    """
    match = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)\s*(s|sec|m|min|h|hour)?\s*", str(text))
    if not match:
        raise ValueError(f"a budget is a number with s, min or h, e.g. 30min; got {text!r}")
    seconds = float(match.group(1)) * _UNITS[match.group(2) or "s"]
    if seconds <= 0:
        raise ValueError(f"a budget must be positive, got {text!r}")
    return seconds


def _systems(formulas):
    """The chemical system of each formula; the first unreadable one is an error naming its row."""
    from .composition._formula import chemical_system

    systems = []
    for i, f in enumerate(formulas):
        try:
            systems.append(chemical_system(str(f)))
        except ValueError as exc:
            raise ValueError(f"row {i}: {f!r} is not a formula: {exc}") from None
    return np.array(systems)


def _held_out_share(n):
    if n < 3 * _MIN_CALIBRATION_ROWS + 34:
        return 0.0
    return max(0.1, _MIN_CALIBRATION_ROWS / n)


def train_own_data(X, y, *, start="auto", budget=None, random_state=0, device="cpu", log=None):
    """Fit a model of your data with settings chosen from its size and a time budget.

    Parameters
    ----------
    X : array-like of shape (n_samples,)
        Formulas.
    y : array-like of shape (n_samples,)
        The property, in its own units (a formation energy in eV/atom is
        where transfer from ``best`` helps most).
    start : {"auto", "transfer", "scratch"}, default="auto"
        ``"transfer"`` fine-tunes ``best``; ``"scratch"`` trains new
        networks; ``"auto"`` chooses by size (see the module description).
    budget : float, str or None, default=None
        Seconds (or ``"30min"``, see :func:`parse_budget`) the whole fit may
        take; ``None``: no limit.
    random_state : int, default=0
    device : str, default="cpu"
    log : callable or None, default=None
        Called with one line of text per step (e.g. ``print``).

    Returns
    -------
    model : Pipeline
        Fitted, formulas in; ``predict(X, return_std=True)`` and, when
        calibrated, :func:`~sklearn_hform.ensemble.predict_interval`.
    report : dict
        What was chosen and why, the time taken and the error on the
        held-out rows.
    """
    from sklearn.model_selection import GroupShuffleSplit

    t0 = time.perf_counter()
    say = log or (lambda line: None)
    X = np.asarray(X, dtype=object).reshape(-1)
    y = np.asarray(y, dtype=np.float64).reshape(-1)
    if len(X) != len(y):
        raise ValueError(f"X has {len(X)} rows but y has {len(y)}")
    if not np.isfinite(y).all():
        raise ValueError(f"y must be finite; row {int(np.flatnonzero(~np.isfinite(y))[0])} is not")
    if start not in ("auto", "transfer", "scratch"):
        raise ValueError(f"start must be 'auto', 'transfer' or 'scratch', got {start!r}")
    seconds = None if budget is None else (parse_budget(budget) if isinstance(budget, str) else float(budget))
    if seconds is not None and not seconds > 0:
        raise ValueError(f"budget must be positive, got {budget!r}")
    n = len(y)
    if n < 50:
        raise ValueError(f"{n} rows are too few to train on; the recipe needs at least 50")
    report = {"rows": n, "budget_seconds": seconds}
    if start == "auto":
        start = "transfer" if n <= TRANSFER_MAX_ROWS else "scratch"
        report["start_reason"] = (f"{n:,} rows <= {TRANSFER_MAX_ROWS:,}: OQMD's chemistry helps" if start == "transfer"
                                  else f"{n:,} rows > {TRANSFER_MAX_ROWS:,}: enough to learn from scratch")
    report["start"] = start

    share = _held_out_share(n)
    systems = _systems(X)
    if share:
        train, held = next(GroupShuffleSplit(n_splits=1, test_size=share, random_state=random_state)
                           .split(X, y, systems))
        if len(held) < _MIN_CALIBRATION_ROWS:
            train, held = np.arange(n), np.array([], dtype=int)
    else:
        train, held = np.arange(n), np.array([], dtype=int)
    report["held_out_rows"] = int(len(held))
    report["train_rows"] = int(len(train))
    early = len(train) >= _EARLY_STOPPING_ROWS
    say(f"{n:,} rows: {start} ({report.get('start_reason', 'as asked')}); {len(held):,} rows of other chemical "
        f"systems held out to calibrate and score; early stopping {'on' if early else 'off'}")

    fit = _transfer if start == "transfer" else _scratch
    model = fit(X[train], y[train], early, seconds, t0, random_state, device, report, say)
    if len(held):
        fractions = model[0].transform(list(X[held]))
        mean = model[-1].predict(fractions)
        report["held_out_mae"] = float(np.mean(np.abs(mean - y[held])))
        model[-1].calibrate(fractions, y[held], error_model="auto")
        report["calibrated_on"] = int(len(held))
        say(f"held-out MAE {report['held_out_mae']:.4f}; std and intervals calibrated on {len(held):,} held-out rows")
    report["seconds"] = round(time.perf_counter() - t0, 1)
    say(f"done in {report['seconds']:.0f} s" + ("" if seconds is None else f" (budget {seconds:.0f} s)"))
    return model, report


def _plan(epoch_seconds, left, members, cap, floor_epochs):
    """Networks and epochs that fit in ``left`` seconds at ``epoch_seconds`` per network-epoch."""
    if left is None:
        return members, cap
    affordable = int(0.9 * left / epoch_seconds)  # 10 % kept for predicting, calibrating and saving
    while members > 1 and affordable // members < floor_epochs:
        members -= 1
    return members, max(1, min(cap, affordable // members))


def _transfer(X, y, early, budget, t0, seed, device, report, say):
    import warnings

    from .neural_network._fine_tune import fine_tune
    from .pretrained import load_pretrained

    model = load_pretrained("best")
    ensemble = model[-1]
    params = dict(lr=2e-4, device=device)
    if early:
        params.update(validation_fraction=0.1, n_iter_no_change=5)
    with warnings.catch_warnings():
        # The recipe calibrates the fine-tuned ensemble itself, on its held-out rows.
        warnings.filterwarnings("ignore", message="fine_tune dropped the ensemble's calibration")
        probe_start = time.perf_counter()
        fine_tune(model, list(X), y, members=[0], max_epochs=1, random_state=seed, **params)
        epoch_seconds = time.perf_counter() - probe_start
        left = None if budget is None else budget - (time.perf_counter() - t0)
        members, epochs = _plan(epoch_seconds, left, len(ensemble.estimators_), 60 if early else 20, 3)
        if members < len(ensemble.estimators_):
            ensemble.estimators_ = ensemble.estimators_[:members]
            ensemble.n_estimators = members
        report.update(members=members, max_epochs=epochs, lr=params["lr"], layers_adapted="all",
                      epoch_seconds=round(epoch_seconds, 2),
                      early_stopping="validation 10 %, patience 5" if early else "off (fixed epochs)")
        say(f"fine-tuning {members} network(s) of best, all layers, up to {epochs} epochs at lr 2e-4 "
            f"(one epoch of one network: {epoch_seconds:.1f} s)")
        return fine_tune(model, list(X), y, max_epochs=epochs, random_state=seed, **params)


def _scratch(X, y, early, budget, t0, seed, device, report, say):
    from sklearn.base import clone
    from sklearn.pipeline import make_pipeline

    from .composition._fraction_transformer import CompositionFractionTransformer
    from .ensemble._deep_ensemble import DeepEnsembleRegressor
    from .neural_network._attention import CompositionTransformerRegressor

    network = CompositionTransformerRegressor(element_embedding="magpie", device=device, random_state=seed)
    if early:
        network.set_params(validation_fraction=0.1, n_iter_no_change=10)
    fractions = CompositionFractionTransformer().fit(list(X))
    Xt = fractions.transform(list(X))
    probe_start = time.perf_counter()
    clone(network).set_params(max_epochs=1).fit(Xt, y)
    epoch_seconds = time.perf_counter() - probe_start
    left = None if budget is None else budget - (time.perf_counter() - t0)
    members, epochs = _plan(epoch_seconds, left, 4, 100, 10)
    network.set_params(max_epochs=epochs)
    report.update(members=members, max_epochs=epochs, lr=network.lr, layers_adapted="all (new network)",
                  epoch_seconds=round(epoch_seconds, 2),
                  early_stopping="validation 10 %, patience 10" if early else "off (fixed epochs)")
    say(f"training {members} composition transformer(s) from scratch, up to {epochs} epochs "
        f"(one epoch of one network: {epoch_seconds:.1f} s)")
    ensemble = DeepEnsembleRegressor(network, n_estimators=members, random_state=seed)
    return make_pipeline(fractions, ensemble.fit(Xt, y))

