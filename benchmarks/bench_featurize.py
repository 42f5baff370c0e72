"""Featurizing throughput: CompositionFractionTransformer vs matminer.

Side by side in one process, on the same 50,000 OQMD formulas: matminer's
``StrToComposition`` + ``ElementFraction`` (``n_jobs=1``, its fastest setting
here) against ``CompositionFractionTransformer``. Checks the two agree to
1e-9 and prints both rates and the ratio (target: >= 25x).

    python benchmarks/bench_featurize.py [--n 50000]
"""

import argparse
import time

import numpy as np


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=50_000)
    args = parser.parse_args()

    from matminer.featurizers.composition import ElementFraction
    from matminer.featurizers.conversions import StrToComposition

    from sklearn_hform import CompositionFractionTransformer
    from sklearn_hform.datasets import load_oqmd_hform

    X, _ = load_oqmd_hform(return_X_y=True)
    df = X.iloc[: args.n].copy()

    t0 = time.perf_counter()
    conv = StrToComposition(target_col_id="composition")
    conv.set_n_jobs(1)
    ef = ElementFraction()
    ef.set_n_jobs(1)
    mm = conv.featurize_dataframe(df.copy(), "formula", pbar=False)
    mm = ef.featurize_dataframe(mm, "composition", pbar=False)
    t_matminer = time.perf_counter() - t0

    t0 = time.perf_counter()
    ours = CompositionFractionTransformer().fit_transform(df["formula"])
    t_ours = time.perf_counter() - t0

    labels = ef.feature_labels()
    ref = mm[labels].to_numpy()
    names = list(CompositionFractionTransformer().fit(df["formula"][:1]).get_feature_names_out())
    ref_ours = ref[:, [labels.index(s) for s in names]]
    outside = [j for j, s in enumerate(labels) if s not in names]
    assert not ref[:, outside].any(), "matminer found elements outside H..Pu"
    max_diff = np.abs(ours - ref_ours).max()
    assert max_diff < 1e-9, max_diff

    n = len(df)
    print(f"formulas: {n}")
    print(f"matminer StrToComposition+ElementFraction (n_jobs=1): {t_matminer:.3f} s = {n / t_matminer:,.0f} formulas/s")
    print(f"CompositionFractionTransformer:                      {t_ours:.3f} s = {n / t_ours:,.0f} formulas/s")
    print(f"max |difference|: {max_diff:.1e}")
    print(f"speed-up: {t_matminer / t_ours:.1f}x (target >= 25x)")


if __name__ == "__main__":
    main()
