"""Many networks as one: stacked fits against separate fits, ensembles, fold-parallel cross-validation."""

import warnings

import numpy as np
import pytest
from sklearn import model_selection as sk
from sklearn.base import clone
from sklearn.linear_model import Ridge
from sklearn.pipeline import make_pipeline

from sklearn_hform import (CompositionFractionTransformer, CompositionTransformerRegressor, DeepEnsembleRegressor,
                           FormationEnthalpyRegressor, load_model, model_selection, save_model)
from sklearn_hform.neural_network import can_stack, fit_stacked

pytestmark = pytest.mark.numerics

FAST = dict(hidden_layer_sizes=(32, 32, 16), batch_size=128, device="cpu")


@pytest.fixture(scope="module")
def fractions(oqmd_small):
    X, y, Xte, yte = oqmd_small
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t = CompositionFractionTransformer().fit(X)
        return t.transform(X[:2000]), np.asarray(y[:2000]), t.transform(Xte[:500]), np.asarray(yte[:500])


def _members(n, **kw):
    return [FormationEnthalpyRegressor(random_state=i, **{**FAST, **kw}) for i in range(n)]


def test_stacked_fit_equals_separate_fits(fractions):
    # One epoch: the same initial weights, shuffles and updates; only the
    # rounding of batched matrix products differs.
    X, y, Xte, _ = fractions
    rng = np.random.default_rng(0)
    sets = [np.sort(rng.choice(len(y), 1800, replace=False)) for _ in range(3)]
    sets[2] = sets[2][:1500]  # fewer batches: inactive in the last steps of each epoch
    members, net = fit_stacked(_members(3, max_epochs=1, lr_schedule="constant"), X, y, sets)
    alone = [FormationEnthalpyRegressor(random_state=i, max_epochs=1, lr_schedule="constant", **FAST).fit(X[rows], y[rows])
             for i, rows in enumerate(sets)]
    # Two seeds give fits about 0.8 eV/atom apart here; the same seed, stacked
    # or not, must agree a thousand times better than that (float32 rounding
    # of batched products over 15 steps measures ~1e-7).
    seeds_apart = np.max(np.abs(alone[0].predict(Xte) - alone[1].predict(Xte)))
    assert seeds_apart > 0.1
    for i in range(3):
        assert np.max(np.abs(members[i].predict(Xte) - alone[i].predict(Xte))) < 1e-3 * seeds_apart
        # The loss of one epoch is a mean of float32 batch losses: rounding
        # (measured ~1e-8 relative) is far within 1e-4.
        assert net.history[-1, "train_member_loss"][i] == pytest.approx(alone[i].net_.history[-1, "train_loss"],
                                                                         rel=1e-4)


def test_stacked_fit_matches_separate_fits_in_accuracy(fractions):
    # Over many epochs rounding differences grow chaotically; the fits
    # stay equally good.
    X, y, Xte, yte = fractions
    stacked, _ = fit_stacked(_members(3, max_epochs=15), X, y, [np.arange(len(y))] * 3)
    separate = [m.fit(X, y) for m in _members(3, max_epochs=15)]
    mae = [np.mean(np.abs(m.predict(Xte) - yte)) for m in stacked + separate]
    assert max(mae[:3]) < 1.25 * min(mae[3:]) and max(mae[3:]) < 1.25 * min(mae[:3])


def test_sample_weights_and_zero_weight_rows(fractions):
    X, y, Xte, _ = fractions
    w = np.ones(len(y))
    w[:500] = 0  # left out entirely, as in a separate fit
    w[500:1000] = 3
    members, _ = fit_stacked(_members(2, max_epochs=1, lr_schedule="constant"), X, y, [np.arange(len(y))] * 2, w)
    alone = FormationEnthalpyRegressor(random_state=1, max_epochs=1, lr_schedule="constant", **FAST)
    alone.fit(X, y, sample_weight=w)
    unweighted = FormationEnthalpyRegressor(random_state=1, max_epochs=1, lr_schedule="constant", **FAST).fit(X, y)
    # The same weighted fit up to float32 rounding: a thousand times closer
    # than the same seed without the weights.
    weights_apart = np.max(np.abs(unweighted.predict(Xte) - alone.predict(Xte)))
    assert weights_apart > 0.01
    assert np.max(np.abs(members[1].predict(Xte) - alone.predict(Xte))) < 1e-3 * weights_apart


