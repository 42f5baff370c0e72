"""Datasets bundled with sklearn-hform.

- :func:`load_oqmd_hform`: 341,700 OQMD formation enthalpies with CrabNet's
  train/val/test splits (CC-BY 4.0), as a scikit-learn Bunch.
- :data:`OUTLIER_THRESHOLD`: the \\|ΔHf\\| (eV/atom) above which a row is a
  failed calculation and dropped by default.
- :func:`load_expt_hform`: 1,062 experimental formation enthalpies at 298 K
  with their uncertainties (half of pymatgen's compilation, MIT licence).
"""

from ._expt import load_expt_hform
from ._oqmd import OUTLIER_THRESHOLD, load_oqmd_hform

__all__ = ["OUTLIER_THRESHOLD", "load_expt_hform", "load_oqmd_hform"]
