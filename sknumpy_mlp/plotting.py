"""Display objects in scikit-learn's style: compute once, plot many times.

matplotlib is an optional dependency (the ``plot`` extra); it is imported only when a
plot is drawn, so importing this module never needs it.
"""

import numpy as np
from sklearn.utils.validation import check_is_fitted

# Label of the twin axes holding validation scores, so that a second display drawn on
# the same axes puts its scores on the same right-hand scale instead of a new one.
_SCORE_AXES_LABEL = "sknumpy_mlp: validation score"


def _check_matplotlib(caller):
    """Import matplotlib.pyplot, or explain how to install it."""
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise ImportError(
            f"{caller} requires matplotlib. Install it with "
            "`pip install matplotlib` or `pip install sknumpy_mlp[plot]`."
        ) from exc
    return plt


def _style(default, user):
    """Default style keywords overridden by the user's (aliases such as ``c`` too)."""
    from sklearn.utils._plotting import _validate_style_kwargs

    return _validate_style_kwargs(default, user or {})


def _find_score_axes(ax):
    """The twin axes of ``ax`` holding validation scores, or None."""
    return next((other for other in ax.figure.axes
                 if other is not ax and other.get_label() == _SCORE_AXES_LABEL
                 and other.get_shared_x_axes().joined(other, ax)), None)


def _score_axes(ax):
    """The twin axes of ``ax`` for validation scores, created on first use."""
    twin = _find_score_axes(ax)
    if twin is None:
        twin = ax.twinx()
        twin.set_label(_SCORE_AXES_LABEL)
        twin.set_ylabel("Validation score")
    return twin


def _draw_legend(ax, legend):
    """One legend for the lines of ``ax`` and of its score axes."""
    handles, labels = ax.get_legend_handles_labels()
    score_ax = _find_score_axes(ax)
    if score_ax is not None:
        more_handles, more_labels = score_ax.get_legend_handles_labels()
        handles, labels = handles + more_handles, labels + more_labels
        if ax.get_legend() is not None:
            ax.get_legend().remove()
    # On the score axes, drawn on top of ``ax``, so that no line hides it.
    kwargs = {"loc": "center right", **(legend if isinstance(legend, dict) else {})}
    (score_ax or ax).legend(handles, labels, **kwargs)


