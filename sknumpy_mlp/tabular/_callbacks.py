"""scikit-learn's callback API (``sklearn.callback``, scikit-learn >= 1.9), tabular fits.

A tabular fit trains ``n_members_`` networks, each for ``n_epochs`` epochs, side by side
on the cores as without callbacks (:mod:`._threads`; the model is the same), so its task
tree has two levels under the fit::

    fit                      (max_subtasks = n_members, members in parallel)
    +-- member 0             (max_subtasks = n_epochs)
    |   +-- epoch 0, epoch 1, ...
    +-- member 1
        +-- ...

A member's task id is its index, whatever order the members start and end in; the
fit's context says its subtasks are not sequential. Every level is present also with
one member, so that a ``ScoringMonitor`` log has the same shape whatever
``n_members="auto"`` chose. The hooks are called from the members' threads but never
two at a time (a lock), so a callback need not be thread-safe; with members on two
threads their epochs' hooks interleave.

The ``fitted_estimator`` a callback receives is, at the end of an epoch, the member
being trained with its weights of that epoch (a learning curve per member, as
:class:`~sknumpy_mlp.MLPScratchClassifier` gives); at the end of a member, the ensemble
of the members trained to their last epoch so far (in index order), each with its best
epoch restored; at the end of the fit, the fitted estimator. The hooks get the table
and the target given to ``fit`` (each member holds out its own validation rows, so no
other split is common to all of them) and ``sample_weight`` as metadata.

A hook that returns True asks training to stop, after an epoch or after a member:
every running member stops at the end of its current epoch (its best epoch so far
restored) and no further member starts. The ensemble is the members that reached their
last epoch; when none did, the first member as it stands (a member midway through its
learning-rate cycles is not averaged into finished ones). With one thread
(``threadpoolctl.threadpool_limits(1)``) the members run one after the other and this
is exactly "the members before the one that was stopped". Either way the estimator is
fitted and its attributes agree (``n_members_``, ``n_iter_``, ``loss_curve_``,
``best_epochs_``).

The bridge listens to the trainer's per-epoch ``reporter(epoch, history) -> stop``
hook, so :class:`~._training.TabularTrainer` knows nothing of callbacks: an epoch's
task is opened when the previous one closes (or when its member begins).
"""

import copy
import threading


class TabularCallbacks:
    """Drive scikit-learn's callbacks from a tabular fit (see the module docstring).

    Parameters
    ----------
    estimator : BaseTabularMLP
        The estimator being fitted, with ``CallbackSupportMixin``.
    X, y, sample_weight : the arguments of ``fit``
        Handed to the hooks (``sample_weight`` as ``metadata``).
    n_members, n_epochs : int
        The planned numbers of members and of epochs per member.
    """

    def __init__(self, estimator, X, y, sample_weight, n_members, n_epochs):
        self.estimator, self.X, self.y = estimator, X, y
        self.metadata = None if sample_weight is None else {"sample_weight": sample_weight}
        self.n_epochs = n_epochs
        self.lock = threading.RLock()  # one hook at a time, whichever thread calls
        self.finished = {}  # member index -> network trained to its last epoch
        self.root = estimator._init_callback_context(max_subtasks=n_members,
                                                     sequential_subtasks=False)
        self.hook(self.root.call_on_fit_task_begin)

    def hook(self, call, fitted=None):
        """Call one hook of every callback, under the lock; True: one asks to stop."""
        with self.lock:
            return bool(call(estimator=self.estimator, X=self.X, y=self.y,
                             metadata=self.metadata, reconstruction_attributes=fitted))

    def member(self, index, stop):
        """The tasks of member ``index``; ``stop`` (an Event) stops every member."""
        return MemberTasks(self, index, stop)

    def fit_end(self):
        """The fitted attributes are set: end the fit's task."""
        self.hook(self.root.call_on_fit_task_end, {})


class MemberTasks:
    """A member's task and its epochs': ``begin``, ``report`` each epoch, ``end``."""

    def __init__(self, callbacks, index, stop):
        self.callbacks, self.index, self.stop = callbacks, index, stop
        self.context = self.epoch = self.net = None

    def _open_epoch(self):
        self.epoch = self.context.subcontext(task_name="epoch")
        self.callbacks.hook(self.epoch.call_on_fit_task_begin)

    def begin(self, net):
        """Training starts: open the member's task and its first epoch's."""
        cb = self.callbacks
        self.net = net
        with cb.lock:  # subcontext() adds to the fit's children
            self.context = cb.root.subcontext(task_name="member", task_id=self.index,
                                              max_subtasks=cb.n_epochs)
            cb.hook(self.context.call_on_fit_task_begin)
            self._open_epoch()

    def report(self, epoch, history):
        """The trainer's reporter: close the epoch's task; True ends this member."""
        net, cb = self.net, self.callbacks
        with cb.lock:
            if cb.hook(self.epoch.call_on_fit_task_end,
                       lambda: {"_networks": [copy.deepcopy(net)]}):
                self.stop.set()
            self.epoch = None
            stopping = self.stop.is_set()  # decided once, under the lock
            if not stopping and epoch + 1 < cb.n_epochs:
                self._open_epoch()
        return stopping

    def end(self, net, history):
        """Close the member's task; True when the member reached its last epoch."""
        cb = self.callbacks
        complete = len(history.loss_curve) == cb.n_epochs
        with cb.lock:
            if complete:
                cb.finished[self.index] = net
            kept = [cb.finished[i] for i in sorted(cb.finished)]
            if not kept and self.index == 0:
                kept = [net]  # the first member, cut short, is the ensemble so far
            if cb.hook(self.context.call_on_fit_task_end,
                       lambda: {"_networks": kept} if kept else None):
                self.stop.set()
        return complete
