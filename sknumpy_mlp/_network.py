"""The network: a list of layers walked forward and back, over one flat parameter buffer.

Every layer speaks the protocol of :mod:`sknumpy_mlp._layers`; the network knows nothing
of their kinds. It places their parameters with one :class:`~._layout.Layout` (weights
first: scikit-learn's ``_pack`` order), hands each layer views into ``params``, ``grads``
and ``state``, and walks the list: forward in training mode into a preallocated
:class:`Workspace`, backward in reverse, and forward in inference mode for predictions,
the one inference path (what the ONNX graph mirrors, layer by layer).

``coefs`` and ``intercepts`` are the affine layers' views, so an optimizer step touches
one contiguous array, and ``coefs_`` edited by a user edits the network.
"""

from types import SimpleNamespace

import numpy as np

from ._batch_norm import BatchNorm
from ._layers import ActivationLayer, Dense, Dropout, Pass
from ._layout import Layout


def empty(shape, dtype):
    """The one place the core makes arrays (a later array-API backend swaps this)."""
    return np.empty(shape, dtype=dtype)


def mlp_layers(layer_units, activation, *, batch_norm=False, dropout=None):
    """The layers of a multilayer perceptron, scikit-learn's network and our options:
    ``(Dense -> [BatchNorm] -> activation -> [Dropout])* -> Dense``.

    Parameters
    ----------
    layer_units : list of int
        ``[n_features, *hidden_layer_sizes, n_outputs]``.
    activation : str
        Name of the hidden activation (see :mod:`sknumpy_mlp._activations`).
    batch_norm : bool, default=False
        Batch normalization after each hidden affine layer.
    dropout : sequence of float, default=None
        One dropout rate per hidden layer (0: none for that layer).
    """
    units = [int(u) for u in layer_units]
    n_hidden = len(units) - 2
    rates = [0.0] * n_hidden if dropout is None else [float(r) for r in dropout]
    layers = []
    for i, (n_in, n_out) in enumerate(zip(units[:-1], units[1:])):
        layers.append(Dense(n_in, n_out, index=i))
        if i == n_hidden:
            break
        if batch_norm:
            layers.append(BatchNorm(n_out))
        layers.append(ActivationLayer(activation, n_out))
        if rates[i] > 0:
            layers.append(Dropout(rates[i], n_out, key=i))
    return layers


