"""Grid search on a Dask cluster through joblib's Dask backend."""

import numpy as np
import pytest

distributed = pytest.importorskip("distributed")

from joblib import parallel_backend  # noqa: E402
from sklearn.model_selection import GridSearchCV  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402

from sklearn_hform import CompositionFractionTransformer, FormationEnthalpyRegressor  # noqa: E402


def make_search():
    pipe = make_pipeline(
        CompositionFractionTransformer(),
        FormationEnthalpyRegressor(max_epochs=4, batch_size=128, random_state=0, device="cpu"),
    )
    grid = {"formationenthalpyregressor__hidden_layer_sizes": [(4,), (64, 64, 32)]}
    return GridSearchCV(pipe, grid, cv=3, scoring="neg_mean_absolute_error")


@pytest.mark.slow
def test_grid_search_on_local_dask_cluster(oqmd_small):
    X, y = oqmd_small[0][:1500], oqmd_small[1][:1500]
    local = make_search().set_params(n_jobs=2).fit(X, y)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as client:
        with parallel_backend("dask"):
            remote = make_search().set_params(n_jobs=-1).fit(X, y)
        # Each fit really ran on a worker process, with one torch thread there.
        assert len(client.scheduler_info()["workers"]) == 2
    assert remote.best_params_ == local.best_params_
    np.testing.assert_allclose(
        remote.cv_results_["mean_test_score"], local.cv_results_["mean_test_score"], rtol=1e-4
    )


def test_screen_many_on_a_dask_cluster_equals_local(oqmd_small):
    from sklearn_hform import DeepEnsembleRegressor
    from sklearn_hform.stability import chemical_systems, screen_many

    X, y = oqmd_small[0][:1500], oqmd_small[1][:1500]
    model = make_pipeline(
        CompositionFractionTransformer(),
        DeepEnsembleRegressor(FormationEnthalpyRegressor(max_epochs=2, random_state=0, device="cpu"), n_estimators=2),
    ).fit(X, y)
    systems = chemical_systems(["Li", "Na", "O", "Cl"], 3)
    assert systems == ["Li-Na-O", "Li-Na-Cl", "Li-O-Cl", "Na-O-Cl"]
    local = screen_many(model, systems, max_atoms=6)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as client:
        remote = screen_many(model, systems, client=client, max_atoms=6)
    assert list(dict.fromkeys(remote["system"])) == systems
    import pandas as pd

    pd.testing.assert_frame_equal(remote, local)
    with pytest.raises(ValueError, match="size"):
        chemical_systems(["Li", "O"], 3)
