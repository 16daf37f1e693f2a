"""The layer protocol, and the affine, activation and dropout layers.

Every layer is one class with the same small interface (micrograd's ``Module``,
nanoGPT's blocks), so the network is a list it walks forward and back:

- ``params()`` / ``states()`` declare the arrays the layer owns (:class:`~._layout.Param`:
  shape and kind; the kind says whether L2 / weight decay apply). The network places them
  in its flat buffers (:class:`~._layout.Layout`) and hands each layer views with
  ``bind``; ``initialize(rng, scheme)`` fills them.
- ``buffers(m, empty)`` preallocates what one training batch of up to ``m`` rows needs,
  through the network's single allocator ``empty`` (the one place arrays are made).
- ``forward(x, ws, ctx)`` returns the output. In training (``ctx.training``) it writes into
  ``ws`` and caches there what ``backward`` needs; in inference ``ws`` is None, the layer
  allocates its output and caches nothing, so concurrent predictions are safe.
  A layer with ``in_place = True`` may overwrite its input.
- ``backward(dy, ws, ctx, need_dx)`` fills the parameter gradients and returns
  :math:`\\partial L/\\partial x` (in place over ``dy`` when it can); with
  ``need_dx=False`` (nothing below has parameters) it may skip that work.
- ``to_onnx(g, x)`` adds the layer's inference graph to an ONNX graph builder.

Subclasses with a ``name`` register themselves in :data:`LAYERS`, the table persistence
and skops read: writing a new layer is one class in one file. Pickled, a layer keeps only
its constructor arguments (``config()``); the network rebinds its views on load.
"""

from dataclasses import dataclass
from types import SimpleNamespace

import numpy as np
from scipy import sparse

from ._activations import get_activation
from ._initializers import INITIALIZERS
from ._layout import Param
from ._sampling import bernoulli_threshold16, random_uint16, words_for_uint16

#: name -> layer class, filled by :meth:`Layer.__init_subclass__`.
LAYERS = {}


@dataclass
class Pass:
    """What one forward pass needs besides the input: a config, not an argument list.

    ``weights`` optionally replaces the affine layers' ``(coef, intercept)`` by position
    (a user may assign ``coefs_`` arrays that are not views of the buffer).
    """

    training: bool = False
    sample_weight: np.ndarray = None
    dropout_keys: np.ndarray = None
    step: int = 0
    weights: list = None


class Layer:
    """Base class: a layer without parameters that passes its input through."""

    name = ""
    in_place = False

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if cls.name:
            LAYERS[cls.name] = cls

    def config(self):
        """The constructor arguments: all a pickle or a model file keeps."""
        return {}

    def params(self):
        return []

    def states(self):
        return []

    def bind(self, params, grads, state):
        """Receive dicts ``name -> view`` into the network's buffers."""

    def initialize(self, rng, scheme):
        """Fill the parameters and state; draw from ``rng`` only."""

    def buffers(self, m, empty):
        return SimpleNamespace()

    def forward(self, x, ws, ctx):
        return x

    def backward(self, dy, ws, ctx, need_dx=True):
        return dy

    def to_onnx(self, g, x):
        return x

    def __getstate__(self):
        return self.config()

    def __setstate__(self, state):
        self.__init__(**state)

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.config().items())
        return f"{type(self).__name__}({args})"


class Dense(Layer):
    """Affine layer :math:`Z = X W + b`, the ``index``-th of the network.

    ``coef`` (``(n_in, n_out)``, kind "weight") and ``intercept`` (``(n_out,)``, kind
    "bias") are views into the network's buffer; ``coefs_[index]`` is ``coef``.
    """

    name = "dense"

    def __init__(self, n_in, n_out, index=0):
        self.n_in, self.n_out, self.index = int(n_in), int(n_out), int(index)

    def config(self):
        return {"n_in": self.n_in, "n_out": self.n_out, "index": self.index}

    def params(self):
        return [Param("coef", (self.n_in, self.n_out), "weight"),
                Param("intercept", (self.n_out,), "bias")]

    def bind(self, params, grads, state):
        self.coef, self.intercept = params["coef"], params["intercept"]
        self.coef_grad, self.intercept_grad = grads["coef"], grads["intercept"]

    def initialize(self, rng, scheme):
        # scheme: (weight_init, activation); the draws follow scikit-learn's order.
        init = INITIALIZERS[scheme.weight_init]
        self.coef[...], self.intercept[...] = init(self.n_in, self.n_out, rng,
                                                   scheme.activation)

    def buffers(self, m, empty):
        return SimpleNamespace(out=empty((m, self.n_out)), dx=empty((m, self.n_in)),
                               input=None)

    def forward(self, x, ws, ctx):
        """:math:`XW + b` into ``ws.out`` (training) or a new array (inference)."""
        coef, intercept = (self.coef, self.intercept) if ctx.weights is None else \
            ctx.weights[self.index]
        if ws is None:
            out = x @ coef if sparse.issparse(x) else np.dot(x, coef)
        else:
            ws.input = x
            out = ws.out[:x.shape[0]]
            if sparse.issparse(x):
                out[...] = x @ coef
            else:
                np.dot(x, coef, out=out)
        out += intercept
        return out

    def backward(self, dy, ws, ctx, need_dx=True):
        """Fill the parameter gradients; return :math:`\\partial L/\\partial X`.

        Notes
        -----
        With :math:`Z = XW + b` and upstream gradient
        :math:`\\delta = \\partial L/\\partial Z` (shape ``(batch, n_out)``):

        .. math::

            \\frac{\\partial L}{\\partial W} = X^\\top \\delta, \\qquad
            \\frac{\\partial L}{\\partial b} = \\sum_i \\delta_{i\\cdot}, \\qquad
            \\frac{\\partial L}{\\partial X} = \\delta W^\\top.

        The input gradient is skipped (``need_dx=False``) for the first layer: nobody
        needs the gradient with respect to the data, and it is a third of that layer's
        work.
        """
        x = ws.input
        if sparse.issparse(x):
            self.coef_grad[...] = x.T @ dy
        else:
            np.dot(x.T, dy, out=self.coef_grad)
        np.sum(dy, axis=0, out=self.intercept_grad)
        if not need_dx:
            return None
        return np.dot(dy, self.coef.T, out=ws.dx[:dy.shape[0]])

    def to_onnx(self, g, x, scale=None, shift=None):
        """``MatMul`` and ``Add``; an affine map per unit that follows (batch norm at
        inference, :math:`y = s z + t`) is folded in: :math:`W s`, :math:`b s + t`.
        """
        coef = np.asarray(self.coef, dtype=np.float64)
        intercept = np.asarray(self.intercept, dtype=np.float64)
        if scale is not None:
            coef, intercept = coef * scale, intercept * scale + shift
        z = g.op("MatMul", x, g.const(f"coef_{self.index}", coef.astype(np.float32)))
        return g.op("Add", z, g.const(f"intercept_{self.index}",
                                      intercept.astype(np.float32)))