class LossCurveDisplay:
    """Loss curve visualization: training loss per epoch, validation curves if any.

    It is recommended to use :meth:`from_estimator` to create a display. All
    parameters are stored as attributes.

    Parameters
    ----------
    loss_curve : array-like of shape (n_epochs,)
        Training loss after each epoch (``loss_curve_``). It is the objective being
        minimized: the mean loss over the epoch's minibatches with the L2 penalty,
        label smoothing and dropout included.

    validation_scores : array-like of shape (n_epochs,), default=None
        Validation accuracy after each epoch (``validation_scores_``), drawn on a
        twin y-axis on the right.

    validation_loss_curve : array-like of shape (n_epochs,), default=None
        Validation log-loss after each epoch (``validation_loss_curve_``), drawn on
        the same axis as the training loss.

    best_epoch : int or list of int, default=None
        Epoch, counted from 1, whose weights were kept (early stopping); marked with
        a vertical line. A list (one epoch per member of an ensemble) gets a line for
        each distinct epoch.

    estimator_name : str, default=None
        Prefix of the legend labels, to tell several estimators apart on one axes.

    labels : dict, default=None
        Legend labels of the curves, by key ``"loss"``, ``"validation_loss"`` and
        ``"validation_score"``, replacing the defaults "training loss", "validation
        loss" and "validation score" (the prefix still comes first).

    Attributes
    ----------
    line_ : matplotlib Line2D
        Training loss.
    validation_loss_line_ : matplotlib Line2D or None
        Validation loss.
    validation_score_line_ : matplotlib Line2D or None
        Validation score, drawn on ``score_ax_``.
    best_epoch_line_ : matplotlib Line2D or None
        Vertical line at the best epoch (the first one, with several).
    ax_ : matplotlib Axes
        Axes with the losses.
    score_ax_ : matplotlib Axes or None
        Twin axes with the validation score (sharing the x-axis of ``ax_``).
    figure_ : matplotlib Figure
        Figure containing the plot.

    See Also
    --------
    sklearn.model_selection.LearningCurveDisplay : Scores against training set size.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> from sklearn.datasets import load_digits
    >>> from sknumpy_mlp import MLPScratchClassifier
    >>> from sknumpy_mlp.plotting import LossCurveDisplay
    >>> X, y = load_digits(return_X_y=True)
    >>> clf = MLPScratchClassifier((32,), early_stopping=True, max_iter=30,
    ...                            random_state=0).fit(X / 16, y)
    >>> display = LossCurveDisplay.from_estimator(clf)
    >>> len(display.line_.get_xdata()) == clf.n_iter_
    True
    >>> plt.close(display.figure_)
    """

    def __init__(self, loss_curve, validation_scores=None, validation_loss_curve=None,
                 best_epoch=None, estimator_name=None, labels=None):
        self.loss_curve = loss_curve
        self.validation_scores = validation_scores
        self.validation_loss_curve = validation_loss_curve
        self.best_epoch = best_epoch
        self.estimator_name = estimator_name
        self.labels = labels

    def plot(self, ax=None, *, name=None, line_kw=None, validation_loss_kw=None,
             validation_score_kw=None, best_epoch_kw=None, legend=True):
        """Plot the curves.

        Each curve takes the colour of the training loss, with its own line style, so
        that several displays drawn on one axes stay readable.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Axes to plot on. If None, a new figure and axes are created. Scores go to
            a twin axes, shared by every display drawn on ``ax``.

        name : str, default=None
            Prefix of the legend labels; overrides ``estimator_name``.

        line_kw, validation_loss_kw, validation_score_kw, best_epoch_kw : dict, \
default=None
            Keyword arguments passed to matplotlib's ``plot`` (``axvline`` for the
            best epoch), overriding the defaults.

        legend : bool or dict, default=True
            Whether to draw one legend for the lines of ``ax`` and its score axes; a
            dict is passed to matplotlib's ``legend`` (e.g. ``{"loc": "upper right",
            "fontsize": "small"}``). The default place, ``"center right"``, is where
            falling losses and rising scores usually leave room.

        Returns
        -------
        display : LossCurveDisplay
            Object that stores the computed values.
        """
        plt = _check_matplotlib(f"{type(self).__name__}.plot")
        if ax is None:
            _, ax = plt.subplots()
        name = self.estimator_name if name is None else name
        prefix = "" if name is None else f"{name}: "
        labels = {"loss": "training loss", "validation_loss": "validation loss",
                  "validation_score": "validation score", **(self.labels or {})}
        epochs = np.arange(1, len(self.loss_curve) + 1)

        (self.line_,) = ax.plot(
            epochs, self.loss_curve,
            **_style({"label": f"{prefix}{labels['loss']}"}, line_kw))
        color = self.line_.get_color()

        self.validation_loss_line_ = None
        if self.validation_loss_curve is not None:
            (self.validation_loss_line_,) = ax.plot(
                np.arange(1, len(self.validation_loss_curve) + 1),
                self.validation_loss_curve,
                **_style({"label": f"{prefix}{labels['validation_loss']}", "color": color,
                          "linestyle": "--"}, validation_loss_kw))

        self.score_ax_ = self.validation_score_line_ = None
        if self.validation_scores is not None:
            self.score_ax_ = _score_axes(ax)
            (self.validation_score_line_,) = self.score_ax_.plot(
                np.arange(1, len(self.validation_scores) + 1), self.validation_scores,
                **_style({"label": f"{prefix}{labels['validation_score']}", "color": color,
                          "linestyle": ":", "linewidth": 2}, validation_score_kw))

        self.best_epoch_line_ = None
        if self.best_epoch is not None:
            best = np.atleast_1d(self.best_epoch).tolist()
            text = (f"best epoch ({best[0]})" if len(best) == 1 else
                    f"best epochs ({', '.join(map(str, best))})")
            style = _style({"label": f"{prefix}{text}", "color": color,
                            "linestyle": "-.", "alpha": 0.6}, best_epoch_kw)
            for epoch in dict.fromkeys(best):  # one line per distinct epoch, in order
                line = ax.axvline(epoch, **style)
                if self.best_epoch_line_ is None:
                    self.best_epoch_line_ = line
                style["label"] = "_nolegend_"

        ax.set_xlabel("Epoch")
        ax.set_ylabel("Loss")
        if legend is not False:
            _draw_legend(ax, legend)

        self.ax_ = ax
        self.figure_ = ax.figure
        return self

    @classmethod
    def from_estimator(cls, estimator, ax=None, *, name=None, **kwargs):
        """Plot the loss curve of a fitted MLP.

        Works with :class:`~sknumpy_mlp.MLPScratchClassifier`, scikit-learn's
        ``MLPClassifier`` and ``MLPRegressor`` (any estimator with ``loss_curve_``),
        or a pipeline ending in one. With early stopping, the validation score (and,
        for our estimator, the validation loss) are drawn too, and the best epoch,
        whose weights were kept, is marked.

        With :class:`~sknumpy_mlp.tabular.TabularMLPClassifier` and
        :class:`~sknumpy_mlp.tabular.TabularMLPRegressor`, the curves are the means
        over the ensemble's members (the labels say so when there are several), the
        validation curve is labelled by what it measures (the log-loss, on the loss
        axis, for the default ``validation_metric``; accuracy or ROC AUC otherwise;
        1 - MSE of the standardized target for the regressor) and each member's best
        epoch is marked.

        Parameters
        ----------
        estimator : estimator instance
            Fitted estimator, or a fitted :class:`~sklearn.pipeline.Pipeline` whose
            last step has ``loss_curve_``.

        ax : matplotlib Axes, default=None
            Axes to plot on. If None, a new figure and axes are created.

        name : str, default=None
            Prefix of the legend labels. If None, the labels have no prefix.

        **kwargs : dict
            Keyword arguments passed to :meth:`plot`.

        Returns
        -------
        display : LossCurveDisplay
            Object that stores the computed values.
        """
        _check_matplotlib(f"{cls.__name__}.from_estimator")
        check_is_fitted(estimator)
        if hasattr(estimator, "steps"):  # a pipeline: its final estimator
            estimator = estimator[-1]
        loss_curve = getattr(estimator, "loss_curve_", None)
        if loss_curve is None:
            raise ValueError(
                f"{type(estimator).__name__} has no loss_curve_; fit a neural network "
                "(scikit-learn's MLPs record it for the stochastic solvers only).")
        if hasattr(estimator, "best_epochs_"):  # the tabular estimators
            display = cls(loss_curve, estimator_name=name,
                          **_tabular_curves(estimator))
            display.plot(ax=ax, **kwargs)
            return display
        scores = getattr(estimator, "validation_scores_", None)
        best_epoch = None
        if scores is not None and len(scores) and not np.all(np.isnan(scores)):
            # The stopping rule keeps the first epoch with the highest score.
            best_epoch = int(np.nanargmax(scores)) + 1
        display = cls(loss_curve, validation_scores=scores,
                      validation_loss_curve=getattr(estimator, "validation_loss_curve_",
                                                    None),
                      best_epoch=best_epoch, estimator_name=name)
        display.plot(ax=ax, **kwargs)
        if getattr(estimator, "solver", None) == "lbfgs":
            display.ax_.set_xlabel("L-BFGS iteration")
        return display


