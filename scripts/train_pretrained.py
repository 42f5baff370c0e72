"""Train a pretrained model shipped with sklearn-hform and write it into the package.

Trains on the bundled OQMD train+val splits (|ΔHf| <= 5 eV/atom), measures
the MAE on the test split twice (all 51,255 rows as published, and without
the outliers), and saves the pipeline with :func:`~sklearn_hform.persistence.save_model` together
with how it was made (command, seed, hardware, time, errors).

    python scripts/train_pretrained.py paper [--epochs 100] [--seed 0]
    python scripts/train_pretrained.py best --ensemble 5 --hidden 1024,512,256,128,64 \\
        --epochs 300 --lr 1e-3 --batch-size 512 --optimizer adamw
    python scripts/train_pretrained.py best --network transformer --ensemble 2 --epochs 40 \\
        --element-embedding magpie --mixed-precision

By default the model goes to ``sklearn_hform/pretrained/<name>/``; ``--out``
writes elsewhere and ``--max-rows`` trains on the first rows only (a smoke
run, never a model to ship).
"""

import argparse
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def parse_args(argv):
    from sklearn_hform.neural_network import OPTIMIZERS

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("name", choices=["paper", "best"], help="which pretrained model to train")
    parser.add_argument("--epochs", type=int, default=None, help="training epochs (default: the regressor's, 100)")
    parser.add_argument("--seed", type=int, default=0, help="random seed of the model (default: 0)")
    parser.add_argument("--ensemble", type=int, default=None, metavar="N",
                        help="'best' only: number of ensemble members (default: 5)")
    parser.add_argument("--network", choices=["mlp", "transformer"], default="mlp",
                        help="'best' only: FormationEnthalpyRegressor (mlp) or CompositionTransformerRegressor")
    parser.add_argument("--d-model", type=int, default=None, help="transformer only: token width")
    parser.add_argument("--layers", type=int, default=None, help="transformer only: encoder layers")
    parser.add_argument("--heads", type=int, default=None, help="transformer only: attention heads")
    parser.add_argument("--feedforward", type=int, default=None, help="transformer only: feed-forward width")
    parser.add_argument("--element-embedding", choices=["random", "magpie"], default=None,
                        help="transformer only: initial element embeddings")
    parser.add_argument("--hidden", default=None, metavar="W1,W2,...",
                        help="'best' only: hidden layer widths (default: Table 1's 128,128,64,64,32)")
    parser.add_argument("--optimizer", choices=OPTIMIZERS, default=None,
                        help="'best' only (default: rmsprop)")
    parser.add_argument("--lr", type=float, default=None, help="initial learning rate")
    parser.add_argument("--batch-size", type=int, default=None, help="rows per gradient step")
    parser.add_argument("--weight-decay", type=float, default=None, help="'best' only: L2 penalty")
    parser.add_argument("--dropout", type=float, default=None, help="'best' only: dropout rate")
    parser.add_argument("--mixed-precision", action="store_true", default=None,
                        help="'best' only: bfloat16 hidden layers (about 2x faster on AVX512-BF16 CPUs)")
    parser.add_argument("--device", default="auto", help="'auto', 'cpu' or 'cuda' (default: auto)")
    parser.add_argument("--n-jobs", type=int, default=None,
                        help="ensemble members trained in parallel processes (default: one at a time)")
    parser.add_argument("--resume-dir", type=Path, default=None, metavar="DIR",
                        help="'best' only: save the ensemble in DIR after each member and, when rerun, go on "
                             "from the members found there (for time-limited jobs: rerun the same command)")
    parser.add_argument("--max-rows", type=int, default=None, metavar="N",
                        help="train on the first N rows only: a smoke run")
    parser.add_argument("--out", type=Path, default=None, metavar="DIR",
                        help="write the model to DIR (default: sklearn_hform/pretrained/<name>/)")
    args = parser.parse_args(argv)
    if args.name == "paper":
        # "paper" is the Table-1 network: only its training length and schedule may change.
        fixed = {"--ensemble": args.ensemble, "--hidden": args.hidden, "--optimizer": args.optimizer,
                 "--weight-decay": args.weight_decay, "--dropout": args.dropout,
                 "--mixed-precision": args.mixed_precision,
                 "--network transformer": True if args.network != "mlp" else None,
                 "--resume-dir": args.resume_dir}
        given = [flag for flag, value in fixed.items() if value is not None]
        if given:
            parser.error(f"'paper' is the Table-1 network; {', '.join(given)} only apply to 'best'")
    transformer_only = {"--d-model": args.d_model, "--layers": args.layers, "--heads": args.heads,
                        "--feedforward": args.feedforward, "--element-embedding": args.element_embedding}
    if args.network == "mlp" and any(v is not None for v in transformer_only.values()):
        parser.error("--d-model, --layers, --heads, --feedforward and --element-embedding need --network transformer")
    if args.network == "transformer" and args.hidden is not None:
        parser.error("--hidden is for --network mlp")
    if args.hidden is not None:
        try:
            args.hidden = tuple(int(w) for w in args.hidden.split(","))
        except ValueError:
            parser.error(f"--hidden must be comma-separated integers, got {args.hidden!r}")
    if args.max_rows is not None and args.max_rows < 10:
        parser.error("--max-rows must be at least 10")
    return args


