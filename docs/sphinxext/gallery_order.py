"""Order of the gallery: the paper's figures (2 to 6), the uncertainty example, then everything else.

A class in an importable module, named by string in ``conf.py``, so that
Sphinx can pickle the configuration.
"""

import os

ORDER = [
    "plot_layer_study.py",
    "plot_learning_curve.py",
    "plot_training_curve.py",
    "plot_cross_validation.py",
    "plot_uncertainty.py",
    "plot_screening.py",
    "plot_fine_tuning.py",
]


class PaperOrder:
    """Sort key for sphinx-gallery's ``within_subsection_order``."""

    def __init__(self, src_dir):
        self.src_dir = src_dir

    def __call__(self, filename):
        name = os.path.basename(filename)
        return (ORDER.index(name) if name in ORDER else len(ORDER), name)

    def __repr__(self):
        return "PaperOrder"
