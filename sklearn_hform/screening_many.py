"""Screening many chemical systems: locally, or on a Dask cluster when a client is given."""

import itertools

import pandas as pd

__all__ = ["chemical_systems", "screen_many"]


def chemical_systems(elements, size=3):
    """Every chemical system of ``size`` elements drawn from ``elements``, as ``"A-B-C"`` strings.

    Parameters
    ----------
    elements : sequence of str
    size : int, default=3

    Returns
    -------
    list of str
    """
    if size < 2 or size > len(elements):
        raise ValueError(f"size must be between 2 and the {len(elements)} elements given, got {size}")
    return ["-".join(c) for c in itertools.combinations(elements, size)]


def _screen_one(system, model, options):
    from .screening import screen

    table = screen(model, system, **options)
    table.insert(0, "system", system)
    return table


def screen_many(model, systems, *, client=None, **options):
    """:func:`~sklearn_hform.screening.screen` every system, one task per system.

    Parameters
    ----------
    model : Pipeline
        Fitted (it is sent to every Dask worker once).
    systems : sequence of str
        E.g. ``chemical_systems(["Li", "Fe", "Mn", "O"], 3)``.
    client : dask.distributed.Client or None, default=None
        Run the screens on this client's cluster; ``None`` runs them here,
        one after the other.
    **options
        Passed to :func:`~sklearn_hform.screening.screen` (``mode``,
        ``max_atoms``, ``known``, ...).

    Returns
    -------
    pandas.DataFrame
        The screens one below the other, with a ``system`` column, in the
        order of ``systems``.
    """
    systems = list(systems)
    if not systems:
        raise ValueError("no chemical systems to screen")
    if client is None:
        tables = [_screen_one(s, model, options) for s in systems]
    else:
        shared = client.scatter(model, broadcast=True)
        futures = client.map(_screen_one, systems, model=shared, options=options, pure=False)
        tables = client.gather(futures)
    return pd.concat(tables, ignore_index=True)
