"""Predict the OQMD test split with the shipped models of an older checkout, for ``migrate_pretrained.py --reference``.

Run it with the package of the old release first on the path, e.g. from a
worktree of the commit before the format change:

    git worktree add /tmp/hform-0.1 18a4497
    python scripts/old_release_predictions.py /tmp/hform-0.1 old_predictions.npz
    python scripts/migrate_pretrained.py --reference old_predictions.npz   # or compare by hand

The file holds ``paper_mean``, ``best_mean`` and ``best_std`` (51,255 rows
each) and the number of torch threads they were computed with.
"""

import argparse
import sys

import numpy as np


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkout", help="root of the old checkout (its sklearn_hform is imported)")
    parser.add_argument("output", help="npz file to write")
    args = parser.parse_args(argv)
    sys.path.insert(0, args.checkout)
    import torch

    import sklearn_hform
    from sklearn_hform import load_pretrained
    from sklearn_hform.datasets import load_oqmd_hform

    if not sklearn_hform.__file__.startswith(args.checkout):
        parser.error(f"imported {sklearn_hform.__file__}, not the package in {args.checkout}")
    X, _ = load_oqmd_hform(split="test", return_X_y=True, drop_outliers=False)
    # bfloat16 kernels round differently with the thread count: record it so
    # that the comparison runs with the same.
    out = {"threads": np.array(torch.get_num_threads()), "paper_mean": load_pretrained("paper").predict(X)}
    out["best_mean"], out["best_std"] = load_pretrained("best").predict(X, return_std=True)
    np.savez(args.output, **out)
    print(f"wrote {args.output}: {', '.join(f'{k} {v.shape}' for k, v in out.items())}")


if __name__ == "__main__":
    main()