class ActivationLayer(Layer):
    """An element-wise activation (:mod:`._activations`) as a layer of ``n`` units.

    Activations whose derivative is a function of the output alone (relu, tanh, ...)
    run in place over their input and keep only the output; those needing the
    pre-activation (gelu, silu) write into a buffer of their own.
    """

    name = "activation"
    in_place = True

    def __init__(self, activation, n):
        self.activation, self.n = str(activation), int(n)
        self.fn = get_activation(self.activation)

    def config(self):
        return {"activation": self.activation, "n": self.n}

    def buffers(self, m, empty):
        separate = self.fn.needs_input
        return SimpleNamespace(a=empty((m, self.n)) if separate else None,
                               input=None, output=None)

    def forward(self, x, ws, ctx):
        if ws is None:
            return self.fn.forward(x, x)
        out = x if ws.a is None else ws.a[:x.shape[0]]
        ws.input, ws.output = x, self.fn.forward(x, out)
        return ws.output

    def backward(self, dy, ws, ctx, need_dx=True):
        """``dy *= f'(x)`` in place (see each activation's ``backward``)."""
        z = ws.input if self.fn.needs_input else None
        return self.fn.backward(z, ws.output, dy)

    def to_onnx(self, g, x):
        return self.fn.to_onnx(g, x)


class Dropout(Layer):
    """Inverted dropout: zero each unit w.p. ``rate``, scale the rest by ~1/(1-rate).

    Scaling at training time keeps the expected activation unchanged, so inference is
    the identity: nothing to rescale, and predictions are deterministic. The masks are
    keyed by row content, step and ``key`` (the hidden layer's position), see
    :mod:`._sampling`, so a row's mask does not depend on the batch around it.

    References
    ----------
    .. [1] Srivastava, N., Hinton, G., Krizhevsky, A., Sutskever, I. and
       Salakhutdinov, R. (2014). Dropout: a simple way to prevent neural networks from
       overfitting. JMLR 15.
    """

    name = "dropout"

    def __init__(self, rate, n, key=0):
        self.n, self.key = int(n), int(key)
        self.set_rate(rate)

    def set_rate(self, rate):
        """Change the drop probability (a schedule may lower it during training)."""
        self.rate = float(rate)
        self.threshold = bernoulli_threshold16(self.rate)
        # The kept units are scaled by the inverse of the *drawn* keep probability, so
        # the expected output equals the input exactly, whatever the rounding.
        self.scale = 65536 / (65536 - int(self.threshold))

    def config(self):
        return {"rate": self.rate, "n": self.n, "key": self.key}

    def buffers(self, m, empty):
        words = m * words_for_uint16(self.n)
        return SimpleNamespace(mask=empty((m, self.n)), out=empty((m, self.n)),
                               bits=[empty((words,), np.uint64) for _ in range(2)],
                               active=False)

    def sample_mask(self, keys, step, out, bits=None, tmp=None):
        """Draw the mask of one step into ``out``: 0 w.p. ~``rate``, else ``scale``.

        The draws are 16-bit, so the drop probability is ``rate`` rounded to a multiple
        of 1/65536 (see :func:`~sknumpy_mlp._sampling.bernoulli_threshold16`); ``bits``
        and ``tmp`` are optional uint64 work buffers.
        """
        draws = random_uint16(keys, step, self.key, out.shape[1], bits, tmp)
        np.greater_equal(draws, self.threshold, out=out)  # 1.0 = keep
        out *= self.scale
        return out

    def forward(self, x, ws, ctx):
        if ws is None or not ctx.training:
            if ws is not None:
                ws.active = False
            return x
        m, words = x.shape[0], words_for_uint16(self.n)
        bits = [b[:m * words].reshape(m, words) for b in ws.bits]
        mask = self.sample_mask(ctx.dropout_keys, ctx.step, ws.mask[:m], *bits)
        ws.active = True
        return np.multiply(x, mask, out=ws.out[:m])

    def backward(self, dy, ws, ctx, need_dx=True):
        """Multiply ``dy`` by the same mask in place.

        Notes
        -----
        :math:`y = x \\odot M` with a fixed mask :math:`M`, so
        :math:`\\partial L/\\partial x = M \\odot \\partial L / \\partial y`.
        """
        if ws.active:
            dy *= ws.mask[:dy.shape[0]]
        return dy
