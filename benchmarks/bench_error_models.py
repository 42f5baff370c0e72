"""How far can an error model take the std of ``best``? Coverage at one and two std for richer error models.

The shipped calibration models the size of the error with a log-linear
ridge fit (:mod:`sklearn_hform.ensemble`). This benchmark asks whether
a more flexible model of the error would give a std with both Gaussian
coverages (68.27 % within one std, 95.45 % within two) on the OQMD test
split. Each error model predicts log|error| out of fold (5 folds over the
51,255 test rows, so no row's scale comes from a fit that saw it):

* ``spread``: the members' spread alone;
* ``features (ridge)``: the shipped design (spread, prediction, element
  counts, presence, fractions, largest fractions), ridge regression;
* ``features (boosted)``: the same design, gradient-boosted trees
  (scikit-learn's ``HistGradientBoostingRegressor``);
* ``+ element properties (boosted)``: also the fraction-weighted mean, the
  minimum, maximum and range of the 22 Magpie element properties and the
  members' range.

The std is the predicted scale times one factor, set so that 68.27 % (and
then 71 %, the top of a 68 +- 3 band) of errors fall within one std; the
table prints the fraction within two. Also printed: the ratio of the 95.45 %
and 68.27 % quantiles of |error| within each tenth of the predicted scale
(2.0 for Gaussian errors, 2.6 for Laplace).

    python benchmarks/bench_error_models.py    # about 5 minutes on 2 cores
"""

import time

import numpy as np


def magpie_statistics(X, symbols):
    from sklearn_hform.composition import magpie_properties

    table = magpie_properties(symbols).astype(np.float64)
    weights = X / X.sum(axis=1, keepdims=True)
    present = np.where((X > 0)[:, :, None], table[None], np.nan)
    high, low = np.nanmax(present, axis=1), np.nanmin(present, axis=1)
    return np.column_stack([weights @ table, high, low, high - low])


def out_of_fold(make, design, target, folds):
    predicted = np.empty(len(target))
    for fit_rows, score_rows in folds:
        predicted[score_rows] = make().fit(design[fit_rows], target[fit_rows]).predict(design[score_rows])
    return predicted


def main():
    from scipy.stats import spearmanr
    from sklearn.ensemble import HistGradientBoostingRegressor
    from sklearn.linear_model import RidgeCV
    from sklearn.model_selection import KFold
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from sklearn_hform.datasets import load_oqmd_hform
    from sklearn_hform.ensemble import error_features
    from sklearn_hform.pretrained import load_pretrained

    model = load_pretrained("best")
    X, y = load_oqmd_hform(split="test", return_X_y=True, drop_outliers=False)
    Xt = model[0].fractions(X)
    members = model[-1].predict_members(Xt)
    mean, spread = members.mean(axis=0), members.std(axis=0)
    err = np.abs(y.to_numpy() - mean)
    target = np.log(err + 1e-4)
    base = np.column_stack([np.log(spread + 1e-4), mean, np.abs(mean), error_features(Xt)])
    symbols = [str(s) for s in model[0].get_feature_names_out()]
    rich = np.column_stack([base, magpie_statistics(Xt, symbols), np.ptp(members, axis=0)])
    folds = list(KFold(5, shuffle=True, random_state=0).split(base))

    def ridge():
        return make_pipeline(StandardScaler(), RidgeCV(alphas=np.logspace(-2, 4, 13)))

    def boosted():
        return HistGradientBoostingRegressor(max_iter=300, learning_rate=0.05, min_samples_leaf=50, random_state=0)

    print(f"best on {len(err):,} OQMD test rows, MAE {err.mean():.4f} eV/atom; a Gaussian: 68.3 % / 95.4 %")
    print(f"{'error model':<32} {'2 std at 1 std = 68.3 %':>24} {'2 std at 1 std = 71 %':>22} "
          f"{'Spearman':>9}  q95/q68 per tenth of the scale")
    for name, scale in (("spread", lambda: spread),
                        ("features (ridge)", lambda: np.exp(out_of_fold(ridge, base, target, folds))),
                        ("features (boosted)", lambda: np.exp(out_of_fold(boosted, base, target, folds))),
                        ("+ element properties (boosted)", lambda: np.exp(out_of_fold(boosted, rich, target, folds)))):
        t0 = time.perf_counter()
        u = scale()
        ratio = err / u
        two = [np.mean(ratio <= 2 * np.quantile(ratio, one)) for one in (0.6827, 0.71)]
        tenth = np.minimum((np.argsort(np.argsort(u)) * 10) // len(u), 9)
        tails = [np.quantile(err[tenth == k], 0.9545) / np.quantile(err[tenth == k], 0.6827) for k in range(10)]
        print(f"{name:<32} {two[0]:>23.1%} {two[1]:>22.1%} {spearmanr(u, err).statistic:>9.3f}  "
              f"{min(tails):.1f}-{max(tails):.1f}  [{time.perf_counter() - t0:.0f} s]", flush=True)


if __name__ == "__main__":
    main()