# What a tabular estimator's ``validation_scores_`` measure, by validation metric.
_TABULAR_SCORES = {"accuracy": "validation accuracy", "roc_auc": "validation ROC AUC"}


def _tabular_curves(estimator):
    """Curves and labels of a fitted tabular estimator, named for what they measure.

    Its ``validation_scores_`` hold the first entry of the score that picked the best
    epoch: the negative log-loss by default (drawn as the log-loss, beside the training
    loss), accuracy or ROC AUC, or for the regressor 1 - MSE on the standardized
    target. With several members every curve is their mean, and each member kept its
    own best epoch (``best_epochs_``, counted from 0).
    """
    members = getattr(estimator, "n_members_", 1)
    mean = f" (mean of {members} members)" if members > 1 else ""
    labels = {"loss": f"training loss{mean}"}
    scores = estimator.validation_scores_
    curves = {"labels": labels, "best_epoch": None}
    if scores is None:  # validation_fraction=0: no hold-out, the last epoch is kept
        return curves
    best = [int(b) + 1 for b in estimator.best_epochs_]
    curves["best_epoch"] = best[0] if len(best) == 1 else best
    metric = getattr(estimator, "validation_metric", None)
    if metric == "log_loss":
        curves["validation_loss_curve"] = [-s for s in scores]
        labels["validation_loss"] = f"validation log-loss{mean}"
    else:
        curves["validation_scores"] = scores
        labels["validation_score"] = _TABULAR_SCORES.get(
            metric, "validation 1 - MSE (standardized y)") + mean
    return curves
