"""How the tabular networks train: RealMLP-TD's schedules and the loop.

The schedules and the loop:

- :func:`coslog` and :func:`flat_cos`, pure functions of the fraction ``t`` of training
  done: the learning rate follows ``coslog`` (four warm restarts on a log time scale),
  dropout and weight decay follow ``flat_cos`` (flat, then a half cosine to zero);
- :class:`TabularTrainer`, a fixed number of epochs that keeps the parameters of the
  epoch with the best validation metric and restores them at the end. It steps with
  the shared :class:`~.._optimizers.AdamW`, whose step and decoupled weight decay are
  scaled per parameter by the factors the layers declared
  (:meth:`~.._layout.Layout.factors`), with the bias corrections on the moments.

References
----------
.. [1] D. Holzmüller, L. Grinsztajn and I. Steinwart, "Better by Default: Strong Pre-Tuned
   MLPs and Boosted Trees on Tabular Data", NeurIPS 2024.
.. [2] I. Loshchilov and F. Hutter, "Decoupled Weight Decay Regularization", ICLR 2019.
"""

import math
from dataclasses import dataclass, field

import numpy as np
from sklearn.utils import gen_batches

from .._layers import Dropout
from .._optimizers import AdamW
from .._sampling import row_keys


def coslog(t, cycles=4):
    r"""RealMLP's learning-rate shape: ``cycles`` cosine cycles on a log time scale.

    .. math:: \mathrm{coslog}_c(t) = \tfrac12\left(1 - \cos\left(2\pi
              \log_2\left(1 + (2^c - 1)\,t\right)\right)\right), \quad t \in [0, 1]

    It starts and ends at 0 and peaks ``cycles`` times; each cycle is twice as long as
    the one before, so training explores early and settles late.

    Examples
    --------
    >>> [round(coslog(t), 3) for t in (0.0, (2**0.5 - 1) / 15, 1 / 15, 1.0)]
    [0.0, 1.0, 0.0, 0.0]
    """
    return 0.5 * (1.0 - math.cos(2.0 * math.pi * math.log2(1.0 + (2**cycles - 1) * t)))


def flat_cos(t):
    r"""1 for the first half of training, then a half cosine down to 0.

    .. math:: \mathrm{flat\_cos}(t) = \begin{cases} 1 & t < \tfrac12 \\
              \tfrac12\left(1 + \cos(\pi (2t - 1))\right) & t \ge \tfrac12 \end{cases}
    """
    return 1.0 if t < 0.5 else 0.5 * (1.0 + math.cos(math.pi * (2.0 * t - 1.0)))


@dataclass
class TabularHistory:
    """What a fit leaves: per-epoch training loss and validation scores, the best epoch."""

    loss_curve: list = field(default_factory=list)
    validation_scores: list = field(default_factory=list)
    best_epoch: int = -1
    best_score: tuple = None


class TabularTrainer:
    """``n_epochs`` of minibatch Adam on the schedules above; the best epoch wins.

    ``score(net, X, Y, sample_weight)`` rates the network on the validation data (a
    tuple, compared lexicographically: larger is better); without validation data the
    last epoch is kept.
    """

    def __init__(self, *, n_epochs, batch_size, learning_rate, weight_decay, dropout,
                 label_smoothing, beta_1, beta_2, score, rng, reporter=None):
        self.n_epochs, self.batch_size = n_epochs, batch_size
        self.learning_rate, self.weight_decay = learning_rate, weight_decay
        self.dropout, self.label_smoothing = dropout, label_smoothing
        self.beta_1, self.beta_2 = beta_1, beta_2
        self.score, self.rng, self.reporter = score, rng, reporter

    def fit(self, net, X, Y, sample_weight, validation):
        history = TabularHistory()
        layout = net.layout
        # RealMLP-TD's beta_2 = 0.95 forgets the second moment within ~20 steps, so
        # the step size follows the fast-changing learning rate.
        optimizer = AdamW(layout.n_params, net.dtype, beta_1=self.beta_1,
                          beta_2=self.beta_2, weight_decay=self.weight_decay,
                          lr_factors=layout.factors("lr", net.dtype),
                          wd_factors=layout.factors("wd", net.dtype),
                          bias_correction="moments")
        drops = [la for la in net.layers if isinstance(la, Dropout)]
        n = X.shape[0]
        batch_size = min(self.batch_size, n)
        batches = list(gen_batches(n, batch_size))
        if len(batches) > 1 and n % batch_size == 1:  # no lone last row (statistics)
            batches[-2:] = [slice(batches[-2].start, n)]
        total = self.n_epochs * len(batches)
        keys = row_keys(X, self.rng.randint(np.iinfo(np.int32).max)) if drops else None
        largest = max(b.stop - b.start for b in batches)
        ws = net.workspace(largest)
        # The batch's rows are gathered into buffers made once, not copied per step.
        Xb = np.empty((largest, X.shape[1]), dtype=X.dtype)
        Yb = np.empty((largest, Y.shape[1]), dtype=Y.dtype)
        best = net.params.copy(), net.state.copy()
        step = 0
        for epoch in range(self.n_epochs):
            order = self.rng.permutation(n)
            for layer in drops:
                layer.set_rate(self.dropout * flat_cos(epoch / self.n_epochs))
            loss_sum, weight_sum = 0.0, 0.0
            for batch in batches:
                rows = order[batch]
                sw = None if sample_weight is None else sample_weight[rows]
                t = step / total
                m = len(rows)
                loss = net.loss_and_grad(
                    np.take(X, rows, axis=0, out=Xb[:m], mode="clip"),
                    np.take(Y, rows, axis=0, out=Yb[:m], mode="clip"), ws, sample_weight=sw,
                    label_smoothing=self.label_smoothing,
                    dropout_keys=None if keys is None else keys[rows], step=step)
                optimizer.step(net.params, net.grads, self.learning_rate * coslog(t),
                               weight_decay=self.weight_decay * flat_cos(t))
                w = m if sw is None else float(sw.sum())
                loss_sum, weight_sum, step = loss_sum + loss * w, weight_sum + w, step + 1
            history.loss_curve.append(loss_sum / weight_sum)
            if validation is not None:
                score = self.score(net, *validation)
                history.validation_scores.append(score)
                if history.best_score is None or score > history.best_score:
                    history.best_score, history.best_epoch = score, epoch
                    np.copyto(best[0], net.params)
                    np.copyto(best[1], net.state)
            if self.reporter is not None and self.reporter(epoch, history):
                break
        if validation is not None:
            np.copyto(net.params, best[0])
            np.copyto(net.state, best[1])
        else:
            history.best_epoch = len(history.loss_curve) - 1
        return history
