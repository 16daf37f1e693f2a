"""Central finite differences: the check every hand-written backward pass must pass.

:func:`check_layer_gradient` proves one layer of the :mod:`sknumpy_mlp._layers`
protocol (its parameter gradients and its input gradient) against
:func:`numerical_gradient`; the tests run it for every layer, and a new layer needs only
this one line to be checked. :func:`check_network_gradient` proves a whole
:class:`~sknumpy_mlp._network.Network` the same way: the layers wired together, the
output head with its loss, L2 and sample weights.
"""

from types import SimpleNamespace

import numpy as np
from sklearn.utils import check_random_state

from ._layers import Pass
from ._layout import Layout


def numerical_gradient(f, x, h=1e-6):
    """The gradient of the scalar function ``f`` at ``x``, by central differences.

    Each entry costs two calls of ``f``: ``(f(x + h e_i) - f(x - h e_i)) / 2h``, whose
    error is O(h^2); in float64 with ``h = 1e-6`` that leaves about 1e-9 of relative
    error, far below the 1e-6 the tests allow.
    """
    grad = np.empty_like(x)
    for idx in np.ndindex(x.shape):
        up, down = x.copy(), x.copy()
        up[idx] += h
        down[idx] -= h
        grad[idx] = (f(up) - f(down)) / (2 * h)
    return grad


def relative_error(analytic, numeric):
    """``|a - n| / max(|a|, |n|)`` in the Frobenius norm (0 when both are 0)."""
    scale = max(np.linalg.norm(analytic), np.linalg.norm(numeric), 1e-300)
    return np.linalg.norm(analytic - numeric) / scale


def check_layer_gradient(layer, x, *, training=True, sample_weight=None,
                         random_state=0, h=1e-6):
    """Largest relative error of a layer's ``backward`` against finite differences.

    The layer gets float64 buffers of its own, is initialized, and its parameters are
    moved off their initial values (so that, e.g., a scale of exactly 1 hides nothing).
    With a random upstream gradient :math:`G`, the checked function is
    :math:`L = \\sum_{ij} G_{ij}\\, y_{ij}(x, \\theta)`, whose gradients are what
    ``backward(G)`` must return (with respect to ``x``) and fill (``theta``).

    Parameters
    ----------
    layer : Layer
        A fresh layer (it is bound to new buffers).
    x : ndarray of shape (m, n_in)
        Input batch, float64.
    training : bool, default=True
        Check the training-mode forward (batch statistics, dropout masks) or inference.
    sample_weight : ndarray of shape (m,), default=None
    random_state : int, default=0
        Draws the parameters, the upstream gradient and the dropout keys.
    h : float, default=1e-6
        Finite-difference step.

    Returns
    -------
    error : float
        The maximum over the parameter gradient and the input gradient.
    """
    rng = check_random_state(random_state)
    x = np.asarray(x, dtype=np.float64)
    layout = Layout([layer])
    params, grads = np.zeros(layout.n_params), np.zeros(layout.n_params)
    state = np.zeros(layout.n_state)
    layer.bind(layout.views(params)[0], layout.views(grads)[0],
               layout.views(state, "state")[0])
    # ``x`` doubles as the sample that data-dependent initializations read.
    layer.initialize(rng, SimpleNamespace(weight_init="glorot_uniform", activation="relu",
                                          x=x))
    params += rng.uniform(-0.2, 0.2, size=params.shape)
    keys = rng.randint(1, 2**62, size=len(x)).astype(np.uint64)
    ctx = Pass(training=training, sample_weight=sample_weight, dropout_keys=keys)
    upstream = None

    def loss(theta=None, inputs=x):
        nonlocal upstream
        if theta is not None:
            params[...] = theta
        ws = layer.buffers(len(inputs), lambda shape, dtype=np.float64: np.empty(shape,
                                                                              dtype))
        y = layer.forward(inputs.copy(), ws, ctx)  # in-place layers may reuse their input
        if upstream is None:
            upstream = rng.normal(size=y.shape)
        return float(np.sum(upstream * y)), ws

    theta = params.copy()
    _, ws = loss(theta)
    dx = layer.backward(upstream.copy(), ws, ctx, need_dx=True)
    analytic = grads.copy()
    errors = [relative_error(dx, numerical_gradient(lambda v: loss(theta, v)[0], x, h))]
    if params.size:
        errors.append(relative_error(analytic,
                                     numerical_gradient(lambda t: loss(t)[0], theta, h)))
    params[...] = theta
    return max(errors)


def check_network_gradient(net, X, Y, *, dropout_keys=None, h=1e-6, **kwargs):
    """Relative error of a whole network's gradient against finite differences.

    The checked function is the batch objective of
    :meth:`~sknumpy_mlp._network.Network.loss_and_grad` as a function of the network's
    flat parameter buffer :math:`\\theta` (``net.params``); with weights :math:`s_i`
    and :math:`S = \\sum_i s_i`,

    .. math::

        J(\\theta) = \\frac{1}{S}\\sum_i s_i\\,\\ell_i(\\theta)
            + \\frac{\\alpha}{2S}\\sum_l \\lVert W_l \\rVert_F^2 .

    The analytic :math:`\\nabla_\\theta J` is what ``loss_and_grad`` leaves in
    ``net.grads``; the numeric one costs two calls of ``loss_and_grad`` per entry of
    :math:`\\theta`, so keep the network small.

    Parameters
    ----------
    net : Network
        Initialized, float64. The check starts from its current parameters and puts them
        back at the end (``net.grads`` then holds the last difference's gradient, and in
        training mode the batch-norm running statistics have moved, as in any training
        call).
    X : ndarray of shape (m, n_features)
    Y : ndarray of shape (m, n_outputs)
        Targets as the head reads them (booleans for the classifiers' heads, values for
        the regressors').
    dropout_keys : ndarray of shape (m,) of uint64, default=None
        Dropout masks are keyed by (row key, step): fixed keys give every call the same
        masks, so that :math:`J` is a function of :math:`\\theta` alone. Needed when
        the network has dropout and is checked in training mode.
    h : float, default=1e-6
        Finite-difference step.
    **kwargs
        Passed on to ``loss_and_grad``: ``sample_weight``, ``alpha``,
        ``label_smoothing``, ``training``.

    Returns
    -------
    error : float
        :func:`relative_error` of the analytic gradient against
        :func:`numerical_gradient`.

    See Also
    --------
    check_layer_gradient : The same check for one layer, its input gradient included.
    """
    ws = net.workspace(X.shape[0])

    def loss(theta):
        net.params[...] = theta
        return net.loss_and_grad(X, Y, ws, dropout_keys=dropout_keys, **kwargs)

    theta = net.params.copy()
    loss(theta)
    analytic = net.grads.copy()
    numeric = numerical_gradient(loss, theta, h)
    net.params[...] = theta
    return relative_error(analytic, numeric)
