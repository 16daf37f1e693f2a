"""Weight initializers: pure functions of ``(fan_in, fan_out, rng, activation)``.

Each returns ``(coef, intercept)`` as float64 arrays of shapes ``(fan_in, fan_out)`` and
``(fan_out,)``; the network casts them into its parameter buffer. All randomness comes
from the ``rng`` argument (a :class:`numpy.random.RandomState` obtained through
:func:`sklearn.utils.check_random_state`), never from the global NumPy state.

References
----------
.. [1] Glorot, X. and Bengio, Y. (2010). Understanding the difficulty of training deep
   feedforward neural networks. AISTATS.
.. [2] He, K., Zhang, X., Ren, S. and Sun, J. (2015). Delving deep into rectifiers:
   surpassing human-level performance on ImageNet classification. ICCV.
"""

import numpy as np


def sklearn_glorot(fan_in, fan_out, rng, activation):
    """scikit-learn's scheme: weights *and* biases uniform in a Glorot interval.

    The bound is :math:`\\sqrt{6 / (n_{in} + n_{out})}`, with 2 instead of 6 for the
    logistic activation. The draws (weights first, then biases, layer by layer) use the
    generator exactly as :class:`sklearn.neural_network.MLPClassifier` does, so the
    same ``random_state`` gives the same starting point as scikit-learn.
    """
    factor = 2.0 if activation == "logistic" else 6.0
    bound = np.sqrt(factor / (fan_in + fan_out))
    coef = rng.uniform(-bound, bound, (fan_in, fan_out))
    intercept = rng.uniform(-bound, bound, fan_out)
    return coef, intercept


def glorot_uniform(fan_in, fan_out, rng, activation):
    """Glorot/Xavier uniform weights, zero biases.

    Weights are drawn from :math:`U(\\pm\\sqrt{6/(n_{in}+n_{out})})`.

    Keeps the variance of activations and of gradients roughly constant across layers
    for symmetric activations such as tanh [1]_.
    """
    bound = np.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-bound, bound, (fan_in, fan_out)), np.zeros(fan_out)


def he_normal(fan_in, fan_out, rng, activation):
    """He normal weights, zero biases: :math:`N(0, 2 / n_{in})`.

    ReLU zeroes half its inputs on average, so the variance is doubled to compensate [2]_.
    """
    std = np.sqrt(2.0 / fan_in)
    return rng.normal(0.0, std, (fan_in, fan_out)), np.zeros(fan_out)


def he_uniform(fan_in, fan_out, rng, activation):
    """He uniform weights, zero biases: :math:`U(\\pm\\sqrt{6 / n_{in}})` [2]_."""
    bound = np.sqrt(6.0 / fan_in)
    return rng.uniform(-bound, bound, (fan_in, fan_out)), np.zeros(fan_out)


INITIALIZERS = {
    "auto": sklearn_glorot,
    "glorot_uniform": glorot_uniform,
    "he_normal": he_normal,
    "he_uniform": he_uniform,
}
