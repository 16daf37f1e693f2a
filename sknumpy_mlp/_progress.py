"""Reporting training progress: silent, scikit-learn's plain lines, or a live bar.

The training loop calls a reporter; it never prints itself. ``verbose`` chooses one:

- ``False`` / ``0``: silent;
- ``True`` / ``1``: scikit-learn's lines (``Iteration N, loss = ...``), unchanged;
- ``2`` or more: a live tqdm bar over epochs with loss and ETA (optional extra
  ``progress``); falls back to the plain lines when tqdm is not installed.
"""


class SilentReporter:
    """Reports nothing."""

    def batch_end(self, k, n_batches, loss):
        """Called after every minibatch."""

    def epoch_end(self, history):
        """Called after every epoch with the training history."""

    def lbfgs_iteration(self, it, loss):
        """Called after every L-BFGS iteration."""

    def message(self, msg):
        """A message about stopping or the learning rate."""

    def close(self):
        """Training is over."""


class PrintReporter(SilentReporter):
    """scikit-learn's verbose output, line for line."""

    def epoch_end(self, history):
        """Print the epoch's loss (and validation score when early stopping)."""
        print(f"Iteration {history.n_iter}, loss = {history.loss_curve[-1]:.8f}")
        if history.validation_scores is not None:
            print(f"Validation score: {history.validation_scores[-1]:f}")

    def lbfgs_iteration(self, it, loss):
        """Print one L-BFGS iteration."""
        print(f"Iteration {it}, loss = {loss:.8f}")

    def message(self, msg):
        """Print a stopping or learning-rate message."""
        print(msg)


def make_reporter(verbose, max_iter):
    """The reporter for a ``verbose`` level (see the module docstring)."""
    if not verbose:
        return SilentReporter()
    if verbose is not True and verbose >= 2:
        try:
            from ._tqdm import TqdmReporter
        except ImportError:
            return PrintReporter()
        return TqdmReporter(max_iter)
    return PrintReporter()
