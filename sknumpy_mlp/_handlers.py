"""The handlers of the training loop's events (see :mod:`._events`), each with its state.

:func:`standard_handlers` lists them in the order a fit needs (each reads what the ones
before it wrote during the same ``epoch_end``):

1. :class:`DivergenceFallBack`: a diverged epoch goes no further;
2. :class:`EpochRecord`: the history gets the epoch (and the validation score);
3. :class:`Progress`: the reporter prints it, scikit-learn's callbacks hear it;
4. :class:`~._stopping.StoppingRule`: patience, and whether this epoch is the best;
5. :class:`BestWeights`: keeps the weights of that best epoch (early stopping);
6. :class:`~._stopping.Plateau`: scikit-learn's ``"adaptive"`` rate, when patience
   runs out (it answers the stopping rule's ``patience_out``);
7. :class:`ScheduleClock`: the learning rate moves on to the next epoch.

What must outlive one training call (the best loss, the patience counter) lives in the
:class:`~._training.History`, which the estimator keeps; the rest is the handler's own.
"""

import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import gen_batches

from ._events import Handler, StopTraining
from ._stopping import Plateau


class Snapshot:
    """A copy of a network's parameters and batch-norm statistics, to go back to."""

    def __init__(self, net):
        self.params = net.params.copy()
        self.state = net.state.copy()

    def save(self, net):
        """Copy the network's current weights into the snapshot."""
        np.copyto(self.params, net.params)
        np.copyto(self.state, net.state)

    def restore(self, net):
        """Copy the snapshot back into the network."""
        np.copyto(net.params, self.params)
        np.copyto(net.state, self.state)


def evaluate(net, X, Y, sample_weight=None):
    """The head's score and mean loss of ``net`` on ``(X, Y)`` (NaN if outputs overflow).

    The score is what the estimator's ``score`` reports (accuracy for the classifier,
    R^2 for the regressor), the loss what training minimizes, without the L2 term.
    """
    output = net.predict_output(X)
    if not np.all(np.isfinite(output)):
        return np.nan, np.nan
    return net.head.score_and_loss(output, Y, sample_weight)


class DivergenceFallBack(Handler):
    """Ends training when an epoch diverges, keeping the last weights that work.

    Holds two snapshots: the weights this call started from and those at the start of
    the current epoch. After a Ctrl-C that left non-finite weights, the latter return.
    """

    def fit_begin(self, run):
        self.start, self.last_good = Snapshot(run.net), Snapshot(run.net)

    def epoch_begin(self, run):
        self.last_good.save(run.net)

    def epoch_end(self, run):
        """Fall back, record the epoch as scikit-learn does, warn and stop, if diverged."""
        what = self.diverged(run)
        if what is None:
            return False
        self.fall_back(run)
        if run.validation is not None:
            # scikit-learn's validation_scores_ end with NaN after a divergence (code and
            # its own tests look for it); the weights kept are still the last good ones.
            run.history.record_epoch(run.loss, run.X.shape[0], (np.nan, np.nan))
        warnings.warn(
            f"Training diverged in epoch {run.history.n_iter + 1}: {what}. Stopped and "
            "kept the last weights that gave finite outputs. Lower learning_rate_init, "
            "scale the features (e.g. StandardScaler) or set clip_grad_norm.",
            ConvergenceWarning)
        raise StopTraining

    def fit_end(self, run):
        if run.interrupted and not np.all(np.isfinite(run.net.params)):
            self.last_good.restore(run.net)

    @staticmethod
    def diverged(run):
        """Say how the last epoch diverged, or return None if it did not.

        A huge learning rate seldom overflows float64 at once: the loss first explodes
        (1 -> 1e12 -> 1e24 ...) while the weights stay finite but useless. The floor of
        1 under the best loss keeps a tiny loss's wiggles from counting as divergence.
        (The epoch is not in the history yet: the best loss is that of the epochs before.)
        """
        loss, best_loss = run.loss, min(run.history.loss_curve, default=np.inf)
        if np.isfinite(loss) and loss > 1e4 * max(best_loss, 1.0):
            return f"the loss jumped to {loss:.3g}, over 10000 times its best value"
        if not np.isfinite(loss) or not np.isfinite(run.net.params).all():
            return "the loss is not finite"
        return None

    def fall_back(self, run):
        """Restore the first snapshot whose outputs and losses on ``X`` are finite.

        The weights at the start of an epoch come from the previous epoch's last step,
        which no loss has checked; if they overflow on ``X`` (float32, large features),
        the weights this call started from are the next candidate. When even those
        overflow, no weights of this fit can describe ``X``: scikit-learn's error.
        """
        for snapshot in (self.last_good, self.start):
            snapshot.restore(run.net)
            if _finite_on(run.net, run.X, run.Y):
                return
        raise ValueError(
            "Solver produced non-finite parameter weights. The input data may contain "
            "large values and need to be preprocessed. (Not even the weights this fit "
            "started from give finite outputs on it: scale the features, e.g. with a "
            "StandardScaler.)")


