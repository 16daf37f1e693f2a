"""
=====================================
Grid search on a dask cluster
=====================================

scikit-learn's :class:`~sklearn.model_selection.GridSearchCV` runs its fits through
joblib, and joblib can hand them to a dask cluster: the same search, spread over the
cluster's workers, with the same results as a serial run. Each fit's matrix products
run in BLAS, whose thread pool would otherwise claim every core in every worker;
:class:`~sknumpy_mlp.parallel.BLASThreadLimit` caps it at one thread per worker.

This example starts a :class:`~distributed.LocalCluster` of in-process workers, which
start in a blink and share the BLAS of this process: they show the mechanics, not a
speed-up (they take turns holding Python's global lock). For real work use worker
processes (``LocalCluster(processes=True)``, the default) or a remote cluster, and
guard the script with ``if __name__ == "__main__":``, since worker processes
re-import the main module.
"""

# %%
# Data and search
# ---------------
# ``SKNUMPY_MLP_QUICK=1`` (set by CI) trains for fewer epochs on a smaller grid.
import os
import time
import warnings
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from dask.distributed import Client, LocalCluster
from joblib import parallel_backend
from sklearn.base import clone
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV

from sknumpy_mlp import MLPScratchClassifier
from sknumpy_mlp.parallel import (
    BLASThreadLimit,
    limit_blas_threads,
    worker_blas_threads,
)

QUICK = os.environ.get("SKNUMPY_MLP_QUICK") == "1"
warnings.filterwarnings("ignore", category=ConvergenceWarning)  # fixed epoch budget

X, y = load_digits(return_X_y=True)
X = X / 16
sizes = [(16,), (64,)]
alphas = [1e-4, 1.0] if QUICK else [1e-4, 1e-2, 1.0, 10.0]
search = GridSearchCV(
    MLPScratchClassifier(max_iter=10 if QUICK else 20, learning_rate_init=0.005,
                         random_state=0),
    {"hidden_layer_sizes": sizes, "alpha": alphas}, cv=3, n_jobs=-1)

# %%
# On the cluster
# --------------
# ``n_jobs=-1`` lets joblib use every worker thread of the cluster. The plugin sets
# the BLAS limit in each worker, and in every worker that joins later.
with (LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                   dashboard_address=None) as cluster,
      Client(cluster) as client):
    client.register_plugin(BLASThreadLimit(1))
    threads = worker_blas_threads(client)  # {worker: {BLAS library: threads}}
    print("BLAS threads per worker:", [max(t.values()) for t in threads.values()])
    start = time.perf_counter()
    with parallel_backend("dask"):
        search.fit(X, y)
    print(f"dask search: {time.perf_counter() - start:.1f} s")

# %%
# The same search, serially
# -------------------------
# Every fit is seeded, so the cluster changes where the fits run, not what they
# compute.
start = time.perf_counter()
with limit_blas_threads(1):
    serial = clone(search).set_params(n_jobs=1).fit(X, y)
print(f"serial search: {time.perf_counter() - start:.1f} s")
same = np.array_equal(search.cv_results_["mean_test_score"],
                      serial.cv_results_["mean_test_score"])
print("same cv_results_ as the serial run:", same)
print("best:", search.best_params_, f"score {search.best_score_:.3f}")

# %%
# Mean cross-validated accuracy over the grid
# --------------------------------------------
# A strong L2 penalty (``alpha=10``) underfits, and within this short budget of
# epochs the wider layer learns more.
scores = search.cv_results_["mean_test_score"].reshape(len(alphas), len(sizes))
fig, ax = plt.subplots(figsize=(5.5, 4), layout="constrained")
image = ax.imshow(scores, cmap="viridis", aspect="auto")
for (i, j), score in np.ndenumerate(scores):
    ax.text(j, i, f"{score:.3f}", ha="center", va="center",
            color="black" if score > scores.mean() else "white")
ax.set_xticks(range(len(sizes)), [str(s[0]) for s in sizes])
ax.set_yticks(range(len(alphas)), [f"{a:g}" for a in alphas])
ax.set_xlabel("hidden units")
ax.set_ylabel("alpha")
ax.set_title(f"Mean CV accuracy (same as serial: {same})")
fig.colorbar(image, ax=ax)

# %%
# Saved for the README when ``SKNUMPY_MLP_SAVE_FIGURES=1``.
if os.environ.get("SKNUMPY_MLP_SAVE_FIGURES") == "1":
    out = Path(__file__).resolve().parent / "figures"
    out.mkdir(exist_ok=True)
    fig.savefig(out / "distributed_search.png", dpi=80)
plt.show()
