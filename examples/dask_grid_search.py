"""
Grid search on a Dask cluster
=============================

Hyperparameter searches over the full OQMD data need dozens of fits. Instead
of a home-made scheduler, scikit-learn's ``GridSearchCV`` hands its fits to
joblib, and joblib's Dask backend ships them to the workers of a
``dask.distributed`` cluster.

This script starts a ``LocalCluster`` of two single-threaded worker
processes (pass ``--scheduler tcp://host:8786`` to use a real cluster
instead) and searches over layer configurations. Install the extra with
``pip install "sklearn-hform[dask]"``.

On a GPU cluster, start one worker per GPU, each seeing only its own device,
e.g. on every node::

    dask scheduler                                      # once, on the head node
    CUDA_VISIBLE_DEVICES=0 dask worker tcp://head:8786 --nworkers 1 --nthreads 1 &
    CUDA_VISIBLE_DEVICES=1 dask worker tcp://head:8786 --nworkers 1 --nthreads 1 &

(or ``dask-cuda-worker tcp://head:8786`` from ``dask-cuda``, which does the
same per GPU). With ``device="auto"`` each fit then trains on its worker's
GPU.

    python examples/dask_grid_search.py [--quick] [--scheduler ADDRESS]
"""

# %%
import argparse
import time

from joblib import parallel_backend
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline

from sklearn_hform import CompositionFractionTransformer, FormationEnthalpyRegressor
from sklearn_hform.datasets import load_oqmd_hform

parser = argparse.ArgumentParser()
parser.add_argument("--quick", action="store_true", help="3,000 rows and 3 epochs")
parser.add_argument("--scheduler", default=None, help="address of an existing Dask scheduler")
args, _ = parser.parse_known_args()

X, y = load_oqmd_hform(split="train", return_X_y=True)
rows, epochs = (3_000, 3) if args.quick else (len(X), 100)
X, y = X[:rows], y[:rows]

# %%
from distributed import Client, LocalCluster  # noqa: E402

cluster = None
if args.scheduler is None:
    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
client = Client(args.scheduler or cluster)
print(client)

pipe = make_pipeline(CompositionFractionTransformer(), FormationEnthalpyRegressor(max_epochs=epochs, random_state=0))
search = GridSearchCV(
    pipe,
    {"formationenthalpyregressor__hidden_layer_sizes": [(32, 32, 16, 16, 8), (128, 128, 64, 64, 32)]},
    cv=3,
    scoring="neg_mean_absolute_error",
    n_jobs=-1,
)
t0 = time.perf_counter()
with parallel_backend("dask"):
    search.fit(X, y)
print(f"best {search.best_params_}, MAE {-search.best_score_:.4f} eV/atom, {time.perf_counter() - t0:.0f} s")
client.close()
if cluster is not None:
    cluster.close()
