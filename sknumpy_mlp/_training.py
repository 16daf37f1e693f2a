"""Training: one step -> one epoch -> the loop (L-BFGS is in :mod:`._lbfgs`).

The loop only trains: the optimizer (:mod:`._optimizers`) moves the parameters and
:class:`~._schedules.LearningRate` says how far. Everything else listens to the
loop's events (:mod:`._events`): the stopping rule, the best-weights snapshot, the
divergence fall-back, the plateau rule and the reporter are handlers
(:mod:`._handlers`), each with its own state. scikit-learn folds all of them into
one 190-line method with nine arguments. Nothing in this module knows about labels,
pandas or parameter validation: the estimator hands it arrays.
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

from ._events import Events, Run, StopTraining
from ._handlers import Snapshot, evaluate, standard_handlers  # noqa: F401 (were here)
from ._sampling import row_keys
from ._schedules import LearningRate  # noqa: F401 (its home until 0.1: older pickles)
from ._stopping import StoppingRule  # noqa: F401 (was here; tests patch it here)

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

    def record_epoch(self, loss, n_samples, validation=None):
        """Append one epoch of ``n_samples``; ``validation`` is (score, loss) or None."""
        self.n_iter += 1
        self.t += n_samples
        self.loss_curve.append(loss)
        if validation is not None:
            self.validation_scores.append(validation[0])
            self.validation_losses.append(validation[1])


@dataclass
class TrainingConfig:
    """How a stochastic fit trains: the estimator's parameters the loop reads.

    ``dropout_salt`` salts the content-keyed dropout masks (see :mod:`._sampling`).
    """

    batch_size: int
    max_iter: int
    shuffle: bool = True
    alpha: float = 0.0
    label_smoothing: float = 0.0
    clip_grad_norm: float = None
    dropout_salt: int = 0


class StochasticTrainer:
    """Minibatch training with any flat-buffer optimizer, announcing events to handlers.

    Parameters
    ----------
    net : Network
    optimizer : object with ``step(params, grads, lr)``
    learning_rate : LearningRate
    config : TrainingConfig
    rng : numpy.random.RandomState
        Shuffling, as scikit-learn does it.
    handlers : list of Handler
        Listeners of the loop's events, called in this order (see
        :func:`~._handlers.standard_handlers` for those of a fit).
    """

    def __init__(self, net, optimizer, learning_rate, config, *, rng, handlers=()):
        self.net = net
        self.optimizer = optimizer
        self.learning_rate = learning_rate
        self.config = config
        self.rng = rng
        self.events = Events(handlers)

    def step(self, X, Y, sample_weight, ws, progress, keys, step):
        """One optimizer step on one batch; returns the batch loss."""
        net, cfg = self.net, self.config
        loss = net.loss_and_grad(X, Y, ws, sample_weight=sample_weight, alpha=cfg.alpha,
                                 label_smoothing=cfg.label_smoothing, dropout_keys=keys,
                                 step=step)
        if cfg.clip_grad_norm is not None:
            norm = np.sqrt(np.dot(net.grads, net.grads))
            if norm > cfg.clip_grad_norm:  # global norm clipping (Pascanu et al., 2013)
                net.grads *= cfg.clip_grad_norm / norm
        self.optimizer.step(net.params, net.grads, self.learning_rate.at(progress))
        return loss

    def run_epoch(self, run):
        """One pass over the data in ``run.order``; returns the sample-averaged loss.

        Returns NaN as soon as a batch loss is not finite (divergence): the handlers
        take it from there.
        """
        X, Y, sample_weight, keys, order, ws = (run.X, run.Y, run.sample_weight, run.keys,
                                                run.order, run.ws)
        n = X.shape[0]
        dense = not sparse.issparse(X)
        batches = self.batches(n)
        epoch = self.learning_rate.epochs_done
        batch_end = self.events.hooks("batch_end")
        history = run.history
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
            for hook in batch_end:
                hook(run, k + 1, len(batches), loss)
        return total / n

    def batches(self, n):
        """The minibatches of an epoch over ``n`` samples, as slices of its order.

        scikit-learn's :func:`~sklearn.utils.gen_batches`, with one exception: under
        batch normalization a trailing batch of a single sample joins the batch before
        it (which then has ``batch_size + 1`` samples). Alone, that sample would have no
        batch variance: batch norm would map it to 0, pass no gradient to the layers
        below and pull the running variance towards 0 once per epoch.
        """
        size = self.config.batch_size
        batches = list(gen_batches(n, size))
        if self.net.batch_norm and len(batches) > 1 and n % size == 1:
            batches[-2:] = [slice(batches[-2].start, n)]
        return batches

    def fit(self, X, Y, sample_weight, history, validation=None, incremental=False):
        """Run epochs until ``max_iter``, a handler's stop, divergence or Ctrl-C.

        ``validation`` is ``(X_val, Y_val, sw_val)`` when early stopping is on.
        ``incremental`` (``partial_fit``) runs one epoch. Returns ``history``.
        """
        if not sparse.issparse(X) and not X.flags.c_contiguous:
            # DataFrames and ColumnTransformer outputs arrive column-major, where the
            # per-batch row gather reads with a stride of n_samples and runs ~4x slower:
            # one row-major copy per fit pays for itself within the first epoch.
            X = np.ascontiguousarray(X)
        with blas_threads(self.net.layer_units, min(self.config.batch_size, X.shape[0])):
            self._run(self._start(X, Y, sample_weight, history, validation), incremental)
        return history

    def _start(self, X, Y, sample_weight, history, validation):
        """The :class:`~._events.Run` of this call: data, buffers, row order."""
        dropout = any(self.net.dropout)
        return Run(self.net, self.optimizer, self.learning_rate, history, self.events, X, Y,
                   sample_weight, validation, ws=self._workspace(X),
                   keys=row_keys(X, self.config.dropout_salt) if dropout else None,
                   order=np.arange(X.shape[0]) if self.config.shuffle else None)

    def _run(self, run, incremental):
        """The loop between ``fit_begin`` and ``fit_end``, which always comes."""
        self.events.emit("fit_begin", run)
        try:
            self._epochs(run, incremental)
            run.ended_cleanly = True
        except StopTraining:
            run.ended_cleanly = True
        except KeyboardInterrupt:
            warnings.warn("Training interrupted by user.")
            run.ended_cleanly = run.interrupted = True
        finally:
            self.events.emit("fit_end", run)

    def _epochs(self, run, incremental):
        """Epochs until a handler stops training, or ``max_iter`` (with a warning)."""
        max_iter = self.config.max_iter
        for _ in range(max_iter):
            if self._epoch(run) or incremental:
                return
        warnings.warn(f"Stochastic Optimizer: Maximum iterations ({max_iter}) reached "
                      "and the optimization hasn't converged yet.", ConvergenceWarning)

    def _epoch(self, run):
        """Shuffle, train one epoch, tell the handlers; return True to stop."""
        if self.config.shuffle:
            run.order = shuffle(run.order, random_state=self.rng)
        self.events.emit("epoch_begin", run)
        with np.errstate(over="ignore", invalid="ignore"):
            run.loss = self.run_epoch(run)
        return self._end_epoch(run)

    def _end_epoch(self, run):
        """Every handler hears the epoch's end; stop if any of them asks to."""
        run.stopped_by = self.events.ask("epoch_end", run)
        if run.stopped_by:
            self.events.emit("stop", run)
        return bool(run.stopped_by)

    def _workspace(self, X):
        """Per-batch buffers, plus one for the gathered rows of a dense ``X``."""
        largest = max(b.stop - b.start for b in self.batches(X.shape[0]))
        ws = self.net.workspace(largest)
        ws.x = (None if sparse.issparse(X)
                else np.empty((ws.logits.shape[0], X.shape[1]), dtype=X.dtype))
        return ws
