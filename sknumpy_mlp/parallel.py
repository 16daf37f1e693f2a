"""Scaling a hyperparameter search out on dask, without oversubscribing the cores.

A search runs many small fits at once. Each fit spends its time in NumPy matrix
products, and the BLAS library behind them (OpenBLAS, MKL) starts one thread per core
by default: 4 workers on 4 cores would then run 16 BLAS threads that fight for the
cores and make every fit slower. Give each worker one core's worth of threads: as
many BLAS threads as ``threads_per_worker`` allows, usually 1.

Recipe (``pip install "sknumpy_mlp[dask]"``)::

    from dask.distributed import Client, LocalCluster
    from joblib import parallel_backend
    from sklearn.model_selection import GridSearchCV
    from sknumpy_mlp import MLPScratchClassifier
    from sknumpy_mlp.parallel import BLASThreadLimit

    if __name__ == "__main__":  # worker processes re-import the main module
        with (LocalCluster(n_workers=4, threads_per_worker=1) as cluster,
              Client(cluster) as client):
            client.register_plugin(BLASThreadLimit(1))  # every worker, and restarts
            search = GridSearchCV(MLPScratchClassifier(), param_grid, n_jobs=-1)
            with parallel_backend("dask"):  # or joblib.parallel_config("dask")
                search.fit(X, y)

What caps the threads where:

- Process workers started by a nanny (``LocalCluster()``, ``dask worker``) already get
  ``OMP_NUM_THREADS=MKL_NUM_THREADS=OPENBLAS_NUM_THREADS=1`` from distributed's
  ``distributed.nanny.pre-spawn-environ`` setting, before NumPy loads.
  :class:`BLASThreadLimit` states the cap in the code, sets another value if you
  want one, and covers the workers that this setting does not reach: in-process
  workers (``LocalCluster(processes=False)``, which share the client's process and
  its BLAS) and workers started without a nanny.
- Without dask, joblib's default ``loky`` backend caps BLAS threads in its workers by
  itself; :func:`limit_blas_threads` caps them in the current process, e.g. around a
  serial search whose fits should not use more than one core.
"""

import os
import threading

from threadpoolctl import threadpool_limits

try:  # dask is an optional extra; the plugin needs its base class to register
    from distributed.diagnostics.plugin import WorkerPlugin
except ImportError:  # pragma: no cover
    WorkerPlugin = object

__all__ = ["BLASThreadLimit", "limit_blas_threads", "worker_blas_threads"]


def limit_blas_threads(n=1):
    """Cap the BLAS and OpenMP thread pools of this process, as a context manager.

    Parameters
    ----------
    n : int, default=1
        Maximum number of threads of each BLAS/OpenMP library loaded in the process.

    Returns
    -------
    limiter : threadpoolctl.threadpool_limits
        Use it in a ``with`` statement; the previous limits come back on exit.

    Examples
    --------
    >>> from threadpoolctl import threadpool_info
    >>> from sknumpy_mlp.parallel import limit_blas_threads
    >>> with limit_blas_threads(1):
    ...     all(p["num_threads"] == 1 for p in threadpool_info())
    True
    """
    _load_blas()
    return threadpool_limits(limits=n)


def _load_blas():
    # threadpoolctl only sees libraries already loaded: NumPy's BLAS, and SciPy's own
    # copy in wheel installs.
    import numpy  # noqa: F401
    import scipy.linalg  # noqa: F401


# In-process workers share one process: the first plugin to start sets the limits,
# the last to stop restores them.
_lock = threading.Lock()
_active = {"count": 0, "limiter": None}


class BLASThreadLimit(WorkerPlugin):
    """Dask worker plugin capping BLAS threads in every worker, present and future.

    Register it once with ``client.register_plugin(BLASThreadLimit(n))``: each worker
    calls :meth:`setup` when it starts (or at registration if it is running), which
    sets the limits with threadpoolctl. Workers sharing a process
    (``processes=False``) count themselves, so the last one to close restores the
    process's previous limits.

    Parameters
    ----------
    n : int, default=1
        Maximum number of threads of each BLAS/OpenMP library in a worker's process.
        Usually 1, or ``cores // n_workers`` when workers have one thread each.

    See Also
    --------
    limit_blas_threads : The same cap for the current process, as a context manager.
    """

    name = "sknumpy_mlp-blas-threads"  # registering again replaces, not stacks

    def __init__(self, n=1):
        self.n = n

    def setup(self, worker):
        """Set the limits in the worker's process."""
        with _lock:
            _load_blas()
            limiter = threadpool_limits(limits=self.n)
            if _active["count"] == 0:  # this one remembers the limits to restore
                _active["limiter"] = limiter
            _active["count"] += 1

    def teardown(self, worker):
        """Restore the process's limits when its last worker closes."""
        with _lock:
            _active["count"] -= 1
            if _active["count"] == 0 and _active["limiter"] is not None:
                _active["limiter"].restore_original_limits()
                _active["limiter"] = None


def worker_blas_threads(client):
    """Threads of each BLAS library, per worker: to check that the cap holds.

    Parameters
    ----------
    client : distributed.Client
        Client of the cluster.

    Returns
    -------
    threads : dict
        ``{worker address: {BLAS library file name: num_threads}}``.
    """
    return client.run(_blas_threads)


def _blas_threads():
    from threadpoolctl import threadpool_info

    return {os.path.basename(info["filepath"]): info["num_threads"]
            for info in threadpool_info() if info["user_api"] == "blas"}
