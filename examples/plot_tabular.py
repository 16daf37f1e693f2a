"""
=====================================================
A raw table: TabularMLPClassifier against boosting
=====================================================

:class:`~sknumpy_mlp.tabular.TabularMLPClassifier` takes a table as
:class:`~sklearn.ensemble.HistGradientBoostingClassifier` does: numeric and
categorical columns, missing values, no preprocessing pipeline. Here both face a table
built from scikit-learn's bundled breast-cancer data, with a few columns binned into
pandas categories and some values deleted, beside
:class:`~sknumpy_mlp.MLPScratchClassifier`, which needs the usual impute, scale and
one-hot pipeline in front of it.
"""

# %%
# A table with categories and missing values
# ------------------------------------------
# Three measurements become categories: two with a few levels (one-hot encoded inside
# the network) and one with 12 (a learned embedding). One value in ten of four other
# columns is deleted. ``SKNUMPY_MLP_QUICK=1`` (set by CI) trains for fewer epochs.
import os
import time
import warnings
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.compose import make_column_selector, make_column_transformer
from sklearn.datasets import load_breast_cancer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.impute import SimpleImputer
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from sknumpy_mlp import MLPScratchClassifier
from sknumpy_mlp.plotting import LossCurveDisplay
from sknumpy_mlp.tabular import TabularMLPClassifier

QUICK = os.environ.get("SKNUMPY_MLP_QUICK") == "1"
warnings.filterwarnings("ignore", category=ConvergenceWarning)  # short runs on purpose

X, y = load_breast_cancer(return_X_y=True, as_frame=True)
X = X.copy()
X["radius"] = pd.cut(X.pop("mean radius"), 4, labels=["small", "medium", "large", "huge"])
X["texture"] = pd.qcut(X.pop("mean texture"), 3, labels=["smooth", "mixed", "rough"])
X["area"] = pd.qcut(X.pop("worst area"), 12, labels=[f"q{i}" for i in range(1, 13)])
rng = np.random.RandomState(0)
for column in ["mean perimeter", "mean smoothness", "worst radius", "worst texture"]:
    X.loc[rng.rand(len(X)) < 0.1, column] = np.nan
X_train, X_test, y_train, y_test = train_test_split(X, y, stratify=y, random_state=0)
n_categorical = sum(isinstance(d, pd.CategoricalDtype) for d in X.dtypes)
print(f"{X.shape[1] - n_categorical} numeric and {n_categorical} categorical columns, "
      f"{X.isna().sum().sum()} missing values")

# %%
# Three contenders
# ----------------
# The tabular network and boosting read the frame as it is (boosting takes the
# ``category`` columns as categorical). The plain MLP gets a pipeline: the median for
# a missing number, the most frequent level for a missing category, standardized
# numbers and one-hot categories. Small settings keep this example fast; the tabular
# network's defaults (``n_epochs="auto"``, ``n_members="auto"``) train longer.
numeric = make_pipeline(SimpleImputer(strategy="median"), StandardScaler())
categorical = make_pipeline(SimpleImputer(strategy="most_frequent"),
                            OneHotEncoder(handle_unknown="ignore"))
columns = make_column_transformer(
    (numeric, make_column_selector(dtype_include="number")),
    (categorical, make_column_selector(dtype_include="category")))
models = {
    "TabularMLPClassifier": TabularMLPClassifier(
        n_epochs=16 if QUICK else 32, n_members=1 if QUICK else 2, random_state=0),
    "HistGradientBoosting": HistGradientBoostingClassifier(random_state=0),
    "MLPScratchClassifier": make_pipeline(columns, MLPScratchClassifier(
        (64,), max_iter=30 if QUICK else 200, random_state=0)),
}
results = {}
for name, model in models.items():
    start = time.perf_counter()
    model.fit(X_train, y_train)
    seconds = time.perf_counter() - start
    auc = roc_auc_score(y_test, model.predict_proba(X_test)[:, 1])
    results[name] = (1 - auc, model.score(X_test, y_test), seconds)
    print(f"{name:>22}: 1 - ROC AUC {1 - auc:.4f}, accuracy "
          f"{results[name][1]:.4f}, fit {seconds:.2f} s")

# %%
# Test error and what the network recorded
# -----------------------------------------
# Left, 1 - ROC AUC on the test set (lower is better; one small split, so read the
# differences with care). Right, the tabular network's training loss and validation
# log-loss per epoch, averaged over its members; each member keeps the weights of its
# best epoch on its own hold-out (the dash-dotted lines).
fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.5), layout="constrained")
names = list(results)
left.barh(names, [results[n][0] for n in names], color=["C0", "C1", "C2"])
for i, n in enumerate(names):
    left.text(results[n][0], i, f" {results[n][0]:.4f} ({results[n][2]:.1f} s)",
              va="center")
left.set_xlabel("1 - ROC AUC on the test set")
left.set_xlim(0, 1.3 * max(r[0] for r in results.values()))
left.invert_yaxis()
LossCurveDisplay.from_estimator(models["TabularMLPClassifier"], ax=right)
right.set_title("TabularMLPClassifier: loss per epoch")

# %%
# Saved for the README when ``SKNUMPY_MLP_SAVE_FIGURES=1``.
if os.environ.get("SKNUMPY_MLP_SAVE_FIGURES") == "1":
    out = Path(__file__).resolve().parent / "figures"
    out.mkdir(exist_ok=True)
    fig.savefig(out / "tabular.png", dpi=80)
plt.show()
