"""The hidden-layer pieces of a RealMLP-TD network: a learned diagonal scaling, a
parametric activation, and an affine layer initialised from the data.

With :mod:`._embeddings` they make the RealMLP-TD network of Holzmüller et al. (2024)::

    CategoryEmbedding -> PeriodicEmbedding -> Scale
        -> (DataDense -> ParametricActivation -> Dropout)* -> DataDense

Their per-parameter learning-rate and weight-decay factors (:class:`~.._layout.Param`
``lr`` and ``wd``) are RealMLP-TD's; ``wd`` is relative to ``lr * weight_decay``, so a
pytabkit ``wd_factor`` ``f`` with ``lr_factor`` ``l`` is our ``wd = f * l``.

References
----------
.. [1] Holzmüller, D., Grinsztajn, L. and Steinwart, I. (2024). Better by default: strong
   pre-tuned MLPs and boosted trees on tabular data. NeurIPS.
.. [2] Jacot, A., Gabriel, F. and Hongler, C. (2018). Neural tangent kernel:
   convergence and generalization in neural networks. NeurIPS.
"""

import math
from types import SimpleNamespace

import numpy as np

from .._activations import get_activation
from .._layers import Dense, Layer
from .._layout import Param
from ._embeddings import CategoryEmbedding, PeriodicEmbedding, _not_exported

# Every RealMLP-TD layer is importable from here; the embeddings live in ._embeddings.
__all__ = ["CategoryEmbedding", "DataDense", "ParametricActivation", "PeriodicEmbedding",
           "Scale"]


class Scale(Layer):
    """A learned scale per column, :math:`y = x \\odot s`, starting at :math:`s = 1`.

    RealMLP-TD's "front scale": a soft feature selection in front of the first affine
    layer, learning 6x faster than the weights (parameter ``scale``, kind "embedding",
    lr factor 6, weight-decay factor 6).

    Parameters
    ----------
    n : int
        Number of columns.
    """

    name = "scale"

    def __init__(self, n):
        self.n = int(n)

    def config(self):
        return {"n": self.n}

    def params(self):
        return [Param("scale", (self.n,), "embedding", lr=6.0, wd=6.0)]

    def bind(self, params, grads, state):
        self.scale, self.scale_grad = params["scale"], grads["scale"]

    def initialize(self, rng, scheme):
        self.scale[...] = 1.0

    def buffers(self, m, empty):
        return SimpleNamespace(out=empty((m, self.n)), input=None)

    def forward(self, x, ws, ctx):
        if ws is None:
            return x * self.scale
        ws.input = x
        return np.multiply(x, self.scale, out=ws.out[:x.shape[0]])

    def backward(self, dy, ws, ctx, need_dx=True):
        """Fill ``scale_grad``; ``dy *= s`` in place.

        Notes
        -----
        .. math::

            \\frac{\\partial L}{\\partial s} = \\sum_i \\delta_i \\odot x_i, \\qquad
            \\frac{\\partial L}{\\partial x} = \\delta \\odot s.
        """
        np.einsum("ij,ij->j", dy, ws.input, out=self.scale_grad)
        if not need_dx:
            return None
        dy *= self.scale
        return dy

    def to_onnx(self, g, x):
        raise _not_exported(self)


