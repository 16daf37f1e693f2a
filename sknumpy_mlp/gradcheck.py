"""Central finite differences: the check every hand-written backward pass must pass.

:func:`check_layer_gradient` proves one layer of the :mod:`sknumpy_mlp._layers`
protocol (its parameter gradients and its input gradient) against
:func:`numerical_gradient`; the tests run it for every layer, and a new layer needs only
this one line to be checked.
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
