"""How the tabular networks train: RealMLP-TD's schedules, Adam with factors, the loop.

Three small pieces the loop only calls:

- :func:`coslog` and :func:`flat_cos`, pure functions of the fraction ``t`` of training
  done: the learning rate follows ``coslog`` (four warm restarts on a log time scale),
  dropout and weight decay follow ``flat_cos`` (flat, then a half cosine to zero);
- :class:`FactoredAdam`, Adam whose step and decoupled weight decay are scaled per
  parameter by the factors the layers declared (:meth:`~.._layout.Layout.factors`);
- :class:`TabularTrainer`, a fixed number of epochs that keeps the parameters of the
  epoch with the best validation metric and restores them at the end.

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


class FactoredAdam:
    """Adam with per-parameter learning-rate factors and decoupled weight decay.

    Parameters
    ----------
    lr_factors, wd_factors : ndarray of shape (n_params,)
        From the layers' declarations; ``wd_factors`` scales the decay ``lr * wd``.
    beta_1, beta_2, epsilon : float
        RealMLP-TD uses ``beta_2 = 0.95``: the second moment forgets within ~20
        steps, so the step size follows the fast-changing learning rate.

    Notes
    -----
    With gradient :math:`g`, factors :math:`f` (learning rate) and :math:`d` (decay):

    .. math::

        m &\\leftarrow \\beta_1 m + (1 - \\beta_1) g, \\qquad
        v \\leftarrow \\beta_2 v + (1 - \\beta_2) g^2 \\\\
        \\theta &\\leftarrow \\theta\\,(1 - \\eta\\,\\lambda\\, d)
            - \\eta\\, f\\, \\frac{m / (1 - \\beta_1^t)}{\\sqrt{v / (1 - \\beta_2^t)}
            + \\epsilon}

    Because Adam's step does not depend on the gradient's scale, a factor :math:`f`
    on a weight matrix is what the NTK parametrization (a forward factor
    :math:`1/\\sqrt{n_{in}}`) does to the effective weights.
    """

    def __init__(self, lr_factors, wd_factors, *, beta_1=0.9, beta_2=0.95, epsilon=1e-8):
        self.lr_factors, self.wd_factors = lr_factors, wd_factors
        self.beta_1, self.beta_2, self.epsilon = beta_1, beta_2, epsilon
        self.m = np.zeros_like(lr_factors)
        self.v = np.zeros_like(lr_factors)
        self.tmp = np.empty_like(lr_factors)
        self.t = 0

    def step(self, params, grads, lr, weight_decay=0.0):
        """One update of ``params`` in place."""
        self.t += 1
        b1, b2, tmp = self.beta_1, self.beta_2, self.tmp
        self.m *= b1
        np.multiply(grads, 1 - b1, out=tmp)
        self.m += tmp
        self.v *= b2
        np.multiply(grads, grads, out=tmp)
        tmp *= 1 - b2
        self.v += tmp
        if weight_decay:
            np.multiply(self.wd_factors, -lr * weight_decay, out=tmp)
            tmp += 1.0
            params *= tmp
        np.sqrt(self.v, out=tmp)
        tmp /= math.sqrt(1 - b2**self.t)
        tmp += self.epsilon
        np.divide(self.m, tmp, out=tmp)
        tmp *= self.lr_factors
        tmp *= lr / (1 - b1**self.t)
        params -= tmp


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
        optimizer = FactoredAdam(layout.factors("lr", net.dtype),
                                 layout.factors("wd", net.dtype),
                                 beta_1=self.beta_1, beta_2=self.beta_2)
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
                               self.weight_decay * flat_cos(t))
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
