"""A live tqdm progress bar over the training reporter's events (extra ``progress``).

``verbose`` no longer selects it (``verbose`` means scikit-learn's printed lines at
every truthy level); it is kept for a progress bar driven by scikit-learn's callback
API. Importing this module fails without tqdm.
"""

import time

from tqdm import tqdm

# Batch-level updates per epoch, at most: a refresh costs a terminal write, a batch
# of a small network costs tens of microseconds.
_UPDATES_PER_EPOCH = 10


class TqdmReporter:
    """Reports training progress on a tqdm bar.

    One bar over epochs (``total=max_iter``) for the stochastic solvers, or over
    iterations for L-BFGS. Its postfix shows the loss: within an epoch, the running
    mean of the batch losses and the batch count, refreshed at most
    ~10 times per epoch and at most every ``mininterval`` seconds; after each epoch,
    the epoch's loss and, with early stopping, the validation score. Stopping and
    learning-rate messages go through :meth:`tqdm.tqdm.write`, above the bar.

    Parameters
    ----------
    max_iter : int
        Total of the bar: the estimator's ``max_iter``.
    **tqdm_kwargs : dict
        Passed to :class:`tqdm.tqdm` (e.g. ``file``, ``disable``, ``ncols``).

    Examples
    --------
    >>> import io
    >>> reporter = TqdmReporter(3, file=io.StringIO())
    >>> reporter.batch_end(1, 2, 0.9)
    >>> reporter.close()
    """

    def __init__(self, max_iter, **tqdm_kwargs):
        self.max_iter = max_iter
        self.tqdm_kwargs = tqdm_kwargs
        self._bar = None  # created on first use: its clock starts with training
        self._loss_sum = 0.0
        self._loss_count = 0
        self._last_refresh = 0.0
        self._val_score = ""  # the last epoch's, kept on screen during the next one
        self._mininterval = tqdm_kwargs.get("mininterval", 0.1)

    def _get_bar(self, unit):
        if self._bar is None:
            kwargs = {"total": self.max_iter, "unit": unit, "dynamic_ncols": True,
                      "desc": "Training" if unit == "epoch" else "L-BFGS",
                      **self.tqdm_kwargs}
            self._bar = tqdm(**kwargs)
        return self._bar

    def batch_end(self, k, n_batches, loss):
        """Accumulate the running loss; show it every ~1/10 of the epoch."""
        self._loss_sum += loss
        self._loss_count += 1
        if k % max(1, n_batches // _UPDATES_PER_EPOCH) or k == n_batches:
            return  # the common case: two additions and a modulo, nothing else
        bar = self._get_bar("epoch")
        now = time.monotonic()
        if now - self._last_refresh < self._mininterval:
            return
        self._last_refresh = now
        bar.set_postfix_str(f"batch {k}/{n_batches}, "
                            f"loss={self._loss_sum / self._loss_count:.4g}"
                            f"{self._val_score}")

    def epoch_end(self, history):
        """Advance the bar by one epoch; show its loss and validation score."""
        self._loss_sum, self._loss_count = 0.0, 0
        bar = self._get_bar("epoch")
        if history.validation_scores is not None:
            self._val_score = f", val_score={history.validation_scores[-1]:.4f}"
        bar.set_postfix_str(f"loss={history.loss_curve[-1]:.4g}{self._val_score}",
                            refresh=False)
        bar.update(1)  # redraws, at most every mininterval seconds

    def lbfgs_iteration(self, it, loss):
        """Advance the bar by one L-BFGS iteration."""
        bar = self._get_bar("iter")
        bar.set_postfix_str(f"loss={loss:.4g}", refresh=False)
        bar.update(1)

    def message(self, msg):
        """Write a stopping or learning-rate message above the bar."""
        tqdm.write(msg, file=self.tqdm_kwargs.get("file"))

    def close(self):
        """Close the bar (leaves it on screen, as tqdm does by default)."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None
