"""Layers: each ``forward`` caches what its ``backward`` needs, right next to it.

A layer does not own its parameters: it holds views into the network's flat parameter and
gradient buffers (see :mod:`sknumpy_mlp._network`), so that an optimizer step is a few
vector operations on one array. ``backward`` fills the parameter gradients in place and
writes the gradient with respect to the layer input into a buffer the caller provides.
"""

import numpy as np
from scipy import sparse

from ._sampling import bernoulli_threshold16, random_uint16


class Dense:
    """Affine layer :math:`Z = A W + b`.

    Parameters
    ----------
    coef : ndarray of shape (n_in, n_out)
        View of the weights in the parameter buffer.
    intercept : ndarray of shape (n_out,)
        View of the biases.
    coef_grad, intercept_grad : ndarray
        Views of the matching gradient buffer, filled by :meth:`backward`.
    """

    def __init__(self, coef, intercept, coef_grad, intercept_grad):
        self.coef = coef
        self.intercept = intercept
        self.coef_grad = coef_grad
        self.intercept_grad = intercept_grad

    def forward(self, a_in, out):
        """Write :math:`A W + b` into ``out`` (shape ``(batch, n_out)``) and return it."""
        if sparse.issparse(a_in):
            out[...] = a_in @ self.coef
        else:
            np.dot(a_in, self.coef, out=out)
        out += self.intercept
        return out

    def backward(self, a_in, dz, d_in=None):
        """Fill the parameter gradients; write :math:`\\partial L/\\partial A` to ``d_in``.

        Notes
        -----
        With :math:`Z = AW + b` and upstream gradient
        :math:`\\delta = \\partial L/\\partial Z` (shape ``(batch, n_out)``):

        .. math::

            \\frac{\\partial L}{\\partial W} = A^\\top \\delta, \\qquad
            \\frac{\\partial L}{\\partial b} = \\sum_i \\delta_{i\\cdot}, \\qquad
            \\frac{\\partial L}{\\partial A} = \\delta W^\\top.

        The input gradient is skipped (``d_in=None``) for the first layer: nobody needs
        the gradient with respect to the data, and it is a third of that layer's work.
        """
        if sparse.issparse(a_in):
            self.coef_grad[...] = a_in.T @ dz
        else:
            np.dot(a_in.T, dz, out=self.coef_grad)
        np.sum(dz, axis=0, out=self.intercept_grad)
        if d_in is not None:
            np.dot(dz, self.coef.T, out=d_in)
        return d_in