class Network:
    """Layers in order, an output head, and the flat buffers they live in.

    Parameters
    ----------
    layers : list of Layer
        Walked in order; the first must not work in place (it receives the user's X).
    head : object
        Output activation fused with its loss (:mod:`._losses`,
        :mod:`._regression_losses`).
    dtype : numpy dtype
        float32 or float64; every buffer has this dtype.
    """

    def __init__(self, layers, head, dtype):
        self.layers = list(layers)
        self.head = head
        self.dtype = np.dtype(dtype)
        if self.layers[0].in_place:
            raise ValueError("the first layer must not work in place: it gets X.")
        layout = Layout(self.layers)
        self.params = np.zeros(layout.n_params, dtype=self.dtype)
        self.state = np.zeros(layout.n_state, dtype=self.dtype)
        self._bind()

    @classmethod
    def mlp(cls, layer_units, activation, head, dtype, *, batch_norm=False, dropout=None):
        """The multilayer perceptron of :func:`mlp_layers`."""
        return cls(mlp_layers(layer_units, activation, batch_norm=batch_norm,
                              dropout=dropout), head, dtype)

    def _bind(self):
        """(Re)create the layout and every layer's views into the buffers."""
        self.layout = layout = Layout(self.layers)
        self.grads = np.zeros_like(self.params)
        for layer, p, g, s in zip(self.layers, layout.views(self.params),
                                  layout.views(self.grads),
                                  layout.views(self.state, "state")):
            layer.bind(p, g, s)
        self.dense = [la for la in self.layers if isinstance(la, Dense)]
        self.norms = [la for la in self.layers if isinstance(la, BatchNorm)]
        self.coefs = [d.coef for d in self.dense]
        self.intercepts = [d.intercept for d in self.dense]
        owners = [bool(la.params()) for la in self.layers]
        self._need_dx = [any(owners[:i]) for i in range(len(self.layers))]

    # ------------------------------------------------- what the estimator reads
    @property
    def n_decay(self):
        """The parameters L2 and weight decay apply to are ``params[:n_decay]``."""
        return self.layout.n_decay

    n_coef = n_decay  # its name until 0.1

    @property
    def layer_units(self):
        """``[n_in, *hidden widths, n_outputs]`` along the affine layers."""
        return [self.dense[0].n_in] + [d.n_out for d in self.dense]

    @property
    def n_hidden(self):
        return len(self.dense) - 1

    @property
    def activation_name(self):
        acts = [la.activation for la in self.layers if isinstance(la, ActivationLayer)]
        return acts[0] if acts else "identity"

    @property
    def batch_norm(self):
        return bool(self.norms)

    @property
    def dropout(self):
        """One dropout rate per hidden layer (0 where there is none)."""
        rates = [0.0] * self.n_hidden
        for la in self.layers:
            if isinstance(la, Dropout):
                rates[la.key] = la.rate
        return rates

    def initialize(self, rng, weight_init="auto", activation=None, X=None):
        """Draw the initial parameters layer by layer with ``rng``.

        ``activation`` (default: the network's own) picks scikit-learn's Glorot factor;
        the estimator passes its parameter, which matters when there is no hidden layer.
        With ``X`` (a sample of the training inputs), each layer sees its own input as
        ``scheme.x``, the sample passed through the layers below once they are
        initialized: data-dependent initializations (unit-variance pre-activations,
        biases placed between data points) read it.
        """
        scheme = SimpleNamespace(weight_init=weight_init,
                                 activation=activation or self.activation_name, x=X)
        ctx = Pass()
        for i, layer in enumerate(self.layers):
            layer.initialize(rng, scheme)
            if X is not None and i + 1 < len(self.layers):
                scheme.x = layer.forward(scheme.x, None, ctx)
        return self

    def set_weights(self, coefs, intercepts):
        """Copy ``coefs``/``intercepts`` (e.g. edited by a user) into the buffer."""
        values = list(coefs) + list(intercepts)
        for view, value in zip(self.coefs + self.intercepts, values):
            if view is not value:
                view[...] = value

    def __getstate__(self):
        # Layers pickle as their settings and the buffers once; views are rebuilt.
        return {"layers": self.layers, "head": self.head, "dtype": self.dtype.str,
                "params": self.params, "state": self.state}

    def __setstate__(self, state):
        if "layers" not in state:  # pickled by 0.1, an MLP described by its settings
            state = dict(state, layers=mlp_layers(
                state["layer_units"], state["activation_name"],
                batch_norm=state["batch_norm"], dropout=state["dropout"]))
        self.layers, self.head = state["layers"], state["head"]
        self.dtype = np.dtype(state["dtype"])
        self.params, self.state = state["params"], state["state"]
        self._bind()

    # ---------------------------------------------------------------- training
    def workspace(self, batch_size):
        """Preallocate every layer's buffers for batches of up to ``batch_size`` rows."""
        return Workspace(self, batch_size)

    def forward(self, X, ws, *, training=True, sample_weight=None, dropout_keys=None,
                step=0):
        """Forward pass of a training batch; returns the logits, shape ``(m, n_outputs)``.

        Intermediate results stay in ``ws`` for :meth:`backward`. When ``training``,
        dropout masks are keyed by ``dropout_keys`` (one per row) and ``step``, and batch
        normalization uses the (``sample_weight``-weighted) batch statistics.
        """
        ws.ctx = ctx = Pass(training, sample_weight, dropout_keys, step)
        x = X
        for layer, slot in zip(self.layers, ws.slots):
            x = layer.forward(x, slot, ctx)
        return x

    def backward(self, dlogits, ws):
        """Backpropagate ``dlogits`` (dL/dz of the output layer) and fill ``grads``.

        Notes
        -----
        With layer :math:`k` computing :math:`x_{k+1} = f_k(x_k; \\theta_k)`, the chain
        rule walks the list from the top:

        .. math::

            \\delta_{K} = \\frac{\\partial L}{\\partial x_K}, \\qquad
            \\frac{\\partial L}{\\partial \\theta_k} =
                \\delta_{k+1} \\frac{\\partial f_k}{\\partial \\theta_k}, \\qquad
            \\delta_{k} = \\delta_{k+1} \\frac{\\partial f_k}{\\partial x_k},

        each layer's ``backward`` doing one step (for an affine layer
        :math:`X^\\top\\delta`, :math:`\\sum_i \\delta_i`, :math:`\\delta W^\\top`; for an
        activation :math:`\\delta \\odot f'`). The input gradient of the lowest layer
        with parameters is never needed, and not computed.
        """
        g = dlogits
        for i in range(len(self.layers) - 1, -1, -1):
            g = self.layers[i].backward(g, ws.slots[i], ws.ctx, self._need_dx[i])

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
        n = self.layout.n_decay
        decayed, decayed_grads = self.params[:n], self.grads[:n]
        if alpha > 0 and scale > 0:
            loss += 0.5 * alpha * float(np.dot(decayed, decayed))
            np.multiply(decayed, alpha * scale, out=ws.scratch)
            decayed_grads += ws.scratch
        return loss * scale

    # --------------------------------------------------------------- inference
    def predict_output(self, X, coefs=None, intercepts=None):
        """The head's outputs for ``X`` (probabilities, or values), in inference mode.

        The same walk as training with ``training=False`` and no workspace: each layer
        allocates its output, so concurrent calls on one fitted network are safe.
        Dropout is the identity and batch normalization uses the running statistics.
        ``coefs``/``intercepts`` replace the affine layers' weights (``coefs_`` a user
        assigned).
        """
        weights = None if coefs is None else list(zip(coefs, intercepts))
        ctx, x = Pass(weights=weights), X
        for layer in self.layers:
            x = layer.forward(x, None, ctx)
        return self.head.predict(x)  # probabilities (clipped), or regression values


class Workspace:
    """Every layer's preallocated training buffers; a batch of ``m`` rows uses ``[:m]``.

    Slicing the leading rows of a C-contiguous array gives a contiguous view, so every
    ``np.dot(..., out=...)`` in the training loop writes straight into these buffers.
    """

    def __init__(self, net, batch_size):
        self.dtype, self.batch_size = net.dtype, batch_size
        self.slots = [layer.buffers(batch_size, self.empty) for layer in net.layers]
        self.scratch = self.empty((net.layout.n_decay,))
        self.ctx = Pass()

    @property
    def logits(self):
        """The output layer's buffer, ``(batch_size, n_outputs)``."""
        return self.slots[-1].out

    def empty(self, shape, dtype=None):
        return empty(shape, self.dtype if dtype is None else dtype)
