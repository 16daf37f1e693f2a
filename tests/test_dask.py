"""A grid search on a dask cluster gives the serial results, BLAS threads capped."""

import numpy as np
import pytest
from joblib import parallel_backend
from sklearn.base import clone
from sklearn.datasets import load_digits
from sklearn.model_selection import GridSearchCV
from threadpoolctl import threadpool_info

from sknumpy_mlp import MLPScratchClassifier
from sknumpy_mlp.parallel import (
    BLASThreadLimit,
    limit_blas_threads,
    worker_blas_threads,
)

distributed = pytest.importorskip("distributed")


def _blas_threads():
    return [p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"]


# In-process workers (processes=False) start in a fraction of a second, where worker
# processes take several; the joblib dask backend is the same code either way.
def test_grid_search_on_dask_matches_serial():
    X, y = load_digits(return_X_y=True)
    X, y = X[:400] / 16, y[:400]
    search = GridSearchCV(
        MLPScratchClassifier(max_iter=15, random_state=0),
        {"hidden_layer_sizes": [(8,), (16,)], "alpha": [1e-4, 1e-1]}, cv=3, n_jobs=-1)
    with limit_blas_threads(1):  # as in the workers, to compare like with like
        serial = clone(search).set_params(n_jobs=1).fit(X, y).cv_results_

    before = _blas_threads()
    with (distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                   dashboard_address=None) as cluster,
          distributed.Client(cluster) as client):
        client.wait_for_workers(2)  # on a slow host a worker may not have joined yet
        client.register_plugin(BLASThreadLimit(1))
        threads = worker_blas_threads(client)
        assert len(threads) == 2
        assert all(n == 1 for libs in threads.values() for n in libs.values())
        with parallel_backend("dask"):
            dask_results = search.fit(X, y).cv_results_
    assert _blas_threads() == before  # in-process workers restored the limits

    assert dask_results["params"] == serial["params"]
    for key in ["mean_test_score", "std_test_score", "rank_test_score",
                "split0_test_score", "split1_test_score", "split2_test_score"]:
        np.testing.assert_array_equal(dask_results[key], serial[key], err_msg=key)
    assert search.best_params_ == serial["params"][np.argmin(serial["rank_test_score"])]