def test_what_can_be_stacked(fractions):
    X = fractions[0]
    assert can_stack(_members(3), X.shape[1])
    assert not can_stack(_members(1), X.shape[1])
    assert not can_stack(_members(2) + [FormationEnthalpyRegressor(lr=0.1, **FAST)], X.shape[1])
    assert not can_stack(_members(2, validation_fraction=0.1), X.shape[1])
    attention = [CompositionTransformerRegressor(d_model=8, n_heads=2, random_state=i) for i in range(2)]
    assert not can_stack(attention, X.shape[1])  # its token count depends on the batch
    with pytest.raises(ValueError, match="cannot be trained as one stacked model"):
        fit_stacked(attention, X, fractions[1], [np.arange(10)] * 2)
    with pytest.raises(ValueError, match="index set must list rows"):
        fit_stacked(_members(2), X, fractions[1], [np.arange(10), np.array([len(X)])])


def test_ensemble_members_are_stacked_and_separable(fractions, tmp_path):
    X, y, Xte, yte = fractions
    ens = DeepEnsembleRegressor(FormationEnthalpyRegressor(max_epochs=8, **FAST), n_estimators=3, random_state=0)
    ens.fit(X, y)
    assert len(ens.history_) == 8 and len(ens.history_[-1, "train_member_loss"]) == 3
    # The same ensemble trained member by member (a callback opts out of stacking).
    from skorch.callbacks import Callback

    slow = DeepEnsembleRegressor(FormationEnthalpyRegressor(max_epochs=8, callbacks=[("noop", Callback())], **FAST),
                                 n_estimators=3, random_state=0).fit(X, y)
    assert not hasattr(slow, "history_")
    mae_stacked = np.mean(np.abs(ens.predict(Xte) - yte))
    mae_separate = np.mean(np.abs(slow.predict(Xte) - yte))
    assert abs(mae_stacked - mae_separate) < 0.15 * mae_separate
    mean, std = ens.predict(Xte, return_std=True)
    assert std.shape == mean.shape and np.all(std > 0)
    # Each member is an ordinary fitted estimator: it predicts and saves alone.
    member = ens.estimators_[1]
    save_model(member, tmp_path / "member")
    np.testing.assert_array_equal(load_model(tmp_path / "member").predict(Xte), member.predict(Xte))
    save_model(ens, tmp_path / "ens")
    np.testing.assert_array_equal(load_model(tmp_path / "ens").predict(Xte), ens.predict(Xte))


@pytest.mark.filterwarnings("ignore::sklearn_hform.UnseenElementWarning")
def test_cross_val_predict_agrees_with_scikit_learn(oqmd_small):
    X, y = oqmd_small[0][:2000], oqmd_small[1][:2000]
    pipe = make_pipeline(CompositionFractionTransformer(),
                         FormationEnthalpyRegressor(max_epochs=2, lr_schedule="constant", random_state=0, **FAST))
    cv = sk.KFold(4, shuffle=True, random_state=0)
    ours = model_selection.cross_val_predict(pipe, X, y, cv=cv)
    theirs = sk.cross_val_predict(pipe, X, y, cv=cv)
    other_seed = sk.cross_val_predict(clone(pipe).set_params(formationenthalpyregressor__random_state=1), X, y, cv=cv)
    # The same folds and seeds, stacked or one by one: equal up to float32
    # rounding, a thousand times closer than another seed's predictions.
    seeds_apart = np.max(np.abs(theirs - other_seed))
    assert seeds_apart > 0.1
    assert np.max(np.abs(ours - theirs)) < 1e-3 * seeds_apart


@pytest.mark.filterwarnings("ignore::sklearn_hform.UnseenElementWarning")
def test_cross_validate_returns_what_scikit_learn_returns(oqmd_small, tmp_path):
    X, y = oqmd_small[0][:2000], oqmd_small[1][:2000]
    pipe = make_pipeline(CompositionFractionTransformer(),
                         FormationEnthalpyRegressor(max_epochs=2, lr_schedule="constant", random_state=0, **FAST))
    args = dict(cv=3, scoring=["neg_mean_absolute_error", "r2"], return_train_score=True, return_estimator=True,
                return_indices=True)
    ours = model_selection.cross_validate(pipe, X, y, **args)
    theirs = sk.cross_validate(pipe, X, y, **args)
    assert sorted(ours) == sorted(theirs)
    for key in ("test_neg_mean_absolute_error", "test_r2", "train_r2"):
        # Scores of the same fits up to float32 rounding: ~1e-7 per
        # prediction moves an MAE or an R2 by far less than 1e-4.
        np.testing.assert_allclose(ours[key], theirs[key], atol=1e-4)
    for a, b in zip(ours["indices"]["test"], theirs["indices"]["test"]):
        np.testing.assert_array_equal(a, b)
    fold = ours["estimator"][2]
    save_model(fold, tmp_path)
    np.testing.assert_array_equal(load_model(tmp_path).predict(X[:50]), fold.predict(X[:50]))
    scores = model_selection.cross_val_score(pipe, X, y, cv=3, scoring="neg_mean_absolute_error")
    np.testing.assert_allclose(scores, ours["test_neg_mean_absolute_error"])


