"""Events of the stochastic training loop, and the protocol of the handlers that hear them.

The loop (:class:`~._training.StochasticTrainer`) trains; everything else listens. It
announces, in this order (skorch's ``on_train_begin`` / ``on_epoch_end`` /
``on_train_end``, scikit-learn's ``sklearn.callback`` in miniature)::

    fit_begin(run)
    epoch_begin(run)                      once per epoch ...
        batch_end(run, k, n_batches, loss)    ... after each minibatch
    epoch_end(run) -> stop?               ... every handler hears it; then, if any
    stop(run)                                 of them returned True, training stops
    fit_end(run)                          always, even after an error

Two more travel between handlers: ``message(run, msg)`` (what :meth:`Run.say` sends;
the reporter prints it) and ``patience_out(run, notice)`` (the stopping rule's patience
ran out; a plateau rule may lower the learning rate instead, see
:class:`PatienceOut`). A handler implements only the hooks it needs: the others are
never called, so a hook costs nothing to the handlers that ignore it.

A handler may end training at once, before the later handlers hear the epoch, by
raising :class:`StopTraining` (the divergence fall-back does: a diverged epoch must not
reach the stopping rule or the history as if it were a normal one).
"""

import math
from dataclasses import dataclass, field

HOOKS = ("fit_begin", "epoch_begin", "batch_end", "epoch_end", "stop", "patience_out",
         "message", "fit_end")


class Handler:
    """A listener of the training loop; every hook is optional.

    The handlers are called in the order they were given to the trainer. Each one keeps
    its own state (a snapshot, a counter); what they share is the :class:`Run`.
    """

    def fit_begin(self, run):
        """Training starts (one ``fit`` or ``partial_fit`` call)."""

    def epoch_begin(self, run):
        """An epoch starts."""

    def batch_end(self, run, k, n_batches, loss):
        """Minibatch ``k`` of ``n_batches`` (from 1) is done; ``loss`` is its loss."""

    def epoch_end(self, run):
        """The epoch is done (``run.loss``); return True to stop training after it."""

    def stop(self, run):
        """Training stops after this epoch: ``run.stopped_by`` asked for it."""

    def patience_out(self, run, notice):
        """The stopping rule's patience ran out; see :class:`PatienceOut`."""

    def message(self, run, msg):
        """A handler has something to tell the user."""

    def fit_end(self, run):
        """Training is over, by any way; ``run.ended_cleanly`` is False after an error."""


class StopTraining(Exception):  # noqa: N818 (a signal, like StopIteration)
    """Raised by a handler to end training now; later handlers do not hear the epoch."""


@dataclass
class PatienceOut:
    """What the stopping rule tells the other handlers when its patience runs out.

    A handler that can do better than stopping (scikit-learn's ``"adaptive"`` rate:
    divide it by 5) sets ``carry_on``, and the stopping rule then gives its patience
    back; one that cannot may say why in ``reason``, which ends the stop message.
    """

    message: str  # "Training loss did not improve more than tol=... for 10 ... epochs."
    carry_on: bool = False
    reason: str = ""  # e.g. " Learning rate too small."


def _listens(handler, hook):
    """Whether ``handler`` implements ``hook`` (not just inherits the no-op)."""
    method = getattr(type(handler), hook, None)
    return method is not None and method is not getattr(Handler, hook)


class Events:
    """The handlers of a trainer, in order, and which of them listen to each hook."""

    def __init__(self, handlers):
        self.handlers = tuple(handlers)
        self._listeners = {hook: [h for h in self.handlers if _listens(h, hook)]
                           for hook in HOOKS}
        self._methods = {hook: [getattr(h, hook) for h in listeners]
                         for hook, listeners in self._listeners.items()}

    def hooks(self, hook):
        """The bound methods that ``hook`` calls, in order (for the per-batch hot path)."""
        return self._methods[hook]

    def emit(self, hook, *args):
        """Call ``hook`` on its listeners, in order."""
        for method in self._methods[hook]:
            method(*args)

    def ask(self, hook, *args):
        """Call ``hook`` on all its listeners, in order; return those that said True."""
        return [h for h, method in zip(self._listeners[hook], self._methods[hook])
                if method(*args)]


@dataclass(eq=False)
class Run:
    """One training call: what the loop and its handlers share.

    The loop fills in the data and, after every epoch, ``loss``; the handlers read
    what they need and write their verdicts (``improved``, the history).
    """

    net: object
    optimizer: object
    learning_rate: object
    history: object  # ~._training.History: what outlives the call (fitted attributes)
    events: Events
    X: object
    Y: object
    sample_weight: object = None
    validation: tuple = None  # (X_val, Y_val, sw_val) when early stopping
    ws: object = None  # the network's per-batch workspace
    keys: object = None  # the rows' dropout keys
    order: object = None  # the current permutation of the rows (when shuffling)
    loss: float = math.nan  # the last epoch's sample-averaged training loss
    improved: bool = False  # set by the stopping rule: the last epoch is the best
    stopped_by: list = field(default_factory=list)  # handlers that asked to stop
    ended_cleanly: bool = False  # no exception escaped (a stop, Ctrl-C, divergence)
    interrupted: bool = False  # Ctrl-C

    def say(self, msg):
        """Send ``msg`` to the handlers that listen to messages (the reporter)."""
        self.events.emit("message", self, msg)
