"""The network: layers in order, one flat parameter buffer, forward and backward.

Layout of the parameter buffer (the order scikit-learn's ``_pack`` uses, so L-BFGS sees
the same vector)::

    [ W_0 | W_1 | ... | W_L | b_0 | b_1 | ... | b_L | gamma_0 | beta_0 | ... ]
      \\___ coefs: L2 and weight decay ___/

``coefs`` and ``intercepts`` are lists of *views* into ``params``; ``grads`` has the
same layout. Because the weights come first, the L2 penalty, weight decay and gradient
clipping are single vector operations on ``params[:n_coef]`` / ``grads``, and an
optimizer step touches one contiguous array instead of a list of small ones.
"""

import numpy as np
from scipy import sparse

from ._activations import get_activation
from ._initializers import INITIALIZERS
from ._layers import BatchNorm, Dense, Dropout
from ._sampling import words_for_uint16


class Network:
    """A multilayer perceptron: (Dense -> [BatchNorm] -> activation -> [Dropout])* -> Dense.

    Parameters
    ----------
    layer_units : list of int
        ``[n_features, *hidden_layer_sizes, n_outputs]``.
    activation : str
        Name of the hidden activation (see :mod:`sknumpy_mlp._activations`).
    head : object
        Output activation fused with its loss (see :mod:`sknumpy_mlp._losses`).
    dtype : numpy dtype
        float32 or float64; every buffer has this dtype.
    batch_norm : bool, default=False
        Insert batch normalization after each hidden affine layer.
    dropout : sequence of float, default=None
        One dropout rate per hidden layer (0 disables it for that layer).
    """

    def __init__(self, layer_units, activation, head, dtype, *, batch_norm=False,
                 dropout=None):
        self.layer_units = [int(u) for u in layer_units]
        self.activation_name = activation
        self.head = head
        self.dtype = np.dtype(dtype)
        self.batch_norm = bool(batch_norm)
        n_hidden = len(self.layer_units) - 2
        self.dropout = [0.0] * n_hidden if dropout is None else [float(r) for r in dropout]
        self.params = np.zeros(self._n_params(), dtype=self.dtype)
        hidden = self.layer_units[1:-1]
        self.state = np.zeros(2 * sum(hidden) if batch_norm else 0, dtype=self.dtype)
        self._bind()

    # ------------------------------------------------------------------ layout
    def _n_params(self):
        units = self.layer_units
        n = sum(a * b for a, b in zip(units[:-1], units[1:])) + sum(units[1:])
        if self.batch_norm:
            n += 2 * sum(units[1:-1])
        return n

    def _bind(self):
        """(Re)create the layers as views into ``params``, ``grads`` and ``state``."""
        self.grads = np.zeros_like(self.params)
        self.activation = get_activation(self.activation_name)
        units = self.layer_units
        shapes = list(zip(units[:-1], units[1:]))
        views, grad_views, offset = [], [], 0
        for shape in shapes + [(u,) for u in units[1:]]:
            size = int(np.prod(shape))
            views.append(self.params[offset:offset + size].reshape(shape))
            grad_views.append(self.grads[offset:offset + size].reshape(shape))
            offset += size
        self.n_coef = sum(a * b for a, b in shapes)
        n = len(shapes)
        self.coefs, self.intercepts = views[:n], views[n:]
        self.dense = [Dense(views[i], views[n + i], grad_views[i], grad_views[n + i])
                      for i in range(n)]
        self.norms = []
        if self.batch_norm:
            s_off = 0
            for u in units[1:-1]:
                first, second = slice(offset, offset + u), slice(offset + u, offset + 2 * u)
                running = slice(s_off, s_off + u), slice(s_off + u, s_off + 2 * u)
                self.norms.append(BatchNorm(
                    self.params[first], self.params[second], self.grads[first],
                    self.grads[second], self.state[running[0]], self.state[running[1]]))
                offset += 2 * u
                s_off += 2 * u
        self.dropouts = [Dropout(r) if r > 0 else None for r in self.dropout]

    @property
    def n_hidden(self):
        """Number of hidden layers."""
        return len(self.layer_units) - 2

    def initialize(self, rng, weight_init="auto"):
        """Draw the initial weights layer by layer with ``rng``; gamma=1, beta=0."""
        init = INITIALIZERS[weight_init]
        for i, (fan_in, fan_out) in enumerate(zip(self.layer_units[:-1],
                                                  self.layer_units[1:])):
            coef, intercept = init(fan_in, fan_out, rng, self.activation_name)
            self.coefs[i][...] = coef
            self.intercepts[i][...] = intercept
        for bn in self.norms:
            bn.gamma[...] = 1.0
            bn.beta[...] = 0.0
            bn.running_mean[...] = 0.0
            bn.running_var[...] = 1.0
        return self

    def set_weights(self, coefs, intercepts):
        """Copy ``coefs``/``intercepts`` (e.g. edited by a user) into the buffer."""
        values = list(coefs) + list(intercepts)
        for view, value in zip(self.coefs + self.intercepts, values):
            if view is not value:
                view[...] = value

    def __getstate__(self):
        # Views would be pickled as copies; keep the buffers, rebuild the views on load.
        state = self.__dict__.copy()
        for key in ("grads", "coefs", "intercepts", "dense", "norms", "dropouts",
                    "activation"):
            state.pop(key, None)
        state["dtype"] = self.dtype.str  # a plain string: skops trusts it by default
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        self.dtype = np.dtype(self.dtype)
        self._bind()

    # ---------------------------------------------------------------- training
    def workspace(self, batch_size):
        """Preallocate every activation and delta buffer for batches of ``batch_size``."""
        return Workspace(self, batch_size)

    def forward(self, X, ws, *, training=True, sample_weight=None, dropout_keys=None,
                step=0):
        """Forward pass of a training batch; returns the logits, shape ``(m, n_outputs)``.

        Intermediate results stay in ``ws`` for :meth:`backward`. When ``training``,
        dropout masks are keyed by ``dropout_keys`` (one per row) and ``step``, and batch
        normalization uses the (``sample_weight``-weighted) batch statistics.
        """
        m = X.shape[0]
        inp = X
        ws.inputs[0] = X
        for i, dense in enumerate(self.dense[:-1]):
            z = dense.forward(inp, ws.z[i][:m])
            h = z
            if self.batch_norm:
                h = self.norms[i].forward(z, ws.h[i][:m], ws.z_hat[i][:m], training,
                                          sample_weight)
            a = self.activation.forward(h, ws.a[i][:m] if ws.a[i] is not None else h)
            out = a
            drop = self.dropouts[i]
            if drop is not None and training:
                mask = drop.sample_mask(dropout_keys, step, i, ws.mask[i][:m],
                                        *ws.bits(m, ws.mask[i].shape[1]))
                out = drop.forward(a, mask, ws.d[i][:m])
            ws.active_dropout[i] = drop is not None and training
            ws.inputs[i + 1] = inp = out
        return self.dense[-1].forward(inp, ws.logits[:m])

    def backward(self, dlogits, ws):
        """Backpropagate ``dlogits`` (dL/dz of the output layer) and fill ``grads``.

        Notes
        -----
        For hidden layer :math:`i` with :math:`Z_i = A_{i-1} W_i + b_i`,
        :math:`A_i = f(Z_i)` (batch norm and dropout inserted as layers when on), the
        chain rule gives the recursion, from the top:

        .. math::

            \\delta_L = \\frac{\\partial L}{\\partial Z_L}, \\qquad
            \\delta_{i} = \\left(\\delta_{i+1} W_{i+1}^\\top\\right) \\odot f'(Z_i),

        and each layer's parameter gradients follow from its own :math:`\\delta`
        (:meth:`Dense.backward`). Every product lands in a preallocated buffer.
        """
        m = dlogits.shape[0]
        top = self.n_hidden
        d_in = ws.delta[top - 1][:m] if top > 0 else None
        self.dense[top].backward(ws.inputs[top], dlogits, d_in)
        for i in range(top - 1, -1, -1):
            g = ws.delta[i][:m]
            if ws.active_dropout[i]:
                self.dropouts[i].backward(ws.mask[i][:m], g)
            h = ws.h[i][:m] if self.batch_norm else ws.z[i][:m]
            a = ws.a[i][:m] if ws.a[i] is not None else h
            self.activation.backward(h if self.activation.needs_input else None, a, g)
            if self.batch_norm:
                # h has been read by the layer above and by the activation's backward:
                # batch norm's backward may use its buffer as scratch.
                self.norms[i].backward(ws.z_hat[i][:m], g, ws.h[i][:m])
            d_in = ws.delta[i - 1][:m] if i > 0 else None
            self.dense[i].backward(ws.inputs[i], g, d_in)

    def loss_and_grad(self, X, Y, ws, *, sample_weight=None, alpha=0.0,
                      label_smoothing=0.0, training=True, dropout_keys=None, step=0):
        """Mean loss of one batch (with sklearn's L2 term) and its gradient in ``grads``.

        Notes
        -----
        scikit-learn's objective for a batch with weights :math:`s_i`
        (:math:`s_i = 1` without ``sample_weight``) and :math:`S = \\sum_i s_i` is

        .. math::

            J = \\frac{1}{S}\\sum_i s_i\\,\\ell_i
                + \\frac{\\alpha}{2S}\\sum_l \\lVert W_l \\rVert_F^2,
            \\qquad
            \\frac{\\partial J}{\\partial W_l} = \\frac{1}{S}\\left(
                \\frac{\\partial}{\\partial W_l}\\sum_i s_i \\ell_i + \\alpha W_l\\right).

        The :math:`1/S` is applied once to the output delta (``scale``), so it flows to
        every gradient through backpropagation without another pass over ``grads``.
        """
        m = X.shape[0]
        sw_sum = float(m if sample_weight is None else sample_weight.sum())
        scale = 1.0 / sw_sum if sw_sum > 0 else 0.0
        logits = self.forward(X, ws, training=training, sample_weight=sample_weight,
                              dropout_keys=dropout_keys, step=step)
        loss = self.head.loss_and_grad(logits, Y, sample_weight, label_smoothing, scale)
        self.backward(logits, ws)
        coefs, coef_grads = self.params[:self.n_coef], self.grads[:self.n_coef]
        if alpha > 0 and scale > 0:
            loss += 0.5 * alpha * float(np.dot(coefs, coefs))
            np.multiply(coefs, alpha * scale, out=ws.scratch)
            coef_grads += ws.scratch
        return loss * scale

    # --------------------------------------------------------------- inference
    def predict_output(self, X, coefs=None, intercepts=None):
        """The head's outputs for ``X`` (probabilities, or values), in inference mode.

        Allocates its own arrays (no shared workspace), so concurrent calls from several
        threads on one fitted network are safe. Dropout is the identity here and batch
        normalization uses the running statistics.
        """
        coefs = self.coefs if coefs is None else coefs
        intercepts = self.intercepts if intercepts is None else intercepts
        a = X
        for i in range(self.n_hidden):
            z = a @ coefs[i] if sparse.issparse(a) else np.dot(a, coefs[i])
            z += intercepts[i]
            if self.batch_norm:
                bn = self.norms[i]
                z -= bn.running_mean
                z *= bn.gamma / np.sqrt(bn.running_var + bn.epsilon)
                z += bn.beta
            a = self.activation.forward(z, z)
        z = a @ coefs[-1] if sparse.issparse(a) else np.dot(a, coefs[-1])
        z += intercepts[-1]
        return self.head.predict(z)  # probabilities (clipped), or regression values


