"""Datasets bundled with sklearn-hform."""

from ._oqmd import load_oqmd_hform

__all__ = ["load_oqmd_hform"]
