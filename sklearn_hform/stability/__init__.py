"""Thermodynamic stability from predicted formation enthalpies: chemical systems, hulls and screens.

- Chemical systems and their compositions: :func:`parse_chemical_system`,
  :func:`chemical_systems`, :func:`composition_grid`, :func:`check_step`,
  :func:`grid_size`, :func:`atom_fractions`.
- The lower hull of phases in composition-energy space:
  :func:`lower_hull`, :func:`hull_at`.
- Candidates of a system: :func:`generate_candidates` (charge-neutral
  compositions of ionic subsystems, stoichiometries of analogous systems
  for intermetallic ones, each with its reason).
- :func:`screen`, the screen ``hform hull`` runs: candidates of a system
  (:func:`candidate_formulas`) against the hull of its known phases
  (:func:`known_phases`), with the decomposition energy of each;
  :func:`screen_summary` counts what it found.
- :func:`screen_grid`: every composition of a grid against the hull of
  the predictions themselves, with pymatgen (``hform hull --step``).
- Judging a screen: :func:`rediscovery_outcomes` hides known phases and
  labels each candidate by its true ΔHd; :class:`StabilityCalibrator`
  fits P(stable) on such outcomes, scored by
  :func:`expected_calibration_error` and :func:`reliability_curve`.
- :func:`screen_many`: many systems, locally or on a Dask cluster.
- Plots: :func:`plot_screen` and :func:`plot_hull`.

Names are imported on first use; pymatgen and matplotlib when a function
needs them.
"""

from .._lazy import lazy_exports

__all__, __getattr__, __dir__ = lazy_exports(__name__, {
    "_systems": ("atom_fractions", "chemical_systems", "check_step", "composition_grid", "grid_size",
                 "parse_chemical_system"),
    "_grid_screen": ("MAX_GRID", "screen_grid"),
    "_hull": ("hull_at", "lower_hull"),
    "_candidates": ("generate_candidates",),
    "_probability": ("StabilityCalibrator", "expected_calibration_error", "reliability_curve"),
    "_screen": ("MAX_CANDIDATES", "MAX_ELEMENTS", "candidate_formulas", "known_phases", "screen"),
    "_summary": ("screen_summary",),
    "_rediscovery": ("rediscovery_outcomes",),
    "_screen_many": ("screen_many",),
    "_plots": ("MAX_LABELS", "plot_hull", "plot_screen"),
})
