"""The main job (``make demo``): train the paper's model and evaluate it.

Trains the Table-1 network of Ti et al. (2020) on the bundled OQMD train+val
splits (outliers dropped), evaluates it on the full test split (51,255 rows,
as published, so the error is comparable with CrabNet's anchors), writes the
parity plot and the cumulative distribution of absolute errors, and prints
the MAE and the 80th/90th percentile absolute errors next to the paper's.

    python -m sklearn_hform.demo [--out outputs/demo] [--epochs 100] [--quick]
"""

import argparse
import json
import platform
import time
from pathlib import Path

import numpy as np

PAPER = {"mae": 0.075, "p80": 0.080, "p90": 0.180}


def error_summary(y_true, y_pred):
    """MAE and 80th/90th percentile absolute errors (eV/atom)."""
    err = np.abs(np.asarray(y_pred) - np.asarray(y_true))
    return {
        "mae": float(err.mean()),
        "p80": float(np.percentile(err, 80)),
        "p90": float(np.percentile(err, 90)),
        "n": int(len(err)),
    }


def plot_parity_and_cdf(y_true, y_pred, summary, path, title):
    """Parity plot and error CDF side by side (Fig. 6 of the paper)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    err = np.abs(np.asarray(y_pred) - np.asarray(y_true))
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.8))
    lo, hi = np.percentile(np.r_[y_true, y_pred], [0.05, 99.95])
    ax1.hexbin(y_pred, y_true, gridsize=120, bins="log", extent=(lo, hi, lo, hi), cmap="viridis", mincnt=1)
    ax1.plot([lo, hi], [lo, hi], "r--", lw=1)
    ax1.set(xlabel="predicted ΔHf (eV/atom)", ylabel="DFT ΔHf (eV/atom)", xlim=(lo, hi), ylim=(lo, hi))
    ax1.set_title(f"{title}\nMAE {summary['mae']:.4f} eV/atom on {summary['n']:,} compounds")
    xs = np.sort(err)
    ax2.plot(xs, np.arange(1, len(xs) + 1) / len(xs), label="this model")
    for q, key, ls in ((0.8, "p80", ":"), (0.9, "p90", "--")):
        ax2.axhline(q, color="grey", lw=0.8, ls=ls)
        ax2.plot([summary[key]], [q], "o", color="C0")
        ax2.plot([PAPER[key]], [q], "s", color="C3", label=f"paper: {int(q * 100)}% < {PAPER[key]:.3f}")
        ax2.annotate(f"{int(q * 100)}% < {summary[key]:.3f}", (summary[key], q), xytext=(8, -14),
                     textcoords="offset points")
    ax2.set(xscale="log", xlabel="absolute error (eV/atom)", ylabel="cumulative fraction", ylim=(0, 1))
    ax2.set_title("cumulative distribution of absolute errors")
    ax2.legend(loc="upper left")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="outputs/demo", help="folder for the plot and the JSON")
    parser.add_argument("--epochs", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="20,000 rows and 10 epochs: a smoke run")
    args = parser.parse_args(argv)

    from sklearn.pipeline import make_pipeline

    from sklearn_hform import CompositionFractionTransformer, FormationEnthalpyRegressor
    from sklearn_hform.callbacks import EpochProgress
    from sklearn_hform.datasets import load_oqmd_hform
    from sklearn_hform.regressor import resolve_device

    t_start = time.perf_counter()
    X, y = load_oqmd_hform(split=["train", "val"], return_X_y=True)
    X_test, y_test = load_oqmd_hform(split="test", return_X_y=True, drop_outliers=False)
    epochs = args.epochs
    if args.quick:
        X, y, epochs = X[:20_000], y[:20_000], min(epochs, 10)
    device = resolve_device("auto")
    model = make_pipeline(
        CompositionFractionTransformer(),
        FormationEnthalpyRegressor(max_epochs=epochs, random_state=args.seed, device=device, verbose=0),
    )
    print(f"Training the Table-1 network {model[-1].hidden_layer_sizes} on {len(X):,} OQMD compounds "
          f"(train+val, |ΔHf| <= 5 eV/atom) for {epochs} epochs on {device} ...", flush=True)
    t0 = time.perf_counter()
    model[-1].set_params(callbacks=[("progress", EpochProgress(columns=("train_loss",)))])
    model.fit(X, y)
    t_train = time.perf_counter() - t0
    y_pred = model.predict(X_test)
    summary = error_summary(y_test, y_pred)

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    png = out / "parity_cdf.png"
    plot_parity_and_cdf(y_test, y_pred, summary, png, "Table-1 network, OQMD test split")
    wall = time.perf_counter() - t_start
    record = {
        **summary,
        "paper": PAPER,
        "train_rows": len(X),
        "epochs": epochs,
        "train_seconds": round(t_train, 1),
        "wall_seconds": round(wall, 1),
        "device": device,
        "machine": platform.platform(),
        "quick": args.quick,
        "command": "python -m sklearn_hform.demo" + (" --quick" if args.quick else ""),
    }
    (out / "results.json").write_text(json.dumps(record, indent=2))

    print(f"\nTest split ({summary['n']:,} compounds, as published, outliers included):")
    print(f"  MAE            {summary['mae']:.4f} eV/atom   (paper: {PAPER['mae']:.3f})")
    print(f"  80% of errors < {summary['p80']:.4f} eV/atom   (paper: {PAPER['p80']:.3f})")
    print(f"  90% of errors < {summary['p90']:.4f} eV/atom   (paper: {PAPER['p90']:.3f})")
    print(f"  training {t_train:.0f} s, total {wall:.0f} s; wrote {png} and {out / 'results.json'}")
    return record


if __name__ == "__main__":
    main()
