"""
==============================================================
Digits: a Pipeline, a grid search, cross-validation and joblib
==============================================================

:class:`~sknumpy_mlp.MLPScratchClassifier` is a scikit-learn estimator like any
other: it goes into a :class:`~sklearn.pipeline.Pipeline`, is tuned by
:class:`~sklearn.model_selection.GridSearchCV` (in parallel worker processes), is
scored by :func:`~sklearn.model_selection.cross_validate` and is saved with
:mod:`joblib`. With its own options at their defaults it also trains *exactly* as
:class:`~sklearn.neural_network.MLPClassifier`: the last section swaps one for the
other and gets the same probabilities.
"""

# %%
# Data
# ----
# scikit-learn's 1,797 bundled 8x8 digits, no download. A quarter is kept aside
# for the final test. ``SKNUMPY_MLP_QUICK=1`` (set by CI) shrinks the grid and the
# number of epochs.
import os
import tempfile
import time
import warnings
from pathlib import Path

import joblib
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, cross_validate, train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sknumpy_mlp import MLPScratchClassifier

QUICK = os.environ.get("SKNUMPY_MLP_QUICK") == "1"
MAX_ITER = 15 if QUICK else 60
warnings.filterwarnings("ignore", category=ConvergenceWarning)  # short runs on purpose

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.25, stratify=y, random_state=0)
print(f"{len(X_train)} training and {len(X_test)} test images of {X.shape[1]} pixels")

# %%
# A pipeline
# ----------
# Standardizing the pixels helps every gradient-based solver; in a pipeline the
# scaler is fitted on the training folds only. Parameters of a step are reached
# as ``<step>__<parameter>``.
pipe = make_pipeline(
    StandardScaler(),
    MLPScratchClassifier(max_iter=MAX_ITER, learning_rate_init=0.003, random_state=0),
)
print(pipe)

# %%
# A grid search in two processes
# ------------------------------
# ``n_jobs=2`` sends each candidate to a worker process: the estimator is pickled
# there and back. Our extras (here ``dropout``) are searched like any other
# parameter.
param_grid = {
    "mlpscratchclassifier__hidden_layer_sizes": [(64,), (128,)],
    "mlpscratchclassifier__alpha": [1e-4, 1e-1],
}
if not QUICK:
    param_grid["mlpscratchclassifier__dropout"] = [0.0, 0.2]
search = GridSearchCV(pipe, param_grid, cv=3, n_jobs=2)
start = time.perf_counter()
search.fit(X_train, y_train)
print(f"{len(search.cv_results_['params'])} candidates x 3 folds in "
      f"{time.perf_counter() - start:.1f} s")
for params, mean, std in zip(search.cv_results_["params"],
                             search.cv_results_["mean_test_score"],
                             search.cv_results_["std_test_score"]):
    short = {k.split("__")[1]: v for k, v in params.items()}
    print(f"  {mean:.3f} +/- {std:.3f}  {short}")
print("best:", {k.split("__")[1]: v for k, v in search.best_params_.items()})

# %%
# Cross-validation of the chosen model
# ------------------------------------
# :func:`~sklearn.model_selection.cross_validate` refits the best pipeline on five
# new splits of the training set and reports several scores and the fit time.
cv = cross_validate(search.best_estimator_, X_train, y_train, cv=3 if QUICK else 5,
                    scoring=["accuracy", "neg_log_loss"])
print(f"accuracy {cv['test_accuracy'].mean():.3f} +/- {cv['test_accuracy'].std():.3f}, "
      f"log-loss {-cv['test_neg_log_loss'].mean():.3f}, "
      f"fit {cv['fit_time'].mean():.2f} s per fold")

# %%
# Test set and the loss curve
# ---------------------------
# ``search.best_estimator_`` was refitted on the whole training set.
best = search.best_estimator_
print(f"test accuracy: {best.score(X_test, y_test):.3f}")
clf = best[-1]
fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4), layout="constrained")
short_names = {"hidden_layer_sizes": "hidden", "alpha": "alpha", "dropout": "dropout"}
names = [" ".join(f"{short_names[k.split('__')[1]]}={v}" for k, v in p.items())
         for p in search.cv_results_["params"]]
left.barh(names, search.cv_results_["mean_test_score"],
          xerr=search.cv_results_["std_test_score"], color="tab:blue")
left.set(xlabel="mean CV accuracy", xlim=(0.9, 1.0), title="Grid search (3-fold CV)")
left.tick_params(axis="y", labelsize="small")
right.plot(np.arange(1, clf.n_iter_ + 1), clf.loss_curve_)
right.set(xlabel="epoch", ylabel="training loss", yscale="log",
          title=f"Refitted best: test accuracy {best.score(X_test, y_test):.3f}")

# %%
# Saved for the README when ``SKNUMPY_MLP_SAVE_FIGURES=1``.
if os.environ.get("SKNUMPY_MLP_SAVE_FIGURES") == "1":
    out = Path(__file__).resolve().parent / "figures"
    out.mkdir(exist_ok=True)
    fig.savefig(out / "digits_pipeline.png", dpi=80)
plt.show()

# %%
# Saving and loading with joblib
# ------------------------------
# The whole pipeline, scaler included, round-trips through a file; the loaded copy
# predicts the same probabilities bit for bit. (``sknumpy_mlp.save`` and
# ``sknumpy_mlp.load`` offer a format that, unlike a pickle, runs no code on load.)
with tempfile.TemporaryDirectory() as folder:
    path = Path(folder) / "digits_pipeline.joblib"
    joblib.dump(best, path)
    loaded = joblib.load(path)
    print(f"{path.name}: {path.stat().st_size / 1024:.0f} KiB")
assert np.array_equal(loaded.predict_proba(X_test), best.predict_proba(X_test))
print("the loaded pipeline predicts the same probabilities")

# %%
# A drop-in replacement
# ---------------------
# Put scikit-learn's MLPClassifier in the same pipeline with the same parameters
# (our extras left at their defaults): same initialization, same minibatches, same
# updates, hence the same probabilities to rounding error.
settings = {k.split("__")[1]: v for k, v in search.best_params_.items()
            if not k.endswith("dropout")}
common = dict(max_iter=MAX_ITER, learning_rate_init=0.003, random_state=0, **settings)
ours = make_pipeline(StandardScaler(), MLPScratchClassifier(**common))
theirs = make_pipeline(StandardScaler(), MLPClassifier(**common))
for name, model in (("sknumpy_mlp", ours), ("scikit-learn", theirs)):
    start = time.perf_counter()
    model.fit(X_train, y_train)
    print(f"{name:>12}: test accuracy {model.score(X_test, y_test):.4f}, "
          f"fit {time.perf_counter() - start:.2f} s")
gap = np.abs(ours.predict_proba(X_test) - theirs.predict_proba(X_test)).max()
print(f"largest difference between their probabilities: {gap:.1e}")
