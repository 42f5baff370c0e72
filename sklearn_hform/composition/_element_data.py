"""Element properties from the installed matminer: the Magpie table, standardised."""

import numpy as np

__all__ = ["magpie_properties"]


def magpie_properties(symbols):
    """The 22 Magpie element properties of matminer's ``"magpie"`` preset, standardised per property.

    Parameters
    ----------
    symbols : sequence of str or None
        Element symbols; ``None`` stands for a column that is no element.

    Returns
    -------
    ndarray of shape (len(symbols), 22), dtype float32
        Each property centred and scaled to unit variance over the given
        elements; missing values (and ``None`` rows) are 0, the mean.
    """
    from matminer.featurizers.composition import ElementProperty
    from pymatgen.core import Element

    # The table is standardised here; missing values become the mean (0) below.
    preset = ElementProperty.from_preset("magpie", impute_nan=False)
    known = [i for i, s in enumerate(symbols) if s is not None]
    elements = [Element(symbols[i]) for i in known]
    table = np.full((len(symbols), len(preset.features)), np.nan)
    for j, name in enumerate(preset.features):
        table[known, j] = np.asarray(preset.data_source.get_elemental_properties(elements, name), dtype=float)
    mean = np.nanmean(table, axis=0)
    std = np.nanstd(table, axis=0)
    table = (table - mean) / np.where(std > 0, std, 1)
    return np.nan_to_num(table, nan=0.0).astype(np.float32)
