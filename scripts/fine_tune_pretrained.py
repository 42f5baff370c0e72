"""Continue training the members of a shipped ensemble with a second, gentler learning-rate cycle.

Each member of ``best`` restarts from its weights (``warm_start``) on the same
OQMD train+val rows for a few more epochs, at a lower peak learning rate than
its first cycle; the test split stays unseen. The ensemble's calibration
described the old members, so ``fine_tune`` drops it (with a warning): run
``scripts/calibrate_pretrained.py best`` afterwards.

    python scripts/fine_tune_pretrained.py best --epochs 12 --lr 2e-4 --resume-dir DIR

``--resume-dir`` saves the ensemble after each member and, when the same
command is rerun, goes on from the members already done (for time-limited
jobs). By default the model is written back into
``sklearn_hform/pretrained/<name>/``; ``--out`` writes elsewhere.
"""

import argparse
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("name", choices=["best"], help="the shipped ensemble")
    parser.add_argument("--epochs", type=int, required=True, help="epochs of the second cycle")
    parser.add_argument("--lr", type=float, required=True, help="peak learning rate of the second cycle")
    parser.add_argument("--device", default="auto", help="'auto', 'cpu' or 'cuda' (default: auto)")
    parser.add_argument("--resume-dir", type=Path, default=None, metavar="DIR",
                        help="save after each member; rerun the same command to go on from there")
    parser.add_argument("--max-rows", type=int, default=None, metavar="N",
                        help="train on the first N rows only: a smoke run, never a model to ship")
    parser.add_argument("--out", type=Path, default=None, metavar="DIR",
                        help="write the model to DIR (default: sklearn_hform/pretrained/<name>/)")
    args = parser.parse_args(argv)
    if args.max_rows is not None and args.max_rows < 10:
        parser.error("--max-rows must be at least 10")

    from sklearn_hform.datasets import load_oqmd_hform
    from sklearn_hform.model_selection import test_split_errors
    from sklearn_hform.neural_network import EpochProgress, fine_tune, resolve_device
    from sklearn_hform.persistence import load_model, load_model_metadata, save_model
    from sklearn_hform.pretrained import load_pretrained, load_pretrained_metadata
    from sklearn_hform.utils import run_record

    t_start = time.perf_counter()
    out = args.out or REPO / "sklearn_hform" / "pretrained" / args.name
    device = resolve_device(args.device)
    base = load_pretrained_metadata(args.name)
    X, y = load_oqmd_hform(split=["train", "val"], return_X_y=True)
    if args.max_rows is not None:
        X, y = X.iloc[: args.max_rows], y.iloc[: args.max_rows]

    done, seconds = 0, 0.0
    if args.resume_dir is not None and (args.resume_dir / "model.json").is_file():
        model = load_model(args.resume_dir)
        progress = load_model_metadata(args.resume_dir)
        done, seconds = int(progress["fine_tuned_members"]), float(progress["fine_tune_seconds"])
        print(f"  resuming from {args.resume_dir}: {done} members done ({seconds:.0f} s)", flush=True)
    else:
        model = load_pretrained(args.name)
    n_members = len(model[-1].estimators_)
    print(f"Fine-tuning {args.name!r}: {n_members} members, {args.epochs} epochs at lr {args.lr:g} on "
          f"{len(X):,} OQMD rows (train+val) on {device}", flush=True)
    if args.max_rows is not None:
        print("  --max-rows given: a smoke run, not a model to ship", flush=True)
    for k in range(done, n_members):
        t0 = time.perf_counter()
        # One member at a time, so that a time-limited job keeps what it finished.
        model = fine_tune(model, X, y, members=[k], max_epochs=args.epochs, lr=args.lr, device=device,
                          callbacks=[("progress", EpochProgress(columns=("train_loss",)))])
        model[-1].estimators_[k].set_params(callbacks=None)  # a training aid, not part of the model
        seconds += time.perf_counter() - t0
        print(f"  member {k + 1} of {n_members} fine-tuned; {seconds:.0f} s in all", flush=True)
        if args.resume_dir is not None:
            save_model(model, args.resume_dir, metadata={"fine_tuned_members": k + 1, "fine_tune_seconds": seconds})

    errors = test_split_errors(model)
    metadata = run_record(
        ["python", "scripts/fine_tune_pretrained.py", *(sys.argv[1:] if argv is None else argv)],
        seed=base.get("seed"), device=device, train_seconds=float(base["train_seconds"]) + seconds,
        wall_seconds=time.perf_counter() - t_start, repository=REPO,
        name=args.name, training_data=base["training_data"], train_rows=int(len(X)),
        smoke_run=args.max_rows is not None,
        # Every earlier command of the chain, oldest first: the model is the product of all of them.
        earlier_commands=[*base.get("earlier_commands", []),
                          {key: base[key] for key in ("command", "test_mae", "train_seconds") if key in base}],
        fine_tune_seconds=seconds, **errors,
    )
    save_model(model, out, metadata=metadata)
    print(f"Test MAE {errors['test_mae']:.4f} eV/atom on all {errors['test_rows']:,} test rows "
          f"(before: {base['test_mae']:.4f}), {errors['test_mae_without_outliers']:.4f} without outliers")
    print(f"Wrote {out}; its calibration was dropped"
          + (f": now run python scripts/calibrate_pretrained.py {args.name}" if args.out is None else ""))
    return metadata


if __name__ == "__main__":
    main()
