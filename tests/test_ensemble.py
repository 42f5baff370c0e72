import threading
import warnings

import numpy as np
import pytest
from joblib import parallel_config
from skorch.callbacks import Callback
from sklearn.exceptions import DataConversionWarning
from sklearn.metrics import mean_absolute_error
from sklearn.pipeline import make_pipeline

from sklearn_hform import (
    CompositionFractionTransformer,
    DeepEnsembleRegressor,
    FormationEnthalpyRegressor,
    UnseenElementWarning,
)

# Compares fits and predictions that rounding could move: run at 1 thread too.
pytestmark = pytest.mark.numerics

MEMBER = dict(max_epochs=5, batch_size=64, lr=1e-2, device="cpu")


@pytest.fixture(scope="module")
def linear_data():
    rng = np.random.default_rng(0)
    X = rng.random((300, 4))
    return X, X @ np.array([1.0, -2.0, 0.5, 0.0])


def make_ensemble(n_estimators=3, random_state=0, **member):
    return DeepEnsembleRegressor(
        FormationEnthalpyRegressor(**{**MEMBER, **member}), n_estimators=n_estimators, random_state=random_state
    )


def test_mean_and_std_are_over_members(linear_data):
    X, y = linear_data
    ens = make_ensemble().fit(X, y)
    assert len(ens.estimators_) == 3 and ens.n_features_in_ == 4
    members = np.stack([m.predict(X) for m in ens.estimators_])
    mean, std = ens.predict(X, return_std=True)
    np.testing.assert_allclose(mean, members.mean(axis=0))
    np.testing.assert_allclose(std, members.std(axis=0))
    np.testing.assert_array_equal(ens.predict(X), mean)
    assert mean.dtype == std.dtype == np.float64 and (std > 0).all()
    # Absolute error is convex: the mean can do no worse than the average member.
    member_mae = np.mean([mean_absolute_error(y, p) for p in members])
    assert mean_absolute_error(y, mean) <= member_mae


def test_members_get_distinct_seeds_and_fits_are_reproducible(linear_data):
    X, y = linear_data
    ens = make_ensemble().fit(X, y)
    seeds = [m.random_state for m in ens.estimators_]
    assert len(set(seeds)) == 3 and all(isinstance(s, int) for s in seeds)
    assert ens.estimator.random_state is None  # the template is left alone
    predictions = [m.predict(X) for m in ens.estimators_]
    assert not np.array_equal(predictions[0], predictions[1])
    np.testing.assert_array_equal(make_ensemble().fit(X, y).predict(X), ens.predict(X))
    assert not np.array_equal(make_ensemble(random_state=1).fit(X, y).predict(X), ens.predict(X))


class MeetOtherMembers(Callback):
    """Waits at the start of training until ``parties`` members have started: only concurrent fits get past it."""

    barrier = None

    def on_train_begin(self, net, **kwargs):
        type(self).barrier.wait(timeout=60)


def test_parallel_fit_runs_members_at_once_and_matches_sequential(linear_data):
    # A callback that does not declare itself stackable sends the members to
    # joblib, one fit each (stacked members would not test n_jobs at all).
    X, y = linear_data
    member = dict(callbacks=[("meet", MeetOtherMembers())])
    MeetOtherMembers.barrier = threading.Barrier(1)  # alone: passes at once
    sequential = make_ensemble(n_estimators=2, **member).fit(X, y)
    assert not hasattr(sequential, "history_")
    # Both members must be training at the same moment, or the barrier
    # times out and the fit fails.
    MeetOtherMembers.barrier = threading.Barrier(2)
    with parallel_config(backend="threading"):
        parallel = make_ensemble(n_estimators=2, **member).set_params(n_jobs=2).fit(X, y)
    assert [m.random_state for m in parallel.estimators_] == [m.random_state for m in sequential.estimators_]
    # Each fit has its own generator: running beside another changes nothing.
    np.testing.assert_array_equal(parallel.predict(X), sequential.predict(X))


def test_default_estimator_and_single_member(linear_data):
    X, y = linear_data
    ens = DeepEnsembleRegressor(n_estimators=1, random_state=0)
    assert ens.estimator is None and ens.n_estimators == 1
    ens.fit(X[:50], y[:50])
    assert type(ens.estimators_[0]) is FormationEnthalpyRegressor
    _, std = ens.predict(X[:5], return_std=True)
    np.testing.assert_array_equal(std, 0.0)


def test_column_y_warns_once(linear_data):
    X, y = linear_data
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        make_ensemble(n_estimators=2, max_epochs=1).fit(X, y.reshape(-1, 1))
    assert sum(issubclass(w.category, DataConversionWarning) for w in caught) == 1


def test_nested_params_and_validation(linear_data):
    X, y = linear_data
    ens = make_ensemble()
    assert ens.get_params()["estimator__max_epochs"] == 5
    ens.set_params(estimator__max_epochs=1, n_estimators=2)
    assert ens.estimator.max_epochs == 1
    with pytest.raises(ValueError, match="n_estimators"):
        make_ensemble(n_estimators=0).fit(X, y)
    with pytest.raises(ValueError, match="4 features"):
        ens.fit(X, y).predict(X[:, :3])


def test_pipeline_warns_on_unseen_element_and_returns_std(oqmd_small):
    X, y, Xte, yte = oqmd_small
    pipe = make_pipeline(CompositionFractionTransformer(), make_ensemble(n_estimators=2, max_epochs=3, batch_size=256))
    pipe.fit(X[:2000], y[:2000])
    # Noble gases are rare in OQMD; some are absent from any small subset.
    unseen = next(e for e in ["He", "Ne", "Ar", "Kr", "Rn"] if e not in pipe[0].elements_seen_)
    with pytest.warns(UnseenElementWarning, match=unseen):
        mean, std = pipe.predict([f"{unseen}F2", "NaCl"], return_std=True)
    assert mean.shape == std.shape == (2,)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UnseenElementWarning)
        pipe.predict(["NaCl", "Fe2O3"])  # seen elements: no warning


def test_warm_start_grows_the_members_of_one_fit(linear_data):
    from skorch.callbacks import Callback

    X, y = linear_data
    # A callback keeps the members out of the stacked path, so that one fit
    # and the grown ensemble train each member by the same arithmetic.
    member = dict(callbacks=[("noop", Callback())])
    whole = make_ensemble(n_estimators=3, **member).fit(X, y)
    grown = make_ensemble(n_estimators=1, **member).set_params(warm_start=True).fit(X, y)
    first = grown.estimators_[0]
    grown.set_params(n_estimators=3).fit(X, y)
    assert grown.estimators_[0] is first  # kept, not refitted
    assert [m.random_state for m in grown.estimators_] == [m.random_state for m in whole.estimators_]
    np.testing.assert_array_equal(grown.predict(X), whole.predict(X))
    with pytest.warns(UserWarning, match="fits no new member"):
        grown.fit(X, y)
    with pytest.raises(ValueError, match="must be at least len"):
        grown.set_params(n_estimators=2).fit(X, y)
    with pytest.raises(ValueError, match="the members take 4 features"):
        grown.set_params(n_estimators=4).fit(X[:, :3], y)
    assert grown.n_features_in_ == 4
