"""
Screening many chemical systems on a Dask cluster
=================================================

:func:`sklearn_hform.stability.screen_many` screens one chemical system
per task: here or, given a ``dask.distributed`` client, on the cluster's
workers (the model is sent to each worker once). This script screens every
ternary system of a list of elements with the shipped ``best`` ensemble and
prints the candidates most likely to be new stable compounds.

It starts a ``LocalCluster`` of two single-threaded worker processes; pass
``--scheduler tcp://host:8786`` to use a real cluster. Install the extra with
``pip install "sklearn-hform[dask]"``.

    python examples/dask_screening.py [--elements Li,Mn,Fe,O,F] [--scheduler ADDRESS]
"""

# %%
import argparse
import time

import torch
from distributed import Client, LocalCluster

from sklearn_hform import load_pretrained
from sklearn_hform.stability import chemical_systems, screen_many

parser = argparse.ArgumentParser(description="Screen every ternary of a list of elements on Dask.")
parser.add_argument("--elements", default="Li,Mn,Fe,O,F")
parser.add_argument("--scheduler", default=None, help="address of a running Dask scheduler")
args, _ = parser.parse_known_args()

if __name__ == "__main__":
    torch.set_num_threads(1)
    systems = chemical_systems(args.elements.split(","), 3)
    model = load_pretrained("best")
    if args.scheduler:
        client = Client(args.scheduler)
    else:
        client = Client(LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None))
    t0 = time.perf_counter()
    with client:
        table = screen_many(model, systems, client=client)
    new = table[table["known"].isna() & (table["decomposition_energy"] < 0)]
    print(f"{len(systems)} systems, {len(table):,} candidates in {time.perf_counter() - t0:.0f} s; "
          f"{len(new)} new compounds predicted stable")
    print(new.sort_values("p_stable", ascending=False)
          [["system", "formula", "prediction", "std", "decomposition_energy", "p_stable"]].head(15)
          .to_string(index=False, float_format=lambda v: f"{v:.3f}"))
