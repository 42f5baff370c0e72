"""Error summaries and the paper's Fig. 6: parity plot and error CDF."""

import numpy as np

from ..utils._paper import PAPER_ERRORS

__all__ = ["error_summary", "plot_parity_and_cdf", "test_split_errors"]


def error_summary(y_true, y_pred):
    """MAE and the 80th/90th percentile absolute errors.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,)

    Returns
    -------
    dict
        ``mae``, ``p80``, ``p90`` (units of the target) and ``n``.
    """
    err = np.abs(np.asarray(y_pred, dtype=float) - np.asarray(y_true, dtype=float))
    return {
        "mae": float(err.mean()),
        "p80": float(np.percentile(err, 80)),
        "p90": float(np.percentile(err, 90)),
        "n": int(len(err)),
    }


def test_split_errors(model):
    """The MAE of a formula model on the bundled OQMD test split, as published and without the outliers.

    Parameters
    ----------
    model : estimator
        Fitted; predicts eV/atom from formulas (a Pipeline such as
        :func:`~sklearn_hform.load_pretrained` returns).

    Returns
    -------
    dict
        ``test_mae`` and ``test_rows`` over all 51,255 rows (the published
        figure), ``test_mae_without_outliers`` and ``test_rows_without_outliers``
        without the failed calculations (abs(ΔHf) above
        :data:`~sklearn_hform.datasets.OUTLIER_THRESHOLD`); JSON-ready.
    """
    from ..datasets._oqmd import OUTLIER_THRESHOLD, load_oqmd_hform

    X, y = load_oqmd_hform(split="test", return_X_y=True, drop_outliers=False)
    y = y.to_numpy(dtype=np.float64)
    err = np.abs(np.asarray(model.predict(X), dtype=np.float64) - y)
    inlier = np.abs(y) <= OUTLIER_THRESHOLD
    return {
        "test_mae": float(err.mean()),
        "test_rows": int(len(err)),
        "test_mae_without_outliers": float(err[inlier].mean()),
        "test_rows_without_outliers": int(inlier.sum()),
    }


def plot_parity_and_cdf(y_true, y_pred, title=""):
    """Parity plot and cumulative distribution of absolute errors, beside the paper's.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,)
        DFT and predicted formation enthalpies (eV/atom).
    title : str, default=""
        Title of the parity panel (the MAE and row count are added).

    Returns
    -------
    matplotlib.figure.Figure
        Left: a log-density hexbin of DFT against predicted values (too many
        points for a scatter). Right: the error CDF with this model's 80th and
        90th percentiles (circles) and the paper's (squares).
    """
    import matplotlib.pyplot as plt

    y_true = np.asarray(y_true, dtype=float)
    y_pred = np.asarray(y_pred, dtype=float)
    summary = error_summary(y_true, y_pred)
    err = np.abs(y_pred - y_true)
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.8))
    lo, hi = np.percentile(np.r_[y_true, y_pred], [0.05, 99.95])
    hb = ax1.hexbin(y_pred, y_true, gridsize=100, bins="log", extent=(lo, hi, lo, hi), mincnt=1)
    fig.colorbar(hb, ax=ax1, label="compounds")
    ax1.plot([lo, hi], [lo, hi], "r--", lw=1)
    ax1.set(xlabel="predicted ΔHf (eV/atom)", ylabel="DFT ΔHf (eV/atom)", xlim=(lo, hi), ylim=(lo, hi),
            title=f"{title}\nMAE {summary['mae']:.4f} eV/atom on {summary['n']:,} compounds".lstrip())
    ax1.text(0.03, 0.97, f"paper: MAE {PAPER_ERRORS['mae']:.3f}", transform=ax1.transAxes, va="top")
    xs = np.sort(err)
    ax2.plot(xs, np.arange(1, len(xs) + 1) / len(xs), label="this model")
    for q, key, ls in ((0.8, "p80", ":"), (0.9, "p90", "--")):
        ax2.axhline(q, color="grey", lw=0.8, ls=ls)
        ax2.plot([summary[key]], [q], "o", color="C0")
        ax2.plot([PAPER_ERRORS[key]], [q], "s", color="C3", label=f"paper: {int(q * 100)}% < {PAPER_ERRORS[key]:.3f}")
        ax2.annotate(f"{int(q * 100)}% < {summary[key]:.3f}", (summary[key], q), xytext=(8, -14),
                     textcoords="offset points")
    ax2.set(xscale="log", xlim=(1e-4, None), ylim=(0, 1), xlabel="absolute error (eV/atom)",
            ylabel="cumulative fraction", title="cumulative distribution of absolute errors")
    ax2.legend(loc="upper left")
    fig.tight_layout()
    return fig
