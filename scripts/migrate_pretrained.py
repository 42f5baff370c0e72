"""Convert model folders from format 1 (sklearn-hform 0.1) to the current format, checking predictions.

For each folder: load it through the format-1 reader, predict the full OQMD
test split (51,255 compounds), save it in the current format (JSON,
safetensors, SHA256SUMS) in place of the old files, load it again, predict
again and require the two predictions (and the ensemble std) to agree to
``--tolerance`` eV/atom. With ``--reference FILE.npz`` (arrays ``<name>_mean``
and, for ensembles, ``<name>_std``, written by the old release) the new
predictions are compared with those too.

    python scripts/migrate_pretrained.py                      # the shipped 'paper' and 'best'
    python scripts/migrate_pretrained.py path/to/old_model    # a folder of your own
"""

import argparse
import sys
import warnings
from pathlib import Path

import numpy as np

PACKAGE_MODELS = Path(__file__).resolve().parents[1] / "sklearn_hform" / "pretrained"


def predictions(model, X):
    if hasattr(model[-1], "estimators_"):
        return model.predict(X, return_std=True)
    return model.predict(X), None


def max_difference(a, b):
    return 0.0 if a is None and b is None else float(np.max(np.abs(a - b)))


def migrate(folder, X, tolerance, reference=None, name=None):
    from sklearn_hform.persistence import load_model, load_model_metadata, save_model
    from sklearn_hform.persistence._legacy import is_legacy_model

    if not is_legacy_model(folder):
        if reference is None or f"{name}_mean" not in reference:
            print(f"{folder}: not a format-1 model, left alone")
            return True
        # Already converted: only compare with the old release's predictions.
        new_mean, new_std = predictions(load_model(folder), X)
        checks = {"mean vs old release": max_difference(reference[f"{name}_mean"], new_mean)}
        if f"{name}_std" in reference:
            checks["std vs old release"] = max_difference(reference[f"{name}_std"], new_std)
        return report(folder, len(X), checks, tolerance)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        old = load_model(folder)
        metadata = load_model_metadata(folder)
    old_mean, old_std = predictions(old, X)
    save_model(old, folder, metadata=metadata)
    (folder / "model.pt").unlink()
    new_mean, new_std = predictions(load_model(folder), X)
    checks = {"mean": max_difference(old_mean, new_mean), "std": max_difference(old_std, new_std)}
    if reference is not None and f"{name}_mean" in reference:
        checks["mean vs old release"] = max_difference(reference[f"{name}_mean"], new_mean)
        if f"{name}_std" in reference:
            checks["std vs old release"] = max_difference(reference[f"{name}_std"], new_std)
    return report(folder, len(X), checks, tolerance)


def report(folder, n, checks, tolerance):
    ok = all(v <= tolerance for v in checks.values())
    shown = ", ".join(f"{k} {v:.2e}" for k, v in checks.items())
    print(f"{folder}: max |difference| over {n:,} test compounds: {shown} -> {'OK' if ok else 'FAILED'}")
    return ok


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", nargs="*", type=Path, help="model folders (default: the shipped models)")
    parser.add_argument("--tolerance", type=float, default=1e-6, help="eV/atom (default: 1e-6)")
    parser.add_argument("--reference", type=Path, help="npz of the old release's test-split predictions")
    args = parser.parse_args(argv)

    import torch

    from sklearn_hform.datasets import load_oqmd_hform

    X, _ = load_oqmd_hform(split="test", return_X_y=True, drop_outliers=False)
    folders = args.folders or [PACKAGE_MODELS / "paper", PACKAGE_MODELS / "best"]
    reference = None if args.reference is None else np.load(args.reference)
    if reference is not None and "threads" in reference:
        # bfloat16 matrix kernels accumulate in a thread-dependent order.
        torch.set_num_threads(int(reference["threads"]))
    ok = all([migrate(f, X, args.tolerance, reference, name=f.name) for f in folders])
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
