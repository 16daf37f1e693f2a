"""Training: minibatches -> one epoch -> the loop (L-BFGS is in :mod:`._lbfgs`).

The pieces are separate objects that the loop only calls: the optimizer
(:mod:`._optimizers`) moves the parameters, :class:`~._schedules.LearningRate` says
how far, and :class:`StoppingRule` says when to stop (scikit-learn folds all three
into one 190-line method; here each reads on its own). Nothing in this module knows
about labels, pandas or parameter validation: the estimator hands it arrays.
"""

import contextlib
import warnings
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
from scipy import sparse
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import gen_batches, shuffle
from threadpoolctl import ThreadpoolController

from ._sampling import row_keys
from ._schedules import LearningRate  # noqa: F401 (its home until 0.1: older pickles)

# Below this many multiply-adds in a batch's largest matrix product, a second BLAS thread
# costs more in synchronisation than it saves (and on a busy machine, far more).
SMALL_PRODUCT = 4_000_000


@lru_cache(maxsize=1)
def _blas_controller():
    return ThreadpoolController()  # scanning the loaded libraries once, not per fit


def blas_threads(layer_units, batch_size):
    """Context: one BLAS thread when the per-batch products are small, else the default."""
    largest = max(a * b for a, b in zip(layer_units[:-1], layer_units[1:]))
    if batch_size * largest < SMALL_PRODUCT:
        return _blas_controller().limit(limits=1, user_api="blas")
    return contextlib.nullcontext()


@dataclass
class History:
    """What training remembers between epochs and between ``partial_fit`` calls."""

    early_stopping: bool
    loss_curve: list = field(default_factory=list)
    validation_scores: list = None
    validation_losses: list = None
    best_loss: float = None
    best_validation_score: float = None
    best_validation_loss: float = None
    no_improvement_count: int = 0
    n_iter: int = 0
    t: int = 0
    steps: int = 0  # optimizer steps ever taken: the dropout masks' counter

    def __post_init__(self):
        if self.early_stopping:
            self.validation_scores, self.validation_losses = [], []
            self.best_validation_score = -np.inf
            self.best_validation_loss = np.inf
        else:
            self.best_loss = np.inf


class StoppingRule:
    """scikit-learn's rule: stop after ``n_iter_no_change`` epochs without a ``tol`` gain.

    The monitored quantity is the validation score (the head's: accuracy or R^2) when
    early stopping is on and the training loss otherwise. Returns whether the latest
    epoch is the best so far, so the caller can keep those weights.

    One refinement over scikit-learn: with early stopping, ties in validation accuracy
    are broken by the validation loss. Accuracy is coarse on a small hold-out and often
    saturates in the first epochs; scikit-learn then stops and restores those barely
    trained weights, while here training goes on as long as the held-out loss still
    falls by more than ``tol``. ``break_ties=False`` is scikit-learn's rule exactly; the
    estimator uses it for a target of a single class, whose accuracy is always 1 and
    whose loss only measures how far the output has saturated, which changes no
    prediction.
    """

    def __init__(self, tol, n_iter_no_change, break_ties=True):
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.break_ties = break_ties

    def update(self, history):
        """Update ``history`` counters after an epoch; return True if this epoch is best."""
        if history.early_stopping:
            score, loss = history.validation_scores[-1], history.validation_losses[-1]
            best_score = history.best_validation_score
            best_loss = history.best_validation_loss
            tie_won = self.break_ties and score >= best_score and loss < best_loss
            worse = score < best_score + self.tol and not (
                tie_won and loss < best_loss - self.tol)
            best = score > best_score or (score == best_score and tie_won)
            if best:
                history.best_validation_score = score
                history.best_validation_loss = loss
        else:
            loss = history.loss_curve[-1]
            worse = loss > history.best_loss - self.tol
            best = loss < history.best_loss
            if best:
                history.best_loss = loss
        history.no_improvement_count = history.no_improvement_count + 1 if worse else 0
        return best

    def exhausted(self, history):
        """Whether the patience has run out."""
        return history.no_improvement_count > self.n_iter_no_change