def test_other_estimators_are_handed_to_scikit_learn(fractions):
    X, y = fractions[0], fractions[1]
    np.testing.assert_array_equal(model_selection.cross_val_predict(Ridge(), X, y, cv=3),
                                  sk.cross_val_predict(Ridge(), X, y, cv=3))
    ours = model_selection.cross_validate(Ridge(), X, y, cv=3)["test_score"]
    np.testing.assert_array_equal(ours, sk.cross_validate(Ridge(), X, y, cv=3)["test_score"])


def test_cross_val_predict_needs_a_partition(fractions):
    X, y = fractions[0], fractions[1]
    cv = sk.ShuffleSplit(3, test_size=0.2, random_state=0)
    with pytest.raises(ValueError, match="partitions"):
        model_selection.cross_val_predict(FormationEnthalpyRegressor(max_epochs=1, **FAST), X, y, cv=cv)


def _fallback_messages(record):
    return [str(w.message) for w in record if "not as one stacked model" in str(w.message)]


def test_stacked_cross_validation_warns_of_nothing(fractions):
    X, y = fractions[0][:300], fractions[1][:300]
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        model_selection.cross_val_predict(FormationEnthalpyRegressor(max_epochs=1, **FAST), X, y, cv=2)
        model_selection.cross_validate(FormationEnthalpyRegressor(max_epochs=1, **FAST), X, y, cv=2)
        model_selection.cross_validate(Ridge(), X, y, cv=2)  # not a network: no stacked path to miss
    assert _fallback_messages(record) == []


def test_a_declined_stacked_path_says_why(fractions):
    X, y = fractions[0][:300], fractions[1][:300]
    est = FormationEnthalpyRegressor(max_epochs=1, validation_fraction=0.2, random_state=0, **FAST)
    with pytest.warns(UserWarning, match="can_stack refuses these FormationEnthalpyRegressor settings"):
        ours = model_selection.cross_val_predict(est, X, y, cv=2)
    np.testing.assert_allclose(ours, sk.cross_val_predict(est, X, y, cv=2), atol=1e-6)
    one_fold = [(np.arange(200), np.arange(200, 300))]
    with pytest.warns(UserWarning, match="the splitter gave 1 fold"):
        model_selection.cross_validate(est, X, y, cv=one_fold)


def test_a_one_shot_cv_still_reaches_scikit_learn(fractions):
    # The stacked path reads the splits before it declines; scikit-learn must still get them all.
    X, y = fractions[0][:300], fractions[1][:300]
    est = FormationEnthalpyRegressor(max_epochs=1, validation_fraction=0.2, random_state=0, **FAST)
    splits = list(sk.KFold(2).split(X))
    with pytest.warns(UserWarning, match="can_stack"):
        ours = model_selection.cross_validate(est, X, y, cv=iter(splits))["test_score"]
    np.testing.assert_allclose(ours, sk.cross_validate(est, X, y, cv=splits)["test_score"], atol=1e-6)


def test_a_failed_stacked_fit_is_named_then_rerun_fold_by_fold(fractions, monkeypatch):
    # Where model_selection looks fit_stacked up when it runs.
    from sklearn_hform.neural_network import _fit_many

    def out_of_memory(*args, **kwargs):
        raise RuntimeError("no room for the stack")

    monkeypatch.setattr(_fit_many, "fit_stacked", out_of_memory)
    X, y = fractions[0][:300], fractions[1][:300]
    est = FormationEnthalpyRegressor(max_epochs=1, random_state=0, **FAST)
    with pytest.warns(UserWarning, match="raised RuntimeError: no room for the stack"):
        scores = model_selection.cross_validate(est, X, y, cv=2)["test_score"]
    np.testing.assert_allclose(scores, sk.cross_validate(est, X, y, cv=2)["test_score"], atol=1e-6)
    with pytest.raises(RuntimeError, match="no room"):
        model_selection.cross_validate(est, X, y, cv=2, error_score="raise")


def test_argument_errors_are_raised_not_retried(fractions, monkeypatch):
    retries = []
    monkeypatch.setattr(sk, "cross_validate", lambda *args, **kwargs: retries.append(args))
    X, y = fractions[0][:300], fractions[1][:200]
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        model_selection.cross_validate(FormationEnthalpyRegressor(max_epochs=1, **FAST), X, y, cv=2)
    assert retries == []
