"""
=================================
Loss curves and early stopping
=================================

:class:`~sknumpy_mlp.plotting.LossCurveDisplay` draws what a fitted network recorded:
the training loss per epoch and, with ``early_stopping=True``, the validation loss,
the validation accuracy (right axis) and the epoch whose weights were kept.
"""

# %%
# Data
# ----
# ``SKNUMPY_MLP_QUICK=1`` (set by CI) trains for fewer epochs.
import os
import warnings
from pathlib import Path

import matplotlib.pyplot as plt
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split

from sknumpy_mlp import MLPScratchClassifier
from sknumpy_mlp.plotting import LossCurveDisplay

QUICK = os.environ.get("SKNUMPY_MLP_QUICK") == "1"
MAX_ITER = 15 if QUICK else 150
warnings.filterwarnings("ignore", category=ConvergenceWarning)  # short runs on purpose

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X / 16, y, random_state=0)

# %%
# One network with early stopping
# -------------------------------
# 10% of the training set is held out. Training stops once the validation accuracy
# has not improved for ``n_iter_no_change`` epochs, and the weights of the best epoch
# (the dash-dotted line) are restored. The accuracy moves in steps of one validation
# sample; the validation loss is the smoother signal of the two.
common = dict(hidden_layer_sizes=(64,), learning_rate_init=0.003, max_iter=MAX_ITER,
              early_stopping=True, n_iter_no_change=15, random_state=0)
plain = MLPScratchClassifier(**common).fit(X_train, y_train)

fig, (left, right) = plt.subplots(1, 2, figsize=(12, 5), layout="constrained")
display = LossCurveDisplay.from_estimator(plain, ax=left)
left.set_title(f"Early stopping kept epoch {display.best_epoch} of {plain.n_iter_}; "
               f"test accuracy {plain.score(X_test, y_test):.3f}")

# %%
# Two networks on one axes
# ------------------------
# Displays drawn on the same axes share it, and share the score axis on the right;
# ``name`` tells them apart. Dropout and label smoothing regularize: both losses of
# the regularized network stay higher (smoothed targets keep its probabilities away
# from 0 and 1, and its training loss is measured with dropout on), yet its
# accuracy holds up; the title compares the two on the test set.
regularized = MLPScratchClassifier(dropout=0.3, label_smoothing=0.1,
                                   **common).fit(X_train, y_train)
below = {"loc": "upper center", "bbox_to_anchor": (0.5, -0.12), "ncols": 2,
         "fontsize": "small"}
LossCurveDisplay.from_estimator(plain, ax=right, name="plain", legend=False)
LossCurveDisplay.from_estimator(regularized, ax=right, name="dropout + smoothing",
                                legend=below)
right.set_title(f"Test accuracy: plain {plain.score(X_test, y_test):.3f}, "
                f"regularized {regularized.score(X_test, y_test):.3f}")
right.set_yscale("log")

# %%
# Saved for the README when ``SKNUMPY_MLP_SAVE_FIGURES=1``.
if os.environ.get("SKNUMPY_MLP_SAVE_FIGURES") == "1":
    out = Path(__file__).resolve().parent / "figures"
    out.mkdir(exist_ok=True)
    fig.savefig(out / "loss_curves.png", dpi=80)
plt.show()
