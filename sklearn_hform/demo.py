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
import sys
import time
from pathlib import Path


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="outputs/demo", help="folder for the plot and the JSON")
    parser.add_argument("--epochs", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="20,000 rows and 10 epochs: a smoke run")
    args = parser.parse_args(argv)

    from sklearn.pipeline import make_pipeline

    from sklearn_hform import CompositionFractionTransformer, FormationEnthalpyRegressor
    from sklearn_hform.datasets import load_oqmd_hform
    from sklearn_hform.model_selection import error_summary, plot_parity_and_cdf
    from sklearn_hform.neural_network import EpochProgress, resolve_device
    from sklearn_hform.utils import PAPER_ERRORS as PAPER, run_record

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
    import matplotlib

    matplotlib.use("Agg")
    fig = plot_parity_and_cdf(y_test, y_pred, title="Table-1 network, OQMD test split")
    fig.savefig(png, dpi=120)
    wall = time.perf_counter() - t_start
    record = run_record(
        ["python", "-m", "sklearn_hform.demo", *(sys.argv[1:] if argv is None else argv)],
        seed=args.seed, device=device, train_seconds=t_train, wall_seconds=wall,
        **summary, paper=PAPER, train_rows=len(X), epochs=epochs, quick=args.quick,
    )
    (out / "results.json").write_text(json.dumps(record, indent=2))

    print(f"\nTest split ({summary['n']:,} compounds, as published, outliers included):")
    print(f"  MAE            {summary['mae']:.4f} eV/atom   (paper: {PAPER['mae']:.3f})")
    print(f"  80% of errors < {summary['p80']:.4f} eV/atom   (paper: {PAPER['p80']:.3f})")
    print(f"  90% of errors < {summary['p90']:.4f} eV/atom   (paper: {PAPER['p90']:.3f})")
    print(f"  training {t_train:.0f} s, total {wall:.0f} s; wrote {png} and {out / 'results.json'}")
    return record


if __name__ == "__main__":
    main()
