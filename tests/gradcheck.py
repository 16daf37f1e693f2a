"""Central finite differences: the check every hand-written backward pass must pass."""

import numpy as np


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