class BatchNorm:
    """Batch normalization over the batch axis, with running statistics for inference.

    Training: :math:`\\hat z = (z - \\mu_B) / \\sqrt{\\sigma_B^2 + \\epsilon}`,
    :math:`y = \\gamma \\hat z + \\beta`, and the running mean and variance follow an
    exponential moving average (``momentum=0.1``, unbiased variance, as in PyTorch).
    Inference uses the running statistics only, so a sample's output does not depend
    on the other samples of its batch.

    Parameters
    ----------
    gamma, beta, gamma_grad, beta_grad : ndarray of shape (n,)
        Views into the network's parameter and gradient buffers.
    running_mean, running_var : ndarray of shape (n,)
        Views into the network's (non-trained) state buffer.

    References
    ----------
    .. [1] Ioffe, S. and Szegedy, C. (2015). Batch normalization: accelerating deep
       network training by reducing internal covariate shift. ICML.
    """

    epsilon = 1e-5
    momentum = 0.1

    def __init__(self, gamma, beta, gamma_grad, beta_grad, running_mean, running_var):
        self.gamma = gamma
        self.beta = beta
        self.gamma_grad = gamma_grad
        self.beta_grad = beta_grad
        self.running_mean = running_mean
        self.running_var = running_var

    def forward(self, z, out, z_hat, training=True, sample_weight=None):
        """Normalize ``z`` into ``out``; cache :math:`\\hat z` in ``z_hat`` for backward.

        With ``sample_weight`` the batch statistics are weighted means, so a sample of
        weight w counts as w copies of it (as everywhere else in the estimator).
        """
        self.training = training
        if training:
            m = z.shape[0]
            w = sample_weight
            if w is None or not w.sum() > 0:
                w = self._ones(m, z.dtype)
            total = float(w.sum())
            self.share = (w / total)[:, None]  # (batch, 1): each row's part in a mean
            # Column means as matrix-vector products: BLAS gemv runs ~4x faster than
            # NumPy's reductions over axis 0.
            mean = w @ z / total
            np.subtract(z, mean, out=z_hat)
            var = w @ np.multiply(z_hat, z_hat, out=out) / total  # `out` as scratch
            unbiased = var * (total / (total - 1)) if total > 1 else var
            self.running_mean += self.momentum * (mean - self.running_mean)
            self.running_var += self.momentum * (unbiased - self.running_var)
        else:
            mean, var = self.running_mean, self.running_var
            np.subtract(z, mean, out=z_hat)
        self.inv_std = 1.0 / np.sqrt(var + self.epsilon)  # (n_features,)
        z_hat *= self.inv_std
        np.multiply(z_hat, self.gamma, out=out)
        out += self.beta
        return out

    def backward(self, z_hat, dy, tmp=None):
        """Fill ``gamma_grad``/``beta_grad``; overwrite ``dy`` with ``dL/dz``.

        ``tmp`` is an optional scratch array of ``dy``'s shape.

        Notes
        -----
        With :math:`g = \\gamma \\odot \\partial L / \\partial y` and batch means
        :math:`\\langle\\cdot\\rangle` over the :math:`m` rows of the batch, differentiating
        through :math:`\\mu_B` and :math:`\\sigma_B^2` gives

        .. math::

            \\frac{\\partial L}{\\partial \\gamma} = \\sum_i dy_i \\hat z_i, \\quad
            \\frac{\\partial L}{\\partial \\beta} = \\sum_i dy_i, \\quad
            \\frac{\\partial L}{\\partial z} =
            \\frac{1}{\\sqrt{\\sigma_B^2+\\epsilon}} \\left(g - \\langle g \\rangle
            - \\hat z \\langle g \\odot \\hat z\\rangle\\right).

        The two mean terms are the gradient flowing through the batch statistics; in
        inference mode (fixed statistics) they vanish and only ``g * inv_std`` remains.
        With sample weights :math:`w_i` (sum :math:`W`), the statistics are weighted and
        each row's share :math:`1/m` of the mean terms becomes :math:`w_i / W`.
        """
        tmp = np.empty_like(dy) if tmp is None else tmp
        ones = self._ones(dy.shape[0], dy.dtype)
        np.dot(ones, np.multiply(dy, z_hat, out=tmp), out=self.gamma_grad)
        np.dot(ones, dy, out=self.beta_grad)
        dy *= self.gamma  # g
        if self.training:
            # <g> + z_hat <g z_hat>, with sum_i g_i = gamma * beta_grad and
            # sum_i g_i z_hat_i = gamma * gamma_grad
            np.multiply(z_hat, self.gamma_grad * self.gamma, out=tmp)
            tmp += self.beta_grad * self.gamma
            tmp *= self.share
            dy -= tmp
        dy *= self.inv_std
        return dy

    def _ones(self, m, dtype):
        """A cached vector of ``m`` ones: the weights of an unweighted batch."""
        ones = getattr(self, "_ones_cache", None)
        if ones is None or ones.shape[0] < m or ones.dtype != dtype:
            ones = self._ones_cache = np.ones(m, dtype=dtype)
        return ones[:m]


class Dropout:
    """Inverted dropout: zero each unit w.p. ``rate``, scale the rest by ~1/(1-rate).

    Scaling at training time keeps the expected activation unchanged, so inference is
    the identity: nothing to rescale, and predictions are deterministic.

    Parameters
    ----------
    rate : float in [0, 1)
        Probability of dropping a unit.

    References
    ----------
    .. [1] Srivastava, N., Hinton, G., Krizhevsky, A., Sutskever, I. and
       Salakhutdinov, R. (2014). Dropout: a simple way to prevent neural networks from
       overfitting. JMLR 15.
    """

    def __init__(self, rate):
        self.rate = rate
        self.threshold = bernoulli_threshold16(rate)
        # The kept units are scaled by the inverse of the *drawn* keep probability, so
        # the expected output equals the input exactly, whatever the rounding.
        self.scale = 65536 / (65536 - int(self.threshold))

    def sample_mask(self, keys, step, layer, out, bits=None, tmp=None):
        """Draw the mask of one step into ``out``: 0 w.p. ~``rate``, else ``scale``.

        The draws are keyed by row content, step and layer (see :mod:`._sampling`), so a
        row's mask does not depend on the batch around it. They are 16-bit, so the drop
        probability is ``rate`` rounded to a multiple of 1/65536 (see
        :func:`~sknumpy_mlp._sampling.bernoulli_threshold16`); ``bits`` and ``tmp`` are
        optional uint64 work buffers (see :func:`~sknumpy_mlp._sampling.random_uint16`).
        """
        draws = random_uint16(keys, step, layer, out.shape[1], bits, tmp)
        np.greater_equal(draws, self.threshold, out=out)  # 1.0 = keep
        out *= self.scale
        return out

    def forward(self, a, mask, out):
        """Write ``a * mask`` into ``out``."""
        return np.multiply(a, mask, out=out)

    def backward(self, mask, d):
        """Multiply ``d`` by the same mask in place.

        Notes
        -----
        :math:`y = a \\odot M` with a fixed mask :math:`M`, so
        :math:`\\partial L/\\partial a = M \\odot \\partial L / \\partial y`.
        """
        d *= mask
        return d