def _finite_on(net, X, Y):
    """Whether the network's outputs and losses on ``(X, Y)`` are all finite."""
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        for rows in gen_batches(X.shape[0], 4096):
            output = net.predict_output(X[rows])
            if not (np.isfinite(output).all()
                    and np.isfinite(net.head.per_sample_loss(output, Y[rows])).all()):
                return False
    return True


class EpochRecord(Handler):
    """Writes each epoch into the history: loss, samples seen, validation score and loss.

    ``n_iter`` restarts at every call, as scikit-learn's ``n_iter_`` does.
    """

    def fit_begin(self, run):
        run.history.n_iter = 0

    def epoch_end(self, run):
        scores = None if run.validation is None else evaluate(run.net, *run.validation)
        run.history.record_epoch(run.loss, run.X.shape[0], scores)


class Progress(Handler):
    """The reporter (:mod:`._progress`: verbose lines, sklearn callbacks) as a handler.

    Its ``epoch_end`` may return True: a callback asks to stop.
    """

    def __init__(self, reporter):
        self.reporter = reporter

    def epoch_begin(self, run):
        self.reporter.epoch_begin()

    def batch_end(self, run, k, n_batches, loss):
        self.reporter.batch_end(k, n_batches, loss)

    def epoch_end(self, run):
        return bool(self.reporter.epoch_end(run.history))

    def stop(self, run):
        if run.stopped_by == [self]:  # the stopping rule, if it stopped too, said so
            self.reporter.message("A callback asked to stop. Stopping.")

    def message(self, run, msg):
        self.reporter.message(msg)

    def fit_end(self, run):
        self.reporter.close()


class BestWeights(Handler):
    """With early stopping, keeps the best epoch's weights and restores them at the end.

    Not after an error: the weights then are those training left (the estimator's
    fitted attributes describe them).
    """

    def __init__(self):
        self.best = None

    def fit_begin(self, run):
        self.best = None if run.validation is None else Snapshot(run.net)

    def epoch_end(self, run):
        if self.best is not None and run.improved:
            self.best.save(run.net)

    def fit_end(self, run):
        if self.best is not None and run.ended_cleanly:
            self.best.restore(run.net)


class ScheduleClock(Handler):
    """Moves the learning rate on after every epoch and publishes the next step's rate.

    scikit-learn's optimizers carry their step size as ``optimizer.learning_rate``, and
    code (its own tests among it) reads it after ``fit``; ours take the rate as an
    argument of ``step``, so it is shown there.
    """

    def fit_begin(self, run):
        self.publish(run)

    def epoch_end(self, run):
        run.learning_rate.epoch_end(run.history.t)
        self.publish(run)

    @staticmethod
    def publish(run):
        rate = run.learning_rate
        run.optimizer.learning_rate = rate.at(rate.epochs_done)


def standard_handlers(stopping, learning_rate, reporter):
    """The handlers of a stochastic fit, in the order they must hear each event."""
    plateau = [Plateau(learning_rate)] if Plateau.applies(learning_rate) else []
    return [DivergenceFallBack(), EpochRecord(), Progress(reporter), stopping,
            BestWeights(), *plateau, ScheduleClock()]