def build_model(args):
    from sklearn.pipeline import make_pipeline

    from sklearn_hform import (CompositionFractionTransformer, CompositionTransformerRegressor,
                               DeepEnsembleRegressor, FormationEnthalpyRegressor)

    options = {
        "max_epochs": args.epochs,
        "lr": args.lr,
        "batch_size": args.batch_size,
        "optimizer": args.optimizer,
        "weight_decay": args.weight_decay,
        "dropout": args.dropout,
        "mixed_precision": args.mixed_precision,
    }
    if args.network == "transformer":
        options.update(d_model=args.d_model, n_layers=args.layers, n_heads=args.heads,
                       dim_feedforward=args.feedforward, element_embedding=args.element_embedding)
        network = CompositionTransformerRegressor
    else:
        options["hidden_layer_sizes"] = args.hidden
        network = FormationEnthalpyRegressor
    params = {k: v for k, v in options.items() if v is not None}
    member = network(**params, device=args.device, random_state=args.seed)
    if args.name == "best":
        regressor = DeepEnsembleRegressor(
            member, n_estimators=args.ensemble or 5, random_state=args.seed, n_jobs=args.n_jobs
        )
    else:
        regressor = member
    return make_pipeline(CompositionFractionTransformer(), regressor)


def fit_resumable(model, X, y, folder):
    """Fit the ensemble one member at a time, saving it in ``folder`` after each; go on from what is there."""
    from sklearn_hform.persistence import load_model, load_model_metadata, save_model

    target = model[-1].n_estimators
    done, seconds = 0, 0.0
    if (folder / "model.json").is_file():
        template = model[-1].estimator  # the command's members, with its progress callback
        model = load_model(folder)
        model[-1].set_params(estimator=template)
        done = len(model[-1].estimators_)
        seconds = float(load_model_metadata(folder)["train_seconds"])
        print(f"  resuming from {folder}: {done} of {target} members trained ({seconds:.0f} s)", flush=True)
    model[-1].set_params(warm_start=True)
    for k in range(done + 1, target + 1):
        t0 = time.perf_counter()
        model[-1].set_params(n_estimators=k)
        model.fit(X, y)
        seconds += time.perf_counter() - t0
        save_model(model, folder, metadata={"train_seconds": seconds})
        print(f"  member {k} of {target} trained; {seconds:.0f} s in all, saved in {folder}", flush=True)
    model[-1].set_params(warm_start=False)
    return model, seconds


def main(argv=None):
    args = parse_args(argv)
    from sklearn_hform import DeepEnsembleRegressor
    from sklearn_hform.datasets import OUTLIER_THRESHOLD, load_oqmd_hform
    from sklearn_hform.model_selection import test_split_errors
    from sklearn_hform.neural_network import EpochProgress, TRAINING_PARAMETERS, resolve_device
    from sklearn_hform.persistence import save_model
    from sklearn_hform.utils import run_record

    t_start = time.perf_counter()
    out = args.out or REPO / "sklearn_hform" / "pretrained" / args.name
    X, y = load_oqmd_hform(split=["train", "val"], return_X_y=True)
    if args.max_rows is not None:
        X, y = X.iloc[: args.max_rows], y.iloc[: args.max_rows]

    args.device = resolve_device(args.device)
    model = build_model(args)
    regressor = model[-1]
    member = regressor.estimator if isinstance(regressor, DeepEnsembleRegressor) else regressor
    n_members = regressor.n_estimators if isinstance(regressor, DeepEnsembleRegressor) else 1
    if args.n_jobs in (None, 1):
        # Progress lines printed from parallel worker processes would be lost.
        member.set_params(callbacks=[("progress", EpochProgress(columns=("train_loss",)))])
    shape = member.get_params(deep=False)
    shape = {k: shape[k] for k in set(shape) - set(TRAINING_PARAMETERS)}
    print(f"Training {args.name!r}: {n_members} x {type(member).__name__}{shape}, "
          f"{member.max_epochs} epochs, {member.optimizer} lr={member.lr} batch={member.batch_size}, "
          f"on {len(X):,} OQMD rows (train+val, |ΔHf| <= {OUTLIER_THRESHOLD:g} eV/atom) on {args.device}",
          flush=True)
    if args.max_rows is not None:
        print("  --max-rows given: a smoke run, not a model to ship", flush=True)

    t0 = time.perf_counter()
    if args.resume_dir is not None:
        model, train_seconds = fit_resumable(model, X, y, args.resume_dir)
        regressor = model[-1]
    else:
        model.fit(X, y)
        train_seconds = time.perf_counter() - t0
    print(f"Trained in {train_seconds:.1f} s; evaluating on the test split ...", flush=True)

    errors = test_split_errors(model)
    # Save without the progress callback: it is a training aid, not part of the model.
    if isinstance(regressor, DeepEnsembleRegressor):
        regressor.set_params(estimator__callbacks=None)
        for m in regressor.estimators_:
            m.set_params(callbacks=None)
    else:
        regressor.set_params(callbacks=None)

    metadata = run_record(
        ["python", "scripts/train_pretrained.py", *(sys.argv[1:] if argv is None else argv)],
        seed=args.seed, device=args.device, train_seconds=train_seconds,
        wall_seconds=time.perf_counter() - t_start, repository=REPO,
        name=args.name,
        training_data="OQMD train+val splits bundled with sklearn-hform, outliers dropped",
        train_rows=int(len(X)),
        smoke_run=args.max_rows is not None,
        **errors,
    )
    save_model(model, out, metadata=metadata)
    size = sum(p.stat().st_size for p in Path(out).iterdir() if p.is_file())
    print(f"Test MAE {errors['test_mae']:.4f} eV/atom on all {errors['test_rows']:,} test rows, "
          f"{errors['test_mae_without_outliers']:.4f} without outliers "
          f"({errors['test_rows_without_outliers']:,} rows)")
    print(f"Wrote {out} ({size / 1e6:.1f} MB) in {metadata['wall_seconds']:.0f} s")
    return metadata


if __name__ == "__main__":
    main()
