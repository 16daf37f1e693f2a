"""scikit-learn's callback API (``sklearn.callback``, scikit-learn >= 1.9), tabular fits.

A tabular fit with callbacks trains its ``n_members_`` networks one after the other
(without, they share the cores: :mod:`._threads`; the model is the same), each for
``n_epochs`` epochs, so its task tree has two levels under the fit::

    fit                      (max_subtasks = n_members)
    +-- member 0             (max_subtasks = n_epochs)
    |   +-- epoch 0, epoch 1, ...
    +-- member 1
        +-- ...

Every level is present also with one member, so that a ``ScoringMonitor`` log has the
same shape whatever ``n_members="auto"`` chose. The ``fitted_estimator`` a callback
receives is, at the end of an epoch, the member being trained with its weights of that
epoch (a learning curve per member, as :class:`~sknumpy_mlp.MLPScratchClassifier`
gives); at the end of a member, the ensemble of the members trained so far, each with
its best epoch restored; at the end of the fit, the fitted estimator. The hooks get
the table and the target given to ``fit`` (each member holds out its own validation
rows, so no other split is common to all of them) and ``sample_weight`` as metadata.

A hook that returns True asks training to stop: after an epoch, the member stops at
once (its best epoch so far restored) and no further member starts; after a member, no
further member starts. A member cut short joins the ensemble only when it is the
first: later ones would average a network midway through its learning-rate cycles
into finished ones. Either way the estimator is fitted and its attributes agree
(``n_members_``, ``n_iter_``, ``loss_curve_``, ``best_epochs_``).

The bridge listens to the trainer's per-epoch ``reporter(epoch, history) -> stop``
hook, so :class:`~._training.TabularTrainer` knows nothing of callbacks: an epoch's
task is opened when the previous one closes (or when its member begins).
"""

import copy


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
        self.root = estimator._init_callback_context(max_subtasks=n_members)
        self.member = self.epoch = self.net = None
        self.cut_short = False  # the current member was stopped before its last epoch
        self.stop = False
        self._hook(self.root.call_on_fit_task_begin)

    def _hook(self, call, fitted=None):
        return bool(call(estimator=self.estimator, X=self.X, y=self.y,
                         metadata=self.metadata, reconstruction_attributes=fitted))

    def _open_epoch(self):
        self.epoch = self.member.subcontext(task_name="epoch")
        self._hook(self.epoch.call_on_fit_task_begin)

    def member_begin(self, net):
        """A member's training starts: open its task and its first epoch's."""
        self.net, self.cut_short = net, False
        self.member = self.root.subcontext(task_name="member",
                                           max_subtasks=self.n_epochs)
        self._hook(self.member.call_on_fit_task_begin)
        self._open_epoch()

    def report(self, epoch, history):
        """The trainer's reporter: close the epoch's task; True asks to stop."""
        net = self.net
        stop = self._hook(self.epoch.call_on_fit_task_end,
                          lambda: {"_networks": [copy.deepcopy(net)]})
        self.epoch = None
        if stop:
            self.stop = True
            self.cut_short = epoch + 1 < self.n_epochs
        elif epoch + 1 < self.n_epochs:
            self._open_epoch()
        return stop

    def member_end(self, networks):
        """Close the member's task (``networks``: the ensemble so far); True: stop."""
        kept = list(networks)  # finished members are not trained further
        self.stop |= self._hook(self.member.call_on_fit_task_end,
                                lambda: {"_networks": kept})
        self.member = None
        return self.stop

    def fit_end(self):
        """The fitted attributes are set: end the fit's task."""
        self._hook(self.root.call_on_fit_task_end, {})
