"""Screening many chemical systems: locally, or on a Dask cluster when a client is given."""

import pandas as pd

from ._screen import screen

__all__ = ["screen_many"]


def _screen_one(system, model, options):
    table = screen(model, system, **options)
    table.insert(0, "system", system)
    return table


def screen_many(model, systems, *, client=None, **options):
    """:func:`~sklearn_hform.stability.screen` every system, one task per system.

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
        Passed to :func:`~sklearn_hform.stability.screen` (``mode``,
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
