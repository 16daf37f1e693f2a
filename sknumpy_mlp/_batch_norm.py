"""Batch normalization as a layer, with a plain reference version beside the fast one.

The fast :class:`BatchNorm` computes column sums as matrix-vector products (BLAS gemv
runs several times faster than NumPy's reductions over axis 0) and reuses its parameter
gradients inside the input gradient. :func:`reference_forward` and
:func:`reference_backward` write the same math the way a textbook does; read them first.
The tests check that both agree.

References
----------
.. [1] Ioffe, S. and Szegedy, C. (2015). Batch normalization: accelerating deep network
   training by reducing internal covariate shift. ICML.
"""

from types import SimpleNamespace

import numpy as np

from ._layers import Layer
from ._layout import Param

EPSILON = 1e-5


def reference_forward(z, gamma, beta, w=None):
    """Training-mode batch norm, plainly: returns ``(y, z_hat, var)``.

    :math:`\\mu = \\sum_i s_i z_i`, :math:`\\sigma^2 = \\sum_i s_i (z_i - \\mu)^2` with
    shares :math:`s_i = w_i / \\sum_j w_j` (:math:`1/m` without weights),
    :math:`\\hat z = (z - \\mu)/\\sqrt{\\sigma^2 + \\epsilon}` and
    :math:`y = \\gamma \\hat z + \\beta`.
    """
    s = np.full(len(z), 1 / len(z)) if w is None else w / w.sum()
    mean = s @ z
    var = s @ (z - mean) ** 2
    z_hat = (z - mean) / np.sqrt(var + EPSILON)
    return gamma * z_hat + beta, z_hat, var


def reference_backward(dy, z_hat, var, gamma, w=None):
    """Gradients ``(dz, dgamma, dbeta)`` of training-mode batch norm, plainly.

    .. math::

        \\frac{\\partial L}{\\partial z_k} = \\frac{1}{\\sqrt{\\sigma^2+\\epsilon}}
        \\Big(g_k - s_k \\sum_i g_i - s_k \\hat z_k \\sum_i g_i \\hat z_i\\Big),
        \\qquad g = \\gamma \\odot \\frac{\\partial L}{\\partial y},

    from :math:`\\partial \\hat z_i / \\partial z_k = (\\delta_{ik} - s_k - \\hat z_i s_k
    \\hat z_k) / \\sqrt{\\sigma^2+\\epsilon}`: row :math:`k` moves the mean and the variance
    by its share :math:`s_k`. (``dy`` already carries the loss's sample weights.)
    """
    s = (np.full(len(dy), 1 / len(dy)) if w is None else w / w.sum())[:, None]
    g = gamma * dy
    dz = (g - s * g.sum(0) - s * z_hat * (g * z_hat).sum(0)) / np.sqrt(var + EPSILON)
    return dz, (dy * z_hat).sum(0), dy.sum(0)