def evaluate(net, X, Y, sample_weight=None):
    """The head's score and mean loss of ``net`` on ``(X, Y)`` (NaN if outputs overflow).

    The score is what the estimator's ``score`` reports (accuracy for the classifier,
    R^2 for the regressor), the loss what training minimizes, without the L2 term.
    """
    output = net.predict_output(X)
    if not np.all(np.isfinite(output)):
        return np.nan, np.nan
    return net.head.score_and_loss(output, Y, sample_weight)


class StochasticTrainer:
    """Minibatch training with any flat-buffer optimizer.

    Parameters
    ----------
    net : Network
    optimizer : object with ``step(params, grads, lr)``
    learning_rate : LearningRate
    stopping : StoppingRule
    batch_size : int
    shuffle : bool
    rng : numpy.random.RandomState
        Shuffling, as scikit-learn does it.
    dropout_salt : int
        Salt of the content-keyed dropout masks (see :mod:`._sampling`).
    alpha, label_smoothing, clip_grad_norm : float or None
    max_iter : int
    reporter : object
        Receives ``batch_end``/``epoch_end``/``message`` calls (verbose output).
    """

    def __init__(self, net, optimizer, learning_rate, stopping, *, batch_size, shuffle,
                 rng, alpha, label_smoothing, clip_grad_norm, max_iter, reporter,
                 dropout_salt=0):
        self.net = net
        self.optimizer = optimizer
        self.learning_rate = learning_rate
        self.stopping = stopping
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.rng = rng
        self.alpha = alpha
        self.label_smoothing = label_smoothing
        self.clip_grad_norm = clip_grad_norm
        self.max_iter = max_iter
        self.reporter = reporter
        self.dropout_salt = dropout_salt

    def step(self, X, Y, sample_weight, ws, progress, keys, step):
        """One optimizer step on one batch; returns the batch loss."""
        net = self.net
        loss = net.loss_and_grad(X, Y, ws, sample_weight=sample_weight, alpha=self.alpha,
                                 label_smoothing=self.label_smoothing, dropout_keys=keys,
                                 step=step)
        if self.clip_grad_norm is not None:
            norm = np.sqrt(np.dot(net.grads, net.grads))
            if norm > self.clip_grad_norm:  # global norm clipping (Pascanu et al., 2013)
                net.grads *= self.clip_grad_norm / norm
        self.optimizer.step(net.params, net.grads, self.learning_rate.at(progress))
        return loss

    def run_epoch(self, X, Y, sample_weight, ws, order, history, keys=None):
        """One pass over the data in ``order``; returns the sample-averaged loss.

        Returns NaN as soon as a batch loss is not finite (divergence); the caller
        restores the last good weights.
        """
        n = X.shape[0]
        dense = not sparse.issparse(X)
        batches = self.batches(n)
        epoch = self.learning_rate.epochs_done
        total = 0.0
        for k, batch in enumerate(batches):
            if order is None:
                Xb, Yb = X[batch], Y[batch]
                swb = None if sample_weight is None else sample_weight[batch]
                kb = None if keys is None else keys[batch]
            else:
                idx = order[batch]
                # Gather rows straight into the preallocated batch buffer: no allocation.
                # mode="clip" (idx is a permutation, always in range): with the default
                # mode="raise", np.take buffers `out` and runs ~3x slower.
                Xb = (np.take(X, idx, axis=0, out=ws.x[:len(idx)], mode="clip") if dense
                      else X[idx])
                Yb = Y[idx]
                swb = None if sample_weight is None else sample_weight[idx]
                kb = None if keys is None else keys[idx]
            loss = self.step(Xb, Yb, swb, ws, epoch + k / len(batches), kb, history.steps)
            history.steps += 1
            if not np.isfinite(loss):
                return np.nan
            total += loss * (batch.stop - batch.start)
            self.reporter.batch_end(k + 1, len(batches), loss)
        return total / n

    def batches(self, n):
        """The minibatches of an epoch over ``n`` samples, as slices of its order.

        scikit-learn's :func:`~sklearn.utils.gen_batches`, with one exception: under
        batch normalization a trailing batch of a single sample joins the batch before
        it (which then has ``batch_size + 1`` samples). Alone, that sample would have no
        batch variance: batch norm would map it to 0, pass no gradient to the layers
        below and pull the running variance towards 0 once per epoch.
        """
        batches = list(gen_batches(n, self.batch_size))
        if self.net.batch_norm and len(batches) > 1 and n % self.batch_size == 1:
            batches[-2:] = [slice(batches[-2].start, n)]
        return batches

    def fit(self, X, Y, sample_weight, history, validation=None, incremental=False):
        """Run epochs until ``max_iter``, the stopping rule, divergence or Ctrl-C.

        ``validation`` is ``(X_val, Y_val, sw_val)`` when early stopping is on; the best
        weights (by validation accuracy) are restored at the end.
        """
        if not sparse.issparse(X) and not X.flags.c_contiguous:
            # DataFrames and ColumnTransformer outputs arrive column-major, where the
            # per-batch row gather reads with a stride of n_samples and runs ~4x slower:
            # one row-major copy per fit pays for itself within the first epoch.
            X = np.ascontiguousarray(X)
        with blas_threads(self.net.layer_units, min(self.batch_size, X.shape[0])):
            return self._run(X, Y, sample_weight, history, validation, incremental)

    def _run(self, X, Y, sample_weight, history, validation, incremental):
        net = self.net
        ws = self._workspace(X)
        order = np.arange(X.shape[0]) if self.shuffle else None
        keys = row_keys(X, self.dropout_salt) if any(net.dropout) else None
        history.n_iter = 0  # as in scikit-learn, n_iter_ counts the epochs of this call
        self._publish_rate()
        start, last_good = Snapshot(net), Snapshot(net)
        best = Snapshot(net) if validation is not None else None
        try:
            for _ in range(self.max_iter):
                if self.shuffle:
                    order = shuffle(order, random_state=self.rng)
                last_good.save(net)
                self.reporter.epoch_begin()
                best_loss = min(history.loss_curve, default=np.inf)
                with np.errstate(over="ignore", invalid="ignore"):
                    loss = self.run_epoch(X, Y, sample_weight, ws, order, history, keys)
                what = self._divergence(loss, best_loss)
                if what is not None:
                    self._fall_back(X, Y, [last_good, start])
                    if validation is not None:  # as scikit-learn: NaN scores end the lists
                        self._record_epoch(history, loss, X.shape[0], (np.nan, np.nan))
                    warnings.warn(
                        f"Training diverged in epoch {history.n_iter + 1}: {what}. Stopped "
                        "and kept the last weights that gave finite outputs. Lower "
                        "learning_rate_init, scale the features (e.g. StandardScaler) or "
                        "set clip_grad_norm.", ConvergenceWarning)
                    break
                if self._end_epoch(loss, X.shape[0], history, validation, best):
                    break
                if incremental:
                    break
                if history.n_iter == self.max_iter:
                    warnings.warn(
                        f"Stochastic Optimizer: Maximum iterations ({self.max_iter}) "
                        "reached and the optimization hasn't converged yet.",
                        ConvergenceWarning)
        except KeyboardInterrupt:
            warnings.warn("Training interrupted by user.")
            if not np.all(np.isfinite(net.params)):
                last_good.restore(net)
        finally:
            self.reporter.close()
        if best is not None:
            best.restore(net)
        return history

    def _workspace(self, X):
        """Per-batch buffers, plus one for the gathered rows of a dense ``X``."""
        largest = max(b.stop - b.start for b in self.batches(X.shape[0]))
        ws = self.net.workspace(largest)
        ws.x = (None if sparse.issparse(X)
                else np.empty((ws.logits.shape[0], X.shape[1]), dtype=X.dtype))
        return ws

    def _divergence(self, loss, best_loss):
        """Say how the last epoch diverged, or return None if it did not.

        A huge learning rate seldom overflows float64 at once: the loss first explodes
        (1 -> 1e12 -> 1e24 ...) while the weights stay finite but useless. The floor of
        1 under the best loss keeps a tiny loss's wiggles from counting as divergence.
        """
        if np.isfinite(loss) and loss > 1e4 * max(best_loss, 1.0):
            return f"the loss jumped to {loss:.3g}, over 10000 times its best value"
        if not np.isfinite(loss) or not np.isfinite(self.net.params).all():
            return "the loss is not finite"
        return None

    def _finite_on(self, X, Y):
        """Whether the network's outputs and losses on ``(X, Y)`` are all finite."""
        head = self.net.head
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            for rows in gen_batches(X.shape[0], 4096):
                output = self.net.predict_output(X[rows])
                if not (np.isfinite(output).all()
                        and np.isfinite(head.per_sample_loss(output, Y[rows])).all()):
                    return False
        return True

    def _fall_back(self, X, Y, snapshots):
        """Restore the first snapshot whose outputs and losses on ``X`` are finite.

        The weights at the start of an epoch come from the previous epoch's last step,
        which no loss has checked; if they overflow on ``X`` (float32, large features),
        the weights this call started from are the next candidate. When even those
        overflow, no weights of this fit can describe ``X``: scikit-learn's error.
        """
        for snapshot in snapshots:
            snapshot.restore(self.net)
            if self._finite_on(X, Y):
                return
        raise ValueError(
            "Solver produced non-finite parameter weights. The input data may contain "
            "large values and need to be preprocessed. (Not even the weights this fit "
            "started from give finite outputs on it: scale the features, e.g. with a "
            "StandardScaler.)")

    @staticmethod
    def _record_epoch(history, loss, n, validation_result=None):
        """Append one epoch to ``history``; ``validation_result`` is (score, loss).

        A diverged epoch under early stopping is recorded with NaN for both, which is
        what scikit-learn's ``validation_scores_`` ends with after a divergence (code and
        its own tests look for it); the weights kept are still the last good ones.
        """
        history.n_iter += 1
        history.t += n
        history.loss_curve.append(loss)
        if validation_result is not None:
            history.validation_scores.append(validation_result[0])
            history.validation_losses.append(validation_result[1])

    def _end_epoch(self, loss, n, history, validation, best):
        """Record the epoch and keep the best weights; return True to stop training."""
        self._record_epoch(history, loss, n, None if validation is None
                           else evaluate(self.net, *validation))
        if self.stopping.update(history) and best is not None:
            best.save(self.net)
        requested = self.reporter.epoch_end(history)  # True: a callback asks to stop
        self.learning_rate.epoch_end(history.t)
        stop = self._out_of_patience(history, validation is not None)
        self._publish_rate()
        if requested and not stop:
            self.reporter.message("A callback asked to stop. Stopping.")
        return stop or bool(requested)

    def _publish_rate(self):
        """Show the next step's learning rate as ``optimizer.learning_rate``.

        scikit-learn's optimizers carry their step size there, and code (its own tests
        among it) reads it after ``fit``; ours take the rate as an argument of ``step``.
        """
        rate = self.learning_rate
        self.optimizer.learning_rate = rate.at(rate.epochs_done)

    def _out_of_patience(self, history, early_stopping):
        """scikit-learn's end of patience: lower an adaptive rate, or stop (True)."""
        if not self.stopping.exhausted(history):
            return False
        what = "Validation score" if early_stopping else "Training loss"
        msg = (f"{what} did not improve more than tol={self.stopping.tol:f} "
               f"for {self.stopping.n_iter_no_change} consecutive epochs.")
        if self.learning_rate.reduce_on_plateau():
            self.reporter.message(
                f"{msg} Setting learning rate to {self.learning_rate.base:f}")
            history.no_improvement_count = 0
            return False
        rate = self.learning_rate
        too_small = rate.name == "adaptive" and rate.solver == "sgd"
        self.reporter.message(f"{msg}{' Learning rate too small.' if too_small else ''}"
                              " Stopping.")
        return True


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
