"""Reporting training progress: silent, or scikit-learn's plain lines.

The training loop calls a reporter; it never prints itself. ``verbose`` means what it
means in scikit-learn: falsy is silent, anything truthy (``True``, ``1``, ``10``)
prints scikit-learn's lines (``Iteration N, loss = ...``) on stdout, unchanged. A live
progress bar is not a verbose level: it belongs to scikit-learn's callback API.
"""


class SilentReporter:
    """Reports nothing.

    ``epoch_end`` and ``lbfgs_iteration`` may return True to ask training to stop (the
    callback reporter of :mod:`._callbacks` does; these never do).
    """

    def epoch_begin(self):
        """Called before every epoch."""

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


def make_reporter(verbose):
    """The reporter for ``verbose``: scikit-learn's lines when truthy, else silence."""
    return PrintReporter() if verbose else SilentReporter()