class BatchNorm(Layer):
    """Batch normalization over the batch axis, with running statistics for inference.

    Training: :math:`\\hat z = (z - \\mu_B) / \\sqrt{\\sigma_B^2 + \\epsilon}`,
    :math:`y = \\gamma \\hat z + \\beta`, and the running mean and variance follow an
    exponential moving average (``momentum=0.1``, unbiased variance, as in PyTorch).
    Inference uses the running statistics only, so a sample's output does not depend on
    the other samples of its batch: it is the per-unit affine map of :meth:`affine`, the
    one formula inference, ONNX and the tests use.

    Parameters
    ----------
    n : int
        Number of units. Owns ``gamma`` and ``beta`` (kind "norm") and the state
        ``running_mean`` and ``running_var``.
    """

    name = "batch_norm"
    in_place = True  # at inference only; training writes into its own buffers
    epsilon = EPSILON
    momentum = 0.1

    def __init__(self, n):
        self.n = int(n)

    def config(self):
        return {"n": self.n}

    def params(self):
        return [Param("gamma", (self.n,), "norm"), Param("beta", (self.n,), "norm")]

    def states(self):
        return [Param("running_mean", (self.n,), "state"),
                Param("running_var", (self.n,), "state")]

    def bind(self, params, grads, state):
        self.gamma, self.beta = params["gamma"], params["beta"]
        self.gamma_grad, self.beta_grad = grads["gamma"], grads["beta"]
        self.running_mean, self.running_var = state["running_mean"], state["running_var"]

    def initialize(self, rng, scheme):
        self.gamma[...], self.beta[...] = 1.0, 0.0
        self.running_mean[...], self.running_var[...] = 0.0, 1.0

    def buffers(self, m, empty):
        return SimpleNamespace(out=empty((m, self.n)), z_hat=empty((m, self.n)),
                               tmp=empty((m, self.n)), ones=None, share=None,
                               inv_std=None, training=False)

    def affine(self):
        """Inference as :math:`y = s z + t`: ``(s, t)`` in float64, per unit."""
        scale = self.gamma / np.sqrt(self.running_var.astype(np.float64) + self.epsilon)
        return scale, self.beta - self.running_mean * scale

    def forward(self, z, ws, ctx):
        """Normalize ``z``; in training cache :math:`\\hat z` for backward.

        With ``sample_weight`` the batch statistics are weighted means, so a sample of
        weight w counts as w copies of it (as everywhere else in the estimator).
        """
        if ws is None:  # inference: (z - mean) * gamma / std + beta, in place
            z -= self.running_mean
            z *= self.gamma / np.sqrt(self.running_var + self.epsilon)
            z += self.beta
            return z
        m = z.shape[0]
        out, z_hat = ws.out[:m], ws.z_hat[:m]
        ws.training = ctx.training
        if ctx.training:
            w = ctx.sample_weight
            if w is None or not w.sum() > 0:
                w = self._ones(ws, m, z.dtype)
            total = float(w.sum())
            ws.share = (w / total)[:, None]  # (batch, 1): each row's part in a mean
            # Column means as matrix-vector products (gemv), not reductions over axis 0.
            mean = w @ z / total
            np.subtract(z, mean, out=z_hat)
            var = w @ np.multiply(z_hat, z_hat, out=out) / total  # `out` as scratch
            unbiased = var * (total / (total - 1)) if total > 1 else var
            self.running_mean += self.momentum * (mean - self.running_mean)
            self.running_var += self.momentum * (unbiased - self.running_var)
        else:
            mean, var = self.running_mean, self.running_var
            np.subtract(z, mean, out=z_hat)
        ws.inv_std = 1.0 / np.sqrt(var + self.epsilon)  # (n,)
        z_hat *= ws.inv_std
        np.multiply(z_hat, self.gamma, out=out)
        out += self.beta
        return out

    def backward(self, dy, ws, ctx, need_dx=True):
        """Fill ``gamma_grad``/``beta_grad``; overwrite ``dy`` with ``dL/dz``.

        Notes
        -----
        With :math:`g = \\gamma \\odot \\partial L / \\partial y` and batch means
        :math:`\\langle\\cdot\\rangle` over the :math:`m` rows of the batch,
        differentiating through :math:`\\mu_B` and :math:`\\sigma_B^2` gives
        (:func:`reference_backward`)

        .. math::

            \\frac{\\partial L}{\\partial \\gamma} = \\sum_i dy_i \\hat z_i, \\quad
            \\frac{\\partial L}{\\partial \\beta} = \\sum_i dy_i, \\quad
            \\frac{\\partial L}{\\partial z} =
            \\frac{1}{\\sqrt{\\sigma_B^2+\\epsilon}} \\left(g - \\langle g \\rangle
            - \\hat z \\langle g \\odot \\hat z\\rangle\\right).

        The two mean terms are the gradient flowing through the batch statistics; in
        inference mode (fixed statistics) they vanish and only ``g * inv_std`` remains.
        Here the sums are gemv products with a vector of ones, and the mean terms reuse
        the parameter gradients:
        :math:`\\sum_i g_i = \\gamma \\odot \\partial L/\\partial \\beta` and
        :math:`\\sum_i g_i \\hat z_i = \\gamma \\odot \\partial L/\\partial\\gamma`.
        With sample weights :math:`w_i` (sum :math:`W`) the statistics are weighted and
        row :math:`k`'s share :math:`1/m` of the mean terms becomes :math:`w_k / W`.
        """
        m = dy.shape[0]
        z_hat, tmp = ws.z_hat[:m], ws.tmp[:m]
        ones = self._ones(ws, m, dy.dtype)
        np.dot(ones, np.multiply(dy, z_hat, out=tmp), out=self.gamma_grad)
        np.dot(ones, dy, out=self.beta_grad)
        dy *= self.gamma  # g
        if ws.training:
            np.multiply(z_hat, self.gamma_grad * self.gamma, out=tmp)
            tmp += self.beta_grad * self.gamma
            tmp *= ws.share
            dy -= tmp
        dy *= ws.inv_std
        return dy

    @staticmethod
    def _ones(ws, m, dtype):
        """A cached vector of ``m`` ones: the weights of an unweighted batch."""
        if ws.ones is None or ws.ones.shape[0] < m or ws.ones.dtype != dtype:
            ws.ones = np.ones(m, dtype=dtype)
        return ws.ones[:m]

    def to_onnx(self, g, x):
        scale, shift = self.affine()
        k = len(g.initializers)
        x = g.op("Mul", x, g.const(f"bn_scale_{k}", scale.astype(np.float32)))
        return g.op("Add", x, g.const(f"bn_shift_{k}", shift.astype(np.float32)))
