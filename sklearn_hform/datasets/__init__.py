"""Datasets bundled with sklearn-hform."""

from ._oqmd import OUTLIER_THRESHOLD, load_oqmd_hform

__all__ = ["OUTLIER_THRESHOLD", "load_oqmd_hform"]
