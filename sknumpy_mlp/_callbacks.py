"""scikit-learn's callback API (``sklearn.callback``, scikit-learn >= 1.9) for our loop.

scikit-learn describes a fit as a tree of tasks: the fit is the root and, here, each
epoch (or L-BFGS iteration) is a leaf under it. Callbacks such as
:class:`sklearn.callback.ProgressBar` and :class:`sklearn.callback.ScoringMonitor` hear
``on_fit_task_begin`` / ``on_fit_task_end`` for every task; a callback whose
``on_fit_task_end`` returns True asks training to stop after that epoch, which ends
it as cleanly as the stopping rule does (fitted attributes consistent, best weights
restored when early stopping).

The training loop knows nothing of this: it calls a reporter (:mod:`._progress`) at
fit begin, epoch begin and end, and closing. :class:`CallbackReporter` is such a
reporter that forwards each event to the callback context, and wraps the verbose
reporter so both run. With scikit-learn < 1.9 there is no ``sklearn.callback``:
:data:`CallbackSupportMixin` is then an empty class (no ``set_callbacks``) and
:func:`with_callbacks` returns the method unchanged.
"""

import copy

try:
    from sklearn.callback import CallbackSupportMixin, with_callbacks

    HAS_CALLBACKS = True
except ImportError:  # scikit-learn < 1.9
    HAS_CALLBACKS = False

    class CallbackSupportMixin:  # noqa: D101 (a stand-in without set_callbacks)
        pass

    def with_callbacks(method):
        """Return ``method`` unchanged: this scikit-learn has no callbacks."""
        return method


def has_callbacks(estimator):
    """Whether ``estimator`` will call callbacks in this fit."""
    return HAS_CALLBACKS and (bool(getattr(estimator, "_skl_callbacks", None))
                              or hasattr(estimator, "_parent_callback_ctx"))


def fitted_snapshot(net):
    """Attributes that make a copy of the estimator predict as ``net`` does now.

    A copy, not views: a callback may keep the estimator it was given while training
    moves on.
    """
    net = copy.deepcopy(net)  # params, batch-norm statistics; views rebuilt on copy
    return {"_network": net, "coefs_": net.coefs, "intercepts_": net.intercepts}


class CallbackReporter:
    """A reporter (see :mod:`._progress`) that also drives scikit-learn's callbacks.

    Parameters
    ----------
    estimator : estimator with ``CallbackSupportMixin``
        The estimator being fitted; its callbacks were set with ``set_callbacks``.
    inner : reporter
        The verbose reporter; every event is passed on to it as well.
    X, y : array-like
        The training data handed to the hooks (a ``ScoringMonitor`` scores on them):
        the training part when early stopping holds some data out.
    sample_weight : array-like or None
        Passed to the hooks as ``metadata={"sample_weight": ...}``.
    max_tasks : int
        The most epochs (or L-BFGS iterations) this fit can run.
    net : Network
        The network being trained, for the ``fitted_estimator`` the hooks may ask for.
    task_name : str, default="epoch"
        Name of the leaf tasks.
    """

    def __init__(self, estimator, inner, X, y, sample_weight, max_tasks, net,
                 task_name="epoch"):
        self.estimator, self.inner, self.net = estimator, inner, net
        self.X, self.y, self.task_name = X, y, task_name
        self.metadata = None if sample_weight is None else {"sample_weight": sample_weight}
        self.root = estimator._init_callback_context(max_subtasks=max_tasks)
        self.task = None
        self.stop_requested = False
        self._hook(self.root.call_on_fit_task_begin)

    def _hook(self, call, fitted=None):
        return call(estimator=self.estimator, X=self.X, y=self.y, metadata=self.metadata,
                    reconstruction_attributes=fitted)

    def _fitted(self):
        return fitted_snapshot(self.net)

    def epoch_begin(self):
        """An epoch starts: open its task."""
        self.inner.epoch_begin()
        self.task = self.root.subcontext(task_name=self.task_name)
        self._hook(self.task.call_on_fit_task_begin, self._fitted)

    def batch_end(self, k, n_batches, loss):
        """After every minibatch (the callbacks have no batch-level hook)."""
        self.inner.batch_end(k, n_batches, loss)

    def epoch_end(self, history):
        """The epoch is recorded: close its task; return True if a callback asks to stop."""
        inner_stop = self.inner.epoch_end(history)
        stop = self._end_task(self._fitted)
        return bool(inner_stop) or stop

    def _end_task(self, fitted=None):
        if self.task is None:
            return False
        task, self.task = self.task, None
        stop = bool(self._hook(task.call_on_fit_task_end, fitted))
        self.stop_requested |= stop
        return stop

    def lbfgs_iteration(self, it, loss):
        """One L-BFGS iteration is one task, begun and ended here."""
        self.inner.lbfgs_iteration(it, loss)
        self.task = self.root.subcontext(task_name=self.task_name)
        self._hook(self.task.call_on_fit_task_begin)
        return self._end_task(self._fitted)

    def message(self, msg):
        """A stopping or learning-rate message, for the verbose reporter."""
        self.inner.message(msg)

    def close(self):
        """Training is over: end an epoch cut short (divergence, Ctrl-C), then the fit."""
        self._end_task()
        self.inner.close()

    def fit_end(self):
        """The fitted attributes are set: end the root task."""
        self._hook(self.root.call_on_fit_task_end, {})
