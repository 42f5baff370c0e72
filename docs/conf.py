"""Sphinx configuration of the sklearn-hform documentation."""

import os
import sys
from pathlib import Path

import sklearn_hform

# gallery_order.py: the sort key of the gallery, importable by name.
sys.path.insert(0, str(Path(__file__).resolve().parent / "sphinxext"))

# The gallery runs every example in quick mode (a few thousand rows, a few
# epochs). The full studies take many minutes each and are run by hand;
# their numbers are on the reproduction page.
os.environ["HFORM_QUICK"] = "1"
os.environ.setdefault("MPLBACKEND", "Agg")

project = "sklearn-hform"
author = "sklearn-hform developers"
copyright = "2026, sklearn-hform developers"
version = release = sklearn_hform.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    "myst_parser",
]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
exclude_patterns = ["_build"]
templates_path = ["_templates"]

# No intersphinx: the build must work offline.
autosummary_generate = True
autodoc_default_options = {"members": True, "inherited-members": False}
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
myst_enable_extensions = ["colon_fence"]
myst_heading_anchors = 3

sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": "plot_",
    # Files not matching filename_pattern (dask_grid_search.py) are shown, not run.
    "doc_module": ("sklearn_hform",),
    "backreferences_dir": "gen_modules/backreferences",
    "reference_url": {"sklearn_hform": None},
    "download_all_examples": False,
    # The paper's order (Fig. 2-6), the uncertainty example, then the Dask example.
    "within_subsection_order": "gallery_order.PaperOrder",
    "abort_on_example_error": True,
    "show_memory": False,
    "matplotlib_animations": False,
}

html_theme = "pydata_sphinx_theme"
html_title = f"sklearn-hform {release}"
html_static_path = []
html_theme_options = {
    "navigation_with_keys": False,
    "show_prev_next": False,
    "footer_start": ["copyright"],
    "footer_end": [],
}
html_show_sourcelink = False


def _skip_metadata_request_methods(app, what, name, obj, skip, options):
    # scikit-learn attaches set_{fit,score,...}_request to every estimator
    # class; they are metadata-routing plumbing, documented by scikit-learn.
    if what == "class" and name.startswith("set_") and name.endswith("_request"):
        return True
    return None


def setup(app):
    app.connect("autodoc-skip-member", _skip_metadata_request_methods)