class Workspace:
    """Preallocated per-batch buffers; a batch of ``m <= batch_size`` rows uses ``[:m]``.

    Slicing the leading rows of a C-contiguous array gives a contiguous view, so every
    ``np.dot(..., out=...)`` in the training loop writes straight into these buffers.
    """

    def __init__(self, net, batch_size):
        dtype, hidden = net.dtype, net.layer_units[1:-1]

        def buf(u):
            return np.empty((batch_size, u), dtype=dtype)

        # Output-derivative activations (relu, tanh, ...) run in place over their input;
        # those needing the pre-activation (gelu, silu) get a separate output buffer.
        separate = net.activation.needs_input
        self.z = [buf(u) for u in hidden]
        self.h = [buf(u) for u in hidden] if net.batch_norm else [None] * len(hidden)
        self.z_hat = [buf(u) for u in hidden] if net.batch_norm else [None] * len(hidden)
        self.a = [buf(u) if separate else None for u in hidden]
        self.mask = [buf(u) if r > 0 else None for u, r in zip(hidden, net.dropout)]
        self.d = [buf(u) if r > 0 else None for u, r in zip(hidden, net.dropout)]
        self.delta = [buf(u) for u in hidden]
        self.logits = buf(net.layer_units[-1])
        self.scratch = np.empty(net.n_coef, dtype=dtype)
        self.inputs = [None] * (len(hidden) + 1)
        self.active_dropout = [False] * len(hidden)
        widest = max((u for u, r in zip(hidden, net.dropout) if r > 0), default=0)
        self._bits = np.empty((2, batch_size * words_for_uint16(widest)), dtype=np.uint64)

    def bits(self, m, n_units):
        """Two contiguous uint64 buffers for hashing the masks of ``m`` x ``n_units``."""
        n = words_for_uint16(n_units)
        return [flat[:m * n].reshape(m, n) for flat in self._bits]
