"""
=====================================
Optimizers and learning-rate schedules
=====================================

The same network trained on the digits with each stochastic solver
(``sgd``, ``adam``, ``adamw``, ``rmsprop``) and, with Adam, each learning-rate
schedule (``constant``, ``cosine``, ``exponential``, and cosine after a linear
warm-up). Left: the training loss per epoch; right: the accuracy on held-out data.
"""

# %%
# Data and a helper
# -----------------
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
MAX_ITER = 12 if QUICK else 60
warnings.filterwarnings("ignore", category=ConvergenceWarning)  # fixed epoch budget

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X / 16, y, random_state=0)


def compare(settings, ax_loss, ax_acc, title):
    """Fit one network per setting; draw its loss curve and its test accuracy."""
    names, scores, colors = [], [], []
    for name, params in settings.items():
        clf = MLPScratchClassifier((64,), max_iter=MAX_ITER, random_state=0,
                                   **params).fit(X_train, y_train)
        display = LossCurveDisplay.from_estimator(clf, ax=ax_loss,
                                                  line_kw={"label": name})
        names.append(name)
        scores.append(clf.score(X_test, y_test))
        colors.append(display.line_.get_color())
    ax_loss.set_yscale("log")
    ax_loss.set_title(f"{title}: training loss")
    bars = ax_acc.barh(names, scores, color=colors)
    ax_acc.bar_label(bars, fmt="%.3f", padding=3)
    ax_acc.set_xlim(min(scores) - 0.05, 1.0)
    ax_acc.invert_yaxis()  # same order as the legend
    ax_acc.set_xlabel("Test accuracy")
    ax_acc.set_title("Test accuracy")


fig, axes = plt.subplots(2, 2, figsize=(11, 8), width_ratios=(3, 2),
                         layout="constrained")

# %%
# Optimizers
# ----------
# Constant learning rates: plain SGD (with Nesterov momentum) needs larger steps than
# the adaptive solvers, which divide each step by a running estimate of the
# gradient's size. AdamW decays the weights directly (``weight_decay``) instead of
# adding an L2 term to the gradient, where Adam's scaling would weaken it.
compare({
    "sgd, lr 0.05": dict(solver="sgd", learning_rate_init=0.05),
    "adam, lr 0.003": dict(solver="adam", learning_rate_init=0.003),
    "adamw, lr 0.003": dict(solver="adamw", learning_rate_init=0.003,
                            weight_decay=0.05),
    "rmsprop, lr 0.003": dict(solver="rmsprop", learning_rate_init=0.003),
}, *axes[0], "Optimizers")

# %%
# Schedules
# ---------
# Adam with a deliberately large initial rate (0.01), so that how it decays matters.
# ``cosine`` goes to 0 at ``max_iter``, ``exponential`` to 1% of the initial rate; the
# warm-up ramps the rate up linearly over the first 10% of the epochs, which tames
# the first, largest updates.
WARMUP = max(2, MAX_ITER // 10)
compare({
    "constant": dict(learning_rate="constant", learning_rate_init=0.01),
    "cosine": dict(learning_rate="cosine", learning_rate_init=0.01),
    "exponential": dict(learning_rate="exponential", learning_rate_init=0.01),
    "warm-up + cosine": dict(
        learning_rate="cosine", warmup_iter=WARMUP, learning_rate_init=0.01),
}, *axes[1], "Schedules (Adam, lr 0.01)")

# %%
# Saved for the README when ``SKNUMPY_MLP_SAVE_FIGURES=1``.
if os.environ.get("SKNUMPY_MLP_SAVE_FIGURES") == "1":
    out = Path(__file__).resolve().parent / "figures"
    out.mkdir(exist_ok=True)
    fig.savefig(out / "training_options.png", dpi=80)
plt.show()
