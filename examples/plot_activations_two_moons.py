"""
=====================================
Activations on the two-moons problem
=====================================

The same network, trained with each of the eight hidden activations of
:class:`~sknumpy_mlp.MLPScratchClassifier`, and the decision boundary each one learns
on scikit-learn's two interleaving half-moons. ``identity`` can only draw a straight
line: without a non-linearity, stacked layers collapse to one linear model.
``logistic`` learns slowest (its gradient is at most 1/4 and vanishes as it
saturates): after the same number of epochs its boundary has barely started to bend.
The others wrap the boundary around the moons: smooth curves for ``tanh``, ``elu``,
``gelu`` and ``silu``, straight pieces for ``relu`` and ``leaky_relu``.
"""

# %%
# Data and settings
# -----------------
# ``SKNUMPY_MLP_QUICK=1`` (set by CI) trains for fewer epochs on fewer points.
import os
import warnings
from pathlib import Path

import matplotlib.pyplot as plt
from sklearn.datasets import make_moons
from sklearn.exceptions import ConvergenceWarning
from sklearn.inspection import DecisionBoundaryDisplay
from sklearn.model_selection import train_test_split

from sknumpy_mlp import MLPScratchClassifier

QUICK = os.environ.get("SKNUMPY_MLP_QUICK") == "1"
warnings.filterwarnings("ignore", category=ConvergenceWarning)  # short runs on purpose

X, y = make_moons(n_samples=200 if QUICK else 400, noise=0.25, random_state=0)
X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)

# %%
# One network per activation
# --------------------------
# Two hidden layers of 16 units, Adam, same seed: only the activation changes.
ACTIVATIONS = ["identity", "logistic", "tanh", "relu",
               "leaky_relu", "elu", "gelu", "silu"]

fig, axes = plt.subplots(2, 4, figsize=(12, 6), sharex=True, sharey=True,
                         layout="constrained")
for activation, ax in zip(ACTIVATIONS, axes.ravel()):
    clf = MLPScratchClassifier((16, 16), activation=activation,
                               learning_rate_init=0.01, max_iter=40 if QUICK else 300,
                               random_state=0).fit(X_train, y_train)
    DecisionBoundaryDisplay.from_estimator(
        clf, X, response_method="predict_proba", cmap="RdBu", alpha=0.7, ax=ax,
        grid_resolution=60 if QUICK else 150)
    ax.scatter(*X_test.T, c=y_test, cmap="RdBu", edgecolors="k", s=15)
    ax.set_title(f"{activation}: test accuracy {clf.score(X_test, y_test):.2f}")
    ax.set_xlabel("")
    ax.set_ylabel("")
fig.suptitle("Decision boundaries on two moons, one hidden activation per panel")

# %%
# Saved for the README when ``SKNUMPY_MLP_SAVE_FIGURES=1``.
if os.environ.get("SKNUMPY_MLP_SAVE_FIGURES") == "1":
    out = Path(__file__).resolve().parent / "figures"
    out.mkdir(exist_ok=True)
    fig.savefig(out / "activations_two_moons.png", dpi=80)
plt.show()