class ParametricActivation(Layer):
    """:math:`y = x + \\alpha \\odot (f(x) - x)` per unit, starting at :math:`\\alpha = 1`.

    A learned mix, unit by unit, of the identity (:math:`\\alpha = 0`) and the
    activation :math:`f` (:math:`\\alpha = 1`), so the network may make a unit linear.
    RealMLP-TD uses ``"selu"`` for classification and ``"mish"`` for regression.
    Parameter ``alpha``: kind "embedding", lr factor 0.1, weight-decay factor 0.1.

    Parameters
    ----------
    activation : str
        A name of :data:`~sknumpy_mlp._activations.ACTIVATIONS`.
    n : int
        Number of units.
    """

    name = "parametric_activation"

    def __init__(self, activation, n):
        self.activation, self.n = str(activation), int(n)
        self.fn = get_activation(self.activation)

    def config(self):
        return {"activation": self.activation, "n": self.n}

    def params(self):
        return [Param("alpha", (self.n,), "embedding", lr=0.1, wd=0.1)]

    def bind(self, params, grads, state):
        self.alpha, self.alpha_grad = params["alpha"], grads["alpha"]

    def initialize(self, rng, scheme):
        self.alpha[...] = 1.0

    def buffers(self, m, empty):
        return SimpleNamespace(a=empty((m, self.n)), out=empty((m, self.n)),
                               tmp=empty((m, self.n)), input=None)

    def forward(self, x, ws, ctx):
        """:math:`x + \\alpha (f(x) - x)`; in training :math:`f(x)` and ``x`` are kept."""
        if ws is None:
            y = self.fn.forward(x)
            y -= x
            y *= self.alpha
            y += x
            return y
        m = x.shape[0]
        a = self.fn.forward(x, ws.a[:m])
        ws.input = x
        y = np.subtract(a, x, out=ws.out[:m])
        y *= self.alpha
        y += x
        return y

    def backward(self, dy, ws, ctx, need_dx=True):
        """Fill ``alpha_grad``; overwrite ``dy`` with :math:`\\partial L/\\partial x`.

        Notes
        -----
        .. math::

            \\frac{\\partial L}{\\partial \\alpha} = \\sum_i \\delta_i \\odot
                \\bigl(f(x_i) - x_i\\bigr), \\qquad
            \\frac{\\partial L}{\\partial x} = \\delta \\odot
                \\bigl(1 + \\alpha (f'(x) - 1)\\bigr)
            = (1 - \\alpha)\\,\\delta + \\alpha\\,\\bigl(\\delta \\odot f'(x)\\bigr),

        the last product by the activation's own ``backward``.
        """
        m = dy.shape[0]
        x, a, tmp = ws.input, ws.a[:m], ws.tmp[:m]
        np.subtract(a, x, out=tmp)
        tmp *= dy
        np.sum(tmp, axis=0, out=self.alpha_grad)
        if not need_dx:
            return None
        np.copyto(tmp, dy)
        self.fn.backward(x if self.fn.needs_input else None, a, tmp)  # dy * f'(x)
        tmp *= self.alpha
        dy *= 1.0 - self.alpha
        dy += tmp
        return dy

    def to_onnx(self, g, x):
        raise _not_exported(self)


class DataDense(Dense):
    """An affine layer initialised on a sample of its inputs, as RealMLP-TD's.

    The forward and backward passes are :class:`~sknumpy_mlp._layers.Dense`'s; only the
    initialisation and the learning-rate factors differ. From the sample :math:`X`
    (``scheme.x``, handed down by ``Network.initialize(..., X=...)``):

    - weights :math:`W = G / \\sqrt{n_{in}}`, :math:`G_{kj} \\sim N(0, 1)`, then each
      column divided by the population standard deviation of :math:`(XW)_{\\cdot j}`,
      so every pre-activation starts with unit variance on the sample;
    - biases "he+5": for unit :math:`j`, five random rows :math:`i_1..i_5` and simplex
      weights :math:`s = E / \\sum E`, :math:`E_k \\sim \\mathrm{Exp}(1)`, give
      :math:`b_j = -\\sum_k s_k (XW)_{i_k j}`: the unit's kink sits at a random convex
      combination of data points, where the data are.

    This is pytabkit's NTK parametrisation with ``weight_init_mode="std"`` and
    ``bias_init_mode="he+5"``. NTK multiplies a weight with :math:`N(0, 1)` entries by
    :math:`1/\\sqrt{n_{in}}` in the forward pass; with Adam (whose step does not scale
    with the gradient) that is the same as storing the effective weights and giving
    them the learning-rate factor :math:`1/\\sqrt{n_{in}}`, which is what we do:
    ``coef`` lr factor :math:`1/\\sqrt{n_{in}}`, weight decay 1; ``intercept`` lr factor
    0.1, no weight decay.

    Parameters
    ----------
    n_in, n_out : int
        Input and output widths.
    index : int, default=0
        Position among the network's affine layers (``coefs_[index]``).
    """

    name = "data_dense"
    n_simplex = 5

    def params(self):
        return [Param("coef", (self.n_in, self.n_out), "weight",
                      lr=1.0 / math.sqrt(self.n_in), wd=1.0),
                Param("intercept", (self.n_out,), "bias", lr=0.1, wd=0.0)]

    def initialize(self, rng, scheme):
        x = getattr(scheme, "x", None)
        if x is None:
            raise ValueError("DataDense initialises from a sample of its inputs: call "
                             "Network.initialize(rng, X=sample).")
        x = x.toarray() if hasattr(x, "toarray") else np.asarray(x)
        x = x.astype(np.float64, copy=False)
        coef = rng.normal(size=(self.n_in, self.n_out)) / math.sqrt(self.n_in)
        z = x @ coef  # (m, n_out)
        std = z.std(axis=0)
        std[~(std > 1e-12)] = 1.0  # a constant unit (or a 1-row sample) keeps its draw
        coef /= std
        z /= std
        rows = rng.randint(0, len(x), size=(self.n_out, self.n_simplex))
        share = rng.exponential(1.0, size=(self.n_out, self.n_simplex))
        share /= share.sum(axis=1, keepdims=True)
        picked = z[rows, np.arange(self.n_out)[:, None]]  # (n_out, n_simplex)
        self.coef[...] = coef
        self.intercept[...] = -(share * picked).sum(axis=1)
